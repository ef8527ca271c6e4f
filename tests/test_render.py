"""The weekly review pack: 万元 formatting, light badges, data loading and the rendered site.

The mart rows below are written out by hand (2 weeks, 2 regions, 2 teams, 3 reps); the expected
figures in the assertions were worked out from them on paper, not by the code under test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
import yaml

from reports import packlib, renderer

# ---------------------------------------------------------------- fixture warehouse

MART_DDL = """
create schema marts;
create table marts.fct_attainment_weekly (
    attainment_id varchar primary key,
    week_start_date date,
    week_end_date date,
    week_label varchar,
    level varchar,
    unit_id varchar,
    unit_name varchar,
    region varchar,
    team_id varchar,
    team_name varchar,
    target_amount decimal(18, 2),
    actual_amount decimal(18, 2),
    won_deal_count integer,
    gap_amount decimal(18, 2),
    attainment_rate double,
    status_light varchar
);
-- delivered up to Sunday 22 Nov 2026: W47 (16-22 Nov) is the latest complete week
create table marts.warehouse_as_of as
    select date '2026-11-22' as as_of_date, date '2026-11-16' as latest_complete_week_start_date
"""

W46 = ("2026-11-09", "2026-11-15", "2026-W46")
W47 = ("2026-11-16", "2026-11-22", "2026-W47")
EAST, SOUTH = "华东", "华南"
T01, T02 = "华东一组", "华南一组"

# (week, level, unit_id, unit_name, region, team_id, team_name, target, actual, won, gap, rate, light)
# Reps: R001 张伟 and R002 李娜 in team T01 华东一组 (华东), R003 王芳 in team T02 华南一组 (华南).
MART_ROWS = [
    # 2026-W46: 张伟 330k of 300k, 李娜 170k of 200k, 王芳 0 of 250k.
    (W46, "rep", "R001", "张伟", EAST, "T01", T01, "300000.00", "330000.00", 3, "-30000.00", 1.1, "green"),
    (W46, "rep", "R002", "李娜", EAST, "T01", T01, "200000.00", "170000.00", 1, "30000.00", 0.85, "yellow"),
    (W46, "rep", "R003", "王芳", SOUTH, "T02", T02, "250000.00", "0.00", 0, "250000.00", 0.0, "red"),
    (W46, "team", "T01", T01, EAST, "T01", T01, "500000.00", "500000.00", 4, "0.00", 1.0, "green"),
    (W46, "team", "T02", T02, SOUTH, "T02", T02, "250000.00", "0.00", 0, "250000.00", 0.0, "red"),
    (W46, "region", EAST, EAST, EAST, None, None, "500000.00", "500000.00", 4, "0.00", 1.0, "green"),
    (W46, "region", SOUTH, SOUTH, SOUTH, None, None, "250000.00", "0.00", 0, "250000.00", 0.0, "red"),
    (W46, "company", "company", "全公司", None, None, None, "750000.00", "500000.00", 4, "250000.00",
     500 / 750, "red"),
    # 2026-W47: 张伟 285k of 300k, 李娜 150k of 200k, 王芳 212,345.67 of 250k.
    (W47, "rep", "R001", "张伟", EAST, "T01", T01, "300000.00", "285000.00", 2, "15000.00", 0.95, "green"),
    (W47, "rep", "R002", "李娜", EAST, "T01", T01, "200000.00", "150000.00", 1, "50000.00", 0.75, "red"),
    (W47, "rep", "R003", "王芳", SOUTH, "T02", T02, "250000.00", "212345.67", 3, "37654.33",
     212345.67 / 250000, "yellow"),
    (W47, "team", "T01", T01, EAST, "T01", T01, "500000.00", "435000.00", 3, "65000.00", 0.87, "yellow"),
    (W47, "team", "T02", T02, SOUTH, "T02", T02, "250000.00", "212345.67", 3, "37654.33",
     212345.67 / 250000, "yellow"),
    (W47, "region", EAST, EAST, EAST, None, None, "500000.00", "435000.00", 3, "65000.00", 0.87, "yellow"),
    (W47, "region", SOUTH, SOUTH, SOUTH, None, None, "250000.00", "212345.67", 3, "37654.33",
     212345.67 / 250000, "yellow"),
    (W47, "company", "company", "全公司", None, None, None, "750000.00", "647345.67", 6, "102654.33",
     647345.67 / 750000, "yellow"),
]  # fmt: skip


def build_warehouse(path: Path, rows: list[tuple] = MART_ROWS) -> Path:
    con = duckdb.connect(str(path))
    try:
        con.execute(MART_DDL)
        for (start, end, week_label), level, unit_id, *rest in rows:
            values = [f"{week_label}|{level}|{unit_id}", start, end, week_label, level, unit_id, *rest]
            placeholders = ", ".join("?" * len(values))
            con.execute(f"insert into marts.fct_attainment_weekly values ({placeholders})", values)
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("wh") / "warehouse.duckdb")


@pytest.fixture(scope="module")
def rendered_site(
    warehouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[Path], list[Path]]:
    """W46 rendered explicitly, then W47 as the latest complete week: two renders into one site."""
    site = tmp_path_factory.mktemp("out") / "site"
    first = renderer.render_site(warehouse, site, date(2026, 11, 9))
    second = renderer.render_site(warehouse, site)
    return site, first, second


# ---------------------------------------------------------------- HTML probing (html.parser, no deps)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


class ElementCollector(HTMLParser):
    """Collects elements having a given attribute, with their text content (nested text included)."""

    def __init__(self, attribute: str) -> None:
        super().__init__()
        self.attribute = attribute
        self.found: list[Element] = []
        self._open: list[tuple[str, Element | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        element = Element(tag, values) if self.attribute in values else None
        if element is not None:
            self.found.append(element)
        if tag not in {"br", "img", "meta", "link", "input", "hr"}:
            self._open.append((tag, element))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, element in self._open:
            if element is not None:
                element.text += data


def elements_with(page: str, attribute: str) -> list[Element]:
    collector = ElementCollector(attribute)
    collector.feed(page)
    return collector.found


def row_html(page: str, table_class: str, unit_id: str) -> str:
    table = re.search(rf'<table class="pack-table {table_class}">.*?</table>', page, re.DOTALL)
    assert table, f"no {table_class} in the page"
    row = re.search(rf'<tr data-unit-id="{unit_id}">.*?</tr>', table.group(0), re.DOTALL)
    assert row, f"no row {unit_id} in {table_class}"
    return row.group(0)


def figures(fragment: str) -> list[tuple[str, str]]:
    """(data-value, displayed text) of each money/rate cell in a table row, in column order."""
    return [
        (e.attrs["data-value"], e.text.strip())
        for e in elements_with(fragment, "data-value")
        if "money" in e.attrs.get("class", "") or "rate" in e.attrs.get("class", "")
    ]


# ---------------------------------------------------------------- unit tests: formatting


@pytest.mark.parametrize(
    ("yuan", "expected"),
    [
        (Decimal("647345.67"), "64.73"),  # 64.734567 万
        (Decimal("102654.33"), "10.27"),  # 10.265433 万
        (Decimal("12350"), "1.24"),  # 1.235 万: half-up (binary floats would give 1.23)
        (Decimal("-30000"), "-3.00"),  # over-achievement: negative gap
        (Decimal("0"), "0.00"),
        (Decimal("-0.4"), "0.00"),  # rounds to zero: no "-0.00"
        (Decimal("999949.99"), "99.99"),  # just under 100 万: still two decimals
        (Decimal("1000000"), "100.0"),  # from 100 万 on: one decimal
        (Decimal("12345678.90"), "1,234.6"),
        (7500000, "750.0"),
        (None, "—"),
    ],
)
def test_format_wan(yuan: Decimal | int | None, expected: str) -> None:
    assert packlib.format_wan(yuan) == expected


def test_wan_decimals_is_one_choice_per_group() -> None:
    assert packlib.wan_decimals([Decimal("750000"), Decimal("647345.67"), None]) == 2
    assert (
        packlib.wan_decimals([Decimal("2000000"), Decimal("405600")]) == 1
    )  # 200 万 sets one decimal for all
    assert packlib.wan_decimals([Decimal("-1000000")]) == 1  # magnitude counts, not sign
    assert packlib.wan_decimals([]) == 2
    assert packlib.format_wan(Decimal("405600"), decimals=1) == "40.6"
    assert packlib.format_wan(Decimal("2000000"), decimals=2) == "200.00"


def test_headline_uses_one_decimal_choice_for_all_cards() -> None:
    row = packlib.AttainmentRow(
        "company", "company", "全公司", None, None, None,
        Decimal("2000000.00"), Decimal("1594400.00"), 17, Decimal("405600.00"), 0.7972, "red",
    )  # fmt: skip
    shown = [e.text.strip() for e in elements_with(packlib.headline_html(row), "data-value")]
    assert shown == ["200.0万元", "159.4万元", "79.7%", "40.6万元", "17"]


def test_format_rate_and_exact_yuan() -> None:
    assert packlib.format_rate(88 / 95) == "92.6%"  # DOMAIN 004 §5.1.1: target 95, actual 88
    assert packlib.format_rate(0.8625) == "86.3%"  # half-up on the displayed digit
    assert packlib.format_rate(None) == "—"
    assert packlib.exact_yuan(Decimal("647345.67")) == "647345.67"
    assert packlib.exact_yuan(750000) == "750000.00"
    assert packlib.exact_yuan(None) == ""


@pytest.mark.parametrize(
    ("light", "css_class", "words"),
    [
        ("green", "light-green", "达标 On track"),
        ("yellow", "light-yellow", "预警 At risk"),
        ("red", "light-red", "落后 Behind"),
        ("none", "light-none", "无目标 No target"),
        (None, "light-none", "无目标 No target"),  # a unit without target
    ],
)
def test_light_badge(light: str | None, css_class: str, words: str) -> None:
    badge = packlib.light_badge(light)
    assert f'class="light {css_class}"' in badge
    assert badge.endswith(f"{words}</span>")


def test_lang_only_orders_the_bilingual_labels() -> None:
    assert packlib.label("target") == "目标 Target"
    assert packlib.label("target", "en") == "Target 目标"
    assert packlib.light_badge("red", "en").endswith("Behind 落后</span>")


def test_light_badge_rejects_unknown_light() -> None:
    with pytest.raises(ValueError, match="status_light 'amber'"):
        packlib.light_badge("amber")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        (None, None),
        ("2026-11-16", date(2026, 11, 16)),
        (" 2026-11-16 ", date(2026, 11, 16)),
        ("2026-11-16T00:00:00.000Z", date(2026, 11, 16)),  # a YAML date passed on by Quarto -P
        (date(2026, 11, 16), date(2026, 11, 16)),
    ],
)
def test_parse_week_start(value: str | date | None, expected: date | None) -> None:
    assert packlib.parse_week_start(value) == expected


@pytest.mark.parametrize("value", ["16/11/2026", "2026-11-166", "latest"])
def test_parse_week_start_rejects_other_forms(value: str) -> None:
    with pytest.raises(ValueError, match="expected an ISO date"):
        packlib.parse_week_start(value)


def test_quarto_command_line_and_staging_project(tmp_path: Path) -> None:
    args = renderer.quarto_args(
        "quarto",
        Path("/s/project/weekly/2026-W47.qmd"),
        {"warehouse": "/w.duckdb", "week_start": ""},
        "T 2026-W47",
    )
    assert args == [
        "quarto", "render", "/s/project/weekly/2026-W47.qmd", "--to", "html",
        "-P", "warehouse:/w.duckdb", "-M", "pagetitle:T 2026-W47",
    ]  # fmt: skip
    pack_qmd, index_qmd, out_dir = renderer.quarto_project(renderer.REPORTS_DIR, tmp_path, "2026-W47")
    assert pack_qmd.read_text(encoding="utf-8") == (renderer.REPORTS_DIR / "weekly_pack.qmd").read_text(
        encoding="utf-8"
    )
    config = yaml.safe_load((tmp_path / "project" / "_quarto.yml").read_text(encoding="utf-8"))
    assert config["project"] == {
        "type": "website",
        "output-dir": "_site",
        "render": ["index.qmd", "weekly/*.qmd"],
    }
    assert config["website"]["title"] == "销售周报 Sales Review Packs"
    assert index_qmd.is_file() and out_dir == tmp_path / "project" / "_site"


def test_week_from_label_is_iso() -> None:
    week = packlib.week_from_label("2026-W47")
    assert (week.start, week.end) == (date(2026, 11, 16), date(2026, 11, 22))
    assert packlib.week_from_label("2021-W01").start == date(2021, 1, 4)  # ISO week 1 starts on 4 Jan 2021
    with pytest.raises(ValueError, match="2026-47"):
        packlib.week_from_label("2026-47")


# ---------------------------------------------------------------- unit tests: loading


def test_resolve_week_picks_latest_complete_week(warehouse: Path) -> None:
    con = packlib.connect_readonly(warehouse)
    try:
        # Delivered up to Saturday 21 Nov, W47 is still open: W46 is the latest complete week;
        # once Sunday 22 Nov is delivered, W47 is complete. Default: the warehouse's as-of date (22 Nov).
        assert packlib.resolve_week(con, None, as_of=date(2026, 11, 21)).label == "2026-W46"
        assert packlib.resolve_week(con, None, as_of=date(2026, 11, 22)).label == "2026-W47"
        assert packlib.resolve_week(con, None).label == "2026-W47"
        assert packlib.resolve_week(con, "2026-11-09").label == "2026-W46"
        with pytest.raises(packlib.PackDataError, match="expected a Monday"):
            packlib.resolve_week(con, "2026-11-10")
        with pytest.raises(packlib.PackDataError, match="no rows for the week starting 2026-11-02"):
            packlib.resolve_week(con, "2026-11-02")
        with pytest.raises(packlib.PackDataError, match="no complete week"):
            packlib.resolve_week(con, None, as_of=date(2026, 11, 14))
    finally:
        con.close()


def test_load_pack_orders_reps_by_attainment(warehouse: Path) -> None:
    pack = packlib.load_pack(warehouse, "2026-11-16")
    assert pack.company is not None and pack.company.actual_amount == Decimal("647345.67")
    assert [r.unit_id for r in pack.reps] == ["R001", "R003", "R002"]  # 95% > 84.9% > 75%
    assert [r.unit_name for r in pack.regions] == ["华东", "华南"]  # 87% > 84.9%
    assert [p.week.label for p in pack.trend] == ["2026-W46", "2026-W47"]


# ---------------------------------------------------------------- rendered site


def test_site_files_and_index_links_every_pack(rendered_site: tuple[Path, list[Path], list[Path]]) -> None:
    site, first, second = rendered_site
    assert site / "weekly" / "2026-W46.html" in first
    assert {site / "weekly" / "2026-W47.html", site / "index.html", site / "styles.css"} <= set(second)
    assert (site / "weekly" / "2026-W46.html").is_file()  # the earlier week's page is kept
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<a href="weekly/2026-W47.html">' in index
    assert '<a href="weekly/2026-W46.html">' in index
    assert "2026-11-16 – 2026-11-22" in index
    assert index.index("2026-W47") < index.index("2026-W46")  # newest first
    assert not list(site.parent.glob(".site-render-*")), "staging directory left behind"


def test_pack_headline_matches_hand_worked_figures(
    rendered_site: tuple[Path, list[Path], list[Path]],
) -> None:
    page = (rendered_site[0] / "weekly" / "2026-W47.html").read_text(encoding="utf-8")
    assert 'data-week-label="2026-W47"' in page
    headline = re.search(r'<div class="kpi-row" data-level="company">.*?</div></div></div>', page, re.DOTALL)
    assert headline
    values = [(e.attrs["data-value"], e.text.strip()) for e in elements_with(headline.group(0), "data-value")]
    assert values == [
        ("750000.00", "75.00万元"),  # target
        ("647345.67", "64.73万元"),  # actual
        (repr(647345.67 / 750000), "86.3%"),  # attainment 0.863127...
        ("102654.33", "10.27万元"),  # gap
        ("6", "6"),  # won deals
    ]
    assert 'data-light="yellow"' in headline.group(0)


def test_pack_region_and_rep_rows_match_hand_worked_figures(
    rendered_site: tuple[Path, list[Path], list[Path]],
) -> None:
    page = (rendered_site[0] / "weekly" / "2026-W47.html").read_text(encoding="utf-8")
    east = row_html(page, "region-table", "华东")
    assert figures(east) == [
        ("500000.00", "50.00"),
        ("435000.00", "43.50"),
        ("0.87", "87.0%"),
        ("65000.00", "6.50"),
    ]
    assert 'data-light="yellow"' in east
    south = row_html(page, "region-table", "华南")
    assert figures(south) == [
        ("250000.00", "25.00"),
        ("212345.67", "21.23"),
        (repr(212345.67 / 250000), "84.9%"),
        ("37654.33", "3.77"),
    ]
    rep_ids = re.findall(r'<tr data-unit-id="(R\d+)">', page)
    assert rep_ids == ["R001", "R003", "R002"]
    li_na = row_html(page, "rep-table", "R002")
    assert "李娜" in li_na and "华东一组" in li_na and "华东" in li_na
    assert figures(li_na)[1:] == [("150000.00", "15.00"), ("0.75", "75.0%"), ("50000.00", "5.00")]
    assert 'data-light="red"' in li_na


def test_earlier_pack_shows_its_own_week(rendered_site: tuple[Path, list[Path], list[Path]]) -> None:
    page = (rendered_site[0] / "weekly" / "2026-W46.html").read_text(encoding="utf-8")
    headline = re.search(r'<div class="kpi-row" data-level="company">.*?</div></div></div>', page, re.DOTALL)
    assert headline
    values = [e.attrs["data-value"] for e in elements_with(headline.group(0), "data-value")]
    assert values[:2] == ["750000.00", "500000.00"] and values[3] == "250000.00"
    assert figures(row_html(page, "region-table", "华东"))[3] == ("0.00", "0.00")  # target met exactly


def test_pack_is_offline_and_hides_code(rendered_site: tuple[Path, list[Path], list[Path]]) -> None:
    page = (rendered_site[0] / "weekly" / "2026-W47.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//|@import|url\((?!#)""", page), (
        "page loads remote resources"
    )
    assert "load_pack" not in page  # code is hidden
    assert '<link rel="stylesheet" href="../styles.css">' in page
    assert '<svg class="trend-chart"' in page and "<text" in page  # chart text left to the browser
    for heading in ("目标达成 Targets &amp; attainment", "成果 Results", "问题 Problems", "计划 Plan"):
        assert heading in page


def test_failing_cell_raises_and_leaves_site_untouched(
    rendered_site: tuple[Path, list[Path], list[Path]], tmp_path: Path
) -> None:
    site = rendered_site[0]
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    # A mart without status_light: the week still resolves, the pack's 'load' chunk fails.
    broken = build_warehouse(tmp_path / "broken.duckdb")
    con = duckdb.connect(str(broken))
    con.execute("alter table marts.fct_attainment_weekly drop column status_light")
    con.close()
    with pytest.raises(
        renderer.RenderError, match=r"weekly_pack\.qmd: chunk 'load' at line \d+ raised BinderException"
    ):
        renderer.render_site(broken, site, date(2026, 11, 16))
    after = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before
    assert not list(site.parent.glob(".site-render-*")), "staging directory left behind"


def test_chunk_options_and_locate_chunk() -> None:
    source = "#| label: region-table\n#| tags: [parameters]\nx = 1"
    assert renderer.chunk_options(source) == {"label": "region-table", "tags": ["parameters"]}
    assert renderer.chunk_options("x = 1\n#| label: late") == {}
    qmd = "---\ntitle: t\n---\n\n```{python}\n#| label: region-table\n#| tags: [parameters]\nx = 1\n```\n"
    assert renderer.locate_chunk(qmd, source) == renderer.Chunk(label="region-table", line=6)


# ---------------------------------------------------------------- data quality section (数据质量)
#
# Hand-made rows for the tables the section reads, on top of the attainment fixture above.
# Week 2026-W47 (16-22 Nov 2026); accuracy is shown for its month, 2026-11, month to date.

QUALITY_DDL = """
create table marts.fct_data_accuracy (
    data_accuracy_id varchar, period_type varchar, period_start_date date, period_end_date date,
    period_label varchar, level varchar, unit_id varchar, unit_name varchar, manager_id varchar,
    manager_name varchar, verdict_count integer, verified_count integer, confirmed_count integer,
    fake_count integer, unverifiable_count integer, accuracy_rate double, fake_rate_ht double,
    has_veto boolean, status_light varchar
);
create schema quality;
create table quality.quarantine (
    quarantine_id varchar, rule_id varchar, defect_class varchar, severity varchar, entity varchar,
    record_id varchar, rep_id varchar, evidence varchar, first_seen_date date
);
create schema seeds;
create table seeds.quality_rules (
    rule_id varchar, defect_class varchar, entity varchar, severity varchar, description_zh varchar,
    description_en varchar
);
insert into seeds.quality_rules values
    ('dup_customer', 'duplicate', 'customers', 'block', '疑似重复客户', 'Suspected duplicate customer'),
    ('late_log', 'late_logging', 'activities', 'warn', '补录过晚', 'Logged long after the fact');
"""

NOV, W47_START = "2026-11-01", "2026-11-16"
# (period_type, start, level, unit_id, unit_name, manager_name, verdicts, verified, confirmed, fake,
#  unverifiable, accuracy, HT fake rate, veto, light)
ACCURACY_ROWS = [
    # 张伟: 10 of 10 genuine -> 100% green; 李娜: 7 of 8 -> 87.5% red (below 88%), a fake -> veto;
    # 王芳: 2 calls, neither settled -> no rate. Company: 17 of 18 -> 94.4% yellow.
    ("month", NOV, "rep", "R001", "张伟", "刘旭", 11, 10, 10, 0, 1, 1.0, 0.0, False, "green"),
    ("month", NOV, "rep", "R002", "李娜", "刘旭", 8, 8, 7, 1, 0, 0.875, 0.05, True, "red"),
    ("month", NOV, "rep", "R003", "王芳", "孙丽", 2, 0, 0, 0, 2, None, None, False, "none"),
    ("month", NOV, "company", "company", "全公司", None, 21, 18, 17, 1, 3, 17 / 18, 0.04, True, "yellow"),
    # this week's sample so far: 刘旭 returned 4 verdicts (1 fake), 孙丽 none yet (no row)
    ("week", W47_START, "manager", "M01", "刘旭", "刘旭", 4, 4, 3, 1, 0, 0.75, 0.2, True, "red"),
]
QUARANTINE_ROWS = [
    # dup_customer (block): 2 first seen in W47, 1 before; late_log (warn): 1 in W47, 3 before,
    # and one first seen after the week's Sunday, which a W47 pack does not show yet.
    ("dup_customer", "block", "customers", "C1", "2026-11-17"),
    ("dup_customer", "block", "customers", "C2", "2026-11-22"),
    ("dup_customer", "block", "customers", "C3", "2026-11-02"),
    ("late_log", "warn", "activities", "A1", "2026-11-20"),
    ("late_log", "warn", "activities", "A2", "2026-10-01"),
    ("late_log", "warn", "activities", "A3", "2026-10-01"),
    ("late_log", "warn", "activities", "A4", "2026-11-15"),
    ("late_log", "warn", "activities", "A5", "2026-11-25"),
]
# W47 sample: 刘旭 (M01) 12 records -> 3 random + 1 risk extra; 孙丽 (M02) 4 records -> 1 random.
SAMPLE_ROWS = [
    ("A11", "M01", "刘旭", 1, 12), ("A12", "M01", "刘旭", 1, 12), ("A13", "M01", "刘旭", 1, 12),
    ("A14", "M01", "刘旭", 2, 12), ("A21", "M02", "孙丽", 1, 4),
]  # fmt: skip


def build_quality_tables(path: Path) -> Path:
    from quality import verification

    con = duckdb.connect(str(path))
    try:
        con.execute(QUALITY_DDL)
        for period, start, level, unit_id, unit_name, manager, *figures in ACCURACY_ROWS:
            con.execute(
                "insert into marts.fct_data_accuracy values (?, ?, ?, null, null, ?, ?, ?, null, ?, "
                "?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    f"{period}:{level}:{unit_id}:{start}",
                    period,
                    start,
                    level,
                    unit_id,
                    unit_name,
                    manager,
                    *figures,
                ],
            )
        for rule_id, severity, entity, record_id, first_seen in QUARANTINE_ROWS:
            con.execute(
                "insert into quality.quarantine values (?, ?, null, ?, ?, ?, null, null, ?)",
                [f"{rule_id}:{entity}:{record_id}", rule_id, severity, entity, record_id, first_seen],
            )
        verification.ensure_tables(con)
        for activity_id, manager_id, manager_name, stratum, population in SAMPLE_ROWS:
            con.execute(
                f"insert into {verification.SAMPLE_TABLE} (week_start_date, week_label, activity_id, "
                "manager_id, manager_name, risk_score, stratum, population_count, stratum1_size, "
                "stratum1_probability, stratum2_probability, inclusion_probability, sample_rate, "
                "risk_sample_size, issued_at) "
                "values ('2026-11-16', '2026-W47', ?, ?, ?, 0, ?, ?, 1, 0.25, 0, 0.25, 0.2, 3, now())",
                [activity_id, manager_id, manager_name, stratum, population],
            )
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def quality_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("quality")
    warehouse = build_quality_tables(build_warehouse(root / "warehouse.duckdb"))
    renderer.render_site(warehouse, root / "site")
    return (root / "site" / "weekly" / "2026-W47.html").read_text(encoding="utf-8")


def _table_html(page: str, table_class: str) -> str:
    table = re.search(rf'<table class="pack-table {table_class}">.*?</table>', page, re.DOTALL)
    assert table, f"no {table_class} in the page"
    return table.group(0)


def _row(table: str, attribute: str, key: str) -> str:
    row = re.search(rf'<tr[^>]* {attribute}="{key}"[^>]*>.*?</tr>', table, re.DOTALL)
    assert row, f"no row {attribute}={key}"
    return row.group(0)


def _values(fragment: str) -> list[str]:
    return [e.attrs["data-value"] for e in elements_with(fragment, "data-value")]


def test_quality_section_headline_and_rep_accuracy(quality_page: str) -> None:
    page = quality_page
    assert "数据质量 Data quality" in page and "尚未生成" not in page
    headline = re.search(r'<div class="kpi-row quality-kpis".*?</div></div></div>', page, re.DOTALL)
    assert headline and 'data-period="2026-11"' in headline.group(0)
    shown = [(e.attrs["data-value"], e.text.strip()) for e in elements_with(headline.group(0), "data-value")]
    # 17 of 18 verified genuine = 94.4%; 18 verified, 1 fake, 3 unverifiable; 1 rep (李娜) vetoed
    assert shown == [(repr(17 / 18), "94.4%"), ("18", "18"), ("1", "1"), ("3", "3"), ("1", "1")]
    assert 'data-light="yellow"' in headline.group(0)
    table = _table_html(page, "accuracy-table")
    # problems first: the vetoed rep, then by accuracy, the unverified rep last
    assert re.findall(r'<tr data-unit-id="(R\d+)">', table) == ["R002", "R001", "R003"]
    li_na = _row(table, "data-unit-id", "R002")
    assert _values(li_na) == ["8", "7", "1", "0", "0.875", "0.05"]
    assert "87.5%" in li_na and "5.0%" in li_na and "刘旭" in li_na
    assert 'data-light="red"' in li_na and 'data-veto="true"' in li_na
    wang = _row(table, "data-unit-id", "R003")
    assert _values(wang) == ["0", "0", "0", "2", "", ""]
    assert 'data-light="none"' in wang and "未核实 Not verified" in wang and 'data-veto="false"' in wang


def test_quality_section_open_flags_by_rule(quality_page: str) -> None:
    table = _table_html(quality_page, "flags-table")
    assert re.findall(r'data-rule-id="([a-z_]+)"', table) == ["dup_customer", "late_log", "total"]
    dup = _row(table, "data-rule-id", "dup_customer")
    assert _values(dup) == ["2", "1", "3"]  # new this week (17 and 22 Nov), older (2 Nov), total
    assert "疑似重复客户" in dup and "拦截 Block" in dup
    late = _row(table, "data-rule-id", "late_log")
    assert _values(late) == ["1", "3", "4"]  # 20 Nov; 1 Oct x 2 and 15 Nov; the 25 Nov flag is not shown
    assert "警告 Warn" in late
    assert _values(_row(table, "data-rule-id", "total")) == ["3", "4", "7"]


def test_quality_section_sample_per_manager_with_file_links(quality_page: str) -> None:
    table = _table_html(quality_page, "sample-table")
    assert "2026-W47" in table
    # records, random, risk extra, sampled, returned, fakes
    assert _values(_row(table, "data-manager-id", "M01")) == ["12", "3", "1", "4", "4", "1"]
    assert _values(_row(table, "data-manager-id", "M02")) == ["4", "1", "0", "1", "0", "0"]
    assert _values(_row(table, "data-manager-id", "all")) == ["16", "4", "1", "5", "4", "1"]
    assert 'href="../verification/2026-W47/verification_2026-W47_M01.xlsx"' in table
    assert 'href="../verification/2026-W47/verification_2026-W47_M02.csv"' in table
    assert 'href="../verification/2026-W47/verification_2026-W47_all.xlsx"' in table


def test_quality_section_without_the_quality_tables(
    rendered_site: tuple[Path, list[Path], list[Path]],
) -> None:
    """A warehouse built before the quality models existed still renders; the section says what is missing."""
    page = (rendered_site[0] / "weekly" / "2026-W47.html").read_text(encoding="utf-8")
    assert "数据质量 Data quality" in page
    assert "尚未生成 Not built yet" in page and "marts.fct_data_accuracy" in page
