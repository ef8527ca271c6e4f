"""What a build says on the console: one line per problem, no stack traces for data errors.

The Dagster run log has every event (it goes to the build's log file); the operator needs what went
wrong, once: the failed blocking checks (each names file, row, column, value and what to do), the
deliberate failures the steps raised (dg.Failure: data errors, with their message), and for anything
unexpected its error and where the full traceback is. Then, briefly, what the night did: the deliveries
loaded per system with their dates and rows per entity (the ingest assets' metadata), rows set aside at
ingest, the checks that warned grouped by kind with their counts (dbt tests' failed rows, the
data-quality rules' records), what blocking rules hold back, and where the newest packs are. Plain
functions over the run's event log entries, so they can be tested on hand-made events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

RECOVERED_PREFIX = "recovered: "
DBT_MODE_PREFIX = "dbt: "  # how the dbt step built: incremental, or a full refresh and why
# where the dbt step's invocation writes its artifacts (run_results.json: seconds per node, for the benchmark)
DBT_RESULTS_PREFIX = "dbt run results: "
MAX_UNEXPECTED_LINES = 12
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
DBT_ERRORS = "Errors parsed from dbt logs:"
# The dbt test that stops the build when 'block' rules hold back too much won revenue
# (dbt_project/tests/quality/): its fail_calc is the held-back share in basis points, which Dagster
# records as the check's failed_row_count, so the share is known even when the build's warehouse is gone.
HELD_BACK_CHECK = "assert_held_back_won_share_within_limit"
HELD_BACK_MODEL = "quality.held_back_revenue"
FAILED_ROW_COUNT = "dagster_dbt/failed_row_count"
# dbt's generic tests by name (the check is named <test>_<model>_<columns...>); longest first
DBT_GENERIC_TESTS = (
    "unique_combination_of_columns",
    "no_quarantined_records",
    "accepted_values",
    "relationships",
    "not_null",
    "unique",
)
QUALITY_RULES = "data-quality rules"  # the no_quarantined_records checks: one per rule of quality.quarantine
QUALITY_RULE_PREFIX = "no_quarantined_records_quarantine_"
SINGULAR_TESTS = "dbt singular tests"
MAX_MEMBERS = 3  # rules or tables named per group of checks; the rest is counted
MAX_LINE = 110  # wrap the summary's long lines here


@dataclass(frozen=True)
class CheckOutcome:
    """A check that did not pass, placed in its group (the kind of check) with what it found."""

    group: str  # 'data-quality rules', 'relationships', 'not_null', 'completeness', 'quarantine', ...
    member: str  # the rule, model or table it is about
    count: int | None  # rows (records, for data-quality rules) it found, when it says
    description: str | None = None


@dataclass
class SystemLoad:
    """What one system's ingest step loaded in this build (its assets' metadata)."""

    logged: bool = False  # the system's delivery log said what it loaded (not so for manual files)
    deliveries: int = 0
    first: str | None = None
    last: str | None = None
    rows: dict[str, int] = field(default_factory=dict)  # entity -> rows loaded by this build
    set_aside: dict[str, int] = field(default_factory=dict)  # entity -> rows set aside at ingest


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
    failed_step: str | None = None  # the first step that failed
    unfinished_step: str | None = None  # a step that started and never ended (the run was stopped in it)
    held_back: str | None = None  # what the blocking data-quality rules keep out of the marts
    loads: dict[str, SystemLoad] = field(default_factory=dict)  # per system, in the order they ran
    warned: list[CheckOutcome] = field(default_factory=list)  # warning checks that did not pass
    failed: list[CheckOutcome] = field(default_factory=list)  # blocking checks that did not pass
    as_of: str | None = None  # the extract date the published night describes
    site_index: str | None = None  # the site the packs were rendered into
    latest_periods: list[str] = field(default_factory=list)  # e.g. ['2026-Q3', '2026-W47']
    dbt_mode: str | None = None  # 'incremental (13 new file(s) …)' or 'full refresh (why)'
    dbt_run_results: str | None = None  # the dbt invocation's run_results.json


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


def _count(value) -> int | None:
    value = getattr(value, "value", value)
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def check_outcome(asset_key: str, check_name: str, metadata: Mapping | None, description: str | None):
    """The group a check belongs to (the kind of check), what it is about and what it counted:
    no_quarantined_records_quarantine_<rule> -> ('data-quality rules', rule, records flagged);
    <generic dbt test>_<model>_... -> (test, model, failed rows); an ingest check on raw_crm/reps ->
    (check, 'crm.reps', rows set aside); a singular dbt test -> ('dbt singular tests', its name)."""
    failed_rows = _count(_metadata_value(metadata, FAILED_ROW_COUNT))
    if check_name.startswith(QUALITY_RULE_PREFIX):
        return CheckOutcome(QUALITY_RULES, check_name[len(QUALITY_RULE_PREFIX) :], failed_rows, description)
    parts = asset_key.split("/")
    if parts[0] == "raw_meta":  # the delivery log of a system: raw_meta/crm_deliveries
        return CheckOutcome(check_name, parts[-1].removesuffix("_deliveries"), None, description)
    if parts[0].startswith("raw_") and len(parts) == 2:  # an extract's table: raw_crm/reps
        quarantined = _count(_metadata_value(metadata, "rows_quarantined"))
        count = quarantined if check_name == "quarantine" else None
        return CheckOutcome(check_name, f"{parts[0][4:]}.{parts[1]}", count, description)
    for test in DBT_GENERIC_TESTS:
        if check_name.startswith(test + "_"):
            return CheckOutcome(test, parts[-1], failed_rows, description)
    return CheckOutcome(SINGULAR_TESTS, check_name, failed_rows, description)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def group_checks(outcomes: Iterable[CheckOutcome]) -> list[str]:
    """One line per group of checks: how many, what they counted, the members that counted most.
    A group of one check that describes itself (the ingest checks) says its description."""
    groups: dict[str, list[CheckOutcome]] = {}
    for outcome in outcomes:
        groups.setdefault(outcome.group, []).append(outcome)
    width = max((len(g) for g in groups), default=0) + 2
    lines = []
    for group, members in sorted(groups.items(), key=lambda g: (-len(g[1]), g[0])):
        if len(members) == 1 and members[0].description:
            first = members[0].description.strip().splitlines()[0]
            lines.append(_clip_line(f"  {group:<{width}}{first}"))
            continue
        unit = "record" if group == QUALITY_RULES else "row"
        kind = "rule" if group == QUALITY_RULES else "table" if "." in members[0].member else "test"
        if group == SINGULAR_TESTS:
            kind = "test"
        per_member: dict[str, int | None] = {}
        for m in members:
            if m.count is None:
                per_member.setdefault(m.member, None)
            else:
                per_member[m.member] = (per_member.get(m.member) or 0) + m.count
        counted = [n for n in per_member.values() if n is not None]
        text = _plural(len(members), kind)
        if counted:
            text += f", {_plural(sum(counted), unit)}"
        ranked = sorted(per_member.items(), key=lambda kv: (-(kv[1] or 0), kv[0]))
        named = [name if n is None else f"{name} {n:,}" for name, n in ranked[:MAX_MEMBERS]]
        more = f", +{len(ranked) - MAX_MEMBERS} more" if len(ranked) > MAX_MEMBERS else ""
        lines.append(_clip_line(f"  {group:<{width}}{text}: {', '.join(named)}{more}"))
    return lines


def _clip_line(line: str, limit: int = MAX_LINE + 40) -> str:
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _wrap(label: str, items: list[str], indent: int = 11) -> list[str]:
    """'label' then comma-separated items, wrapped at MAX_LINE under the first item."""
    lines, current = [], label
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if len(current) + 1 + len(piece) > MAX_LINE and current.strip() and len(current) > indent:
            lines.append(current)
            current = " " * indent + piece
        else:
            current = f"{current} {piece}" if current.strip() else current + piece
    lines.append(current)
    return lines


def _record_load(loads: dict[str, SystemLoad], asset_key: str, metadata: Mapping) -> None:
    """What an ingest asset's materialization says about the night's load."""
    parts = asset_key.split("/")
    if parts[0] == "raw_meta" and "deliveries_loaded" in metadata:
        load = loads.setdefault(parts[-1].removesuffix("_deliveries"), SystemLoad())
        load.logged = True
        load.deliveries = _count(_metadata_value(metadata, "deliveries_loaded")) or 0
        first, last = (str(_metadata_value(metadata, k)) for k in ("first_loaded", "last_loaded"))
        load.first, load.last = (None if first == "none" else first), (None if last == "none" else last)
    elif parts[0].startswith("raw_") and len(parts) == 2 and "rows_loaded" in metadata:
        load = loads.setdefault(parts[0][4:], SystemLoad())
        load.rows[parts[1]] = _count(_metadata_value(metadata, "rows_loaded")) or 0
        set_aside = _count(_metadata_value(metadata, "rows_quarantined")) or 0
        if set_aside:
            load.set_aside[parts[1]] = set_aside


def format_loads(loads: Mapping[str, SystemLoad]) -> list[str]:
    """delivered: per system, its deliveries and their dates; rows: per system, the rows each entity
    loaded (entities with none left out); set aside: rows refused at ingest, per table."""
    delivered = []
    for system, load in loads.items():
        if not load.logged:  # files without deliveries (the managers' verdicts): said when they load
            if any(load.rows.values()):
                delivered.append(f"{system} files")
        elif not load.deliveries:
            delivered.append(f"{system} nothing new")
        else:
            what = "1 delivery" if load.deliveries == 1 else f"{load.deliveries:,} deliveries"
            dates = load.last if load.first == load.last else f"{load.first} … {load.last}"
            delivered.append(f"{system} {what} ({dates})" if dates else f"{system} {what}")
    if not delivered:
        return []
    lines = _wrap("delivered:", delivered)
    first = True
    for system, load in loads.items():
        rows = [f"{entity} {n:,}" for entity, n in load.rows.items() if n]
        if not rows:
            continue
        label = ("rows:      " if first else " " * 11) + f"{system:<5}"
        lines += _wrap(label, rows, indent=16)
        first = False
    set_aside = [
        (f"{system}.{entity}", n) for system, load in loads.items() for entity, n in load.set_aside.items()
    ]
    if set_aside:
        total = sum(n for _, n in set_aside)
        lines += _wrap(
            f"set aside: {_plural(total, 'row')} at ingest (raw_meta.rejected_rows):",
            [f"{table} {n:,}" for table, n in set_aside],
        )
    return lines


def newest_pack_pages(site_index: str | Path, periods: Iterable[str]) -> list[tuple[str, Path]]:
    """The company's Chinese page of each newest pack (another page when it has none), by period."""
    site = Path(site_index).parent
    found = []
    for period in sorted(periods, key=lambda p: "-W" not in p):  # the week first
        folder = site / ("weekly" if "-W" in period else "quarterly") / period
        pages = sorted(folder.glob("*.html")) if folder.is_dir() else []
        preferred = folder / "company.zh-CN.html"
        found.append((period, preferred if preferred in pages or not pages else pages[0]))
    return found


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
    seen_checks: set[tuple[str, str]] = set()
    failed_tests: list[CheckOutcome] = []

    def add(target: list[str], text: str) -> None:
        if text not in seen:
            seen.add(text)
            target.append(text)

    for entry in entries:
        if entry.dagster_event is None and (entry.user_message or "").startswith(RECOVERED_PREFIX):
            add(summary.recovered, entry.user_message[len(RECOVERED_PREFIX) :])
        if entry.dagster_event is None and (entry.user_message or "").startswith(DBT_MODE_PREFIX):
            summary.dbt_mode = entry.user_message[len(DBT_MODE_PREFIX) :]
        if entry.dagster_event is None and (entry.user_message or "").startswith(DBT_RESULTS_PREFIX):
            summary.dbt_run_results = entry.user_message[len(DBT_RESULTS_PREFIX) :]
    unfinished = {e.step_key: None for e in events if e.event_type_value == "STEP_START"}
    for event in events:
        if event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            unfinished.pop(event.step_key, None)
    summary.unfinished_step = next(iter(unfinished), None)
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
            asset = evaluation.asset_key.to_user_string()
            name = f"{asset} {evaluation.check_name}"
            text = evaluation.description or name
            outcome = check_outcome(
                asset, evaluation.check_name, getattr(evaluation, "metadata", None), evaluation.description
            )
            if is_held_back:
                held_back_failed = True
                text = held_back_limit_exceeded(held_back_basis_points)
            if evaluation.severity.value == "ERROR":
                steps_with_failed_checks.add(event.step_key)
                if (name, text) in seen_checks:
                    continue
                seen_checks.add((name, text))
                summary.failed.append(outcome)
                if evaluation.description or is_held_back:
                    add(summary.problems, text)
                else:  # a dbt test says only its name: said with the others of its kind, below
                    failed_tests.append(outcome)
            else:
                if (name, text) not in seen_checks:
                    seen_checks.add((name, text))
                    summary.warned.append(outcome)
                add(summary.warnings, text)
        elif kind == "STEP_SKIPPED":
            summary.steps_skipped += 1
        elif kind == "ASSET_MATERIALIZATION" and event.step_key and event.step_key.startswith("release"):
            metadata = event.event_specific_data.materialization.metadata
            release = metadata.get("release")
            summary.published = release.value if release is not None else summary.published
            summary.as_of = _metadata_value(metadata, "as_of_date") or summary.as_of
            warehouse_path = warehouse_path or _published_warehouse(metadata, summary.published)
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            metadata = materialization.metadata or {}
            asset = materialization.asset_key.to_user_string()
            if asset.startswith("raw_"):
                _record_load(summary.loads, asset, metadata)
            elif "site_index" in metadata:  # the packs
                summary.site_index = str(_metadata_value(metadata, "site_index"))
                summary.latest_periods = list(_metadata_value(metadata, "latest") or [])
    if failed_tests:
        add(summary.problems, "dbt tests failed:\n" + "\n".join(group_checks(failed_tests)))
    for event in events:
        if event.event_type_value == "STEP_FAILURE":
            summary.failed_step = summary.failed_step or event.step_key
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
    """The console text of a build: the outcome first (with the problems of a failed build), then what
    the night loaded, the warnings by kind and where the newest packs are."""
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
        as_of = f" (data as of {summary.as_of})" if summary.as_of else ""
        lines.append(
            f"nightly build succeeded in {seconds:.1f} s ({phases}); published release "
            f"{summary.published}{as_of}"
        )
        if summary.held_back:
            lines.append(summary.held_back)
        if summary.dbt_mode:
            lines.append(f"dbt: {summary.dbt_mode}")
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
        if summary.loads or summary.warned:
            lines.append("")
    lines += format_loads(summary.loads)
    if summary.warned:
        lines.append(f"{len(summary.warned)} warning(s), by check (details: the log, or `make dev`):")
        lines += group_checks(summary.warned)
    elif summary.warnings:  # warnings without a check behind them
        lines.append(f"\n{len(summary.warnings)} warning(s):")
        lines += [f"- {w}" for w in summary.warnings]
    if summary.success and summary.site_index and summary.latest_periods:
        label = "packs:    "
        for period, page in newest_pack_pages(summary.site_index, summary.latest_periods):
            lines.append(f"{label} {period:<8} {page}")
            label = " " * len(label)
    return "\n".join(lines)
