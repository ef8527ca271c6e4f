"""pipelines/lib/file_diagnosis.py: a file that is not the contract's UTF-8 CSV gets one clear problem."""

from __future__ import annotations

import codecs
import gzip
import random
import re
from pathlib import Path

import duckdb
import openpyxl
import pytest

from pipelines.lib import file_diagnosis
from pipelines.lib.file_diagnosis import (
    DEFAULT_MAX_LINE_BYTES,
    FileProblem,
    diagnose_text,
    sniff_file,
    sniff_format,
)

SAVE_AS = "Save As > 'CSV UTF-8 (Comma delimited) (*.csv)' (另存为 > CSV UTF-8(逗号分隔))"
EMPTY = "the file is empty; even a file without rows needs the header line"
NOT_GBK = "the file is not UTF-8 (unknown encoding, not GBK/GB18030 either)"
GBK = (
    "the file is not UTF-8: it looks like GBK/GB18030 (the encoding Excel uses for 'CSV' on Chinese Windows)"
)


def write(tmp_path: Path, data: bytes, name: str = "2024-05-01.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- files that are fine


@pytest.mark.parametrize(
    "data",
    [
        b"rep_id,rep_name\nR0001,Zhang Wei\n",
        codecs.BOM_UTF8 + "rep_id,rep_name\r\nR0001,张伟\r\n".encode(),
        b"rep_id,rep_name\n",  # header only, no rows
        b"rep_id,rep_name",  # no line break at the end
        b"a,b\n1,x\x00y\n",  # a stray NUL in a value: DuckDB reads it, so it is left to the reader
    ],
)
def test_a_utf8_csv_has_no_problem(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data)
    assert sniff_format(data) is None
    assert sniff_file(path) is None
    assert diagnose_text(path) == []


# --------------------------------------------------------------------------- encodings


def test_a_gbk_file_is_named_gbk_at_its_first_line_that_is_not_utf8(tmp_path: Path) -> None:
    text = "rep_id,rep_name,region\nR0001,Zhang Wei,East\nR0002,张伟,华东\nR0003,王芳,华北\n"
    path = write(tmp_path, text.encode("gb18030"))
    assert sniff_file(path) is None  # GBK looks like text from the first bytes: the reader finds it

    # Line 3 is "R0002,张伟,华东": "R0002," is 6 bytes, so 张 (GBK D5 C5) is byte 7; D5 starts a
    # two-byte UTF-8 character but C5 is not a continuation byte. 伟 = CE B0, 华 = BB AA, 东 = B6 AB.
    assert diagnose_text(path) == [
        FileProblem(
            problem=GBK,
            what_to_do=f"re-export it as UTF-8 (Excel: {SAVE_AS}), or convert it: "
            "iconv -f GB18030 -t UTF-8 in.csv > out.csv",
            line_number=3,
            detail="line 3, byte 7 is the first that is not UTF-8: b'\\xd5\\xc5\\xce\\xb0,\\xbb\\xaa\\xb6'; "
            "read as GB18030 the line starts 'R0002,张伟,华东'",
        )
    ]


def test_a_short_gbk_file_with_one_uncommon_character_is_still_gbk(tmp_path: Path) -> None:
    # 喆 is not in GB2312, 王 is: half of the non-ASCII characters are common simplified Chinese.
    path = write(tmp_path, "a,b\n1,王喆\n".encode("gb18030"))
    [problem] = diagnose_text(path)
    assert (problem.problem, problem.line_number) == (GBK, 2)


def test_latin1_is_not_utf8_and_not_gbk(tmp_path: Path) -> None:
    # "1,caf" is 5 bytes, so é (Latin-1 E9) is byte 6 of line 2; E9 followed by a line feed is not
    # GB18030 either, so the whole file does not decode as GB18030.
    path = write(tmp_path, "id,name\n1,café\n".encode("latin-1"))
    assert diagnose_text(path) == [
        FileProblem(
            problem=NOT_GBK,
            what_to_do=f"have the source system export UTF-8 (Excel: {SAVE_AS}), or convert the file once "
            "its encoding is known: iconv -f <encoding> -t UTF-8 in.csv > out.csv",
            line_number=2,
            detail="line 2, byte 6 is the first that is not UTF-8: b'\\xe9'; the line starts '1,caf\ufffd'",
        )
    ]


def test_latin1_that_happens_to_decode_as_gb18030_is_not_called_gbk(tmp_path: Path) -> None:
    data = "id,name\n1,Müller\n2,Zürich\n".encode("latin-1")
    # GB18030 reads Latin-1 ü + an ASCII letter as one CJK character: a bare decode test would say GBK ...
    assert data.decode("gb18030") == "id,name\n1,M黮ler\n2,Z黵ich\n"
    # ... but none of those characters is a common (GB2312) one, so the file is not named GBK.
    [problem] = diagnose_text(write(tmp_path, data))
    assert (problem.problem, problem.line_number) == (NOT_GBK, 2)


def test_big5_is_not_called_gbk(tmp_path: Path) -> None:
    path = write(tmp_path, "客戶編號,客戶名稱\nC1,台積電股份有限公司\n".encode("big5"))
    [problem] = diagnose_text(path)
    assert (problem.problem, problem.line_number) == (NOT_GBK, 1)


def test_utf16_with_bom_is_named_utf16(tmp_path: Path) -> None:
    path = write(tmp_path, "rep_id,rep_name\nR0001,张伟\n".encode("utf-16"))
    expected = FileProblem(
        problem="the file is not UTF-8: it is UTF-16 little-endian text (with a byte order mark), "
        "what Excel writes as 'Unicode Text (*.txt)'",
        what_to_do=f"re-export it as UTF-8 (Excel: {SAVE_AS}), or convert it: "
        "iconv -f UTF-16 -t UTF-8 in.csv > out.csv",
        detail="the first line reads 'rep_id,rep_name'",
    )
    assert sniff_file(path) == expected
    assert diagnose_text(path) == [expected]


def test_excel_unicode_text_is_utf16_and_tab_delimited(tmp_path: Path) -> None:
    path = write(tmp_path, "rep_id\trep_name\r\nR0001\t张伟\r\n".encode("utf-16"))
    problem = sniff_file(path)
    assert problem.problem == (
        "the file is not UTF-8: it is UTF-16 little-endian text (with a byte order mark), what Excel writes "
        "as 'Unicode Text (*.txt)', and it is tab-delimited, not comma-delimited"
    )
    assert problem.what_to_do.startswith(f"open it in Excel and use {SAVE_AS}")


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-16-le", "UTF-16 little-endian text (without a byte order mark)"),
        ("utf-16-be", "UTF-16 big-endian text (without a byte order mark)"),
        ("utf-32-le", "UTF-32 little-endian text (without a byte order mark)"),
        ("utf-32", "UTF-32 little-endian text (with a byte order mark)"),
    ],
)
def test_other_wide_encodings(encoding: str, expected: str) -> None:
    problem = sniff_format("rep_id,rep_name\nR0001,张伟\n".encode(encoding))
    assert problem.problem == f"the file is not UTF-8: it is {expected}"
    assert problem.detail == "the first line reads 'rep_id,rep_name'"


# --------------------------------------------------------------------------- not text at all


def test_an_xlsx_workbook_under_a_csv_name(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["rep_id", "rep_name"])
    workbook.active.append(["R0001", "张伟"])
    path = tmp_path / "2024-05-01.csv"
    workbook.save(path)
    expected = FileProblem(
        problem="the file is not a CSV: it is an Excel workbook (.xlsx) saved under a .csv name",
        what_to_do=f"open it in Excel and use {SAVE_AS}, or have the source system export CSV",
        detail="it starts with b'PK\\x03\\x04\\x14\\x00\\x00\\x00'",
    )
    assert sniff_file(path) == expected
    assert diagnose_text(path) == [expected]


def test_a_legacy_xls_workbook(tmp_path: Path) -> None:
    path = write(tmp_path, bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504))
    expected = FileProblem(
        problem="the file is not a CSV: it is a legacy Excel 97-2003 workbook (.xls) or another "
        "Office 97-2003 file saved under a .csv name",
        what_to_do=f"open it in Excel and use {SAVE_AS}, or have the source system export CSV",
        detail="it starts with the Office 97-2003 signature D0 CF 11 E0 A1 B1 1A E1",
    )
    assert sniff_file(path) == expected
    assert diagnose_text(path) == [expected]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (gzip.compress(b"a,b\n1,2\n", mtime=0), "the file is not a CSV: it is a compressed gzip file"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "the file is not a CSV: it is a PDF document"),
        (
            b"PK\x03\x04\x14\x00\x00\x00\x08\x00data.csv",
            "the file is not a CSV: it is a ZIP archive (possibly an Excel .xlsx workbook)",
        ),
        (
            codecs.BOM_UTF8 + b"\r\n<html><body><table><tr><td>rep_id</td></tr></table></body></html>",
            "the file is not a CSV: it is a web page (HTML), which some systems export as 'Excel'",
        ),
        (
            b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n<Workbook>',
            "the file is not a CSV: it is an Excel 2003 XML spreadsheet",
        ),
        (bytes(range(256)) * 4, "the file is not a CSV: it holds binary data, not text"),
    ],
)
def test_other_formats(data: bytes, problem: str) -> None:
    assert sniff_format(data).problem == problem


@pytest.mark.parametrize(
    ("data", "detail"), [(b"", None), (codecs.BOM_UTF8, "it holds only a UTF-8 byte order mark, EF BB BF")]
)
def test_an_empty_file(tmp_path: Path, data: bytes, detail: str | None) -> None:
    expected = FileProblem(
        problem=EMPTY,
        what_to_do="deliver the file with its header line (the contract's column names), even when it has "
        "no rows",
        detail=detail,
    )
    assert diagnose_text(write(tmp_path, data)) == [expected]
    assert expected.describe() == (
        f"{EMPTY}{f' ({detail})' if detail else ''}. What to do: deliver the file with its header line "
        "(the contract's column names), even when it has no rows."
    )


# --------------------------------------------------------------------------- over-long lines


def five_mb_field_file(tmp_path: Path) -> Path:
    return write(tmp_path, ('a,b\n1,"' + "客" * 1_700_000 + '"\n2,z\n').encode())


def test_a_5mb_field_is_one_over_long_line(tmp_path: Path) -> None:
    path = five_mb_field_file(tmp_path)
    # Line 2 is 1 , " (3 bytes) + 1,700,000 x 3 bytes + " (1 byte), without its line feed.
    assert diagnose_text(path, max_line_bytes=2_000_000) == [
        FileProblem(
            problem="the line is 5,100,004 bytes (5.1 MB) long, more than the 2,000,000 bytes the CSV reader "
            "accepts in one line",
            what_to_do="find the value that makes it this long (often a whole document, log or image pasted "
            "into one field) and have the source system shorten or leave out that value; if values this long "
            "are legitimate, the ingest's line size limit (DuckDB max_line_size) has to be raised",
            line_number=2,
            detail="the line starts '1,\"" + "客" * 57 + "…'",
        )
    ]


def read_like_the_ingest(path: Path) -> duckdb.DuckDBPyConnection:
    """Read ``path`` as pipelines/lib/ingest.py does (_stage, _read_csv_sql); return the connection."""
    con = duckdb.connect()
    con.execute("create temp table t (a varchar, b varchar)")
    con.execute(
        f"insert into t select a, b from read_csv(['{path}'], columns={{'a': 'VARCHAR', 'b': 'VARCHAR'}}, "
        "header=true, auto_detect=false, delim=',', quote='\"', escape='\"', "
        "store_rejects=true, rejects_table='r', rejects_scan='s')"
    )
    return con


def test_duckdb_cannot_read_a_5mb_field_and_the_diagnosis_names_the_line(tmp_path: Path) -> None:
    path = five_mb_field_file(tmp_path)
    # DuckDB 1.5: an over-long line of multi-byte characters is not rejected as LINE SIZE OVER MAXIMUM but
    # breaks the whole read with a message that names no row (if a later DuckDB rejects the line instead,
    # update this test: the diagnosis is then a second opinion on that reject).
    with pytest.raises(duckdb.InvalidInputException, match="Invalid unicode .* segment statistics update"):
        read_like_the_ingest(path)
    [problem] = diagnose_text(path, DEFAULT_MAX_LINE_BYTES)
    assert (problem.line_number, problem.problem.split(" long")[0]) == (
        2,
        "the line is 5,100,004 bytes (5.1 MB)",
    )


def test_an_ascii_over_long_line_is_measured_as_duckdb_does(tmp_path: Path) -> None:
    path = write(tmp_path, b'a,b\r\n1,"' + b"x" * 2_100_000 + b'"\r\n2,z\r\n')
    con = read_like_the_ingest(path)
    rows = con.execute("select a, row_number() over (order by rowid) from t").fetchall()
    rejects = con.execute("select line, cast(error_type as varchar), error_message from r").fetchall()
    assert rows == [("2", 1)]
    assert rejects == [
        (
            2,
            "LINE SIZE OVER MAXIMUM",
            "Maximum line size of 2000000 bytes exceeded. Actual Size:2100004 bytes.",
        )
    ]
    [problem] = diagnose_text(path)
    assert problem.line_number == 2
    assert problem.problem.startswith("the line is 2,100,004 bytes (2.1 MB) long, more than the 2,000,000")


def test_only_the_first_over_long_lines_are_listed(tmp_path: Path) -> None:
    lines = [b"a"] + [b"x" * n for n in range(5, 15)]  # lines 2..11 are 5..14 bytes
    problems = diagnose_text(write(tmp_path, b"\r\n".join(lines) + b"\r\n"), max_line_bytes=8)
    assert [(p.line_number, p.problem.split(" long")[0]) for p in problems] == [
        (6, "the line is 9 bytes"),
        (7, "the line is 10 bytes"),
        (8, "the line is 11 bytes"),
        (9, "the line is 12 bytes"),
        (10, "the line is 13 bytes"),
    ]
    assert (
        problems[-1].detail
        == "the line starts 'xxxxxxxxxxxxx'; 1 more line(s) after this one are also over the limit"
    )


def test_a_file_with_old_mac_line_breaks_is_split_at_carriage_returns(tmp_path: Path) -> None:
    path = write(tmp_path, b"a,b\r1," + b"x" * 40 + b"\r2,z\r")
    assert [(p.line_number, p.problem.split(" long")[0]) for p in diagnose_text(path, 30)] == [
        (2, "the line is 42 bytes")
    ]


def test_not_utf8_and_over_long_lines_are_both_reported(tmp_path: Path) -> None:
    path = write(tmp_path, ("a,b\n1," + "张" * 20 + "\n2,x\n").encode("gb18030"))
    problems = diagnose_text(path, max_line_bytes=30)
    assert [(p.problem, p.line_number) for p in problems] == [
        (GBK, 2),
        ("the line is 42 bytes long, more than the 30 bytes the CSV reader accepts in one line", 2),
    ]


# --------------------------------------------------------------------------- streaming across blocks


def test_block_boundaries_do_not_change_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny blocks split characters, CR LF pairs and lines anywhere; results equal a whole-file reference."""
    monkeypatch.setattr(file_diagnosis, "BLOCK_BYTES", 7)
    pieces = [b"a", b",", "客".encode(), "é".encode(), b"\n", b"\r\n", b"xxxxxx"]
    rng = random.Random(20240501)
    for case in range(300):
        data = b"h,i\n" + b"".join(rng.choice(pieces) for _ in range(rng.randrange(0, 60)))
        if case % 3 == 0:  # one byte that is not UTF-8 somewhere after the header
            at = rng.randrange(4, len(data) + 1)
            data = data[:at] + rng.choice([b"\xff", b"\xe5\xae", b"\xe5"]) + data[at:]
        path = write(tmp_path, data)
        problems = diagnose_text(path, max_line_bytes=10)

        expected = []
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
            expected.append((line, f"line {line}, byte {column} is"))
        lines = data.split(b"\n")
        if not lines[-1]:
            lines.pop()
        sizes = [(n, len(s.removesuffix(b"\r"))) for n, s in enumerate(lines, start=1)]
        long = [(n, f"the line is {size:,} bytes") for n, size in sizes if size > 10]
        expected += long[:5]

        found = []
        for p in problems:
            if p.problem.startswith("the line is"):
                found.append((p.line_number, p.problem.split(" long")[0]))
            else:
                found.append((p.line_number, re.match(r"line \d+, byte \d+ is", p.detail).group()))
        assert found == expected, data
