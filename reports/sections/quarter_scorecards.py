"""销售代表评分 Rep scorecards: each rep's composite score for the quarter (004 §5.1.3: quantitative 60% +
qualitative 40%, or 002's results 50 / process 30 / team 20: the weights come from the mart), its band
(excellent ≥ 90, good 80–89, pass 70–79, needs improvement < 70) and the change on last quarter.

Mart: fct_rep_scorecard (period_grain quarter; one row per rep, with the rep's region).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reports import i18n
from reports.components import Column, section, table
from reports.context import PackContext
from reports.sections import quarter_common as qc

SECTION_ID = "quarter-scorecards"
BANDS = ("excellent", "good", "pass", "needs_improvement")
LOWEST_NAMED = 3

tx = i18n.Texts(
    {
        "title": ("销售代表评分", "Rep scorecards"),
        "band_excellent": ("优秀", "Excellent"),
        "band_good": ("良好", "Good"),
        "band_pass": ("达标", "Pass"),
        "band_needs_improvement": ("待改进", "Needs improvement"),
        "composite": ("综合得分", "Composite"),
        "band": ("等级", "Band"),
        "quantitative": ("量化得分", "Quantitative"),
        "qualitative": ("质化得分", "Qualitative"),
        "team_score": ("团队得分", "Team"),
        "change": ("较上季", "vs last quarter"),
        "activities": ("活动数", "Activities"),
        "new_customers": ("新客户", "New customers"),
        "table_title": ("{label} 销售代表综合评分", "Rep scorecards, {label}"),
        "weights_note": (
            "综合得分 = {weights}（权重方案 {scheme}）。",
            "Composite = {weights} (weight scheme {scheme}).",
        ),
        "weight_quantitative": ("量化 {w}", "quantitative {w}"),
        "weight_qualitative": ("质化 {w}", "qualitative {w}"),
        "weight_team": ("团队 {w}", "team {w}"),
        "none": ("{label} 无销售代表评分记录", "There are no rep scorecards for {label}"),
        "bands_sentence": (
            "{label} 共 {n} 名销售代表参与评分：优秀 {excellent} 名、良好 {good} 名、"
            "达标 {pass_} 名、待改进 {needs} 名",
            "{n} reps were scored for {label}: {excellent} excellent, {good} good, {pass_} pass and {needs} "
            "needing improvement",
        ),
        "unscored": ("另有 {k} 名缺少分项得分，未评分", "{k} not scored for lack of a component score"),
        "top": ("最高分为{named}", "the top scorer is {named}"),
        "named_score": ("{name}（{score} 分）", "{name} ({score})"),
        "lowest": ("待改进：{names}", "needing improvement: {names}"),
    }
)


@dataclass
class ScorecardData:
    reps: list[dict[str, Any]] = field(default_factory=list)  # best first, unscored last
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)  # rep_id -> last quarter's row


def load(ctx: PackContext) -> ScorecardData:
    period = ctx.period
    region_where, region_params = ctx.in_region()
    rows = ctx.rows(
        "select period_start_date, rep_id, rep_name, team_id, team_name, region, target_amount, won_amount, "
        "attainment_rate, activity_count, new_customer_count, quantitative_score, qualitative_score, "
        "team_score, weight_scheme, quantitative_weight, qualitative_weight, team_weight, composite_score, "
        "score_band, score_band_zh from marts.fct_rep_scorecard "
        f"where period_grain = 'quarter' and period_start_date in (?, ?) and {region_where}",
        [period.start, period.previous().start, *region_params],
    )
    current = [r for r in rows if r["period_start_date"] == period.start]
    previous = {r["rep_id"]: r for r in rows if r["period_start_date"] == period.previous().start}
    for row in current:
        row["previous_score"] = qc.value(previous.get(row["rep_id"]), "composite_score")
        row["change"] = qc.difference(row["composite_score"], row["previous_score"])
    current.sort(key=lambda r: (r["composite_score"] is None, -(r["composite_score"] or 0), r["rep_name"]))
    return ScorecardData(reps=current, previous=previous)


def band_name(row: dict[str, Any], lang: str) -> str:
    if row.get("score_band") is None:
        return ""
    if lang == "zh-CN" and row.get("score_band_zh"):
        return row["score_band_zh"]
    band = row["score_band"]
    return tx("band_" + band, lang) if band in BANDS else band


# ---------------------------------------------------------------------------------------------- findings


def findings(data: ScorecardData, ctx: PackContext) -> list[str]:
    """2026-Q3 41 名销售代表参与评分：优秀 12 名、良好 8 名、达标 9 名、待改进 11 名；另有 1 名缺少分项得分。
    最高分为李帆（100.0 分）；待改进：…。"""
    lang, label = ctx.lang, qc.label(ctx)
    sep = "；" if lang == "zh-CN" else "; "
    scored = [r for r in data.reps if r["composite_score"] is not None]
    if not scored:
        return [qc.sentence(tx("none", lang, label=label), lang)]
    counts = {band: sum(1 for r in scored if r["score_band"] == band) for band in BANDS}
    first = tx(
        "bands_sentence",
        lang,
        label=label,
        n=len(scored),
        excellent=counts["excellent"],
        good=counts["good"],
        pass_=counts["pass"],
        needs=counts["needs_improvement"],
    )
    unscored = len(data.reps) - len(scored)
    if unscored:
        first += sep + tx("unscored", lang, k=unscored)
    sentences = [qc.sentence(first, lang)]
    top = scored[0]
    named = tx("named_score", lang, name=top["rep_name"], score=qc.one_decimal(top["composite_score"]))
    parts = [tx("top", lang, named=named)]
    lowest = [r for r in scored if r["score_band"] == "needs_improvement"][-LOWEST_NAMED:][::-1]
    if lowest:
        names = [
            tx("named_score", lang, name=r["rep_name"], score=qc.one_decimal(r["composite_score"]))
            for r in lowest
        ]
        parts.append(tx("lowest", lang, names=i18n.join(names, lang)))
    sentences.append(qc.sentence(qc.capitalised(sep.join(parts)), lang))
    return sentences


def weights_note(data: ScorecardData, ctx: PackContext) -> str:
    scored = [r for r in data.reps if r["weight_scheme"] is not None]
    if not scored:
        return ""
    row, lang = scored[0], ctx.lang
    weights = [
        tx("weight_" + part, lang, w=i18n.rate(row[f"{part}_weight"], 0))
        for part in ("quantitative", "qualitative", "team")
        if row[f"{part}_weight"]
    ]
    return qc.note(tx("weights_note", lang, weights=" + ".join(weights), scheme=row["weight_scheme"]))


# ---------------------------------------------------------------------------------------------- page


def _kpis(data: ScorecardData, ctx: PackContext) -> str:
    lang = ctx.lang
    before = list(data.previous.values())
    cards = [
        qc.QuarterKpi(
            band,
            tx("band_" + band, lang),
            sum(1 for r in data.reps if r["score_band"] == band),
            "count",
            sum(1 for r in before if r["score_band"] == band) if before else None,
            higher_is_better={"excellent": True, "needs_improvement": False}.get(band),
        )
        for band in BANDS
    ]
    return qc.kpi_cards(ctx, cards) if data.reps else ""


def _table(data: ScorecardData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = [
        {
            **r,
            "rank": i if r["composite_score"] is not None else None,
            "band_shown": band_name(r, lang),
            "region_shown": i18n.region_name(r["region"] or "", lang),
        }
        for i, r in enumerate(data.reps, start=1)
    ]
    columns = [
        Column("rank", i18n.t("rank", lang), "int"),
        Column("rep_name", i18n.t("rep", lang)),
        Column("team_name", i18n.t("team", lang)),
        *([Column("region_shown", i18n.t("region", lang))] if ctx.audience.region is None else []),
        Column("composite_score", tx("composite", lang), "number"),
        Column("band_shown", tx("band", lang)),
        Column("change", tx("change", lang), "number"),
        Column("quantitative_score", tx("quantitative", lang), "number"),
        Column("qualitative_score", tx("qualitative", lang), "number"),
        Column("team_score", tx("team_score", lang), "number"),
        Column("attainment_rate", i18n.t("attainment", lang), "rate"),
        Column("activity_count", tx("activities", lang), "int"),
        Column("new_customer_count", tx("new_customers", lang), "int"),
    ]
    caption = tx("table_title", lang, label=ctx.period.label)
    return table(ctx, "quarter_scorecards", columns, rows, caption=caption, row_key="rep_id")


def render(ctx: PackContext) -> ScorecardData:
    data = load(ctx)
    section(
        SECTION_ID,
        tx("title", ctx.lang),
        findings(data, ctx),
        _kpis(data, ctx),
        weights_note(data, ctx),
        _table(data, ctx),
    )
    return data
