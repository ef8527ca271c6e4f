"""Contract checks at ingest (the GX suites built from the contract, the reference for the SQL the ingest
runs: tests/test_contract_sql.py), the missing-delivery checks (freshness, completeness) and the ingest
assets' blocking asset checks.

The fixtures are written by hand; expected failures and thresholds are worked out in the comments.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
from test_ingest import DAY1, DAY2, DAY3, PAYMENTS_DAY1, PAYMENTS_DAY2, deliver

from pipelines.defs.ingest.assets import ingest_assets
from pipelines.defs.resources import LandingResource, ReleaseResource
from pipelines.lib.ingest import ensure_ingest_tables
from quality.contract import load_contract
from quality.delivery_checks import (
    COMPLETENESS_MIN_RATIO,
    COMPLETENESS_WEEKS,
    check_completeness,
    check_freshness,
)
from quality.expectations import build_suite, duplicate_key_query, validate_frame

CONTRACT = load_contract()
STAGES = (
    "线索获取",
    "需求挖掘",
    "方案演示",
    "商务谈判",
    "签约成交",
    "丢单",
)  # dbt_project/seeds/funnel_stages.csv


# --------------------------------------------------------------------------- the suites


def _expectations(entity_name: str) -> dict[tuple[str, str], dict]:
    suite = build_suite(CONTRACT.entity(entity_name))
    out = {}
    for e in suite.expectations:
        config = e.configuration
        column = config.kwargs.get("column") or ",".join(config.kwargs["column_list"])
        out[(config.type, column)] = dict(config.kwargs)
    return out


def test_suite_is_built_from_the_contract():
    opportunities = _expectations("opportunities")
    # one not-null expectation per required column, none for an optional one (lead_id)
    required = [c for t, c in opportunities if t == "expect_column_values_to_not_be_null"]
    entity = CONTRACT.entity("opportunities")
    assert sorted(required) == sorted(c.name for c in entity.columns if c.required)
    assert "opportunity_id" in required and "lead_id" not in required
    assert tuple(opportunities[("expect_column_values_to_be_in_set", "stage")]["value_set"]) == STAGES
    between = opportunities[("expect_column_values_to_be_between", "__number__probability")]
    assert (between["min_value"], between["max_value"]) == (0, 100)
    assert ("expect_column_values_to_match_strftime_format", "expected_close_date") in opportunities
    # Ids are the source's own (any non-empty text); the primary key's uniqueness within a file is SQL
    # over the whole file (duplicate_key_query), not a GX expectation.
    assert ("expect_column_values_to_match_regex", "opportunity_id") not in opportunities
    assert not [t for t, _ in opportunities if t == "expect_compound_columns_to_be_unique"]

    reps = _expectations("reps")
    assert reps[("expect_column_values_to_match_regex", "mobile")]["regex"] == "^1[3-9][0-9]{9}$"
    assert ("expect_column_values_to_not_be_null", "mobile") not in reps
    products = _expectations("products")
    assert tuple(products[("expect_column_values_to_be_in_set", "is_active")]["value_set"]) == (
        "true",
        "false",
    )


REPS_COLUMNS = CONTRACT.entity("reps").column_names


def _reps_frame(rows: list[tuple[str, int, dict]]) -> pd.DataFrame:
    """(file, row number, values that differ from a valid rep) -> a batch of staged rows for GX."""
    valid = {
        "rep_id": "R0001",
        "rep_name": "张伟",
        "role": "rep",
        "team_id": "T01",
        "team_name": "华东一组",
        "region": "华东",
        "manager_id": None,
        "mobile": "13812345678",
        "hire_date": "2024-01-02",
        "leave_date": None,
        "updated_at": "2024-01-02 09:00:00",
    }
    records = [{**valid, **changes, "_path": path, "_row_number": row} for path, row, changes in rows]
    return pd.DataFrame(records, columns=[*REPS_COLUMNS, "_path", "_row_number"]).astype(
        {c: "str" for c in REPS_COLUMNS}
    )


def test_suite_finds_each_problem_once_with_file_row_column_and_value():
    frame = _reps_frame(
        [
            ("a.csv", 1, {}),
            # blank name is missing; mobile's 2nd digit 2 breaks ^1[3-9]...; 2024-1-2 fails the date regex
            # (strptime would accept it: only the first failing rule of a value is reported)
            (
                "a.csv",
                2,
                {"rep_id": "R0002", "rep_name": "  ", "mobile": "12812345678", "hire_date": "2024-1-2"},
            ),
            # R0001 again in the same file; 'boss' is not a role; Feb 30th passes the regex, not strptime
            ("a.csv", 3, {"role": "boss", "updated_at": "2024-02-30 10:00:00"}),
            ("b.csv", 1, {}),  # R0001 in another file is fine: the key is unique within a file
        ]
    )
    result = validate_frame(CONTRACT.entity("reps"), frame)

    assert not result.success
    assert (result.rows, result.expectations) == (4, len(build_suite(CONTRACT.entity("reps")).expectations))
    assert [(f.path, f.row_number, f.column, f.value, f.problem, f.detail) for f in result.failures] == [
        ("a.csv", 2, "rep_name", None, "required value is missing", None),
        ("a.csv", 2, "mobile", "12812345678", "does not match the pattern ^1[3-9][0-9]{9}$", None),
        ("a.csv", 2, "hire_date", "2024-1-2", "is not a date YYYY-MM-DD", None),
        ("a.csv", 3, "role", "boss", "is not one of the allowed values: rep, manager, director", None),
        ("a.csv", 3, "updated_at", "2024-02-30 10:00:00", "is not a timestamp YYYY-MM-DD HH:MM:SS", None),
    ]


def test_a_repeated_primary_key_is_found_in_sql_over_the_whole_file():
    frame = _reps_frame(
        [
            ("a.csv", 1, {}),
            ("a.csv", 2, {"rep_id": "R0002"}),
            ("a.csv", 3, {}),  # R0001 again: a repeat of row 1
            ("a.csv", 4, {"rep_id": "R0002"}),  # a repeat of row 2
            ("a.csv", 5, {}),  # R0001 a third time: still points at row 1
            ("a.csv", 6, {"rep_id": " "}),  # a blank key is left to the required check
            ("a.csv", 7, {"rep_id": " "}),
            ("b.csv", 1, {}),  # R0001 in another file is fine: the key is unique within a file
        ]
    )
    with duckdb.connect() as con:
        con.register("staged", frame)
        query = duplicate_key_query(CONTRACT.entity("reps"), "staged")
        found = con.execute(f"select * from ({query}) order by all").fetchall()
    assert found == [
        ("a.csv", 3, "rep_id", -1, "R0001", "duplicate primary key", "first seen in row 1"),
        ("a.csv", 4, "rep_id", -1, "R0002", "duplicate primary key", "first seen in row 2"),
        ("a.csv", 5, "rep_id", -1, "R0001", "duplicate primary key", "first seen in row 1"),
    ]


def test_numbers_are_checked_for_type_before_range():
    columns = CONTRACT.entity("payments").column_names
    values = ["1,200.00", "-5.00", "¥300", "12.5"]  # thousands separator, below min 0, currency sign, fine
    frame = pd.DataFrame(
        {
            **{c: ["x"] * 4 for c in columns},
            "payment_id": [f"PAY0000000{i}" for i in range(1, 5)],
            "payment_date": ["2024-03-01"] * 4,
            "method": ["支票"] * 4,
            "payment_amount": values,
            "_path": ["p.csv"] * 4,
            "_row_number": [1, 2, 3, 4],
        }
    ).astype({c: "str" for c in columns})
    failures = validate_frame(CONTRACT.entity("payments"), frame).failures
    amount = [(f.row_number, f.problem.split(" (")[0]) for f in failures if f.column == "payment_amount"]
    assert amount == [
        (1, "is not a decimal number"),
        (2, "is below the minimum 0"),
        (3, "is not a decimal number"),
    ]


# --------------------------------------------------------------------------- freshness and completeness


def _loaded_files(con: duckdb.DuckDBPyConnection, entity: str, rows_by_day: dict[date, int]) -> None:
    ensure_ingest_tables(con, CONTRACT)
    system = CONTRACT.entity(entity).system
    con.executemany(
        "insert into raw_meta.loaded_files (system, entity, extract_date, source_file, file_sha256, "
        "row_count, archived_path, loaded_at) values (?, ?, ?, ?, 'sha', ?, 'archived', ?)",
        [
            (system, entity, day, f"{system}/{entity}/{day}.csv", rows, datetime(2024, 1, 1))
            for day, rows in rows_by_day.items()
        ],
    )


@pytest.fixture
def con(tmp_path: Path):
    connection = duckdb.connect(str(tmp_path / "checks.duckdb"))
    yield connection
    connection.close()


def _manifest(landing: Path, system: str, day: date) -> None:
    path = landing / system / "_manifests" / f"{day}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}", encoding="utf-8")


def test_freshness_passes_when_every_day_up_to_the_latest_delivery_is_loaded(con, tmp_path):
    start = date(2024, 3, 1)
    _loaded_files(con, "feedback", {start + timedelta(days=i): 1 for i in range(5)})  # Mar 1-5
    _manifest(tmp_path, "erp", date(2024, 3, 5))
    check = check_freshness(con, CONTRACT, "crm", tmp_path)
    assert check.passed, check.description
    assert check.metadata["days_behind"] == 0 and check.metadata["gaps"] == 0


def test_freshness_fails_on_a_gap_and_on_a_system_behind_the_other(con, tmp_path):
    # crm loaded Mar 1, 2, 4, 5 (Mar 3 missing); the ERP already delivered Mar 7 (even if that
    # delivery is not complete yet), so the CRM is 2 days behind: Mar 6 and 7 are missing.
    _loaded_files(con, "feedback", {date(2024, 3, d): 1 for d in (1, 2, 4, 5)})
    _manifest(tmp_path, "erp", date(2024, 3, 7))
    check = check_freshness(con, CONTRACT, "crm", tmp_path)
    assert not check.passed
    assert check.metadata["days_behind"] == 2
    assert check.metadata["gap_dates"] == "2024-03-03"
    assert "latest complete crm delivery loaded is 2024-03-05" in check.description
    assert "missing 2024-03-06, 2024-03-07" in check.description
    assert "no delivery for 1 day(s) in the daily sequence: 2024-03-03" in check.description
    assert "What to do" in check.description


def test_a_partitioned_run_expects_deliveries_only_up_to_its_last_day(con, tmp_path):
    # A run for Mar 1-5 (a backfill) while the ERP already delivered Mar 7: the later days are for a
    # later run; a gap inside the range still fails.
    _loaded_files(con, "feedback", {date(2024, 3, d): 1 for d in (1, 2, 3, 4, 5)})
    _manifest(tmp_path, "erp", date(2024, 3, 7))
    assert not check_freshness(con, CONTRACT, "crm", tmp_path).passed
    check = check_freshness(con, CONTRACT, "crm", tmp_path, up_to=date(2024, 3, 5))
    assert check.passed, check.description
    assert check.metadata["latest_delivered_any_system"] == "2024-03-05"
    check = check_freshness(con, CONTRACT, "crm", tmp_path, up_to=date(2024, 3, 6))
    assert not check.passed and check.metadata["days_behind"] == 1


def test_freshness_ignores_a_manifest_dated_after_today(con, tmp_path):
    # A misdated delivery (refused at ingest) must not make every other day look missing.
    _loaded_files(con, "feedback", {date(2024, 3, d): 1 for d in (1, 2)})
    _manifest(tmp_path, "erp", date(2025, 3, 2))
    check = check_freshness(con, CONTRACT, "crm", tmp_path, today=date(2024, 3, 3))
    assert check.passed, check.description


def test_freshness_fails_when_nothing_was_loaded_but_a_system_delivered(con, tmp_path):
    _manifest(tmp_path, "crm", date(2024, 3, 7))
    check = check_freshness(con, CONTRACT, "erp", tmp_path)
    assert not check.passed and "no complete delivery loaded" in check.description


def test_a_night_without_a_new_delivery_fails_freshness_unless_it_is_a_rebuild(con, tmp_path):
    _loaded_files(con, "feedback", {date(2024, 3, d): 1 for d in (1, 2)})
    night = check_freshness(con, CONTRACT, "crm", tmp_path, loaded_this_build=[], require_new_delivery=True)
    assert not night.passed
    assert night.description.startswith(
        "crm: nothing new was delivered since the last build: the latest delivery loaded is 2024-03-02 "
        "(loaded 2024-01-01 00:00 UTC); the crm export did not arrive"
    )
    assert "salesreview build --rebuild" in night.description
    rebuild = check_freshness(
        con, CONTRACT, "crm", tmp_path, loaded_this_build=[], require_new_delivery=False
    )
    assert rebuild.passed
    new_day = check_freshness(
        con, CONTRACT, "crm", tmp_path, loaded_this_build=["2024-03-02"], require_new_delivery=True
    )
    assert new_day.passed


def _weeks_of_counts(today_rows: int, usual: int = 100) -> dict[date, int]:
    """Five weeks of daily deliveries ending on Monday 2024-04-08 (first delivery Monday Mar 4 is the
    backfill: 5,000 rows). Mondays before today: Mar 11, 18, 25, Apr 1 = `usual` rows each."""
    first, today = date(2024, 3, 4), date(2024, 4, 8)
    counts = {first + timedelta(days=i): 7 for i in range((today - first).days + 1)}
    counts[first] = 5000
    for monday in (date(2024, 3, 11), date(2024, 3, 18), date(2024, 3, 25), date(2024, 4, 1)):
        counts[monday] = usual
    counts[today] = today_rows
    return counts


def test_completeness_warns_below_30_percent_of_the_same_weekday_average(con):
    assert (COMPLETENESS_WEEKS, COMPLETENESS_MIN_RATIO) == (4, 0.30)
    # average of the 4 previous Mondays = (100 + 100 + 100 + 100) / 4 = 100; 29 < 0.30 x 100 = 30
    _loaded_files(con, "activities", _weeks_of_counts(today_rows=29))
    check = check_completeness(con, CONTRACT.entity("activities"))
    assert not check.passed
    assert (check.metadata["trailing_average"], check.metadata["ratio"]) == (100.0, 0.29)
    assert "only 29 row(s) on 2024-04-08 (Monday), 29% of the average 100.0" in check.description


def test_completeness_passes_at_30_percent_and_ignores_the_backfill(con):
    # 30 is not below 30; the backfill Monday Mar 4 (5,000 rows) is 5 weeks back anyway, and would be
    # left out: the first delivery carries the whole history.
    _loaded_files(con, "activities", _weeks_of_counts(today_rows=30))
    check = check_completeness(con, CONTRACT.entity("activities"))
    assert check.passed and check.metadata["ratio"] == 0.3


def test_completeness_needs_history_and_enough_rows(con):
    # Only Apr 1 (one Monday) before today, the first delivery Mar 25 excluded: no verdict.
    _loaded_files(con, "activities", {date(2024, 3, 25): 5000, date(2024, 4, 1): 100, date(2024, 4, 8): 0})
    assert check_completeness(con, CONTRACT.entity("activities")).passed
    # feedback: each count // 33, so the 4 previous Mondays have 100 // 33 = 3 rows each: average 3,
    # below the 10 needed to judge (today 0 would otherwise be a warning)
    _loaded_files(con, "feedback", {d: n // 33 for d, n in _weeks_of_counts(today_rows=0).items()})
    check = check_completeness(con, CONTRACT.entity("feedback"))
    assert check.passed and "too small to judge" in check.description


# --------------------------------------------------------------------------- the asset checks and blocking


RAW_ERP = next(a for a in ingest_assets if dg.AssetKey(["raw_erp", "payments"]) in a.keys)


@dg.asset(deps=[dg.AssetKey(["raw_erp", "payments"])])
def downstream() -> None:
    """Stands in for the dbt build: it must not run after a failed blocking check."""


def _materialize(tmp_path: Path, landing: Path, archive: Path):
    resources = {
        "release": ReleaseResource(
            warehouse_path=str(tmp_path / "warehouse.duckdb"), site_dir=str(tmp_path / "site")
        ),
        "landing": LandingResource(landing_dir=str(landing), archive_dir=str(archive)),
    }
    result = dg.materialize([RAW_ERP, downstream], resources=resources, raise_on_error=False)
    checks = {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}
    downstream_ran = bool(result.asset_materializations_for_node("downstream"))
    return result, checks, downstream_ran


def test_asset_checks_pass_on_a_good_delivery(tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    deliver(landing, DAY1, {"payments": PAYMENTS_DAY1})
    deliver(landing, DAY2, {"payments": PAYMENTS_DAY2})

    result, checks, downstream_ran = _materialize(tmp_path, landing, archive)

    assert result.success and downstream_ran
    payments = {name: (c.passed, c.severity) for (table, name), c in checks.items() if table == "payments"}
    assert payments == {
        "contract": (True, dg.AssetCheckSeverity.ERROR),
        "quarantine": (True, dg.AssetCheckSeverity.WARN),
        "completeness": (True, dg.AssetCheckSeverity.WARN),
    }
    log = {name: (c.passed, c.severity) for (table, name), c in checks.items() if table == "erp_deliveries"}
    assert log == {
        "delivery": (True, dg.AssetCheckSeverity.ERROR),
        "freshness": (True, dg.AssetCheckSeverity.ERROR),
    }
    assert (
        checks[("erp_deliveries", "delivery")].description
        == "2 new deliveries loaded, complete and meeting the contract."
    )
    meta = {k: v.value for k, v in checks[("payments", "contract")].metadata.items()}
    assert (meta["files"], meta["rows"]) == (2, 5)  # 3 + 2 payments


def test_failed_contract_check_blocks_downstream_and_loads_nothing(tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    deliver(landing, DAY1, {"payments": PAYMENTS_DAY1})
    # 1 of DAY2's 2 rows breaks the contract: more than the 5% that could be set aside.
    deliver(landing, DAY2, {"payments": PAYMENTS_DAY2.replace("15000.00", "abc")})

    result, checks, downstream_ran = _materialize(tmp_path, landing, archive)

    assert not result.success and not downstream_ran
    contract = checks[("payments", "contract")]
    assert not contract.passed
    meta = {k: v.value for k, v in contract.metadata.items()}
    assert (meta["files"], meta["rows"], meta["failures"]) == (2, 5, 1)
    assert "erp/payments/2024-03-02.csv" in contract.description
    assert "column payment_amount" in contract.description and "row 1 (line 2): 'abc'" in contract.description
    assert "1 of 2 rows (50.0%) break the contract, more than the 5% allowed" in contract.description
    delivery = checks[("erp_deliveries", "delivery")]
    assert not delivery.passed and delivery.description.startswith("erp: 1 new delivery refused (2024-03-02)")
    # the other tables' checks did not run: their files were fine, but not loaded either
    assert {table for table, _ in checks} == {"payments", "erp_deliveries"}
    assert not (tmp_path / "warehouse.duckdb").exists(), "nothing was published"


def test_failed_freshness_check_blocks_downstream(tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    deliver(landing, DAY1, {"payments": PAYMENTS_DAY1})
    deliver(landing, DAY2, {"payments": PAYMENTS_DAY2})
    deliver(landing, DAY3, {})
    (landing / "erp" / "_manifests" / f"{DAY3}.json").unlink()  # the ERP export of DAY3 did not finish

    result, checks, downstream_ran = _materialize(tmp_path, landing, archive)

    assert not result.success and not downstream_ran
    freshness = checks[("erp_deliveries", "freshness")]
    assert not freshness.passed
    assert "missing 2024-03-03; files without a manifest (export not finished?): 2024-03-03 (5 file(s))" in (
        freshness.description
    )


def test_every_ingest_step_carries_its_checks():
    for asset in ingest_assets:
        system = asset.node_def.name.removeprefix("raw_")
        expected = {(f"{system}_deliveries", "delivery", True), (f"{system}_deliveries", "freshness", True)}
        for entity in CONTRACT.entities_of(system):
            expected |= {
                (entity.name, "contract", True),
                (entity.name, "quarantine", False),
                (entity.name, "completeness", False),
            }
        assert {(s.asset_key.path[-1], s.name, s.blocking) for s in asset.check_specs} == expected
