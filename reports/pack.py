"""What every pack does first: open the warehouse for its period, audience and language, and say what it
is about (the header with the as-of stamp and the link to the other language)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from reports import i18n, source_coverage
from reports.components import emit, esc, raw_html
from reports.context import Audience, PackContext, PackDataError, Period, as_of_date, connect_readonly


def parse_date(value: str | date | datetime | None) -> date | None:
    """A date parameter as Quarto or the built-in renderer passes it: '2026-11-16', '' or a date."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError as exc:
        raise ValueError(f"expected an ISO date YYYY-MM-DD, got {value!r}") from exc


def open_context(
    warehouse: str, kind: str, period_start: str | date | None, region: str, lang: str, tables_dir: str
) -> PackContext:
    """The pack's context. `kind` is "week" or "quarter"; an empty `period_start` means the latest
    complete one; an empty `region` means the company pack."""
    con = connect_readonly(warehouse)
    as_of, latest_week = as_of_date(con)
    start = parse_date(period_start)
    if kind == "week":
        if start is None and latest_week is None:
            raise PackDataError(f"{warehouse}: no complete week yet (data as of {as_of})")
        period = Period.week(start or latest_week)
    else:
        current = Period.quarter(start or as_of)
        period = current if start or current.end <= as_of else current.previous()
    tables = Path(tables_dir) if tables_dir else None
    coverage = source_coverage.load(con, as_of)
    source_coverage.use(coverage, i18n.check_lang(lang))
    i18n.use_currency(coverage.currency)
    return PackContext(
        con=con,
        period=period,
        audience=Audience(region or None),
        lang=i18n.check_lang(lang),
        as_of=as_of,
        tables_dir=tables,
        tables_href=tables.name if tables else "",
    )


def header(ctx: PackContext) -> None:
    """Who and when the pack is for, the data's as-of date, and the same pack in the other language."""
    lang = ctx.lang
    other = "en" if lang == "zh-CN" else "zh-CN"
    stamp = i18n.t(
        "data_as_of",
        lang,
        as_of=i18n.day_text(ctx.as_of, lang) + (f" {ctx.as_of.year}" if lang == "en" else ""),
        rendered=ctx.rendered_at.strftime("%Y-%m-%d %H:%M"),
    )
    emit(
        raw_html(
            '<div class="srw-pack-header">'
            f'<p class="srw-period"><strong>{esc(ctx.period.label)}</strong> '
            f"{esc(i18n.date_range(ctx.period.start, ctx.period.end, lang))} · "
            f"{esc(ctx.audience.name(lang))}</p>"
            f'<p class="srw-stamp">{esc(stamp)} · '
            f'<a class="srw-lang" href="{esc(ctx.audience.slug)}.{other}.html" hreflang="{other}">'
            f"{esc(i18n.t('other_language', lang))}</a></p>{_source_line(lang)}</div>"
        )
    )


def _source_line(lang: str) -> str:
    """For deliveries made from the user's own exports: which profile, what the source lacks, the
    currency. Nothing for contract-shaped deliveries."""
    coverage, _ = source_coverage.current()
    if not coverage.from_profiles:
        return ""
    zh = lang == "zh-CN"
    parts = []
    for system in sorted(coverage.systems):
        source = coverage.systems[system]
        name = source.profile or ("契约格式" if zh else "contract files")
        parts.append(f"{system.upper()}：{name}" if zh else f"{system.upper()}: {name}")
    lacking = [
        f"{source_coverage.entity_label(entity, lang)}.{column}"
        if not zh
        else f"{source_coverage.entity_label(entity, lang)}的{column}"
        for source in coverage.systems.values()
        for entity, columns in sorted(source.defaulted_columns.items())
        for column in columns
    ]
    absent = [source_coverage.entity_label(e, lang) for e in sorted(coverage.absent)]
    text = ("数据来源 " if zh else "Source ") + ("；" if zh else "; ").join(parts)
    if absent:
        text += ("。源系统没有：" if zh else ". Not in your source: ") + ("、" if zh else ", ").join(absent)
    if lacking:
        text += ("。由映射配置填默认值的字段：" if zh else ". Defaulted by the profile: ") + (
            "、" if zh else ", "
        ).join(lacking)
    conflict = coverage.currency_conflict
    if conflict:
        text += (
            f"。注意：各系统声明的币种不同（{'、'.join(conflict)}），金额未换算。"
            if zh
            else f". Note: the systems declare different currencies ({', '.join(conflict)}); "
            "amounts are not converted."
        )
    else:
        text += ("。金额币种：" if zh else ". Amounts in ") + coverage.currency
    return f'<p class="srw-source">{esc(text)}</p>'
