"""Words and number formats of the packs, in Chinese (zh-CN) and English (en).

Every label a pack shows is a key of TEXT with its two translations; `t(key, lang)` picks one. Money is
kept as yuan (Decimal) until it is shown: in Chinese as 万元 (10,000 yuan), in English as CNY thousands
or millions, one unit per table or card group so that figures line up and compare. A source that declares
another currency (profiles/README.md) shows as 万美元 / USD k: `use_currency` sets it for one pack.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

LANGS = ("zh-CN", "en")
MISSING = "—"

# Region names as they come from the CRM (the contract's allowed values), English names and the slug
# used in file names. A region outside this list gets its own text as name and a hex slug.
REGIONS: dict[str, tuple[str, str]] = {
    "华东": ("East China", "east"),
    "华北": ("North China", "north"),
    "华南": ("South China", "south"),
    "西南": ("Southwest", "southwest"),
    "华中": ("Central China", "central"),
    "西北": ("Northwest", "northwest"),
    "东北": ("Northeast", "northeast"),
}

TEXT: dict[str, tuple[str, str]] = {
    # packs and sections
    "weekly_pack": ("销售周报", "Weekly sales review"),
    "quarterly_pack": ("销售季报", "Quarterly sales review"),
    "company": ("全公司", "Company"),
    "region_pack": ("{region}区域", "{region} region"),
    "other_language": ("English", "中文"),
    "targets": ("目标达成", "Targets"),
    "results": ("成果", "Results"),
    "problems": ("问题", "Problems"),
    "quality": ("数据质量", "Data quality"),
    "plan": ("计划", "Plan"),
    "data_as_of": ("数据截至 {as_of}，生成于 {rendered}", "Data as of {as_of}, rendered {rendered}"),
    "download": ("下载", "Download"),
    "no_rows": ("本期无记录。", "Nothing to show for this period."),
    "not_in_region_pack": (
        "此项为全公司口径，见全公司报告。",
        "This is measured for the company as a whole: see the company pack.",
    ),
    # common columns
    "target": ("目标", "Target"),
    "actual": ("实际", "Actual"),
    "attainment": ("达成率", "Attainment"),
    "gap": ("差额", "Gap"),
    "status": ("状态", "Status"),
    "won_deals": ("成交单数", "Won deals"),
    "region": ("区域", "Region"),
    "team": ("团队", "Team"),
    "rep": ("销售代表", "Rep"),
    "customer": ("客户", "Customer"),
    "deal": ("商机", "Deal"),
    "amount": ("金额", "Amount"),
    "rank": ("排名", "#"),
    "week": ("周", "Week"),
    "month": ("月", "Month"),
    "quarter": ("季度", "Quarter"),
    "days": ("天", "days"),
    "vs_previous_week": ("较上周", "vs last week"),
    "vs_previous_quarter": ("较上季", "vs last quarter"),
    "vs_last_year": ("较去年同期", "vs a year ago"),
    # status lights (the marts decide the light, the pack draws it)
    "light_green": ("达标", "On track"),
    "light_yellow": ("预警", "At risk"),
    "light_red": ("落后", "Behind"),
    "light_none": ("无目标", "No target"),
}


class Texts:
    """A section's own words: key -> (中文, English); calling it picks the pack's language."""

    def __init__(self, texts: dict[str, tuple[str, str]]):
        self.texts = texts

    def __call__(self, key: str, lang: str, **values: object) -> str:
        zh, en = self.texts[key]
        text = zh if check_lang(lang) == "zh-CN" else en
        return text.format(**values) if values else text


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: one of {', '.join(LANGS)}")
    return lang


t = Texts(TEXT)  # t(key, lang, **values): the common words


def region_name(region: str, lang: str) -> str:
    if lang == "en":
        return REGIONS.get(region, (region, ""))[0]
    return region


def region_slug(region: str) -> str:
    """A file-name-safe, stable slug: the English slug of a known region, else hex of its UTF-8."""
    known = REGIONS.get(region)
    return known[1] if known else "r-" + region.encode("utf-8").hex()


# ---------------------------------------------------------------------------------------------- money


# Chinese names of common currencies, for 万元 / 万美元; another code shows as 万 EUR-style.
CURRENCY_ZH = {
    "CNY": "元",
    "RMB": "元",
    "USD": "美元",
    "HKD": "港元",
    "EUR": "欧元",
    "JPY": "日元",
    "GBP": "英镑",
}
_currency: ContextVar[str] = ContextVar("currency", default="CNY")


def use_currency(code: str) -> None:
    """The currency the amounts of the pack being rendered are in (ISO code, from its source)."""
    _currency.set(code.upper())


def currency() -> str:
    return _currency.get()


def currency_unit(lang: str) -> str:
    """One unit of money: 元 / 美元 in Chinese, the ISO code in English."""
    code = currency()
    return CURRENCY_ZH.get(code, f" {code}") if lang == "zh-CN" else code


@dataclass(frozen=True)
class MoneyScale:
    """How a group of amounts is shown: divided by `divisor`, `decimals` digits, labelled `unit`."""

    divisor: Decimal
    decimals: int
    unit: str  # "万元", "CNY k", "CNY M" (another currency: "万美元", "USD k")

    def number(self, yuan: Decimal | float | int | None) -> str:
        if yuan is None:
            return MISSING
        value = (Decimal(str(yuan)) / self.divisor).quantize(
            Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP
        )
        return f"{value.copy_abs() if value.is_zero() else value:,.{self.decimals}f}"  # never "-0.00"

    def text(self, yuan: Decimal | float | int | None, lang: str) -> str:
        """The amount with its unit, as a sentence shows it: 63.2 万元 / CNY 632k."""
        if yuan is None:
            return MISSING
        if lang == "zh-CN":
            return f"{self.number(yuan)} {self.unit}"
        code, _, suffix = self.unit.partition(" ")
        return f"{code} {self.number(yuan)}{suffix}"


def money_scale(amounts: Iterable[Decimal | float | int | None], lang: str) -> MoneyScale:
    """One scale for a group of amounts: 万元 (one decimal from 100 万 up, two below) in Chinese;
    CNY millions (from 1M up, two decimals) or thousands (one decimal) in English."""
    largest = max((abs(Decimal(str(a))) for a in amounts if a is not None), default=Decimal(0))
    if check_lang(lang) == "zh-CN":
        unit = "万" + currency_unit(lang).strip()
        return MoneyScale(Decimal(10_000), 1 if largest >= 1_000_000 else 2, unit)
    if largest >= 1_000_000:
        return MoneyScale(Decimal(1_000_000), 2, f"{currency()} M")
    return MoneyScale(Decimal(1_000), 1, f"{currency()} k")


def money(yuan: Decimal | float | int | None, lang: str) -> str:
    """One amount in a sentence, in the unit that suits it: 95.5 万元 (two decimals below 10 万元),
    CNY 955.3k, CNY 1.23M."""
    scale = money_scale([yuan], lang)
    if lang == "zh-CN" and yuan is not None and abs(Decimal(str(yuan))) >= 100_000:
        scale = MoneyScale(scale.divisor, 1, scale.unit)
    return scale.text(yuan, lang)


def rate(value: float | Decimal | None, decimals: int = 1) -> str:
    return MISSING if value is None else f"{float(value) * 100:.{decimals}f}%"


def signed_rate_points(change: float | None, lang: str) -> str:
    """A change of a rate, in percentage points: +3.2 个百分点 / +3.2 pts."""
    if change is None:
        return MISSING
    points = float(change) * 100
    return f"{points:+.1f} 个百分点" if lang == "zh-CN" else f"{points:+.1f} pts"


def day_text(day: date, lang: str) -> str:
    return f"{day.month}月{day.day}日" if lang == "zh-CN" else day.strftime("%-d %b")


def date_range(start: date, end: date, lang: str) -> str:
    if lang == "zh-CN":
        return f"{start.year}年{day_text(start, lang)}至{day_text(end, lang)}"
    return f"{day_text(start, lang)} – {day_text(end, lang)} {end.year}"


def join(items: Sequence[str], lang: str) -> str:
    """A list in a sentence: 甲、乙和丙 / A, B and C."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if lang == "zh-CN":
        return "、".join(items[:-1]) + "和" + items[-1]
    return ", ".join(items[:-1]) + " and " + items[-1]
