"""What a build says on the console: one line per problem, no stack traces for data errors.

The Dagster run log has every event (it goes to the build's log file); the operator needs what went
wrong, once: the failed blocking checks (each names file, row, column, value and what to do), the
deliberate failures the steps raised (dg.Failure: data errors, with their message), and for anything
unexpected its error and where the full traceback is. Plain functions over the run's event log
entries, so they can be tested on hand-made events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

RECOVERED_PREFIX = "recovered: "
MAX_UNEXPECTED_LINES = 12
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
DBT_ERRORS = "Errors parsed from dbt logs:"
# The dbt test that stops the build when 'block' rules hold back too much won revenue
# (dbt_project/tests/quality/): its fail_calc is the held-back share in basis points, which Dagster
# records as the check's failed_row_count, so the share is known even when the build's warehouse is gone.
HELD_BACK_CHECK = "assert_held_back_won_share_within_limit"
HELD_BACK_MODEL = "quality.held_back_revenue"
FAILED_ROW_COUNT = "dagster_dbt/failed_row_count"


@dataclass
class BuildSummary:
    success: bool
    problems: list[str] = field(default_factory=list)  # what made the build fail, each once
    warnings: list[str] = field(default_factory=list)  # failed warning checks (the build went on)
    recovered: list[str] = field(default_factory=list)  # what was cleaned up after a dead build
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase
    steps_skipped: int = 0
    published: str | None = None  # the release published by this build
    interrupted_in: str | None = None  # the step a SIGTERM or Ctrl-C stopped
    held_back: str | None = None  # what the blocking data-quality rules keep out of the marts


def _money(amount) -> str:
    return f"CNY {Decimal(str(amount or 0)):,.2f}"


def held_back_line(rows: Iterable[Mapping]) -> str | None:
    """One line from the rows of quality.held_back_revenue: the share of the won revenue to date the
    'block' rules keep out of the marts, its amount and deals, and the rule holding back most."""
    rows = list(rows)
    total = next((r for r in rows if r["is_total"]), None)
    if total is None or total["won_share_held_back"] is None:
        return None
    line = (
        f"blocking data-quality rules hold back {total['won_share_held_back']:.1%} of won revenue "
        f"({_money(total['won_amount_held_back'])} in {total['won_deals_held_back']} deals)"
    )
    rules = [r for r in rows if not r["is_total"] and (r["won_amount_held_back"] or 0) > 0]
    if rules:
        biggest = max(rules, key=lambda r: (r["won_amount_held_back"], r["rule_id"]))
        line += f"; biggest: {biggest['rule_id']} {biggest['won_share_held_back']:.1%}"
    return line


def read_held_back(warehouse_path: Path | str) -> str | None:
    """held_back_line from a warehouse file (None when it or the model is missing)."""
    import duckdb

    if not Path(warehouse_path).exists():
        return None
    try:
        con = duckdb.connect(str(warehouse_path), read_only=True)
    except duckdb.Error:
        return None
    try:
        cursor = con.execute(f"select * from {HELD_BACK_MODEL}")
        names = [d[0] for d in cursor.description]
        return held_back_line(dict(zip(names, row, strict=True)) for row in cursor.fetchall())
    except duckdb.Error:
        return None
    finally:
        con.close()


def held_back_limit_exceeded(basis_points: int | None) -> str:
    """The problem a failed held-back check stands for, said plainly (no test name)."""
    share = "" if basis_points is None else f" {basis_points / 100:.1f}% of"
    return (
        f"blocking data-quality rules hold back{share} won revenue, more than the build allows "
        "(dbt var max_held_back_won_share in dbt_project/dbt_project.yml): these records are kept out "
        f"of every mart. Per rule: {HELD_BACK_MODEL}; the records, their evidence and amounts: "
        "quality.quarantine where severity = 'block'. Correct them in the source system (or raise the "
        "limit deliberately) and build again."
    )


def _metadata_value(metadata: Mapping | None, key: str):
    value = (metadata or {}).get(key)
    return getattr(value, "value", value)


def _published_warehouse(metadata: Mapping | None, release: str | None) -> Path | None:
    """The published release's warehouse: the release step records the path it built in
    (releases/building/warehouse.duckdb), which publishing renamed to releases/<release>/."""
    built = _metadata_value(metadata, "warehouse")
    if not built or not release:
        return None
    built = Path(str(built))
    return built.parent.parent / release / built.name


def phase_of(step_key: str) -> str:
    """raw_* steps are ingestion, the dbt step is dbt, reports__* the packs, release__* publishing;
    other steps keep their asset's name (quality_reports__verification_sample -> verification_sample)."""
    if step_key.startswith("raw_"):
        return "ingest"
    if "dbt" in step_key:
        return "dbt"
    if step_key.startswith("reports"):
        return "packs"
    if step_key.startswith("release"):
        return "publish"
    return step_key.split("__")[-1]


def phase_seconds(events: Iterable) -> dict[str, float]:
    """Seconds per phase from the run's step-success events."""
    phases: dict[str, float] = {}
    for event in events:
        if event.event_type_value != "STEP_SUCCESS":
            continue
        phase = phase_of(event.step_key)
        phases[phase] = phases.get(phase, 0.0) + event.event_specific_data.duration_ms / 1000
    return phases


def _first_lines(text: str, n: int = MAX_UNEXPECTED_LINES) -> str:
    lines = text.strip().splitlines()
    more = [f"... ({len(lines) - n} more lines in the log)"] if len(lines) > n else []
    return "\n".join(lines[:n] + more)


def _failure(message: str) -> str | None:
    """A failure a step raised on purpose, as the operator should read it (None: say it as it is)."""
    message = ANSI_ESCAPE.sub("", message)
    if DBT_ERRORS in message:  # dagster-dbt's error: what dbt said comes after its boilerplate
        return "dbt build failed:\n" + _first_lines(message.split(DBT_ERRORS, 1)[1])
    return message


def _is_interrupt(error) -> bool:
    while error is not None:
        if error.cls_name in ("DagsterExecutionInterruptedError", "KeyboardInterrupt"):
            return True
        error = getattr(error, "cause", None)
    return False


def _unexpected(step: str, error) -> str:
    cause = error
    while getattr(cause, "cause", None) is not None:  # the user code's own exception, not Dagster's wrapper
        cause = cause.cause
    message = _failure(cause.message)
    if message.startswith("dbt build failed") or cause.cls_name == "BuildRunning":
        return message
    return f"{step}: unexpected error {cause.cls_name}: {_first_lines(message)}"


def summarize(entries: Iterable, success: bool, warehouse_path: Path | None = None) -> BuildSummary:
    """Summarize a run from its event log entries (instance.all_logs(run_id)). The held-back line comes
    from `warehouse_path`, else from the warehouse the run published, else (a failed build) from the
    held-back check's share."""
    entries = list(entries)
    held_back_basis_points: int | None = None
    held_back_failed = False
    summary = BuildSummary(success=success)
    events = [e.dagster_event for e in entries if e.dagster_event is not None]
    summary.phases = phase_seconds(events)
    steps_with_failed_checks = set()
    seen: set[str] = set()

    def add(target: list[str], text: str) -> None:
        if text not in seen:
            seen.add(text)
            target.append(text)

    for entry in entries:
        if entry.dagster_event is None and (entry.user_message or "").startswith(RECOVERED_PREFIX):
            add(summary.recovered, entry.user_message[len(RECOVERED_PREFIX) :])
    for event in events:
        kind = event.event_type_value
        if kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            is_held_back = evaluation.check_name == HELD_BACK_CHECK
            if is_held_back:
                metadata = getattr(evaluation, "metadata", None)
                held_back_basis_points = _metadata_value(metadata, FAILED_ROW_COUNT)
            if evaluation.passed:
                continue
            name = f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}"
            text = evaluation.description or name
            if is_held_back:
                held_back_failed = True
                text = held_back_limit_exceeded(held_back_basis_points)
            if evaluation.severity.value == "ERROR":
                steps_with_failed_checks.add(event.step_key)
                add(summary.problems, text)
            else:
                add(summary.warnings, text)
        elif kind == "STEP_SKIPPED":
            summary.steps_skipped += 1
        elif kind == "ASSET_MATERIALIZATION" and event.step_key and event.step_key.startswith("release"):
            metadata = event.event_specific_data.materialization.metadata
            release = metadata.get("release")
            summary.published = release.value if release is not None else summary.published
            warehouse_path = warehouse_path or _published_warehouse(metadata, summary.published)
    for event in events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            if data.user_failure_data is not None:  # a deliberate dg.Failure: a data problem, said once
                description = _failure(data.user_failure_data.description or event.step_key)
                if held_back_failed and _only_held_back(description):
                    continue  # the held-back check's problem says it already, in words
                if event.step_key not in steps_with_failed_checks or description.startswith("dbt build"):
                    add(summary.problems, description)
            elif data.error is not None and _is_interrupt(data.error):
                summary.interrupted_in = event.step_key
            elif data.error is not None:
                add(summary.problems, _unexpected(event.step_key, data.error))
        elif event.event_type_value in ("PIPELINE_FAILURE", "RUN_FAILURE") and not summary.problems:
            data = event.event_specific_data
            if data is not None and getattr(data, "error", None) is not None:
                add(summary.problems, _unexpected("run", data.error))
            elif event.message:
                add(summary.problems, event.message)
    if warehouse_path is not None:
        summary.held_back = read_held_back(warehouse_path)
    # the check's count is the share only when it failed (a passing check counts 0 rows)
    if summary.held_back is None and held_back_failed and held_back_basis_points is not None:
        summary.held_back = (
            f"blocking data-quality rules hold back {held_back_basis_points / 100:.1f}% of won revenue"
        )
    return summary


def _only_held_back(dbt_failure: str) -> bool:
    """True when the held-back test is the only thing a dbt failure reports."""
    failed = [line for line in dbt_failure.splitlines() if re.match(r"\s*(Failure|Error) in ", line)]
    return bool(failed) and all(HELD_BACK_CHECK in line for line in failed)


def format_summary(summary: BuildSummary, seconds: float) -> str:
    """The console text of a build."""
    phases = ", ".join(f"{name} {secs:.1f} s" for name, secs in summary.phases.items())
    lines = []
    for note in summary.recovered:
        lines.append(f"recovered: {note}")
    if summary.interrupted_in:
        lines.append(
            f"nightly build interrupted in {summary.interrupted_in} after {seconds:.1f} s: nothing was "
            "published, the warehouse and the site are as they were after the last good build."
        )
    elif summary.success:
        lines.append(
            f"nightly build succeeded in {seconds:.1f} s ({phases}); published release {summary.published}"
        )
        if summary.held_back:
            lines.append(summary.held_back)
    else:
        lines.append(
            f"nightly build FAILED in {seconds:.1f} s ({phases or 'no step finished'}): nothing was "
            "published, the warehouse and the site are as they were after the last good build."
        )
        if summary.held_back:
            lines.append(summary.held_back)
        lines.append(f"{len(summary.problems)} problem(s):")
        for number, problem in enumerate(summary.problems, start=1):
            lines.append(f"\n[{number}] {problem}")
        if summary.steps_skipped:
            lines.append(f"\n({summary.steps_skipped} later step(s) did not run because of these.)")
    if summary.warnings:
        lines.append(f"\n{len(summary.warnings)} warning(s):")
        lines += [f"- {w}" for w in summary.warnings]
    return "\n".join(lines)
