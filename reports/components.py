"""The building blocks of a pack page: section headings with their findings, KPI cards with the
comparison to the previous period and a sparkline, tables (downloadable as CSV and Excel), status
lights and charts (Altair / Vega-Lite, rendered to static SVG by vl-convert: no JavaScript, nothing
fetched).

Sections print what they show (`emit`): a Markdown heading, so that Quarto's table of contents sees
it, and the body as a raw HTML block (```{=html}), which Quarto passes through untouched and the
built-in renderer unwraps. Every value is escaped; money keeps its exact yuan in `data-value`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reports import i18n, source_coverage
from reports.context import PackContext

RAW_HTML_OPEN = "```{=html}"
RAW_HTML_CLOSE = "```"
CHART_FONT = "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
NUMERIC_KINDS = ("money", "rate", "int", "count", "days", "points", "number", "pct")


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def emit(text: str) -> None:
    """Write a block of the page (chunks run with `output: asis`)."""
    print(text, end="\n\n")


def raw_html(body: str) -> str:
    return f"{RAW_HTML_OPEN}\n{body}\n{RAW_HTML_CLOSE}"


def heading(level: int, text: str, anchor: str) -> str:
    return f"{'#' * level} {text} {{#{anchor}}}"


def finding_html(sentences: Sequence[str]) -> str:
    """The one to three sentences a section opens with."""
    if not sentences:
        return ""
    body = "".join(f"<p>{esc(s)}</p>" for s in sentences)
    return f'<div class="srw-finding" role="note">{body}</div>'


def section(section_id: str, title: str, findings: Sequence[str], *parts: str, level: int = 2) -> None:
    """Emit a section: its heading, its findings, then its parts (HTML). A section that needs an entity
    the source does not have shows that instead (reports/source_coverage.py)."""
    coverage, lang = source_coverage.current()
    missing = coverage.missing_for(section_id)
    if missing:
        text = source_coverage.not_in_source_text(missing, lang)
        findings, parts = (
            [],
            (f'<p class="srw-not-in-source" data-missing="{esc(",".join(missing))}">{esc(text)}</p>',),
        )
    emit(heading(level, title, section_id))
    body = finding_html(findings) + "".join(parts)
    emit(raw_html(f'<div class="srw-section" data-section="{esc(section_id)}">{body}</div>'))


def subsection(section_id: str, title: str, *parts: str) -> None:
    section(section_id, title, [], *parts, level=3)


# ---------------------------------------------------------------------------------------------- values


def light_badge(light: str | None, lang: str) -> str:
    key = light if light in ("green", "yellow", "red") else "none"
    words = esc(i18n.t("light_" + key, lang))
    return f'<span class="light light-{key}"><span class="dot" aria-hidden="true"></span>{words}</span>'


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any, kind: str, scale: i18n.MoneyScale | None, lang: str) -> str:
    if value is None:
        return i18n.MISSING
    if kind == "money":
        return scale.number(value)
    if kind == "rate":
        return i18n.rate(value)
    if kind == "points":
        return i18n.signed_rate_points(value, lang)
    if kind in ("int", "count"):
        return f"{int(value):,}"
    if kind == "pct":  # a percentage the mart already holds on a 0-100 scale (CEI)
        return f"{float(value):.1f}%"
    if kind == "days":
        return f"{float(value):,.0f}" if float(value).is_integer() else f"{float(value):,.1f}"
    return f"{float(value):,.1f}"


# ---------------------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Column:
    key: str  # the row's key
    label: str  # the header, in the pack's language
    kind: str = "text"  # text | money | rate | points | int | days | number | light | date


def table(
    ctx: PackContext,
    table_id: str,
    columns: Sequence[Column],
    rows: Sequence[dict[str, Any]],
    *,
    caption: str | None = None,
    row_key: str | None = None,
    empty: str | None = None,
) -> str:
    """A table: money columns share one unit (in the header), numbers align right, lights are badges.
    `row_key` names the row attribute tests find rows by (data-row). Downloads hold the exact values."""
    if not rows:
        note = empty or i18n.t("no_rows", ctx.lang)
        return f'<p class="srw-empty" data-table="{esc(table_id)}">{esc(note)}</p>'
    money_values = [r[c.key] for c in columns if c.kind == "money" for r in rows]
    scale = i18n.money_scale(money_values, ctx.lang) if money_values else None
    head = "".join(
        f'<th class="{"num" if c.kind in NUMERIC_KINDS else "txt"}">{esc(c.label)}'
        + (f" ({esc(scale.unit)})" if c.kind == "money" else "")
        + "</th>"
        for c in columns
    )
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c.key)
            if c.kind == "light":
                cells.append(f"<td>{light_badge(value, ctx.lang)}</td>")
            elif c.kind in NUMERIC_KINDS:
                shown = _number(value, c.kind, scale, ctx.lang)
                cells.append(f'<td class="num" data-value="{esc(_plain(value))}">{esc(shown)}</td>')
            else:
                cells.append(f"<td>{esc(_plain(value))}</td>")
        attribute = f' data-row="{esc(row.get(row_key))}"' if row_key else ""
        body.append(f"<tr{attribute}>{''.join(cells)}</tr>")
    downloads = _downloads(ctx, table_id, columns, rows)
    caption_html = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (
        f'<div class="srw-table-wrap"><table class="srw-table" id="{esc(table_id)}">{caption_html}'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{downloads}</div>"
    )


def _downloads(ctx: PackContext, table_id: str, columns: Sequence[Column], rows) -> str:
    unit = {"money": i18n.currency_unit(ctx.lang).strip()}
    header = [c.label + (f" ({unit[c.kind]})" if c.kind in unit else "") for c in columns]
    values = [
        [
            i18n.t("light_" + (r.get(c.key) or "none"), ctx.lang) if c.kind == "light" else r.get(c.key)
            for c in columns
        ]
        for r in rows
    ]
    links = ctx.write_table(table_id, header, values)
    if not links:
        return ""
    anchors = " · ".join(f'<a href="{esc(href)}" download>{esc(label)}</a>' for label, href in links)
    return f'<p class="srw-downloads">{esc(i18n.t("download", ctx.lang))}: {anchors}</p>'


# ---------------------------------------------------------------------------------------------- KPI cards


@dataclass(frozen=True)
class Kpi:
    key: str  # data-kpi, for tests and styling
    label: str
    value: Any
    # money | rate | int (compared in %) | count (compared by difference) | days | pct (0-100) | number
    kind: str = "money"
    previous: Any = None  # the same figure one period earlier, for the comparison
    compare_label: str = ""  # 较上周 / vs last week
    trend: Sequence[float | None] = field(default_factory=tuple)  # the sparkline, oldest first
    light: str | None = None
    higher_is_better: bool | None = True  # None: a change is neither good nor bad (a target)
    also: Sequence[tuple[str, Any]] = ()  # more comparisons: (label, earlier value), e.g. a year ago


def kpi_cards(ctx: PackContext, cards: Sequence[Kpi]) -> str:
    money = [v for c in cards if c.kind == "money" for v in (c.value, c.previous, *(v for _, v in c.also))]
    scale = i18n.money_scale(money, ctx.lang)
    return '<div class="srw-kpis">' + "".join(_kpi(ctx, c, scale) for c in cards) + "</div>"


def _kpi(ctx: PackContext, card: Kpi, scale: i18n.MoneyScale) -> str:
    shown = _number(card.value, card.kind, scale, ctx.lang)
    unit = ""
    if card.value is not None and card.kind in ("money", "days"):
        words = scale.unit if card.kind == "money" else i18n.t("days", ctx.lang)
        unit = f'<span class="unit">{esc(words)}</span>'
    compare = "".join(
        _comparison(ctx, card, before, label)
        for label, before in ((card.compare_label, card.previous), *card.also)
        if label
    )
    light = light_badge(card.light, ctx.lang) if card.light else ""
    key = esc(card.key)
    return (
        f'<div class="kpi kpi-{key}" data-kpi="{key}" data-value="{esc(_plain(card.value))}">'
        f'<div class="kpi-label">{esc(card.label)}</div>'
        f'<div class="kpi-value">{esc(shown)}{unit}</div>'
        f"{compare}{light}{sparkline(card.trend)}</div>"
    )


def _comparison(ctx: PackContext, card: Kpi, before: Any, label: str) -> str:
    """较上周 ▼ -57.7% / vs last quarter ▲ +4.2 pts: the change, its arrow, good or bad in colour."""
    if card.value is None or before is None:
        return ""
    lang, change = ctx.lang, float(card.value) - float(before)
    if card.kind in ("rate", "pct"):
        text = i18n.signed_rate_points(change / (100 if card.kind == "pct" else 1), lang)
    elif card.kind == "days":
        text = f"{change:+.1f} {i18n.t('days', lang)}"
    elif card.kind == "count":
        text = f"{change:+,.0f}"
    elif card.kind == "number":
        text = f"{change:+.1f}"
    elif float(before) == 0:
        return ""
    else:
        text = f"{change / abs(float(before)) * 100:+.1f}%"
    arrow = "▲" if change > 0 else "▼" if change < 0 else "■"
    if change == 0 or card.higher_is_better is None:
        tone = "flat"
    else:
        tone = "good" if (change > 0) == card.higher_is_better else "bad"
    return f'<div class="kpi-compare {tone}">{esc(label)} {arrow} {esc(text)}</div>'


def sparkline(values: Sequence[float | None], width: int = 96, height: int = 22) -> str:
    """A small line of the last periods (an inline SVG polyline; a chart library adds nothing here)."""
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None]  # Decimal, int or float
    if len(points) < 2:
        return ""
    low, high = min(v for _, v in points), max(v for _, v in points)
    span, last = (high - low) or 1.0, len(values) - 1 or 1
    coords = " ".join(
        f"{2 + i * (width - 4) / last:.1f},{height - 2 - (v - low) * (height - 4) / span:.1f}"
        for i, v in points
    )
    return (
        f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-hidden="true"><polyline points="{coords}"/></svg>'
    )


# ---------------------------------------------------------------------------------------------- charts


def chart(spec: Any, description: str) -> str:
    """An Altair chart as inline SVG (vl-convert renders it here; the page runs no JavaScript)."""
    import vl_convert

    configured = spec.configure(font=CHART_FONT).configure_view(stroke=None)
    svg = vl_convert.vegalite_to_svg(configured.to_json())
    # Inline SVG needs no namespace declarations; dropping them keeps every page free of URLs.
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    return f'<figure class="srw-chart" role="img" aria-label="{esc(description)}">{svg}</figure>'


def money_axis_values(values: Sequence[Decimal | float | None], lang: str) -> tuple[list[float | None], str]:
    """Amounts in the unit a chart axis shows them in (万元 / CNY M / CNY k), and that unit."""
    scale = i18n.money_scale(values, lang)
    return [None if v is None else float(Decimal(str(v)) / scale.divisor) for v in values], scale.unit
