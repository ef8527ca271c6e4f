"""The weekly attainment mart, built by dbt on a small hand-made warehouse.

Fixture: one region (华东), two teams (T01: R0001 + R0002, T02: R0003), weekly targets for the
weeks starting Monday 2026-01-05 and 2026-01-12, and two deliveries (extract dates 2026-01-12 and
2026-01-19). The second delivery re-delivers O0000006 with a changed amount and wins O0000005.
Every expected figure below is worked out by hand in its comment.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.warehouse import create_raw_tables
from quality.contract import load_contract

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

E1 = "2026-01-12"  # first delivery (a Monday)
E2 = "2026-01-19"  # second delivery

REP_COLUMNS = ["rep_id", "rep_name", "role", "team_id", "team_name", "region", "hire_date", "updated_at"]
REPS = [
    ("R0001", "张伟", "rep", "T01", "华东一组", "华东", "2024-03-01", "2025-12-01 09:00:00"),
    ("R0002", "王芳", "rep", "T01", "华东一组", "华东", "2024-05-06", "2025-12-01 09:00:00"),
    ("R0003", "李娜", "rep", "T02", "华东二组", "华东", "2025-02-10", "2025-12-01 09:00:00"),
]
# In the first reps snapshot only: a rep who is gone from the second (snapshot: latest file wins).
LEFT_REP = ("R0009", "赵磊", "rep", "T02", "华东二组", "华东", "2023-01-03", "2025-12-01 09:00:00")

TARGET_COLUMNS = [
    "target_id",
    "target_level",
    "owner_id",
    "period_start",
    "period_end",
    "target_amount",
    "updated_at",
]
TARGETS = [
    ("T0000001", "rep", "R0001", "2026-01-05", "2026-01-11", "100000.00", "2026-01-02 10:00:00"),
    ("T0000002", "rep", "R0001", "2026-01-12", "2026-01-18", "100000.00", "2026-01-02 10:00:00"),
    ("T0000003", "rep", "R0002", "2026-01-05", "2026-01-11", "80000.00", "2026-01-02 10:00:00"),
    ("T0000004", "rep", "R0002", "2026-01-12", "2026-01-18", "80000.00", "2026-01-02 10:00:00"),
    ("T0000005", "rep", "R0003", "2026-01-05", "2026-01-11", "50000.00", "2026-01-02 10:00:00"),
    ("T0000006", "rep", "R0003", "2026-01-12", "2026-01-18", "50000.00", "2026-01-02 10:00:00"),
    # team-level targets are not used: higher levels roll up from rep targets
    ("T0000007", "team", "T01", "2026-01-05", "2026-01-11", "999999.00", "2026-01-02 10:00:00"),
]

CUSTOMER_COLUMNS = [
    "customer_id", "customer_name", "industry", "region", "city", "tier", "channel", "owner_rep_id",
    "created_at", "updated_at",
]  # fmt: skip
# Only so the opportunities' customer references resolve (the build must run without warnings).
CUSTOMERS = [
    (f"C00000{n}", f"客户{n}", "制造业", "华东", "上海", "普通", "展会", "R0001", "2025-10-01 09:00:00",
     "2025-10-01 09:00:00")
    for n in range(1, 7)
]  # fmt: skip

OPP_COLUMNS = [
    "opportunity_id", "opportunity_name", "customer_id", "owner_rep_id", "product_id", "stage",
    "amount", "probability", "expected_close_date", "closed_date", "created_at", "updated_at",
]  # fmt: skip


def _opportunity(opp_id: str, rep_id: str, stage: str, amount: str, closed: str, updated_at: str) -> tuple:
    """One opportunity row; the columns that do not matter here get fixed values."""
    n = opp_id[-1]
    probability = {"签约成交": "100", "丢单": "0"}.get(stage, "75")
    expected_close = closed or "2026-01-16"
    return (opp_id, f"项目{n}", f"C00000{n}", rep_id, "P0001", stage, amount, probability, expected_close,
            closed, "2025-11-01 09:00:00", updated_at)  # fmt: skip


OPPORTUNITIES_E1 = [
    # won on Sunday 2026-01-11 -> week of 2026-01-05
    _opportunity("O0000001", "R0001", "签约成交", "60000.00", "2026-01-11", "2026-01-11 18:00:00"),
    # won on Monday 2026-01-12 -> week of 2026-01-12
    _opportunity("O0000002", "R0001", "签约成交", "92600.00", "2026-01-12", "2026-01-12 08:00:00"),
    _opportunity("O0000003", "R0002", "签约成交", "70000.00", "2026-01-06", "2026-01-06 17:00:00"),
    # lost: never counts
    _opportunity("O0000004", "R0003", "丢单", "40000.00", "2026-01-08", "2026-01-08 12:00:00"),
    # open at E1 (blank closed_date), won in E2
    _opportunity("O0000005", "R0003", "商务谈判", "50000.00", "", "2026-01-09 12:00:00"),
    # won for 30000 at E1, re-delivered at E2 with the amount corrected to 45000
    _opportunity("O0000006", "R0003", "签约成交", "30000.00", "2026-01-09", "2026-01-09 16:00:00"),
]
OPPORTUNITIES_E2 = [
    _opportunity("O0000005", "R0003", "签约成交", "50000.00", "2026-01-16", "2026-01-16 15:00:00"),
    _opportunity("O0000006", "R0003", "签约成交", "45000.00", "2026-01-09", "2026-01-15 11:00:00"),
]


def _insert(con, table: str, columns: list[str], rows: list[tuple], extract_date: str) -> None:
    """Insert rows as ingestion would: text values plus the lineage columns."""
    system, entity = table.split(".")
    source_file = f"{system.removeprefix('raw_')}/{entity}/{extract_date}.csv"
    all_columns = [*columns, "_source_file", "_file_sha256", "_extract_date", "_row_number", "_loaded_at"]
    placeholders = ", ".join("?" for _ in all_columns)
    for row_number, row in enumerate(rows, start=1):
        lineage = (source_file, "0" * 64, extract_date, row_number, f"{extract_date} 02:00:00")
        con.execute(
            f"insert into {table} ({', '.join(all_columns)}) values ({placeholders})", [*row, *lineage]
        )


def _build_raw_warehouse(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        create_raw_tables(con, load_contract())
        _insert(con, "raw_crm.reps", REP_COLUMNS, [*REPS, LEFT_REP], E1)
        _insert(con, "raw_crm.reps", REP_COLUMNS, REPS, E2)
        _insert(con, "raw_crm.customers", CUSTOMER_COLUMNS, CUSTOMERS, E1)
        _insert(con, "raw_crm.targets", TARGET_COLUMNS, TARGETS, E1)
        _insert(con, "raw_crm.opportunities", OPP_COLUMNS, OPPORTUNITIES_E1, E1)
        _insert(con, "raw_crm.opportunities", OPP_COLUMNS, OPPORTUNITIES_E2, E2)
    finally:
        con.close()


def _dbt_build(warehouse: Path, work_dir: Path, dbt_vars: dict | None = None) -> None:
    """`dbt build` (seeds, models, data and unit tests) on the given DuckDB file.

    A subprocess, as Dagster runs it: in-process, dbt-duckdb keeps its connection open after the
    run, and DuckDB then refuses the test's own read-only connection to the same file.
    """
    args = [
        str(Path(sys.executable).with_name("dbt")),
        "build",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        # a private target and log folder, so parallel runs do not clash
        "--target-path", str(work_dir / "target"),
        "--log-path", str(work_dir / "logs"),
    ]  # fmt: skip
    if dbt_vars:
        args += ["--vars", json.dumps(dbt_vars)]
    env = {**os.environ, "SRW_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise AssertionError(
            f"dbt build failed ({result.returncode}):\n{result.stdout[-5000:]}{result.stderr}"
        )
    # "run clean": no warnings from the tests that only warn, no deprecations
    assert "WARN=0 ERROR=0" in result.stdout, result.stdout[-5000:]


@pytest.fixture(scope="module")
def raw_warehouse(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("raw") / "raw.duckdb"
    _build_raw_warehouse(path)
    return path


def _built_copy(raw_warehouse: Path, tmp_path_factory, name: str, dbt_vars: dict | None = None) -> Path:
    work_dir = tmp_path_factory.mktemp(name)
    warehouse = work_dir / "warehouse.duckdb"
    shutil.copy(raw_warehouse, warehouse)
    _dbt_build(warehouse, work_dir, dbt_vars)
    return warehouse


@pytest.fixture(scope="module")
def built(raw_warehouse, tmp_path_factory) -> Path:
    return _built_copy(raw_warehouse, tmp_path_factory, "latest")


@pytest.fixture(scope="module")
def built_as_of_first_extract(raw_warehouse, tmp_path_factory) -> Path:
    return _built_copy(raw_warehouse, tmp_path_factory, "as_of", {"as_of_date": E1})


def _query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _mart(warehouse: Path) -> dict[str, tuple]:
    """attainment_id -> (target, actual, won deals, gap, rate rounded to 4 places, light)."""
    rows = _query(
        warehouse,
        "select attainment_id, target_amount, actual_amount, won_deal_count, gap_amount, "
        "round(attainment_rate, 4), status_light from marts.fct_attainment_weekly",
    )
    return {r[0]: (float(r[1]), float(r[2]), r[3], float(r[4]), r[5], r[6]) for r in rows}


def test_mart_rows_match_hand_computed_figures(built):
    assert _mart(built) == {
        # --- week 2026-01-05 .. 2026-01-11 ---
        # R0001: target 100000 (7 days x 100000/7); won 60000 on Sunday 01-11 -> 60% red
        "rep:R0001:2026-01-05": (100000.0, 60000.0, 1, 40000.0, 0.6, "red"),
        # R0002: 70000 / 80000 = 87.5% -> yellow
        "rep:R0002:2026-01-05": (80000.0, 70000.0, 1, 10000.0, 0.875, "yellow"),
        # R0003: O0000006 counts at its re-delivered 45000 (not 30000); lost O0000004 does not count
        #        45000 / 50000 = 90% -> green
        "rep:R0003:2026-01-05": (50000.0, 45000.0, 1, 5000.0, 0.9, "green"),
        # T01 = R0001 + R0002: 180000 target, 130000 actual -> 72.22% red
        "team:T01:2026-01-05": (180000.0, 130000.0, 2, 50000.0, 0.7222, "red"),
        "team:T02:2026-01-05": (50000.0, 45000.0, 1, 5000.0, 0.9, "green"),
        # 华东 = T01 + T02: 230000 target, 175000 actual -> 76.09% red; the company is the region
        "region:华东:2026-01-05": (230000.0, 175000.0, 3, 55000.0, 0.7609, "red"),
        "company:company:2026-01-05": (230000.0, 175000.0, 3, 55000.0, 0.7609, "red"),
        # --- week 2026-01-12 .. 2026-01-18 ---
        # R0001: won 92600 on Monday 01-12 -> 92600 / 100000 = 92.6% green
        "rep:R0001:2026-01-12": (100000.0, 92600.0, 1, 7400.0, 0.926, "green"),
        # R0002: target, no win -> 0% red (the rep still has a row)
        "rep:R0002:2026-01-12": (80000.0, 0.0, 0, 80000.0, 0.0, "red"),
        # R0003: O0000005 won 50000 on 01-16 (second delivery) -> 100% green
        "rep:R0003:2026-01-12": (50000.0, 50000.0, 1, 0.0, 1.0, "green"),
        # T01: 180000 target, 92600 actual -> 51.44% red
        "team:T01:2026-01-12": (180000.0, 92600.0, 1, 87400.0, 0.5144, "red"),
        "team:T02:2026-01-12": (50000.0, 50000.0, 1, 0.0, 1.0, "green"),
        # 华东: 230000 target, 92600 + 50000 = 142600 actual -> 62% red
        "region:华东:2026-01-12": (230000.0, 142600.0, 2, 87400.0, 0.62, "red"),
        "company:company:2026-01-12": (230000.0, 142600.0, 2, 87400.0, 0.62, "red"),
    }


def test_mart_labels_weeks_and_units(built):
    rows = _query(
        built,
        "select attainment_id, week_end_date::varchar, week_label, level, unit_id, unit_name, region, "
        "team_id, team_name from marts.fct_attainment_weekly where week_start_date = date '2026-01-05' "
        "order by attainment_id",
    )
    assert rows == [
        (
            "company:company:2026-01-05",
            "2026-01-11",
            "2026-W02",
            "company",
            "company",
            "全公司",
            None,
            None,
            None,
        ),
        ("region:华东:2026-01-05", "2026-01-11", "2026-W02", "region", "华东", "华东", "华东", None, None),
        ("rep:R0001:2026-01-05", "2026-01-11", "2026-W02", "rep", "R0001", "张伟", "华东", "T01", "华东一组"),
        ("rep:R0002:2026-01-05", "2026-01-11", "2026-W02", "rep", "R0002", "王芳", "华东", "T01", "华东一组"),
        ("rep:R0003:2026-01-05", "2026-01-11", "2026-W02", "rep", "R0003", "李娜", "华东", "T02", "华东二组"),
        (
            "team:T01:2026-01-05",
            "2026-01-11",
            "2026-W02",
            "team",
            "T01",
            "华东一组",
            "华东",
            "T01",
            "华东一组",
        ),
        (
            "team:T02:2026-01-05",
            "2026-01-11",
            "2026-W02",
            "team",
            "T02",
            "华东二组",
            "华东",
            "T02",
            "华东二组",
        ),
    ]


def test_mart_column_types(built):
    rows = _query(
        built,
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'fct_attainment_weekly' order by ordinal_position",
    )
    assert rows == [
        ("attainment_id", "VARCHAR"),
        ("week_start_date", "DATE"),
        ("week_end_date", "DATE"),
        ("week_label", "VARCHAR"),
        ("level", "VARCHAR"),
        ("unit_id", "VARCHAR"),
        ("unit_name", "VARCHAR"),
        ("region", "VARCHAR"),
        ("team_id", "VARCHAR"),
        ("team_name", "VARCHAR"),
        ("target_amount", "DECIMAL(18,2)"),
        ("actual_amount", "DECIMAL(18,2)"),
        ("won_deal_count", "INTEGER"),
        ("gap_amount", "DECIMAL(18,2)"),
        ("attainment_rate", "DOUBLE"),
        ("status_light", "VARCHAR"),
    ]


def test_staging_keeps_latest_versions_and_latest_snapshot(built):
    # delta: O0000006 comes from the second delivery; the stage name maps to its key
    assert _query(
        built,
        "select amount, stage_name, stage_key, closed_date::varchar, _source_file, _extract_date::varchar "
        "from staging.stg_crm__opportunities where opportunity_id = 'O0000006'",
    ) == [(45000, "签约成交", "won", "2026-01-09", "crm/opportunities/2026-01-19.csv", E2)]
    # 6 distinct opportunities across both deliveries, all closed by the second one
    assert _query(built, "select count(*), count(closed_date) from staging.stg_crm__opportunities") == [
        (6, 6)
    ]
    # snapshot: R0009 was only in the first reps file, so it is gone
    assert _query(built, "select string_agg(rep_id, ',' order by rep_id) from staging.stg_crm__reps") == [
        ("R0001,R0002,R0003",)
    ]


def test_targets_are_spread_per_day(built):
    # 3 reps x 14 days; the team target is ignored; 100000 / 7 per day for R0001, a decimal (sums of
    # days must not depend on the order DuckDB adds them)
    rows = _query(
        built,
        "select count(*), count(distinct rep_id), "
        "round(max(target_amount_daily) filter (rep_id = 'R0001'), 4) "
        "from intermediate.int_targets_spread_daily",
    )
    assert rows == [(42, 3, Decimal("14285.7143"))]


def test_as_of_first_extract_ignores_the_later_delivery(built_as_of_first_extract):
    mart = _mart(built_as_of_first_extract)
    # O0000006 at its first amount 30000: 30000 / 50000 = 60% -> red (45000 -> green in the latest build)
    assert mart["rep:R0003:2026-01-05"] == (50000.0, 30000.0, 1, 20000.0, 0.6, "red")
    # company week 1: 60000 + 70000 + 30000 = 160000 of 230000 -> 69.57% red
    assert mart["company:company:2026-01-05"] == (230000.0, 160000.0, 3, 70000.0, 0.6957, "red")
    # O0000005 was still open on 2026-01-12: R0003 won nothing in week 2 -> 0 / 50000 red
    assert mart["rep:R0003:2026-01-12"] == (50000.0, 0.0, 0, 50000.0, 0.0, "red")
    # O0000005's blank closed_date of the first delivery is null, not an error: 5 of 6 closed
    assert _query(
        built_as_of_first_extract, "select count(*), count(closed_date) from staging.stg_crm__opportunities"
    ) == [(6, 5)]
    # and the reps snapshot of that day still lists R0009
    assert _query(built_as_of_first_extract, "select count(*) from staging.stg_crm__reps") == [(4,)]
