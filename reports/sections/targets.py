"""目标达成 Targets: where the company (or the region), its teams and reps stand against target, for the
week and for the month and quarter to date.

A week's result is lumpy (a rep closes one big deal every few weeks), so the status light of a unit is
the lag warning of its quarter to date: actual against the part of the quarter's target that the
elapsed days call for (fct_attainment_periods.lag_warning; 10% behind is yellow, 20% red). The week's
own attainment is shown as a number. The gap is attributed to named deals (fct_attainment_gap_deals).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import altair as alt
import pandas as pd

from reports import i18n
from reports.components import Column, Kpi, chart, kpi_cards, money_axis_values, section, table
from reports.context import PackContext

TREND_WEEKS = 12
GAP_DEALS_SHOWN = 5
LAG_LIGHT = {"on_track": "green", "yellow": "yellow", "red": "red", "none": "none"}

tx = i18n.Texts(
    {
        "week_target": ("本周目标", "Target this week"),
        "week_actual": ("本周实际", "Actual this week"),
        "week_attainment": ("本周达成率", "Attainment this week"),
        "week_gap": ("本周缺口", "Gap this week"),
        "mtd": ("月度至今", "Month to date"),
        "qtd": ("季度至今", "Quarter to date"),
        "period": ("期间", "Period"),
        "target_to_date": ("时间进度目标", "Target to date"),
        "to_date_rate": ("进度达成率", "Attainment to date"),
        "lag": ("进度预警", "Pace"),
        "mtd_rate": ("月度进度达成", "MTD to date"),
        "qtd_rate": ("季度进度达成", "QTD to date"),
        "periods_title": ("本周、月度与季度进度", "Week, month and quarter to date"),
        "regions_title": ("各区域", "Regions"),
        "teams_title": ("各团队", "Teams"),
        "reps_title": ("销售代表", "Reps"),
        "gap_title": ("缺口归因：具名商机", "The gap, deal by deal"),
        "trend_title": ("近12周目标与实际", "Target and actual, last 12 weeks"),
        "reason": ("原因", "Reason"),
        "stage": ("阶段", "Stage"),
        "promised": ("承诺签约日", "Promised"),
        "days_late": ("延期天数", "Days late"),
        "next_step": ("下一步", "Next step"),
        "gap_slipped": ("延期未签", "Slipped"),
        "gap_lost": ("丢单", "Lost"),
        "gap_open_due": ("到期未签", "Due, still open"),
        "series_target": ("目标", "Target"),
        "series_actual": ("实际", "Actual"),
        "ahead": ("超出", "ahead"),
        "no_gap": (
            "本周已完成目标，没有需要归因的缺口。",
            "The week's target was met: there is no gap to attribute.",
        ),
    }
)


@dataclass
class TargetsData:
    week: dict[str, Any] | None  # the audience's row of fct_attainment_periods for the week
    previous_week: dict[str, Any] | None
    month: dict[str, Any] | None
    quarter: dict[str, Any] | None
    regions: list[dict[str, Any]] = field(default_factory=list)  # company pack only
    teams: list[dict[str, Any]] = field(default_factory=list)
    reps: list[dict[str, Any]] = field(default_factory=list)
    gap_deals: list[dict[str, Any]] = field(default_factory=list)
    trend: list[dict[str, Any]] = field(default_factory=list)  # oldest first


_PERIOD_COLUMNS = (
    "period_type, period_label, period_start_date, level, unit_id, unit_name, region, team_id, team_name, "
    "target_amount, actual_amount, won_deal_count, gap_amount, attainment_rate, status_light, "
    "target_to_date_amount, gap_to_date_amount, attainment_to_date_rate, behind_plan_rate, lag_warning, "
    "is_period_complete"
)


def _period_rows(ctx: PackContext, period_type: str, where: str, params: list[Any]) -> list[dict[str, Any]]:
    """Rows of fct_attainment_periods of the period of `period_type` that holds the pack's week end."""
    return ctx.rows(
        f"select {_PERIOD_COLUMNS} from marts.fct_attainment_periods "
        "where period_type = ? and period_start_date <= ? and period_end_date >= ? and " + where,
        [period_type, ctx.period.end, ctx.period.end, *params],
    )


def load(ctx: PackContext) -> TargetsData:
    unit_where, unit_params = ctx.unit()
    own = {t: _period_rows(ctx, t, unit_where, unit_params) for t in ("week", "month", "quarter")}
    previous = ctx.rows(
        f"select {_PERIOD_COLUMNS} from marts.fct_attainment_periods "
        f"where period_type = 'week' and period_start_date = ? and {unit_where}",
        [ctx.period.start - timedelta(days=7), *unit_params],
    )
    region_where, region_params = ctx.in_region()
    by_level = {}
    for level in ("region", "team", "rep"):
        weeks = _period_rows(ctx, "week", f"level = '{level}' and {region_where}", region_params)
        months = {
            r["unit_id"]: r
            for r in _period_rows(ctx, "month", f"level = '{level}' and {region_where}", region_params)
        }
        quarters = {
            r["unit_id"]: r
            for r in _period_rows(ctx, "quarter", f"level = '{level}' and {region_where}", region_params)
        }
        rows = []
        for row in weeks:
            month, quarter = months.get(row["unit_id"], {}), quarters.get(row["unit_id"], {})
            rows.append(
                {
                    **row,
                    "mtd_rate": month.get("attainment_to_date_rate"),
                    "qtd_rate": quarter.get("attainment_to_date_rate"),
                    "qtd_gap_to_date": quarter.get("gap_to_date_amount"),
                    "light": LAG_LIGHT.get(quarter.get("lag_warning") or "none", "none"),
                }
            )
        rows.sort(key=lambda r: (r["qtd_rate"] is None, -(r["qtd_rate"] or 0), r["unit_name"]))
        by_level[level] = rows
    gap_deals = ctx.rows(
        "select deal_rank, gap_reason, opportunity_name, owner_rep_name, amount, stage_name, "
        "expected_close_date, days_past_promised_date, next_step, gap_amount "
        "from marts.fct_attainment_gap_deals where period_type = 'week' and period_start_date = ? and "
        + unit_where
        + " order by deal_rank limit ?",
        [ctx.period.start, *unit_params, GAP_DEALS_SHOWN],
    )
    trend = ctx.rows(
        "select period_label, period_start_date, target_amount, actual_amount, attainment_rate "
        "from marts.fct_attainment_periods where period_type = 'week' and period_start_date > ? "
        f"and period_start_date <= ? and {unit_where} order by period_start_date",
        [ctx.period.start - timedelta(weeks=TREND_WEEKS), ctx.period.start, *unit_params],
    )
    return TargetsData(
        week=(own["week"] or [None])[0],
        previous_week=(previous or [None])[0],
        month=(own["month"] or [None])[0],
        quarter=(own["quarter"] or [None])[0],
        regions=by_level["region"] if ctx.audience.region is None else [],
        teams=by_level["team"],
        reps=by_level["rep"],
        gap_deals=gap_deals,
        trend=trend,
    )


# ---------------------------------------------------------------------------------------------- findings


def findings(data: TargetsData, ctx: PackContext) -> list[str]:
    """本周全公司达成 73.8%，缺口 95.5 万元；季度至今按时间进度达成 106.2%，进度正常。
    缺口主要来自 3 笔商机：…"""
    lang, week, quarter = ctx.lang, data.week, data.quarter
    if week is None:
        return []
    who = ctx.audience.name(lang)
    gap = week["gap_amount"] or Decimal(0)
    sentences = []
    if lang == "zh-CN":
        gap_text = f"缺口 {i18n.money(gap, lang)}" if gap > 0 else f"超出目标 {i18n.money(-gap, lang)}"
        first = f"本周{who}达成 {i18n.rate(week['attainment_rate'])}，{gap_text}"
        if quarter and quarter["attainment_to_date_rate"] is not None:
            pace = {
                "on_track": "进度正常",
                "yellow": "落后进度，黄灯预警",
                "red": "明显落后进度，红灯预警",
            }.get(quarter["lag_warning"], "无目标")
            first += f"；季度至今按时间进度达成 {i18n.rate(quarter['attainment_to_date_rate'])}，{pace}"
        sentences.append(first + "。")
    else:
        gap_text = (
            f"a gap of {i18n.money(gap, lang)}" if gap > 0 else f"{i18n.money(-gap, lang)} above target"
        )
        first = f"{who} reached {i18n.rate(week['attainment_rate'])} of this week's target, {gap_text}"
        if quarter and quarter["attainment_to_date_rate"] is not None:
            pace = {
                "on_track": "on pace",
                "yellow": "behind pace (yellow)",
                "red": "well behind pace (red)",
            }.get(quarter["lag_warning"], "without a target")
            to_date = i18n.rate(quarter["attainment_to_date_rate"])
            first += f"; quarter to date it stands at {to_date} of the target to date, {pace}"
        sentences.append(first + ".")
    if gap > 0 and data.gap_deals:
        names = []
        for deal in data.gap_deals[:3]:
            reason, amount = tx("gap_" + deal["gap_reason"], lang), i18n.money(deal["amount"], lang)
            if lang == "zh-CN":
                names.append(f"{deal['opportunity_name']}（{reason}，{amount}）")
            else:
                names.append(f"{deal['opportunity_name']} ({reason.lower()}, {amount})")
        if lang == "zh-CN":
            sentences.append(f"缺口主要来自 {len(names)} 笔商机：{'；'.join(names)}。")
        else:
            sentences.append(f"The gap comes mainly from {len(names)} deals: {'; '.join(names)}.")
    behind = [r for r in data.reps if r["light"] == "red"]
    if behind:
        reps = i18n.join([r["unit_name"] for r in behind[-3:]], lang)
        if lang == "zh-CN":
            sentences.append(f"{len(behind)} 名销售代表季度进度红灯，落后最多的是{reps}。")
        else:
            sentences.append(f"{len(behind)} reps are red for the quarter to date; furthest behind: {reps}.")
    return sentences[:3]


# ---------------------------------------------------------------------------------------------- page


def _kpis(data: TargetsData, ctx: PackContext) -> str:
    lang, week, before = ctx.lang, data.week or {}, data.previous_week or {}
    compare = i18n.t("vs_previous_week", lang)
    actuals = [r["actual_amount"] for r in data.trend]
    rates = [r["attainment_rate"] for r in data.trend]
    return kpi_cards(
        ctx,
        [
            Kpi(
                "target",
                tx("week_target", lang),
                week.get("target_amount"),
                "money",
                before.get("target_amount"),
                compare,
                higher_is_better=None,  # a higher target is neither good nor bad news
            ),
            Kpi(
                "actual",
                tx("week_actual", lang),
                week.get("actual_amount"),
                "money",
                before.get("actual_amount"),
                compare,
                actuals,
            ),
            Kpi(
                "attainment",
                tx("week_attainment", lang),
                week.get("attainment_rate"),
                "rate",
                before.get("attainment_rate"),
                compare,
                rates,
                week.get("status_light"),
            ),
            Kpi(
                "gap",
                tx("week_gap", lang),
                week.get("gap_amount"),
                "money",
                before.get("gap_amount"),
                compare,
                higher_is_better=False,
            ),
            Kpi(
                "won",
                i18n.t("won_deals", lang),
                week.get("won_deal_count"),
                "int",
                before.get("won_deal_count"),
                compare,
            ),
        ],
    )


def _periods_table(data: TargetsData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = []
    for key, row in (("week", data.week), ("mtd", data.month), ("qtd", data.quarter)):
        if row:
            label = ctx.period.label if key == "week" else f"{tx(key, lang)} {row['period_label']}"
            rows.append({**row, "label": label, "light": LAG_LIGHT.get(row["lag_warning"] or "none", "none")})
    columns = [
        Column("label", tx("period", lang)),
        Column("target_amount", i18n.t("target", lang), "money"),
        Column("target_to_date_amount", tx("target_to_date", lang), "money"),
        Column("actual_amount", i18n.t("actual", lang), "money"),
        Column("attainment_to_date_rate", tx("to_date_rate", lang), "rate"),
        Column("light", tx("lag", lang), "light"),
    ]
    return table(
        ctx, "attainment_periods", columns, rows, caption=tx("periods_title", lang), row_key="period_type"
    )


def _unit_columns(ctx: PackContext, name_key: str, extra: list[Column]) -> list[Column]:
    lang = ctx.lang
    return [
        Column("unit_name", i18n.t(name_key, lang)),
        *extra,
        Column("target_amount", i18n.t("target", lang), "money"),
        Column("actual_amount", i18n.t("actual", lang), "money"),
        Column("attainment_rate", i18n.t("attainment", lang), "rate"),
        Column("mtd_rate", tx("mtd_rate", lang), "rate"),
        Column("qtd_rate", tx("qtd_rate", lang), "rate"),
        Column("light", tx("lag", lang), "light"),
    ]


def _units_tables(data: TargetsData, ctx: PackContext) -> str:
    lang = ctx.lang
    parts = []
    if data.regions:
        regions = [{**r, "unit_name": i18n.region_name(r["unit_name"], lang)} for r in data.regions]
        parts.append(
            table(
                ctx,
                "attainment_regions",
                _unit_columns(ctx, "region", []),
                regions,
                caption=tx("regions_title", lang),
                row_key="unit_id",
            )
        )
    team_extra = [] if ctx.audience.region else [Column("region_shown", i18n.t("region", lang))]
    teams = [{**r, "region_shown": i18n.region_name(r["region"] or "", lang)} for r in data.teams]
    parts.append(
        table(
            ctx,
            "attainment_teams",
            _unit_columns(ctx, "team", team_extra),
            teams,
            caption=tx("teams_title", lang),
            row_key="unit_id",
        )
    )
    reps = [
        {**r, "rank": i, "region_shown": i18n.region_name(r["region"] or "", lang)}
        for i, r in enumerate(data.reps, start=1)
    ]
    rep_extra = [Column("team_name", i18n.t("team", lang))] + team_extra
    columns = [Column("rank", i18n.t("rank", lang), "int"), *_unit_columns(ctx, "rep", rep_extra)]
    columns.insert(-1, Column("won_deal_count", i18n.t("won_deals", lang), "int"))
    parts.append(
        table(ctx, "attainment_reps", columns, reps, caption=tx("reps_title", lang), row_key="unit_id")
    )
    return "".join(parts)


def _gap_table(data: TargetsData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = [{**d, "reason": tx("gap_" + d["gap_reason"], lang)} for d in data.gap_deals]
    columns = [
        Column("deal_rank", i18n.t("rank", lang), "int"),
        Column("opportunity_name", i18n.t("deal", lang)),
        Column("owner_rep_name", i18n.t("rep", lang)),
        Column("reason", tx("reason", lang)),
        Column("amount", i18n.t("amount", lang), "money"),
        Column("stage_name", tx("stage", lang)),
        Column("expected_close_date", tx("promised", lang), "date"),
        Column("days_past_promised_date", tx("days_late", lang), "days"),
        Column("next_step", tx("next_step", lang)),
    ]
    met = data.week is not None and (data.week["gap_amount"] or 0) <= 0
    return table(
        ctx,
        "gap_deals",
        columns,
        rows,
        caption=tx("gap_title", lang),
        row_key="deal_rank",
        empty=tx("no_gap", lang) if met else None,
    )


def _trend_chart(data: TargetsData, ctx: PackContext) -> str:
    if len(data.trend) < 2:
        return ""
    lang = ctx.lang
    amounts = [r["target_amount"] for r in data.trend] + [r["actual_amount"] for r in data.trend]
    scaled, unit = money_axis_values(amounts, lang)
    n = len(data.trend)
    frame = pd.DataFrame(
        {
            "week": [r["period_label"] for r in data.trend] * 2,
            "value": scaled,
            "series": [tx("series_target", lang)] * n + [tx("series_actual", lang)] * n,
        }
    )
    spec = (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("week:O", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=unit),
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(
                    domain=[tx("series_target", lang), tx("series_actual", lang)],
                    range=["#9aa5b1", "#1857b6"],
                ),
            ),
            strokeDash=alt.StrokeDash("series:N", legend=None),
        )
        .properties(width=760, height=220, title=tx("trend_title", lang))
    )
    return chart(spec, tx("trend_title", lang))


def render(ctx: PackContext) -> TargetsData:
    data = load(ctx)
    section(
        "targets",
        i18n.t("targets", ctx.lang),
        findings(data, ctx),
        _kpis(data, ctx),
        _periods_table(data, ctx),
        _trend_chart(data, ctx),
        _units_tables(data, ctx),
        _gap_table(data, ctx),
    )
    return data
