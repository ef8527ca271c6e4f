"""Labelled defects injected into a simulated company, so the detectors can be measured.

Each defect class (quality/DEFECTS.md) has an injector in a module of this package, registered with
`@register("<defect_class>")`: `inject(tables, rng, timeline) -> list[Label]`. It edits the in-memory tables
that `simulate()` returns (adds fabricated records, removes records, rewrites versions) and also adds
look-alike LEGITIMATE cases so a careless rule loses precision: unlabelled, or labelled with kind LOOK_ALIKE
(the reference classes do, so the evaluation can say which legitimate case was flagged). Modules are
discovered automatically: adding a class means adding a module, nothing else.
"""

from __future__ import annotations

import csv
import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipelines.sample.generator.common import Timeline, rng_for

DEFECT = "defect"
LOOK_ALIKE = "look_alike"


@dataclass(frozen=True, order=True)
class Label:
    """One labelled record. kind: DEFECT (the rule must flag it) or LOOK_ALIKE (a legitimate case a careless
    rule would flag; only classes that label their look-alikes write these, the others leave them unlabelled).
    """

    defect_class: str
    entity: str
    record_id: str
    note: str = ""
    kind: str = DEFECT
    shape: str = ""  # the way this case is done ('textbook' when empty): scored apart by the evaluation

    @property
    def is_defect(self) -> bool:
        return self.kind == DEFECT


Injector = Callable[[dict[str, list[dict]], object, Timeline], list[Label]]
# per class, its injectors in registration order: the first is the textbook shape, later modules add the
# shapes real CRM data takes
INJECTORS: dict[str, list[Injector]] = {}


def register(defect_class: str) -> Callable[[Injector], Injector]:
    def decorate(injector: Injector) -> Injector:
        INJECTORS.setdefault(defect_class, []).append(injector)
        return injector

    return decorate


def _discover() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def inject_defects(
    tables: dict[str, list[dict]], seed: int, timeline: Timeline, classes: list[str] | None = None
) -> list[Label]:
    """Inject every registered class (or the given ones), each with its own random stream, in name order
    so the result is the same for a seed whatever else is registered."""
    _discover()
    unknown = sorted(set(classes or []) - set(INJECTORS))
    if unknown:
        raise ValueError(f"unknown defect classes {unknown}; known: {sorted(INJECTORS)}")
    labels: list[Label] = []
    for name in sorted(classes or INJECTORS):
        for number, injector in enumerate(INJECTORS[name]):
            stream = (
                f"defect:{name}"
                if number == 0
                else f"defect:{name}:{injector.__module__}.{injector.__name__}"
            )
            labels += injector(tables, rng_for(seed, stream), timeline)
    return sorted(set(labels))


def write_labels(path: Path, labels: list[Label]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["defect_class", "entity", "record_id", "note", "kind", "shape"])
        for label in labels:
            writer.writerow(
                [label.defect_class, label.entity, label.record_id, label.note, label.kind, label.shape]
            )
    return path


def read_labels(path: Path) -> list[Label]:
    """Labels written by write_labels; a file from before the kind column holds defects only."""
    with open(path, encoding="utf-8", newline="") as f:
        return [
            Label(**{**row, "kind": row.get("kind") or DEFECT, "shape": row.get("shape") or ""})
            for row in csv.DictReader(f)
        ]
