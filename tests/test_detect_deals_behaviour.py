"""The deal behaviour rules (stage_jump, anomalous_amount, zombie_opportunity, order_without_opportunity)
built by dbt on a small hand-made warehouse: one shape per deal, and the look-alikes a careless rule flags.

Every delta row is delivered in the extract of its own day (as the CRM and ERP deliver), the products and
customers once. The as-of date is the latest extract, 2026-06-30; 90 days before it is 2026-04-01. Product
P1 (list price 20,000) has a median deal of 100,000: every deal is for P1 at 100,000 unless it says otherwise.
Each shape's comment says why it is flagged or not; the dbt unit tests next to the models check the evidence
texts word for word, these tests the flagged ids exactly and the figures in the evidence.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from statistics import median

import duckdb
import pytest

from pipelines.lib.warehouse import create_raw_tables
from pipelines.sample.generator import DEFAULT_END_DATE
from pipelines.sample.generator.simulate import make_timeline, simulate
from quality.contract import load_contract

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
RULES = ["dq_stage_jump", "dq_anomalous_amount", "dq_zombie_opportunity", "dq_order_without_opportunity"]
AS_OF = "2026-06-30"
STAGES = ["线索获取", "需求挖掘", "方案演示", "商务谈判", "签约成交"]
LEAD, DISCOVERY, DEMO, NEGOTIATION, WON = STAGES
LOST = "丢单"

rows: dict[str, list[dict]] = defaultdict(list)  # raw table -> rows (each with its extract date)


def day(ts: str) -> str:
    return ts[:10]


def deal(opp_id: str, versions: list[tuple[str, dict]], customer: str = "C1", amount: int = 100_000) -> None:
    """An opportunity created at the first version's time; each version (time, changes) is delivered on its
    day, the latest of a day only (as a delta delivery keeps one version per key and day)."""
    created = versions[0][0]
    row = {
        "opportunity_id": opp_id, "customer_id": customer, "owner_rep_id": "R0001", "product_id": "P1",
        "stage": LEAD, "amount": str(amount), "expected_close_date": "2026-07-31",
        "next_step": "安排首次拜访", "created_at": created,
    }  # fmt: skip
    by_day: dict[str, dict] = {}
    for at, changes in versions:
        row = {**row, **changes, "updated_at": at}
        by_day[day(at)] = row
    for d, version in by_day.items():
        rows["raw_crm.opportunities"].append({**version, "_extract_date": d})


def path(opp_id: str, *changes: tuple[str, str]) -> None:
    """Stage history: the creation row at LEAD, then (time, to_stage) changes, each delivered on its day."""
    previous = None
    for i, (at, stage) in enumerate(changes):
        rows["raw_crm.opportunity_stage_history"].append(
            {
                "stage_change_id": f"SH-{opp_id}-{i}", "opportunity_id": opp_id, "from_stage": previous,
                "to_stage": stage, "changed_at": at, "changed_by": "R0001", "_extract_date": day(at),
            }
        )  # fmt: skip
        previous = stage


def staged_deal(opp_id: str, *changes: tuple[str, str], ghosts: tuple[str, ...] = ()) -> None:
    """A deal whose versions follow its stage changes (one version per change), except the stages in ghosts,
    which only the stage history has."""
    deal(opp_id, [(at, {"stage": s}) for at, s in changes if s not in ghosts])
    path(opp_id, *changes)


# --- stage_jump ---------------------------------------------------------------------------------------
# J1 skips two stages (线索获取 -> 商务谈判, +3).
staged_deal("J1", ("2026-05-04 10:00:00", LEAD), ("2026-05-11 10:00:00", NEGOTIATION))
# J2: the skipped stages back-filled within four minutes (需求挖掘 and 方案演示 held 2 minutes each).
staged_deal(
    "J2",
    ("2026-05-04 10:00:00", LEAD),
    ("2026-06-10 10:00:00", DISCOVERY),
    ("2026-06-10 10:02:00", DEMO),
    ("2026-06-10 10:04:00", NEGOTIATION),
)
# J3: every stage entered on the day the deal is won, hours apart.
staged_deal(
    "J3",
    ("2026-05-04 10:00:00", LEAD),
    ("2026-06-12 09:30:00", DISCOVERY),
    ("2026-06-12 11:00:00", DEMO),
    ("2026-06-12 14:00:00", NEGOTIATION),
    ("2026-06-12 16:30:00", WON),
)
# J4: identical timestamps.
staged_deal(
    "J4",
    ("2026-05-04 10:00:00", LEAD),
    ("2026-06-15 15:00:00", DISCOVERY),
    ("2026-06-15 15:00:00", DEMO),
    ("2026-06-15 15:00:00", NEGOTIATION),
)
# J5: back-dated days apart, but the deal was never saved in 需求挖掘 or 方案演示 (ghost stages).
staged_deal(
    "J5",
    ("2026-05-04 10:00:00", LEAD),
    ("2026-05-12 10:00:00", DISCOVERY),
    ("2026-05-20 10:00:00", DEMO),
    ("2026-06-05 10:00:00", NEGOTIATION),
    ghosts=(DISCOVERY, DEMO),
)
# J6: only the one stage that turns a +3 into +2 and +1, inserted three minutes before the next.
staged_deal(
    "J6", ("2026-05-04 10:00:00", LEAD), ("2026-06-18 11:00:00", DEMO), ("2026-06-18 11:03:00", NEGOTIATION)
)
# J7: one stage the history says lasted eight days, in which no version of the deal was ever saved.
staged_deal(
    "J7",
    ("2026-05-04 10:00:00", LEAD),
    ("2026-05-12 10:00:00", DEMO),
    ("2026-05-20 10:00:00", NEGOTIATION),
    ghosts=(DEMO,),
)
# look-alikes: K1 skips exactly one stage; K2 moves a stage a day; K3 leaves one stage the day it entered it
# (the 方案演示 version is replaced by the same day's 商务谈判: one stage, both hollow and ghost).
staged_deal(
    "K1",
    ("2026-05-04 10:00:00", LEAD),
    ("2026-05-06 10:00:00", DISCOVERY),
    ("2026-05-13 10:00:00", NEGOTIATION),
)
staged_deal(
    "K2",
    ("2026-05-04 10:00:00", LEAD),
    ("2026-05-05 10:00:00", DISCOVERY),
    ("2026-05-06 10:00:00", DEMO),
    ("2026-05-07 10:00:00", NEGOTIATION),
    ("2026-05-08 10:00:00", WON),
)
staged_deal(
    "K3",
    ("2026-05-04 10:00:00", LEAD),
    ("2026-05-06 10:00:00", DISCOVERY),
    ("2026-05-10 10:00:00", DEMO),
    ("2026-05-10 16:00:00", NEGOTIATION),
)

# --- anomalous_amount ----------------------------------------------------------------------------------
# C1 declares a budget of 150,000, C2 5,000,000, C3 20,000, C4 400,000, C5 30,000; C9 is no customer.
# P2 lists at 300,000.
NEW = "2026-06-01 10:00:00"
deal("A1", [(NEW, {})], amount=620_000)  # 4.13 x C1's budget and 6.2 x P1's median: an extra digit
deal("A2", [(NEW, {})], amount=5_000)  # less than half of one unit (20,000): typed in 万元, zeros lost
deal("A3", [(NEW, {})], customer="C9", amount=1_200_000)  # no budget to compare, 12 x the median
deal("A4", [(NEW, {})], customer="C4", amount=1_100_000)  # 11 x the median, more than C4's 400,000
deal("B1", [(NEW, {})], customer="C2", amount=1_500_000)  # the big customer's bulk order: 0.3 x its budget
# 20 x the median for C1, but the ERP booked it: 100 units at 20,000
deal("B2", [(NEW, {"stage": WON, "closed_date": "2026-06-01"})], amount=2_000_000)
# one unit of an expensive product for a small customer: 14 x its budget, but P2's ordinary deal
for opp_id, customer in [("B3", "C3"), ("P2a", "C1"), ("P2b", "C1")]:
    deal(opp_id, [(NEW, {"product_id": "P2"})], customer=customer, amount=280_000)
# ... but two units of it for a customer whose budget is 30,000 (21 x): within P2's range (2.3 x its median)
deal("A5", [(NEW, {"product_id": "P2"})], customer="C5", amount=640_000)

# --- zombie_opportunity ----------------------------------------------------------------------------------
OLD = "2026-03-01 10:00:00"
deal("Z1", [(OLD, {})])  # untouched since 2026-03-01: idle 121 days
deal(
    "Z2",
    [
        (OLD, {}),
        ("2026-05-01 10:00:00", {"next_step": "再次电话确认"}),
        ("2026-06-20 10:00:00", {"next_step": "等客户回复"}),
    ],
)
deal("Z3", [(OLD, {}), ("2026-06-25 10:00:00", {})])  # the same values saved again
deal("Z4", [(OLD, {}), ("2026-06-01 10:00:00", {"expected_close_date": "2026-09-30"})])  # close date pushed
deal("Z5", [(OLD, {})])  # touches only: an e-mail and a 25-minute "keeping in touch" call
# no progress for 102 days, and the one touch was 97 days ago: not even touched for 90 days
deal("Z7", [("2026-03-20 10:00:00", {}), ("2026-03-25 10:00:00", {"next_step": "再次电话确认"})])
deal("Z6", [(OLD, {}), ("2026-06-10 10:00:00", {"amount": "100500"})])  # the amount nudged by 0.5%
# look-alikes: Y1 a long-cycle deal whose amount changed; Y2 a real visit; Y3 quiet 70 days; Y4 a stage change
deal("Y1", [("2026-02-01 10:00:00", {}), ("2026-05-15 10:00:00", {"amount": "120000"})])
deal("Y2", [("2026-02-01 10:00:00", {})])
deal("Y3", [("2026-04-21 10:00:00", {})])
# Y5: no progress for 97 days, but a note edit 71 days ago says the customer is deciding (the benefit of the
# doubt lasts to 120 days of no progress).
deal("Y5", [("2026-03-25 10:00:00", {}), ("2026-04-20 10:00:00", {"next_step": "等待客户内部决策"})])
staged_deal("Y4", ("2026-02-01 10:00:00", LEAD), ("2026-05-05 10:00:00", DISCOVERY))
ACTIVITIES = [
    ("AC1", "邮件", "Z5", "2026-06-10 09:00:00", None),
    ("AC2", "电话", "Z5", "2026-06-20 09:00:00", "25"),
    ("AC3", "拜访", "Y2", "2026-05-20 14:00:00", "45"),
]
for activity_id, kind, opp_id, at, minutes in ACTIVITIES:
    rows["raw_crm.activities"].append(
        {
            "activity_id": activity_id, "activity_type": kind, "rep_id": "R0001", "customer_id": "C1",
            "opportunity_id": opp_id, "activity_at": at, "duration_minutes": minutes, "logged_at": at,
            "_extract_date": day(at),
        }
    )  # fmt: skip

# --- order_without_opportunity ---------------------------------------------------------------------------
deal(
    "W1", [("2026-05-20 10:00:00", {}), ("2026-06-01 10:00:00", {"stage": WON, "closed_date": "2026-06-01"})]
)
LOST_ON_0525 = {"stage": LOST, "closed_date": "2026-05-25"}
deal("W2", [("2026-05-20 10:00:00", {}), ("2026-05-25 10:00:00", LOST_ON_0525)], customer="C2")
deal("W3", [("2026-06-01 10:00:00", {"stage": NEGOTIATION})])
deal(
    "W4", [("2026-02-01 10:00:00", {}), ("2026-02-10 10:00:00", {"stage": WON, "closed_date": "2026-02-10"})]
)
deal(
    "W5", [("2026-05-20 10:00:00", {}), ("2026-06-05 10:00:00", {"stage": WON, "closed_date": "2026-06-05"})]
)
deal("W6", [("2026-06-20 10:00:00", {"stage": NEGOTIATION})])
deal(
    "W7", [("2026-05-20 10:00:00", {}), ("2026-06-01 10:00:00", {"stage": WON, "closed_date": "2026-06-01"})]
)
deal(
    "W8", [("2026-05-20 10:00:00", {}), ("2026-06-01 10:00:00", {"stage": WON, "closed_date": "2026-06-01"})]
)
rows["raw_crm.leads"].append(
    {"lead_id": "L0001", "customer_id": "C1", "rep_id": "R0001", "status": "converted",
     "created_at": "2026-05-01 10:00:00", "updated_at": "2026-05-01 10:00:00", "_extract_date": "2026-05-01"}
)  # fmt: skip
ORDERS = [
    ("SO1", "W1", "C1", "2026-06-01", 100_000, "open"),  # fits
    ("SO2", None, "C1", "2026-06-02", 50_000, "open"),  # no opportunity id
    ("SO3", "O9", "C1", "2026-06-02", 50_000, "open"),  # never delivered
    ("SO4", "L0001", "C1", "2026-06-02", 50_000, "open"),  # a lead id
    ("SO5", "W2", "C2", "2026-06-03", 50_000, "open"),  # a lost deal
    ("SO6", "W3", "C1", "2026-06-10", 50_000, "open"),  # still negotiating 20 days later
    ("SO7", "W1", "C2", "2026-06-12", 50_000, "open"),  # another customer's deal
    ("SO8", "W5", "C1", "2026-06-05", 40_000, "open"),  # phase 1 of W5
    ("SO9", "W5", "C1", "2026-06-20", 60_000, "open"),  # phase 2: adds up to W5
    ("SO10", "W1", "C1", "2026-06-11", 20_000, "open"),  # W1 already fully ordered by SO1
    ("SO11", "W4", "C1", "2026-06-15", 30_000, "open"),  # late first order of W4: room left
    ("SO12", "W4", "C1", "2026-06-16", 80_000, "open"),  # 126 days after the win, over W4's amount
    ("SO13", "W3", "C1", "2026-06-01", 50_000, "cancelled"),  # cancelled: not checked
    ("SO14", "W6", "C1", "2026-06-29", 50_000, "open"),  # one day ago: the win may follow
    ("SO15", "B2", "C1", "2026-06-01", 2_000_000, "open"),  # books B2
    ("SO16", "W7", "C2", "2026-06-01", 100_000, "open"),  # another customer's order cites W7 first ...
    ("SO17", "W7", "C1", "2026-06-02", 100_000, "open"),  # ... which does not fill W7 for its own order
    (
        "SO18",
        "W7",
        "C777",
        "2026-06-03",
        30_000,
        "open",
    ),  # an unknown customer's order citing W7 (W7 has its own)
    ("SO19", "W8", "C888", "2026-06-01", 100_000, "open"),  # W8's only order, its customer mistyped
]
for order_id, opp_id, customer, order_date, amount, status in ORDERS:
    rows["raw_erp.sales_orders"].append(
        {
            "order_id": order_id, "order_date": order_date, "customer_id": customer, "opportunity_id": opp_id,
            "rep_id": "R0001", "product_id": "P1", "quantity": str(amount // 20_000), "unit_price": "20000",
            "order_amount": str(amount), "status": status, "updated_at": f"{order_date} 17:00:00",
            "_extract_date": order_date,
        }
    )  # fmt: skip

# --- master data, and the as-of date --------------------------------------------------------------------
for customer_id, budget in [
    ("C1", "150000"),
    ("C2", "5000000"),
    ("C3", "20000"),
    ("C4", "400000"),
    ("C5", "30000"),
]:
    rows["raw_crm.customers"].append(
        {"customer_id": customer_id, "customer_name": f"客户{customer_id}", "budget": budget,
         "owner_rep_id": "R0001", "created_at": "2026-01-05 09:00:00", "updated_at": "2026-01-05 09:00:00",
         "_extract_date": "2026-02-01"}
    )  # fmt: skip
for product_id, name, price in [("P1", "PLC控制器", "20000"), ("P2", "企业版ERP", "300000")]:
    rows["raw_erp.products"].append(
        {"product_id": product_id, "product_name": name, "list_price": price, "is_active": "true",
         "updated_at": "2026-01-01 09:00:00", "_extract_date": "2026-02-01"}
    )  # fmt: skip
rows["raw_crm.reps"].append(
    {"rep_id": "R0001", "rep_name": "张伟", "role": "rep", "team_id": "T01", "region": "华东",
     "hire_date": "2024-03-01", "updated_at": "2026-01-01 09:00:00", "_extract_date": AS_OF}
)  # fmt: skip


def _insert(con: duckdb.DuckDBPyConnection, table: str, table_rows: list[dict]) -> None:
    """Rows as ingestion writes them: text values plus the lineage columns, numbered per file."""
    numbers: dict[str, int] = defaultdict(int)
    for row in table_rows:
        extract_date = row["_extract_date"]
        numbers[extract_date] += 1
        values = {
            **{k: v for k, v in row.items() if k != "_extract_date"},
            "_source_file": f"{table}/{extract_date}.csv", "_file_sha256": "0" * 64,
            "_extract_date": extract_date, "_row_number": numbers[extract_date],
            "_loaded_at": f"{extract_date} 02:00:00",
        }  # fmt: skip
        con.execute(
            f"insert into {table} ({', '.join(values)}) values ({', '.join('?' for _ in values)})",
            list(values.values()),
        )


@pytest.fixture(scope="module")
def flagged(tmp_path_factory) -> dict[str, dict[str, str]]:
    """rule -> {record_id: evidence}, from a dbt build of the four rules and what they read."""
    work_dir = tmp_path_factory.mktemp("deals_behaviour")
    warehouse = work_dir / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        create_raw_tables(con, load_contract())
        for table, table_rows in rows.items():
            _insert(con, table, table_rows)
    finally:
        con.close()
    args = [
        str(Path(sys.executable).with_name("dbt")), "build",
        "--select", *(f"+{rule}" for rule in RULES),
        "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"),
    ]  # fmt: skip
    env = {**os.environ, "SRW_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.sql("select as_of_date from marts.warehouse_as_of").fetchone()[0].isoformat() == AS_OF
        out = {}
        for rule in RULES:
            found = con.sql(f"select record_id, evidence from quality.{rule}").fetchall()
            out[rule.removeprefix("dq_")] = dict(found)
    finally:
        con.close()
    shutil.rmtree(work_dir / "target", ignore_errors=True)
    return out


def test_stage_jump_flags_skips_and_back_filled_stages_not_fast_deals(flagged):
    assert set(flagged["stage_jump"]) == {"J1", "J2", "J3", "J4", "J5", "J6", "J7"}
    evidence = flagged["stage_jump"]
    assert "跳过 2 个阶段" in evidence["J1"]
    assert "3 次阶段变更集中在 2026-06-10 10:00 起 4 分钟内录入" in evidence["J2"]
    assert "4 次阶段变更集中在 2026-06-12 当天录入（09:30-16:30）" in evidence["J3"]
    assert "0 分钟内录入" in evidence["J4"]
    assert "「需求挖掘、方案演示」从未出现在商机的任何一次保存中" in evidence["J5"]
    assert (
        "2 次阶段变更集中在 2026-06-18 11:00 起 3 分钟内录入，阶段「方案演示」没有真实停留" in evidence["J6"]
    )
    assert "「方案演示」从未出现在商机的任何一次保存中" in evidence["J7"]


def test_anomalous_amount_judges_budget_product_and_one_unit(flagged):
    assert set(flagged["anomalous_amount"]) == {"A1", "A2", "A3", "A4", "A5"}
    evidence = flagged["anomalous_amount"]
    assert "是客户申报预算 150,000.00 元的 4.1 倍" in evidence["A1"]
    assert "中位数 100,000.00 元的 6.2 倍" in evidence["A1"]
    assert "不到一件产品（P1 PLC控制器）标价 20,000.00 元的 50%" in evidence["A2"]
    assert "没有客户预算可比" in evidence["A3"] and "12.0 倍" in evidence["A3"]
    assert "超过客户申报预算 400,000.00 元" in evidence["A4"] and "11.0 倍" in evidence["A4"]
    assert "预算 30,000.00 元的 21.3 倍，且不止一件产品（P2 企业版ERP，标价 300,000.00 元）" in evidence["A5"]


def test_zombie_opportunity_sees_through_touches(flagged):
    assert set(flagged["zombie_opportunity"]) == {"Z1", "Z2", "Z3", "Z4", "Z5", "Z6", "Z7"}
    evidence = flagged["zombie_opportunity"]
    assert "已 121 天没有实质进展" in evidence["Z1"] and "此后" not in evidence["Z1"]
    assert "2 次编辑未改动实质内容（其中推迟预计签约日期 0 次，只改备注/下一步 2 次）" in evidence["Z2"]
    assert "1 次编辑未改动实质内容（其中推迟预计签约日期 0 次，只改备注/下一步 0 次）" in evidence["Z3"]
    assert "推迟预计签约日期 1 次" in evidence["Z4"]
    assert "2 条电话、邮件或极短的拜访" in evidence["Z5"]


def test_order_without_opportunity_flags_ids_that_do_not_fit(flagged):
    assert set(flagged["order_without_opportunity"]) == {
        "SO2", "SO3", "SO4", "SO5", "SO6", "SO7", "SO10", "SO12", "SO16", "SO18",
    }  # fmt: skip
    evidence = flagged["order_without_opportunity"]
    assert "是线索编号" in evidence["SO4"]
    assert "已丢单（2026-05-25）" in evidence["SO5"]
    assert "属于另一个客户（商机客户 C1，订单客户 C2）" in evidence["SO7"]
    assert "之前的订单已下满 100,000.00 元" in evidence["SO10"]
    assert "早在 2026-02-10 签约（126 天前）" in evidence["SO12"]


# --- the clean simulation gives these rules nothing to flag ----------------------------------------------


@pytest.fixture(scope="module")
def clean() -> dict[str, list[dict]]:
    return simulate(2, 0.2, make_timeline(DEFAULT_END_DATE, 365))


def _latest(table: list[dict], key: str) -> dict[str, dict]:
    return {r[key]: r for r in sorted(table, key=lambda r: r["updated_at"])}


def test_clean_deals_have_real_stages_amounts_they_can_buy_and_real_progress(clean):
    by_deal = defaultdict(list)
    for change in clean["opportunity_stage_history"]:
        by_deal[change["opportunity_id"]].append(change)
    for changes in by_deal.values():
        changes.sort(key=lambda c: c["changed_at"])
        for entered, left in zip(changes[1:], changes[2:], strict=False):  # stays entered by a change
            assert left["changed_at"].date() > entered["changed_at"].date(), (entered, left)
    deals = _latest(clean["opportunities"], "opportunity_id")
    budgets = {c["customer_id"]: c["budget"] for c in _latest(clean["customers"], "customer_id").values()}
    prices = {p["product_id"]: p["list_price"] for p in clean["products"]}
    amounts = defaultdict(list)
    for d in deals.values():
        amounts[d["product_id"]].append(d["amount"])
    medians = {p: median(a) for p, a in amounts.items()}
    for d in deals.values():
        assert not (
            d["amount"] > 3 * budgets[d["customer_id"]] and d["amount"] > 3 * medians[d["product_id"]]
        )
        assert d["amount"] >= 0.5 * prices[d["product_id"]], d
        assert d["amount"] <= 6 * budgets[d["customer_id"]] or d["amount"] <= prices[d["product_id"]], d
    end = DEFAULT_END_DATE
    real = defaultdict(list)  # the days a deal really moved: a material version or a real activity
    previous: dict[str, tuple] = {}
    for v in sorted(clean["opportunities"], key=lambda r: r["updated_at"]):
        material = (v["stage"], v["amount"], v["product_id"], v["customer_id"])
        if previous.get(v["opportunity_id"]) != material:
            real[v["opportunity_id"]].append(v["updated_at"].date())
        previous[v["opportunity_id"]] = material
    for a in clean["activities"]:
        if a["opportunity_id"] and a["activity_type"] == "拜访" and (a["duration_minutes"] or 0) >= 15:
            real[a["opportunity_id"]].append(a["activity_at"].date())
    for opp_id, d in deals.items():
        if d["closed_date"] is None:
            assert max(day for day in real[opp_id] if day <= end) >= end - timedelta(days=90), opp_id


def test_clean_orders_book_won_deals_of_their_customer_once(clean):
    deals = _latest(clean["opportunities"], "opportunity_id")
    ordered = defaultdict(int)
    for order in sorted(_latest(clean["sales_orders"], "order_id").values(), key=lambda o: o["order_date"]):
        deal_row = deals[order["opportunity_id"]]
        assert deal_row["stage"] == WON and deal_row["customer_id"] == order["customer_id"], order
        assert ordered[order["opportunity_id"]] < deal_row["amount"], order
        ordered[order["opportunity_id"]] += order["order_amount"]
