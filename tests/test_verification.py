"""The weekly phone-verification sample, the verdict files and the data-accuracy KPI.

Fixtures are written out by hand; expected figures are worked out in the comments from the formulas
in quality/verification.py (pi1 = n1 / N, p2 = min(1, k r / ((1 - pi1) R)), pi = pi1 + (1 - pi1) p2).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from quality import verification as v
from quality.verification import Candidate, SampleSettings

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

# ---------------------------------------------------------------- the draw (pure)


@pytest.mark.parametrize(
    ("population", "rate", "expected"),
    [
        (0, 0.2, 0),  # no records, nothing to draw
        (1, 0.2, 1),  # 0.2 -> at least 1
        (4, 0.2, 1),  # 0.8 -> 1
        (5, 0.2, 1),  # 1.0 -> 1
        (6, 0.2, 2),  # 1.2 -> 2
        (11, 0.2, 3),  # 2.2 -> 3
        (15, 0.2, 3),  # exactly 3 (in binary floats 0.2 * 15 is 3.0000000000000004: ceil would give 4)
        (10, 0.3, 3),  # exactly 3 (0.3 * 10 = 3.0000000000000004 in floats)
        (35, 0.2, 7),
    ],
)
def test_stratum1_size_is_ceil_of_the_rate_and_at_least_one(
    population: int, rate: float, expected: int
) -> None:
    assert v.stratum1_size(population, rate) == expected


# M1: 12 records without risk; M2: 5 records with risks 0, 0, 1, 2, 5; M3: a single record.
M1 = [Candidate(f"A1{n:02d}", "M1", 0.0) for n in range(1, 13)]
M2 = [Candidate(f"A2{n:02d}", "M2", r) for n, r in enumerate([0.0, 0.0, 1.0, 2.0, 5.0], start=1)]
M3 = [Candidate("A301", "M3", 3.0)]
POPULATION = [*M1, *M2, *M3]


def _by_id(draws: list[v.Draw]) -> dict[str, v.Draw]:
    return {d.activity_id: d for d in draws}


def test_stratum_sizes_and_inclusion_probabilities() -> None:
    draws = _by_id(v.draw_sample(POPULATION, "2026-W47", rate=0.2, risk_sample_size=3))
    # M1: N = 12, n1 = ceil(2.4) = 3, pi1 = 3/12 = 0.25; no risk -> no stratum 2, every pi = 0.25
    m1 = [draws[c.activity_id] for c in M1]
    assert Counter(d.stratum for d in m1) == {1: 3, None: 9}
    assert {
        (d.stratum1_size, d.stratum1_probability, d.stratum2_probability, d.inclusion_probability) for d in m1
    } == {(3, 0.25, 0.0, 0.25)}
    # M2: N = 5, n1 = 1, pi1 = 0.2; R = 0 + 0 + 1 + 2 + 5 = 8, k = 3:
    #   p2 = 3 r / (0.8 x 8) = 0.46875 r -> 0, 0, 0.46875, 0.9375, min(1, 2.34375) = 1
    #   pi = 0.2 + 0.8 p2          -> 0.2, 0.2, 0.575, 0.95, 1.0
    m2 = [draws[c.activity_id] for c in M2]
    assert [d.stratum2_probability for d in m2] == pytest.approx([0, 0, 0.46875, 0.9375, 1.0])
    assert [d.inclusion_probability for d in m2] == pytest.approx([0.2, 0.2, 0.575, 0.95, 1.0])
    assert sum(d.stratum == 1 for d in m2) == 1
    assert draws["A205"].is_sampled  # p2 = 1: in stratum 1 or else surely in stratum 2
    # M3: a single record is always taken, with probability 1
    assert (draws["A301"].stratum, draws["A301"].inclusion_probability) == (1, 1.0)


def test_probabilities_are_in_0_1_and_stratum2_is_proportional_to_risk() -> None:
    draws = v.draw_sample(POPULATION, "2026-W47")
    assert all(0 < d.inclusion_probability <= 1 and 0 <= d.stratum2_probability <= 1 for d in draws)
    uncapped = [d for d in draws if 0 < d.stratum2_probability < 1]
    ratios = {round(d.stratum2_probability / d.risk_score, 12) for d in uncapped}
    assert ratios == {0.46875}  # the same factor k / ((1 - pi1) R) for every uncapped M2 record
    assert all(d.stratum2_probability == 0 for d in draws if d.risk_score == 0)


def test_sample_is_reproducible_and_differs_between_weeks() -> None:
    def sampled(week: str, candidates=POPULATION, salt: str = "") -> list[tuple[str, int | None]]:
        return sorted(
            (d.activity_id, d.stratum) for d in v.draw_sample(candidates, week, salt=salt) if d.is_sampled
        )

    first = sampled("2026-W47")
    assert sampled("2026-W47") == first  # same week, same sample
    assert sampled("2026-W47", list(reversed(POPULATION))) == first  # the input order does not matter
    assert sampled("2026-W46") != first  # another week, another draw
    assert sampled("2026-W47", salt="secret") != first  # the salt changes the draw too
    # A record added to M2 does not reshuffle M1's draw (the order is a hash per record, not a shuffle).
    grown = [*POPULATION, Candidate("A206", "M2", 0.0)]
    assert [x for x in sampled("2026-W47", grown) if x[0].startswith("A1")] == [
        x for x in first if x[0].startswith("A1")
    ]


def test_inclusion_probabilities_are_the_real_frequencies_and_ht_is_unbiased() -> None:
    """Over 3,000 salts (= 3,000 independent draws of the design), each record is sampled about
    pi of the time, and the Horvitz-Thompson total of M2's fakes (A203 and A205, say) averages 2."""
    runs = 3000
    hits: Counter[str] = Counter()
    ht_totals = []
    stratum2_sizes = []
    for run in range(runs):
        draws = v.draw_sample(POPULATION, "2026-W47", salt=f"run-{run}")
        sampled = [d for d in draws if d.is_sampled]
        hits.update(d.activity_id for d in sampled)
        ht_totals.append(
            sum(1 / d.inclusion_probability for d in sampled if d.activity_id in {"A203", "A205"})
        )
        stratum2_sizes.append(sum(d.stratum == 2 for d in sampled))
    probabilities = {d.activity_id: d.inclusion_probability for d in v.draw_sample(POPULATION, "2026-W47")}
    for activity_id, pi in probabilities.items():
        sigma = (pi * (1 - pi) / runs) ** 0.5
        assert abs(hits[activity_id] / runs - pi) <= 4.5 * sigma + 1e-9, activity_id
    assert sum(ht_totals) / runs == pytest.approx(2.0, abs=0.06)
    # expected stratum-2 size in M2: 0.8 x (0.46875 + 0.9375 + 1) = 1.925 (the cap at 1 costs 0.6)
    assert sum(stratum2_sizes) / runs == pytest.approx(1.925, abs=0.06)


def test_draw_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="sample rate 1.5"):
        v.draw_sample(POPULATION, "2026-W47", rate=1.5)
    with pytest.raises(ValueError, match="A9: risk score -1"):
        v.draw_sample([Candidate("A9", "M1", -1.0)], "2026-W47")


def test_settings_come_from_the_dbt_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(v.SALT_ENV, "s3cret")
    assert v.SampleSettings.from_project() == SampleSettings(rate=0.2, risk_sample_size=3.0, salt="s3cret")


# ---------------------------------------------------------------- warehouse fixture

RECORDS_DDL = """
create schema marts;
create table marts.warehouse_as_of as
    select date '2026-11-22' as as_of_date, date '2026-11-16' as latest_complete_week_start_date;
create schema quality;
create table quality.verification_records (
    activity_id varchar, week_start_date date, week_label varchar, manager_id varchar, manager_name varchar,
    rep_id varchar, rep_name varchar, customer_id varchar, customer_name varchar, contact_name varchar,
    contact_mobile varchar, activity_at timestamp, activity_type varchar, city varchar,
    intention_level varchar, summary varchar, logged_at timestamp, risk_score double
);
"""
W47, W46 = "2026-11-16", "2026-11-09"
# W47, manager M1 刘旭: A101-A105 by R1 张伟 (no risk), A106 by R2 王芳 (risk 4);
#      manager M2 孙丽: A201-A202 by R3 李强.  W46: 5 records of M1.
RECORDS = [
    *[(f"A10{n}", W47, "2026-W47", "M1", "刘旭", "R1", "张伟", f"C{n}", f"客户{n}", "陈静", "13800000001",
       f"2026-11-1{n + 5} 10:00:00", "拜访", "上海", None, "现场拜访", f"2026-11-1{n + 5} 12:00:00", 0.0)
      for n in range(1, 5)],
    ("A105", W47, "2026-W47", "M1", "刘旭", "R1", "张伟", "C5", "客户5", "陈静", "13800000001",
     "2026-11-21 10:00:00", "电话", None, "高", "客户有采购意向", "2026-11-21 11:00:00", 0.0),
    ("A106", W47, "2026-W47", "M1", "刘旭", "R2", "王芳", "C6", "客户6", "周强", "13900000002",
     "2026-11-22 15:00:00", "拜访", "杭州", "中", "方案演示", "2026-11-25 09:00:00", 4.0),
    *[(f"A20{n}", W47, "2026-W47", "M2", "孙丽", "R3", "李强", f"C2{n}", f"客户2{n}", "吴敏", "13700000003",
       f"2026-11-1{n + 6} 09:30:00", "拜访", "南京", None, "拜访", f"2026-11-1{n + 6} 18:00:00", 0.0)
      for n in range(1, 3)],
    *[(f"A00{n}", W46, "2026-W46", "M1", "刘旭", "R1", "张伟", f"C{n}", f"客户{n}", "陈静", "13800000001",
       f"2026-11-1{n} 10:00:00", "拜访", "上海", None, "拜访", f"2026-11-1{n} 12:00:00", 0.0)
      for n in range(1, 6)],
]  # fmt: skip


def build_records_warehouse(path: Path) -> Path:
    con = duckdb.connect(str(path))
    try:
        con.execute(RECORDS_DDL)
        con.executemany(f"insert into quality.verification_records values ({', '.join('?' * 18)})", RECORDS)
    finally:
        con.close()
    return path


def _query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


SETTINGS = SampleSettings(rate=0.2, risk_sample_size=3, salt="")


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Path]]:
    root = tmp_path_factory.mktemp("verification")
    warehouse = build_records_warehouse(root / "warehouse.duckdb")
    files = v.write_verification_sample(warehouse, root / "site" / "verification", settings=SETTINGS)
    return root, warehouse, files


def _sample(warehouse: Path, week: str = W47) -> dict[str, tuple]:
    rows = _query(
        warehouse,
        "select activity_id, manager_id, stratum, population_count, stratum1_size, "
        f"round(inclusion_probability, 6) from {v.SAMPLE_TABLE} where week_start_date = date '{week}'",
    )
    return {r[0]: r[1:] for r in rows}


def test_issued_sample_sizes_and_probabilities(issued: tuple[Path, Path, list[Path]]) -> None:
    _, warehouse, _ = issued
    sample = _sample(warehouse)
    m1 = {k: s for k, s in sample.items() if s[0] == "M1"}
    m2 = {k: s for k, s in sample.items() if s[0] == "M2"}
    # M1: N = 6, n1 = ceil(1.2) = 2, pi1 = 1/3. Only A106 has risk: p2 = min(1, 3 x 4 / (2/3 x 4)) = 1,
    # so A106 is always sampled (pi = 1); the two stratum-1 records have pi = 1/3 (or A106 is one of them).
    assert sum(s[1] == 1 for s in m1.values()) == 2
    assert "A106" in m1 and m1["A106"][4] == 1.0
    assert {s[4] for k, s in m1.items() if k != "A106"} == {round(1 / 3, 6)}
    assert {(s[2], s[3]) for s in m1.values()} == {(6, 2)}
    assert len(m1) == 3 or (len(m1) == 2 and m1["A106"][1] == 1)
    # M2: N = 2, n1 = ceil(0.4) = 1, pi1 = 0.5, no risk -> one record, pi 0.5
    assert [(s[1], s[2], s[3], s[4]) for s in m2.values()] == [(1, 2, 1, 0.5)]


def test_sample_is_frozen_once_issued(issued: tuple[Path, Path, list[Path]], tmp_path: Path) -> None:
    root, warehouse, _ = issued
    before = _query(warehouse, f"select * from {v.SAMPLE_TABLE} order by activity_id")
    # a late record and a new risk arrive after the sample was issued: the issued sample stays as it was
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("update quality.verification_records set risk_score = 50 where activity_id = 'A101'")
        con.execute(
            "insert into quality.verification_records (activity_id, week_start_date, week_label, manager_id, "
            "rep_id, risk_score) values ('A107', '2026-11-16', '2026-W47', 'M1', 'R1', 9)"
        )
        again = v.issue_sample(con, settings=SETTINGS)
        assert not again.newly_issued
    finally:
        con.close()
    assert _query(warehouse, f"select * from {v.SAMPLE_TABLE} order by activity_id") == before
    # another week is drawn separately: W46, M1: N = 5, n1 = 1
    files = v.write_verification_sample(warehouse, tmp_path, week_start="2026-11-09", settings=SETTINGS)
    assert [p.name for p in files] == [
        "verification_2026-W46_M1.csv", "verification_2026-W46_M1.xlsx",
        "verification_2026-W46_all.csv", "verification_2026-W46_all.xlsx",
    ]  # fmt: skip
    assert [(s[0], s[1], s[2], s[3]) for s in _sample(warehouse, W46).values()] == [("M1", 1, 5, 1)]
    with pytest.raises(ValueError, match="is a Tuesday, expected a Monday"):
        v.write_verification_sample(warehouse, tmp_path, week_start="2026-11-10")


def test_export_files_per_manager_and_for_all(issued: tuple[Path, Path, list[Path]]) -> None:
    root, warehouse, files = issued
    folder = root / "site" / "verification" / "2026-W47"
    assert files == [
        folder / name
        for name in (
            "verification_2026-W47_M1.csv", "verification_2026-W47_M1.xlsx",
            "verification_2026-W47_M2.csv", "verification_2026-W47_M2.xlsx",
            "verification_2026-W47_all.csv", "verification_2026-W47_all.xlsx",
        )
    ]  # fmt: skip
    raw = (folder / "verification_2026-W47_M2.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese as UTF-8
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == [c.header for c in v.EXPORT_COLUMNS]
    assert rows[0][-4:] == ["核查结论 Verdict", "备注 Note", "核查人 Verified by", "核查时间 Verified at"]
    (record,) = rows[1:]
    shown = dict(zip([c.key for c in v.EXPORT_COLUMNS], record, strict=True))
    assert shown["manager_name"] == "孙丽" and shown["contact_mobile"] == "13700000003"
    assert (shown["stratum"], shown["inclusion_probability"]) == ("1", "0.500")
    assert [shown[k] for k in v.VERDICT_KEYS] == ["", "", "", ""]
    n_all = len(_sample(warehouse))
    with open(folder / "verification_2026-W47_all.csv", encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.reader(f))) == 1 + n_all
    workbook = load_workbook(folder / "verification_2026-W47_M1.xlsx")
    sheet = workbook.worksheets[0]
    assert [c.value for c in sheet[1]] == [c.header for c in v.EXPORT_COLUMNS]
    assert sheet.max_row == 1 + sum(1 for s in _sample(warehouse).values() if s[0] == "M1")
    (validation,) = sheet.data_validations.dataValidation
    assert validation.formula1 == '"真实,虚假,无法核实"'
    assert workbook.sheetnames == ["核查 Verification", "说明 Instructions"]


# ---------------------------------------------------------------- verdicts: round trip and validation


def _fill_csv(source: Path, target: Path, verdicts: dict[str, tuple[str, str, str]], encoding: str) -> None:
    with open(source, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    keys = [c.key for c in v.EXPORT_COLUMNS]
    for row in rows[1:]:
        verdict, note, verified_at = verdicts.get(row[0], ("", "", ""))
        row[keys.index("verdict")] = verdict
        row[keys.index("note")] = note
        row[keys.index("verified_at")] = verified_at
    with open(target, "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)


@pytest.fixture(scope="module")
def returned(issued: tuple[Path, Path, list[Path]]) -> tuple[Path, Path, v.VerdictLoadReport]:
    """M1 returns its CSV re-saved by Excel as GB18030; M2 its Excel file."""
    root, warehouse, _ = issued
    folder = root / "landing" / "manual" / "verification_verdicts"
    folder.mkdir(parents=True)
    sample_dir = root / "site" / "verification" / "2026-W47"
    m1 = [k for k, s in _sample(warehouse).items() if s[0] == "M1"]
    stratum1 = sorted(k for k in m1 if k != "A106")[0]  # a stratum-1 record of R1 张伟 (pi = 1/3)
    _fill_csv(
        sample_dir / "verification_2026-W47_M1.csv",
        folder / "刘旭_2026-W47.csv",
        {"A106": ("真实", "", "2026-11-24"), stratum1: ("虚假", "客户称未见面", "2026/11/24 10:30")},
        encoding="gb18030",
    )
    workbook = load_workbook(sample_dir / "verification_2026-W47_M2.xlsx")
    sheet = workbook.worksheets[0]
    keys = [c.key for c in v.EXPORT_COLUMNS]
    sheet.cell(2, keys.index("verdict") + 1).value = "Unverifiable"
    sheet.cell(2, keys.index("verified_by") + 1).value = "孙丽"
    sheet.cell(2, keys.index("verified_at") + 1).value = datetime(2026, 11, 25, 9, 0)
    workbook.save(folder / "孙丽_2026-W47.xlsx")
    report = v.load_verdicts(warehouse, folder, root / "archive", loaded_at=datetime(2026, 11, 26, 2, 0))
    return root, warehouse, report


def test_verdicts_round_trip_from_csv_and_excel(returned: tuple[Path, Path, v.VerdictLoadReport]) -> None:
    root, warehouse, report = returned
    assert report.rejected == {}
    assert report.files_loaded == ["刘旭_2026-W47.csv", "孙丽_2026-W47.xlsx"]
    m1_count = sum(1 for s in _sample(warehouse).values() if s[0] == "M1")
    assert (report.rows_loaded, report.rows_pending) == (3, m1_count - 2)  # M1's other rows: not yet called
    rows = _query(
        warehouse,
        "select activity_id, rep_id, verdict, verdict_text, note, verified_by, verified_at::varchar, "
        f"round(inclusion_probability, 6), _source_file from {v.VERDICTS_TABLE} order by verdict",
    )
    m1_file, m2_file = "刘旭_2026-W47.csv", "孙丽_2026-W47.xlsx"
    assert [r[1:] for r in rows] == [
        ("R2", "confirmed", "真实", None, None, "2026-11-24 00:00:00", 1.0, m1_file),
        ("R1", "fake", "虚假", "客户称未见面", None, "2026-11-24 10:30:00", round(1 / 3, 6), m1_file),
        ("R3", "unverifiable", "Unverifiable", None, "孙丽", "2026-11-25 09:00:00", 0.5, m2_file),
    ]
    archived = sorted(p.name for p in (root / "archive" / "manual" / "verification_verdicts").iterdir())
    assert len(archived) == 2 and archived[0].startswith("刘旭_2026-W47__")


def test_verdicts_load_once_per_file_content(returned: tuple[Path, Path, v.VerdictLoadReport]) -> None:
    root, warehouse, _ = returned
    folder = root / "landing" / "manual" / "verification_verdicts"
    shutil.copy(folder / "刘旭_2026-W47.csv", folder / "刘旭_2026-W47 (copy).csv")
    (folder / "~$孙丽_2026-W47.xlsx").write_bytes(b"excel lock file")
    again = v.load_verdicts(warehouse, folder)
    assert again.files_loaded == [] and again.rows_loaded == 0
    assert sorted(again.files_skipped_same_content) == [
        "刘旭_2026-W47 (copy).csv", "刘旭_2026-W47.csv", "孙丽_2026-W47.xlsx",
    ]  # fmt: skip
    assert _query(warehouse, f"select count(*) from {v.VERDICTS_TABLE}") == [(3,)]
    (folder / "刘旭_2026-W47 (copy).csv").unlink()


def test_verdict_errors_name_file_row_and_column(
    returned: tuple[Path, Path, v.VerdictLoadReport], tmp_path: Path
) -> None:
    _, warehouse, _ = returned
    header = ",".join(c.header for c in v.EXPORT_COLUMNS)
    blank = [""] * len(v.EXPORT_COLUMNS)
    keys = [c.key for c in v.EXPORT_COLUMNS]

    def line(**values: str) -> str:
        row = list(blank)
        for key, value in values.items():
            row[keys.index(key)] = value
        return ",".join(row)

    (tmp_path / "bad.csv").write_text(
        "\n".join(
            [
                header,
                line(activity_id="A999", verdict="真实"),  # row 2: not sampled
                line(activity_id="A201", verdict="假的"),  # row 3: not a verdict
                line(activity_id="A106", verdict="真实", verified_at="昨天"),  # row 4: not a date
                line(activity_id="A106", verdict="虚假", week_label="2026-W46"),  # row 5: wrong week
                line(activity_id="A201", verdict="真实"),  # row 6: fine
                line(activity_id="A201", verdict="虚假"),  # row 7: A201 again
            ]
        ),
        encoding="utf-8",
    )
    (tmp_path / "no_verdict_column.csv").write_text(
        "活动编号 Activity ID,备注 Note\nA106,ok\n", encoding="utf-8"
    )
    report = v.load_verdicts(warehouse, tmp_path)
    assert report.files_loaded == []
    assert [p.describe() for p in report.rejected["bad.csv"]] == [
        "bad.csv, row 2, column '活动编号 Activity ID': 'A999' is not in any issued verification sample "
        "(mistyped, or a row copied from elsewhere?)",
        "bad.csv, row 3, column '核查结论 Verdict': '假的' is not a verdict: expected 真实, 虚假 or 无法核实 "
        "(confirmed / fake / unverifiable)",
        "bad.csv, row 4, column '核查时间 Verified at': '昨天' is not a date/time: expected YYYY-MM-DD or "
        "YYYY-MM-DD HH:MM",
        "bad.csv, row 5, column '周 Week': '2026-W46' activity A106 was sampled in week 2026-W47, "
        "not this week",
        "bad.csv, row 7, column '活动编号 Activity ID': 'A201' appears twice (first in row 6): keep one row "
        "per activity",
    ]
    assert [p.describe() for p in report.rejected["no_verdict_column.csv"]] == [
        "no_verdict_column.csv, header (row 1), column '核查结论 Verdict': required column is missing "
        "(keep the exported header)"
    ]
    with pytest.raises(
        v.VerdictFileError, match=r"(?s)bad\.csv, row 3, column '核查结论 Verdict'.*What to do"
    ):
        v.load_verdicts(warehouse, tmp_path, strict=True)
    assert _query(warehouse, f"select count(*) from {v.VERDICTS_TABLE}") == [(3,)]  # nothing of them loaded


# ---------------------------------------------------------------- the KPI, built by dbt from the verdicts


def test_data_accuracy_from_the_returned_verdicts(
    returned: tuple[Path, Path, v.VerdictLoadReport], tmp_path: Path
) -> None:
    """dbt builds quality.verification_verdicts and marts.fct_data_accuracy on the loaded table."""
    _, warehouse, _ = returned
    built = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, built)
    partial_parse = DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"  # left by `salesreview prepare`
    if partial_parse.is_file():  # reused when the project did not change: saves most of dbt's start-up
        (tmp_path / "target").mkdir()
        shutil.copy(partial_parse, tmp_path / "target" / partial_parse.name)
    args = [
        str(Path(sys.executable).with_name("dbt")), "build",
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
        "--select", "verification_verdicts", "fct_data_accuracy",
    ]  # fmt: skip
    env = {**os.environ, "SRW_WAREHOUSE": str(built), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    rows = _query(
        built,
        "select data_accuracy_id, verdict_count, verified_count, fake_count, unverifiable_count, "
        "accuracy_rate, round(fake_rate_ht, 6), has_veto, status_light from marts.fct_data_accuracy "
        "where period_type = 'week' order by data_accuracy_id",
    )
    assert rows == [
        # both managers: 3 verdicts, 2 verified, 1 fake -> 1 - 1/2 = 0.5 red; HT: fake weight 3 (pi 1/3)
        # over verified weights 3 + 1 (A106, pi 1) -> 0.75
        ("week:company:company:2026-11-16", 3, 2, 1, 1, 0.5, 0.75, True, "red"),
        ("week:manager:M1:2026-11-16", 2, 2, 1, 0, 0.5, 0.75, True, "red"),
        ("week:manager:M2:2026-11-16", 1, 0, 0, 1, None, None, False, "none"),
        # 张伟: his one verified record is fake; 王芳: A106 confirmed; 李强: could not be verified
        ("week:rep:R1:2026-11-16", 1, 1, 1, 0, 0.0, 1.0, True, "red"),
        ("week:rep:R2:2026-11-16", 1, 1, 0, 0, 1.0, 0.0, False, "green"),
        ("week:rep:R3:2026-11-16", 1, 0, 0, 1, None, None, False, "none"),
    ]


# ---------------------------------------------------------------- the Dagster assets on a temp DuckDB file


def test_assets_write_the_sample_and_report_bad_verdict_files(tmp_path: Path) -> None:
    import dagster as dg

    from pipelines.defs.quality_reports import assets
    from pipelines.defs.release.assets import published_release
    from pipelines.defs.resources import LandingResource, ReleaseResource

    warehouse = build_records_warehouse(tmp_path / "warehouse.duckdb")
    resources = {
        "release": ReleaseResource(warehouse_path=str(warehouse), site_dir=str(tmp_path / "site")),
        "landing": LandingResource(
            landing_dir=str(tmp_path / "landing"), archive_dir=str(tmp_path / "archive")
        ),
    }
    sampled = dg.materialize([assets.verification_sample, published_release], resources=resources)
    assert sampled.success
    folder = tmp_path / "site" / "verification" / "2026-W47"
    assert (folder / "verification_2026-W47_all.xlsx").is_file()

    verdict_dir = tmp_path / "landing" / assets.VERDICT_FOLDER
    verdict_dir.mkdir(parents=True)
    (verdict_dir / "wrong.csv").write_text(
        "活动编号 Activity ID,核查结论 Verdict\nA201,maybe\n", encoding="utf-8"
    )
    loaded = dg.materialize([assets.verification_verdicts, published_release], resources=resources)
    assert loaded.success  # a manager's bad file does not stop the nightly build ...
    (check,) = loaded.get_asset_check_evaluations()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN  # ... but is reported
    assert "wrong.csv, row 2, column '核查结论 Verdict': 'maybe'" in check.metadata["problems"].value
