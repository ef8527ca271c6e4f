"""The site's index: the latest weekly and quarterly pack for every audience in both languages, then the
archive of every week and quarter in the site. Bilingual, like the navigation of the site."""

from __future__ import annotations

from collections import defaultdict

from reports import i18n
from reports.components import emit, esc, raw_html

KIND_TITLES = {"week": ("周报", "Weekly packs"), "quarter": ("季报", "Quarterly packs")}


def parse(packs: str) -> list[dict[str, str]]:
    """The `packs` parameter: one pack a line, `kind|period|audience|lang|path`."""
    rows = []
    for line in packs.splitlines():
        if line.strip():
            kind, period, audience, lang, path = line.strip().split("|")
            rows.append({"kind": kind, "period": period, "audience": audience, "lang": lang, "path": path})
    return rows


def _audience_name(slug: str) -> str:
    if slug == "company":
        return "全公司 Company"
    for region, (english, region_slug) in i18n.REGIONS.items():
        if region_slug == slug:
            return f"{region} {english}"
    return bytes.fromhex(slug.removeprefix("r-")).decode("utf-8") if slug.startswith("r-") else slug


def _order(slug: str) -> tuple[int, str]:
    return (slug != "company", _audience_name(slug))


def _links(entries: list[dict[str, str]]) -> str:
    by_lang = {e["lang"]: e["path"] for e in entries}
    words = {"zh-CN": "中文", "en": "English"}
    return " ".join(
        f'<a href="{esc(by_lang[lang])}">{words[lang]}</a>' for lang in i18n.LANGS if lang in by_lang
    )


def render(packs: str, as_of: str) -> None:
    rows = parse(packs)
    by_kind: dict[str, dict[str, dict[str, list]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for row in rows:
        by_kind[row["kind"]][row["period"]][row["audience"]].append(row)
    # The last build's date, which is not the latest pack's after a rebuild of a past day (--as-of).
    parts = [
        f'<p class="srw-stamp">最近一次构建的数据截至 {esc(as_of)} · Last build: data as of {esc(as_of)}</p>'
    ]
    if not rows:
        parts.append('<p class="srw-empty">还没有报告。No packs yet.</p>')
    for kind in ("week", "quarter"):
        periods = by_kind.get(kind)
        if not periods:
            continue
        latest = max(periods)
        zh, en = KIND_TITLES[kind]
        cards = "".join(
            f'<div class="srw-index-card" data-audience="{esc(slug)}"><h3>{esc(_audience_name(slug))}</h3>'
            f"{_links(entries)}</div>"
            for slug, entries in sorted(periods[latest].items(), key=lambda item: _order(item[0]))
        )
        parts.append(
            f'<h2 id="latest-{kind}">最新{zh} Latest {en.lower()}: {esc(latest)}</h2>'
            f'<div class="srw-index-grid">{cards}</div>'
        )
    for kind in ("week", "quarter"):
        periods = by_kind.get(kind)
        if not periods:
            continue
        zh, en = KIND_TITLES[kind]
        audiences = sorted({slug for period in periods.values() for slug in period}, key=_order)
        head = "".join(f"<th>{esc(_audience_name(slug))}</th>" for slug in audiences)
        body = "".join(
            f"<tr><td>{esc(period)}</td>"
            + "".join(f"<td>{_links(periods[period].get(slug, []))}</td>" for slug in audiences)
            + "</tr>"
            for period in sorted(periods, reverse=True)
        )
        parts.append(
            f'<h2 id="archive-{kind}">{zh}归档 Archive of {en.lower()}</h2>'
            f'<div class="srw-table-wrap"><table class="srw-table srw-archive" data-kind="{kind}">'
            f"<thead><tr><th>{'周' if kind == 'week' else '季度'}</th>{head}</tr></thead>"
            f"<tbody>{body}</tbody>"
            "</table></div>"
        )
    emit(raw_html("".join(parts)))
