"""The weekly pack's Results section (成果).

The findings tests build the section's data by hand: the expected sentences were worked out on paper
from those numbers (004 §2.1.3: plan 120万, collected 98万 → 81.7%, 22万 short; §3.1.1: 12 visits, +3,
6 with high-potential customers). The warehouse tests render the section from the session's built
company and compare what the page shows with the marts queried directly.
"""

from __future__ import annotations

import csv
import html
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from reports import i18n, pack
from reports.context import Audience, PackContext, Period
from reports.sections import results
from reports.sections.results import ResultsData

WEEK = date(2026, 11, 16)
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _ctx(lang: str, region: str | None = None) -> PackContext:
    return PackContext(
        con=None,  # the findings read no warehouse
        period=Period.week(WEEK),
        audience=Audience(region),
        lang=lang,
        as_of=date(2026, 11, 22),
    )


def _deal(deal_id: str, amount: str) -> dict:
    return {"opportunity_id": deal_id, "amount": Decimal(amount)}


def _cell(channel: str, band: str, count: int) -> dict:
    return {"channel": channel, "potential_band": band, "new_customer_count": count}


def _collections(planned: str, on_plan: str, shortfall: str, rate: float | None, total: str) -> dict:
    return {
        "planned_amount": Decimal(planned),
        "collected_on_plan_amount": Decimal(on_plan),
        "shortfall_amount": Decimal(shortfall),
        "collection_rate": rate,
        "collected_total_amount": Decimal(total),
    }


def _visits(visits: int, change: int | None, high: int) -> list[dict]:
    return [
        {"week_start_date": WEEK, "visits": visits, "visit_change": change, "high_potential_visits": high}
    ]


# ---------------------------------------------------------------------------------------------- findings


def _busy_week() -> ResultsData:
    """2 deals (1,200,000 + 345,678 = 1,545,678 yuan); 5 new customers, 3 high-potential, 3 from trade
    fairs; collections 120万 planned, 98万 collected on plan (rate 98/120 = 81.67%), 22万 short; the
    quarter 880万 of 950万 (92.6%), forecast 900万; 12 visits, +3, 6 to high-potential customers."""
    return ResultsData(
        won_deals=[_deal("O1", "1200000.00"), _deal("O2", "345678.00")],
        new_customers=[
            _cell("展会", "high", 2),
            _cell("展会", "medium", 1),
            _cell("线上", "high", 1),
            _cell("线上", "low", 1),
            _cell("转介绍", "medium", 0),
        ],
        collections=_collections("1200000.00", "980000.00", "220000.00", 98 / 120, "980000.00"),
        quarter={
            "period_label": "2026-Q4",
            "target_amount": Decimal("9500000.00"),
            "actual_amount": Decimal("8800000.00"),
            "attainment_rate": 88 / 95,
        },
        quarter_forecast={"forecast_amount": Decimal("9000000.00")},
        activity_trend=_visits(12, 3, 6),
    )


def test_findings_of_a_busy_week_in_both_languages():
    data = _busy_week()
    assert results.findings(data, _ctx("zh-CN")) == [
        "本周成交 2 单共 154.6 万元；新增客户 5 家，其中高潜 3 家（展会渠道最多）；"
        "回款计划达成 81.7%，缺口 22.0 万元。",
        "2026-Q4 目标 950.0 万元，季度至今已完成 880.0 万元，达成 92.6%；季初预测全季 900.0 万元，低于目标。",
        "销售代表本周拜访客户 12 次（较上周 +3 次），其中高潜客户 6 次。",
    ]
    assert results.findings(data, _ctx("en")) == [
        "2 deals worth CNY 1.55M were won this week; 5 new customers, 3 of them high-potential "
        "(most came from trade fairs); collections reached 81.7% of plan, CNY 220.0k short.",
        "2026-Q4: CNY 8.80M won so far, 92.6% of the CNY 9.50M target; the forecast made on the eve of "
        "the quarter is CNY 9.00M, below target.",
        "Reps made 12 visits this week (+3 on last week), 6 of them to high-potential customers.",
    ]


def test_findings_of_an_empty_week():
    """No deal, no new customer (zero-filled cells), no collection plan but 50,000 collected off plan,
    no activity: one sentence."""
    data = ResultsData(
        new_customers=[_cell("展会", "high", 0), _cell("线上", "low", 0)],
        collections=_collections("0.00", "0.00", "0.00", None, "50000.00"),
    )
    assert results.findings(data, _ctx("zh-CN")) == [
        "本周无成交；无新增客户；无回款计划，实际回款 5.00 万元。"
    ]
    assert results.findings(data, _ctx("en")) == [
        "No deal was won this week; no new customer; no collections were planned, CNY 50.0k came in."
    ]
    # no row at all in fct_collections_weekly for the week
    nothing = ResultsData()
    assert results.findings(nothing, _ctx("zh-CN")) == ["本周无成交；无新增客户；无回款计划。"]
    assert results.findings(nothing, _ctx("en")) == [
        "No deal was won this week; no new customer; no collections were planned."
    ]


def test_findings_of_a_region_with_one_deal_one_customer_and_everything_collected():
    """One deal of 153,350 yuan (15.3 万元, CNY 153.4k), one medium-potential referral, the plan of
    467,276 yuan collected in full; the region pack says nothing of the quarter's company forecast even
    when it is loaded; visits without a previous week."""
    data = ResultsData(
        won_deals=[_deal("O1", "153350.00")],
        new_customers=[_cell("转介绍", "medium", 1), _cell("展会", "high", 0)],
        collections=_collections("467276.00", "467276.00", "0.00", 1.0, "467276.00"),
        quarter={
            "period_label": "2026-Q4",
            "target_amount": Decimal("1000000.00"),
            "actual_amount": Decimal("1.00"),
            "attainment_rate": 0.000001,
        },
        activity_trend=_visits(7, None, 2),
    )
    assert results.findings(data, _ctx("zh-CN", "华东")) == [
        "本周成交 1 单共 15.3 万元；新增客户 1 家（中潜，来自转介绍渠道）；回款计划 46.7 万元全部收回。",
        "销售代表本周拜访客户 7 次，其中高潜客户 2 次。",
    ]
    assert results.findings(data, _ctx("en", "华东")) == [
        "1 deal worth CNY 153.4k was won this week; 1 new customer (medium-potential, from referrals); "
        "all CNY 467.3k of planned collections came in.",
        "Reps made 7 visits this week, 2 of them to high-potential customers.",
    ]


def test_findings_name_tied_channels_and_a_forecast_at_target():
    """4 new customers, 2 from trade fairs and 2 online, none high-potential; the quarter 25万 of 100万
    (25.0%), forecast 100万 = the target; 10 visits, 2 fewer than the week before, none high-potential."""
    data = ResultsData(
        new_customers=[_cell("线上", "low", 2), _cell("展会", "medium", 2), _cell("转介绍", "high", 0)],
        quarter={
            "period_label": "2026-Q4",
            "target_amount": Decimal("1000000.00"),
            "actual_amount": Decimal("250000.00"),
            "attainment_rate": 0.25,
        },
        quarter_forecast={"forecast_amount": Decimal("1000000.00")},
        activity_trend=_visits(10, -2, 0),
    )
    assert results.findings(data, _ctx("zh-CN")) == [
        "本周无成交；新增客户 4 家，其中无高潜客户（展会和线上渠道最多）；无回款计划。",
        "2026-Q4 目标 100.0 万元，季度至今已完成 25.0 万元，达成 25.0%；"
        "季初预测全季 100.0 万元，不低于目标。",
        "销售代表本周拜访客户 10 次（较上周 -2 次），其中高潜客户 0 次。",
    ]
    assert results.findings(data, _ctx("en")) == [
        "No deal was won this week; 4 new customers, none of them high-potential (most came from trade "
        "fairs and online channels); no collections were planned.",
        "2026-Q4: CNY 250.0k won so far, 25.0% of the CNY 1.00M target; the forecast made on the eve of "
        "the quarter is CNY 1.00M, at or above target.",
        "Reps made 10 visits this week (-2 on last week), 0 of them to high-potential customers.",
    ]


def test_every_text_says_the_same_in_both_languages():
    """Each of the section's texts has both languages, with the same placeholders (month names differ:
    English names the month by its abbreviation)."""
    for key, (zh, en) in results.tx.texts.items():
        assert zh.strip() and en.strip(), key
        if key.startswith("month_"):
            continue
        assert sorted(re.findall(r"\{(\w+)\}", zh)) == sorted(re.findall(r"\{(\w+)\}", en)), key


# ---------------------------------------------------------------------------------------------- warehouse


def _render(warehouse: Path, region: str, lang: str, tables: Path, capsys, period_start: str = ""):
    ctx = pack.open_context(str(warehouse), "week", period_start, region, lang, str(tables))
    try:
        data = results.render(ctx)
    finally:
        ctx.con.close()
    return ctx, data, capsys.readouterr().out


def _kpi(page: str, key: str) -> str:
    match = re.search(rf'data-kpi="{key}" data-value="([^"]*)"', page)
    assert match, f"no KPI card {key}"
    return html.unescape(match.group(1))


def _table(page: str, table_id: str) -> dict[str, list[str]]:
    """data-row -> the data-value of each numeric cell, in column order."""
    match = re.search(rf'<table class="srw-table" id="{table_id}">(.*?)</table>', page, re.S)
    assert match, f"no table {table_id}"
    rows = re.findall(r'<tr data-row="([^"]*)">(.*?)</tr>', match.group(1), re.S)
    return {
        html.unescape(key): [html.unescape(v) for v in re.findall(r'data-value="([^"]*)"', body)]
        for key, body in rows
    }


def _findings(page: str) -> list[str]:
    block = re.search(r'<div class="srw-finding" role="note">(.*?)</div>', page, re.S)
    assert block
    return [html.unescape(p) for p in re.findall(r"<p>(.*?)</p>", block.group(1))]


def _one(con, sql: str, params: list | None = None):
    return con.execute(sql, params or []).fetchone()


@pytest.mark.e2e
def test_company_pack_shows_the_marts_values(built_company, tmp_path, capsys):
    root, _, _ = built_company
    warehouse = root / "warehouse.duckdb"
    ctx, _, page = _render(warehouse, "", "zh-CN", tmp_path / "tables", capsys)
    week = ctx.period.start
    assert week == date(2026, 11, 9)  # the latest complete week of the built company
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        planned, on_plan, shortfall, rate, light = _one(
            con,
            "select planned_amount, collected_on_plan_amount, shortfall_amount, collection_rate, "
            "status_light from marts.fct_collections_weekly where level = 'company' and week_start_date = ?",
            [week],
        )
        new_count, high_count = _one(
            con,
            "select sum(new_customer_count), sum(new_customer_count) filter (where potential_band = 'high') "
            "from marts.fct_new_customers where period_grain = 'week' and level = 'company' "
            "and period_start_date = ?",
            [week],
        )
        visits, high_visits = _one(
            con,
            "select sum(visit_count), sum(high_potential_visit_count) from marts.fct_activities_weekly "
            "where week_start_date = ?",
            [week],
        )
        open_start, open_end, won_count = _one(
            con,
            "select open_start_amount, open_end_amount, won_count from marts.fct_pipeline_waterfall_weekly "
            "where level = 'company' and week_start_date = ?",
            [week],
        )
        target, actual = _one(
            con,
            "select target_amount, actual_amount from marts.fct_attainment_periods where period_type = "
            "'quarter' and level = 'company' and period_start_date <= ? and period_end_date >= ?",
            [ctx.period.end, ctx.period.end],
        )
        (forecast,) = _one(
            con,
            "select forecast_amount from marts.fct_sales_forecast where period_grain = 'quarter' "
            "and period_start_date <= ? and period_end_date >= ?",
            [ctx.period.end, ctx.period.end],
        )
        (next_week,) = _one(
            con,
            "select forecast_amount from marts.fct_sales_forecast where period_grain = 'week' "
            "and period_start_date = date '2026-11-16'",
        )
        bottleneck = _one(
            con,
            "select stage_key, resolved_conversion_rate from marts.fct_funnel_bottleneck where is_bottleneck",
        )
        region_rows = con.execute(
            "select unit_id, shortfall_amount from marts.fct_collections_weekly where level = 'region' "
            "and week_start_date = ?",
            [week],
        ).fetchall()
        won = _one(
            con,
            "select count(*) from marts.fct_won_deal_delays where closed_date between ? and ?",
            [week, ctx.period.end],
        )[0]
    finally:
        con.close()

    # collections
    assert Decimal(_kpi(page, "planned")) == planned
    assert Decimal(_kpi(page, "collected_on_plan")) == on_plan
    assert Decimal(_kpi(page, "shortfall")) == shortfall
    assert float(_kpi(page, "collection_rate")) == rate
    card = page[page.index('data-kpi="collection_rate"') : page.index('data-kpi="collected_total"')]
    assert f"light light-{light}" in card  # the mart's status light
    collections = _table(page, "results_collections")
    assert {k: Decimal(v[2]) for k, v in collections.items()} == dict(region_rows)
    # new customers and activities
    assert int(_kpi(page, "new_customers")) == new_count
    assert int(_kpi(page, "new_high_potential")) == high_count
    assert int(_kpi(page, "visits")) == visits
    assert int(_kpi(page, "high_potential_visits")) == high_visits
    # pipeline waterfall: the table holds the mart's figures
    pipeline = _table(page, "results_pipeline")
    assert Decimal(pipeline["open_start"][1]) == open_start
    assert Decimal(pipeline["open_end"][1]) == open_end
    assert int(pipeline["won"][0]) == won_count == won
    assert "<svg" in page  # the waterfall chart
    # forecast against the quarter (company only)
    assert Decimal(_kpi(page, "quarter_target")) == target
    assert Decimal(_kpi(page, "quarter_actual")) == actual
    assert Decimal(_kpi(page, "quarter_forecast")) == forecast
    assert Decimal(_kpi(page, "next_week_forecast")) == next_week
    # the funnel with its bottleneck
    funnel = _table(page, "results_funnel")
    assert set(funnel) == {"lead", "discovery", "demo", "negotiation"}
    assert float(funnel[bottleneck[0]][4]) == bottleneck[1]  # the recent conversion column
    # findings: numbers formatted from the marts' values
    sentences = _findings(page)
    assert 1 <= len(sentences) <= 3
    assert sentences[0].startswith("本周无成交；" if won == 0 else f"本周成交 {won} 单")
    if planned and shortfall > 0:
        assert f"回款计划达成 {i18n.rate(rate)}，缺口 {i18n.money(shortfall, 'zh-CN')}" in sentences[0]
    assert f"拜访客户 {visits} 次" in sentences[-1]
    # no mobile number, and downloads for every table shown
    assert not MOBILE.search(page)
    tables = tmp_path / "tables"
    for table_id in re.findall(r'<table class="srw-table" id="([^"]+)"', page):
        assert (tables / f"{table_id}.csv").is_file(), table_id
        assert (tables / f"{table_id}.xlsx").is_file(), table_id
        assert not MOBILE.search((tables / f"{table_id}.csv").read_text(encoding="utf-8-sig"))
    with (tables / "results_collections.csv").open(encoding="utf-8-sig") as handle:
        assert len(list(csv.reader(handle))) == 1 + len(region_rows)


@pytest.mark.e2e
def test_won_deals_of_a_week_in_both_languages(built_company, tmp_path, capsys):
    """The complete week with most won deals: the table lists exactly the mart's deals of the week
    (largest first), the finding counts and sums them."""
    root, _, _ = built_company
    warehouse = root / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (monday,) = con.execute(
            "select date_trunc('week', closed_date) as monday from marts.fct_won_deal_delays "
            "where closed_date < (select latest_complete_week_start_date + 7 from marts.warehouse_as_of) "
            "group by monday order by count(*) desc, monday desc limit 1"
        ).fetchone()
        monday = monday.date() if hasattr(monday, "date") else monday
        deals = con.execute(
            "select opportunity_id, amount from marts.fct_won_deal_delays "
            "where closed_date between ? and ? + 6 order by amount desc, closed_date, opportunity_id",
            [monday, monday],
        ).fetchall()
    finally:
        con.close()
    count = len(deals)
    assert 2 <= count <= results.DEALS_SHOWN
    total = sum(amount for _, amount in deals)
    openings = {
        "zh-CN": f"本周成交 {count} 单共 {i18n.money(total, 'zh-CN')}",
        "en": f"{count} deals worth {i18n.money(total, 'en')} were won this week",
    }
    for lang, opening in openings.items():
        _, _, page = _render(warehouse, "", lang, tmp_path / lang, capsys, monday.isoformat())
        assert _findings(page)[0].startswith(opening)
        table = _table(page, "results_won_deals")
        assert [(k, Decimal(v[0])) for k, v in table.items()] == deals
        with (tmp_path / lang / "results_won_deals.csv").open(encoding="utf-8-sig") as handle:
            assert len(list(csv.reader(handle))) == 1 + count
        assert not MOBILE.search(page)
        heading = "## 成果 {#results}" if lang == "zh-CN" else "## Results {#results}"
        assert page.startswith(heading)
        assert ("### 本周成交 {#results-deals}" if lang == "zh-CN" else "### Deals won this week") in page


@pytest.mark.e2e
def test_region_packs_show_only_their_region(built_company, tmp_path, capsys):
    """Each region of the built company, and a region without any data: a region pack shows its own
    figures and reps and none of the other regions' reps or customers; the funnel and the forecast
    are company-level (a note instead)."""
    root, _, _ = built_company
    warehouse = root / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        week = con.execute("select latest_complete_week_start_date from marts.warehouse_as_of").fetchone()[0]
        regions = [
            r for (r,) in con.execute("select distinct region from marts.dim_reps order by 1").fetchall()
        ]
        empty = next(r for r in i18n.REGIONS if r not in regions)
        names = con.execute(
            "select region, rep_name from marts.dim_reps union "
            "select region, customer_name from marts.dim_customers union "
            "select region, rep_name from marts.fct_activities_weekly union "
            "select region, rep_name from marts.fct_won_deal_delays union "
            "select region, unit_name from marts.fct_collections_weekly where level = 'rep'"
        ).fetchall()
        expected = {
            region: (
                con.execute(
                    "select rep_name from marts.fct_activities_weekly "
                    "where region = ? and week_start_date = ?",
                    [region, week],
                ).fetchall(),
                con.execute(
                    "select planned_amount, shortfall_amount from marts.fct_collections_weekly "
                    "where level = 'region' and unit_id = ? and week_start_date = ?",
                    [region, week],
                ).fetchone(),
            )
            for region in [*regions, empty]
        }
    finally:
        con.close()
    assert len(regions) >= 2  # else there would be nothing to keep apart
    for region, (own_reps, collections) in expected.items():
        others = {name for r, name in names if r != region and name}
        for lang in ("zh-CN", "en"):
            tables = tmp_path / f"{i18n.region_slug(region)}-{lang}"
            _, data, page = _render(warehouse, region, lang, tables, capsys)
            assert data.stages == [] and data.quarter_forecast is None
            assert page.count('data-company-only="') == 2  # funnel and forecast
            assert i18n.t("not_in_region_pack", lang) in page
            assert 'data-kpi="quarter_forecast"' not in page
            leaked = sorted(name for name in others if name in page)
            assert leaked == [], f"{region} pack shows other regions' names: {leaked}"
            for (name,) in own_reps:
                assert name in page
            if collections:
                assert Decimal(_kpi(page, "planned")) == collections[0]
                assert Decimal(_kpi(page, "shortfall")) == collections[1]
            else:
                assert _kpi(page, "planned") == ""
            assert not MOBILE.search(page)
            for path in tables.glob("*.csv"):
                text = path.read_text(encoding="utf-8-sig")
                assert not MOBILE.search(text)
                assert not [name for name in others if name in text], path.name
