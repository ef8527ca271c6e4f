"""成果 Results: what the week produced for the company (or the region): the deals won, the new
customers (quality, channel, first-order cycle), the funnel and its bottleneck, how the pipeline moved,
the forecast for the quarter, the collections against plan, the reps' activities and the customers'
satisfaction (004 §2, §3.3).

Every figure is a mart value (or a count or sum of mart rows); rates are the marts' own. The funnel
marts and the forecast exist only for the company as a whole: a region pack says so instead of showing
company numbers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import yaml

from reports import i18n, source_coverage
from reports.components import Column, Kpi, chart, esc, kpi_cards, section, subsection, table
from reports.context import PackContext

REPO_ROOT = Path(__file__).resolve().parents[2]

TREND_WEEKS = 12  # sparklines of the weekly cards
SATISFACTION_MONTHS = 12
DEALS_SHOWN = 15  # the won-deals table shows the largest deals
REPS_SHOWN = 15  # the activities table of the company pack shows the reps with most visits
ALL_CATEGORIES = "全部"  # fct_customer_satisfaction_monthly: the row over all feedback categories
BANDS = ("high", "medium", "low", "unknown")
WATERFALL_STEPS = ("open_start", "created", "won", "lost", "amount_change", "open_end")

tx = i18n.Texts(
    {
        # sub-headings
        "deals_title": ("本周成交", "Deals won this week"),
        "customers_title": ("新增客户", "New customers"),
        "funnel_title": ("漏斗转化与瓶颈", "Funnel conversion and bottleneck"),
        "pipeline_title": ("商机变动", "Pipeline movement"),
        "forecast_title": ("季度预测", "Quarter forecast"),
        "collections_title": ("回款计划与实际", "Collections: plan and actual"),
        "activities_title": ("销售活动", "Sales activities"),
        "satisfaction_title": ("客户满意度", "Customer satisfaction"),
        # won deals
        "closed_date": ("成交日期", "Closed"),
        "deals_caption": ("本周成交 {count} 单，按金额排序", "{count} deals won this week, largest first"),
        "deals_caption_top": (
            "本周成交 {count} 单，按金额显示前 {shown} 单（下载文件同）",
            "{count} deals won this week: the {shown} largest (the download holds the same rows)",
        ),
        "no_deals": ("本周无成交。", "No deal was won this week."),
        # new customers
        "new_customers": ("新增客户", "New customers"),
        "high_potential": ("其中高潜", "High-potential"),
        "converted": ("已下单", "Have ordered"),
        "channel": ("获客渠道", "Channel"),
        "band_high": ("高潜", "High"),
        "band_medium": ("中潜", "Medium"),
        "band_low": ("低潜", "Low"),
        "band_unknown": ("潜力未知", "Unknown"),
        "total": ("合计", "Total"),
        "channel_share": ("占比", "Share"),
        "channels_caption": (
            "本周新增客户 {count} 家，按获客渠道与潜力分级（高潜：预算超过 {high}；低潜：低于 {low}）",
            "{count} new customers this week by channel and potential "
            "(high: budget above {high}; low: below {low})",
        ),
        "no_new_customers": ("本周无新增客户。", "No new customer this week."),
        "first_order_caption": (
            "首单成交周期：从建档（首次接触）到首单的天数，计首单在期内的新客户",
            "First-order cycle: days from the first contact (account created) to the first order, "
            "for new customers whose first order fell in the period",
        ),
        "period": ("期间", "Period"),
        "month_long": ("{year}年{month}月", "{abbr} {year}"),
        "month_short": ("{month}月", "{abbr}"),
        "first_order_customers": ("客户数", "Customers"),
        "cycle_avg": ("平均天数", "Average days"),
        "cycle_median": ("中位天数", "Median days"),
        # funnel
        "leads": ("本周线索", "Leads this week"),
        "lead_to_opportunity": ("线索转商机率", "Lead to opportunity"),
        "lead_to_won": ("线索成交率", "Lead to won"),
        "stage": ("阶段", "Stage"),
        "entered": ("本周进入", "Entered"),
        "advanced": ("本周推进", "Advanced"),
        "lost": ("本周丢单", "Lost"),
        "period_conversion": ("本周转化率", "Conversion this week"),
        "window_conversion": ("近期转化率", "Recent conversion"),
        "window_change": ("较前期", "vs previous window"),
        "median_days": ("停留中位天数", "Median days in stage"),
        "bottleneck": ("瓶颈", "Bottleneck"),
        "funnel_caption": (
            "本周各阶段流转；近期转化率按 {start} 至 {end} 进入该阶段的商机计算，最低者为瓶颈",
            "Flow through each stage this week; recent conversion counts the deals that entered the "
            "stage from {start} to {end}, the lowest is the bottleneck",
        ),
        "lead_caption": (
            "线索成交率按本周新建线索至今的成交计算，新线索仍在推进中",
            "Lead to won counts this week's new leads won so far: young leads are still moving",
        ),
        # pipeline waterfall
        "step_open_start": ("期初在途", "Open at start"),
        "step_created": ("新建", "Created"),
        "step_won": ("赢单", "Won"),
        "step_lost": ("丢单", "Lost"),
        "step_amount_change": ("金额调整", "Amount changes"),
        "step_open_end": ("期末在途", "Open at end"),
        "step": ("变动", "Movement"),
        "deal_count": ("商机数", "Deals"),
        "waterfall_chart": ("本周商机变动（{unit}）", "Pipeline movement this week ({unit})"),
        "waterfall_caption": (
            "期初在途 + 新建 − 赢单 − 丢单 ± 金额调整 = 期末在途；本周另有 {advanced} 个商机推进阶段，"
            "{slipped} 个逾期未签",
            "Open at start + created − won − lost ± amount changes = open at end; {advanced} deals also "
            "moved to a later stage this week and {slipped} slipped past their promised date",
        ),
        "no_waterfall": ("本周无商机变动记录。", "No pipeline movement recorded for this week."),
        # forecast
        "quarter_target": ("{quarter} 目标", "{quarter} target"),
        "quarter_actual": ("{quarter} 已完成", "{quarter} won so far"),
        "quarter_forecast": ("季度预测（{day}作出）", "Quarter forecast (made {day})"),
        "next_week_forecast": ("下周预测（{week}）", "Next week's forecast ({week})"),
        "forecast_caption": (
            "预测 = 加权在途商机 × 实现率与近期日均成交 × 季节系数的加权；季度预测于季初作出。",
            "Forecast = weighted pipeline × realization rate blended with the recent daily run rate × "
            "seasonal factor; the quarter's forecast is made on the eve of the quarter.",
        ),
        # collections
        "planned": ("计划回款", "Planned"),
        "collected_on_plan": ("计划内回款", "Collected on plan"),
        "shortfall": ("回款缺口", "Shortfall"),
        "collection_rate": ("回款计划达成率", "Collection rate"),
        "collected_total": ("实际回款合计", "Collected in total"),
        "collections_regions": ("各区域回款（按缺口排序）", "Collections by region, largest shortfall first"),
        "collections_reps": ("销售代表回款（按缺口排序）", "Collections by rep, largest shortfall first"),
        # activities
        "visits": ("拜访", "Visits"),
        "calls": ("电话", "Calls"),
        "emails": ("邮件", "Emails"),
        "change": ("较上周", "± week"),
        "high_potential_visits": ("高潜拜访", "High-potential visits"),
        "high_potential_share": ("高潜占比", "High-potential share"),
        "activities_caption": (
            "本周各销售代表活动，按拜访次数排序",
            "Activities per rep this week, most visits first",
        ),
        "activities_caption_top": (
            "本周拜访最多的 {shown} 名销售代表（共 {count} 名，下载文件同）",
            "The {shown} reps with most visits this week (of {count}; the download holds the same rows)",
        ),
        # satisfaction
        "satisfaction": ("{month}满意度（1–5 分）", "Satisfaction, {month} (1–5)"),
        "feedback_count": ("{month}反馈数", "Feedback, {month}"),
        "dissatisfied": ("{month}不满意（≤ 2 分）", "Dissatisfied (≤ 2), {month}"),
        "vs_previous_month": ("较上月", "vs last month"),
        "satisfaction_caption": (
            "按客户所在区域统计；曲线为近 {months} 个月。",
            "By the customer's region; the line shows the last {months} months.",
        ),
        "month_so_far": ("当月数据截至 {as_of}。", " The month so far, up to {as_of}."),
        # findings
        "f_separator": ("；", "; "),
        "f_end": ("。", "."),
        "f_deals": ("本周成交 {count} 单共 {amount}", "{count} deals worth {amount} were won this week"),
        "f_deal_one": ("本周成交 1 单共 {amount}", "1 deal worth {amount} was won this week"),
        "f_no_deal": ("本周无成交", "No deal was won this week"),
        "f_customers": (
            "新增客户 {count} 家，其中高潜 {high} 家（{origin}渠道最多）",
            "{count} new customers, {high} of them high-potential (most came from {origin})",
        ),
        "f_customers_no_high": (
            "新增客户 {count} 家，其中无高潜客户（{origin}渠道最多）",
            "{count} new customers, none of them high-potential (most came from {origin})",
        ),
        "f_customer_one": (
            "新增客户 1 家（{band}，来自{origin}渠道）",
            "1 new customer ({band}, from {origin})",
        ),
        "f_no_customer": ("无新增客户", "no new customer"),
        "f_collections": (
            "回款计划达成 {rate}，缺口 {shortfall}",
            "collections reached {rate} of plan, {shortfall} short",
        ),
        "f_collections_all": ("回款计划 {planned}全部收回", "all {planned} of planned collections came in"),
        "f_no_plan": ("无回款计划", "no collections were planned"),
        "f_no_plan_collected": (
            "无回款计划，实际回款 {collected}",
            "no collections were planned, {collected} came in",
        ),
        "f_quarter": (
            "{quarter} 目标 {target}，季度至今已完成 {actual}，达成 {rate}",
            "{quarter}: {actual} won so far, {rate} of the {target} target",
        ),
        "f_forecast_below": (
            "；季初预测全季 {forecast}，低于目标",
            "; the forecast made on the eve of the quarter is {forecast}, below target",
        ),
        "f_forecast_above": (
            "；季初预测全季 {forecast}，不低于目标",
            "; the forecast made on the eve of the quarter is {forecast}, at or above target",
        ),
        "f_visits": (
            "销售代表本周拜访客户 {visits} 次（较上周 {change} 次），其中高潜客户 {high} 次。",
            "Reps made {visits} visits this week ({change} on last week), "
            "{high} of them to high-potential customers.",
        ),
        "f_visits_no_change": (
            "销售代表本周拜访客户 {visits} 次，其中高潜客户 {high} 次。",
            "Reps made {visits} visits this week, {high} of them to high-potential customers.",
        ),
        # acquisition channels: (table label, in a sentence)
        "channel_展会": ("展会", "Trade fair"),
        "channel_转介绍": ("转介绍", "Referral"),
        "channel_线上": ("线上", "Online"),
        "channel_电话营销": ("电话营销", "Telemarketing"),
        "channel_未知渠道": ("未知渠道", "Unknown"),
        "from_展会": ("展会", "trade fairs"),
        "from_转介绍": ("转介绍", "referrals"),
        "from_线上": ("线上", "online channels"),
        "from_电话营销": ("电话营销", "telemarketing"),
        "from_未知渠道": ("未知", "unknown channels"),
        "band_in_sentence_high": ("高潜", "high-potential"),
        "band_in_sentence_medium": ("中潜", "medium-potential"),
        "band_in_sentence_low": ("低潜", "low-potential"),
        "band_in_sentence_unknown": ("潜力未知", "potential unknown"),
    }
)


@dataclass
class ResultsData:
    won_deals: list[dict[str, Any]] = field(default_factory=list)  # the week's won deals, largest first
    new_customers: list[dict[str, Any]] = field(default_factory=list)  # fct_new_customers cells of the week
    new_customer_trend: list[dict[str, Any]] = field(
        default_factory=list
    )  # per week: total, high; oldest first
    first_orders: list[dict[str, Any]] = field(
        default_factory=list
    )  # fct_customer_sales: week, month, quarter
    stages: list[dict[str, Any]] = field(default_factory=list)  # company only: the funnel's open stages
    lead_conversion: dict[str, Any] | None = None  # company only
    waterfall: dict[str, Any] | None = None
    quarter: dict[str, Any] | None = None  # company only: fct_attainment_periods, the quarter of the week
    quarter_forecast: dict[str, Any] | None = None  # company only: fct_sales_forecast
    next_week_forecast: dict[str, Any] | None = None  # company only
    collections: dict[str, Any] | None = None  # fct_collections_weekly, the audience's row
    collection_trend: list[dict[str, Any]] = field(default_factory=list)  # the audience's rows; oldest first
    collection_units: list[dict[str, Any]] = field(default_factory=list)  # regions (company) or reps
    activities: list[dict[str, Any]] = field(default_factory=list)  # per rep, most visits first
    activity_trend: list[dict[str, Any]] = field(default_factory=list)  # weekly sums; oldest first
    satisfaction: list[dict[str, Any]] = field(default_factory=list)  # monthly, category 全部; oldest first


# ---------------------------------------------------------------------------------------------- loading


def load(ctx: PackContext) -> ResultsData:
    start, end = ctx.period.start, ctx.period.end
    trend_from = start - timedelta(weeks=TREND_WEEKS - 1)
    unit_where, unit_params = ctx.unit()
    region_where, region_params = ctx.in_region("deals.region")
    company = ctx.audience.region is None

    won_deals = ctx.rows(
        "select deals.opportunity_id, deals.opportunity_name, customers.customer_name, deals.rep_name, "
        "deals.team_name, deals.region, deals.amount, deals.closed_date "
        "from marts.fct_won_deal_delays as deals "
        "left join marts.dim_customers as customers on deals.customer_id = customers.customer_id "
        f"where deals.closed_date between ? and ? and {region_where} "
        "order by deals.amount desc, deals.closed_date, deals.opportunity_id",
        [start, end, *region_params],
    )
    new_customers = ctx.rows(
        "select channel, potential_band, new_customer_count, converted_customer_count, "
        "unit_period_new_customer_count, share_of_unit_period from marts.fct_new_customers "
        f"where period_grain = 'week' and period_start_date = ? and {unit_where} "
        "order by channel, potential_band",
        [start, *unit_params],
    )
    new_customer_trend = ctx.rows(
        "select period_start_date, max(unit_period_new_customer_count) as new_customer_count, "
        "sum(new_customer_count) filter (where potential_band = 'high') as high_count "
        "from marts.fct_new_customers where period_grain = 'week' and period_start_date between ? and ? "
        f"and {unit_where} group by period_start_date order by period_start_date",
        [trend_from, start, *unit_params],
    )
    first_orders = ctx.rows(
        "select period_grain, period_start_date, period_end_date, first_order_cycle_customer_count, "
        "first_order_cycle_days_avg, first_order_cycle_days_median from marts.fct_customer_sales "
        "where period_grain in ('week', 'month', 'quarter') and period_start_date <= ? "
        f"and period_end_date >= ? and {unit_where} "
        "order by case period_grain when 'week' then 1 when 'month' then 2 else 3 end",
        [end, end, *unit_params],
    )
    waterfall = ctx.rows(
        "select open_start_count, open_start_amount, created_count, created_amount, won_count, won_amount, "
        "lost_count, lost_amount, amount_change, open_end_count, open_end_amount, advanced_count, "
        "slipped_count from marts.fct_pipeline_waterfall_weekly where week_start_date = ? and " + unit_where,
        [start, *unit_params],
    )
    collections = ctx.rows(
        "select week_start_date, week_label, unit_id, unit_name, planned_amount, collected_on_plan_amount, "
        "shortfall_amount, collection_rate, status_light, collected_total_amount "
        "from marts.fct_collections_weekly where week_start_date between ? and ? and "
        f"{unit_where} order by week_start_date",
        [trend_from, start, *unit_params],
    )
    unit_level = "region" if company else "rep"
    rep_region_where, rep_region_params = ctx.in_region()
    collection_units = ctx.rows(
        "select unit_id, unit_name, region, planned_amount, collected_on_plan_amount, shortfall_amount, "
        "collection_rate, status_light, collected_total_amount from marts.fct_collections_weekly "
        f"where week_start_date = ? and level = '{unit_level}' and {rep_region_where} "
        "order by shortfall_amount desc, unit_id",
        [start, *rep_region_params],
    )
    activities = ctx.rows(
        "select rep_id, rep_name, team_name, region, visit_count, visit_count_wow_change, call_count, "
        "call_count_wow_change, email_count, email_count_wow_change, high_potential_visit_count, "
        "high_potential_visit_share from marts.fct_activities_weekly "
        f"where week_start_date = ? and {rep_region_where} order by visit_count desc, rep_name, rep_id",
        [start, *rep_region_params],
    )
    activity_trend = ctx.rows(
        "select week_start_date, sum(visit_count) as visits, sum(call_count) as calls, "
        "sum(email_count) as emails, sum(high_potential_visit_count) as high_potential_visits, "
        "sum(visit_count_wow_change) as visit_change from marts.fct_activities_weekly "
        f"where week_start_date between ? and ? and {rep_region_where} "
        "group by week_start_date order by week_start_date",
        [trend_from, start, *rep_region_params],
    )
    month = date(end.year, end.month, 1)
    satisfaction = ctx.rows(
        "select month_start_date, feedback_count, satisfaction_avg, dissatisfied_count "
        "from marts.fct_customer_satisfaction_monthly where category = ? and month_start_date > ? "
        f"and month_start_date <= ? and {unit_where} order by month_start_date",
        [ALL_CATEGORIES, _months_before(month, SATISFACTION_MONTHS), month, *unit_params],
    )
    data = ResultsData(
        won_deals=won_deals,
        new_customers=new_customers,
        new_customer_trend=new_customer_trend,
        first_orders=first_orders,
        waterfall=(waterfall or [None])[0],
        collections=next((r for r in collections if r["week_start_date"] == start), None),
        collection_trend=collections,
        collection_units=collection_units,
        activities=activities,
        activity_trend=activity_trend,
        satisfaction=satisfaction,
    )
    if company:
        _load_company(ctx, data)
    return data


def _load_company(ctx: PackContext, data: ResultsData) -> None:
    """The company-level marts: funnel, lead conversion, forecast and the quarter it is judged against."""
    start, end = ctx.period.start, ctx.period.end
    data.stages = ctx.rows(
        "select stages.stage_key, stages.stage_name, stages.stage_name_en, period.entered_count, "
        "period.advanced_count, period.lost_count, period.period_conversion_rate, "
        "bottleneck.window_start_date, bottleneck.as_of_date, bottleneck.resolved_conversion_rate, "
        "bottleneck.conversion_rate_change, bottleneck.median_days_in_stage, bottleneck.is_bottleneck "
        "from seeds.funnel_stages as stages "
        "left join marts.fct_stage_conversion_period as period on period.stage_key = stages.stage_key "
        "and period.period_grain = 'week' and period.period_start_date = ? "
        "left join marts.fct_funnel_bottleneck as bottleneck on bottleneck.stage_key = stages.stage_key "
        "where not stages.is_closed order by stages.stage_order",
        [start],
    )
    data.lead_conversion = _first(
        ctx.rows(
            "select lead_count, lead_to_opportunity_rate, lead_to_won_rate, previous_lead_to_won_rate "
            "from marts.fct_lead_conversion where period_grain = 'week' and period_start_date = ?",
            [start],
        )
    )
    data.quarter = _first(
        ctx.rows(
            "select period_label, target_amount, actual_amount, attainment_rate, lag_warning "
            "from marts.fct_attainment_periods where period_type = 'quarter' and level = 'company' "
            "and period_start_date <= ? and period_end_date >= ?",
            [end, end],
        )
    )
    forecasts = ctx.rows(
        "select period_grain, period_start_date, period_end_date, forecast_date, forecast_amount "
        "from marts.fct_sales_forecast where (period_grain = 'quarter' and period_start_date <= ? "
        "and period_end_date >= ?) or (period_grain = 'week' and period_start_date = ?)",
        [end, end, start + timedelta(days=7)],
    )
    data.quarter_forecast = next((r for r in forecasts if r["period_grain"] == "quarter"), None)
    data.next_week_forecast = next((r for r in forecasts if r["period_grain"] == "week"), None)


def _first(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return rows[0] if rows else None


def _months_before(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


# ---------------------------------------------------------------------------------------------- figures


def _won_amount(data: ResultsData) -> Decimal:
    return sum((Decimal(str(d["amount"] or 0)) for d in data.won_deals), Decimal(0))


def _new_customer_count(data: ResultsData) -> int:
    return sum(int(c["new_customer_count"] or 0) for c in data.new_customers)


def _band_count(data: ResultsData, band: str) -> int:
    return sum(int(c["new_customer_count"] or 0) for c in data.new_customers if c["potential_band"] == band)


def _channel_counts(data: ResultsData) -> dict[str, int]:
    counts: dict[str, int] = {}
    for cell in data.new_customers:
        counts[cell["channel"]] = counts.get(cell["channel"], 0) + int(cell["new_customer_count"] or 0)
    return counts


def _top_channels(data: ResultsData) -> list[str]:
    """The channel(s) that brought most of the week's new customers (ties all named, in name order)."""
    counts = {c: n for c, n in _channel_counts(data).items() if n > 0}
    if not counts:
        return []
    most = max(counts.values())
    return sorted(c for c, n in counts.items() if n == most)


def _channel_label(channel: str, lang: str) -> str:
    key = "channel_" + channel
    return tx(key, lang) if key in tx.texts else channel


def _channel_in_sentence(channel: str, lang: str) -> str:
    key = "from_" + channel
    return tx(key, lang) if key in tx.texts else channel


def _week_row(rows: list[dict[str, Any]], key: str, week: date) -> dict[str, Any]:
    return next((r for r in rows if r[key] == week), {})


def _activity_totals(data: ResultsData, week: date) -> dict[str, Any]:
    return _week_row(data.activity_trend, "week_start_date", week)


# ---------------------------------------------------------------------------------------------- findings


def findings(data: ResultsData, ctx: PackContext) -> list[str]:
    """本周成交 19 单共 269.2 万元；新增客户 13 家，其中高潜 10 家（线上渠道最多）；回款计划达成 19.2%，
    缺口 514.9 万元。 Then the quarter against its target and forecast (company packs) and the visits."""
    lang = ctx.lang
    parts = [_deals_part(data, lang), _customers_part(data, lang)]
    if "collection_plan" not in source_coverage.current()[0].absent:  # else the subsection says so
        parts.append(_collections_part(data, lang))
    sentences = [tx("f_separator", lang).join(parts) + tx("f_end", lang)]
    quarter = _quarter_sentence(data, ctx)
    if quarter:
        sentences.append(quarter)
    activities = _activity_sentence(data, ctx)
    if activities:
        sentences.append(activities)
    return sentences[:3]


def _deals_part(data: ResultsData, lang: str) -> str:
    count = len(data.won_deals)
    if count == 0:
        return tx("f_no_deal", lang)
    amount = i18n.money(_won_amount(data), lang)
    return tx("f_deal_one" if count == 1 else "f_deals", lang, count=count, amount=amount)


def _customers_part(data: ResultsData, lang: str) -> str:
    count = _new_customer_count(data)
    if count == 0:
        return tx("f_no_customer", lang)
    channels = _top_channels(data)
    if count == 1:
        band = next(c["potential_band"] for c in data.new_customers if c["new_customer_count"])
        band_text = tx("band_in_sentence_" + band, lang) if band in BANDS else band
        return tx("f_customer_one", lang, band=band_text, origin=_channel_in_sentence(channels[0], lang))
    high = _band_count(data, "high")
    origin = i18n.join([_channel_in_sentence(c, lang) for c in channels], lang)
    key = "f_customers" if high else "f_customers_no_high"
    return tx(key, lang, count=count, high=high, origin=origin)


def _collections_part(data: ResultsData, lang: str) -> str:
    row = data.collections or {}
    planned = row.get("planned_amount")
    if not planned:
        collected = row.get("collected_total_amount")
        if collected:
            return tx("f_no_plan_collected", lang, collected=i18n.money(collected, lang))
        return tx("f_no_plan", lang)
    shortfall = row.get("shortfall_amount") or Decimal(0)
    if shortfall <= 0:
        return tx("f_collections_all", lang, planned=i18n.money(planned, lang))
    rate, short = i18n.rate(row.get("collection_rate")), i18n.money(shortfall, lang)
    return tx("f_collections", lang, rate=rate, shortfall=short)


def _quarter_sentence(data: ResultsData, ctx: PackContext) -> str | None:
    """The quarter: what is won so far against its target, and the quarter's forecast (company packs)."""
    quarter, forecast, lang = data.quarter, data.quarter_forecast, ctx.lang
    if ctx.audience.region is not None or not quarter or not quarter["target_amount"]:
        return None
    text = tx(
        "f_quarter",
        lang,
        quarter=quarter["period_label"],
        target=i18n.money(quarter["target_amount"], lang),
        actual=i18n.money(quarter["actual_amount"], lang),
        rate=i18n.rate(quarter["attainment_rate"]),
    )
    if forecast and forecast["forecast_amount"]:
        amount = forecast["forecast_amount"]
        key = "f_forecast_above" if amount >= quarter["target_amount"] else "f_forecast_below"
        text += tx(key, lang, forecast=i18n.money(amount, lang))
    return text + tx("f_end", lang)


def _activity_sentence(data: ResultsData, ctx: PackContext) -> str | None:
    week = _activity_totals(data, ctx.period.start)
    if not week or not week.get("visits"):
        return None
    visits, high, change = int(week["visits"]), int(week["high_potential_visits"] or 0), week["visit_change"]
    if change is None:
        return tx("f_visits_no_change", ctx.lang, visits=visits, high=high)
    return tx("f_visits", ctx.lang, visits=visits, high=high, change=f"{int(change):+d}")


# ---------------------------------------------------------------------------------------------- page


def _deals_table(data: ResultsData, ctx: PackContext) -> str:
    lang = ctx.lang
    count = len(data.won_deals)
    if count == 0:
        return table(ctx, "results_won_deals", [], [], empty=tx("no_deals", lang))
    rows = [{**d, "region_shown": i18n.region_name(d["region"] or "", lang)} for d in data.won_deals]
    shown = rows[:DEALS_SHOWN]
    caption = (
        tx("deals_caption", lang, count=count)
        if count <= DEALS_SHOWN
        else tx("deals_caption_top", lang, count=count, shown=DEALS_SHOWN)
    )
    columns = [
        Column("opportunity_name", i18n.t("deal", lang)),
        Column("customer_name", i18n.t("customer", lang)),
        Column("rep_name", i18n.t("rep", lang)),
        Column("team_name", i18n.t("team", lang)),
        *([Column("region_shown", i18n.t("region", lang))] if ctx.audience.region is None else []),
        Column("amount", i18n.t("amount", lang), "money"),
        Column("closed_date", tx("closed_date", lang), "date"),
    ]
    return table(ctx, "results_won_deals", columns, shown, caption=caption, row_key="opportunity_id")


def _customers_part_html(data: ResultsData, ctx: PackContext) -> str:
    lang, start = ctx.lang, ctx.period.start
    compare = i18n.t("vs_previous_week", lang)
    before = _week_row(data.new_customer_trend, "period_start_date", start - timedelta(days=7))
    count = _new_customer_count(data)
    cards = kpi_cards(
        ctx,
        [
            Kpi(
                "new_customers",
                tx("new_customers", lang),
                count,
                "int",
                before.get("new_customer_count"),
                compare,
                [r["new_customer_count"] for r in data.new_customer_trend],
            ),
            Kpi(
                "new_high_potential",
                tx("high_potential", lang),
                _band_count(data, "high"),
                "int",
                before.get("high_count"),
                compare,
                [r["high_count"] for r in data.new_customer_trend],
            ),
            Kpi(
                "new_converted",
                tx("converted", lang),
                sum(int(c["converted_customer_count"] or 0) for c in data.new_customers),
                "int",
            ),
        ],
    )
    return cards + _channels_table(data, ctx, count) + _first_orders_table(data, ctx)


def _channels_table(data: ResultsData, ctx: PackContext, count: int) -> str:
    lang = ctx.lang
    if count == 0:
        return table(ctx, "results_new_customers", [], [], empty=tx("no_new_customers", lang))
    by_channel: dict[str, dict[str, Any]] = {}
    for cell in data.new_customers:
        row = by_channel.setdefault(
            cell["channel"],
            {
                "channel": cell["channel"],
                "label": _channel_label(cell["channel"], lang),
                "total": 0,
                "share": 0.0,
            },
        )
        row[cell["potential_band"]] = row.get(cell["potential_band"], 0) + int(
            cell["new_customer_count"] or 0
        )
        row["total"] += int(cell["new_customer_count"] or 0)
        row["share"] += float(cell["share_of_unit_period"] or 0)
    rows = sorted((r for r in by_channel.values() if r["total"]), key=lambda r: (-r["total"], r["channel"]))
    bands = [b for b in BANDS if any(r.get(b) for r in rows) or b != "unknown"]
    columns = [
        Column("label", tx("channel", lang)),
        *[Column(b, tx("band_" + b, lang), "int") for b in bands],
        Column("total", tx("total", lang), "int"),
        Column("share", tx("channel_share", lang), "rate"),
    ]
    rows = [{**{b: 0 for b in bands}, **r} for r in rows]
    return table(
        ctx,
        "results_new_customers",
        columns,
        rows,
        caption=tx(
            "channels_caption",
            lang,
            count=count,
            high=i18n.money(_band_threshold("potential_band_high_above"), lang),
            low=i18n.money(_band_threshold("potential_band_low_below"), lang),
        ),
        row_key="channel",
    )


@functools.cache
def _band_threshold(var: str) -> Decimal:
    """The potential bands' budget thresholds, as dbt_project.yml sets them for dim_customers."""
    project = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8"))
    return Decimal(str(project["vars"][var]))


def _period_label(grain: str, start: date, ctx: PackContext) -> str:
    if grain == "week":
        return ctx.period.label
    if grain == "month":
        return tx("month_long", ctx.lang, year=start.year, month=start.month, abbr=start.strftime("%b"))
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def _first_orders_table(data: ResultsData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = [
        {**r, "label": _period_label(r["period_grain"], r["period_start_date"], ctx)}
        for r in data.first_orders
    ]
    columns = [
        Column("label", tx("period", lang)),
        Column("first_order_cycle_customer_count", tx("first_order_customers", lang), "int"),
        Column("first_order_cycle_days_avg", tx("cycle_avg", lang), "days"),
        Column("first_order_cycle_days_median", tx("cycle_median", lang), "days"),
    ]
    return table(
        ctx,
        "results_first_order_cycle",
        columns,
        rows,
        caption=tx("first_order_caption", lang),
        row_key="period_grain",
    )


def _not_in_region(ctx: PackContext, key: str) -> str:
    note = esc(i18n.t("not_in_region_pack", ctx.lang))
    return f'<p class="srw-note" data-company-only="{esc(key)}">{note}</p>'


def _funnel_html(data: ResultsData, ctx: PackContext) -> str:
    if ctx.audience.region is not None:
        return _not_in_region(ctx, "funnel")
    lang = ctx.lang
    parts = []
    leads = data.lead_conversion
    if leads:
        parts.append(
            kpi_cards(
                ctx,
                [
                    Kpi("leads", tx("leads", lang), leads["lead_count"], "int"),
                    Kpi(
                        "lead_to_opportunity",
                        tx("lead_to_opportunity", lang),
                        leads["lead_to_opportunity_rate"],
                        "rate",
                    ),
                    Kpi(
                        "lead_to_won",
                        tx("lead_to_won", lang),
                        leads["lead_to_won_rate"],
                        "rate",
                        leads["previous_lead_to_won_rate"],
                        i18n.t("vs_previous_week", lang),
                    ),
                ],
            )
            + f'<p class="srw-note">{esc(tx("lead_caption", lang))}</p>'
        )
    rows = [
        {
            **s,
            "stage": s["stage_name"] if lang == "zh-CN" else (s["stage_name_en"] or s["stage_key"]),
            "bottleneck": tx("bottleneck", lang) if s["is_bottleneck"] else "",
        }
        for s in data.stages
    ]
    window = next((s for s in data.stages if s["window_start_date"] is not None), None)
    caption = (
        tx(
            "funnel_caption",
            lang,
            start=i18n.day_text(window["window_start_date"], lang),
            end=i18n.day_text(window["as_of_date"], lang),
        )
        if window
        else None
    )
    columns = [
        Column("stage", tx("stage", lang)),
        Column("entered_count", tx("entered", lang), "int"),
        Column("advanced_count", tx("advanced", lang), "int"),
        Column("lost_count", tx("lost", lang), "int"),
        Column("period_conversion_rate", tx("period_conversion", lang), "rate"),
        Column("resolved_conversion_rate", tx("window_conversion", lang), "rate"),
        Column("conversion_rate_change", tx("window_change", lang), "points"),
        Column("median_days_in_stage", tx("median_days", lang), "days"),
        Column("bottleneck", tx("bottleneck", lang)),
    ]
    parts.append(table(ctx, "results_funnel", columns, rows, caption=caption, row_key="stage_key"))
    return "".join(parts)


def _waterfall_steps(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The waterfall as steps: (key, count, signed amount, bar from, bar to), in yuan."""
    signed = {
        "open_start": row["open_start_amount"],
        "created": row["created_amount"],
        "won": -(row["won_amount"] or 0),
        "lost": -(row["lost_amount"] or 0),
        "amount_change": row["amount_change"],
        "open_end": row["open_end_amount"],
    }
    counts = {
        "open_start": row["open_start_count"],
        "created": row["created_count"],
        "won": row["won_count"],
        "lost": row["lost_count"],
        "amount_change": None,
        "open_end": row["open_end_count"],
    }
    steps, level = [], Decimal(0)
    for key in WATERFALL_STEPS:
        value = Decimal(str(signed[key] or 0))
        if key in ("open_start", "open_end"):
            low, high, kind = Decimal(0), value, "total"
            level = value
        else:
            low, high = level, level + value
            kind = "up" if value >= 0 else "down"
            level = high
        steps.append(
            {"key": key, "count": counts[key], "amount": value, "from": low, "to": high, "kind": kind}
        )
    return steps


def _pipeline_html(data: ResultsData, ctx: PackContext) -> str:
    lang, row = ctx.lang, data.waterfall
    if row is None:
        return table(ctx, "results_pipeline", [], [], empty=tx("no_waterfall", lang))
    steps = _waterfall_steps(row)
    rows = [
        {
            "key": s["key"],
            "step": tx("step_" + s["key"], lang),
            "count": s["count"],
            # the table shows each mart value as it is (won and lost as positive amounts)
            "amount": row[f"{s['key']}_amount"] if s["key"] != "amount_change" else row["amount_change"],
        }
        for s in steps
    ]
    columns = [
        Column("step", tx("step", lang)),
        Column("count", tx("deal_count", lang), "int"),
        Column("amount", i18n.t("amount", lang), "money"),
    ]
    caption = tx("waterfall_caption", lang, advanced=row["advanced_count"], slipped=row["slipped_count"])
    return _waterfall_chart(steps, ctx) + table(
        ctx, "results_pipeline", columns, rows, caption=caption, row_key="key"
    )


def _waterfall_chart(steps: list[dict[str, Any]], ctx: PackContext) -> str:
    lang = ctx.lang
    scale = i18n.money_scale([s["to"] for s in steps] + [s["amount"] for s in steps], lang)

    def axis(value: Decimal) -> float:
        return float(value / scale.divisor)

    labels = [tx("step_" + s["key"], lang) for s in steps]
    frame = pd.DataFrame(
        {
            "step": labels,
            "low": [axis(s["from"]) for s in steps],
            "high": [axis(s["to"]) for s in steps],
            "top": [max(axis(s["from"]), axis(s["to"])) for s in steps],
            "kind": [s["kind"] for s in steps],
            "text": [
                scale.number(s["amount"])
                if s["kind"] == "total"
                else f"{'+' if s['amount'] >= 0 else '−'}{scale.number(abs(s['amount']))}"
                for s in steps
            ],
        }
    )
    x = alt.X("step:N", sort=labels, title=None, axis=alt.Axis(labelAngle=0))
    bars = (
        alt.Chart(frame)
        .mark_bar(size=44)
        .encode(
            x=x,
            y=alt.Y("low:Q", title=scale.unit),
            y2="high:Q",
            color=alt.Color(
                "kind:N",
                legend=None,
                scale=alt.Scale(domain=["total", "up", "down"], range=["#5b7083", "#2da44e", "#cf222e"]),
            ),
        )
    )
    text = alt.Chart(frame).mark_text(dy=-7, fontSize=11).encode(x=x, y="top:Q", text="text:N")
    unit = ctx.audience.name(lang)
    title = tx("waterfall_chart", lang, unit=unit)
    spec = (bars + text).properties(width=600, height=240, title=title)
    values = "; ".join(f"{label} {t}" for label, t in zip(labels, frame["text"], strict=True))
    return chart(spec, f"{title} ({scale.unit}): {values}")


def _forecast_html(data: ResultsData, ctx: PackContext) -> str:
    if ctx.audience.region is not None:
        return _not_in_region(ctx, "forecast")
    lang, quarter = ctx.lang, data.quarter or {}
    label = quarter.get("period_label") or ""
    light = {"on_track": "green", "yellow": "yellow", "red": "red"}.get(quarter.get("lag_warning") or "")
    cards = [
        Kpi("quarter_target", tx("quarter_target", lang, quarter=label), quarter.get("target_amount")),
        Kpi(
            "quarter_actual",
            tx("quarter_actual", lang, quarter=label),
            quarter.get("actual_amount"),
            light=light,
        ),
    ]
    forecast = data.quarter_forecast
    if forecast:
        day = i18n.day_text(forecast["forecast_date"], lang)
        cards.append(
            Kpi("quarter_forecast", tx("quarter_forecast", lang, day=day), forecast["forecast_amount"])
        )
    following = data.next_week_forecast
    if following:
        week = ctx.period.next().label
        cards.append(
            Kpi("next_week_forecast", tx("next_week_forecast", lang, week=week), following["forecast_amount"])
        )
    return kpi_cards(ctx, cards) + f'<p class="srw-note">{esc(tx("forecast_caption", lang))}</p>'


def _collections_html(data: ResultsData, ctx: PackContext) -> str:
    lang, start = ctx.lang, ctx.period.start
    row = data.collections or {}
    before = _week_row(data.collection_trend, "week_start_date", start - timedelta(days=7))
    compare = i18n.t("vs_previous_week", lang)
    cards = kpi_cards(
        ctx,
        [
            Kpi(
                "planned",
                tx("planned", lang),
                row.get("planned_amount"),
                "money",
                before.get("planned_amount"),
                compare,
                higher_is_better=None,  # a larger plan is neither good nor bad
            ),
            Kpi(
                "collected_on_plan",
                tx("collected_on_plan", lang),
                row.get("collected_on_plan_amount"),
                "money",
                before.get("collected_on_plan_amount"),
                compare,
                [r["collected_on_plan_amount"] for r in data.collection_trend],
            ),
            Kpi(
                "shortfall",
                tx("shortfall", lang),
                row.get("shortfall_amount"),
                "money",
                before.get("shortfall_amount"),
                compare,
                higher_is_better=False,
            ),
            Kpi(
                "collection_rate",
                tx("collection_rate", lang),
                row.get("collection_rate"),
                "rate",
                before.get("collection_rate"),
                compare,
                [r["collection_rate"] for r in data.collection_trend],
                row.get("status_light") or "none",
            ),
            Kpi(
                "collected_total",
                tx("collected_total", lang),
                row.get("collected_total_amount"),
                "money",
                before.get("collected_total_amount"),
                compare,
            ),
        ],
    )
    company = ctx.audience.region is None
    units = [
        {**u, "unit_shown": i18n.region_name(u["unit_name"] or "", lang) if company else u["unit_name"]}
        for u in data.collection_units
    ]
    columns = [
        Column("unit_shown", i18n.t("region" if company else "rep", lang)),
        Column("planned_amount", tx("planned", lang), "money"),
        Column("collected_on_plan_amount", tx("collected_on_plan", lang), "money"),
        Column("shortfall_amount", tx("shortfall", lang), "money"),
        Column("collection_rate", tx("collection_rate", lang), "rate"),
        Column("status_light", i18n.t("status", lang), "light"),
        Column("collected_total_amount", tx("collected_total", lang), "money"),
    ]
    caption = tx("collections_regions" if company else "collections_reps", lang)
    return cards + table(ctx, "results_collections", columns, units, caption=caption, row_key="unit_id")


def _activities_html(data: ResultsData, ctx: PackContext) -> str:
    lang, start = ctx.lang, ctx.period.start
    week = _activity_totals(data, start)
    before = _activity_totals(data, start - timedelta(days=7))
    compare = i18n.t("vs_previous_week", lang)
    trend = data.activity_trend
    cards = kpi_cards(
        ctx,
        [
            Kpi("visits", tx("visits", lang), week.get("visits"), "int", before.get("visits"), compare,
                [r["visits"] for r in trend]),
            Kpi("calls", tx("calls", lang), week.get("calls"), "int", before.get("calls"), compare,
                [r["calls"] for r in trend]),
            Kpi("emails", tx("emails", lang), week.get("emails"), "int", before.get("emails"), compare,
                [r["emails"] for r in trend]),
            Kpi("high_potential_visits", tx("high_potential_visits", lang), week.get("high_potential_visits"),
                "int", before.get("high_potential_visits"), compare,
                [r["high_potential_visits"] for r in trend]),
        ],
    )  # fmt: skip
    company = ctx.audience.region is None
    count = len(data.activities)
    shown = data.activities[:REPS_SHOWN] if company else data.activities
    rows = [{**r, "region_shown": i18n.region_name(r["region"] or "", lang)} for r in shown]
    change = tx("change", lang)
    columns = [
        Column("rep_name", i18n.t("rep", lang)),
        Column("team_name", i18n.t("team", lang)),
        *([Column("region_shown", i18n.t("region", lang))] if company else []),
        Column("visit_count", tx("visits", lang), "int"),
        Column("visit_count_wow_change", change, "int"),
        Column("call_count", tx("calls", lang), "int"),
        Column("call_count_wow_change", change, "int"),
        Column("email_count", tx("emails", lang), "int"),
        Column("email_count_wow_change", change, "int"),
        Column("high_potential_visit_count", tx("high_potential_visits", lang), "int"),
        Column("high_potential_visit_share", tx("high_potential_share", lang), "rate"),
    ]
    caption = (
        tx("activities_caption_top", lang, shown=len(shown), count=count)
        if len(shown) < count
        else tx("activities_caption", lang)
    )
    return cards + table(ctx, "results_activities", columns, rows, caption=caption, row_key="rep_id")


def _month_text(month: date, lang: str) -> str:
    return tx("month_short", lang, month=month.month, abbr=month.strftime("%b"))


def _satisfaction_html(data: ResultsData, ctx: PackContext) -> str:
    lang = ctx.lang
    month = date(ctx.period.end.year, ctx.period.end.month, 1)
    current = next((r for r in data.satisfaction if r["month_start_date"] == month), {})
    before = next(
        (r for r in data.satisfaction if r["month_start_date"] == _months_before(month, 1)),
        {},
    )
    name = _month_text(month, lang)
    compare = tx("vs_previous_month", lang)
    cards = kpi_cards(
        ctx,
        [
            Kpi(
                "satisfaction",
                tx("satisfaction", lang, month=name),
                current.get("satisfaction_avg"),
                "number",
                before.get("satisfaction_avg"),
                compare,
                [r["satisfaction_avg"] for r in data.satisfaction],
            ),
            # counts of a month still running do not compare with a whole month: no comparison
            Kpi(
                "feedback_count", tx("feedback_count", lang, month=name), current.get("feedback_count"), "int"
            ),
            Kpi(
                "dissatisfied",
                tx("dissatisfied", lang, month=name),
                current.get("dissatisfied_count"),
                "int",
            ),
        ],
    )
    partial = _months_before(month, -1) > ctx.as_of  # the month is not over on the as-of date
    note = tx("satisfaction_caption", lang, months=SATISFACTION_MONTHS)
    if partial:
        note += tx("month_so_far", lang, as_of=i18n.day_text(ctx.as_of, lang))
    return cards + f'<p class="srw-note">{esc(note)}</p>'


def render(ctx: PackContext) -> ResultsData:
    data = load(ctx)
    lang = ctx.lang
    section("results", i18n.t("results", lang), findings(data, ctx))
    subsection("results-deals", tx("deals_title", lang), _deals_table(data, ctx))
    subsection("results-customers", tx("customers_title", lang), _customers_part_html(data, ctx))
    subsection("results-funnel", tx("funnel_title", lang), _funnel_html(data, ctx))
    subsection("results-pipeline", tx("pipeline_title", lang), _pipeline_html(data, ctx))
    subsection("results-forecast", tx("forecast_title", lang), _forecast_html(data, ctx))
    subsection("results-collections", tx("collections_title", lang), _collections_html(data, ctx))
    subsection("results-activities", tx("activities_title", lang), _activities_html(data, ctx))
    subsection("results-satisfaction", tx("satisfaction_title", lang), _satisfaction_html(data, ctx))
    return data
