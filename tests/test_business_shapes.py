"""Real business shapes are data, not build failures (issue 9): a prepayment, a credit note, an order
delivered in phases and a won amount that differs from its ERP orders go through a whole `dbt build`
(staging -> clean -> intermediate -> marts -> quality, data tests included) on a small hand-made raw
warehouse without an error, and each shows up as data: unapplied cash, a negative balance, summed
phases, a warn finding with its amount.

Fixture (one delivery, extract date 2026-03-31 = the as-of date; rep R0001 张伟 in 华东 owns every
customer). Every expected figure is worked out by hand in its comment; the arithmetic of each mart is
unit-tested next to the model (dbt_project/models/marts/receivables/_receivables__unit_tests.yml).

  O0000001 won 30000 (C0000002): orders SO1 12000 + SO2 18000 = 30000, two phases -> no finding.
      INV2A (SO1, 2026-02-01, 12000, 30 days) paid P1 12000 on 02-20: 19 days.
      INV2B (SO2, 2026-03-15, 18000, 30 days) prepaid PP1 18000 on 03-01: unapplied cash 03-01 .. 03-14,
      applied on its invoice date, payment cycle 0 days (not -14).
  O0000002 won 50000 (C0000001): orders SO3 20000 + SO4 25000 = 45000 -> warn finding, amount 5000.
      INV1 (SO3, 2026-01-10, 20000, 30 days, due 02-09) unpaid: 50 days overdue on 03-31.
      CN1 (SO3, 2026-02-15, -5000, credit note) unpaid: C0000001 owes 20000 - 5000 = 15000.
  C0000003 has no invoice; it paid PX 3000 on 03-25 for INVX, which the ERP has not delivered: unapplied
      cash (rep 'unknown', 未知区域), warn rule orphan_payment_invoice, and its own aging rows.
"""

from __future__ import annotations

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
EXTRACT = "2026-03-31"  # the only delivery, so the as-of date
UPDATED = "2026-01-05 09:00:00"

# fmt: off
RAW_ROWS: dict[str, tuple[list[str], list[tuple]]] = {
    "raw_crm.reps": (
        ["rep_id", "rep_name", "role", "team_id", "team_name", "region", "hire_date", "updated_at"],
        [("R0001", "张伟", "rep", "T01", "华东一组", "华东", "2024-03-01", UPDATED)],
    ),
    "raw_crm.customers": (
        ["customer_id", "customer_name", "industry", "region", "city", "tier", "channel", "owner_rep_id",
         "created_at", "updated_at"],
        [
            (f"C000000{n}", name, "制造业", "华东", "上海", "普通", "展会", "R0001", "2025-10-01 09:00:00",
             "2025-10-01 09:00:00")
            for n, name in ((1, "甲公司"), (2, "乙公司"), (3, "丙公司"))
        ],
    ),
    "raw_erp.products": (
        ["product_id", "product_name", "product_line", "list_price", "unit", "is_active", "updated_at"],
        [("P0001", "标准版", "软件", "1000.00", "套", "true", UPDATED)],
    ),
    "raw_crm.opportunities": (
        ["opportunity_id", "opportunity_name", "customer_id", "owner_rep_id", "product_id", "stage", "amount",
         "probability", "expected_close_date", "closed_date", "created_at", "updated_at"],
        [
            ("O0000001", "项目1", "C0000002", "R0001", "P0001", "签约成交", "30000.00", "100", "2026-01-20",
             "2026-01-20", "2025-11-01 09:00:00", "2026-01-20 17:00:00"),
            ("O0000002", "项目2", "C0000001", "R0001", "P0001", "签约成交", "50000.00", "100", "2026-01-05",
             "2026-01-05", "2025-11-01 09:00:00", "2026-01-05 17:00:00"),
        ],
    ),
    "raw_erp.sales_orders": (
        ["order_id", "order_date", "customer_id", "opportunity_id", "rep_id", "product_id", "quantity",
         "unit_price", "order_amount", "status", "updated_at"],
        [
            # O0000001 in two phases: 12 + 18 units = 30000, as won
            ("SO1", "2026-01-21", "C0000002", "O0000001", "R0001", "P0001", "12", "1000.00", "12000.00",
             "fulfilled", "2026-01-21 10:00:00"),
            ("SO2", "2026-01-21", "C0000002", "O0000001", "R0001", "P0001", "18", "1000.00", "18000.00",
             "open", "2026-01-21 10:00:00"),
            # O0000002: 20000 + 25000 = 45000, 5000 less than won (a discount at signing)
            ("SO3", "2026-01-06", "C0000001", "O0000002", "R0001", "P0001", "20", "1000.00", "20000.00",
             "fulfilled", "2026-01-06 10:00:00"),
            ("SO4", "2026-01-06", "C0000001", "O0000002", "R0001", "P0001", "25", "1000.00", "25000.00",
             "open", "2026-01-06 10:00:00"),
        ],
    ),
    "raw_erp.invoices": (
        ["invoice_id", "order_id", "customer_id", "invoice_date", "credit_terms_days", "due_date",
         "invoice_amount", "updated_at"],
        [
            ("INV1", "SO3", "C0000001", "2026-01-10", "30", "2026-02-09", "20000.00", "2026-01-10 10:00:00"),
            ("CN1", "SO3", "C0000001", "2026-02-15", "0", "2026-02-15", "-5000.00", "2026-02-15 10:00:00"),
            ("INV2A", "SO1", "C0000002", "2026-02-01", "30", "2026-03-03", "12000.00", "2026-02-01 10:00:00"),
            ("INV2B", "SO2", "C0000002", "2026-03-15", "30", "2026-04-14", "18000.00", "2026-03-15 10:00:00"),
        ],
    ),
    "raw_erp.payments": (
        ["payment_id", "invoice_id", "customer_id", "payment_date", "payment_amount", "method"],
        [
            ("P1", "INV2A", "C0000002", "2026-02-20", "12000.00", "银行转账"),
            ("PP1", "INV2B", "C0000002", "2026-03-01", "18000.00", "银行转账"),  # before its invoice
            ("PX", "INVX", "C0000003", "2026-03-25", "3000.00", "银行转账"),  # invoice not delivered
        ],
    ),
}
# fmt: on


def _insert(con, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Insert rows as ingestion would: text values plus the lineage columns."""
    system, entity = table.split(".")
    source_file = f"{system.removeprefix('raw_')}/{entity}/{EXTRACT}.csv"
    all_columns = [*columns, "_source_file", "_file_sha256", "_extract_date", "_row_number", "_loaded_at"]
    placeholders = ", ".join("?" for _ in all_columns)
    for row_number, row in enumerate(rows, start=1):
        lineage = (source_file, "0" * 64, EXTRACT, row_number, f"{EXTRACT} 02:00:00")
        con.execute(
            f"insert into {table} ({', '.join(all_columns)}) values ({placeholders})", [*row, *lineage]
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    """The whole project built (seeds, models, data tests; the unit tests run elsewhere) on the fixture:
    the warehouse and dbt's output."""
    work_dir = tmp_path_factory.mktemp("shapes")
    warehouse = work_dir / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        create_raw_tables(con, load_contract())
        for table, (columns, rows) in RAW_ROWS.items():
            _insert(con, table, columns, rows)
    finally:
        con.close()
    args = [
        shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt",
        "build",
        "--exclude", "test_type:unit",
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        # a private target and log folder, so parallel runs do not clash
        "--target-path", str(work_dir / "target"),
        "--log-path", str(work_dir / "logs"),
    ]  # fmt: skip
    env = {**os.environ, "SRW_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}{result.stderr}"
    return warehouse, result.stdout


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_the_build_passes_with_only_the_expected_warnings(built):
    warehouse, stdout = built
    assert "ERROR=0" in stdout, stdout[-4000:]
    # the reconciliations hold with a prepayment and a credit note in the data (they are errors if not)
    for test in (
        "assert_receivables_flows_reconcile",
        "assert_receivables_open_balance_equals_invoices_less_payments",
        "assert_receivables_aging_sums_to_open_balance",
        "assert_receivables_payments_within_invoices",
    ):
        assert any(test in line and "PASS" in line for line in stdout.splitlines()), test
    # the payment of an undelivered invoice only warns
    assert any(
        "assert_receivables_payments_have_invoices" in line and "WARN" in line for line in stdout.splitlines()
    )
    # nothing held back: no 'block' finding on the fixture
    assert _query(warehouse, "select records from quality.held_back_revenue where is_total") in ([], [(0,)])


def test_prepayment_is_unapplied_cash_until_its_invoice_date(built):
    warehouse, _ = built
    rows = _query(
        warehouse,
        "select snapshot_date, customer_id, rep_id, region, unapplied_amount, prepayment_count "
        "from marts.fct_ar_unapplied_cash where snapshot_date in ('2026-03-08', '2026-03-15', '2026-03-31') "
        "order by snapshot_date, customer_id",
    )
    assert [(str(d), c, r, g, a, p) for d, c, r, g, a, p in rows] == [
        # Sunday 03-08: PP1 (03-01) received, INV2B not issued before 03-15
        ("2026-03-08", "C0000002", "R0001", "华东", Decimal("18000.00"), 1),
        # 03-15 (a Sunday): INV2B issued that day -> applied; PX not received yet (03-25)
        # 03-31: PX 3000 for the undelivered INVX stays unapplied
        ("2026-03-31", "C0000003", "unknown", "未知区域", Decimal("3000.00"), 0),
    ]
    # the prepaid invoice is never an open balance
    assert _query(
        warehouse, "select count(*) from marts.fct_ar_invoice_snapshots where invoice_id = 'INV2B'"
    ) == [(0,)]


def test_credit_note_is_a_negative_balance_netted_in_the_customers_aging(built):
    warehouse, _ = built
    rows = _query(
        warehouse,
        "select invoice_id, is_credit_note, open_balance, days_overdue, aging_bucket_key "
        "from marts.fct_ar_invoice_snapshots where is_as_of_date order by invoice_id",
    )
    assert rows == [
        # 03-31 - 02-15 = 44 days past its date, but a credit note is never overdue
        ("CN1", True, Decimal("-5000.00"), 0, "not_due"),
        # 03-31 - 02-09 = 50 days overdue
        ("INV1", False, Decimal("20000.00"), 50, "d031_060"),
    ]
    customer = _query(
        warehouse,
        "select unit_id, max(total_open_balance), max(total_invoice_count), max(total_unapplied_cash), "
        "max(total_net_open_balance), sum(open_balance) from marts.fct_ar_aging "
        "where is_as_of_date and level = 'customer' group by unit_id order by unit_id",
    )
    assert customer == [
        # C1: 20000 - 5000 = 15000 in its buckets (sum of buckets = total)
        ("C0000001", Decimal("15000.00"), 2, Decimal("0.00"), Decimal("15000.00"), Decimal("15000.00")),
        # C3: only unapplied cash -> its rows exist, every bucket 0, net 0 - 3000 = -3000
        ("C0000003", Decimal("0.00"), 0, Decimal("3000.00"), Decimal("-3000.00"), Decimal("0.00")),
    ]
    company = _query(
        warehouse,
        "select distinct total_open_balance, total_unapplied_cash, total_net_open_balance "
        "from marts.fct_ar_aging where is_as_of_date and level = 'company'",
    )
    # 15000 open (INV2A paid, INV2B prepaid) - 3000 unapplied = 12000
    assert company == [(Decimal("15000.00"), Decimal("3000.00"), Decimal("12000.00"))]
    march = _query(
        warehouse,
        "select opening_net_ar, credit_sales, collections, closing_ar, closing_unapplied_cash, "
        "closing_net_ar from marts.fct_ar_dso_cei where period_type = 'month' and level = 'company' "
        "and period_start_date = '2026-03-01'",
    )
    # opening net AR (02-28): INV1 20000 + CN1 -5000 = 15000 (INV2A paid 02-20), nothing unapplied;
    # March: sales 18000 (INV2B), collections PP1 18000 + PX 3000 = 21000;
    # 15000 + 18000 - 21000 = 12000 = closing AR 15000 - unapplied cash 3000
    assert march == [
        (Decimal("15000.00"), Decimal("18000.00"), Decimal("21000.00"), Decimal("15000.00"),
         Decimal("3000.00"), Decimal("12000.00"))
    ]  # fmt: skip


def test_prepaid_invoice_has_a_zero_day_payment_cycle(built):
    warehouse, _ = built
    rows = _query(
        warehouse,
        "select invoice_id, is_prepaid, settled_date, days_to_settle from marts.fct_payment_cycles "
        "order by invoice_id",
    )
    # INV2A: 02-01 -> 02-20 = 19 days; INV2B prepaid on 03-01, settled on its invoice date 03-15: 0 days;
    # the credit note and the open INV1 have no cycle
    assert [(i, p, str(d), n) for i, p, d, n in rows] == [
        ("INV2A", False, "2026-02-20", 19),
        ("INV2B", True, "2026-03-15", 0),
    ]
    # the customer's quarter (both settled in Q1): (19 + 0) / 2 = 9.5 days, never below 0
    quarterly = _query(
        warehouse,
        "select customer_quarter_id, paid_invoice_count, avg_days_to_settle "
        "from marts.fct_customer_payment_cycles_quarterly",
    )
    assert quarterly == [("C0000002:2026-01-01", 2, 9.5)]


def test_phased_order_is_summed_and_a_differing_won_amount_is_a_warn_finding(built):
    warehouse, _ = built
    findings = _query(
        warehouse,
        "select record_id, amount, evidence from quality.dq_won_amount_differs_from_order order by record_id",
    )
    # O0000001: 12000 + 18000 = 30000 = won -> nothing; O0000002: |50000 - (20000 + 25000)| = 5000
    assert findings == [
        (
            "O0000002",
            Decimal("5000.00"),
            "CRM 签约金额 50,000.00 元，ERP 2 张订单合计 45,000.00 元，CRM 多 5,000.00 元",
        )
    ]
    # the phases are separate invoices of the one customer
    phases = _query(
        warehouse,
        "select invoice_id, order_id, invoice_amount from intermediate.int_receivables__invoices "
        "where customer_id = 'C0000002' order by invoice_id",
    )
    assert phases == [("INV2A", "SO1", Decimal("12000.00")), ("INV2B", "SO2", Decimal("18000.00"))]
    # a warn finding, in the quarantine with its amount, not a held-back record
    quarantined = _query(
        warehouse,
        "select severity, amount from quality.quarantine where rule_id = 'won_amount_differs_from_order'",
    )
    assert quarantined == [("warn", Decimal("5000.00"))]
