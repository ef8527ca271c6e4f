"""Measured detection: precision and recall of the quarantine against labelled defects.

For each seed: generate a company with labelled defects and look-alikes (pipelines.sample.defects), run
the real nightly build on it (a fresh process, as an operator would), read quality.quarantine, and compare
its (defect_class, entity, record_id) with the labels, class by class and shape by shape
(quality/DEFECTS.md). A clean company (nothing injected) measures the flags a rule raises on honest data,
per 1,000 records of its entity.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines.lib.dbt_args import VARS_VARIABLE
from pipelines.lib.settings import REPO_ROOT, company_env
from pipelines.sample.defects import DEFECT, LOOK_ALIKE, Label, read_labels
from pipelines.sample.generator import DEFAULT_END_DATE, generate

RECALL_GOAL = 0.95
PRECISION_GOAL = 0.90
CLEAN_FLAGS_PER_1000_GOAL = 1.0  # a clean company: fewer flags than this per 1,000 records, per class
# Seeds the rules were tuned on are 1 and 2; these are reported.
EVALUATION_SEEDS = (101, 202, 303)
CLEAN_SEEDS = (404,)
TEXTBOOK = "textbook"  # the shape of labels that name none: the classes' first, spec-written injectors
UNLABELLED = "(no label)"  # flags on records the labels do not mention: false alarms on honest records


@dataclass(frozen=True)
class ClassScore:
    defect_class: str
    labelled: int
    flagged: int
    true_positives: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.labelled if self.labelled else None

    @property
    def meets_goal(self) -> bool:
        return (
            self.recall is not None
            and self.recall >= RECALL_GOAL
            and (self.precision or 0.0) >= PRECISION_GOAL
        )


def score(labels: list[Label], flagged: list[tuple[str, str, str]]) -> list[ClassScore]:
    """Per defect class: labelled records vs records the quarantine put in that class."""
    labelled_by_class: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for label in labels:
        if label.is_defect:  # labelled look-alikes are legitimate: flagging one is a false positive
            labelled_by_class[label.defect_class].add((label.entity, label.record_id))
    flagged_by_class: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for defect_class, entity, record_id in flagged:
        flagged_by_class[defect_class].add((entity, record_id))
    scores = []
    for defect_class in sorted(set(labelled_by_class) | set(flagged_by_class)):
        labelled, found = labelled_by_class[defect_class], flagged_by_class[defect_class]
        scores.append(ClassScore(defect_class, len(labelled), len(found), len(labelled & found)))
    return scores


def pooled(scores_by_seed: dict[int, list[ClassScore]]) -> list[ClassScore]:
    """Per class, the counts of every seed added up."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for scores in scores_by_seed.values():
        for s in scores:
            counts = totals[s.defect_class]
            counts[0] += s.labelled
            counts[1] += s.flagged
            counts[2] += s.true_positives
    return [ClassScore(name, *counts) for name, counts in sorted(totals.items())]


@dataclass(frozen=True)
class ShapeScore:
    """One way a class is done (a defect shape) or imitated (a look-alike shape): how many of its cases
    the quarantine flagged in the class. A defect shape's recall is flagged / cases; a look-alike's flags
    are false alarms, and so are flags on records no label names (shape UNLABELLED, kind 'none')."""

    defect_class: str
    shape: str
    kind: str
    cases: int
    flagged: int

    @property
    def share(self) -> float | None:
        return self.flagged / self.cases if self.cases else None

    @property
    def meets_goal(self) -> bool:
        if self.kind == DEFECT:
            return (self.share or 0.0) >= RECALL_GOAL
        if self.kind == LOOK_ALIKE:
            return (self.share or 0.0) <= 1 - PRECISION_GOAL
        return True  # unlabelled flags count against the class's precision; said, not judged here


def score_shapes(labels: list[Label], flagged: list[tuple[str, str, str]]) -> list[ShapeScore]:
    """Per (class, shape, kind): labelled cases and how many were flagged in their class; plus, per class,
    the flagged records no label of that class names."""
    found = set(flagged)
    cases: dict[tuple[str, str, str], set[tuple[str, str]]] = defaultdict(set)
    labelled_in_class: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for label in labels:
        key = (label.defect_class, label.shape or TEXTBOOK, label.kind)
        cases[key].add((label.entity, label.record_id))
        labelled_in_class[label.defect_class].add((label.entity, label.record_id))
    scores = [
        ShapeScore(cls, shape, kind, len(records), sum((cls, *r) in found for r in records))
        for (cls, shape, kind), records in cases.items()
    ]
    unlabelled: dict[str, int] = defaultdict(int)
    for cls, entity, record_id in found:
        if (entity, record_id) not in labelled_in_class[cls]:
            unlabelled[cls] += 1
    scores += [ShapeScore(cls, UNLABELLED, "none", 0, n) for cls, n in unlabelled.items()]
    order = {DEFECT: 0, LOOK_ALIKE: 1, "none": 2}
    return sorted(scores, key=lambda s: (s.defect_class, order[s.kind], s.shape != TEXTBOOK, s.shape))


def pooled_shapes(shapes_by_seed: dict[int, list[ShapeScore]]) -> list[ShapeScore]:
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for shapes in shapes_by_seed.values():
        for s in shapes:
            counts = totals[(s.defect_class, s.shape, s.kind)]
            counts[0] += s.cases
            counts[1] += s.flagged
    order = {DEFECT: 0, LOOK_ALIKE: 1, "none": 2}
    scores = [ShapeScore(*key, *counts) for key, counts in totals.items()]
    return sorted(scores, key=lambda s: (s.defect_class, order[s.kind], s.shape != TEXTBOOK, s.shape))


@dataclass(frozen=True)
class CleanRate:
    """Flags a rule's class raised on a clean company, per 1,000 records of the entity it flags."""

    defect_class: str
    entity: str
    flagged: int
    records: int

    @property
    def per_thousand(self) -> float:
        return 1000 * self.flagged / self.records if self.records else float(self.flagged > 0) * 1000

    @property
    def meets_goal(self) -> bool:
        return self.per_thousand < CLEAN_FLAGS_PER_1000_GOAL


# rep_days: a rep's days from hire (or the first day with data) to leaving (or the as-of date)
REP_DAYS_SQL = """
    with bounds as (
        select min(cast(activity_at as date)) as first_day, max(cast(activity_at as date)) as last_day
        from staging.stg_crm__activities
    )
    select coalesce(sum(greatest(
        date_diff('day', greatest(coalesce(hire_date, first_day), first_day),
                         least(coalesce(leave_date, last_day), last_day)) + 1, 0)), 0)
    from staging.stg_crm__reps, bounds
"""


def clean_rates(warehouse: Path) -> list[CleanRate]:
    """Per class and entity of every rule (quality_rules seed), flagged or not: its flags and the records
    of that entity."""
    from quality.contract import load_contract

    keys = {e.name: (f"staging.stg_{e.system}__{e.name}", e.primary_key[0]) for e in load_contract().entities}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        flagged = {
            (cls, entity): n
            for cls, entity, n in con.execute(
                "select defect_class, entity, count(distinct record_id) from quality.quarantine group by all"
            ).fetchall()
        }
        pairs = con.execute("select distinct defect_class, entity from seeds.quality_rules").fetchall()
        rates = []
        for cls, entity in sorted(set(pairs) | set(flagged)):
            if entity == "rep_days":
                records = con.execute(REP_DAYS_SQL).fetchone()[0]
            elif entity in keys:
                table, key = keys[entity]
                records = con.execute(f"select count(distinct {key}) from {table}").fetchone()[0]
            else:
                records = 0
            rates.append(CleanRate(cls, entity, flagged.get((cls, entity), 0), records))
        return rates
    finally:
        con.close()


def quarantined_records(warehouse: Path) -> list[tuple[str, str, str]]:
    """(defect class, entity, record_id) per quarantine row."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select defect_class, entity, record_id from quality.quarantine").fetchall()
    finally:
        con.close()


def flagged_look_alikes(labels: list[Label], flagged: list[tuple[str, str, str]]) -> list[Label]:
    """Labelled look-alikes (legitimate cases) the quarantine flagged in their class."""
    found = set(flagged)
    return sorted(
        label
        for label in labels
        if not label.is_defect and (label.defect_class, label.entity, label.record_id) in found
    )


def missed_defects(labels: list[Label], flagged: list[tuple[str, str, str]]) -> list[Label]:
    """Labelled defects the quarantine did not flag in their class."""
    found = set(flagged)
    return sorted(
        label
        for label in labels
        if label.is_defect and (label.defect_class, label.entity, label.record_id) not in found
    )


def build_company(
    workdir: Path,
    seed: int,
    scale: float,
    days: int,
    *,
    labelled: bool = True,
    end_date: date = DEFAULT_END_DATE,
) -> tuple[list[Label], Path]:
    """Generate a company into workdir (with labelled defects, or clean) and run the nightly build on it
    in a fresh process; returns the labels and the published warehouse."""
    labels_path = workdir / "labels.csv" if labelled else None
    generate(
        workdir / "landing", scale=scale, seed=seed, end_date=end_date, days=days, labels_path=labels_path
    )
    env = company_env(workdir)  # its own run history, not the project's
    # a labelled company holds far more blocking defects than a real one (a fifth of its won revenue at
    # scale 0.1): the build must publish it anyway, so that its quarantine can be scored
    env[VARS_VARIABLE] = json.dumps(
        {**json.loads(env.get(VARS_VARIABLE) or "{}"), "max_held_back_won_share": 1}
    )
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "build"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"nightly build on seed {seed} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return (read_labels(labels_path) if labels_path else []), workdir / "warehouse.duckdb"


def build_with_defects(
    workdir: Path, seed: int, scale: float, days: int, end_date: date = DEFAULT_END_DATE
) -> tuple[list[Label], Path]:
    """Generate a labelled company into workdir and run the nightly build on it in a fresh process."""
    return build_company(workdir, seed, scale, days, end_date=end_date)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_report(
    scores_by_seed: dict[int, list[ClassScore]],
    shapes_by_seed: dict[int, list[ShapeScore]],
    clean_by_seed: dict[int, list[CleanRate]],
) -> str:
    """The evaluation as Markdown (readable on a terminal too): per class over all seeds and per seed,
    per shape over all seeds, and the clean companies' flags per 1,000 records."""
    sections = []
    if scores_by_seed:
        sections += [_class_section(scores_by_seed), _shape_section(shapes_by_seed)]
    sections += [_clean_section(seed, rates) for seed, rates in clean_by_seed.items()]
    return "\n\n".join(sections)


def _class_section(scores_by_seed: dict[int, list[ClassScore]]) -> str:
    seeds = ", ".join(str(seed) for seed in scores_by_seed)
    lines = [
        f"### Per class (seeds {seeds}, added up; goal: recall >= {RECALL_GOAL}, "
        f"precision >= {PRECISION_GOAL})",
        "",
        "| class | labelled | flagged | TP | precision | recall | goal | per seed (precision / recall) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    per_seed: dict[str, list[str]] = defaultdict(list)
    for seed, scores in scores_by_seed.items():
        for s in scores:
            mark = "" if s.meets_goal else " MISSED"
            per_seed[s.defect_class].append(f"{seed}: {_ratio(s.precision)} / {_ratio(s.recall)}{mark}")
    for s in pooled(scores_by_seed):
        lines.append(
            f"| {s.defect_class} | {s.labelled} | {s.flagged} | {s.true_positives} | {_ratio(s.precision)} "
            f"| {_ratio(s.recall)} | {'met' if s.meets_goal else 'MISSED'} "
            f"| {'; '.join(per_seed[s.defect_class])} |"
        )
    return "\n".join(lines)


def _shape_section(shapes_by_seed: dict[int, list[ShapeScore]]) -> str:
    lines = [
        f"### Per shape (seeds {', '.join(str(seed) for seed in shapes_by_seed)}, added up)",
        "",
        "A defect shape is met when its recall is >= the recall goal; a look-alike shape when at most "
        f"{1 - PRECISION_GOAL:.0%} of its cases are flagged. '{UNLABELLED}': flags on records no label "
        "of the class names (false alarms on honest records).",
        "",
        "| class | shape | kind | cases | flagged | share flagged | goal |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in pooled_shapes(shapes_by_seed):
        goal = "" if s.kind == "none" else ("met" if s.meets_goal else "MISSED")
        kind = {DEFECT: "defect", LOOK_ALIKE: "look-alike"}.get(s.kind, "-")
        cases = str(s.cases) if s.kind != "none" else "-"
        lines.append(
            f"| {s.defect_class} | {s.shape} | {kind} | {cases} | {s.flagged} | {_ratio(s.share)} | {goal} |"
        )
    return "\n".join(lines)


def _clean_section(seed: int, rates: list[CleanRate]) -> str:
    lines = [
        f"### Clean company (seed {seed}, nothing injected; goal: < {CLEAN_FLAGS_PER_1000_GOAL:g} flag "
        "per 1,000 records per class)",
        "",
        "| class | entity | records | flagged | per 1,000 | goal |",
        "|---|---|---|---|---|---|",
    ]
    for r in rates:
        lines.append(
            f"| {r.defect_class} | {r.entity} | {r.records} | {r.flagged} | {r.per_thousand:.2f} "
            f"| {'met' if r.meets_goal else 'MISSED'} |"
        )
    return "\n".join(lines)


def misses(
    scores_by_seed: dict[int, list[ClassScore]], clean_by_seed: dict[int, list[CleanRate]]
) -> list[str]:
    """What misses a goal: a class over all seeds, a class on one seed, a class on a clean company."""
    found = [f"{s.defect_class} (all seeds)" for s in pooled(scores_by_seed) if not s.meets_goal]
    found += [
        f"{s.defect_class} (seed {seed})"
        for seed, scores in scores_by_seed.items()
        for s in scores
        if not s.meets_goal
    ]
    found += [
        f"{r.defect_class} on the clean company (seed {seed}): {r.per_thousand:.2f} per 1,000"
        for seed, rates in clean_by_seed.items()
        for r in rates
        if not r.meets_goal
    ]
    return found
