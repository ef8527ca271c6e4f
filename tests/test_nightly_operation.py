"""Nights as operations run them, end to end in fresh processes: a backfill of three days in one
partitioned run, incremental nights equal to a full rebuild, a re-run that changes nothing, and a
corrected re-delivery that replaces its day and what depends on it.

Starts from a copy of the session's built company (tests/conftest.py: 60 days up to 2026-11-19); its
next three days wait in `source`. Warehouses are compared table by table, exactly
(pipelines/lib/warehouse_diff.py): staging (incremental), quality and marts.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest
from conftest import copy_delivery_day

from pipelines.lib.landing import write_manifest
from pipelines.lib.warehouse_diff import compare_warehouses
from quality.contract import load_contract

pytestmark = pytest.mark.e2e

CONTRACT = load_contract()
DAYS = ["2026-11-20", "2026-11-21", "2026-11-22"]
COMPARED = ("staging", "quality", "marts")


def keep(root: Path, name: str) -> Path:
    """A copy of the published warehouse (views name their catalog by file name: the name stays)."""
    folder = root / "kept" / name
    folder.mkdir(parents=True)
    shutil.copyfile(root / "warehouse.duckdb", folder / "warehouse.duckdb")
    return folder / "warehouse.duckdb"


def query(warehouse: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def last_log(root: Path) -> str:
    return sorted((root / "logs").glob("build-*.log"))[-1].read_text(encoding="utf-8")


def runs(root: Path) -> list[dict[str, str]]:
    """Tags of every run in the Dagster instance's run storage, oldest first."""
    with sqlite3.connect(root / "dagster" / "history" / "runs.db") as con:
        ids = [r[0] for r in con.execute("select run_id from runs order by create_timestamp")]
        return [
            dict(con.execute("select key, value from run_tags where run_id = ?", [i]).fetchall()) for i in ids
        ]


def test_backfill_incremental_rerun_and_correction(company, salesreview):
    root, source = company
    for day in DAYS:
        copy_delivery_day(source, root / "landing", day)
    runs_before = len(runs(root))

    # A backfill of three days: one partitioned run, the staging models incremental.
    result = salesreview(["backfill", "--from", DAYS[0], "--to", DAYS[-1]], root)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    log = last_log(root)
    files = sum(len(CONTRACT.entities_of(s)) for s in CONTRACT.systems) * len(DAYS)
    assert f"dbt: incremental ({files} new file(s) since the last build)" in log
    new_runs = runs(root)[runs_before:]
    assert len(new_runs) == 1
    assert new_runs[0]["dagster/asset_partition_range_start"] == DAYS[0]
    assert new_runs[0]["dagster/asset_partition_range_end"] == DAYS[-1]
    incremental = keep(root, "incremental")
    loaded = query(
        incremental,
        "select system, strftime(max(extract_date), '%Y-%m-%d'), count(distinct extract_date) "
        "from raw_meta.loaded_files group by 1 order by 1",
    )
    assert loaded == [("crm", DAYS[-1], 63), ("erp", DAYS[-1], 63)]

    # The same extracts rebuilt from all rows: every table equal, value for value.
    result = salesreview(["build", "--full-refresh"], root)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "dbt: full refresh (asked for)" in last_log(root)
    full = keep(root, "full")
    assert compare_warehouses(incremental, full, schemas=COMPARED) == []

    # Re-running the night with the same extracts changes nothing.
    result = salesreview(["build", "--rebuild"], root)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "dbt: incremental (0 new file(s) since the last build)" in last_log(root)
    assert compare_warehouses(full, keep(root, "rerun"), schemas=COMPARED) == []

    # A corrected re-delivery of Friday 2026-11-20 (the weekend's days, loaded after it, have no deals):
    # an open deal's amount changes in that day's file; a run for that one date loads it.
    day = DAYS[0]
    deal, amount = query(
        full,
        "select opportunity_id, amount from staging.stg_crm__opportunities "
        "where _extract_date = ? and stage_key not in ('won', 'lost') order by opportunity_id limit 1",
        [day],
    )[0]
    path = root / "landing" / "crm" / "opportunities" / f"{day}.csv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    id_column, amount_column = rows[0].index("opportunity_id"), rows[0].index("amount")
    changed = [r for r in rows[1:] if r[id_column] == deal]
    assert len(changed) == 1
    changed[0][amount_column] = f"{amount + 1000:.2f}"
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    write_manifest(root / "landing", CONTRACT, "crm", day)

    result = salesreview(["backfill", "--from", day, "--to", day], root)  # what the sensor runs for it
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"dbt: full refresh (deliveries were corrected or removed since the last build: crm {day})" in (
        last_log(root)
    )
    corrected = keep(root, "corrected")
    assert query(
        corrected, "select amount from staging.stg_crm__opportunities where opportunity_id = ?", [deal]
    ) == [(amount + 1000,)]
    last_snapshot = (
        "select amount from marts.fct_pipeline_daily where opportunity_id = ? "
        "and snapshot_date = (select as_of_date from marts.warehouse_as_of)"
    )
    assert query(corrected, last_snapshot, [deal]) == [(amount + 1000,)]
    assert query(full, last_snapshot, [deal]) == [(amount,)]
    differences = compare_warehouses(full, corrected, schemas=("staging",))
    assert [d.split(":")[0] for d in differences] == ["staging.stg_crm__opportunities"] * 2, differences
    assert all("1 row only in" in d and deal in d for d in differences), "the one corrected row, old and new"


def test_a_backfill_of_weekly_packs_renders_finished_weeks_and_refuses_an_unfinished_one(
    company, salesreview
):
    """weekly_packs over two finished weeks: one run, their pages for every audience and language in the
    published site, listed in its index. A week the warehouse has not finished is refused, nothing
    published."""
    from reports.renderer import site_packs

    root, _ = company  # built up to Thursday 2026-11-19: the latest finished week is 2026-W46
    before = {p["path"] for p in site_packs(root / "site")}
    assert not any("2026-W45" in p for p in before)

    result = salesreview(["backfill-packs", "--weeks", "2026-11-02", "2026-11-09"], root)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "weekly_packs: rendered and published 2 period(s): 2026-11-02, 2026-11-09" in result.stdout
    pages = {(p["period"], p["audience"], p["lang"]) for p in site_packs(root / "site")}
    audiences = {a for period, a, _ in pages if period == "2026-W46"}
    assert len(audiences) >= 2  # the company and its regions
    for week in ("2026-W45", "2026-W46"):
        assert {(week, a, lang) for a in audiences for lang in ("zh-CN", "en")} <= pages
    assert "weekly/2026-W45/company.en.html" in (root / "site" / "index.html").read_text(encoding="utf-8")
    run_tags = runs(root)[-1]
    assert run_tags["dagster/asset_partition_range_start"] == "2026-11-02"

    published = (root / "warehouse.duckdb").resolve()
    result = salesreview(["backfill-packs", "--weeks", "2026-11-16", "2026-11-16"], root)
    assert result.returncode == 1
    assert "not finished in the warehouse (data as of 2026-11-19): 2026-W47" in result.stderr
    assert (root / "warehouse.duckdb").resolve() == published, "nothing was published"

    result = salesreview(["backfill-packs", "--weeks", "2026-11-03", "2026-11-03"], root)
    assert result.returncode == 2 and "2026-11-03 is not a Monday of a finished week" in result.stderr
