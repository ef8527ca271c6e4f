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


def test_the_step_a_run_was_stopped_in_is_known_without_its_failure_event():
    # a SIGTERM whose exception was lost: the run ends with no STEP_FAILURE (cli.py names this step)
    entries = [
        _entry("STEP_START", "raw_crm"),
        _entry("STEP_SUCCESS", "raw_crm", NS(duration_ms=1500)),
        _entry("STEP_START", "raw_erp"),
        _entry("STEP_SKIPPED", "raw_erp"),
        _entry("STEP_START", "sales_review_dbt_assets"),
        _entry("RUN_FAILURE"),
    ]
    summary = summarize(entries, success=False)
    assert (summary.unfinished_step, summary.failed_step) == ("sales_review_dbt_assets", None)
    entries.insert(-1, _failure("sales_review_dbt_assets", "dbt build failed"))
    assert summarize(entries, success=False).unfinished_step is None


# --------------------------------------------------------------------------- what the night did


def _key(name: str):
    return NS(to_user_string=lambda: name)


def _materialized(asset: str, step: str, **metadata):
    data = NS(
        materialization=NS(asset_key=_key(asset), metadata={k: NS(value=v) for k, v in metadata.items()})
    )
    return _entry("ASSET_MATERIALIZATION", step, data)


def _dbt_test(asset: str, name: str, failed_rows: int, severity: str = "WARN"):
    evaluation = NS(
        passed=False,
        severity=NS(value=severity),
        description=None,
        asset_key=_key(asset),
        check_name=name,
        metadata={"dagster_dbt/failed_row_count": NS(value=failed_rows), "status": NS(value="warn")},
    )
    return _entry("ASSET_CHECK_EVALUATION", "sales_review_dbt_assets", evaluation)


def _ingest_check(asset: str, name: str, description: str, **metadata):
    evaluation = NS(
        passed=False,
        severity=NS(value="WARN"),
        description=description,
        asset_key=_key(asset),
        check_name=name,
        metadata={k: NS(value=v) for k, v in metadata.items()},
    )
    return _entry("ASSET_CHECK_EVALUATION", "raw_crm", evaluation)


def _success(step: str, seconds: float):
    return _entry("STEP_SUCCESS", step, NS(duration_ms=seconds * 1000))


def _night(site_index: str = "/srv/site/index.html") -> list:
    rules = {"won_without_order": 5, "zombie_opportunity": 30, "unknown_rep": 29, "late_logging": 25}
    return [
        _materialized(
            "raw_meta/crm_deliveries",
            "raw_crm",
            deliveries_loaded=1,
            first_loaded="2026-11-23",
            last_loaded="2026-11-23",
            rows_quarantined=3,
        ),
        _materialized("raw_crm/reps", "raw_crm", rows_loaded=12, rows_quarantined=0),
        _materialized("raw_crm/opportunities", "raw_crm", rows_loaded=40, rows_quarantined=2),
        _materialized("raw_crm/activities", "raw_crm", rows_loaded=0, rows_quarantined=0),
        _materialized("raw_crm/leads", "raw_crm", rows_loaded=7, rows_quarantined=1),
        _ingest_check(
            "raw_crm/opportunities",
            "quarantine",
            "crm/opportunities/2026-11-23.csv: 2 row(s) set aside",
            rows_quarantined=2,
        ),
        _ingest_check(
            "raw_crm/leads", "quarantine", "crm/leads/2026-11-23.csv: 1 row(s)", rows_quarantined=1
        ),
        _ingest_check(
            "raw_crm/activities", "completeness", "crm.activities: 0 row(s) on 2026-11-23 (usual 40)"
        ),
        _materialized(
            "raw_meta/erp_deliveries",
            "raw_erp",
            deliveries_loaded=2,
            first_loaded="2026-11-22",
            last_loaded="2026-11-23",
            rows_quarantined=0,
        ),
        _materialized("raw_erp/invoices", "raw_erp", rows_loaded=4, rows_quarantined=0),
        _materialized("raw_manual/verification_verdicts", "raw_manual__verification_verdicts", rows_loaded=0),
        *[
            _dbt_test("quality/quarantine", f"no_quarantined_records_quarantine_{rule}", n)
            for rule, n in rules.items()
        ],
        _dbt_test(
            "staging/stg_crm__opportunities",
            "relationships_stg_crm__opportunities_owner_rep_id__rep_id__ref_stg_crm__reps_",
            29,
        ),
        _dbt_test(
            "staging/stg_erp__payments", "relationships_stg_erp__payments_invoice_id__invoice_id__ref_x_", 13
        ),
        _dbt_test("quality/quarantine", "no_quarantined_records_quarantine_unknown_rep", 29),  # said twice
        _success("raw_crm", 8.25),
        _success("raw_erp", 4.0),
        _success("sales_review_dbt_assets", 85.5),
        _materialized(
            "reports/packs",
            "reports__packs",
            site_index=site_index,
            pack_pages=8,
            latest=["2026-Q3", "2026-W47"],
        ),
        _success("reports__packs", 11.3),
        _materialized(
            "release/published",
            "release__published",
            release="20261124T020000Z-abc",
            as_of_date="2026-11-23",
            warehouse="/srv/releases/building/warehouse.duckdb",
        ),
        _success("release__published", 0.2),
    ]


def test_a_night_says_what_it_loaded_what_warned_by_kind_and_where_the_packs_are(tmp_path):
    site = tmp_path / "site"
    for page in ("weekly/2026-W47/company.en.html", "weekly/2026-W47/company.zh-CN.html"):
        (site / page).parent.mkdir(parents=True, exist_ok=True)
        (site / page).write_text("<html>", encoding="utf-8")
    summary = summarize(_night(str(site / "index.html")), success=True)
    text = format_summary(summary, 120.0)
    lines = text.splitlines()
    assert lines[0] == (
        "nightly build succeeded in 120.0 s (ingest 12.2 s, dbt 85.5 s, packs 11.3 s, publish 0.2 s); "
        "published release 20261124T020000Z-abc (data as of 2026-11-23)"
    )
    assert lines[1:] == [
        "delivered: crm 1 delivery (2026-11-23), erp 2 deliveries (2026-11-22 … 2026-11-23)",
        "rows:      crm   reps 12, opportunities 40, leads 7",
        "           erp   invoices 4",
        "set aside: 3 rows at ingest (raw_meta.rejected_rows): crm.opportunities 2, crm.leads 1",
        "9 warning(s), by check (details: the log, or `make dev`):",
        "  data-quality rules  4 rules, 89 records: zombie_opportunity 30, unknown_rep 29, late_logging 25, "
        "+1 more",
        "  quarantine          2 tables, 3 rows: crm.opportunities 2, crm.leads 1",
        "  relationships       2 tests, 42 rows: stg_crm__opportunities 29, stg_erp__payments 13",
        "  completeness        crm.activities: 0 row(s) on 2026-11-23 (usual 40)",
        f"packs:     2026-W47 {site / 'weekly/2026-W47/company.zh-CN.html'}",
        f"           2026-Q3  {site / 'quarterly/2026-Q3/company.zh-CN.html'}",
    ]
    assert len(lines) <= 25


def test_a_rebuild_with_nothing_new_says_so_per_system():
    entries = [
        _materialized(
            "raw_meta/crm_deliveries", "raw_crm", deliveries_loaded=0, first_loaded="none", last_loaded="none"
        ),
        _materialized("raw_crm/reps", "raw_crm", rows_loaded=0, rows_quarantined=0),
        _materialized(
            "raw_meta/erp_deliveries", "raw_erp", deliveries_loaded=0, first_loaded="none", last_loaded="none"
        ),
        _materialized("raw_manual/verification_verdicts", "raw_manual__verification_verdicts", rows_loaded=6),
    ]
    text = format_summary(summarize(entries, success=True), 10.0)
    assert text.splitlines()[1:] == [
        "delivered: crm nothing new, erp nothing new, manual files",
        "rows:      manual verification_verdicts 6",
    ]


def test_failed_dbt_tests_are_one_problem_grouped_by_test_and_the_night_follows():
    entries = [
        _materialized(
            "raw_meta/crm_deliveries",
            "raw_crm",
            deliveries_loaded=1,
            first_loaded="2026-11-23",
            last_loaded="2026-11-23",
        ),
        _materialized("raw_crm/opportunities", "raw_crm", rows_loaded=40, rows_quarantined=0),
        _dbt_test("staging/stg_crm__reps", "not_null_stg_crm__reps_rep_id", 2, severity="ERROR"),
        _dbt_test("staging/stg_crm__deals", "not_null_stg_crm__deals_deal_id", 5, severity="ERROR"),
        _dbt_test("staging/stg_crm__deals", "unique_stg_crm__deals_deal_id", 1, severity="ERROR"),
        _dbt_test("kpi/fct_x", "assert_fct_x_reconciles", 3, severity="ERROR"),
        _failure(
            "sales_review_dbt_assets",
            "Errors parsed from dbt logs:\nFailure in test not_null_stg_crm__reps_rep_id",
        ),
        _entry("STEP_SKIPPED", "release__published"),
    ]
    summary = summarize(entries, success=False)
    assert summary.problems[0] == (
        "dbt tests failed:\n"
        "  not_null            2 tests, 7 rows: stg_crm__deals 5, stg_crm__reps 2\n"
        "  dbt singular tests  1 test, 3 rows: assert_fct_x_reconciles 3\n"
        "  unique              1 test, 1 row: stg_crm__deals 1"
    )
    assert summary.problems[1].startswith("dbt build failed:\nFailure in test not_null_stg_crm__reps_rep_id")
    lines = format_summary(summary, 50.0).splitlines()
    assert lines[1] == "2 problem(s):"
    assert lines[-2:] == [
        "delivered: crm 1 delivery (2026-11-23)",
        "rows:      crm   opportunities 40",
    ]


def test_a_successful_night_says_how_dbt_built():
    entries = [
        NS(dagster_event=None, user_message="dbt: full refresh (deliveries were corrected: crm 2026-11-21)"),
        _entry("STEP_SUCCESS", "sales_review_dbt_assets", NS(duration_ms=2000.0)),
    ]
    summary = summarize(entries, success=True)
    assert summary.dbt_mode == "full refresh (deliveries were corrected: crm 2026-11-21)"
    lines = format_summary(summary, 3.0).splitlines()
    assert lines[1] == "dbt: full refresh (deliveries were corrected: crm 2026-11-21)"
