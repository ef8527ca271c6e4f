"""A bad delivery stops the nightly build before the marts: end to end, through `salesreview build`.

A small company (scale 0.3, 60 days; tests/conftest.py) is built once. Then one more day is delivered
whose extracts are broken in three ways at once, each in its own entity (so one failing build covers all
three):
- crm/activities: the column `city` is missing from the file;
- crm/opportunities: every row's `amount` is 'abc' (wrong type; more rows than the 5% of a file that
  may be set aside while the rest loads);
- erp/products: row 1 is repeated at the end (duplicated primary key; products is a snapshot, no row of
  it may be set aside).
The build must exit non-zero, name each file, row and column, and leave the marts and the site
exactly as they were. Then the day is re-delivered correctly (new files, manifests rewritten) and the
build succeeds with the new day in.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import copy_delivery_day

from pipelines.lib.landing import count_csv_rows, write_manifest
from quality.contract import load_contract

pytestmark = pytest.mark.e2e

CONTRACT = load_contract()
NEW_DAY = date(2026, 11, 20)  # a Friday: every broken entity has rows that day


def _marts(root: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        return {
            "attainment": con.execute(
                "select count(*), sum(actual_amount), sum(target_amount) from marts.fct_attainment_weekly"
            ).fetchall(),
            "as_of": con.execute("select * from marts.warehouse_as_of").fetchall(),
        }
    finally:
        con.close()


def _raw_rows_of_day(root: Path, table: str, day: date) -> int:
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(f"select count(*) from {table} where _extract_date = ?", [day]).fetchone()[0]
    finally:
        con.close()


def _site(root: Path) -> dict[str, bytes]:
    site = root / "site"
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _edit(path: Path, edit) -> None:
    """Rewrite a CSV file through edit(rows) -> rows (rows include the header)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(edit(rows))


def _drop_city(rows: list[list[str]]) -> list[list[str]]:
    city = rows[0].index("city")
    return [row[:city] + row[city + 1 :] for row in rows]


def _amount_abc_in_every_row(rows: list[list[str]]) -> list[list[str]]:
    for row in rows[1:]:
        row[rows[0].index("amount")] = "abc"
    return rows


def _repeat_row_1(rows: list[list[str]]) -> list[list[str]]:
    return [*rows, rows[1]]


def _break(landing: Path, day: str) -> None:
    """Three broken files in the new day's delivery, then the manifests (the delivery is complete)."""
    _edit(landing / f"crm/activities/{day}.csv", _drop_city)
    _edit(landing / f"crm/opportunities/{day}.csv", _amount_abc_in_every_row)
    _edit(landing / f"erp/products/{day}.csv", _repeat_row_1)
    for system in CONTRACT.systems:
        write_manifest(landing, CONTRACT, system, day)


def test_bad_delivery_blocks_the_build_and_a_corrected_one_goes_through(company, salesreview):
    root, source = company
    day = NEW_DAY.isoformat()
    marts_before, site_before = _marts(root), _site(root)
    assert marts_before["as_of"][0][0] == NEW_DAY - timedelta(days=1)
    assert site_before, "the first build published the site"

    copy_delivery_day(source, root / "landing", day)
    _break(root / "landing", day)
    opportunities = count_csv_rows(root / "landing" / f"crm/opportunities/{day}.csv")
    result = salesreview(["build"], root)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert "nightly build FAILED" in result.stdout
    for fragment in (
        # missing column: file, the header row, the column
        f"crm/activities/{day}.csv: 1 problem(s)",
        "header (line 1)",
        "column city: column missing from the header",
        # wrong type: file, row and line, column, value
        f"crm/opportunities/{day}.csv: {opportunities} problem(s)",
        "column amount: is not a decimal number",
        "row 2 (line 3): 'abc'",
        f"{opportunities} of {opportunities} rows (100.0%) break the contract, more than the 5% allowed",
        # duplicated primary key: file, row, column, the first occurrence
        f"erp/products/{day}.csv: 1 problem(s)",
        "column product_id: duplicate primary key",
        "(first seen in row 1)",
        "more than the 0% allowed for erp.products",
    ):
        assert output.count(fragment) == 1, fragment  # said once, not once per log line and check
    assert "Traceback" not in output, "no stack trace for a data error"
    assert _marts(root) == marts_before, "the marts keep the previous good build"
    assert _site(root) == site_before, "the site files are byte-identical"
    assert _raw_rows_of_day(root, "raw_crm.opportunities", NEW_DAY) == 0, "nothing of a broken file loads"

    # The source system re-delivers the day correctly, with new manifests.
    copy_delivery_day(source, root / "landing", day)
    result = salesreview(["build"], root)

    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert _marts(root)["as_of"][0][0] == NEW_DAY
    for table, path in (
        ("raw_crm.opportunities", f"crm/opportunities/{day}.csv"),
        ("raw_crm.activities", f"crm/activities/{day}.csv"),
        ("raw_erp.products", f"erp/products/{day}.csv"),
    ):
        assert _raw_rows_of_day(root, table, NEW_DAY) == len(_lines(source / path)) - 1, table
