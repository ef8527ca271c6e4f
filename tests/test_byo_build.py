"""Bring your own extracts, end to end as a new user does it (README "Bring your own extracts"): the sample
company exported the way a Chinese CRM (GBK CSV, 万元) and a Chinese ERP (Excel reports) export it,
delivered once as a first load of history with the shipped profiles, then built and published as of a day
before that delivery. Figures are checked against the same company generated as contract files."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.e2e

END = date(2026, 11, 22)  # the generator's last day, a Sunday
AS_OF = date(2026, 11, 4)  # a Wednesday, 18 days before the first load of history
GENERATE = ["--scale", "0.1", "--days", "45", "--seed", "7", "--end-date", END.isoformat()]


@pytest.fixture(scope="module")
def byo(tmp_path_factory, salesreview):
    root = tmp_path_factory.mktemp("byo")
    for shape in ("cn_crm", "cn_erp"):
        result = salesreview(["generate", *GENERATE, "--shape", shape, "--out", str(root / shape)], root)
        assert result.returncode == 0, result.stderr
    result = salesreview(["generate", *GENERATE, "--out", str(root / "contract")], root)
    assert result.returncode == 0, result.stderr
    crm = sorted(str(p) for p in (root / "cn_crm").glob("*.csv"))
    erp = sorted(str(p) for p in (root / "cn_erp").glob("*.xlsx"))
    for profile, files, date_args in (
        ("cn_crm_gbk", crm, ["--date", END.isoformat()]),
        ("cn_erp_receivables", erp, []),
    ):
        result = salesreview(["deliver", "--profile", profile, "--initial", *date_args, *files], root)
        assert result.returncode == 0, result.stdout + result.stderr
    return root


def _won_by_week(contract_landing: Path, known_by: date | None = None) -> dict[date, Decimal]:
    """Won amount per week from the latest version of each deal in the contract files; with `known_by`,
    only deals whose latest version is dated on or before it (what a first load of history knows then:
    a deal changed later is not known in its earlier state)."""
    latest: dict[str, dict] = {}
    for path in sorted((contract_landing / "crm" / "opportunities").glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                latest[row["opportunity_id"]] = row  # files in date order: the last version wins
    by_week: dict[date, Decimal] = defaultdict(Decimal)
    for row in latest.values():
        if row["stage"] != "签约成交":
            continue
        if known_by and date.fromisoformat(row["updated_at"][:10]) > known_by:
            continue
        closed = date.fromisoformat(row["closed_date"])
        by_week[closed - timedelta(days=closed.weekday())] += Decimal(row["amount"])
    return dict(by_week)


def _marts(root: Path, sql: str):
    con = duckdb.connect(str(root / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_first_load_of_history_builds_as_of_a_day_before_it_with_rows_known_by_their_own_dates(
    byo, salesreview
) -> None:
    """One build (builds are the slow part of the suite): the as-of build is the harder case; the nightly
    path after a first load is the same build without --as-of."""
    result = salesreview(["build", "--as-of", AS_OF.isoformat()], byo)

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    ((as_of, week),) = _marts(
        byo, "select as_of_date, latest_complete_week_start_date from marts.warehouse_as_of"
    )
    assert (as_of, week) == (AS_OF, date(2026, 10, 26))
    expected = _won_by_week(byo / "contract", known_by=AS_OF)
    actual = dict(
        _marts(
            byo,
            "select week_start_date, actual_amount from marts.fct_attainment_weekly where level = 'company'",
        )
    )
    # weeks a month before: a deal won in the last days may still wait for its ERP order (held back then)
    settled = AS_OF - timedelta(days=28)
    assert sum(v for m, v in expected.items() if m <= settled) > 0
    for monday in sorted(m for m in set(expected) | set(actual) if m <= settled):
        assert actual.get(monday, Decimal(0)) == expected.get(monday, Decimal(0)), monday
    page = (byo / "site" / "weekly" / "2026-W44" / "company.zh-CN.html").read_text(encoding="utf-8")
    assert "数据来源 CRM：cn_crm_gbk；ERP：cn_erp_receivables" in page
    assert 'data-missing="feedback"' in page, "the CRM export has no feedback: the pack says so"
    assert "万元" in page
