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


# ---------------------------------------------------------------- data quality (数据质量)
#
# Data accuracy from the managers' phone verification (marts.fct_data_accuracy), open quality flags by
# rule (quality.quarantine) and the week's verification sample (raw_manual.verification_sample, frozen
# when issued). A warehouse built before these tables existed still renders: the section says so.

ACCURACY_MART = "marts.fct_data_accuracy"
QUARANTINE_TABLE = "quality.quarantine"
QUALITY_RULES_SEED = "seeds.quality_rules"
VERIFICATION_SAMPLE_TABLE = "raw_manual.verification_sample"
# The sample files, relative to the pack page (<site>/weekly/<week>.html): <site>/verification/<week>/
VERIFICATION_FILES_HREF = "../verification/{week}/verification_{week}_{who}.{ext}"

ACCURACY_LIGHT_LABELS: dict[str, tuple[str, str]] = {
    "green": ("达标", "On target"),
    "yellow": ("预警", "At risk"),
    "red": ("不达标", "Below"),
    "none": ("未核实", "Not verified"),
}

QUALITY_LABELS: dict[str, tuple[str, str]] = {
    "accuracy": ("数据准确率", "Data accuracy"),
    "verified": ("已核实", "Verified"),
    "confirmed": ("真实", "Confirmed"),
    "fake": ("虚假", "Fake"),
    "unverifiable": ("无法核实", "Unverifiable"),
    "fake_rate_ht": ("估计失真率", "Est. fake rate"),
    "veto": ("一票否决", "Veto"),
    "vetoed_reps": ("被否决代表", "Reps vetoed"),
    "light": ("状态", "Status"),
    "rep": ("销售代表", "Rep"),
    "manager": ("经理", "Manager"),
    "rule": ("规则", "Rule"),
    "description": ("说明", "Description"),
    "severity": ("级别", "Severity"),
    "entity": ("对象", "Records"),
    "new": ("本周新增", "New this week"),
    "older": ("此前", "Older"),
    "total": ("合计", "Total"),
    "population": ("记录数", "Records"),
    "stratum1": ("随机抽取", "Random"),
    "stratum2": ("风险加抽", "Risk extra"),
    "sampled": ("样本", "Sampled"),
    "returned": ("已返回", "Returned"),
    "files": ("文件", "Files"),
}
SEVERITY_LABELS: dict[str, tuple[str, str]] = {"block": ("拦截", "Block"), "warn": ("警告", "Warn")}


@dataclass(frozen=True)
class AccuracyRow:
    level: str
    unit_id: str
    unit_name: str | None
    manager_name: str | None
    verdict_count: int
    verified_count: int
    confirmed_count: int
    fake_count: int
    unverifiable_count: int
    accuracy_rate: float | None
    fake_rate_ht: float | None
    has_veto: bool
    status_light: str


@dataclass(frozen=True)
class RuleFlags:
    rule_id: str
    severity: str
    entity: str | None
    description_zh: str | None
    description_en: str | None
    new_count: int  # first seen in the pack's week
    older_count: int  # first seen before it

    @property
    def total(self) -> int:
        return self.new_count + self.older_count


@dataclass(frozen=True)
class SampleCounts:
    manager_id: str
    manager_name: str | None
    population_count: int
    stratum1_count: int
    stratum2_count: int
    returned_count: int  # records of this sample with a verdict back
    fake_count: int

    @property
    def sampled_count(self) -> int:
        return self.stratum1_count + self.stratum2_count


@dataclass(frozen=True)
class QualityPack:
    week: Week
    month_start: date  # the month of the week's Sunday: accuracy is shown month to date
    company: AccuracyRow | None
    reps: list[AccuracyRow]
    flags: list[RuleFlags]
    sample: list[SampleCounts]
    missing: list[str]  # tables the warehouse does not have yet

    @property
    def month_label(self) -> str:
        return f"{self.month_start:%Y-%m}"


_ACCURACY_COLUMNS = (
    "level, unit_id, unit_name, manager_name, verdict_count, verified_count, confirmed_count, fake_count, "
    "unverifiable_count, accuracy_rate, fake_rate_ht, has_veto, status_light"
)


def _has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, name = qualified.split(".")
    (found,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return found > 0


def by_accuracy_problems(rows: Sequence[AccuracyRow]) -> list[AccuracyRow]:
    """Problems first: vetoed reps, then lowest accuracy; not yet verified last; ties by name."""
    return sorted(
        rows,
        key=lambda r: (not r.has_veto, r.accuracy_rate is None, r.accuracy_rate or 0.0, r.unit_name or ""),
    )


def _accuracy(con: duckdb.DuckDBPyConnection, period_type: str, start: date, level: str) -> list[AccuracyRow]:
    rows = con.execute(
        f"select {_ACCURACY_COLUMNS} from {ACCURACY_MART} "
        "where period_type = ? and period_start_date = ? and level = ?",
        [period_type, start, level],
    ).fetchall()
    return [AccuracyRow(*row) for row in rows]


def _flags(con: duckdb.DuckDBPyConnection, week: Week) -> list[RuleFlags]:
    """Flags first seen up to the week's Sunday (a rebuilt past pack shows what was open then)."""
    if _has_table(con, QUALITY_RULES_SEED):
        descriptions = "any_value(rules.description_zh), any_value(rules.description_en)"
        join = f"left join {QUALITY_RULES_SEED} as rules on flags.rule_id = rules.rule_id"
    else:
        descriptions, join = "null, null", ""
    rows = con.execute(
        f"""
        select
            flags.rule_id,
            flags.severity,
            any_value(flags.entity),
            {descriptions},
            count(*) filter (where flags.first_seen_date >= ?),
            count(*) filter (where flags.first_seen_date < ? or flags.first_seen_date is null)
        from {QUARANTINE_TABLE} as flags
        {join}
        where flags.first_seen_date <= ? or flags.first_seen_date is null
        group by flags.rule_id, flags.severity
        order by flags.severity = 'block' desc, count(*) desc, flags.rule_id
        """,
        [week.start, week.start, week.end],
    ).fetchall()
    return [RuleFlags(*row) for row in rows]


def _sample(con: duckdb.DuckDBPyConnection, week: Week, with_accuracy: bool) -> list[SampleCounts]:
    returned = (
        f"left join {ACCURACY_MART} as accuracy on accuracy.period_type = 'week' "
        "and accuracy.level = 'manager' and accuracy.unit_id = sample.manager_id "
        "and accuracy.period_start_date = sample.week_start_date"
        if with_accuracy
        else ""
    )
    counts = (
        "coalesce(any_value(accuracy.verdict_count), 0), coalesce(any_value(accuracy.fake_count), 0)"
        if with_accuracy
        else "0, 0"
    )
    rows = con.execute(
        f"""
        select
            sample.manager_id,
            any_value(sample.manager_name),
            max(sample.population_count),
            count(*) filter (where sample.stratum = 1),
            count(*) filter (where sample.stratum = 2),
            {counts}
        from {VERIFICATION_SAMPLE_TABLE} as sample
        {returned}
        where sample.week_start_date = ?
        group by sample.manager_id
        order by sample.manager_id
        """,
        [week.start],
    ).fetchall()
    return [SampleCounts(*row) for row in rows]


def load_quality(warehouse: str | Path, week: Week) -> QualityPack:
    """Everything the 'Data quality' section shows for the pack's week (accuracy month to date)."""
    month_start = week.end.replace(day=1)
    con = connect_readonly(warehouse)
    try:
        missing = [
            t for t in (ACCURACY_MART, QUARANTINE_TABLE, VERIFICATION_SAMPLE_TABLE) if not _has_table(con, t)
        ]
        has_accuracy = ACCURACY_MART not in missing
        company = _accuracy(con, "month", month_start, "company") if has_accuracy else []
        return QualityPack(
            week=week,
            month_start=month_start,
            company=company[0] if company else None,
            reps=by_accuracy_problems(_accuracy(con, "month", month_start, "rep")) if has_accuracy else [],
            flags=_flags(con, week) if QUARANTINE_TABLE not in missing else [],
            sample=_sample(con, week, has_accuracy) if VERIFICATION_SAMPLE_TABLE not in missing else [],
            missing=missing,
        )
    finally:
        con.close()


def quality_label(key: str, lang: str = "zh-CN") -> str:
    zh, en = QUALITY_LABELS[key]
    return f"{en} {zh}" if lang.startswith("en") else f"{zh} {en}"


def accuracy_badge(light: str | None, lang: str = "zh-CN") -> str:
    """The status-light markup of light_badge, with the data-accuracy words ('none' = not verified)."""
    key = light or "none"
    if key not in ACCURACY_LIGHT_LABELS:
        raise ValueError(f"status_light {light!r}: expected one of {', '.join(ACCURACY_LIGHT_LABELS)}")
    zh, en = ACCURACY_LIGHT_LABELS[key]
    words = f"{en} {zh}" if lang.startswith("en") else f"{zh} {en}"
    return (
        f'<span class="light light-{key}" data-light="{key}">'
        f'<span class="light-dot" aria-hidden="true"></span>{html.escape(words)}</span>'
    )


def veto_badge(has_veto: bool, lang: str = "zh-CN") -> str:
    if not has_veto:
        return f'<span class="veto veto-no" data-veto="false">{MISSING}</span>'
    return f'<span class="veto veto-yes" data-veto="true">{_esc(quality_label("veto", lang))}</span>'


def _count_cell(value: int | None, css: str = "count") -> str:
    shown = MISSING if value is None else f"{value:,}"
    return f'<td class="num {css}" data-value="{"" if value is None else value}">{shown}</td>'


def missing_tables_html(quality: QualityPack) -> str:
    if not quality.missing:
        return ""
    names = ", ".join(f"<code>{_esc(t)}</code>" for t in quality.missing)
    return f'<p class="no-data">尚未生成 Not built yet: {names}</p>'


def accuracy_headline_html(quality: QualityPack, lang: str = "zh-CN") -> str:
    """Company data accuracy for the month to date: accuracy and light, verified, fakes, vetoed reps."""
    row = quality.company
    if row is None:
        return (
            f'<p class="no-data" data-period="{quality.month_label}">{quality.month_label} '
            "尚无核查结论 No verdicts returned yet.</p>"
        )
    rate_value = "" if row.accuracy_rate is None else repr(float(row.accuracy_rate))
    vetoed = sum(1 for r in quality.reps if r.has_veto)
    cards = [
        f'<div class="kpi kpi-accuracy"><div class="kpi-label">{_esc(quality_label("accuracy", lang))} '
        f"{quality.month_label}</div>"
        f'<div class="kpi-value" data-value="{rate_value}">{format_rate(row.accuracy_rate)}</div>'
        f'<div class="kpi-light">{accuracy_badge(row.status_light, lang)}</div></div>',
    ]
    for key, value in (
        ("verified", row.verified_count),
        ("fake", row.fake_count),
        ("unverifiable", row.unverifiable_count),
        ("vetoed_reps", vetoed),
    ):
        cards.append(
            f'<div class="kpi kpi-{key}"><div class="kpi-label">{_esc(quality_label(key, lang))}</div>'
            f'<div class="kpi-value" data-value="{value}">{value:,}</div></div>'
        )
    return (
        f'<div class="kpi-row quality-kpis" data-level="company" data-period="{quality.month_label}">'
        f"{''.join(cards)}</div>"
    )


def accuracy_table_html(rows: Sequence[AccuracyRow], month_label: str, lang: str = "zh-CN") -> str:
    """Per rep, month to date: verdict counts, accuracy, HT estimate of the fake rate, light, veto."""
    headers = [
        (quality_label("rep", lang), "text"),
        (quality_label("manager", lang), "text"),
        (quality_label("verified", lang), "num"),
        (quality_label("confirmed", lang), "num"),
        (quality_label("fake", lang), "num"),
        (quality_label("unverifiable", lang), "num"),
        (quality_label("accuracy", lang), "num"),
        (quality_label("fake_rate_ht", lang), "num"),
        (quality_label("light", lang), "text"),
        (quality_label("veto", lang), "text"),
    ]
    body = [
        f'<tr data-unit-id="{_esc(r.unit_id)}">'
        f'<th scope="row" class="text">{_esc(r.unit_name or r.unit_id)}</th>'
        f'<td class="text">{_esc(r.manager_name or MISSING)}</td>'
        f"{_count_cell(r.verified_count)}{_count_cell(r.confirmed_count)}{_count_cell(r.fake_count)}"
        f"{_count_cell(r.unverifiable_count)}{_rate_cell(r.accuracy_rate)}{_rate_cell(r.fake_rate_ht)}"
        f"<td>{accuracy_badge(r.status_light, lang)}</td><td>{veto_badge(r.has_veto, lang)}</td></tr>"
        for r in rows
    ]
    caption = f"销售代表数据准确率 Data accuracy by rep, {month_label} 本月累计 month to date"
    return _table(caption, headers, body, "accuracy-table", len(headers))


def flags_table_html(flags: Sequence[RuleFlags], lang: str = "zh-CN") -> str:
    """Open quality flags per rule and severity: first seen this week vs. before, with a total row."""
    headers = [
        (quality_label("rule", lang), "text"),
        (quality_label("description", lang), "text"),
        (quality_label("severity", lang), "text"),
        (quality_label("entity", lang), "text"),
        (quality_label("new", lang), "num"),
        (quality_label("older", lang), "num"),
        (quality_label("total", lang), "num"),
    ]
    body = []
    for f in flags:
        zh, en = SEVERITY_LABELS.get(f.severity, (f.severity, f.severity))
        severity = f"{en} {zh}" if lang.startswith("en") else f"{zh} {en}"
        description = " ".join(d for d in (f.description_zh, f.description_en) if d) or MISSING
        body.append(
            f'<tr data-rule-id="{_esc(f.rule_id)}" data-severity="{_esc(f.severity)}">'
            f'<th scope="row" class="text"><code>{_esc(f.rule_id)}</code></th>'
            f'<td class="text">{_esc(description)}</td>'
            f'<td class="text severity severity-{_esc(f.severity)}">{_esc(severity)}</td>'
            f'<td class="text">{_esc(f.entity or MISSING)}</td>'
            f"{_count_cell(f.new_count)}{_count_cell(f.older_count)}{_count_cell(f.total)}</tr>"
        )
    if flags:
        body.append(
            f'<tr class="total-row" data-rule-id="total"><th scope="row" class="text" colspan="4">'
            f"{_esc(quality_label('total', lang))}</th>"
            f"{_count_cell(sum(f.new_count for f in flags))}{_count_cell(sum(f.older_count for f in flags))}"
            f"{_count_cell(sum(f.total for f in flags))}</tr>"
        )
    return _table("待处理数据问题 Open quality flags by rule", headers, body, "flags-table", len(headers))


def _file_links(week_label: str, who: str) -> str:
    links = [
        f'<a href="{_esc(VERIFICATION_FILES_HREF.format(week=week_label, who=who, ext=ext))}">{label}</a>'
        for ext, label in (("xlsx", "Excel"), ("csv", "CSV"))
    ]
    return " · ".join(links)


def sample_table_html(sample: Sequence[SampleCounts], week: Week, lang: str = "zh-CN") -> str:
    """This week's verification sample per manager, with the verdicts returned so far and the files."""
    headers = [
        (quality_label("manager", lang), "text"),
        (quality_label("population", lang), "num"),
        (quality_label("stratum1", lang), "num"),
        (quality_label("stratum2", lang), "num"),
        (quality_label("sampled", lang), "num"),
        (quality_label("returned", lang), "num"),
        (quality_label("fake", lang), "num"),
        (quality_label("files", lang), "text"),
    ]
    body = [
        f'<tr data-manager-id="{_esc(s.manager_id)}"><th scope="row" class="text">'
        f"{_esc(s.manager_name or s.manager_id)}</th>"
        f"{_count_cell(s.population_count)}{_count_cell(s.stratum1_count)}{_count_cell(s.stratum2_count)}"
        f"{_count_cell(s.sampled_count)}{_count_cell(s.returned_count)}{_count_cell(s.fake_count)}"
        f'<td class="text files">{_file_links(week.label, s.manager_id)}</td></tr>'
        for s in sample
    ]
    if sample:
        body.append(
            f'<tr class="total-row" data-manager-id="all"><th scope="row" class="text">'
            f"{_esc(quality_label('total', lang))}</th>"
            f"{_count_cell(sum(s.population_count for s in sample))}"
            f"{_count_cell(sum(s.stratum1_count for s in sample))}"
            f"{_count_cell(sum(s.stratum2_count for s in sample))}"
            f"{_count_cell(sum(s.sampled_count for s in sample))}"
            f"{_count_cell(sum(s.returned_count for s in sample))}"
            f"{_count_cell(sum(s.fake_count for s in sample))}"
            f'<td class="text files">{_file_links(week.label, "all")}</td></tr>'
        )
    caption = f"本周电话核查样本 Phone-verification sample {week.label}"
    return _table(caption, headers, body, "sample-table", len(headers))
