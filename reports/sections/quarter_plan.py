"""季节性 Seasonality and 下季度计划 next quarter's plan: the two parts of the quarterly pack that look
forward (000 §1: the plan half, kept apart from the summary).

Seasonality: the seasonal index per month and quarter (fct_seasonal_index: from the won history, or the
preset weights when the history is too short), the pack's quarter and the next against an average one.

The plan: next quarter's top-down plan (倒推法, 002: fct_plan_periods, the company's only), its months, the
targets set for it and those targets re-timed by the seasonal index (fct_attainment_seasonal, once the
quarter has started), and the plan split down to regions, teams and reps (fct_plan_targets). The plan
marts are made relative to the warehouse's as-of date: their next quarter is the one after the as-of
date's quarter. For the latest complete quarter that is the quarter after next, so the rep-by-rep plan
is shown under its own label and the findings say which quarter it is for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import altair as alt
import pandas as pd

from reports import i18n
from reports.components import Column, chart, section, table
from reports.context import PackContext, Period
from reports.sections import quarter_common as qc

SEASONALITY_ID = "quarter-seasonality"
PLAN_ID = "quarter-plan"
LEVELS = ("region", "team", "rep")

tx = i18n.Texts(
    {
        "seasonality_title": ("季节性", "Seasonality"),
        "plan_title": ("下季度计划", "Next quarter's plan"),
        "index": ("季节指数", "Seasonal index"),
        "source": ("来源", "Source"),
        "source_history": ("历史成交", "Won history"),
        "source_fallback_seed": ("预设权重", "Preset weights"),
        "history_index": ("历史测算指数", "From history"),
        "fallback_index": ("预设权重指数", "Preset"),
        "years_observed": ("观测年数", "Years observed"),
        "avg_won": ("平均成交额", "Average won"),
        "quarters_title": ("各季度季节指数", "Seasonal index by quarter"),
        "company_wide": (
            "季节指数按全公司成交测算，各区域的季节调整目标都用它。",
            "The seasonal index is measured on the whole company's wins; "
            "every region's adjusted target uses it.",
        ),
        "chart_title": (
            "各月季节指数（100% = 平均月份）",
            "Seasonal index by month (100% = an average month)",
        ),
        "series_this": ("本季", "This quarter"),
        "series_next": ("下季", "Next quarter"),
        "series_other": ("其他月份", "Other months"),
        "source_history_sentence": (
            "季节指数按{first}至{last}的历史成交测算",
            "The seasonal index is computed from won deals from {first} to {last}",
        ),
        "source_fallback_sentence": (
            "历史成交不足，季节指数取预设权重",
            "With too little won history the seasonal index uses the preset weights",
        ),
        "quarters_sentence": (
            "本季（{this}）指数 {this_index}，下季（{next}）{next_index}：{compare}",
            "this quarter ({this}) has an index of {this_index} and next quarter ({next}) {next_index}: "
            "{compare}",
        ),
        "next_higher": (
            "下季成交通常比平均季度高 {rate}",
            "next quarter usually sells {rate} more than an average one",
        ),
        "next_lower": (
            "下季成交通常比平均季度低 {rate}",
            "next quarter usually sells {rate} less than an average one",
        ),
        "next_flat": (
            "下季成交通常与平均季度相当",
            "next quarter usually sells about as much as an average one",
        ),
        "no_index": ("暂无季节指数", "There is no seasonal index yet"),
        "plan_amount": ("倒推计划", "Top-down plan"),
        "targets_set": ("已设目标", "Targets set"),
        "sa_target": ("季节调整目标", "Seasonally adjusted target"),
        "share": ("占全公司", "Share of company"),
        "coverage": ("管道覆盖率", "Pipeline coverage"),
        "pipeline": ("加权管道", "Weighted pipeline"),
        "level": ("层级", "Level"),
        "level_region": ("区域", "Region"),
        "level_team": ("团队", "Team"),
        "level_rep": ("销售代表", "Rep"),
        "unit": ("单位", "Unit"),
        "months_title": ("{next} 各月计划", "{next} month by month"),
        "units_title": ("{next} 各单位目标与计划", "{next}: targets and plan by unit"),
        "plan_units_title": (
            "按人分解的季度计划（{plan}，非 {next}）",
            "The rep-by-rep quarter plan ({plan}, not {next})",
        ),
        "plan_sentence": (
            "下季度（{next}）按倒推法计划 {plan}，季节指数 {index}，{compare}",
            "The top-down plan for next quarter ({next}) is {plan} at a seasonal index of {index}, {compare}",
        ),
        "plan_above": ("比已设目标 {target}高 {rate}", "{rate} above the targets set ({target})"),
        "plan_below": ("比已设目标 {target}低 {rate}", "{rate} below the targets set ({target})"),
        "plan_equal": ("与已设目标 {target} 持平", "level with the targets set ({target})"),
        "plan_no_target": ("尚无已设目标可比", "with no targets set to compare with"),
        "no_plan": ("{next} 无倒推计划", "There is no top-down plan for {next}"),
        "region_plan_sentence": (
            "下季度（{next}）{who}分得计划 {plan}，占全公司 {share}",
            "Next quarter ({next}) {who} is planned at {plan}, {share} of the company's plan",
        ),
        "targets_sentence": (
            "{next} {who}已设目标 {target}，按季节指数调整后为 {sa}",
            "The targets set for {who} for {next} total {target}; seasonally adjusted, {sa}",
        ),
        "no_targets": ("{next} {who}尚无已设目标", "No targets are set for {who} for {next} yet"),
        "split_sentence": (
            "计划已分解到 {n} 名销售代表{coverage}",
            "The plan is split over {n} reps{coverage}",
        ),
        "split_coverage": ("，加权管道覆盖计划的 {rate}", "; the weighted pipeline covers {rate} of it"),
        "other_plan_sentence": (
            "按人分解的计划是 {plan} 的，不是 {next}：计划按数据截至日（{as_of}）的下一季度编制",
            "The rep-by-rep plan is for {plan}, not {next}: plans are made for the quarter after the data's "
            "as-of date ({as_of})",
        ),
        "no_split": ("暂无按人分解的季度计划", "There is no rep-by-rep quarter plan yet"),
    }
)


# ---------------------------------------------------------------------------------------------- seasonality


@dataclass
class SeasonalityData:
    months: list[dict[str, Any]] = field(default_factory=list)  # fct_seasonal_index, month rows 1-12
    quarters: list[dict[str, Any]] = field(default_factory=list)  # quarter rows 1-4


def quarter_number(period: Period) -> int:
    return (period.start.month - 1) // 3 + 1


def load_seasonality(ctx: PackContext) -> SeasonalityData:
    rows = ctx.rows(
        "select period_type, period_of_year, period_label, seasonal_index, index_source, history_index, "
        "fallback_index, years_observed, avg_won_amount, history_first_month_date, history_last_month_date "
        "from marts.fct_seasonal_index order by period_type, period_of_year"
    )
    return SeasonalityData(
        months=[r for r in rows if r["period_type"] == "month"],
        quarters=[r for r in rows if r["period_type"] == "quarter"],
    )


def _month_name(month: int, lang: str) -> str:
    return f"{month}月" if lang == "zh-CN" else date(2000, month, 1).strftime("%b")


def _month_text(day: date | None, lang: str) -> str:
    if day is None:
        return i18n.MISSING
    return f"{day.year}年{day.month}月" if lang == "zh-CN" else day.strftime("%b %Y")


def seasonality_findings(data: SeasonalityData, ctx: PackContext) -> list[str]:
    """季节指数按2024年4月至2026年10月的历史成交测算；本季（Q3）指数 95.8%，下季（Q4）139.3%：
    下季成交通常比平均季度高 39.3%。"""
    lang = ctx.lang
    by_number = {r["period_of_year"]: r for r in data.quarters}
    this = by_number.get(quarter_number(ctx.period))
    following = by_number.get(quarter_number(ctx.period.next()))
    if this is None or following is None:
        return [qc.sentence(tx("no_index", lang), lang)]
    if this["index_source"] == "history":
        source = tx(
            "source_history_sentence",
            lang,
            first=_month_text(this["history_first_month_date"], lang),
            last=_month_text(this["history_last_month_date"], lang),
        )
    else:
        source = tx("source_fallback_sentence", lang)
    above = float(following["seasonal_index"]) - 1
    if round(above * 100, 1) == 0:
        compare = tx("next_flat", lang)
    else:
        compare = tx("next_higher" if above > 0 else "next_lower", lang, rate=i18n.rate(abs(above)))
    quarters = tx(
        "quarters_sentence",
        lang,
        this=this["period_label"],
        this_index=qc.index_text(this["seasonal_index"]),
        next=following["period_label"],
        next_index=qc.index_text(following["seasonal_index"]),
        compare=compare,
    )
    return [qc.sentence(source + ("；" if lang == "zh-CN" else "; ") + quarters, lang)]


def _seasonality_chart(data: SeasonalityData, ctx: PackContext) -> str:
    if len(data.months) < 2:
        return ""
    lang = ctx.lang
    this_months = {ctx.period.start.month + i for i in range(3)}
    next_months = {ctx.period.next().start.month + i for i in range(3)}
    groups = [
        tx("series_this", lang)
        if r["period_of_year"] in this_months
        else tx("series_next", lang)
        if r["period_of_year"] in next_months
        else tx("series_other", lang)
        for r in data.months
    ]
    labels = [_month_name(r["period_of_year"], lang) for r in data.months]
    frame = pd.DataFrame(
        {"month": labels, "index": [float(r["seasonal_index"]) for r in data.months], "group": groups}
    )
    domain = [tx("series_this", lang), tx("series_next", lang), tx("series_other", lang)]
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=None, sort=labels, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("index:Q", axis=alt.Axis(format="%", **qc.CHART_Y_AXIS)),
            color=alt.Color(
                "group:N",
                legend=alt.Legend(**qc.CHART_LEGEND),
                scale=alt.Scale(domain=domain, range=["#1f6feb", "#bf8700", "#c8d1dc"]),
            ),
        )
    )
    rule = alt.Chart(pd.DataFrame({"y": [1.0]})).mark_rule(color="#57606a", strokeDash=[4, 3]).encode(y="y:Q")
    spec = alt.layer(bars, rule).properties(width=qc.CHART_WIDTH, height=180, title=tx("chart_title", lang))
    return chart(spec, tx("chart_title", lang))


def _seasonality_table(data: SeasonalityData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = [
        {**r, "source_shown": tx("source_" + r["index_source"], lang) if r["index_source"] else ""}
        for r in data.quarters
    ]
    columns = [
        Column("period_label", i18n.t("quarter", lang)),
        Column("seasonal_index", tx("index", lang), "rate"),
        Column("source_shown", tx("source", lang)),
        Column("history_index", tx("history_index", lang), "rate"),
        Column("fallback_index", tx("fallback_index", lang), "rate"),
        Column("years_observed", tx("years_observed", lang), "int"),
        Column("avg_won_amount", tx("avg_won", lang), "money"),
    ]
    return table(
        ctx,
        "quarter_seasonal_index",
        columns,
        rows,
        caption=tx("quarters_title", lang),
        row_key="period_label",
    )


def render_seasonality(ctx: PackContext) -> SeasonalityData:
    data = load_seasonality(ctx)
    section(
        SEASONALITY_ID,
        tx("seasonality_title", ctx.lang),
        seasonality_findings(data, ctx),
        _seasonality_chart(data, ctx),
        _seasonality_table(data, ctx),
        qc.note(tx("company_wide", ctx.lang)) if ctx.audience.region else "",
    )
    return data


# ---------------------------------------------------------------------------------------------- the plan


@dataclass
class PlanData:
    next: Period
    plan_quarter: dict[str, Any] | None = None  # fct_plan_periods quarter row of the next quarter (company)
    plan_months: list[dict[str, Any]] = field(default_factory=list)
    target: dict[str, Any] | None = None  # the audience's fct_attainment_seasonal row of the next quarter
    targets: list[dict[str, Any]] = field(default_factory=list)  # ... of its regions, teams and reps
    plan_label: str | None = None  # the quarter fct_plan_targets' next_quarter rows are for
    own_plan: dict[str, Any] | None = None  # the audience's fct_plan_targets row
    plans: list[dict[str, Any]] = field(default_factory=list)  # ... of its regions, teams and reps

    @property
    def plan_matches(self) -> bool:
        return self.plan_label == self.next.label


def load_plan(ctx: PackContext) -> PlanData:
    following = ctx.period.next()
    data = PlanData(next=following)
    quarters = ctx.rows(
        "select plan_period_id, period_label, seasonal_index, plan_amount, extract_target_amount, "
        "extract_target_days, days_in_period from marts.fct_plan_periods "
        "where period_type = 'quarter' and period_start_date = ?",
        [following.start],
    )
    data.plan_quarter = qc.first(quarters)
    if data.plan_quarter:
        data.plan_months = ctx.rows(
            "select period_label, period_start_date, seasonal_index, plan_amount, extract_target_amount "
            "from marts.fct_plan_periods where period_type = 'month' and parent_plan_period_id = ? "
            "order by period_start_date",
            [data.plan_quarter["plan_period_id"]],
        )
    unit_where, unit_params = ctx.unit()
    region_where, region_params = ctx.in_region()
    levels = "('team', 'rep')" if ctx.audience.region else "('region', 'team', 'rep')"
    target_columns = (
        "level, unit_id, unit_name, region, team_name, seasonal_index, index_source, target_amount, "
        "seasonally_adjusted_target_amount"
    )
    data.target = qc.first(
        ctx.rows(
            f"select {target_columns} from marts.fct_attainment_seasonal "
            f"where period_type = 'quarter' and period_start_date = ? and {unit_where}",
            [following.start, *unit_params],
        )
    )
    data.targets = ctx.rows(
        f"select {target_columns} from marts.fct_attainment_seasonal "
        f"where period_type = 'quarter' and period_start_date = ? and level in {levels} and {region_where}",
        [following.start, *region_params],
    )
    plan_columns = (
        "period_label, level, unit_id, unit_name, region, team_name, plan_amount, plan_share, "
        "weighted_pipeline_amount, open_deal_count, pipeline_coverage_rate, extract_target_amount"
    )
    data.own_plan = qc.first(
        ctx.rows(
            f"select {plan_columns} from marts.fct_plan_targets "
            f"where plan_horizon = 'next_quarter' and {unit_where}",
            unit_params,
        )
    )
    data.plans = ctx.rows(
        f"select {plan_columns} from marts.fct_plan_targets "
        f"where plan_horizon = 'next_quarter' and level in {levels} and {region_where}",
        region_params,
    )
    labels = {r["period_label"] for r in [*data.plans, *([data.own_plan] if data.own_plan else [])]}
    data.plan_label = min(labels) if labels else None
    return data


def plan_findings(data: PlanData, ctx: PackContext) -> list[str]:
    """下季度（2026-Q4）按倒推法计划 5,539.0 万元，季节指数 139.3%，比已设目标 4,760.0 万元高 16.4%。
    2026-Q4 全公司已设目标 …，按季节指数调整后为 …。按人分解的计划是 2027-Q1 的，不是 2026-Q4：…"""
    lang, who, following = ctx.lang, qc.who(ctx), data.next.label
    sentences = []
    target = data.target
    target_amount = qc.value(target, "target_amount")
    if ctx.audience.region is None:
        plan = data.plan_quarter
        if plan is None:
            sentences.append(qc.sentence(tx("no_plan", lang, next=following), lang))
        else:
            set_amount = target_amount if target_amount is not None else plan["extract_target_amount"]
            change = qc.growth(plan["plan_amount"], set_amount)
            if change is None:
                compare = tx("plan_no_target", lang)
            elif round(change * 100, 1) == 0:
                compare = tx("plan_equal", lang, target=i18n.money(set_amount, lang))
            else:
                key = "plan_above" if change > 0 else "plan_below"
                compare = tx(key, lang, target=i18n.money(set_amount, lang), rate=i18n.rate(abs(change)))
            text = tx(
                "plan_sentence",
                lang,
                next=following,
                plan=i18n.money(plan["plan_amount"], lang),
                index=qc.index_text(plan["seasonal_index"]),
                compare=compare,
            )
            sentences.append(qc.sentence(text, lang))
    elif data.plan_matches and data.own_plan:
        text = tx(
            "region_plan_sentence",
            lang,
            next=following,
            who=who,
            plan=i18n.money(data.own_plan["plan_amount"], lang),
            share=i18n.rate(data.own_plan["plan_share"]),
        )
        sentences.append(qc.sentence(text, lang))
    if target and target_amount:
        text = tx(
            "targets_sentence",
            lang,
            next=following,
            who=who,
            target=i18n.money(target_amount, lang),
            sa=i18n.money(target["seasonally_adjusted_target_amount"], lang),
        )
    else:
        text = qc.capitalised(tx("no_targets", lang, next=following, who=who))
    sentences.append(qc.sentence(text, lang))
    if data.plan_label is None:
        sentences.append(qc.sentence(tx("no_split", lang), lang))
    elif data.plan_matches:
        reps = sum(1 for r in data.plans if r["level"] == "rep")
        coverage = qc.value(data.own_plan, "pipeline_coverage_rate")
        clause = "" if coverage is None else tx("split_coverage", lang, rate=i18n.rate(coverage))
        sentences.append(qc.sentence(tx("split_sentence", lang, n=reps, coverage=clause), lang))
    else:
        as_of = i18n.day_text(ctx.as_of, lang) + (f" {ctx.as_of.year}" if lang == "en" else "")
        text = tx("other_plan_sentence", lang, plan=data.plan_label, next=following, as_of=as_of)
        sentences.append(qc.sentence(text, lang))
    return sentences


def _plan_kpis(data: PlanData, ctx: PackContext) -> str:
    lang = ctx.lang
    index = qc.value(data.plan_quarter, "seasonal_index")
    if index is None:
        index = qc.value(data.target, "seasonal_index")
    if ctx.audience.region is None:
        plan = qc.value(data.plan_quarter, "plan_amount")
    else:
        plan = qc.value(data.own_plan, "plan_amount") if data.plan_matches else None
    cards = [
        qc.QuarterKpi("plan", tx("plan_amount", lang), plan, "money"),
        qc.QuarterKpi(
            "targets_set", tx("targets_set", lang), qc.value(data.target, "target_amount"), "money"
        ),
        qc.QuarterKpi(
            "sa_target",
            tx("sa_target", lang),
            qc.value(data.target, "seasonally_adjusted_target_amount"),
            "money",
        ),
        qc.QuarterKpi("index", tx("index", lang), index, "rate"),
    ]
    if ctx.audience.region and plan is None:  # the region's plan is not split for this quarter
        cards = cards[1:]
    return qc.kpi_cards(ctx, cards)


def _months_table(data: PlanData, ctx: PackContext) -> str:
    lang = ctx.lang
    if ctx.audience.region:
        return qc.note(i18n.t("not_in_region_pack", lang))
    columns = [
        Column("period_label", i18n.t("month", lang)),
        Column("seasonal_index", tx("index", lang), "rate"),
        Column("plan_amount", tx("plan_amount", lang), "money"),
        Column("extract_target_amount", tx("targets_set", lang), "money"),
    ]
    caption = tx("months_title", lang, next=data.next.label)
    return table(
        ctx, "quarter_plan_months", columns, data.plan_months, caption=caption, row_key="period_label"
    )


def _level_order(row: dict[str, Any], amount: str) -> tuple:
    return (LEVELS.index(row["level"]), -(row.get(amount) or Decimal(0)), row["unit_name"] or "")


def _shown(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    return [
        {
            **r,
            "level_shown": tx("level_" + r["level"], lang),
            "name": qc.unit_name(r["unit_name"], r["level"], lang),
            # a row names its unit once: a team row has no team column, a region row no region column
            "team_shown": r["team_name"] if r["level"] == "rep" else "",
            "region_shown": i18n.region_name(r["region"] or "", lang) if r["level"] != "region" else "",
            "key": f"{r['level']}:{r['unit_id']}",
        }
        for r in rows
    ]


def _units_tables(data: PlanData, ctx: PackContext) -> str:
    lang = ctx.lang
    company = ctx.audience.region is None
    head = [
        Column("level_shown", tx("level", lang)),
        Column("name", tx("unit", lang)),
        Column("team_shown", i18n.t("team", lang)),
        *([Column("region_shown", i18n.t("region", lang))] if company else []),
    ]
    plan_columns = [
        Column("plan_amount", tx("plan_amount", lang), "money"),
        Column("plan_share", tx("share", lang), "rate"),
        Column("weighted_pipeline_amount", tx("pipeline", lang), "money"),
        Column("pipeline_coverage_rate", tx("coverage", lang), "rate"),
    ]
    parts = []
    plans = {(r["level"], r["unit_id"]): r for r in data.plans}
    if data.targets:
        merged = []
        for row in data.targets:
            plan = plans.get((row["level"], row["unit_id"]), {}) if data.plan_matches else {}
            merged.append({**{c.key: plan.get(c.key) for c in plan_columns}, **row})
        merged.sort(key=lambda r: _level_order(r, "seasonally_adjusted_target_amount"))
        columns = [
            *head,
            Column("target_amount", tx("targets_set", lang), "money"),
            Column("seasonally_adjusted_target_amount", tx("sa_target", lang), "money"),
            *(plan_columns if data.plan_matches else []),
        ]
        caption = tx("units_title", lang, next=data.next.label)
        parts.append(
            table(ctx, "quarter_plan_units", columns, _shown(merged, lang), caption=caption, row_key="key")
        )
    elif data.plan_matches and data.plans:
        rows = sorted(data.plans, key=lambda r: _level_order(r, "plan_amount"))
        caption = tx("units_title", lang, next=data.next.label)
        parts.append(
            table(
                ctx,
                "quarter_plan_units",
                [*head, *plan_columns],
                _shown(rows, lang),
                caption=caption,
                row_key="key",
            )
        )
    if data.plans and not data.plan_matches:
        rows = sorted(data.plans, key=lambda r: _level_order(r, "plan_amount"))
        caption = tx("plan_units_title", lang, plan=data.plan_label, next=data.next.label)
        parts.append(
            table(
                ctx,
                "quarter_plan_split",
                [*head, *plan_columns],
                _shown(rows, lang),
                caption=caption,
                row_key="key",
            )
        )
    return "".join(parts)


def render_plan(ctx: PackContext) -> PlanData:
    data = load_plan(ctx)
    section(
        PLAN_ID,
        tx("plan_title", ctx.lang),
        plan_findings(data, ctx),
        _plan_kpis(data, ctx),
        _months_table(data, ctx),
        _units_tables(data, ctx),
    )
    return data
