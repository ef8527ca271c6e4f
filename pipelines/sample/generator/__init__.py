"""Sample company generator: a plausible Chinese B2B company's CRM and ERP daily extracts.

    generate(out_dir, scale=1.0, seed=42, end_date=date(2026, 11, 22), days=730) -> rows per entity

The company is simulated first as in-memory tables (simulate.simulate), then split into daily
deliveries with manifests (deliveries.write_deliveries). Same arguments -> byte-identical files.

    add_next_day(landing_dir, seed=None) -> the new extract date

adds one more day to a company already in a landing folder, from its recent deliveries (nextday.py).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from pipelines.sample.generator.deliveries import write_deliveries
from pipelines.sample.generator.nextday import add_next_day
from pipelines.sample.generator.simulate import make_timeline, simulate
from quality.contract import load_contract

DEFAULT_END_DATE = date(2026, 11, 22)


def generate(
    out_dir: Path,
    *,
    scale: float = 1.0,
    seed: int = 42,
    end_date: date = DEFAULT_END_DATE,
    days: int = 730,
    labels_path: Path | None = None,
    defect_classes: list[str] | None = None,
    progress: Callable[..., None] | None = None,
) -> dict[str, int]:
    """Write deliveries for every day in [end_date - days + 1, end_date] into out_dir.

    With `labels_path`, labelled defects (quality/DEFECTS.md: every class, or `defect_classes`) and their
    look-alike legitimate cases are injected, and the labels are written to that CSV file (outside the
    landing folder: they are the answer key, not an extract).
    `progress(stage[, item])` is told each stage (simulating, injecting defects, writing deliveries)
    and, while writing, each entity done.
    Returns the number of data rows per entity, summed over all daily files."""
    say = progress or (lambda *_: None)
    timeline = make_timeline(end_date, days)
    with _no_cycle_collection():
        say("simulating the company")
        tables = simulate(seed, scale, timeline)
        if labels_path is not None:
            from pipelines.sample.defects import inject_defects, write_labels  # they build on the generator

            say("injecting labelled defects")
            write_labels(Path(labels_path), inject_defects(tables, seed, timeline, defect_classes))
        return write_deliveries(
            Path(out_dir), tables, load_contract(), timeline.start, timeline.end, progress=progress
        )


@contextmanager
def _no_cycle_collection():
    """The simulation keeps millions of rows alive until the files are written, and creates little cyclic
    garbage: Python's cycle collector would only walk them again and again (15% of the time at scale 3,
    more the larger the company). Collected once at the end instead."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


__all__ = ["DEFAULT_END_DATE", "add_next_day", "generate", "make_timeline", "simulate"]
