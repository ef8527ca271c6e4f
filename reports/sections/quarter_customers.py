"""客户 Customers: the quarter's orders split into new and existing customers, the average order value
(客单价) and the repeat purchase rate, against the previous quarter and a year before (001); the ABC
classes (80/20) with their churn (高价值客户流失率, 004 §5.4.1) and RFM cells (002); churn warnings at
each month end of the quarter and the A customers at risk now (004 §3.2.2, §6.2.1).

Marts: fct_customer_sales (period_grain quarter), fct_customer_abc_summary and dim_customers (as of the
warehouse's as-of date: the classes and warnings describe customers now, not at the quarter end),
fct_customer_churn_monthly (the quarter's months). Sales here are ERP orders, not won deals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reports import i18n
from reports.components import Column, section, table
from reports.context import PackContext
from reports.sections import quarter_common as qc

SECTION_ID = "quarter-customers"
RFM_CELLS = 10
AT_RISK_SHOWN = 10
WARNING_LEVELS = ("rep", "manager", "director", "churned", "none")

tx = i18n.Texts(
    {
        "title": ("客户", "Customers"),
        "sales": ("订单额", "Orders"),
        "new_share": ("新客户贡献占比", "New customers' share"),
        "aov": ("客单价", "Average order value"),
        "repeat": ("复购率（近12个月）", "Repeat rate (12 months)"),
        "buyers": ("下单客户数", "Buying customers"),
        "first_orders": ("首单客户数", "First-time buyers"),
        "new_sales": ("新客户订单额", "New customers"),
        "existing_sales": ("老客户订单额", "Existing customers"),
        "sales_title": ("近两年各季度新老客户贡献", "New and existing customers, last two years"),
        "orders": ("订单数", "Orders"),
        "abc_title": ("ABC 分类与流失（截至 {as_of}）", "ABC classes and churn (as of {as_of})"),
        "abc_class": ("类别", "Class"),
        "customers": ("客户数", "Customers"),
        "window_sales": ("近12个月销售额", "Sales, last 12 months"),
        "sales_share": ("销售额占比", "Share of sales"),
        "churned": ("已流失", "Churned"),
        "churn_rate": ("流失率", "Churn rate"),
        "at_risk": ("流失预警", "At risk"),
        "warn_rep": ("销售级预警", "Rep warnings"),
        "warn_manager": ("经理级预警", "Manager warnings"),
        "warn_director": ("总监级预警", "Director warnings"),
        "months_title": ("本季各月末流失预警", "Churn warnings at each month end of the quarter"),
        "tracked": ("在跟踪客户", "Customers tracked"),
        "a_at_risk": ("A 类预警", "A at risk"),
        "a_churned": ("A 类已流失", "A churned"),
        "rfm_title": (
            "RFM 主要分组（截至 {as_of}，按近12个月销售额前 {n} 个）",
            "Main RFM cells (as of {as_of}, the top {n} by sales in the last 12 months)",
        ),
        "rfm_cell": ("RFM 组合", "RFM cell"),
        "r": ("R 最近购买", "R recency"),
        "f": ("F 购买频次", "F frequency"),
        "m": ("M 购买金额", "M monetary"),
        "a_count": ("其中 A 类", "Of which A"),
        "at_risk_title": ("流失预警的 A 类客户（截至 {as_of}）", "A customers at risk (as of {as_of})"),
        "owner": ("负责人", "Owner"),
        "decline_months": ("连续下滑月数", "Months declining"),
        "probability": ("流失概率", "Churn probability"),
        "warning": ("预警级别", "Warning"),
        "last_order": ("最近下单", "Last order"),
        "level_rep": ("销售", "Rep"),
        "level_manager": ("经理", "Manager"),
        "level_director": ("总监", "Director"),
        "level_churned": ("已流失", "Churned"),
        "level_none": ("无", "None"),
        "no_sales": ("{label} {who}无订单记录", "There are no orders recorded for {who} in {label}"),
        "sales_sentence": (
            "{label} {who}订单额 {sales}，其中新客户贡献 {new}（占 {share}），老客户 {existing}；"
            "客单价 {aov}，{aov_compare}；近12个月复购率 {repeat}，{repeat_compare}",
            "In {label} {who} took {sales} of orders: {new} from new customers ({share}) and {existing} "
            "from existing ones; the average order value was {aov} ({aov_compare}) and the 12-month "
            "repeat purchase rate {repeat} ({repeat_compare})",
        ),
        "abc_sentence": (
            "截至 {as_of}，A 类客户 {count} 家，贡献近12个月销售额的 {share}；其中已流失 {churned} 家，"
            "高价值客户流失率 {rate}",
            "As of {as_of}, {count} A-class customers bring {share} of the last 12 months' sales; "
            "{churned} of them have churned, a high-value churn rate of {rate}",
        ),
        "warnings_sentence": (
            "流失预警客户 {at_risk} 家（总监级 {director} 家、经理级 {manager} 家、销售级 {rep} 家）",
            "{at_risk} customers are at risk of churning ({director} director-level, {manager} manager-level "
            "and {rep} rep-level warnings)",
        ),
        "no_warnings": ("无流失预警客户", "No customer is at risk of churning"),
        "no_abc": (
            "截至 {as_of} 近12个月无客户下单，无 ABC 分类",
            "No customer ordered in the 12 months to {as_of}",
        ),
    }
)


@dataclass
class CustomersData:
    quarter: dict[str, Any] | None  # the audience's fct_customer_sales quarter row
    previous: dict[str, Any] | None
    year_before: dict[str, Any] | None
    as_of: date | None = None  # the date the ABC classes and warnings are as of
    history: list[dict[str, Any]] = field(default_factory=list)  # quarter rows, oldest first
    abc: list[dict[str, Any]] = field(default_factory=list)  # fct_customer_abc_summary: A, B, C
    months: list[dict[str, Any]] = field(default_factory=list)  # churn warnings per month end
    rfm: list[dict[str, Any]] = field(default_factory=list)
    at_risk: list[dict[str, Any]] = field(default_factory=list)  # A customers at risk


def load(ctx: PackContext) -> CustomersData:
    period = ctx.period
    unit_where, unit_params = ctx.unit()
    quarters = qc.quarters_back(period)
    history = ctx.rows(
        "select period_start_date, is_complete_period, sales_amount, order_count, buyer_count, "
        "new_customer_sales_amount, existing_customer_sales_amount, new_customer_sales_share, "
        "average_order_value, first_order_count, repeat_purchase_rate from marts.fct_customer_sales "
        f"where period_grain = 'quarter' and period_start_date between ? and ? and {unit_where} "
        "order by period_start_date",
        [quarters[0].start, period.start, *unit_params],
    )
    labels = {q.start: q.label for q in quarters}
    history = [{**r, "period_label": labels.get(r["period_start_date"], "")} for r in history]
    own = qc.by_start(history)
    abc = ctx.rows(
        "select as_of_date, abc_class, customer_count, window_sales_amount, sales_share, churned_count, "
        "churn_rate, at_risk_count, rep_warning_count, manager_warning_count, director_warning_count "
        f"from marts.fct_customer_abc_summary where {unit_where} order by abc_class",
        unit_params,
    )
    region_where, region_params = ctx.in_region()
    months = ctx.rows(
        "select month_start_date, count(*) as tracked, count(*) filter (where is_at_risk) as at_risk, "
        "count(*) filter (where is_churned) as churned, "
        "count(*) filter (where warning_level = 'rep') as rep_warnings, "
        "count(*) filter (where warning_level = 'manager') as manager_warnings, "
        "count(*) filter (where warning_level = 'director') as director_warnings, "
        "count(*) filter (where abc_class = 'A' and is_at_risk) as a_at_risk, "
        "count(*) filter (where abc_class = 'A' and is_churned) as a_churned "
        "from marts.fct_customer_churn_monthly where month_start_date between ? and ? "
        f"and {region_where} group by month_start_date order by month_start_date",
        [period.start, period.end, *region_params],
    )
    for row in months:
        row["month_label"] = row["month_start_date"].strftime("%Y-%m")
    rfm = ctx.rows(
        "select rfm_cell, recency_score, frequency_score, monetary_score, count(*) as customers, "
        "count(*) filter (where abc_class = 'A') as a_count, sum(window_sales_amount) as window_sales_amount "
        f"from marts.dim_customers where rfm_cell is not null and {region_where} "
        "group by all order by window_sales_amount desc nulls last, rfm_cell limit ?",
        [*region_params, RFM_CELLS],
    )
    at_risk = ctx.rows(
        "select customer_id, customer_name, region, owner_rep_name, window_sales_amount, "
        "decline_streak_months, churn_probability, warning_level, last_order_date from marts.dim_customers "
        f"where abc_class = 'A' and is_at_risk and {region_where} "
        "order by churn_probability desc nulls last, window_sales_amount desc, customer_id limit ?",
        [*region_params, AT_RISK_SHOWN],
    )
    return CustomersData(
        quarter=own.get(period.start),
        previous=own.get(period.previous().start),
        year_before=own.get(period.year_before().start),
        as_of=abc[0]["as_of_date"] if abc else ctx.as_of,
        history=history,
        abc=abc,
        months=months,
        rfm=rfm,
        at_risk=at_risk,
    )


# ---------------------------------------------------------------------------------------------- findings


def _as_of(data: CustomersData, ctx: PackContext) -> str:
    day = data.as_of or ctx.as_of
    return i18n.day_text(day, ctx.lang) + (f" {day.year}" if ctx.lang == "en" else "")


def findings(data: CustomersData, ctx: PackContext) -> list[str]:
    """2026-Q3 全公司订单额 3,364.8 万元，其中新客户贡献 2,031.1 万元（占 60.4%），老客户 1,333.7 万元；
    客单价 18.80 万元，…；近12个月复购率 14.8%，…。截至 11月22日，A 类客户 265 家，…"""
    lang, label, who = ctx.lang, qc.label(ctx), qc.who(ctx)
    sentences = []
    q = data.quarter
    if q is None or not q["order_count"]:
        sentences.append(qc.sentence(tx("no_sales", lang, label=label, who=who), lang))
    else:
        aov_prev = qc.amount_change(
            qc.growth(q["average_order_value"], qc.value(data.previous, "average_order_value")), "prev", lang
        )
        aov_year = qc.amount_change(
            qc.growth(q["average_order_value"], qc.value(data.year_before, "average_order_value")),
            "year",
            lang,
        )
        repeat_prev = qc.rate_change(
            qc.difference(q["repeat_purchase_rate"], qc.value(data.previous, "repeat_purchase_rate")),
            "prev",
            lang,
        )
        text = tx(
            "sales_sentence",
            lang,
            label=label,
            who=who,
            sales=i18n.money(q["sales_amount"], lang),
            new=i18n.money(q["new_customer_sales_amount"], lang),
            share=i18n.rate(q["new_customer_sales_share"]),
            existing=i18n.money(q["existing_customer_sales_amount"], lang),
            aov=i18n.money(q["average_order_value"], lang),
            aov_compare=qc.comparisons(aov_prev, aov_year, lang),
            repeat=i18n.rate(q["repeat_purchase_rate"]),
            repeat_compare=repeat_prev or qc.tx("none_prev", lang),
        )
        sentences.append(qc.sentence(text, lang))
    as_of = _as_of(data, ctx)
    a_class = next((r for r in data.abc if r["abc_class"] == "A"), None)
    if a_class is None:
        sentences.append(qc.sentence(tx("no_abc", lang, as_of=as_of), lang))
        return sentences
    sentences.append(
        qc.sentence(
            tx(
                "abc_sentence",
                lang,
                as_of=as_of,
                count=a_class["customer_count"],
                share=i18n.rate(a_class["sales_share"]),
                churned=a_class["churned_count"],
                rate=i18n.rate(a_class["churn_rate"]),
            ),
            lang,
        )
    )
    at_risk = sum(r["at_risk_count"] or 0 for r in data.abc)
    if at_risk:
        text = tx(
            "warnings_sentence",
            lang,
            at_risk=at_risk,
            director=sum(r["director_warning_count"] or 0 for r in data.abc),
            manager=sum(r["manager_warning_count"] or 0 for r in data.abc),
            rep=sum(r["rep_warning_count"] or 0 for r in data.abc),
        )
    else:
        text = tx("no_warnings", lang)
    sentences.append(qc.sentence(text, lang))
    return sentences


# ---------------------------------------------------------------------------------------------- page


def _kpis(data: CustomersData, ctx: PackContext) -> str:
    lang = ctx.lang

    def card(key: str, label: str, column: str, kind: str) -> qc.QuarterKpi:
        return qc.QuarterKpi(
            key,
            label,
            qc.value(data.quarter, column),
            kind,
            qc.value(data.previous, column),
            qc.value(data.year_before, column),
            [r[column] for r in data.history],
        )

    return qc.kpi_cards(
        ctx,
        [
            card("sales", tx("sales", lang), "sales_amount", "money"),
            card("new_share", tx("new_share", lang), "new_customer_sales_share", "rate"),
            card("aov", tx("aov", lang), "average_order_value", "money"),
            card("repeat", tx("repeat", lang), "repeat_purchase_rate", "rate"),
            card("buyers", tx("buyers", lang), "buyer_count", "int"),
            card("first_orders", tx("first_orders", lang), "first_order_count", "int"),
        ],
    )


def _sales_table(data: CustomersData, ctx: PackContext) -> str:
    lang = ctx.lang
    columns = [
        Column("period_label", i18n.t("quarter", lang)),
        Column("sales_amount", tx("sales", lang), "money"),
        Column("new_customer_sales_amount", tx("new_sales", lang), "money"),
        Column("existing_customer_sales_amount", tx("existing_sales", lang), "money"),
        Column("new_customer_sales_share", tx("new_share", lang), "rate"),
        Column("order_count", tx("orders", lang), "int"),
        Column("average_order_value", tx("aov", lang), "money"),
        Column("repeat_purchase_rate", tx("repeat", lang), "rate"),
    ]
    return table(
        ctx,
        "quarter_customer_sales",
        columns,
        data.history[::-1],
        caption=tx("sales_title", lang),
        row_key="period_label",
    )


def _abc_table(data: CustomersData, ctx: PackContext) -> str:
    lang = ctx.lang
    columns = [
        Column("abc_class", tx("abc_class", lang)),
        Column("customer_count", tx("customers", lang), "int"),
        Column("window_sales_amount", tx("window_sales", lang), "money"),
        Column("sales_share", tx("sales_share", lang), "rate"),
        Column("churned_count", tx("churned", lang), "int"),
        Column("churn_rate", tx("churn_rate", lang), "rate"),
        Column("at_risk_count", tx("at_risk", lang), "int"),
        Column("director_warning_count", tx("warn_director", lang), "int"),
        Column("manager_warning_count", tx("warn_manager", lang), "int"),
        Column("rep_warning_count", tx("warn_rep", lang), "int"),
    ]
    caption = tx("abc_title", lang, as_of=_as_of(data, ctx))
    return table(ctx, "quarter_customer_abc", columns, data.abc, caption=caption, row_key="abc_class")


def _months_table(data: CustomersData, ctx: PackContext) -> str:
    lang = ctx.lang
    columns = [
        Column("month_label", i18n.t("month", lang)),
        Column("tracked", tx("tracked", lang), "int"),
        Column("at_risk", tx("at_risk", lang), "int"),
        Column("director_warnings", tx("warn_director", lang), "int"),
        Column("manager_warnings", tx("warn_manager", lang), "int"),
        Column("rep_warnings", tx("warn_rep", lang), "int"),
        Column("churned", tx("churned", lang), "int"),
        Column("a_at_risk", tx("a_at_risk", lang), "int"),
        Column("a_churned", tx("a_churned", lang), "int"),
    ]
    return table(
        ctx,
        "quarter_churn_months",
        columns,
        data.months,
        caption=tx("months_title", lang),
        row_key="month_label",
    )


def _rfm_table(data: CustomersData, ctx: PackContext) -> str:
    lang = ctx.lang
    columns = [
        Column("rfm_cell", tx("rfm_cell", lang)),
        Column("recency_score", tx("r", lang), "int"),
        Column("frequency_score", tx("f", lang), "int"),
        Column("monetary_score", tx("m", lang), "int"),
        Column("customers", tx("customers", lang), "int"),
        Column("a_count", tx("a_count", lang), "int"),
        Column("window_sales_amount", tx("window_sales", lang), "money"),
    ]
    caption = tx("rfm_title", lang, as_of=_as_of(data, ctx), n=RFM_CELLS)
    return table(ctx, "quarter_customer_rfm", columns, data.rfm, caption=caption, row_key="rfm_cell")


def _at_risk_table(data: CustomersData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = [
        {
            **r,
            "region_shown": i18n.region_name(r["region"] or "", lang),
            "warning": tx("level_" + r["warning_level"], lang)
            if r["warning_level"] in WARNING_LEVELS
            else "",
        }
        for r in data.at_risk
    ]
    columns = [
        Column("customer_name", i18n.t("customer", lang)),
        *([Column("region_shown", i18n.t("region", lang))] if ctx.audience.region is None else []),
        Column("owner_rep_name", tx("owner", lang)),
        Column("window_sales_amount", tx("window_sales", lang), "money"),
        Column("decline_streak_months", tx("decline_months", lang), "int"),
        Column("churn_probability", tx("probability", lang), "rate"),
        Column("warning", tx("warning", lang)),
        Column("last_order_date", tx("last_order", lang), "date"),
    ]
    caption = tx("at_risk_title", lang, as_of=_as_of(data, ctx))
    return table(ctx, "quarter_customers_at_risk", columns, rows, caption=caption, row_key="customer_id")


def render(ctx: PackContext) -> CustomersData:
    data = load(ctx)
    section(
        SECTION_ID,
        tx("title", ctx.lang),
        findings(data, ctx),
        _kpis(data, ctx),
        _sales_table(data, ctx),
        _abc_table(data, ctx),
        _months_table(data, ctx),
        _rfm_table(data, ctx),
        _at_risk_table(data, ctx),
    )
    return data
