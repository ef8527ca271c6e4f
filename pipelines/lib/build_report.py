"""What a build says on the console: one line per problem, no stack traces for data errors.

The Dagster run log has every event (it goes to the build's log file); the operator needs what went
wrong, once: the failed blocking checks (each names file, row, column, value and what to do), the
deliberate failures the steps raised (dg.Failure: data errors, with their message), and for anything
unexpected its error and where the full traceback is. Plain functions over the run's event log
entries, so they can be tested on hand-made events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

RECOVERED_PREFIX = "recovered: "
MAX_UNEXPECTED_LINES = 12
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
DBT_ERRORS = "Errors parsed from dbt logs:"


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


def summarize(entries: Iterable, success: bool) -> BuildSummary:
    """Summarize a run from its event log entries (instance.all_logs(run_id))."""
    entries = list(entries)
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
            if evaluation.passed:
                continue
            name = f"{evaluation.asset_key.to_user_string()} {evaluation.check_name}"
            text = evaluation.description or name
            if evaluation.severity.value == "ERROR":
                steps_with_failed_checks.add(event.step_key)
                add(summary.problems, text)
            else:
                add(summary.warnings, text)
        elif kind == "STEP_SKIPPED":
            summary.steps_skipped += 1
        elif kind == "ASSET_MATERIALIZATION" and event.step_key and event.step_key.startswith("release"):
            release = event.event_specific_data.materialization.metadata.get("release")
            summary.published = release.value if release is not None else summary.published
    for event in events:
        if event.event_type_value == "STEP_FAILURE":
            data = event.event_specific_data
            if data.user_failure_data is not None:  # a deliberate dg.Failure: a data problem, said once
                description = _failure(data.user_failure_data.description or event.step_key)
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
    return summary


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
    else:
        lines.append(
            f"nightly build FAILED in {seconds:.1f} s ({phases or 'no step finished'}): nothing was "
            "published, the warehouse and the site are as they were after the last good build."
        )
        lines.append(f"{len(summary.problems)} problem(s):")
        for number, problem in enumerate(summary.problems, start=1):
            lines.append(f"\n[{number}] {problem}")
        if summary.steps_skipped:
            lines.append(f"\n({summary.steps_skipped} later step(s) did not run because of these.)")
    if summary.warnings:
        lines.append(f"\n{len(summary.warnings)} warning(s):")
        lines += [f"- {w}" for w in summary.warnings]
    return "\n".join(lines)
