"""The plan section (计划) of the weekly pack: next week's target down to the reps (倒推法), the key deals,
the collections due and the selling effort by ABC class, and its findings.

The mart rows below are written out by hand (004 §2.5.1: next week 100万 = 30 + 25 + 20 + 25, in two
regions); the expected figures and sentences were worked out from them on paper, not by the code under
test. The warehouse is as of Sunday 2026-11-22: the latest complete week is 2026-W47, the plan is for
2026-W48 (23-29 Nov).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from reports import pack
from reports.context import Audience, PackContext, Period
from reports.sections import plan

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")  # a mobile number, not digits of a longer figure
EAST, SOUTH = "华东", "华南"

DDL = """
create schema marts;
create table marts.warehouse_as_of as
    select date '2026-11-22' as as_of_date, date '2026-11-16' as latest_complete_week_start_date;
create table marts.fct_plan_targets (
    plan_target_id varchar, plan_horizon varchar, period_start_date date, period_end_date date,
    period_label varchar, level varchar, unit_id varchar, unit_name varchar, region varchar,
    team_id varchar, team_name varchar, plan_amount decimal(18, 2), plan_share double,
    weighted_pipeline_amount decimal(18, 2), open_deal_count integer, pipeline_coverage_rate double
);
create table marts.fct_plan_key_deals (
    plan_horizon varchar, period_start_date date, period_label varchar, deal_rank integer,
    opportunity_name varchar, owner_rep_name varchar, team_name varchar, region varchar,
    stage_name varchar, amount decimal(18, 2), probability integer, weighted_amount decimal(18, 2),
    expected_close_date date, next_step varchar
);
create table marts.fct_collections_due_next_period (
    period_type varchar, period_start_date date, period_label varchar, invoice_id varchar,
    customer_name varchar, rep_name varchar, region varchar, due_date date, open_balance decimal(18, 2),
    due_category varchar, days_overdue_at_plan_start bigint, risk_reason varchar
);
create table marts.fct_resource_allocation (
    plan_week_start_date date, rep_id varchar, rep_name varchar, team_name varchar, region varchar,
    segment varchar, configured_share double, effective_share double, capacity_visits_per_week double,
    planned_visits double, customer_count integer, window_sales_amount decimal(18, 2),
    customer_names varchar[]
);
"""

W48 = ("2026-11-23", "2026-11-29", "2026-W48")
# (level, unit_id, unit_name, region, team, plan, share, weighted pipeline, open deals, coverage)
# 张伟 300,000.01 + 李娜 249,999.99 = 华东 550,000.00; 王芳 200,000 + 赵强 250,000 = 华南 450,000;
# company 1,000,000. Coverage = pipeline / plan: company 1,800,000 / 1,000,000 = 1.8.
TARGET_ROWS = [
    ("rep", "R001", "张伟", EAST, "华东一组", "300000.01", 0.30000001, "600000.00", 2, 600000 / 300000.01),
    ("rep", "R002", "李娜", EAST, "华东一组", "249999.99", 0.24999999, "400000.00", 1, 400000 / 249999.99),
    ("rep", "R003", "王芳", SOUTH, "华南一组", "200000.00", 0.2, "300000.00", 1, 1.5),
    ("rep", "R004", "赵强", SOUTH, "华南一组", "250000.00", 0.25, "500000.00", 2, 2.0),
    ("region", EAST, EAST, EAST, None, "550000.00", 0.55, "1000000.00", 3, 1000000 / 550000),
    ("region", SOUTH, SOUTH, SOUTH, None, "450000.00", 0.45, "800000.00", 3, 800000 / 450000),
    ("company", "company", "全公司", None, None, "1000000.00", 1.0, "1800000.00", 6, 1.8),
]  # fmt: skip
# (rank, deal, owner, region, stage, amount, probability, weighted, close date, next step)
DEAL_ROWS = [
    (1, "甲公司-ERP项目", "张伟", EAST, "商务谈判", "1000000.00", 80, "800000.00", "2026-11-25",
     "合同条款确认"),
    (2, "乙公司-MES项目", "王芳", SOUTH, "方案演示", "600000.00", 50, "300000.00", "2026-11-27",
     "安排产品演示"),
    (3, "丙公司-BI项目", "李娜", EAST, "商务谈判", "200000.00", 75, "150000.00", "2026-11-24", None),
]  # fmt: skip
# (invoice, customer, rep, region, due, open balance, category, days overdue at 23 Nov, reason)
COLLECTION_ROWS = [
    ("INV001", "甲客户有限公司", "张伟", EAST, "2026-11-10", "120000.00", "overdue", 13, "客户资金紧张"),
    ("INV002", "乙客户有限公司", "王芳", SOUTH, "2026-11-25", "80000.00", "due_in_period", -2, None),
    ("INV003", "丙客户有限公司", "李娜", EAST, "2026-11-27", "50000.50", "due_in_period", -4, None),
]  # fmt: skip
# (rep, name, region, segment, configured, effective, capacity, planned visits, customers, sales, names)
ALLOCATION_ROWS = [
    # 张伟 (the dbt unit test's R1): no C customers, shares renormalised over A, B and potential
    ("R001", "张伟", EAST, "A", 0.4, 0.5, 4.0, 2.0, 2, "80000.00", ["甲客户有限公司", "丁客户有限公司"]),
    ("R001", "张伟", EAST, "B", 0.3, 0.375, 4.0, 1.5, 1, "8000.00", ["戊客户有限公司"]),
    ("R001", "张伟", EAST, "C", 0.2, 0.0, 4.0, 0.0, 0, "0.00", []),
    ("R001", "张伟", EAST, "potential", 0.1, 0.125, 4.0, 0.5, 1, "0.00", ["己客户有限公司"]),
    ("R003", "王芳", SOUTH, "A", 0.4, 0.4, 5.0, 2.0, 3, "90000.00",
     ["乙客户有限公司", "庚客户有限公司", "辛客户有限公司"]),
    ("R003", "王芳", SOUTH, "B", 0.3, 0.3, 5.0, 1.5, 1, "7000.00", ["壬客户有限公司"]),
    ("R003", "王芳", SOUTH, "C", 0.2, 0.2, 5.0, 1.0, 1, "3000.00", ["癸客户有限公司"]),
    ("R003", "王芳", SOUTH, "potential", 0.1, 0.1, 5.0, 0.5, 2, "0.00", ["子客户有限公司", "丑客户有限公司"]),
]  # fmt: skip


def build_warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    try:
        con.execute(DDL)
        start, end, label = W48
        for level, unit_id, name, region, team, *figures in TARGET_ROWS:
            con.execute(
                "insert into marts.fct_plan_targets values (?, 'next_week', ?, ?, ?, ?, ?, ?, ?, null, ?, "
                "?, ?, ?, ?, ?)",
                [f"next_week:{level}:{unit_id}", start, end, label, level, unit_id, name, region, team]
                + figures,
            )
        # next quarter's plan is not next week's: never shown
        con.execute(
            "insert into marts.fct_plan_targets values ('next_quarter:company:company', 'next_quarter', "
            "'2027-01-01', '2027-03-31', '2027-Q1', 'company', 'company', '全公司', null, null, null, "
            "9999999.00, 1.0, 0, 0, 0)"
        )
        for row in DEAL_ROWS:
            con.execute(
                "insert into marts.fct_plan_key_deals "
                "values ('next_week', ?, ?, ?, ?, ?, null, ?, ?, ?, ?, ?, ?, ?)",
                [start, label, *row],
            )
        for row in COLLECTION_ROWS:
            con.execute(
                "insert into marts.fct_collections_due_next_period "
                "values ('week', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [start, label, *row],
            )
        for rep_id, name, region, *rest in ALLOCATION_ROWS:
            con.execute(
                "insert into marts.fct_resource_allocation values (?, ?, ?, '组', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [start, rep_id, name, region, *rest],
            )
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("plan") / "warehouse.duckdb")


def render(
    warehouse: Path, region: str, lang: str, tables: Path, capsys, period_start: str = ""
) -> tuple[str, plan.PlanData]:
    ctx = pack.open_context(str(warehouse), "week", period_start, region, lang, str(tables))
    try:
        data = plan.render(ctx)
    finally:
        ctx.con.close()
    return capsys.readouterr().out, data


# ---------------------------------------------------------------------------------------------- HTML probes


def table_html(page: str, table_id: str) -> str:
    found = re.search(rf'<table class="srw-table" id="{table_id}">.*?</table>', page, re.DOTALL)
    assert found, f"no table {table_id}"
    return found.group(0)


def rows(table: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-row="([^"]*)">(.*?)</tr>', table, re.DOTALL))


def values(fragment: str) -> list[str]:
    return re.findall(r'data-value="([^"]*)"', fragment)


def kpis(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-kpi="([^"]+)" data-value="([^"]*)"', page))


def findings_of(page: str) -> list[str]:
    block = re.search(r'<div class="srw-finding" role="note">(.*?)</div>', page, re.DOTALL)
    assert block, "no findings"
    return re.findall(r"<p>(.*?)</p>", block.group(1))


def plan_amounts(page: str) -> tuple[dict[str, Decimal], Decimal]:
    """(rep -> plan amount, the total row's) from the reps table: the first figure of each row."""
    found = {key: Decimal(values(row)[0]) for key, row in rows(table_html(page, "plan_reps")).items()}
    return {k: v for k, v in found.items() if k != "total"}, found["total"]


# ---------------------------------------------------------------------------------------------- company pack


def test_target_by_rep_adds_up_to_the_total(warehouse: Path, tmp_path: Path, capsys) -> None:
    page, _ = render(warehouse, "", "zh-CN", tmp_path / "t", capsys)
    assert page.startswith("## 计划 {#plan}")
    reps, total = plan_amounts(page)
    # largest first; the cents of 张伟 and 李娜 add up exactly
    assert list(reps) == ["R001", "R004", "R002", "R003"]
    assert reps == {
        "R001": Decimal("300000.01"),
        "R004": Decimal("250000.00"),
        "R002": Decimal("249999.99"),
        "R003": Decimal("200000.00"),
    }
    assert total == sum(reps.values()) == Decimal("1000000.00")
    cards = kpis(page)
    assert Decimal(cards["plan_target"]) == total and cards["plan_coverage"] == "1.8"
    assert Decimal(cards["plan_pipeline"]) == Decimal("1800000.00")
    assert cards["plan_deals"] == "3" and cards["plan_invoices"] == "3"
    assert Decimal(cards["plan_collections"]) == Decimal("250000.50")  # 120,000 + 80,000 + 50,000.50
    table = table_html(page, "plan_reps")
    assert "2026-W48" in page and "2027-Q1" not in page and 'data-value="9999999.00"' not in page
    assert "30.0%" in rows(table)["R001"] and "万元" in table  # share of the company's plan, one unit


def test_key_deals_collections_and_allocation(warehouse: Path, tmp_path: Path, capsys) -> None:
    page, _ = render(warehouse, "", "zh-CN", tmp_path / "t", capsys)
    deals = rows(table_html(page, "plan_key_deals"))
    assert list(deals) == ["1", "2", "3"]
    # #, amount, probability, weighted
    assert values(deals["1"]) == ["1", "1000000.00", "80", "800000.00"]
    assert "甲公司-ERP项目" in deals["1"] and "张伟" in deals["1"] and "合同条款确认" in deals["1"]
    assert "2026-11-25" in deals["1"]
    collections = rows(table_html(page, "plan_collections"))
    assert list(collections) == ["INV001", "INV002", "INV003"]  # overdue first, then the largest
    # days overdue, open balance
    assert values(collections["INV001"]) == ["13", "120000.00"] and "已逾期" in collections["INV001"]
    assert values(collections["INV003"]) == ["", "50000.50"] and "本期到期" in collections["INV003"]
    assert "客户资金紧张" in collections["INV001"] and "甲客户有限公司" in collections["INV001"]
    segments = rows(table_html(page, "plan_allocation_segments"))
    assert list(segments) == ["A", "B", "C", "potential"]
    # configured share, planned visits (张伟 + 王芳), customers, sales of the last 12 months
    assert values(segments["A"]) == ["0.4", "4.0", "5", "170000.00"]
    assert values(segments["potential"]) == ["0.1", "1.0", "3", "0.00"]
    reps = rows(table_html(page, "plan_allocation_reps"))
    # capacity, A, B, C, potential visits
    assert values(reps["R001"]) == ["4.0", "2.0", "1.5", "0.0", "0.5"]
    assert "甲客户有限公司、丁客户有限公司<" in reps["R001"]  # both names: no more
    assert "乙客户有限公司、庚客户有限公司 等 3 家" in reps["R003"] and "辛客户有限公司" not in page


def test_company_findings_in_both_languages(warehouse: Path, tmp_path: Path, capsys) -> None:
    page, _ = render(warehouse, "", "zh-CN", tmp_path / "zh", capsys)
    assert findings_of(page) == [
        "下周（2026-W48）目标 100.0 万元，已分解到 4 名销售代表；加权管道覆盖 1.8 倍。",
        "下周预计签约商机 3 笔，合计 180.0 万元（加权 125.0 万元），"
        "首位是甲公司-ERP项目（张伟，100.0 万元，下一步：合同条款确认）。",
        "下周应收回款 3 笔共 25.0 万元，其中已逾期 1 笔 12.0 万元。",
    ]
    page, _ = render(warehouse, "", "en", tmp_path / "en", capsys)
    assert findings_of(page) == [
        "Next week (2026-W48) the target is CNY 1.00M, split across 4 reps; the weighted pipeline covers "
        "it 1.8 times.",
        "3 deals are expected to close next week, CNY 1.80M in total (CNY 1.25M weighted), led by "
        "甲公司-ERP项目 (张伟, CNY 1.00M, next step: 合同条款确认).",
        "3 invoices (CNY 250.0k) are due for collection next week, of which 1 (CNY 120.0k) is already "
        "overdue.",
    ]


def test_an_older_pack_says_which_week_the_plan_is_for(warehouse: Path, tmp_path: Path, capsys) -> None:
    """The pack of 2026-W46: the week after it is W47, but the warehouse's plan is for W48."""
    page, _ = render(warehouse, "", "zh-CN", tmp_path / "zh", capsys, period_start="2026-11-09")
    assert findings_of(page) == [
        "计划周为 2026-W48（按 11月22日 的数据生成，不是本期之后的 2026-W47）：目标 100.0 万元，"
        "已分解到 4 名销售代表；加权管道覆盖 1.8 倍。",
        "2026-W48 预计签约商机 3 笔，合计 180.0 万元（加权 125.0 万元），"
        "首位是甲公司-ERP项目（张伟，100.0 万元，下一步：合同条款确认）。",
        "2026-W48 应收回款 3 笔共 25.0 万元，其中已逾期 1 笔 12.0 万元。",
    ]
    page, _ = render(warehouse, "", "en", tmp_path / "en", capsys, period_start="2026-11-09")
    assert findings_of(page)[0] == (
        "The plan is for 2026-W48 (made on the data of 22 Nov 2026, not the week after this pack, "
        "2026-W47): the target is CNY 1.00M, split across 4 reps; the weighted pipeline covers it 1.8 times."
    )
    assert findings_of(page)[2] == (
        "3 invoices (CNY 250.0k) are due for collection in 2026-W48, of which 1 (CNY 120.0k) is already "
        "overdue."
    )


# ---------------------------------------------------------------------------------------------- region packs


def test_east_pack_shows_only_east(warehouse: Path, tmp_path: Path, capsys) -> None:
    page, _ = render(warehouse, EAST, "zh-CN", tmp_path / "t", capsys)
    reps, total = plan_amounts(page)
    assert reps == {"R001": Decimal("300000.01"), "R002": Decimal("249999.99")}
    assert total == sum(reps.values()) == Decimal("550000.00") == Decimal(kpis(page)["plan_target"])
    assert "占全公司" not in page  # a share of the company's plan would not add up in a region
    for other in ("王芳", "赵强", "乙公司", "乙客户", "庚客户", "华南"):
        assert other not in page
    assert findings_of(page) == [
        "下周（2026-W48）目标 55.0 万元，已分解到 2 名销售代表；加权管道覆盖 1.8 倍。",
        "下周预计签约商机 2 笔，合计 120.0 万元（加权 95.0 万元），"
        "首位是甲公司-ERP项目（张伟，100.0 万元，下一步：合同条款确认）。",
        "下周应收回款 2 笔共 17.0 万元，其中已逾期 1 笔 12.0 万元。",
    ]


def test_south_pack_shows_only_south(warehouse: Path, tmp_path: Path, capsys) -> None:
    page, _ = render(warehouse, SOUTH, "en", tmp_path / "t", capsys)
    reps, total = plan_amounts(page)
    assert reps == {"R004": Decimal("250000.00"), "R003": Decimal("200000.00")}
    assert total == Decimal("450000.00")
    for other in ("张伟", "李娜", "甲公司", "甲客户", "丁客户", "华东"):
        assert other not in page
    assert findings_of(page) == [
        "Next week (2026-W48) the target is CNY 450.0k, split across 2 reps; the weighted pipeline covers "
        "it 1.8 times.",
        "1 deal is expected to close next week, CNY 600.0k (CNY 300.0k weighted): "
        "乙公司-MES项目 (王芳, CNY 600.0k, next step: 安排产品演示).",
        "1 invoice (CNY 80.0k) is due for collection next week.",
    ]


# ---------------------------------------------------------------------------------------------- edge cases


def context(lang: str) -> PackContext:
    return PackContext(
        con=None,  # type: ignore[arg-type]  # findings read no warehouse
        period=Period.week(date(2026, 11, 16)),
        audience=Audience(None),
        lang=lang,
        as_of=date(2026, 11, 22),
    )


TOTAL = {
    "period_start_date": date(2026, 11, 23),
    "period_label": "2026-W48",
    "plan_amount": Decimal("3990000.00"),
    "pipeline_coverage_rate": None,  # a plan of 0 has no coverage
}


def deal(rank: int) -> dict:
    return {
        "period_start_date": date(2026, 11, 23),
        "period_label": "2026-W48",
        "deal_rank": rank,
        "opportunity_name": f"商机{rank}",
        "owner_rep_name": "张伟",
        "amount": Decimal("100000.00"),
        "weighted_amount": Decimal("50000.00"),
        "next_step": None,
    }


def test_findings_without_key_deals_or_collections() -> None:
    data = plan.PlanData(total=TOTAL, reps=[{"unit_id": "R001"}])
    assert plan.findings(data, context("zh-CN")) == [
        "下周（2026-W48）目标 399.0 万元，已分解到 1 名销售代表。",
        "下周没有预计签约的商机。",
        "下周没有应收回款。",
    ]
    assert plan.findings(data, context("en")) == [
        "Next week (2026-W48) the target is CNY 3.99M, split across 1 rep.",
        "No deal is expected to close next week.",
        "No collection is due next week.",
    ]


def test_findings_without_any_plan() -> None:
    data = plan.PlanData(total=None)
    assert plan.findings(data, context("zh-CN")) == ["仓库中尚无下周的目标分解。"]
    assert plan.findings(data, context("en")) == ["The warehouse holds no plan for next week yet."]


def test_findings_name_the_ten_key_deals_of_more() -> None:
    """12 deals are promised: the ten largest are the key deals (10 x 10 万元, 10 x 5 万元 weighted)."""
    data = plan.PlanData(total=TOTAL, reps=[], deals=[deal(r) for r in range(1, 13)])
    assert plan.findings(data, context("zh-CN"))[1] == (
        "下周预计签约商机 12 笔；重点推进前 10 笔，合计 100.0 万元（加权 50.0 万元），"
        "首位是商机1（张伟，10.0 万元）。"
    )
    assert plan.findings(data, context("en"))[1] == (
        "12 deals are expected to close next week; the 10 key deals total CNY 1.00M (CNY 500.0k weighted), "
        "led by 商机1 (张伟, CNY 100.0k)."
    )


def test_empty_marts_render_notes(tmp_path: Path, capsys) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute(DDL)
    con.close()
    page, _ = render(warehouse, "", "zh-CN", tmp_path / "t", capsys)
    assert findings_of(page) == ["仓库中尚无下周的目标分解。"]
    assert "下周没有预计签约的商机。" in page and "下周没有应收回款。" in page and "尚无资源分配。" in page


# ------------------------------------------------------------------------------------------ a real warehouse


@pytest.mark.e2e
def test_plan_on_a_built_company(built_company, tmp_path: Path, capsys) -> None:
    root = built_company[0]
    warehouse = root / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        mart = {
            (level, unit_id): amount
            for level, unit_id, amount in con.execute(
                "select level, unit_id, plan_amount from marts.fct_plan_targets "
                "where plan_horizon = 'next_week'"
            ).fetchall()
        }
        rep_region = dict(con.execute("select rep_id, region from marts.dim_reps").fetchall())
        rep_names = con.execute("select rep_name, region from marts.dim_reps").fetchall()
        customers = con.execute(
            "select c.customer_name, r.region from marts.dim_customers as c "
            "join marts.dim_reps as r on r.rep_id = c.owner_rep_id"
        ).fetchall()
        (as_of,) = con.execute("select as_of_date from marts.warehouse_as_of").fetchone()
    finally:
        con.close()
    regions = sorted({r for (level, r) in mart if level == "region"})
    assert regions and as_of == date(2026, 11, 19)
    for region in ["", *regions]:
        for lang in ("zh-CN", "en"):
            page, data = render(warehouse, region, lang, tmp_path / f"{region}-{lang}", capsys)
            assert len(findings_of(page)) == 3 and "2026-W48" in page
            reps, total = plan_amounts(page)
            # the reps shown add up to the total shown to the cent, and both are the mart's
            assert (
                sum(reps.values()) == total == mart[("region", region) if region else ("company", "company")]
            )
            assert Decimal(kpis(page)["plan_target"]) == total
            assert all(mart[("rep", rep)] == amount for rep, amount in reps.items())
            assert not MOBILE.search(page)
            if not region:
                assert len(reps) == sum(1 for level, _ in mart if level == "rep")
                continue
            assert reps and {rep_region[r] for r in reps} == {region}
            allocated = rows(table_html(page, "plan_allocation_reps"))
            assert allocated and {rep_region[r] for r in allocated} == {region}
            own = {name for name, r in rep_names + customers if r == region}
            others = {name for name, r in rep_names + customers if r != region} - own
            for name in others:
                if not any(name in mine for mine in own):
                    assert name not in page, f"{name} (another region's) in the {region} pack"
    # the week after the latest complete week (2026-W46) is W47, the plan is made for W48
    ctx = pack.open_context(str(warehouse), "week", "", "", "zh-CN", "")
    try:
        assert ctx.period.next().start == date(2026, 11, 16)
        assert plan.findings(plan.load(ctx), ctx)[0].startswith("计划周为 2026-W48")
    finally:
        ctx.con.close()
