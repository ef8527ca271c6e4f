"""应收与回款 Receivables: receivables at the quarter end, DSO and the collection effectiveness index
(CEI) against the previous quarter and a year before, their two-year trend, the aging of the open balance
at the quarter end (004 §2.1.3, 002: DSO −15 days), the customers owing most overdue, and the quarter's
collections against the weekly collection plans.

Marts: fct_ar_dso_cei (quarter), fct_ar_aging (is_quarter_end, company/region and customer rows),
fct_collections_weekly (the quarter's weeks). A week's collection plan re-plans every overdue invoice, so
plans of different weeks are never added up: the quarter's collections are the payments of fct_ar_dso_cei
and the weeks are counted by their status light.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import altair as alt
import pandas as pd

from reports import i18n
from reports.components import Column, chart, money_axis_values, section, table
from reports.context import PackContext
from reports.sections import quarter_common as qc

SECTION_ID = "quarter-receivables"
TOP_CUSTOMERS = 10

tx = i18n.Texts(
    {
        "title": ("应收与回款", "Receivables and collections"),
        "closing_ar": ("季末应收账款", "Receivables at quarter end"),
        "closing_overdue_ar": ("其中逾期", "Of which overdue"),
        "dso": ("应收账款周转天数 DSO", "DSO"),
        "turnover": ("周转天数", "Turnover days"),
        "cei": ("回款有效率 CEI", "CEI"),
        "collections": ("本季回款", "Collected this quarter"),
        "dso_change": ("DSO 变化（天）", "DSO change (days)"),
        "col_closing_ar": ("季末应收", "AR at end"),
        "col_overdue": ("逾期", "Overdue"),
        "col_credit_sales": ("开票", "Invoiced"),
        "col_collections": ("回款", "Collected"),
        "cei_pct": ("CEI (%)", "CEI (%)"),
        "dso_days": ("DSO（天）", "DSO (days)"),
        "turnover_days": ("周转天数（天）", "Turnover (days)"),
        "trend_title": ("近两年各季度应收、DSO 与 CEI", "Receivables, DSO and CEI, last two years"),
        "chart_title": (
            "各季度末应收账款：未到期与逾期",
            "Receivables at each quarter end: current and overdue",
        ),
        "series_current": ("未到期", "Current"),
        "series_overdue": ("逾期", "Overdue"),
        "aging_title": ("{date} 账龄", "Aging at {date}"),
        "bucket": ("账龄", "Age"),
        "balance": ("余额", "Balance"),
        "share": ("占比", "Share"),
        "invoices": ("发票数", "Invoices"),
        "balance_previous": ("上季末余额", "Last quarter end"),
        "customers_title": ("季末逾期最多的客户", "Customers owing most overdue at the quarter end"),
        "open_balance": ("应收余额", "Open balance"),
        "overdue": ("逾期金额", "Overdue"),
        "oldest": ("最长账龄", "Oldest"),
        "weeks_title": ("本季各周回款计划与实际", "Collection plan and collections, week by week"),
        "planned": ("计划回款", "Planned"),
        "collected_on_plan": ("计划内回款", "Collected on plan"),
        "collection_rate": ("回款率", "Collection rate"),
        "shortfall": ("缺口", "Shortfall"),
        "collected_total": ("全部回款", "All collections"),
        "no_data": ("{label} 季末{who}无应收数据", "There are no receivables figures for {who} for {label}"),
        "ar_part": (
            "{label} 季末{who}应收账款 {ar}，其中逾期 {overdue}（占 {share}）",
            "At the end of {label}, {who} had {ar} receivable, of which {overdue} overdue ({share})",
        ),
        "dso_part": ("DSO {dso} 天，{compare}", "DSO was {dso} days ({compare})"),
        "cei_part": ("CEI {cei}%，{compare}", "CEI {cei}% ({compare})"),
        "no_cei": ("本季无到期应收，CEI 不适用", "CEI does not apply: nothing fell due"),
        "collections_sentence": (
            "本季回款 {collections}，{compare}",
            "Collections for the quarter came to {collections}, {compare}",
        ),
        "weeks_lights": (
            "{weeks} 个有回款计划的周中 {green} 周绿灯、{red} 周红灯",
            "of the {weeks} weeks with a collection plan, {green} were green and {red} red",
        ),
        "no_plan_weeks": ("本季各周无回款计划", "no week of the quarter had a collection plan"),
        "oldest_bucket": (
            "季末{bucket}的应收 {amount}，占 {share}",
            "{bucket} at the quarter end: {amount}, {share} of the balance",
        ),
        "top_customer": (
            "逾期最多的客户是{name}（{amount}）",
            "the customer owing most overdue is {name} ({amount})",
        ),
    }
)


@dataclass
class ReceivablesData:
    quarter: dict[str, Any] | None  # the audience's fct_ar_dso_cei quarter row
    previous: dict[str, Any] | None
    year_before: dict[str, Any] | None
    history: list[dict[str, Any]] = field(default_factory=list)  # quarter rows, oldest first
    aging: list[dict[str, Any]] = field(default_factory=list)  # buckets at the quarter end (+ previous)
    customers: list[dict[str, Any]] = field(default_factory=list)  # most overdue at the quarter end
    weeks: list[dict[str, Any]] = field(default_factory=list)  # fct_collections_weekly of the weeks


def _bucket_label(ctx: PackContext) -> tuple[str, str]:
    """(the bucket label column, the join it needs). fct_ar_aging carries the Chinese label only; the
    English one lives in the seed aging_buckets, which a warehouse without it simply lacks."""
    if ctx.lang == "zh-CN":
        return "a.bucket_label", ""
    found = ctx.rows(
        "select count(*) as n from information_schema.columns "
        "where table_schema = 'seeds' and table_name = 'aging_buckets' and column_name = 'bucket_label_en'"
    )
    if not found[0]["n"]:
        return "a.bucket_label", ""
    return "coalesce(b.bucket_label_en, a.bucket_label)", "left join seeds.aging_buckets b using (bucket_key)"


def load(ctx: PackContext) -> ReceivablesData:
    period = ctx.period
    unit_where, unit_params = ctx.unit()
    quarters = qc.quarters_back(period)
    history = ctx.rows(
        "select period_start_date, period_label, is_complete_period, opening_ar, credit_sales, collections, "
        "closing_ar, closing_current_ar, closing_overdue_ar, dso_days, dso_change_days, turnover_days, "
        "turnover_days_change, cei_pct from marts.fct_ar_dso_cei "
        f"where period_type = 'quarter' and period_start_date between ? and ? and {unit_where} "
        "order by period_start_date",
        [quarters[0].start, period.start, *unit_params],
    )
    own = qc.by_start(history)
    label, join = _bucket_label(ctx)
    aging_where, aging_params = ctx.unit("a")
    aging_rows = ctx.rows(
        f"select a.snapshot_date, a.bucket_key, a.bucket_order, {label} as bucket_shown, a.open_balance, "
        "a.invoice_count, a.total_open_balance, a.share_of_open_balance "
        f"from marts.fct_ar_aging a {join} where a.snapshot_date in (?, ?) and a.is_quarter_end "
        f"and {aging_where} order by a.bucket_order",
        [period.end, period.previous().end, *aging_params],
    )
    before = {
        r["bucket_key"]: r["open_balance"] for r in aging_rows if r["snapshot_date"] == period.previous().end
    }
    aging = [
        {**r, "previous_balance": before.get(r["bucket_key"])}
        for r in aging_rows
        if r["snapshot_date"] == period.end
    ]
    region_where, region_params = ctx.in_region("a.region")
    # Overdue = every bucket after the first (the seed's first bucket is "not yet due").
    customers = ctx.rows(
        "select a.unit_id as customer_id, a.unit_name as customer_name, a.region, "
        "max(a.total_open_balance) as total_open_balance, "
        "sum(a.open_balance) filter (where a.bucket_order > 1) as overdue_amount, "
        f"arg_max({label}, a.bucket_order) filter (where a.open_balance > 0) as oldest_bucket "
        f"from marts.fct_ar_aging a {join} "
        f"where a.level = 'customer' and a.snapshot_date = ? and {region_where} "
        "group by all having sum(a.open_balance) filter (where a.bucket_order > 1) > 0 "
        "order by overdue_amount desc, customer_id limit ?",
        [period.end, *region_params, TOP_CUSTOMERS],
    )
    first_week, last_week = qc.week_range(period)
    weeks = ctx.rows(
        "select week_label, week_start_date, planned_amount, collected_on_plan_amount, collection_rate, "
        "shortfall_amount, status_light, collected_total_amount from marts.fct_collections_weekly "
        f"where week_start_date between ? and ? and {unit_where} order by week_start_date",
        [first_week, last_week, *unit_params],
    )
    return ReceivablesData(
        quarter=own.get(period.start),
        previous=own.get(period.previous().start),
        year_before=own.get(period.year_before().start),
        history=history,
        aging=aging,
        customers=customers,
        weeks=weeks,
    )


# ---------------------------------------------------------------------------------------------- findings


def findings(data: ReceivablesData, ctx: PackContext) -> list[str]:
    """2026-Q3 季末全公司应收账款 3,210.0 万元，其中逾期 1,304.8 万元（占 40.6%）；DSO 90.6 天，较上季增加
    2.6 天；CEI 69.3%，较上季提升 1.3 个百分点。本季回款 …"""
    lang, label, who = ctx.lang, qc.label(ctx), qc.who(ctx)
    q = data.quarter
    if q is None:
        return [qc.sentence(tx("no_data", lang, label=label, who=who), lang)]
    sep = "；" if lang == "zh-CN" else "; "
    share = q["closing_overdue_ar"] / q["closing_ar"] if q["closing_ar"] else None
    parts = [
        tx(
            "ar_part",
            lang,
            label=label,
            who=who,
            ar=i18n.money(q["closing_ar"], lang),
            overdue=i18n.money(q["closing_overdue_ar"], lang),
            share=i18n.rate(share),
        )
    ]
    if q["dso_days"] is not None:
        dso_compare = qc.days_change(q["dso_change_days"], lang) if data.previous else None
        parts.append(
            tx(
                "dso_part",
                lang,
                dso=qc.one_decimal(q["dso_days"]),
                compare=dso_compare or qc.tx("none_prev", lang),
            )
        )
    if q["cei_pct"] is None:
        parts.append(tx("no_cei", lang))
    else:
        before = qc.value(data.previous, "cei_pct")
        cei_change = None if before is None else (q["cei_pct"] - before) / 100
        cei_compare = qc.rate_change(cei_change, "prev", lang) or qc.tx("none_prev", lang)
        parts.append(tx("cei_part", lang, cei=qc.one_decimal(q["cei_pct"]), compare=cei_compare))
    sentences = [qc.sentence(sep.join(parts), lang)]

    collections = tx(
        "collections_sentence",
        lang,
        collections=i18n.money(q["collections"], lang),
        compare=qc.comparisons(
            qc.amount_change(
                qc.growth(q["collections"], qc.value(data.previous, "collections")), "prev", lang
            ),
            qc.amount_change(
                qc.growth(q["collections"], qc.value(data.year_before, "collections")), "year", lang
            ),
            lang,
        ),
    )
    planned = [w for w in data.weeks if w["status_light"] in ("green", "yellow", "red")]
    if planned:
        lights = tx(
            "weeks_lights",
            lang,
            weeks=len(planned),
            green=sum(1 for w in planned if w["status_light"] == "green"),
            red=sum(1 for w in planned if w["status_light"] == "red"),
        )
    else:
        lights = tx("no_plan_weeks", lang)
    sentences.append(qc.sentence(collections + sep + lights, lang))

    parts = []
    oldest = data.aging[-1] if data.aging else None
    if oldest and oldest["open_balance"]:
        parts.append(
            tx(
                "oldest_bucket",
                lang,
                bucket=oldest["bucket_shown"],
                amount=i18n.money(oldest["open_balance"], lang),
                share=i18n.rate(oldest["share_of_open_balance"]),
            )
        )
    if data.customers:
        top = data.customers[0]
        parts.append(
            tx(
                "top_customer",
                lang,
                name=top["customer_name"],
                amount=i18n.money(top["overdue_amount"], lang),
            )
        )
    if parts:
        sentences.append(qc.sentence(qc.capitalised(sep.join(parts)), lang))
    return sentences


# ---------------------------------------------------------------------------------------------- page


def _kpis(data: ReceivablesData, ctx: PackContext) -> str:
    lang = ctx.lang

    def card(key: str, label: str, column: str, kind: str, better: bool | None) -> qc.QuarterKpi:
        return qc.QuarterKpi(
            key,
            label,
            qc.value(data.quarter, column),
            kind,
            qc.value(data.previous, column),
            qc.value(data.year_before, column),
            [r[column] for r in data.history],
            higher_is_better=better,
        )

    return qc.kpi_cards(
        ctx,
        [
            card("closing_ar", tx("closing_ar", lang), "closing_ar", "money", None),
            card("closing_overdue_ar", tx("closing_overdue_ar", lang), "closing_overdue_ar", "money", False),
            card("dso", tx("dso", lang), "dso_days", "days", False),
            card("turnover", tx("turnover", lang), "turnover_days", "days", False),
            card("cei", tx("cei", lang), "cei_pct", "pct", True),
            card("collections", tx("collections", lang), "collections", "money", True),
        ],
    )


def _chart(data: ReceivablesData, ctx: PackContext) -> str:
    rows = [r for r in data.history if r["closing_ar"] is not None]
    if len(rows) < 2:
        return ""
    lang = ctx.lang
    amounts = [r["closing_current_ar"] for r in rows] + [r["closing_overdue_ar"] for r in rows]
    scaled, unit = money_axis_values(amounts, lang)
    n = len(rows)
    labels = [r["period_label"] for r in rows]
    current, overdue = tx("series_current", lang), tx("series_overdue", lang)
    frame = pd.DataFrame(
        {
            "quarter": labels * 2,
            "value": scaled,
            "series": [current] * n + [overdue] * n,
            "order": [0] * n + [1] * n,
        }
    )
    spec = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("quarter:O", title=None, sort=labels, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", stack="zero", axis=alt.Axis(**qc.CHART_Y_AXIS)),
            color=alt.Color(
                "series:N",
                legend=alt.Legend(**qc.CHART_LEGEND),
                scale=alt.Scale(domain=[current, overdue], range=["#8bb8f0", "#d1242f"]),
            ),
            order=alt.Order("order:Q"),
        )
        .properties(width=qc.CHART_WIDTH, height=200, title=qc.with_unit(tx("chart_title", lang), unit, lang))
    )
    return chart(spec, tx("chart_title", lang))


def _trend_table(data: ReceivablesData, ctx: PackContext) -> str:
    lang = ctx.lang
    columns = [
        Column("period_label", i18n.t("quarter", lang)),
        Column("closing_ar", tx("col_closing_ar", lang), "money"),
        Column("closing_overdue_ar", tx("col_overdue", lang), "money"),
        Column("dso_days", tx("dso_days", lang), "number"),
        Column("dso_change_days", tx("dso_change", lang), "number"),
        Column("turnover_days", tx("turnover_days", lang), "number"),
        Column("cei_pct", tx("cei_pct", lang), "number"),
        Column("credit_sales", tx("col_credit_sales", lang), "money"),
        Column("collections", tx("col_collections", lang), "money"),
    ]
    rows = data.history[::-1]  # the pack's quarter first
    return table(
        ctx, "quarter_ar_trend", columns, rows, caption=tx("trend_title", lang), row_key="period_label"
    )


def _aging_table(data: ReceivablesData, ctx: PackContext) -> str:
    lang = ctx.lang
    columns = [
        Column("bucket_shown", tx("bucket", lang)),
        Column("open_balance", tx("balance", lang), "money"),
        Column("share_of_open_balance", tx("share", lang), "rate"),
        Column("invoice_count", tx("invoices", lang), "int"),
        Column("previous_balance", tx("balance_previous", lang), "money"),
    ]
    caption = tx("aging_title", lang, date=ctx.period.end.isoformat())
    return table(ctx, "quarter_ar_aging", columns, data.aging, caption=caption, row_key="bucket_key")


def _customers_table(data: ReceivablesData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = [{**r, "region_shown": i18n.region_name(r["region"] or "", lang)} for r in data.customers]
    columns = [
        Column("customer_name", i18n.t("customer", lang)),
        *([Column("region_shown", i18n.t("region", lang))] if ctx.audience.region is None else []),
        Column("total_open_balance", tx("open_balance", lang), "money"),
        Column("overdue_amount", tx("overdue", lang), "money"),
        Column("oldest_bucket", tx("oldest", lang)),
    ]
    return table(
        ctx, "quarter_ar_customers", columns, rows, caption=tx("customers_title", lang), row_key="customer_id"
    )


def _weeks_table(data: ReceivablesData, ctx: PackContext) -> str:
    lang = ctx.lang
    columns = [
        Column("week_label", i18n.t("week", lang)),
        Column("planned_amount", tx("planned", lang), "money"),
        Column("collected_on_plan_amount", tx("collected_on_plan", lang), "money"),
        Column("collection_rate", tx("collection_rate", lang), "rate"),
        Column("shortfall_amount", tx("shortfall", lang), "money"),
        Column("status_light", i18n.t("status", lang), "light"),
        Column("collected_total_amount", tx("collected_total", lang), "money"),
    ]
    return table(
        ctx,
        "quarter_collections_weeks",
        columns,
        data.weeks,
        caption=tx("weeks_title", lang),
        row_key="week_label",
    )


def render(ctx: PackContext) -> ReceivablesData:
    data = load(ctx)
    section(
        SECTION_ID,
        tx("title", ctx.lang),
        findings(data, ctx),
        _kpis(data, ctx),
        _chart(data, ctx),
        _trend_table(data, ctx),
        _aging_table(data, ctx),
        _customers_table(data, ctx),
        _weeks_table(data, ctx),
    )
    return data
