"""The build's console summary (pipelines/lib/build_report.py): each problem once, no stack trace for a
data error, dbt's own words for a dbt failure, and what was recovered. Events are made by hand in the
shape of Dagster's event log entries."""

from __future__ import annotations

from types import SimpleNamespace as NS

from pipelines.lib.build_report import format_summary, summarize


def _entry(kind: str, step: str | None = None, data=None, message: str = ""):
    return NS(
        dagster_event=NS(event_type_value=kind, step_key=step, event_specific_data=data, message=message)
    )


def _check(description: str, passed: bool = False, severity: str = "ERROR", step: str = "raw_crm"):
    evaluation = NS(
        passed=passed,
        severity=NS(value=severity),
        description=description,
        asset_key=NS(to_user_string=lambda: "raw_crm/reps"),
        check_name="contract",
    )
    return _entry("ASSET_CHECK_EVALUATION", step, evaluation)


def _failure(step: str, description: str | None = None, error=None):
    user = NS(description=description) if description is not None else None
    return _entry("STEP_FAILURE", step, NS(user_failure_data=user, error=error))


def _error(cls_name: str, message: str, cause=None):
    return NS(cls_name=cls_name, message=message, cause=cause)


def test_a_data_error_is_said_once_and_a_warning_apart():
    entries = [
        NS(dagster_event=None, user_message="recovered: removed the unfinished release of run abc"),
        _check("crm/reps/2026-11-20.csv: 1 problem(s) ..."),
        _check("crm/reps/2026-11-20.csv: 1 problem(s) ..."),  # the same text from the run log twice
        _check("crm.activities: only 3 row(s) on 2026-11-20", severity="WARN"),
        _failure("raw_crm", "crm: 1 new delivery refused (2026-11-20)"),  # the check said it already
        _entry("STEP_SKIPPED", "sales_review_dbt_assets"),
        _entry("STEP_SKIPPED", "reports__packs"),
    ]
    summary = summarize(entries, success=False)
    assert summary.problems == ["crm/reps/2026-11-20.csv: 1 problem(s) ..."]
    assert summary.warnings == ["crm.activities: only 3 row(s) on 2026-11-20"]
    assert summary.recovered == ["removed the unfinished release of run abc"]
    text = format_summary(summary, 12.04)
    assert text.splitlines()[:3] == [
        "recovered: removed the unfinished release of run abc",
        "nightly build FAILED in 12.0 s (no step finished): nothing was published, the warehouse and the "
        "site are as they were after the last good build.",
        "1 problem(s):",
    ]
    assert "(2 later step(s) did not run because of these.)" in text


def test_a_failure_without_a_check_is_said_and_dbt_is_quoted_without_its_boilerplate():
    dbt = (
        "The dbt CLI process with command\n\n`salesreview-dbt build`\n\nfailed with exit code `1`.\n\n"
        "Errors parsed from dbt logs:\n\n\x1b[31mFailure in model fct_x\x1b[0m\n"
        "  Binder Error: no_such_column"
    )
    entries = [
        _failure("sales_review_dbt_assets", dbt),
        _failure("raw_erp", "no extract exists on or before 2020-01-01: the first extract loaded is ..."),
        _failure(
            "reports__packs",
            error=_error(
                "DagsterExecutionStepExecutionError", "wrapped", _error("ValueError", "line 1\nline 2")
            ),
        ),
    ]
    summary = summarize(entries, success=False)
    assert summary.problems == [
        "dbt build failed:\nFailure in model fct_x\n  Binder Error: no_such_column",
        "no extract exists on or before 2020-01-01: the first extract loaded is ...",
        "reports__packs: unexpected error ValueError: line 1\nline 2",
    ]


def test_an_interrupt_is_not_an_error():
    interrupted = _error("DagsterExecutionInterruptedError", "interrupted")
    summary = summarize([_failure("sales_review_dbt_assets", error=interrupted)], success=False)
    assert (summary.problems, summary.interrupted_in) == ([], "sales_review_dbt_assets")
    assert format_summary(summary, 3.0).startswith(
        "nightly build interrupted in sales_review_dbt_assets after 3.0 s: nothing was published"
    )
