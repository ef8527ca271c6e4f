"""Held-back revenue: what the 'block' data-quality rules keep out of the marts is said in one line of the
build summary, and above var max_held_back_won_share the dbt test stops the build (nothing is published)
with the problem said in words, not as a test name (pipelines/lib/build_report.py,
dbt_project/models/quality/held_back_revenue.sql, dbt_project/tests/quality/).

The rows of quality.held_back_revenue are made by hand in a small DuckDB; the dbt test itself runs once
per case against such a file (dbt test of one node, no build)."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace as NS

import duckdb
import pytest

from pipelines.lib.build_report import (
    HELD_BACK_CHECK,
    format_summary,
    held_back_limit_exceeded,
    read_held_back,
    summarize,
)

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")

# Won to date: 40 deals, 1,000,000.00. Blocked: unknown_rep 2 deals 280,000.00 (28.0%), won_without_order
# 1 deal 32,000.00 (3.2%) and 5 orders (no won revenue); together 3 deals 312,000.00 = 31.2%.
ROWS = [
    ("unknown_rep", False, 2, "280000.00", 2, "280000.00"),
    ("won_without_order", False, 1, "32000.00", 1, "32000.00"),
    ("order_without_opportunity", False, 5, "51000.00", 0, "0.00"),
    ("overpayment", False, 0, "0.00", 0, "0.00"),
    ("all_blocking_rules", True, 8, "363000.00", 3, "312000.00"),
]


def _warehouse(path: Path, rows=ROWS, won_total: str = "1000000.00") -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema quality")
    con.execute(
        "create table quality.held_back_revenue (rule_id varchar, defect_class varchar, is_total boolean, "
        "records bigint, amount_held_back decimal(18, 2), won_deals_held_back bigint, "
        "won_amount_held_back decimal(18, 2), won_deals_total bigint, won_amount_total decimal(18, 2), "
        "won_share_held_back double, max_held_back_won_share decimal(4, 2))"
    )
    for rule_id, is_total, records, amount, won_deals, won_amount in rows:
        con.execute(
            "insert into quality.held_back_revenue values (?, null, ?, ?, ?, ?, ?, 40, ?, ? / ?, 0.10)",
            [
                rule_id,
                is_total,
                records,
                amount,
                won_deals,
                won_amount,
                won_total,
                Decimal(won_amount),
                Decimal(won_total),
            ],
        )
    con.close()
    return path


def _event(kind: str, step: str, data):
    return NS(dagster_event=NS(event_type_value=kind, step_key=step, event_specific_data=data, message=""))


def _held_back_check(passed: bool, basis_points: int):
    evaluation = NS(
        passed=passed,
        severity=NS(value="ERROR"),
        description=None,
        asset_key=NS(to_user_string=lambda: "held_back_revenue"),
        check_name=HELD_BACK_CHECK,
        metadata={"dagster_dbt/failed_row_count": NS(value=basis_points)},
    )
    return _event("ASSET_CHECK_EVALUATION", "sales_review_dbt_assets", evaluation)


def test_the_line_names_share_amount_deals_and_the_biggest_rule(tmp_path):
    line = read_held_back(_warehouse(tmp_path / "w.duckdb"))
    assert line == (
        "blocking data-quality rules hold back 31.2% of won revenue (CNY 312,000.00 in 3 deals); "
        "biggest: unknown_rep 28.0%"
    )


def test_a_published_build_prints_the_line_from_its_warehouse(tmp_path):
    releases = tmp_path / "releases"
    (releases / "20261122T010000Z-abc").mkdir(parents=True)
    _warehouse(releases / "20261122T010000Z-abc" / "warehouse.duckdb")
    published = NS(
        materialization=NS(
            metadata={
                "release": NS(value="20261122T010000Z-abc"),
                "warehouse": NS(value=str(releases / "building" / "warehouse.duckdb")),
            }
        )
    )
    entries = [_held_back_check(True, 3120), _event("ASSET_MATERIALIZATION", "release__published", published)]
    text = format_summary(summarize(entries, success=True), 40.0)
    assert text.splitlines()[1] == (
        "blocking data-quality rules hold back 31.2% of won revenue (CNY 312,000.00 in 3 deals); "
        "biggest: unknown_rep 28.0%"
    )


def test_above_the_limit_the_build_fails_and_says_why_in_words():
    dbt_failure = NS(
        user_failure_data=NS(
            description="The dbt CLI process failed with exit code `1`.\n\nErrors parsed from dbt logs:\n\n"
            f"Failure in test {HELD_BACK_CHECK} (tests/quality/{HELD_BACK_CHECK}.sql)\n"
            "  Got 3120 results, configured to fail if > 1000"
        ),
        error=None,
    )
    entries = [
        _held_back_check(False, 3120),
        _event("STEP_FAILURE", "sales_review_dbt_assets", dbt_failure),
        _event("STEP_SKIPPED", "release__published", None),
    ]
    summary = summarize(entries, success=False)
    assert summary.problems == [held_back_limit_exceeded(3120)]
    text = format_summary(summary, 40.0)
    lines = text.splitlines()
    assert lines[0].startswith("nightly build FAILED")
    assert lines[1] == "blocking data-quality rules hold back 31.2% of won revenue"
    assert "hold back 31.2% of won revenue, more than the build allows" in text
    assert "max_held_back_won_share" in text and HELD_BACK_CHECK not in text


def _dbt_test(warehouse: Path, target: Path, variables: str | None = None) -> subprocess.CompletedProcess:
    args = [DBT, "test", "--select", HELD_BACK_CHECK, "--profiles-dir", ".", "--target-path", str(target)]
    if variables:
        args += ["--vars", variables]
    env = {**os.environ, "SRW_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    return subprocess.run(
        args, cwd=REPO / "dbt_project", env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("won_total", "variables", "fails"),
    [
        ("1000000.00", None, True),  # 312,000 / 1,000,000 = 31.2% > 10%
        ("3120000.00", None, False),  # 312,000 / 3,120,000 = exactly 10%: allowed
        ("3119999.00", None, True),  # 10.0000032% -> ceil to 1001 basis points > 1000
        ("1000000.00", '{"max_held_back_won_share": 0.35}', False),  # 31.2% under a 35% limit
    ],
)
def test_the_dbt_test_fails_only_above_the_limit(tmp_path, won_total, variables, fails):
    warehouse = _warehouse(tmp_path / "w.duckdb", won_total=won_total)
    result = _dbt_test(warehouse, tmp_path / "target", variables)
    assert (result.returncode != 0) == fails, result.stdout[-3000:]
