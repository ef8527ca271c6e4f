"""The whole nightly build on a small generated company (tests/conftest.py: 60 daily deliveries up to
Thursday 2026-11-19): landing files -> Dagster -> DuckDB -> dbt -> pack -> published.

Figures are checked against an independent computation straight from the landing CSV files.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import copy_delivery_day
from openpyxl import load_workbook

from pipelines.lib.landing import count_csv_rows
from quality.contract import load_contract
from reports import i18n

pytestmark = pytest.mark.e2e

WON_STAGE = "签约成交"


@pytest.fixture(scope="module")
def built(built_company):
    root, _, result = built_company
    rows = {
        e.name: sum(count_csv_rows(p) for p in (root / "landing" / e.system / e.name).glob("*.csv"))
        for e in load_contract().entities
    }
    return root, rows, result


def _query(root: Path, sql: str):
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_build_prints_where_the_warehouse_and_site_are(built):
    root, _, result = built
    assert f"warehouse: {root / 'warehouse.duckdb'}" in result.stdout
    assert f"site:      {root / 'site' / 'index.html'}" in result.stdout
    # read from the warehouse just published, with its amount (not the passing check's count of 0)
    assert re.search(
        r"blocking data-quality rules hold back \d+\.\d% of won revenue \(CNY [\d,.]+ in \d+ deals\)",
        result.stdout,
    ), result.stdout[-2000:]


def test_every_generated_row_reached_its_raw_table(built):
    root, rows, _ = built
    for entity in load_contract().entities:
        (n,) = _query(root, f"select count(*) from {entity.raw_table}")[0]
        assert n == rows[entity.name], entity.name
    (files,) = _query(root, "select count(*) from raw_meta.loaded_files")[0]
    assert files == 13 * 60


def _won_amount_by_week_from_landing(landing: Path) -> dict[date, Decimal]:
    """Independent of the warehouse: latest version of each opportunity, straight from the CSVs."""
    latest: dict[str, tuple[str, str, dict]] = {}
    for path in sorted((landing / "crm" / "opportunities").glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                version = (path.stem, row["updated_at"])
                if row["opportunity_id"] not in latest or version >= latest[row["opportunity_id"]][:2]:
                    latest[row["opportunity_id"]] = (*version, row)
    by_week: dict[date, Decimal] = defaultdict(Decimal)
    for _, _, row in latest.values():
        if row["stage"] == WON_STAGE:
            closed = date.fromisoformat(row["closed_date"])
            by_week[closed - timedelta(days=closed.weekday())] += Decimal(row["amount"])
    return by_week


def test_company_actuals_equal_won_deals_in_the_extracts(built):
    root, _, _ = built
    expected = _won_amount_by_week_from_landing(root / "landing")
    assert sum(expected.values()) > 0
    mart = dict(
        _query(
            root,
            "select week_start_date, actual_amount from marts.fct_attainment_weekly where level = 'company'",
        )
    )
    for week, amount in expected.items():
        assert mart[week] == amount, week
    assert sum(mart.values()) == sum(expected.values())


def test_site_index_links_every_pack_and_the_figures_agree_with_the_warehouse(built):
    """The index links the latest week's and quarter's pack for the company and every region in both
    languages; the company pack's headline cards and region rows hold the marts' exact figures."""
    root, _, _ = built
    index = (root / "site" / "index.html").read_text(encoding="utf-8")
    (as_of, week_start) = _query(
        root, "select as_of_date, latest_complete_week_start_date from marts.warehouse_as_of"
    )[0]
    assert as_of == date(2026, 11, 19)  # the last delivery, a Thursday
    assert week_start == date(2026, 11, 9)  # the week of 11-16 is not complete yet
    regions = [
        r for (r,) in _query(root, "select distinct region from marts.dim_reps where region is not null")
    ]
    slugs = ["company", *(i18n.region_slug(r) for r in regions)]
    for folder in ("weekly/2026-W46", "quarterly/2026-Q3"):
        for slug in slugs:
            for lang in i18n.LANGS:
                page = f"{folder}/{slug}.{lang}.html"
                assert f'href="{page}"' in index, page
                assert (root / "site" / page).is_file(), page
    ((target, actual, gap),) = _query(
        root,
        "select target_amount, actual_amount, gap_amount from marts.fct_attainment_periods "
        f"where level = 'company' and period_type = 'week' and period_start_date = date '{week_start}'",
    )
    html = (root / "site" / "weekly" / "2026-W46" / "company.zh-CN.html").read_text(encoding="utf-8")
    headline = dict(re.findall(r'data-kpi="(\w+)" data-value="([^"]*)"', html))
    assert Decimal(headline["target"]) == target
    assert Decimal(headline["actual"]) == actual
    assert Decimal(headline["gap"]) == gap
    region_rows = _query(
        root,
        "select unit_id, actual_amount from marts.fct_attainment_periods "
        f"where level = 'region' and period_type = 'week' and period_start_date = date '{week_start}'",
    )
    assert region_rows
    table = re.search(r'<table class="srw-table" id="attainment_regions">(.*?)</table>', html, re.S).group(1)
    for region, region_actual in region_rows:
        row = re.search(rf'<tr data-row="{region}">(.*?)</tr>', table).group(1)
        assert Decimal(re.findall(r'data-value="([^"]*)"', row)[1]) == region_actual, region


def test_a_second_night_on_the_same_delivery_says_nothing_new_arrived_and_changes_nothing(
    company, salesreview
):
    root, _ = company
    before = _query(root, "select count(*), max(_loaded_at) from raw_crm.opportunities")
    release = (root / "releases" / "current").readlink()
    result = salesreview(["build"], root)
    assert result.returncode == 1, result.stdout[-4000:] + result.stderr[-4000:]
    assert "crm: nothing new was delivered since the last build" in result.stdout
    assert "erp: nothing new was delivered since the last build" in result.stdout
    assert "Dagster was not started" in result.stdout  # the shortcut (pipelines/lib/nothing_new.py)
    assert _query(root, "select count(*), max(_loaded_at) from raw_crm.opportunities") == before
    assert (root / "releases" / "current").readlink() == release


def _floats_cut(text: str) -> str:
    """Float noise cut: a rate summed from doubles by DuckDB's parallel aggregation can differ in its 16th
    digit between two runs. What a cell shows, and every amount (decimal), is still compared exactly."""
    return re.sub(r"-?\d+\.\d{12,}", lambda m: f"{float(m.group(0)):.10g}", text)


def _comparable(html: str) -> str:
    """A page without its render time and its float noise."""
    return _floats_cut(re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "<rendered at>", html))


def _cells(workbook: bytes) -> list[list[tuple]]:
    sheets = load_workbook(io.BytesIO(workbook)).worksheets
    return [
        [
            tuple(float(f"{v:.10g}") if isinstance(v, float) else v for v in row)
            for row in sheet.iter_rows(values_only=True)
        ]
        for sheet in sheets
    ]


def _files(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_build_as_of_a_past_day_reproduces_that_nights_packs(company, salesreview):
    """Three later days are delivered (they change deals, invoices and payments of the weeks before),
    then `build --as-of 2026-11-19` rebuilds the night of 2026-11-19: its week's and quarter's packs and
    their downloads come out as that night published them, but for the render time."""
    root, source = company
    folders = [root / "site" / "weekly" / "2026-W46", root / "site" / "quarterly" / "2026-Q3"]
    original = {folder: _files(folder) for folder in folders}
    assert len([p for p in original[folders[0]] if p.suffix == ".html"]) == 2 * 3, "company + 2 regions"
    for day in ("2026-11-20", "2026-11-21", "2026-11-22"):
        copy_delivery_day(source, root / "landing", day)

    result = salesreview(["build", "--as-of", "2026-11-19"], root)

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    (loaded_until,) = _query(root, "select max(extract_date) from raw_meta.loaded_files")[0]
    assert loaded_until == date(2026, 11, 22), "the later days are loaded; the marts leave them out"
    for folder in folders:
        rebuilt = _files(folder)
        assert rebuilt.keys() == original[folder].keys()
        for name, content in original[folder].items():
            if name.suffix == ".html":
                assert _comparable(rebuilt[name].decode()) == _comparable(content.decode()), name
            elif name.suffix == ".xlsx":  # the zip and the workbook's properties carry the write time
                assert _cells(rebuilt[name]) == _cells(content), name
            else:
                assert _floats_cut(rebuilt[name].decode("utf-8-sig")) == _floats_cut(
                    content.decode("utf-8-sig")
                ), name
    assert not (root / "site" / "weekly" / "2026-W47").exists()
