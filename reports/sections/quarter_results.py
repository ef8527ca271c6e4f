"""季度达成 Quarter results: target, actual, attainment and gap of the quarter for the company (or the
region), against the previous quarter and the same quarter last year; attainment against the seasonally
adjusted target (004 §5.3.2: Q4 typically +20%, so a quarter is also judged against its seasonal share of
the year); the quarter's 13 weeks as a trend; and the regions (company pack), teams and reps.

Marts: fct_attainment_periods (period_type quarter and week), fct_attainment_seasonal (quarter).
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

SECTION_ID = "quarter-results"

tx = i18n.Texts(
    {
        "title": ("季度达成", "Quarter results"),
        "quarter_target": ("季度目标", "Quarter target"),
        "quarter_actual": ("季度实际", "Quarter actual"),
        "quarter_attainment": ("季度达成率", "Attainment"),
        "quarter_gap": ("季度缺口", "Gap"),
        "sa_attainment": ("季节调整达成率", "Seasonally adjusted attainment"),
        "sa_target": ("季节调整目标", "Seasonally adjusted target"),
        "sa_rate": ("季节调整达成", "Seasonally adjusted"),
        "vs_previous": ("较上季", "vs last quarter"),
        "weeks_title": ("本季各周目标与实际", "Target and actual, week by week"),
        "regions_title": ("各区域季度达成", "Regions"),
        "teams_title": ("各团队季度达成", "Teams"),
        "reps_title": ("销售代表季度达成", "Reps"),
        "series_target": ("目标", "Target"),
        "series_actual": ("实际", "Actual"),
        "no_data": (
            "{label} {who}无目标与成交记录",
            "There is no target and no won deal recorded for {who} in {label}",
        ),
        "headline": (
            "{label} {who}达成 {rate}（目标 {target}，实际 {actual}），{compare}",
            "In {label} {who} reached {rate} of target (target {target}, actual {actual}), {compare}",
        ),
        "headline_no_target": (
            "{label} {who}未设目标，实际成交 {actual}，{compare}",
            "In {label} {who} had no target and won {actual}, {compare}",
        ),
        "seasonal": (
            "经季节调整（季节指数 {index}），目标为 {target}，达成率为 {rate}",
            "Seasonally adjusted (index {index}), the target is {target} and attainment {rate}",
        ),
        "best_worst": (
            "{group}中{best}达成最高（{best_rate}），{worst}最低（{worst_rate}）",
            "Among {group}, {best} did best ({best_rate}) and {worst} worst ({worst_rate})",
        ),
        "reps_missed": (
            "{total} 名销售代表中 {missed} 名未完成季度目标",
            "{missed} of {total} reps missed their quarter target",
        ),
        "reps_all_met": (
            "{total} 名销售代表全部完成季度目标",
            "every rep met the quarter target ({total})",
        ),
        "group_region": ("各区域", "regions"),
        "group_team": ("各团队", "teams"),
        "group_rep": ("各销售代表", "reps"),
    }
)


@dataclass
class ResultsData:
    quarter: dict[str, Any] | None  # the audience's fct_attainment_periods row of the quarter
    previous: dict[str, Any] | None  # ... of the previous quarter
    year_before: dict[str, Any] | None  # ... of the same quarter last year
    seasonal: dict[str, Any] | None = None  # the audience's fct_attainment_seasonal row of the quarter
    seasonal_previous: dict[str, Any] | None = None
    seasonal_year_before: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)  # the audience's quarters, oldest first
    weeks: list[dict[str, Any]] = field(default_factory=list)  # the quarter's weeks, oldest first
    regions: list[dict[str, Any]] = field(default_factory=list)  # company pack only
    teams: list[dict[str, Any]] = field(default_factory=list)
    reps: list[dict[str, Any]] = field(default_factory=list)


_UNIT_SQL = """
select p.level, p.unit_id, p.unit_name, p.region, p.team_id, p.team_name,
       p.target_amount, p.actual_amount, p.gap_amount, p.attainment_rate, p.status_light, p.won_deal_count,
       s.seasonally_adjusted_target_amount, s.seasonally_adjusted_attainment_rate,
       before.attainment_rate as previous_attainment_rate
from marts.fct_attainment_periods p
left join marts.fct_attainment_seasonal s on s.attainment_period_id = p.attainment_period_id
left join marts.fct_attainment_periods before
       on before.period_type = 'quarter' and before.level = p.level and before.unit_id = p.unit_id
      and before.period_start_date = ?
where p.period_type = 'quarter' and p.period_start_date = ? and p.level = ? and {where}
"""


def load(ctx: PackContext) -> ResultsData:
    period = ctx.period
    unit_where, unit_params = ctx.unit()
    quarters = qc.quarters_back(period)
    history = ctx.rows(
        "select period_start_date, period_label, target_amount, actual_amount, gap_amount, attainment_rate, "
        "status_light, won_deal_count from marts.fct_attainment_periods "
        f"where period_type = 'quarter' and period_start_date between ? and ? and {unit_where} "
        "order by period_start_date",
        [quarters[0].start, period.start, *unit_params],
    )
    seasonal = qc.by_start(
        ctx.rows(
            "select period_start_date, seasonal_index, index_source, target_amount, "
            "seasonally_adjusted_target_amount, actual_amount, attainment_rate, "
            "seasonally_adjusted_attainment_rate, seasonally_adjusted_status_light "
            "from marts.fct_attainment_seasonal "
            f"where period_type = 'quarter' and period_start_date in (?, ?, ?) and {unit_where}",
            [period.start, period.previous().start, period.year_before().start, *unit_params],
        )
    )
    first_week, last_week = qc.week_range(period)
    weeks = ctx.rows(
        "select period_label, period_start_date, target_amount, actual_amount, attainment_rate "
        "from marts.fct_attainment_periods where period_type = 'week' and period_start_date between ? and ? "
        f"and {unit_where} order by period_start_date",
        [first_week, last_week, *unit_params],
    )
    region_where, region_params = ctx.in_region("p.region")
    levels = {"region": []}
    for level in ("team", "rep") if ctx.audience.region else ("region", "team", "rep"):
        rows = ctx.rows(
            _UNIT_SQL.format(where=region_where),
            [period.previous().start, period.start, level, *region_params],
        )
        rows.sort(key=lambda r: (r["attainment_rate"] is None, -(r["attainment_rate"] or 0), r["unit_name"]))
        levels[level] = rows
    own = qc.by_start(history)
    return ResultsData(
        quarter=own.get(period.start),
        previous=own.get(period.previous().start),
        year_before=own.get(period.year_before().start),
        seasonal=seasonal.get(period.start),
        seasonal_previous=seasonal.get(period.previous().start),
        seasonal_year_before=seasonal.get(period.year_before().start),
        history=history,
        weeks=weeks,
        regions=levels["region"],
        teams=levels["team"],
        reps=levels["rep"],
    )


# ---------------------------------------------------------------------------------------------- findings


def findings(data: ResultsData, ctx: PackContext) -> list[str]:
    """2026-Q3 全公司达成 97.1%（目标 3,922.9 万元，实际 3,809.9 万元），较上季提升 4.2 个百分点，
    较去年同期增长 12.3%。经季节调整（季节指数 95.8%），…。各区域中华东达成最高（…），西南最低（…）；…"""
    lang, label, who = ctx.lang, qc.label(ctx), qc.who(ctx)
    quarter = data.quarter
    if quarter is None:
        return [qc.sentence(tx("no_data", lang, label=label, who=who), lang)]
    rate = quarter["attainment_rate"]
    year = qc.amount_change(
        qc.growth(quarter["actual_amount"], qc.value(data.year_before, "actual_amount")), "year", lang
    )
    actual = i18n.money(quarter["actual_amount"], lang)
    if rate is not None:
        previous_rate = qc.value(data.previous, "attainment_rate")
        prev = qc.rate_change(qc.difference(rate, previous_rate), "prev", lang)
        first = tx(
            "headline",
            lang,
            label=label,
            who=who,
            rate=i18n.rate(rate),
            target=i18n.money(quarter["target_amount"], lang),
            actual=actual,
            compare=qc.comparisons(prev, year, lang),
        )
    else:
        prev = qc.amount_change(
            qc.growth(quarter["actual_amount"], qc.value(data.previous, "actual_amount")), "prev", lang
        )
        first = tx(
            "headline_no_target",
            lang,
            label=label,
            who=who,
            actual=actual,
            compare=qc.comparisons(prev, year, lang),
        )
    sentences = [qc.sentence(first, lang)]
    seasonal = data.seasonal
    if seasonal and seasonal["seasonally_adjusted_attainment_rate"] is not None:
        text = tx(
            "seasonal",
            lang,
            index=qc.index_text(seasonal["seasonal_index"]),
            target=i18n.money(seasonal["seasonally_adjusted_target_amount"], lang),
            rate=i18n.rate(seasonal["seasonally_adjusted_attainment_rate"]),
        )
        sentences.append(qc.sentence(text, lang))
    units = _units_sentence(data, ctx)
    if units:
        sentences.append(units)
    return sentences


def _units_sentence(data: ResultsData, ctx: PackContext) -> str | None:
    lang = ctx.lang
    parts = []
    for level, rows in (("region", data.regions), ("team", data.teams), ("rep", data.reps)):
        rated = [r for r in rows if r["attainment_rate"] is not None]
        if len(rated) >= 2:  # rows are sorted by attainment, best first
            best, worst = rated[0], rated[-1]
            parts.append(
                tx(
                    "best_worst",
                    lang,
                    group=tx("group_" + level, lang),
                    best=qc.unit_name(best["unit_name"], level, lang),
                    best_rate=i18n.rate(best["attainment_rate"]),
                    worst=qc.unit_name(worst["unit_name"], level, lang),
                    worst_rate=i18n.rate(worst["attainment_rate"]),
                )
            )
            break
    rated_reps = [r for r in data.reps if r["attainment_rate"] is not None]
    if rated_reps:
        missed = sum(1 for r in rated_reps if r["attainment_rate"] < 1)
        key = "reps_missed" if missed else "reps_all_met"
        parts.append(tx(key, lang, total=len(rated_reps), missed=missed))
    if not parts:
        return None
    text = ("；" if lang == "zh-CN" else "; ").join(parts)
    return qc.sentence(qc.capitalised(text), lang)


# ---------------------------------------------------------------------------------------------- page


def _kpis(data: ResultsData, ctx: PackContext) -> str:
    lang = ctx.lang
    q, prev, year = data.quarter, data.previous, data.year_before
    s, s_prev, s_year = data.seasonal, data.seasonal_previous, data.seasonal_year_before

    def card(key: str, label: str, column: str, kind: str, **extra: Any) -> qc.QuarterKpi:
        return qc.QuarterKpi(
            key,
            label,
            qc.value(q, column),
            kind,
            qc.value(prev, column),
            qc.value(year, column),
            [r[column] for r in data.history],
            **extra,
        )

    return qc.kpi_cards(
        ctx,
        [
            card("target", tx("quarter_target", lang), "target_amount", "money", higher_is_better=None),
            card("actual", tx("quarter_actual", lang), "actual_amount", "money"),
            card(
                "attainment",
                tx("quarter_attainment", lang),
                "attainment_rate",
                "rate",
                light=qc.value(q, "status_light"),
            ),
            card("gap", tx("quarter_gap", lang), "gap_amount", "money", higher_is_better=False),
            qc.QuarterKpi(
                "sa_attainment",
                tx("sa_attainment", lang),
                qc.value(s, "seasonally_adjusted_attainment_rate"),
                "rate",
                qc.value(s_prev, "seasonally_adjusted_attainment_rate"),
                qc.value(s_year, "seasonally_adjusted_attainment_rate"),
                light=qc.value(s, "seasonally_adjusted_status_light"),
            ),
            card("won", i18n.t("won_deals", lang), "won_deal_count", "int"),
        ],
    )


def _weeks_chart(data: ResultsData, ctx: PackContext) -> str:
    if len(data.weeks) < 2:
        return ""
    lang = ctx.lang
    amounts = [r["target_amount"] for r in data.weeks] + [r["actual_amount"] for r in data.weeks]
    scaled, unit = money_axis_values(amounts, lang)
    n = len(data.weeks)
    labels = [r["period_label"][-3:] for r in data.weeks]  # W27 … W39
    frame = pd.DataFrame(
        {
            "week": labels * 2,
            "value": scaled,
            "series": [tx("series_target", lang)] * n + [tx("series_actual", lang)] * n,
        }
    )
    x = alt.X("week:O", title=None, sort=labels, axis=alt.Axis(labelAngle=0))
    colors = alt.Scale(
        domain=[tx("series_actual", lang), tx("series_target", lang)], range=["#1f6feb", "#6e7781"]
    )
    legend = alt.Legend(**qc.CHART_LEGEND)
    bars = (
        alt.Chart(frame)
        .transform_filter(alt.datum.series == tx("series_actual", lang))
        .mark_bar(opacity=0.85)
        .encode(
            x=x,
            y=alt.Y("value:Q", axis=alt.Axis(**qc.CHART_Y_AXIS)),
            color=alt.Color("series:N", scale=colors, legend=legend),
        )
    )
    line = (
        alt.Chart(frame)
        .transform_filter(alt.datum.series == tx("series_target", lang))
        .mark_line(point=True, strokeDash=[4, 3])
        .encode(x=x, y="value:Q", color=alt.Color("series:N", scale=colors, legend=legend))
    )
    title = qc.with_unit(f"{tx('weeks_title', lang)} {ctx.period.label}", unit, lang)
    spec = alt.layer(bars, line).properties(width=qc.CHART_WIDTH, height=220, title=title)
    return chart(spec, title)


def _unit_rows(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    return [
        {
            **r,
            "name": qc.unit_name(r["unit_name"], r["level"], lang),
            "region_shown": i18n.region_name(r["region"] or "", lang),
            "change": qc.difference(r["attainment_rate"], r["previous_attainment_rate"]),
        }
        for r in rows
    ]


def _units_tables(data: ResultsData, ctx: PackContext) -> str:
    lang = ctx.lang
    company = ctx.audience.region is None

    def columns(name_key: str, extra: list[Column]) -> list[Column]:
        return [
            Column("name", i18n.t(name_key, lang)),
            *extra,
            Column("target_amount", i18n.t("target", lang), "money"),
            Column("actual_amount", i18n.t("actual", lang), "money"),
            Column("attainment_rate", i18n.t("attainment", lang), "rate"),
            Column("change", tx("vs_previous", lang), "points"),
            Column("seasonally_adjusted_target_amount", tx("sa_target", lang), "money"),
            Column("seasonally_adjusted_attainment_rate", tx("sa_rate", lang), "rate"),
            Column("gap_amount", i18n.t("gap", lang), "money"),
            Column("status_light", i18n.t("status", lang), "light"),
        ]

    region_column = [Column("region_shown", i18n.t("region", lang))] if company else []
    parts = []
    if data.regions:
        parts.append(
            table(
                ctx,
                "quarter_regions",
                columns("region", []),
                _unit_rows(data.regions, lang),
                caption=tx("regions_title", lang),
                row_key="unit_id",
            )
        )
    parts.append(
        table(
            ctx,
            "quarter_teams",
            columns("team", region_column),
            _unit_rows(data.teams, lang),
            caption=tx("teams_title", lang),
            row_key="unit_id",
        )
    )
    rep_columns = columns("rep", [Column("team_name", i18n.t("team", lang)), *region_column])
    rep_columns.insert(-1, Column("won_deal_count", i18n.t("won_deals", lang), "int"))
    parts.append(
        table(
            ctx,
            "quarter_reps",
            rep_columns,
            _unit_rows(data.reps, lang),
            caption=tx("reps_title", lang),
            row_key="unit_id",
        )
    )
    return "".join(parts)


def render(ctx: PackContext) -> ResultsData:
    data = load(ctx)
    section(
        SECTION_ID,
        tx("title", ctx.lang),
        findings(data, ctx),
        _kpis(data, ctx),
        _weeks_chart(data, ctx),
        _units_tables(data, ctx),
    )
    return data
