"""When a night's dbt build may be incremental (pipelines/lib/incremental.py), on a hand-made load log:
each reason for a full refresh, and the bookkeeping a successful build leaves for the next night."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.incremental import (
    full_refresh_reason,
    new_files_count,
    project_checksum,
    record_dbt_build,
)

CHECKSUM = "c0ffee"


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema raw_meta")
    con.execute(
        "create table raw_meta.loaded_files (system varchar, entity varchar, extract_date date, "
        "file_sha256 varchar)"
    )
    con.execute(
        "insert into raw_meta.loaded_files values "
        "('crm', 'opportunities', '2026-11-19', 'a19'), ('erp', 'invoices', '2026-11-19', 'b19')"
    )
    yield con
    con.close()


def test_a_new_warehouse_is_built_in_full_then_new_files_are_incremental(con):
    assert full_refresh_reason(con, None, CHECKSUM) == "no incremental build state yet"
    assert new_files_count(con) == 2
    record_dbt_build(con, None, CHECKSUM)
    assert full_refresh_reason(con, None, CHECKSUM) is None
    assert new_files_count(con) == 0
    con.execute("insert into raw_meta.loaded_files values ('crm', 'opportunities', '2026-11-20', 'a20')")
    assert full_refresh_reason(con, None, CHECKSUM) is None  # a new day: incremental
    assert new_files_count(con) == 1


def test_a_corrected_or_removed_day_forces_a_full_refresh(con):
    record_dbt_build(con, None, CHECKSUM)
    con.execute("update raw_meta.loaded_files set file_sha256 = 'a19-corrected' where system = 'crm'")
    assert full_refresh_reason(con, None, CHECKSUM) == (
        "deliveries were corrected or removed since the last build: crm 2026-11-19"
    )
    record_dbt_build(con, None, CHECKSUM)
    con.execute("delete from raw_meta.loaded_files where system = 'erp'")  # salesreview remove-day
    assert full_refresh_reason(con, None, CHECKSUM) == (
        "deliveries were corrected or removed since the last build: erp 2026-11-19"
    )


def test_an_as_of_build_and_the_build_after_it_are_full(con):
    record_dbt_build(con, None, CHECKSUM)
    assert full_refresh_reason(con, date(2026, 11, 1), CHECKSUM) == "an as-of build (2026-11-01)"
    record_dbt_build(con, date(2026, 11, 1), CHECKSUM)
    assert full_refresh_reason(con, None, CHECKSUM) == "the last build was an as-of build (2026-11-01)"
    record_dbt_build(con, None, CHECKSUM)
    assert full_refresh_reason(con, None, CHECKSUM) is None


def test_a_changed_model_changes_the_checksum_and_a_changed_test_does_not(con, tmp_path: Path):
    for folder in ("models", "macros", "seeds", "tests"):
        (tmp_path / folder).mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    (tmp_path / "models" / "m.sql").write_text("select 1 as a\n")
    (tmp_path / "tests" / "t.sql").write_text("select 1 where false\n")
    before = project_checksum(tmp_path)
    (tmp_path / "tests" / "t.sql").write_text("select 2 where false\n")
    assert project_checksum(tmp_path) == before
    (tmp_path / "models" / "m.sql").write_text("select 2 as a\n")
    changed = project_checksum(tmp_path)
    assert changed != before
    record_dbt_build(con, None, before)
    assert full_refresh_reason(con, None, changed) == "the dbt project changed since the last build"
