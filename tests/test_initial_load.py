"""A first load of history (`salesreview deliver --initial`): freshness demands daily deliveries only from
it on, and an as-of build before it counts each of its rows as known from the row's own date
(dbt_project/macros/staging/current_extract_rows.sql)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.warehouse import create_raw_tables
from quality.contract import load_contract
from quality.delivery_checks import check_freshness

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTRACT = load_contract()
INITIAL = date(2026, 11, 20)  # the first load of history
LOADED_FILES_DDL = (
    "create table if not exists raw_meta.loaded_files (system varchar, entity varchar, extract_date date, "
    "source_file varchar, file_sha256 varchar, row_count integer, archived_path varchar, "
    "loaded_at timestamp)"
)
SOURCES_DDL = (
    "create table if not exists raw_meta.delivery_sources "
    '(system varchar, extract_date date, profile varchar, "initial" boolean, loaded_at timestamp)'
)


def _loaded(con: duckdb.DuckDBPyConnection, system: str, days: list[date], initial: list[date] = ()) -> None:
    """raw_meta.loaded_files (one entity per day is enough for freshness) and the deliveries' sources."""
    con.execute("create schema if not exists raw_meta")
    con.execute(LOADED_FILES_DDL)
    con.execute(SOURCES_DDL)
    for day in days:
        con.execute(
            "insert into raw_meta.loaded_files values (?, 'feedback', ?, 'f', 'sha', 1, 'a', ?)",
            [system, day, datetime(2026, 11, 23)],
        )
        con.execute(
            'insert into raw_meta.delivery_sources (system, extract_date, profile, "initial", loaded_at) '
            "values (?, ?, 'p', ?, ?)",
            [system, day, day in initial, datetime(2026, 11, 23)],
        )


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "checks.duckdb"))
    yield connection
    connection.close()


def test_freshness_demands_daily_deliveries_only_from_the_initial_delivery_on(con, tmp_path):
    # an abandoned try on Nov 1, then the history on Nov 20 and daily deliveries on Nov 21 and 22
    _loaded(
        con, "crm", [date(2026, 11, 1), INITIAL, date(2026, 11, 21), date(2026, 11, 22)], initial=[INITIAL]
    )
    check = check_freshness(con, CONTRACT, "crm", tmp_path)
    assert check.passed, check.description
    assert check.description == (
        "crm: delivered every day from 2026-11-20 to 2026-11-22 (first load of history on 2026-11-20)."
    )
    assert check.metadata["first_load_of_history"] == "2026-11-20"


def test_a_gap_after_the_initial_delivery_still_fails(con, tmp_path):
    _loaded(con, "crm", [INITIAL, date(2026, 11, 22)], initial=[INITIAL])
    check = check_freshness(con, CONTRACT, "crm", tmp_path)
    assert not check.passed
    assert check.metadata["gap_dates"] == "2026-11-21"
    assert "deliver --initial" not in check.description  # the history was loaded that way already


def test_gaps_without_an_initial_delivery_suggest_one(con, tmp_path):
    _loaded(con, "crm", [date(2026, 11, 1), INITIAL, date(2026, 11, 21)])
    check = check_freshness(con, CONTRACT, "crm", tmp_path)
    assert not check.passed and check.metadata["gaps"] == 18  # Nov 2 to 19
    assert "a first load of history is simpler: deliver the full export once with " in check.description
    assert "`salesreview deliver --initial`" in check.description


def test_freshness_without_the_delivery_sources_table_is_as_before(con, tmp_path):
    con.execute("create schema raw_meta")
    con.execute(LOADED_FILES_DDL)
    con.execute(
        "insert into raw_meta.loaded_files values ('crm', 'feedback', ?, 'f', 'sha', 1, 'a', ?)",
        [INITIAL, datetime(2026, 11, 23)],
    )
    assert check_freshness(con, CONTRACT, "crm", tmp_path).passed


# --- the as-of build --------------------------------------------------------------------------------------

# (entity, extract date, rows); the Nov 20 delivery is the first load of history.
RAW_ROWS = {
    "activities": [
        # activity_id, logged_at: known from when it was logged
        (
            INITIAL,
            [("A1", "2026-10-05 09:00:00"), ("A2", "2026-11-01 18:00:00"), ("A3", "2026-11-15 10:00:00")],
        ),
        (date(2026, 11, 21), [("A4", "2026-11-21 08:00:00")]),
    ],
    "customers": [
        # customer_id, updated_at (the version column)
        (INITIAL, [("C1", "2026-09-01 10:00:00"), ("C2", "2026-11-10 10:00:00")]),
        (date(2026, 11, 21), [("C1", "2026-11-21 07:00:00")]),
    ],
    "reps": [
        # rep_id, updated_at; a snapshot: the full list each time
        (INITIAL, [("R1", "2026-01-05 10:00:00"), ("R2", "2026-11-18 10:00:00")]),
        (
            date(2026, 11, 21),
            [("R1", "2026-01-05 10:00:00"), ("R2", "2026-11-18 10:00:00"), ("R3", "2026-11-21")],
        ),
    ],
}
KEY_AND_DATE = {"activities": ("activity_id", "logged_at"), "customers": ("customer_id", "updated_at")}
KEY_AND_DATE["reps"] = ("rep_id", "updated_at")


def _raw_warehouse(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        create_raw_tables(con, CONTRACT)
        con.execute("create schema if not exists raw_meta")
        con.execute(SOURCES_DDL)
        for entity, deliveries in RAW_ROWS.items():
            key, known = KEY_AND_DATE[entity]
            for day, rows in deliveries:
                for number, (id_, moment) in enumerate(rows, start=1):
                    con.execute(
                        f"insert into raw_crm.{entity} ({key}, {known}, _source_file, _extract_date, "
                        "_row_number) values (?, ?, ?, ?, ?)",
                        [id_, moment, f"crm/{entity}/{day}.csv", day, number],
                    )
        con.execute(
            'insert into raw_meta.delivery_sources (system, extract_date, profile, "initial", loaded_at) '
            "values ('crm', ?, 'p', true, now()), ('crm', ?, 'p', false, now())",
            [INITIAL, date(2026, 11, 21)],
        )


def _staging_counts(tmp_path: Path, warehouse: Path, as_of: str) -> dict[str, list[str]]:
    """Run the three staging models as of a day and read which keys they hold."""
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [
            str(dbt),
            "run",
            "--select",
            "stg_crm__activities stg_crm__customers stg_crm__reps",
            "--vars",
            json.dumps({"as_of_date": as_of}),
            "--project-dir",
            "dbt_project",
            "--profiles-dir",
            "dbt_project",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "SRW_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            entity: [
                r[0]
                for r in con.execute(f"select {key} from staging.stg_crm__{entity} order by 1").fetchall()
            ]
            for entity, (key, _) in KEY_AND_DATE.items()
        }


def test_an_as_of_build_before_the_initial_delivery_sees_its_rows_by_their_own_dates(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"  # dbt-duckdb names the database after the file: 'warehouse'
    _raw_warehouse(warehouse)
    before = _staging_counts(tmp_path, warehouse, "2026-11-05")
    assert before == {
        "activities": ["A1", "A2"],  # logged by Nov 5; A3 was logged on Nov 15
        "customers": ["C1"],  # C2's only known version is of Nov 10: left out, not shown too early
        # no regular reps extract yet: the history's list counts whole (R2 changed on Nov 18, but a rep
        # left out would orphan the deals naming them)
        "reps": ["R1", "R2"],
    }
    after = _staging_counts(tmp_path, warehouse, "2026-11-21")
    assert {entity: len(keys) for entity, keys in after.items()} == {
        "activities": 4,
        "customers": 2,
        "reps": 3,
    }
