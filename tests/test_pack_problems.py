"""The weekly pack's Problems section (reports/sections/problems.py).

The findings are checked on hand-made data whose sentences were worked out on paper, in both languages,
with the edge cases (nothing slipped, nothing overdue, nothing held back). The amount that 'block'
data-quality rules hold back is checked on a tiny hand-made warehouse. The rendered section is checked
against the marts of the session's small built company (tests/conftest.py): its numbers, a region
pack holding only its region, no phone number, both languages.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from reports import pack
from reports.context import Audience, PackContext, Period
from reports.sections import problems
from reports.sections.problems import ProblemsData

WEEK = Period.week(date(2026, 11, 16))
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def hand_context(lang: str, region: str | None = None, con=None) -> PackContext:
    return PackContext(con=con, period=WEEK, audience=Audience(region), lang=lang, as_of=date(2026, 11, 22))


# ---------------------------------------------------------------------------------------------- findings

# Slipped: 1,200,000 + 1,164,000 = 2,364,000 (236.4 万元, CNY 2.36M), the longest 41 days; one of them
# low-probability (120.0 万元); one more deal 2 days late (50,000: 5.00 万元, CNY 50.0k).
SLIPPED = [
    {"is_slipped": True, "amount": Decimal("1200000"), "days_late": 41, "probability_band": "low"},
    {"is_slipped": True, "amount": Decimal("1164000"), "days_late": 10, "probability_band": "high"},
    {"is_slipped": False, "amount": Decimal("50000"), "days_late": 2, "probability_band": "medium"},
]
# Overdue: 5,000,000 in all (500.0 万元): 3,000,000 controllable (60.0%), 1,500,000 uncontrollable
# (30.0%), 500,000 without a reason (10.0%); the oldest 120 days late.
OVERDUE = [
    {"open_balance": Decimal("3000000"), "days_late": 120, "controllability": "controllable"},
    {"open_balance": Decimal("1500000"), "days_late": 30, "controllability": "uncontrollable"},
    {"open_balance": Decimal("500000"), "days_late": 5, "controllability": "unknown"},
]
DRIFTING = [
    {"customer_name": "甲公司", "earlier_avg_days_to_settle": 31.0, "recent_avg_days_to_settle": 58.5}
]
# Held back this week: 2 won deals, 832,000 of a week that reported 2,600,000 of sales (32.0%: material),
# and 1 payment of 100,000 of 2,000,000 collected (5.0%); 3 records, 932,000 in all.
HELD_WEEK = {
    "won": {"kind": "won", "record_count": 2, "amount": Decimal("832000")},
    "payment": {"kind": "payment", "record_count": 1, "amount": Decimal("100000")},
}
BASIS = {"won": Decimal("2600000"), "order": Decimal("2600000"), "payment": Decimal("2000000")}
CHURN = [
    {"warning_level": "director", "abc_class": "A", "window_sales_amount": Decimal("1000000"),
     "customer_name": "乙公司", "owner_rep_name": "张三"},
    {"warning_level": "director", "abc_class": "B", "window_sales_amount": Decimal("300000"),
     "customer_name": "丙公司", "owner_rep_name": "李四"},
    {"warning_level": "manager", "abc_class": "B", "window_sales_amount": Decimal("200000"),
     "customer_name": "丁公司", "owner_rep_name": "李四"},
]  # fmt: skip
REPS = [
    {"unit_name": "王五", "lag_warning": "red", "behind_plan_rate": 0.5},
    {"unit_name": "赵六", "lag_warning": "yellow", "behind_plan_rate": 0.15},
]


def findings(lang: str, **data) -> list[str]:
    return problems.findings(ProblemsData(**data), hand_context(lang))


def test_material_held_back_records_lead_then_the_larger_amount_at_stake() -> None:
    data = dict(
        slipped=SLIPPED, overdue=OVERDUE, drifting=DRIFTING, churn=CHURN, reps_behind=REPS,
        held_back_week=HELD_WEEK, week_basis=BASIS,
        held_back_total={"record_count": 9, "amount": Decimal("1500000")},
    )  # fmt: skip
    assert findings("zh-CN", **data) == [
        "数据质量规则拦截了本周 3 条记录，涉及 93.2 万元，未计入本报告各项数字：赢单 2 笔 83.2 万元，"
        "相当于本周成交额的 32.0%；回款 1 笔 10.0 万元，相当于本周回款额的 5.0%。",
        "逾期应收 3 笔共 500.0 万元，最长逾期 120 天；按金额计，60.0% 为可控原因、30.0% 为不可控原因、"
        "10.0% 未登记原因；1 家客户回款周期明显变长。",
        "2 笔商机已过承诺签约日仍未签约，共 236.4 万元，最久延期 41 天，其中 1 笔（120.0 万元）成交概率低；"
        "另有 1 笔刚过承诺日、尚在容忍期内（5.00 万元）。",
    ]
    assert findings("en", **data) == [
        "Data-quality rules held back 3 records dated this week, worth CNY 932.0k, left out of every figure "
        "in this pack: 2 won deals worth CNY 832.0k (32.0% of the week's sales); 1 payment worth CNY 100.0k "
        "(5.0% of the week's collections).",
        "3 overdue invoices hold CNY 5.00M, the oldest 120 days late; by amount 60.0% for reasons we "
        "control, 30.0% for the customer's reasons, 10.0% with no reason recorded; 1 customer now pays "
        "markedly slower.",
        "2 deals worth CNY 2.36M are past the promised signing date, the longest by 41 days; 1 of them "
        "(CNY 1.20M) is low-probability; 1 more (CNY 50.0k) is just past the date, within the tolerance.",
    ]


def test_a_held_back_amount_below_a_tenth_of_the_week_comes_after_the_rest() -> None:
    # 100,000 of 2,600,000 won (3.8%): not material; slipped (2,364,000) outweighs nothing overdue
    held = {"won": {"kind": "won", "record_count": 1, "amount": Decimal("100000")}}
    sentences = findings("zh-CN", slipped=SLIPPED, held_back_week=held, week_basis=BASIS)
    assert sentences == [
        "2 笔商机已过承诺签约日仍未签约，共 236.4 万元，最久延期 41 天，其中 1 笔（120.0 万元）成交概率低；"
        "另有 1 笔刚过承诺日、尚在容忍期内（5.00 万元）。",
        "数据质量规则拦截了本周 1 条记录，涉及 10.0 万元，未计入本报告各项数字：赢单 1 笔 10.0 万元，"
        "相当于本周成交额的 3.8%。",
    ]


def test_a_week_that_reported_nothing_makes_any_held_back_amount_material() -> None:
    held = {"payment": {"kind": "payment", "record_count": 1, "amount": Decimal("25000.25")}}
    basis = {"won": Decimal("1000000"), "order": None, "payment": Decimal("0")}
    assert findings("en", slipped=SLIPPED, held_back_week=held, week_basis=basis)[0] == (
        "Data-quality rules held back 1 record dated this week, worth CNY 25.0k, left out of every figure "
        "in this pack: 1 payment worth CNY 25.0k (the week reported no collections)."
    )


def test_nothing_slipped_nothing_overdue_nothing_held_back() -> None:
    assert findings("zh-CN") == ["本周没有延期商机、逾期应收、流失预警或被拦截的记录。"]
    assert findings("en") == [
        "No slipped deal, overdue invoice, churn warning or held-back record this week."
    ]
    # then churn warnings and reps behind plan are what is left to say
    assert findings("zh-CN", churn=CHURN, reps_behind=REPS) == [
        "3 家客户触发流失预警（总监级 2 家、经理级 1 家），其中 A 类客户 1 家；采购额最大的是乙公司"
        "（张三负责，近 12 个月 100.0 万元）。",
        "季度至今 2 名销售代表落后时间进度（1 名红灯、1 名黄灯），落后最多的是王五（落后 50.0%）、赵六"
        "（落后 15.0%）。",
    ]
    assert findings("en", churn=CHURN, reps_behind=REPS) == [
        "3 customers carry a churn warning (2 at director level, 1 at manager level), 1 of them A-class; "
        "the largest is 乙公司 (张三, CNY 1.00M in the last 12 months).",
        "2 reps are behind the quarter's time-elapsed plan (1 red, 1 yellow); furthest behind: 王五 (50.0% "
        "behind), 赵六 (15.0% behind).",
    ]


def test_records_held_back_before_this_week_are_said_last() -> None:
    total = {"record_count": 4, "amount": Decimal("365000.25")}
    assert findings("zh-CN", drifting=DRIFTING, held_back_total=total) == [
        "1 家客户回款周期明显变长，最多的是甲公司（由 31 天变为 58 天）。",
        "数据质量规则目前共拦截 4 条记录，涉及 36.5 万元，均不属于本周，但不计入任何指标。",
    ]
    assert findings("en", held_back_total=total) == [
        "Data-quality rules hold back 4 records worth CNY 365.0k in all, none of them from this week; they "
        "are left out of every figure."
    ]


def test_only_deals_just_past_their_date_and_lost_deals_of_the_month() -> None:
    lost = dict(
        lost_window="month",
        lost_week_count=2,
        lost_by_reason=[
            {"loss_reason": "价格", "deal_count": 3, "amount": Decimal("300000")},
            {"loss_reason": "预算不足", "deal_count": 1, "amount": Decimal("100000")},
        ],
        lost_by_competitor=[{"competitor": "金蝶", "deal_count": 2, "amount": Decimal("250000")}],
    )
    assert findings("zh-CN", slipped=SLIPPED[2:], **lost) == [
        "1 笔商机刚过承诺签约日、尚在容忍期内（5.00 万元）。",
        "本周仅丢单 2 笔；本月至今丢单 4 笔共 40.0 万元，金额最多的原因是“价格”（3 笔，30.0 万元）；"
        "输给金蝶最多（2 笔）。",
    ]
    assert findings("en", slipped=SLIPPED[2:], **lost) == [
        "1 deal (CNY 50.0k) is just past the promised signing date, within the tolerance.",
        "2 deals were lost this week; month to date 4 deals worth CNY 400.0k were lost, the largest amount "
        "for 'price' (3 deals, CNY 300.0k); we lost most often to 金蝶 (2 deals).",
    ]


# ---------------------------------------------------------------------------------------------- held back

HAND_WAREHOUSE = """
create schema quality; create schema marts; create schema staging; create schema seeds;
create table marts.dim_reps (rep_id varchar, region varchar);
insert into marts.dim_reps values ('R1', '华东'), ('R2', '华北');
create table seeds.funnel_stages (stage_key varchar, is_closed boolean, is_won boolean);
insert into seeds.funnel_stages values ('lead', false, false), ('won', true, true), ('lost', true, false);
create table quality.quarantine (
    rule_id varchar, severity varchar, entity varchar, record_id varchar, rep_id varchar,
    first_seen_date date);
insert into quality.quarantine values
    ('won_without_order', 'block', 'opportunities', 'O1', 'R1', '2026-11-21'),
    ('orphan_opportunity_reference', 'block', 'opportunities', 'O1', 'R1', '2026-11-21'),
    ('won_without_order', 'block', 'opportunities', 'O2', 'R2', '2026-10-14'),
    ('orphan_opportunity_reference', 'block', 'opportunities', 'O3', 'R9', '2026-11-20'),
    ('anomalous_amount', 'warn', 'opportunities', 'O4', 'R1', '2026-11-18'),
    ('order_without_opportunity', 'block', 'sales_orders', 'SO1', 'R2', '2026-11-17'),
    ('order_without_opportunity', 'block', 'sales_orders', 'SO2', 'R1', '2026-11-19'),
    ('overpayment', 'block', 'payments', 'P1', 'R1', '2026-11-16'),
    ('orphan_payment_invoice', 'block', 'payments', 'P2', 'R2', '2026-11-17'),
    ('orphan_payment_invoice', 'block', 'payments', 'P9', 'R1', '2026-11-18');
create table staging.stg_crm__opportunities (
    opportunity_id varchar, stage_key varchar, amount decimal(18, 2), closed_date date,
    created_at timestamp);
insert into staging.stg_crm__opportunities values
    ('O1', 'won', 300000.00, '2026-11-18', '2026-10-01 09:00:00'),
    ('O2', 'won', 120000.50, '2026-10-10', '2026-09-01 09:00:00'),
    ('O3', 'lead', 50000.00, null, '2026-11-20 10:30:00'),
    ('O4', 'won', 999999.00, '2026-11-18', '2026-11-01 09:00:00'),
    ('O5', 'won', 77777.00, '2026-11-18', '2026-11-01 09:00:00');
create table staging.stg_erp__sales_orders (
    order_id varchar, order_amount decimal(18, 2), status varchar, order_date date);
insert into staging.stg_erp__sales_orders values
    ('SO1', 80000.00, 'fulfilled', '2026-11-17'), ('SO2', 40000.00, 'cancelled', '2026-11-19');
create table staging.stg_erp__payments (payment_id varchar, payment_amount decimal(18, 2), payment_date date);
insert into staging.stg_erp__payments values ('P1', 25000.25, '2026-11-16'), ('P2', 10000.00, '2026-11-10');
"""
# O1 (won 2026-11-18, 300,000) is blocked by two rules: it counts once in the totals. O3 (an open lead
# created this week) has a rep no region knows: company pack only. O4 is only warned about: not held back.
# SO2 is a cancelled order ('other'). P2 was paid before the week but first seen in it. P9 is not in the
# staging payments: no amount, dated by its first sighting (this week).


def held_back(tmp_path: Path, region: str | None):
    con = duckdb.connect(str(tmp_path / "hand.duckdb"))
    con.execute(HAND_WAREHOUSE)
    return problems.load_held_back(hand_context("zh-CN", region, con))


def _rule(rule_id, records, amount, week, week_amount, new, entity) -> dict:
    return {
        "rule_id": rule_id, "entity": entity, "record_count": records, "amount": Decimal(amount),
        "week_count": week, "week_amount": Decimal(week_amount), "new_count": new,
    }  # fmt: skip


def test_the_amount_each_blocking_rule_holds_back(tmp_path) -> None:
    per_rule, week, total = held_back(tmp_path, None)
    assert per_rule == [  # largest amount of the week first
        _rule("orphan_opportunity_reference", 2, "350000.00", 2, "350000.00", 2, "opportunities"),
        _rule("won_without_order", 2, "420000.50", 1, "300000.00", 1, "opportunities"),
        _rule("order_without_opportunity", 2, "120000.00", 2, "120000.00", 2, "sales_orders"),
        _rule("overpayment", 1, "25000.25", 1, "25000.25", 1, "payments"),
        _rule("orphan_payment_invoice", 2, "10000.00", 1, "0", 2, "payments"),
    ]
    assert week == {
        "won": {"kind": "won", "record_count": 1, "amount": Decimal("300000.00")},
        "deal": {"kind": "deal", "record_count": 1, "amount": Decimal("50000.00")},
        "order": {"kind": "order", "record_count": 1, "amount": Decimal("80000.00")},
        "other": {"kind": "other", "record_count": 2, "amount": Decimal("40000.00")},
        "payment": {"kind": "payment", "record_count": 1, "amount": Decimal("25000.25")},
    }
    # O1, O2, O3, SO1, SO2, P1, P2, P9: 300,000 + 120,000.50 + 50,000 + 80,000 + 40,000 + 25,000.25 + 10,000
    assert total == {"record_count": 8, "amount": Decimal("625000.75")}
    # the sentence: 6 records of the week, 495,000.25; won 300,000 of 1,000,000 reported (30.0%), the
    # order 80,000 of 800,000 (10.0%: material too), the payment 25,000.25 of 500,000 (5.0%)
    data = ProblemsData(
        held_back_week=week,
        held_back_total=total,
        week_basis={"won": Decimal(1000000), "order": Decimal(800000), "payment": Decimal(500000)},
    )
    assert problems.findings(data, hand_context("zh-CN")) == [
        "数据质量规则拦截了本周 6 条记录，涉及 49.5 万元，未计入本报告各项数字：赢单 1 笔 30.0 万元，"
        "相当于本周成交额的 30.0%；订单 1 笔 8.00 万元，相当于本周订单额的 10.0%；回款 1 笔 2.50 万元，"
        "相当于本周回款额的 5.0%；其他商机 1 笔 5.00 万元；其他记录 2 条 4.00 万元。"
    ]


def test_a_region_pack_holds_back_only_its_reps_records(tmp_path) -> None:
    per_rule, week, total = held_back(tmp_path, "华东")
    assert per_rule == [  # equal amounts of the week: by rule id
        _rule("orphan_opportunity_reference", 1, "300000.00", 1, "300000.00", 1, "opportunities"),
        _rule("won_without_order", 1, "300000.00", 1, "300000.00", 1, "opportunities"),
        _rule("order_without_opportunity", 1, "40000.00", 1, "40000.00", 1, "sales_orders"),
        _rule("overpayment", 1, "25000.25", 1, "25000.25", 1, "payments"),
        _rule("orphan_payment_invoice", 1, "0", 1, "0", 1, "payments"),
    ]
    assert {k: (v["record_count"], v["amount"]) for k, v in week.items()} == {
        "won": (1, Decimal("300000.00")),
        "other": (2, Decimal("40000.00")),
        "payment": (1, Decimal("25000.25")),
    }
    assert total == {"record_count": 4, "amount": Decimal("365000.25")}


# ------------------------------------------------------------------------------------------ the built company


class _Page(HTMLParser):
    """KPI values, table rows (data-row and each cell's text and data-value), finding sentences and every
    text cell of the rendered section."""

    def __init__(self) -> None:
        super().__init__()
        self.kpis: dict[str, str] = {}
        self.tables: dict[str, list[dict]] = {}
        self.findings: list[str] = []
        self.cells: set[str] = set()
        self._table: str | None = None
        self._row: dict | None = None
        self._cell: list | None = None
        self._finding = False
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if "data-kpi" in a:
            self.kpis[a["data-kpi"]] = a["data-value"]
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table] = []
        elif tag == "tr" and self._table and "data-row" in a:
            self._row = {"key": a["data-row"], "cells": []}
            self.tables[self._table].append(self._row)
        elif tag == "td" and self._row is not None:
            self._cell = [a.get("data-value"), ""]
        elif tag == "div" and a.get("class") == "srw-finding":
            self._finding = True
        elif tag == "p" and self._finding:
            self._text = []

    def handle_endtag(self, tag) -> None:
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row["cells"].append(tuple(self._cell))
            self.cells.add(self._cell[1])
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "p" and self._finding:
            self.findings.append("".join(self._text))
        elif tag == "div" and self._finding:
            self._finding = False

    def handle_data(self, data) -> None:
        if self._cell is not None:
            self._cell[1] += data
        if self._finding:
            self._text.append(data)


def render(root: Path, tmp_path: Path, capsys, region: str, lang: str) -> tuple[str, _Page, PackContext]:
    tables = tmp_path / f"t-{region or 'company'}-{lang}"
    ctx = pack.open_context(str(root / "warehouse.duckdb"), "week", "", region, lang, str(tables))
    capsys.readouterr()
    problems.render(ctx)
    out = capsys.readouterr().out
    page = _Page()
    page.feed(out)
    return out, page, ctx


def mart(root: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def region_filter(region: str | None, column: str = "region") -> tuple[str, list]:
    return ("true", []) if region is None else (f"{column} = ?", [region])


def expected_figures(root: Path, ctx: PackContext) -> dict[str, Decimal]:
    """The section's key numbers straight from the marts (and the quarantine), for the pack's audience."""
    region = ctx.audience.region
    where, params = region_filter(region)
    unit = ("level = 'company'", []) if region is None else ("level = 'region' and unit_id = ?", [region])
    week = [ctx.period.start, ctx.period.end]
    slipped = mart(
        root, f"select sum(amount) from marts.fct_slipped_deals where is_slipped and {where}", params
    )
    overdue = mart(root, f"select sum(open_balance) from marts.fct_ar_overdue_invoices where {where}", params)
    churn = mart(
        root,
        f"select count(*) from marts.dim_customers where warning_level in ('director', 'manager', 'rep') "
        f"and {where}",
        params,
    )
    reps = mart(
        root,
        "select count(*) from marts.fct_attainment_periods where level = 'rep' and period_type = 'quarter' "
        "and period_start_date <= ? and period_end_date >= ? and lag_warning in ('yellow', 'red') "
        f"and {where}",
        [ctx.period.end, ctx.period.end, *params],
    )
    rep_where, rep_params = region_filter(region, "reps.region")
    held = mart(
        root,
        "with blocked as (select distinct q.entity, q.record_id from quality.quarantine q "
        "left join marts.dim_reps reps on q.rep_id = reps.rep_id "
        f"where q.severity = 'block' and {rep_where}) "
        "select coalesce(sum(o.amount), 0) + coalesce(sum(s.order_amount), 0) "
        "+ coalesce(sum(p.payment_amount), 0) "
        "from blocked b "
        "left join staging.stg_crm__opportunities o on b.entity = 'opportunities' "
        "and o.opportunity_id = b.record_id "
        "and coalesce(o.closed_date, cast(o.created_at as date)) between ? and ? "
        "left join staging.stg_erp__sales_orders s on b.entity = 'sales_orders' and s.order_id = b.record_id "
        "and s.order_date between ? and ? "
        "left join staging.stg_erp__payments p on b.entity = 'payments' and p.payment_id = b.record_id "
        "and p.payment_date between ? and ?",
        [*rep_params, *week, *week, *week],
    )
    aging = mart(
        root,
        f"select bucket_key, open_balance from marts.fct_ar_aging where is_as_of_date and {unit[0]}",
        unit[1],
    )
    return {
        "slipped_amount": slipped[0][0] or Decimal(0),
        "overdue_amount": overdue[0][0] or Decimal(0),
        "churn_warnings": Decimal(churn[0][0]),
        "reps_behind": Decimal(reps[0][0]),
        "held_back_week_amount": held[0][0],
        "aging": {key: balance for key, balance in aging},
    }


def assert_matches_the_marts(root: Path, page: _Page, ctx: PackContext) -> None:
    expected = expected_figures(root, ctx)
    for key in ("slipped_amount", "overdue_amount", "churn_warnings", "reps_behind", "held_back_week_amount"):
        assert Decimal(page.kpis[key]) == expected[key], key
    aging = {row["key"]: Decimal(row["cells"][1][0]) for row in page.tables.get("problems_aging", [])}
    assert aging == expected["aging"]


@pytest.fixture
def warehouse(built_company) -> Path:
    """The folder holding warehouse.duckdb: the session's small built company (two regions)."""
    root, _, _ = built_company
    return root


@pytest.mark.e2e
def test_the_company_pack_shows_the_marts_numbers(warehouse, tmp_path, capsys) -> None:
    root = warehouse
    out, page, ctx = render(root, tmp_path, capsys, "", "zh-CN")
    assert "## 问题 {#problems}" in out and 1 <= len(page.findings) <= 3
    assert_matches_the_marts(root, page, ctx)
    # the overdue invoices: the largest open balances first, each with its exact balance
    top = mart(
        root,
        "select invoice_id, open_balance from marts.fct_ar_overdue_invoices "
        "order by open_balance desc, days_late desc, invoice_id limit ?",
        [problems.TOP_ROWS],
    )
    shown = page.tables.get("problems_overdue_invoices", [])
    assert [(r["key"], Decimal(r["cells"][5][0])) for r in shown] == top
    # every blocking rule's records, counted as the quarantine holds them
    blocked = mart(
        root, "select rule_id, count(*) from quality.quarantine where severity = 'block' group by rule_id"
    )
    held = {r["key"]: int(r["cells"][1][0]) for r in page.tables.get("problems_held_back", [])}
    assert held == dict(blocked)
    # lost deals of the week agree with the win-rate mart (month to date is checked by its own dates)
    data = problems.load(ctx)
    lost = sum(int(r["cells"][1][0]) for r in page.tables.get("problems_lost_reasons", []))
    if data.lost_window == "week":
        win_rate = mart(
            root,
            "select lost_count from marts.fct_win_rate where period_grain = 'week' and dimension = 'company' "
            "and period_start_date = ?",
            [ctx.period.start],
        )
        assert lost == (win_rate[0][0] if win_rate else 0)
    else:
        assert data.lost_start == ctx.period.start.replace(day=1)
        counted = mart(
            root,
            "select count(*) from clean.clean_crm__opportunities where stage_key = 'lost' "
            "and closed_date between ? and ?",
            [data.lost_start, ctx.period.end],
        )
        assert lost == counted[0][0]


@pytest.mark.e2e
def test_both_languages_show_the_same_numbers(warehouse, tmp_path, capsys) -> None:
    root = warehouse
    _, zh, _ = render(root, tmp_path, capsys, "", "zh-CN")
    out, en, ctx = render(root, tmp_path, capsys, "", "en")
    assert "## Problems {#problems}" in out and "### Slipped and at-risk deals" in out
    assert en.kpis == zh.kpis
    assert_matches_the_marts(root, en, ctx)
    assert en.findings and not any("万元" in s or "笔" in s for s in en.findings)
    assert zh.findings != en.findings


@pytest.mark.e2e
def test_a_region_pack_shows_only_its_region(warehouse, tmp_path, capsys) -> None:
    root = warehouse
    regions = [
        r for (r,) in mart(root, "select distinct region from marts.dim_reps where region is not null")
    ]
    assert regions  # the small company has one region; the scale-1 sample has five
    for region in regions:
        out, page, ctx = render(root, tmp_path, capsys, region, "zh-CN")
        assert_matches_the_marts(root, page, ctx)
        others = set(
            name
            for (name,) in mart(
                root, "select customer_name from marts.dim_customers where region <> ?", [region]
            )
            + mart(root, "select rep_name from marts.dim_reps where region <> ?", [region])
        )
        assert not page.cells & others, region
        customers = mart(root, "select customer_name from marts.dim_customers where region <> ?", [region])
        assert not any(name in sentence for (name,) in customers for sentence in page.findings), region
        own_invoices = {
            i
            for (i,) in mart(
                root, "select invoice_id from marts.fct_ar_overdue_invoices where region = ?", [region]
            )
        }
        shown = {r["key"] for r in page.tables.get("problems_overdue_invoices", [])}
        assert shown <= own_invoices
        other_invoices = {
            i
            for (i,) in mart(
                root,
                "select distinct invoice_id from marts.fct_ar_invoice_snapshots where region <> ?",
                [region],
            )
        }
        assert not set(re.findall(r"INV\d+", out)) & other_invoices, region


@pytest.mark.e2e
def test_no_phone_number_on_the_page_or_in_the_downloads(warehouse, tmp_path, capsys) -> None:
    root = warehouse
    for region, lang in (("", "zh-CN"), ("", "en")):
        out, _, _ = render(root, tmp_path, capsys, region, lang)
        assert not MOBILE.search(out)
        assert "mobile" not in out and "手机" not in out
    downloads = list(tmp_path.rglob("*.csv"))
    assert downloads
    for path in downloads:
        assert not MOBILE.search(path.read_text(encoding="utf-8-sig")), path


def test_unapplied_cash_is_said_next_to_the_aging_not_put_in_a_bucket() -> None:
    aging = {"total_unapplied_cash": Decimal("123456.00"), "total_net_open_balance": Decimal("1000000.00")}
    zh = problems._unapplied_note(aging, "zh-CN")
    assert (
        "另有未核销回款 12.3 万元（预收款，或找不到对应发票的回款），不计入账龄；应收净额 100.0 万元。" in zh
    )
    assert 'data-unapplied-cash="123456.00"' in zh
    en = problems._unapplied_note(aging, "en")
    assert "Besides, CNY 123.5k of unapplied cash" in en and "net receivables CNY 1.00M." in en
    assert problems._unapplied_note({**aging, "total_unapplied_cash": Decimal(0)}, "en") == ""
