"""Data loading and HTML/SVG formatting for the review packs.

The .qmd documents stay short: they call these functions and display the HTML they return.
Money is kept as `Decimal` from DuckDB to the page, so the `data-value` attributes hold the exact
yuan figures of the mart (tests compare them with the warehouse).
"""

from __future__ import annotations

import html
import io
import logging
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb

MART = "marts.fct_attainment_weekly"
AS_OF_MART = "marts.warehouse_as_of"
TREND_WEEKS = 12
WAN = Decimal(10_000)  # 1 万元 = 10,000 yuan
ONE_DECIMAL_FROM_WAN = Decimal(100)  # from 100 万元 up, one decimal is precise enough
MISSING = "—"

# The mart decides the light (dbt owns the thresholds); the pack only draws it.
LIGHT_LABELS: dict[str, tuple[str, str]] = {
    "green": ("达标", "On track"),
    "yellow": ("预警", "At risk"),
    "red": ("落后", "Behind"),
    "none": ("无目标", "No target"),
}

# Column labels: (中文, English). `lang` only decides which comes first.
LABELS: dict[str, tuple[str, str]] = {
    "target": ("目标", "Target"),
    "actual": ("实际", "Actual"),
    "attainment": ("达成率", "Attainment"),
    "gap": ("差额", "Gap"),
    "light": ("状态", "Status"),
    "won": ("成交单数", "Won deals"),
    "region": ("区域", "Region"),
    "team": ("团队", "Team"),
    "rep": ("销售代表", "Rep"),
    "rank": ("排名", "#"),
    "week": ("周", "Week"),
    "dates": ("日期", "Dates"),
    "pack": ("周报", "Pack"),
    "unit_wan": ("万元", "10k CNY"),
}


class PackDataError(LookupError):
    """The warehouse does not hold what the pack asks for (names the week and the file)."""


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class Week:
    start: date  # Monday
    end: date  # Sunday
    label: str  # ISO week, e.g. '2026-W47'


@dataclass(frozen=True)
class AttainmentRow:
    level: str
    unit_id: str
    unit_name: str
    region: str | None
    team_id: str | None
    team_name: str | None
    target_amount: Decimal | None
    actual_amount: Decimal | None
    won_deal_count: int | None
    gap_amount: Decimal | None
    attainment_rate: float | None
    status_light: str


@dataclass(frozen=True)
class TrendPoint:
    week: Week
    target_amount: Decimal | None
    actual_amount: Decimal | None
    attainment_rate: float | None
    status_light: str


@dataclass(frozen=True)
class WeekPack:
    week: Week
    company: AttainmentRow | None
    regions: list[AttainmentRow]
    reps: list[AttainmentRow]
    trend: list[TrendPoint]


_ROW_COLUMNS = (
    "level, unit_id, unit_name, region, team_id, team_name, target_amount, actual_amount, "
    "won_deal_count, gap_amount, attainment_rate, status_light"
)


def connect_readonly(warehouse: str | Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only (a read-write handle would block the nightly build)."""
    path = Path(warehouse)
    if not path.is_file():
        raise PackDataError(f"warehouse {path}: file not found (build the warehouse first)")
    return duckdb.connect(str(path), read_only=True)


def parse_week_start(value: str | date | datetime | None) -> date | None:
    """The `week_start` parameter as papermill ('2026-11-16' or '') or Quarto (which may pass a
    YAML date, i.e. a date or '2026-11-16T00:00:00.000Z') hands it to the pack."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = re.match(r"\d{4}-\d{2}-\d{2}(?![\d-])", str(value).strip())
    try:
        if match is None:
            raise ValueError("no ISO date")
        return date.fromisoformat(match.group(0))
    except ValueError as exc:
        raise ValueError(f"week_start {value!r}: expected an ISO date such as 2026-11-16") from exc


def week_from_label(label: str) -> Week:
    """'2026-W47' -> Week(2026-11-16, 2026-11-22, '2026-W47') (ISO weeks, Monday first)."""
    try:
        year_text, week_text = label.split("-W")
        start = date.fromisocalendar(int(year_text), int(week_text), 1)
    except ValueError as exc:
        raise ValueError(f"week label {label!r}: expected the ISO form YYYY-Www, e.g. 2026-W47") from exc
    return Week(start=start, end=start + timedelta(days=6), label=label)


def resolve_week(
    con: duckdb.DuckDBPyConnection,
    week_start: str | date | None,
    as_of: date | None = None,
) -> Week:
    """The requested week, or the latest complete one: its Sunday on or before `as_of`, which defaults
    to the warehouse's own as-of date (marts.warehouse_as_of), so a rebuilt pack shows the same week."""
    requested = parse_week_start(week_start)
    if requested is not None:
        if requested.weekday() != 0:
            raise PackDataError(f"week_start {requested}: is a {requested:%A}, expected a Monday")
        row = con.execute(
            f"select week_start_date, week_end_date, week_label from {MART} "
            "where week_start_date = ? limit 1",
            [requested],
        ).fetchone()
        if row is None:
            raise PackDataError(f"{MART}: no rows for the week starting {requested}")
    else:
        cutoff = as_of or warehouse_as_of(con)
        row = con.execute(
            f"select week_start_date, week_end_date, week_label from {MART} "
            "where week_end_date <= ? order by week_start_date desc limit 1",
            [cutoff],
        ).fetchone()
        if row is None:
            raise PackDataError(f"{MART}: no complete week (ending on or before {cutoff}) to report on")
    return Week(start=row[0], end=row[1], label=row[2])


def warehouse_as_of(con: duckdb.DuckDBPyConnection) -> date:
    """The latest extract date the warehouse was built from."""
    row = con.execute(f"select as_of_date from {AS_OF_MART}").fetchone()
    if row is None or row[0] is None:
        raise PackDataError(f"{AS_OF_MART}: empty - no extracts have been loaded yet")
    return row[0]


def _attainment_rows(con: duckdb.DuckDBPyConnection, week: Week, level: str) -> list[AttainmentRow]:
    rows = con.execute(
        f"select {_ROW_COLUMNS} from {MART} where week_start_date = ? and level = ?",
        [week.start, level],
    ).fetchall()
    return [AttainmentRow(*row) for row in rows]


def by_attainment(rows: Sequence[AttainmentRow]) -> list[AttainmentRow]:
    """Best attainment first; units without a target last; ties by actual (desc), then name."""
    return sorted(
        rows,
        key=lambda r: (
            r.attainment_rate is None,
            -(r.attainment_rate or 0.0),
            -(r.actual_amount or 0),
            r.unit_name,
        ),
    )


def load_trend(con: duckdb.DuckDBPyConnection, week: Week, weeks: int = TREND_WEEKS) -> list[TrendPoint]:
    """Company rows of the `weeks` weeks ending with `week`, oldest first."""
    rows = con.execute(
        f"select week_start_date, week_end_date, week_label, target_amount, actual_amount, "
        f"attainment_rate, status_light from {MART} "
        "where level = 'company' and week_start_date between ? and ? order by week_start_date",
        [week.start - timedelta(weeks=weeks - 1), week.start],
    ).fetchall()
    return [TrendPoint(Week(r[0], r[1], r[2]), r[3], r[4], r[5], r[6]) for r in rows]


def load_pack(warehouse: str | Path, week_start: str | date | None, as_of: date | None = None) -> WeekPack:
    """Everything the 'Targets & attainment' section shows for one week."""
    con = connect_readonly(warehouse)
    try:
        week = resolve_week(con, week_start, as_of)
        company = _attainment_rows(con, week, "company")
        return WeekPack(
            week=week,
            company=company[0] if company else None,
            regions=by_attainment(_attainment_rows(con, week, "region")),
            reps=by_attainment(_attainment_rows(con, week, "rep")),
            trend=load_trend(con, week),
        )
    finally:
        con.close()


# ---------------------------------------------------------------- formatting


def wan_decimals(amounts: Sequence[Decimal | float | int | None]) -> int:
    """Decimals for a group of 万元 figures shown together: 2, or 1 once any reaches 100 万元.

    One choice per table column group / headline keeps decimal points aligned.
    """
    largest = max((abs(Decimal(str(a))) / WAN for a in amounts if a is not None), default=Decimal(0))
    return 1 if largest >= ONE_DECIMAL_FROM_WAN else 2


def format_wan(yuan: Decimal | float | int | None, decimals: int | None = None) -> str:
    """Yuan -> 万元 text, half-up, thousands separators.

    `decimals` defaults to this figure's own `wan_decimals` (2 below 100 万元, 1 from there up).
    """
    if yuan is None:
        return MISSING
    places = wan_decimals([yuan]) if decimals is None else decimals
    rounded = (Decimal(str(yuan)) / WAN).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.00"
    return f"{rounded:,}"


def format_rate(rate: float | None) -> str:
    """0.92593 -> '92.6%'; no target -> '—'."""
    if rate is None:
        return MISSING
    percent = Decimal(str(rate * 100)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{percent}%"


def exact_yuan(yuan: Decimal | float | int | None) -> str:
    """The `data-value` text: the exact yuan figure with two decimals ('' when missing)."""
    if yuan is None:
        return ""
    return f"{Decimal(str(yuan)).quantize(Decimal('0.01')):f}"


def label(key: str, lang: str = "zh-CN") -> str:
    zh, en = LABELS[key]
    return f"{en} {zh}" if lang.startswith("en") else f"{zh} {en}"


def light_badge(light: str | None, lang: str = "zh-CN") -> str:
    """A coloured dot plus words (so the light survives black-and-white printing)."""
    key = light or "none"
    if key not in LIGHT_LABELS:
        raise ValueError(f"status_light {light!r}: expected one of {', '.join(LIGHT_LABELS)}")
    zh, en = LIGHT_LABELS[key]
    words = f"{en} {zh}" if lang.startswith("en") else f"{zh} {en}"
    return (
        f'<span class="light light-{key}" data-light="{key}">'
        f'<span class="light-dot" aria-hidden="true"></span>{html.escape(words)}</span>'
    )


def _esc(text: object) -> str:
    return html.escape("" if text is None else str(text))


def _money_cell(yuan: Decimal | None, decimals: int) -> str:
    return f'<td class="num money" data-value="{exact_yuan(yuan)}">{format_wan(yuan, decimals)}</td>'


def _rate_cell(rate: float | None) -> str:
    value = "" if rate is None else repr(float(rate))
    return f'<td class="num rate" data-value="{value}">{format_rate(rate)}</td>'


def week_banner_html(week: Week) -> str:
    return (
        f'<div class="week-banner" data-week-label="{_esc(week.label)}" '
        f'data-week-start="{week.start.isoformat()}" data-week-end="{week.end.isoformat()}">'
        f'<span class="week-label">{_esc(week.label)}</span>'
        f'<span class="week-dates">{week.start.isoformat()} – {week.end.isoformat()}</span></div>'
    )


def headline_html(row: AttainmentRow | None, lang: str = "zh-CN") -> str:
    """Company figures as cards: target, actual, attainment, gap (万元) and the light."""
    if row is None:
        return '<p class="no-data">本周无全公司数据 No company figures for this week.</p>'
    unit = LABELS["unit_wan"][0]
    cards = [
        ("target", row.target_amount),
        ("actual", row.actual_amount),
        ("gap", row.gap_amount),
    ]
    decimals = wan_decimals([amount for _, amount in cards])
    parts = [
        f'<div class="kpi kpi-{key}"><div class="kpi-label">{_esc(label(key, lang))}</div>'
        f'<div class="kpi-value" data-value="{exact_yuan(amount)}">{format_wan(amount, decimals)}'
        f'<span class="kpi-unit">{unit}</span></div></div>'
        for key, amount in cards
    ]
    rate_value = "" if row.attainment_rate is None else repr(float(row.attainment_rate))
    parts.insert(
        2,
        f'<div class="kpi kpi-attainment"><div class="kpi-label">{_esc(label("attainment", lang))}</div>'
        f'<div class="kpi-value" data-value="{rate_value}">{format_rate(row.attainment_rate)}</div>'
        f'<div class="kpi-light">{light_badge(row.status_light, lang)}</div></div>',
    )
    won = "" if row.won_deal_count is None else str(row.won_deal_count)
    parts.append(
        f'<div class="kpi kpi-won"><div class="kpi-label">{_esc(label("won", lang))}</div>'
        f'<div class="kpi-value" data-value="{won}">{won or MISSING}</div></div>'
    )
    return f'<div class="kpi-row" data-level="company">{"".join(parts)}</div>'


def _table(
    caption: str, headers: list[tuple[str, str]], body_rows: list[str], css_class: str, colspan: int
) -> str:
    head = "".join(f'<th class="{cls}">{_esc(text)}</th>' for text, cls in headers)
    body = "".join(body_rows) or f'<tr><td colspan="{colspan}" class="no-data">无数据 No data</td></tr>'
    return (
        f'<table class="pack-table {css_class}"><caption>{_esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _money_headers(lang: str) -> list[tuple[str, str]]:
    unit = LABELS["unit_wan"][0]
    return [
        (f"{label('target', lang)} ({unit})", "num"),
        (f"{label('actual', lang)} ({unit})", "num"),
        (label("attainment", lang), "num"),
        (f"{label('gap', lang)} ({unit})", "num"),
    ]


def _table_decimals(rows: Sequence[AttainmentRow]) -> int:
    return wan_decimals([a for r in rows for a in (r.target_amount, r.actual_amount, r.gap_amount)])


def _figure_cells(row: AttainmentRow, decimals: int) -> str:
    return (
        _money_cell(row.target_amount, decimals)
        + _money_cell(row.actual_amount, decimals)
        + _rate_cell(row.attainment_rate)
        + _money_cell(row.gap_amount, decimals)
    )


def region_table_html(rows: Sequence[AttainmentRow], lang: str = "zh-CN") -> str:
    headers = [(label("region", lang), "text"), *_money_headers(lang), (label("light", lang), "text")]
    decimals = _table_decimals(rows)
    body = [
        f'<tr data-unit-id="{_esc(r.unit_id)}"><th scope="row" class="text">{_esc(r.unit_name)}</th>'
        f"{_figure_cells(r, decimals)}<td>{light_badge(r.status_light, lang)}</td></tr>"
        for r in rows
    ]
    return _table("各区域目标达成 Attainment by region", headers, body, "region-table", len(headers))


def rep_table_html(rows: Sequence[AttainmentRow], lang: str = "zh-CN") -> str:
    """Reps in the order given (callers pass `by_attainment` order), with team and region."""
    headers = [
        (label("rank", lang), "num"),
        (label("rep", lang), "text"),
        (label("team", lang), "text"),
        (label("region", lang), "text"),
        *_money_headers(lang),
        (label("won", lang), "num"),
        (label("light", lang), "text"),
    ]
    decimals = _table_decimals(rows)
    body = [
        f'<tr data-unit-id="{_esc(r.unit_id)}"><td class="num">{rank}</td>'
        f'<th scope="row" class="text">{_esc(r.unit_name)}</th>'
        f'<td class="text">{_esc(r.team_name or MISSING)}</td>'
        f'<td class="text">{_esc(r.region or MISSING)}</td>'
        f'{_figure_cells(r, decimals)}<td class="num">{_esc(r.won_deal_count)}</td>'
        f"<td>{light_badge(r.status_light, lang)}</td></tr>"
        for rank, r in enumerate(rows, start=1)
    ]
    return _table("销售代表目标达成 Attainment by rep", headers, body, "rep-table", len(headers))


def legend_html(lang: str = "zh-CN") -> str:
    badges = " ".join(light_badge(key, lang) for key in LIGHT_LABELS)
    return f'<p class="light-legend">{badges}</p>'


def pack_index_html(labels: Sequence[str], href_prefix: str = "weekly/") -> str:
    """The site index table: one row per pack, newest first, with its date range and link."""
    weeks = sorted((week_from_label(lbl) for lbl in set(labels)), key=lambda w: w.start, reverse=True)
    headers = [("周 Week", "text"), ("日期 Dates", "text"), ("周报 Pack", "text")]
    body = [
        f'<tr data-week-label="{_esc(w.label)}"><td class="text">{_esc(w.label)}</td>'
        f'<td class="text">{w.start.isoformat()} – {w.end.isoformat()}</td>'
        f'<td class="text"><a href="{_esc(href_prefix + w.label)}.html">'
        f"销售周报 Weekly pack {_esc(w.label)}</a></td></tr>"
        for w in weeks
    ]
    return _table("全部周报 All weekly packs", headers, body, "index-table", len(headers))


# ---------------------------------------------------------------- chart


def trend_chart_svg(trend: Sequence[TrendPoint], lang: str = "zh-CN") -> str:
    """Company target vs actual (bars, 万元) and attainment % (line) as inline SVG markup.

    `svg.fonttype='none'` keeps text as <text> elements, so the browser draws the Chinese
    with its own fonts; the build machine needs no CJK font (hence the muted glyph warnings).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not trend:
        return '<p class="no-data">无趋势数据 No trend data.</p>'
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    style = {
        "svg.fonttype": "none",
        "svg.hashsalt": "weekly-pack",  # stable element ids -> reproducible pages
        "font.family": "sans-serif",
        "font.sans-serif": [
            "Noto Sans CJK SC",
            "Source Han Sans SC",
            "PingFang SC",
            "Microsoft YaHei",
            "WenQuanYi Micro Hei",
            "DejaVu Sans",
        ],
        "font.size": 9,
        "axes.spines.top": False,
    }
    labels = [p.week.label.split("-")[-1] for p in trend]
    targets = [float((p.target_amount or 0) / WAN) for p in trend]
    actuals = [float((p.actual_amount or 0) / WAN) for p in trend]
    rates = [None if p.attainment_rate is None else p.attainment_rate * 100 for p in trend]
    light_colours = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828", "none": "#9e9e9e"}
    positions = list(range(len(trend)))
    width = 0.38
    with warnings.catch_warnings(), matplotlib.rc_context(style):
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        fig, bars_ax = plt.subplots(figsize=(9, 3.4))
        try:
            bars_ax.bar(
                [x - width / 2 for x in positions],
                targets,
                width,
                color="#cfd8dc",
                label=label("target", lang),
            )
            bars_ax.bar(
                [x + width / 2 for x in positions],
                actuals,
                width,
                color="#1565c0",
                label=label("actual", lang),
            )
            bars_ax.set_ylabel(LABELS["unit_wan"][0])
            bars_ax.set_xticks(positions, labels)
            bars_ax.set_ylim(0, max([*targets, *actuals, 1.0]) * 1.15)
            rate_ax = bars_ax.twinx()
            rate_ax.spines["top"].set_visible(False)
            points = [(x, r) for x, r in zip(positions, rates, strict=True) if r is not None]
            if points:
                rate_ax.plot(
                    [x for x, _ in points],
                    [r for _, r in points],
                    color="#37474f",
                    linewidth=1.5,
                    label=label("attainment", lang),
                )
                colours = [
                    light_colours.get(p.status_light, "#9e9e9e")
                    for p in trend
                    if p.attainment_rate is not None
                ]
                rate_ax.scatter(
                    [x for x, _ in points],
                    [r for _, r in points],
                    c=colours,
                    s=28,
                    zorder=3,
                    edgecolors="white",
                )
            rate_ax.axhline(100, color="#90a4ae", linestyle="--", linewidth=0.8)
            rate_ax.set_ylim(0, max([r for _, r in points] + [100]) * 1.2)
            rate_ax.set_ylabel(label("attainment", lang) + " %")
            handles = bars_ax.get_legend_handles_labels()
            rate_handles = rate_ax.get_legend_handles_labels()
            bars_ax.legend(
                handles[0] + rate_handles[0],
                handles[1] + rate_handles[1],
                loc="upper left",
                ncols=3,
                frameon=False,
                bbox_to_anchor=(0, 1.14),
            )
            fig.tight_layout()
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None})
        finally:
            plt.close(fig)
    return _responsive_svg(buffer.getvalue())


def _responsive_svg(svg: str) -> str:
    """Drop the XML prolog and RDF metadata; let the SVG scale to the column (its viewBox keeps the ratio)."""
    markup = re.sub(r"\s*<metadata>.*?</metadata>", "", svg[svg.index("<svg") :], count=1, flags=re.DOTALL)
    head_end = markup.index(">")
    head = markup[:head_end]
    for attribute in ("width", "height"):
        start = head.find(f' {attribute}="')
        if start != -1:
            end = head.index('"', start + len(attribute) + 3)
            head = head[:start] + head[end + 1 :]
    head = head.replace("<svg", '<svg class="trend-chart" role="img" width="100%"', 1)
    return f'<div class="chart">{head}{markup[head_end:]}</div>'
