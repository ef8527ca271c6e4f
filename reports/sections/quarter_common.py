"""What the quarterly pack's sections share: the quarters around the pack's own (the previous one, the
same quarter a year before, the trend), the weeks of a quarter, comparisons in words, and KPI cards that
compare with both the previous quarter and the same quarter last year.

A quarter's review compares twice: with the quarter before (is it getting better?) and with the same
quarter last year (seasonality: Q4 is always bigger, 004 §5.3.2). components.Kpi holds one comparison,
so the cards here carry the second one in `also`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from reports import components, i18n
from reports.components import esc
from reports.context import PackContext, Period

TREND_QUARTERS = 8  # the sparklines and trend tables: two years of quarters, ending with the pack's
CHART_WIDTH = 660  # the plot; with its axis the SVG stays within the page's 760 px (legends go on top)
CHART_LEGEND = {"orient": "top", "title": None}
# vl-convert spends ~5 ms of CPU on every text of a chart: few ticks, and the unit goes in the title.
CHART_Y_AXIS = {"tickCount": 4, "title": None}

tx = i18n.Texts(
    {
        "up_points_prev": ("较上季提升 {points}", "up {points} on last quarter"),
        "down_points_prev": ("较上季下降 {points}", "down {points} on last quarter"),
        "flat_prev": ("与上季持平", "level with last quarter"),
        "up_points_year": ("较去年同期提升 {points}", "up {points} on the same quarter last year"),
        "down_points_year": ("较去年同期下降 {points}", "down {points} on the same quarter last year"),
        "up_growth_prev": ("较上季增长 {rate}", "{rate} above last quarter"),
        "down_growth_prev": ("较上季下降 {rate}", "{rate} below last quarter"),
        "up_growth_year": ("较去年同期增长 {rate}", "{rate} above the same quarter last year"),
        "down_growth_year": ("较去年同期下降 {rate}", "{rate} below the same quarter last year"),
        "flat_year": ("与去年同期持平", "level with the same quarter last year"),
        "more_days_prev": ("较上季增加 {days} 天", "{days} days more than last quarter"),
        "fewer_days_prev": ("较上季减少 {days} 天", "{days} days fewer than last quarter"),
        "none_prev": ("上季无可比数据", "no previous quarter to compare with"),
        "none_year": ("去年同期无可比数据", "no same quarter last year to compare with"),
        "none_both": (
            "无上季及去年同期数据可比",
            "no previous quarter or same quarter last year to compare with",
        ),
    }
)


# ---------------------------------------------------------------------------------------------- periods


def quarters_back(period: Period, count: int = TREND_QUARTERS) -> list[Period]:
    """The `count` quarters ending with `period`, oldest first."""
    quarters = [period]
    for _ in range(count - 1):
        quarters.append(quarters[-1].previous())
    return quarters[::-1]


def week_range(period: Period) -> tuple[date, date]:
    """Mondays of the first and last week of the quarter. A week belongs to the quarter that holds its
    Thursday (the ISO rule that puts every week in exactly one year), so a quarter has 13 weeks (14 when
    it holds 14 Thursdays)."""
    first_thursday = period.start + timedelta(days=(3 - period.start.weekday()) % 7)
    last_thursday = period.end - timedelta(days=(period.end.weekday() - 3) % 7)
    return first_thursday - timedelta(days=3), last_thursday - timedelta(days=3)


def by_start(rows: Sequence[dict[str, Any]], key: str = "period_start_date") -> dict[date, dict[str, Any]]:
    return {r[key]: r for r in rows}


def first(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    return rows[0] if rows else None


def value(row: dict[str, Any] | None, key: str) -> Any:
    return None if row is None else row.get(key)


# ---------------------------------------------------------------------------------------------- numbers


def growth(now: Any, before: Any) -> float | None:
    """Relative change of an amount or count (None without a base to compare with)."""
    if now is None or before is None or float(before) == 0:
        return None
    return (float(now) - float(before)) / abs(float(before))


def difference(now: Any, before: Any) -> float | None:
    if now is None or before is None:
        return None
    return float(now) - float(before)


def points(change: float, lang: str) -> str:
    """An unsigned change of a rate in percentage points: 4.2 个百分点 / 4.2 pts."""
    return i18n.signed_rate_points(abs(change), lang).removeprefix("+")


def one_decimal(number: Any) -> str:
    return i18n.MISSING if number is None else f"{float(number):,.1f}"


def index_text(index: Any) -> str:
    """A seasonal index as a sentence shows it, as a percentage of an average period: 95.8%."""
    return i18n.rate(index)


def money_or_zero(amount: Any) -> Decimal:
    return Decimal(0) if amount is None else Decimal(str(amount))


# ---------------------------------------------------------------------------------------------- words


def rate_change(change: float | None, against: str, lang: str) -> str | None:
    """较上季提升 4.2 个百分点 / up 4.2 pts on last quarter; `against` is "prev" or "year"."""
    if change is None:
        return None
    if round(change * 100, 1) == 0:
        return tx(f"flat_{against}", lang)
    return tx(f"{'up' if change > 0 else 'down'}_points_{against}", lang, points=points(change, lang))


def amount_change(change: float | None, against: str, lang: str) -> str | None:
    """较去年同期增长 12.3% / 12.3% above the same quarter last year."""
    if change is None:
        return None
    if round(change * 100, 1) == 0:
        return tx(f"flat_{against}", lang)
    return tx(f"{'up' if change > 0 else 'down'}_growth_{against}", lang, rate=i18n.rate(abs(change)))


def days_change(change: float | None, lang: str) -> str | None:
    """较上季增加 2.6 天 / 2.6 days more than last quarter."""
    if change is None:
        return None
    if round(change, 1) == 0:
        return tx("flat_prev", lang)
    return tx("more_days_prev" if change > 0 else "fewer_days_prev", lang, days=one_decimal(abs(change)))


def comparisons(prev: str | None, year: str | None, lang: str) -> str:
    """Both comparisons as one clause; says plainly which one is missing."""
    if prev is None and year is None:
        return tx("none_both", lang)
    parts = [prev or tx("none_prev", lang), year or tx("none_year", lang)]
    return ("，" if lang == "zh-CN" else ", ").join(parts)


def sentence(text: str, lang: str) -> str:
    return text + ("。" if lang == "zh-CN" else ".")


def who(ctx: PackContext) -> str:
    """The audience inside a sentence: 全公司 / 华东区域, the company / the East China region."""
    if ctx.lang == "zh-CN":
        return ctx.audience.name(ctx.lang)
    if ctx.audience.region is None:
        return "the company"
    return f"the {i18n.region_name(ctx.audience.region, ctx.lang)} region"


def label(ctx: PackContext) -> str:
    """The quarter as the findings name it; a quarter still running says how far its figures go:
    2026-Q4（截至 11月22日） / 2026-Q4 (to 22 Nov 2026)."""
    if ctx.period.end <= ctx.as_of:
        return ctx.period.label
    day = i18n.day_text(ctx.as_of, ctx.lang)
    if ctx.lang == "zh-CN":
        return f"{ctx.period.label}（截至 {day}）"
    return f"{ctx.period.label} (to {day} {ctx.as_of.year})"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def unit_name(name: str | None, level: str, lang: str) -> str:
    """A unit's name as the pack shows it: regions in the pack's language."""
    if name is None:
        return i18n.MISSING
    return i18n.region_name(name, lang) if level == "region" else name


# ---------------------------------------------------------------------------------------------- KPI cards


@dataclass(frozen=True)
class QuarterKpi:
    """A KPI card of the quarter: the value, the previous quarter's and the same quarter last year's."""

    key: str
    label: str
    value: Any
    kind: str = "money"  # money | rate | int | count (compared by difference) | days | pct (0-100) | number
    previous: Any = None
    year_ago: Any = None
    trend: Sequence[Any] = field(default_factory=tuple)  # the sparkline, oldest first
    light: str | None = None
    higher_is_better: bool | None = True  # None: a change is neither good nor bad


def kpi_cards(ctx: PackContext, cards: Sequence[QuarterKpi]) -> str:
    """The cards, each compared with the previous quarter and the same quarter last year."""
    return components.kpi_cards(
        ctx,
        [
            components.Kpi(
                c.key,
                c.label,
                c.value,
                c.kind,
                c.previous,
                i18n.t("vs_previous_quarter", ctx.lang),
                c.trend,
                c.light,
                c.higher_is_better,
                also=((i18n.t("vs_last_year", ctx.lang), c.year_ago),),
            )
            for c in cards
        ],
    )


def with_unit(title: str, unit: str, lang: str) -> str:
    """A chart title with the unit of its axis: 各季度末应收账款（万元） / Receivables (CNY M)."""
    return f"{title}（{unit}）" if lang == "zh-CN" else f"{title} ({unit})"


def note(text: str) -> str:
    """A line of plain explanation under a part of a section (what is missing, what a figure is)."""
    return f'<p class="srw-note">{esc(text)}</p>'
