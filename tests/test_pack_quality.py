"""The data-quality section (数据质量) of the weekly pack: accuracy per rep with veto and light, open flags by
rule, this week's verification sample per manager with the managers' files, and its findings.

The rows below are written out by hand (the old pack's data-quality fixture, with the reps' regions
added); the expected figures and sentences were worked out from them on paper, not by the code under
test. Week 2026-W47 (16-22 Nov 2026); accuracy is shown for its month, 2026-11, month to date.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest

from reports import pack
from reports.context import Audience, PackContext, Period
from reports.sections import quality

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")  # a mobile number, not digits of a longer figure

DDL = """
create schema marts;
create table marts.warehouse_as_of as
    select date '2026-11-22' as as_of_date, date '2026-11-16' as latest_complete_week_start_date;
create table marts.dim_reps (
    rep_id varchar, rep_name varchar, role varchar, team_id varchar, team_name varchar, region varchar,
    manager_id varchar, manager_name varchar
);
insert into marts.dim_reps values
    ('R001', '张伟', 'rep', 'T01', '华东一组', '华东', 'M01', '刘旭'),
    ('R002', '李娜', 'rep', 'T01', '华东一组', '华东', 'M01', '刘旭'),
    ('R003', '王芳', 'rep', 'T02', '华南一组', '华南', 'M02', '孙丽'),
    ('M01', '刘旭', 'manager', 'T01', '华东一组', '华东', null, null),
    ('M02', '孙丽', 'manager', 'T02', '华南一组', '华南', null, null);
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
    # the managers' month: 刘旭 = 张伟 + 李娜 (17 of 18, yellow), 孙丽 = 王芳 (nothing verified)
    ("month", NOV, "manager", "M01", "刘旭", "刘旭", 19, 18, 17, 1, 1, 17 / 18, 0.03, True, "yellow"),
    ("month", NOV, "manager", "M02", "孙丽", "孙丽", 2, 0, 0, 0, 2, None, None, False, "none"),
    # this week's sample so far: 刘旭 returned 4 verdicts (1 fake), 孙丽 none yet (no row)
    ("week", W47_START, "manager", "M01", "刘旭", "刘旭", 4, 4, 3, 1, 0, 0.75, 0.2, True, "red"),
]
QUARANTINE_ROWS = [
    # dup_customer (block): 2 first seen in W47 (C1 华东, C2 华南), 1 before (C3 华东);
    # late_log (warn): 1 in W47 (A1 华南), 3 before (A2 华东, A3 华南, A4 华东), and one first seen after
    # the week's Sunday (A5 华东), which a W47 pack does not show yet.
    ("dup_customer", "block", "customers", "C1", "R001", "2026-11-17"),
    ("dup_customer", "block", "customers", "C2", "R003", "2026-11-22"),
    ("dup_customer", "block", "customers", "C3", "R002", "2026-11-02"),
    ("late_log", "warn", "activities", "A1", "R003", "2026-11-20"),
    ("late_log", "warn", "activities", "A2", "R001", "2026-10-01"),
    ("late_log", "warn", "activities", "A3", "R003", "2026-10-01"),
    ("late_log", "warn", "activities", "A4", "R002", "2026-11-15"),
    ("late_log", "warn", "activities", "A5", "R001", "2026-11-25"),
]
# W47 sample: 刘旭 (M01) 12 records -> 3 random + 1 risk extra; 孙丽 (M02) 4 records -> 1 random.
# (activity, manager, manager name, rep, stratum, population, the contact's mobile)
SAMPLE_ROWS = [
    ("A11", "M01", "刘旭", "R001", 1, 12, "13812345601"),
    ("A12", "M01", "刘旭", "R001", 1, 12, "13812345602"),
    ("A13", "M01", "刘旭", "R002", 1, 12, "13812345603"),
    ("A14", "M01", "刘旭", "R002", 2, 12, "13812345604"),
    ("A21", "M02", "孙丽", "R003", 1, 4, "15912345605"),
]


def build_warehouse(path: Path, *, quality_tables: bool = True) -> Path:
    from quality import verification

    con = duckdb.connect(str(path))
    try:
        if not quality_tables:
            con.execute(DDL.split("create table marts.fct_data_accuracy")[0])
            return path
        con.execute(DDL)
        for period, start, level, unit_id, unit_name, manager, *figures in ACCURACY_ROWS:
            con.execute(
                "insert into marts.fct_data_accuracy values (?, ?, ?, null, null, ?, ?, ?, null, ?, "
                "?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [f"{period}:{level}:{unit_id}:{start}", period, start, level, unit_id, unit_name, manager]
                + figures,
            )
        for rule_id, severity, entity, record_id, rep_id, first_seen in QUARANTINE_ROWS:
            con.execute(
                "insert into quality.quarantine values (?, ?, null, ?, ?, ?, ?, null, ?)",
                [f"{rule_id}:{record_id}", rule_id, severity, entity, record_id, rep_id, first_seen],
            )
        verification.ensure_tables(con)
        for activity_id, manager_id, manager_name, rep_id, stratum, population, mobile in SAMPLE_ROWS:
            con.execute(
                f"insert into {verification.SAMPLE_TABLE} (week_start_date, week_label, activity_id, "
                "manager_id, manager_name, rep_id, contact_mobile, risk_score, stratum, population_count, "
                "stratum1_size, stratum1_probability, stratum2_probability, inclusion_probability, "
                "sample_rate, risk_sample_size, issued_at) "
                "values ('2026-11-16', '2026-W47', ?, ?, ?, ?, ?, 0, ?, ?, 1, 0.25, 0, 0.25, 0.2, 3, now())",
                [activity_id, manager_id, manager_name, rep_id, mobile, stratum, population],
            )
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("quality") / "warehouse.duckdb")


def render(warehouse: Path, region: str, lang: str, tables: Path, capsys) -> tuple[str, quality.QualityData]:
    ctx = pack.open_context(str(warehouse), "week", "", region, lang, str(tables))
    try:
        data = quality.render(ctx)
    finally:
        ctx.con.close()
    return capsys.readouterr().out, data


# ---------------------------------------------------------------------------------------------- HTML probes


def table_html(page: str, table_id: str) -> str:
    found = re.search(rf'<table class="srw-table" id="{table_id}">.*?</table>', page, re.DOTALL)
    assert found, f"no table {table_id}"
    return found.group(0)


def row_keys(table: str) -> list[str]:
    return re.findall(r'<tr data-row="([^"]*)"', table)


def row(table: str, key: str) -> str:
    found = re.search(rf'<tr data-row="{re.escape(key)}">.*?</tr>', table, re.DOTALL)
    assert found, f"no row {key}"
    return found.group(0)


def values(fragment: str) -> list[str]:
    return re.findall(r'data-value="([^"]*)"', fragment)


def kpis(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-kpi="([^"]+)" data-value="([^"]*)"', page))


def findings_of(page: str) -> list[str]:
    block = re.search(r'<div class="srw-finding" role="note">(.*?)</div>', page, re.DOTALL)
    assert block, "no findings"
    return [p.replace("&#x27;", "'") for p in re.findall(r"<p>(.*?)</p>", block.group(1))]


# ---------------------------------------------------------------------------------------------- company pack


def test_accuracy_headline_and_rep_table(warehouse: Path, tmp_path: Path, capsys) -> None:
    page, _ = render(warehouse, "", "zh-CN", tmp_path / "t", capsys)
    assert page.startswith("## 数据质量 {#quality}")
    # 17 of 18 verified genuine = 94.4%, yellow; 18 verified, 1 fake, 3 unverifiable; 1 rep (李娜) vetoed
    assert kpis(page) == {"accuracy": repr(17 / 18), "verified": "18", "fake": "1", "unverifiable": "3",
                          "vetoed_reps": "1"}  # fmt: skip
    card = re.search(r'<div class="kpi kpi-accuracy".*?</div></div>', page, re.DOTALL).group(0)
    assert "94.4%" in card and "light-yellow" in card and "预警" in card
    table = table_html(page, "quality_accuracy")
    # problems first: the vetoed rep, then by accuracy, the unverified rep last
    assert row_keys(table) == ["R002", "R001", "R003"]
    li_na = row(table, "R002")
    # verified, confirmed, fake, unverifiable, accuracy, HT fake rate
    assert values(li_na) == ["8", "7", "1", "0", "0.875", "0.05"]
    assert "87.5%" in li_na and "5.0%" in li_na and "刘旭" in li_na
    assert "light-red" in li_na and "不达标" in li_na and "一票否决" in li_na
    wang = row(table, "R003")
    assert values(wang) == ["0", "0", "0", "2", "", ""]
    assert "light-none" in wang and "未核实" in wang and "无目标" not in wang and "一票否决" not in wang
    # the downloads carry the accuracy words too
    csv_text = (tmp_path / "t" / "quality_accuracy.csv").read_text(encoding="utf-8-sig")
    assert "未核实" in csv_text and "不达标" in csv_text and "无目标" not in csv_text


def test_open_flags_by_rule(warehouse: Path, tmp_path: Path, capsys) -> None:
    page, _ = render(warehouse, "", "zh-CN", tmp_path / "t", capsys)
    table = table_html(page, "quality_flags")
    assert row_keys(table) == ["dup_customer", "late_log", "total"]
    dup = row(table, "dup_customer")
    assert values(dup) == ["2", "1", "3"]  # new this week (17 and 22 Nov), older (2 Nov), total
    assert "疑似重复客户" in dup and "拦截" in dup and "客户" in dup
    late = row(table, "late_log")
    assert values(late) == ["1", "3", "4"]  # 20 Nov; 1 Oct x 2 and 15 Nov; the 25 Nov flag is not shown
    assert "警告" in late and "补录过晚" in late
    assert values(row(table, "total")) == ["3", "4", "7"]


def test_sample_per_manager_with_file_links(warehouse: Path, tmp_path: Path, capsys) -> None:
    page, _ = render(warehouse, "", "en", tmp_path / "t", capsys)
    table = table_html(page, "quality_sample")
    assert "2026-W47" in table
    # records, random, risk extra, sampled, returned, fakes
    assert values(row(table, "M01")) == ["12", "3", "1", "4", "4", "1"]
    assert values(row(table, "M02")) == ["4", "1", "0", "1", "0", "0"]
    assert values(row(table, "all")) == ["16", "4", "1", "5", "4", "1"]
    # the files, relative to <site>/weekly/2026-W47/<audience>.<lang>.html
    assert 'href="../../verification/2026-W47/verification_2026-W47_M01.xlsx"' in page
    assert 'href="../../verification/2026-W47/verification_2026-W47_M02.csv"' in page
    assert 'href="../../verification/2026-W47/verification_2026-W47_all.xlsx"' in page
    # the sample's contacts never reach the pack, nor its downloads
    assert not MOBILE.search(page)
    for download in (tmp_path / "t").iterdir():
        if download.suffix == ".csv":
            assert not MOBILE.search(download.read_text(encoding="utf-8-sig"))


def test_company_findings_in_both_languages(warehouse: Path, tmp_path: Path, capsys) -> None:
    page, _ = render(warehouse, "", "zh-CN", tmp_path / "zh", capsys)
    assert findings_of(page) == [
        "2026年11月至今数据准确率 94.4%（预警），已核实 18 条，其中虚假 1 条，无法核实 3 条；"
        "1 名销售代表因虚假记录被一票否决：李娜。",
        "待处理数据问题 7 条（其中拦截级 3 条），本周新增 3 条；最多的是“补录过晚”（4 条）。",
        "本周（2026-W47）电话核查样本 5 条，分给 2 名经理；已返回结论 4 条，其中虚假 1 条。",
    ]
    page, _ = render(warehouse, "", "en", tmp_path / "en", capsys)
    assert findings_of(page) == [
        "Data accuracy for November 2026 to date is 94.4% (at risk): 18 records verified, 1 fake, "
        "3 unverifiable; 1 rep vetoed for a fake record: 李娜.",
        "7 quality flags are open (3 blocking), 3 new this week; the most frequent rule: "
        "“Logged long after the fact” (4).",
        "This week's phone-verification sample (2026-W47): 5 records for 2 managers; 4 verdicts returned "
        "so far, 1 fake.",
    ]


# ---------------------------------------------------------------------------------------------- region packs


def test_east_pack_shows_only_east(warehouse: Path, tmp_path: Path, capsys) -> None:
    page, _ = render(warehouse, "华东", "zh-CN", tmp_path / "t", capsys)
    assert "王芳" not in page and "孙丽" not in page and "M02" not in page
    # no region rate of its own: the manager's rate from the mart, the counts of its reps' verdicts
    assert kpis(page) == {"accuracy-M01": repr(17 / 18), "verified": "18", "fake": "1", "unverifiable": "1",
                          "vetoed_reps": "1"}  # fmt: skip
    assert row_keys(table_html(page, "quality_accuracy")) == ["R002", "R001"]
    flags = table_html(page, "quality_flags")
    assert values(row(flags, "dup_customer")) == ["1", "1", "2"]  # C1 (17 Nov), C3 (2 Nov)
    assert values(row(flags, "late_log")) == ["0", "2", "2"]  # A2 (1 Oct), A4 (15 Nov); A5 later
    assert values(row(flags, "total")) == ["1", "3", "4"]
    sample = table_html(page, "quality_sample")
    assert row_keys(sample) == ["M01", "all"]
    assert values(row(sample, "all")) == ["12", "3", "1", "4", "4", "1"]
    # the managers' own file; the file of everyone holds other regions' records
    assert "verification_2026-W47_M01.csv" in page and "verification_2026-W47_all" not in page
    assert findings_of(page) == [
        "2026年11月至今本区域已核实 18 条记录，其中虚假 1 条，无法核实 1 条；"
        "各经理数据准确率：刘旭 94.4%（预警）；1 名销售代表因虚假记录被一票否决：李娜。",
        "待处理数据问题 4 条（其中拦截级 2 条），本周新增 1 条；最多的是“疑似重复客户”（2 条）。",
        "本周（2026-W47）电话核查样本 4 条，分给 1 名经理；已返回结论 4 条，其中虚假 1 条。",
    ]


def test_south_pack_shows_only_south(warehouse: Path, tmp_path: Path, capsys) -> None:
    page, _ = render(warehouse, "华南", "en", tmp_path / "t", capsys)
    for other in ("张伟", "李娜", "刘旭", "M01"):
        assert other not in page
    assert kpis(page) == {"accuracy-M02": "", "verified": "0", "fake": "0", "unverifiable": "2",
                          "vetoed_reps": "0"}  # fmt: skip
    assert "Not verified" in page
    assert row_keys(table_html(page, "quality_accuracy")) == ["R003"]
    flags = table_html(page, "quality_flags")
    assert values(row(flags, "dup_customer")) == ["1", "0", "1"]  # C2 (22 Nov)
    assert values(row(flags, "late_log")) == ["1", "1", "2"]  # A1 (20 Nov), A3 (1 Oct)
    sample = table_html(page, "quality_sample")
    assert row_keys(sample) == ["M02", "all"] and values(row(sample, "all")) == ["4", "1", "0", "1", "0", "0"]
    assert findings_of(page) == [
        "November 2026 to date, 0 records of this region were verified, 0 fake, 2 unverifiable; "
        "accuracy by manager: 孙丽 not verified.",
        "3 quality flags are open (1 blocking), 2 new this week; the most frequent rule: "
        "“Logged long after the fact” (2).",
        "This week's phone-verification sample (2026-W47): 1 record for 1 manager; no verdicts yet.",
    ]


def test_a_manager_belongs_to_his_own_region(tmp_path: Path, capsys) -> None:
    """孙丽 (华南) also manages a rep in 华东: her sample (and its file) stays in the 华南 pack. 周明 is not
    in the reps extract: he belongs to the region of the reps he manages (王芳, 华南)."""
    warehouse = build_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute(
        "insert into marts.dim_reps values ('R005', '赵六', 'rep', 'T01', '华东一组', '华东', 'M02', '孙丽')"
    )
    con.execute("update marts.dim_reps set manager_id = 'M09', manager_name = '周明' where rep_id = 'R003'")
    con.execute(
        "insert into raw_manual.verification_sample (week_start_date, week_label, activity_id, manager_id, "
        "manager_name, rep_id, risk_score, stratum, population_count, stratum1_size, stratum1_probability, "
        "stratum2_probability, inclusion_probability, sample_rate, risk_sample_size, issued_at) "
        "values ('2026-11-16', '2026-W47', 'A91', 'M09', '周明', 'R003', 0, 1, 5, 1, 0.2, 0, 0.2, 0.2, 3, "
        "now())"
    )
    con.close()
    east, _ = render(warehouse, "华东", "zh-CN", tmp_path / "east", capsys)
    assert re.findall(r'<tr data-row="([^"]*)"', table_html(east, "quality_sample")) == ["M01", "all"]
    assert "孙丽" not in east and "周明" not in east
    south, _ = render(warehouse, "华南", "zh-CN", tmp_path / "south", capsys)
    assert re.findall(r'<tr data-row="([^"]*)"', table_html(south, "quality_sample")) == ["M02", "M09", "all"]
    assert "verification_2026-W47_M09.xlsx" in south


# ---------------------------------------------------------------------------------------------- edge cases


def context(lang: str, region: str | None = None) -> PackContext:
    return PackContext(
        con=None,  # type: ignore[arg-type]  # findings read no warehouse
        period=Period.week(date(2026, 11, 16)),
        audience=Audience(region),
        lang=lang,
        as_of=date(2026, 11, 22),
    )


def test_findings_before_any_verification() -> None:
    data = quality.QualityData(week_label="2026-W47", month_start=date(2026, 11, 1))
    assert quality.findings(data, context("zh-CN")) == [
        "2026年11月至今尚无核查结论。",
        "没有待处理的数据问题。",
        "2026-W47 的核查样本尚未生成。",
    ]
    assert quality.findings(data, context("en")) == [
        "No verification verdicts for November 2026 yet.",
        "No quality flags are open.",
        "The verification sample for 2026-W47 has not been issued yet.",
    ]
    assert quality.findings(data, context("zh-CN", "华东"))[0] == "2026年11月至今尚无核查结论。"


def test_findings_one_flag_many_vetoes_sample_not_returned() -> None:
    def rep(unit_id: str, name: str) -> dict:
        figures = {"verified_count": 2, "fake_count": 1, "unverifiable_count": 0, "status_light": "red"}
        return {"unit_id": unit_id, "unit_name": name, "has_veto": True, "accuracy_rate": 0.5, **figures}

    reps = [rep("R1", "甲"), rep("R2", "乙"), rep("R3", "丙"), rep("R4", "丁")]
    company = {**rep("company", "全公司"), "verified_count": 8, "fake_count": 4, "level": "company"}
    flag = {"rule_id": "late_log", "severity": "warn", "description": None, "new_count": 0, "older_count": 1,
            "total_count": 1}  # fmt: skip
    sample = [{"manager_id": "M01", "sampled_count": 1, "returned_count": 0, "fake_count": 0}]
    data = quality.QualityData("2026-W47", date(2026, 11, 1), company, [], reps, [flag], sample)
    assert quality.findings(data, context("zh-CN")) == [
        "2026年11月至今数据准确率 50.0%（不达标），已核实 8 条，其中虚假 4 条；"
        "4 名销售代表因虚假记录被一票否决：甲、乙、丙 等。",
        "待处理数据问题 1 条，本周无新增；最多的是“late_log”（1 条）。",
        "本周（2026-W47）电话核查样本 1 条，分给 1 名经理；尚未返回结论。",
    ]
    assert quality.findings(data, context("en")) == [
        "Data accuracy for November 2026 to date is 50.0% (below target): 8 records verified, 4 fake; "
        "4 reps vetoed for a fake record: 甲, 乙, 丙 and others.",
        "1 quality flag is open, none new this week; the most frequent rule: “late_log” (1).",
        "This week's phone-verification sample (2026-W47): 1 record for 1 manager; no verdicts yet.",
    ]


def test_rule_name_is_the_description_up_to_its_first_colon_or_bracket() -> None:
    assert quality.rule_name({"rule_id": "r", "description": "活动在发生 72 小时之后才录入 CRM（补录）"}) == (
        "活动在发生 72 小时之后才录入 CRM"
    )
    assert quality.rule_name({"rule_id": "r", "description": "周五 15:00 至周日 24:00 之间集中录入"}) == (
        "周五 15:00 至周日 24:00 之间集中录入"
    )
    assert quality.rule_name({"rule_id": "r", "description": "The same company twice: the same name"}) == (
        "The same company twice"
    )
    assert quality.rule_name({"rule_id": "r", "description": None}) == "r"


def test_warehouse_without_the_quality_tables(tmp_path: Path, capsys) -> None:
    """A warehouse built before the quality models existed still renders; the section says what is missing."""
    warehouse = build_warehouse(tmp_path / "warehouse.duckdb", quality_tables=False)
    page, data = render(warehouse, "", "zh-CN", tmp_path / "t", capsys)
    assert data.missing == ["marts.fct_data_accuracy", "quality.quarantine", "raw_manual.verification_sample"]
    assert "尚未生成：marts.fct_data_accuracy, quality.quarantine, raw_manual.verification_sample" in page
    assert findings_of(page)[0] == "2026年11月至今尚无核查结论。"


# ------------------------------------------------------------------------------------------ a real warehouse


@pytest.mark.e2e
def test_quality_on_a_built_company(built_company, tmp_path: Path, capsys) -> None:
    root = built_company[0]
    warehouse = root / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        regions = [
            r for (r,) in con.execute("select distinct region from marts.dim_reps order by 1").fetchall()
        ]
        managers = con.execute(
            "select distinct s.manager_id, r.region from raw_manual.verification_sample as s "
            "join marts.dim_reps as r on r.rep_id = s.manager_id where s.week_start_date = date '2026-11-09'"
        ).fetchall()
    finally:
        con.close()
    assert managers, "the built company has a verification sample for its latest complete week"
    for lang in ("zh-CN", "en"):
        page, data = render(warehouse, "", lang, tmp_path / f"company-{lang}", capsys)
        assert data.week_label == "2026-W46" and len(findings_of(page)) == 3
        assert {s["manager_id"] for s in data.sample} == {m for m, _ in managers}
        assert not MOBILE.search(page)
    for region in regions:
        page, data = render(warehouse, region, "zh-CN", tmp_path / f"r-{region}", capsys)
        own = {m for m, r in managers if r == region}
        assert {s["manager_id"] for s in data.sample} == own
        for manager, manager_region in managers:
            if manager_region != region:
                assert f"verification_2026-W46_{manager}." not in page
        assert "verification_2026-W46_all" not in page
        assert not MOBILE.search(page)
