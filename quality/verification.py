"""The weekly phone-verification sample (核查样本) and the managers' verdicts (核查结论).

004 §5.5.1 / §6.1.3: managers cannot phone every entry, so each week a random 20% of each manager's
reported visits and intentions is phone-verified; a confirmed fake is a veto against the rep, and data
accuracy is a tracked KPI (88% -> 97%).

The design, per manager m and week w (population: quality.verification_records, built by dbt):

- Stratum 1: a simple random sample of n1 = ceil(rate x N) records (at least 1) of the manager's N
  records. The order is a SHA-256 of (salt, week, manager, activity id), so the same week always gives
  the same sample, a new record does not reshuffle the others, and nobody can predict the draw
  without the salt (env SRW_VERIFICATION_SALT). Each record is in it with probability pi1 = n1 / N.
- Stratum 2: a risk-weighted extra draw among the records NOT in stratum 1 (Poisson sampling with an
  independent hash-uniform u_i): record i is added when u_i < p2_i, where
      p2_i = min(1, k x r_i / ((1 - pi1) x R))        r_i = its risk score, R = sum of r over the N records,
  and k = the stratum-2 size var. p2 is proportional to the risk (capped at 1) and, being computed over
  all N records, does not depend on which records stratum 1 took: about k extra records are drawn.
- Because the two draws are independent, the inclusion probability of every record is exactly
      pi_i = pi1 + (1 - pi1) x p2_i
  which is written on each sampled record: 1 / pi_i is its Horvitz-Thompson weight, so a rep's or a
  manager's fake rate is estimated without the bias of stratum 2 picking risky records more often.

The sample of a week is drawn once and frozen in raw_manual.verification_sample (later deliveries and
new quality flags do not change what the managers were sent); the export files are rewritten from it.
Managers return the files (CSV or Excel) with the verdict columns filled; `load_verdicts` validates them
against the issued samples and loads them into raw_manual.verification_verdicts, which dbt turns into
quality.verification_verdicts and marts.fct_data_accuracy.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import secrets
import shutil
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines.lib.safe_cells import neutralise_row, protect_cell

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_FILE = REPO_ROOT / "dbt_project" / "dbt_project.yml"

RECORDS_MODEL = "quality.verification_records"
AS_OF_MART = "marts.warehouse_as_of"
MANUAL_SCHEMA = "raw_manual"
SAMPLE_TABLE = f"{MANUAL_SCHEMA}.verification_sample"
VERDICTS_TABLE = f"{MANUAL_SCHEMA}.verification_verdicts"
FILES_TABLE = f"{MANUAL_SCHEMA}.verification_files"
SALT_ENV = "SRW_VERIFICATION_SALT"
ARCHIVE_SUBDIR = Path("manual") / "verification_verdicts"
VERDICT_SUFFIXES = (".csv", ".xlsx")
MAX_PROBLEMS_PER_FILE = 20

# Verdict words accepted in the files (case-insensitive) -> the stored key.
VERDICTS: dict[str, str] = {
    "真实": "confirmed",
    "虚假": "fake",
    "无法核实": "unverifiable",
    "confirmed": "confirmed",
    "fake": "fake",
    "unverifiable": "unverifiable",
}
VERDICT_CHOICES = ("真实", "虚假", "无法核实")

SAMPLE_DDL = f"""
create table if not exists {SAMPLE_TABLE} (
  week_start_date date not null,
  week_label varchar not null,
  activity_id varchar not null,
  manager_id varchar not null,
  manager_name varchar,
  rep_id varchar,
  rep_name varchar,
  customer_id varchar,
  customer_name varchar,
  contact_name varchar,
  contact_mobile varchar,
  activity_at timestamp,
  activity_type varchar,
  city varchar,
  intention_level varchar,
  summary varchar,
  logged_at timestamp,
  risk_score double not null,
  stratum integer not null,               -- 1 = simple random share, 2 = risk-weighted extra draw
  population_count integer not null,      -- N: the manager's records in the week
  stratum1_size integer not null,         -- n1 = max(1, ceil(rate x N))
  stratum1_probability double not null,   -- pi1 = n1 / N
  stratum2_probability double not null,   -- p2 = min(1, k x risk / ((1 - pi1) x total risk))
  inclusion_probability double not null,  -- pi = pi1 + (1 - pi1) x p2
  sample_rate double not null,
  risk_sample_size double not null,
  issued_at timestamp not null,           -- UTC
  primary key (week_start_date, activity_id)
)"""

VERDICTS_DDL = f"""
create table if not exists {VERDICTS_TABLE} (
  activity_id varchar not null,
  week_start_date date not null,
  week_label varchar not null,
  manager_id varchar,
  manager_name varchar,
  rep_id varchar,
  rep_name varchar,
  activity_at timestamp,
  activity_type varchar,
  stratum integer not null,
  inclusion_probability double not null,
  verdict varchar not null,           -- confirmed / fake / unverifiable
  verdict_text varchar not null,      -- as written in the file
  note varchar,
  verified_by varchar,
  verified_at timestamp,
  _source_file varchar not null,      -- file name in the verdict folder
  _file_sha256 varchar not null,
  _row_number integer not null,       -- spreadsheet row (the header is row 1)
  _loaded_at timestamp not null       -- UTC
)"""

FILES_DDL = f"""
create table if not exists {FILES_TABLE} (
  file_sha256 varchar primary key,
  source_file varchar not null,
  row_count integer not null,         -- rows with a verdict, loaded
  archived_path varchar,              -- relative to the archive folder
  loaded_at timestamp not null        -- UTC
)"""


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class SampleSettings:
    rate: float = 0.2  # stratum 1: share of each manager's records
    risk_sample_size: float = 3  # stratum 2: expected extra records per manager and week
    salt: str = ""  # keeps the draw unpredictable to whoever does not know it

    @classmethod
    def from_project(cls, dbt_project_file: Path = DBT_PROJECT_FILE) -> SampleSettings:
        """The dbt vars verification_sample_rate and verification_risk_sample_size (one place for
        what a manager may change), and the salt from the environment."""
        variables = (yaml.safe_load(dbt_project_file.read_text(encoding="utf-8")) or {}).get("vars") or {}
        return cls(
            rate=float(variables.get("verification_sample_rate", cls.rate)),
            risk_sample_size=float(variables.get("verification_risk_sample_size", cls.risk_sample_size)),
            salt=os.environ.get(SALT_ENV, ""),
        )


# ---------------------------------------------------------------- the draw (pure)


@dataclass(frozen=True)
class Candidate:
    activity_id: str
    manager_id: str
    risk_score: float


@dataclass(frozen=True)
class Draw:
    activity_id: str
    manager_id: str
    risk_score: float
    stratum: int | None  # 1, 2, or None when not sampled
    population_count: int
    stratum1_size: int
    stratum1_probability: float
    stratum2_probability: float
    inclusion_probability: float

    @property
    def is_sampled(self) -> bool:
        return self.stratum is not None


def hash_uniform(*parts: str) -> float:
    """A number in [0, 1) from SHA-256 of the parts: the same parts always give the same number."""
    digest = hashlib.sha256("|".join(parts).encode("utf-8")).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)


def stratum1_size(population_count: int, rate: float) -> int:
    """n1 = ceil(rate x N), at least 1 when the manager has any record (exact: 0.2 x 15 is 3, not 4)."""
    if population_count <= 0:
        return 0
    return max(1, math.ceil(Fraction(str(rate)) * population_count))


def draw_sample(
    candidates: Iterable[Candidate],
    week_label: str,
    rate: float = SampleSettings.rate,
    risk_sample_size: float = SampleSettings.risk_sample_size,
    salt: str = "",
) -> list[Draw]:
    """Draw the week's sample; returns one Draw per candidate (stratum None = not sampled).

    See the module docstring for the design and the formulas.
    """
    if not 0 < rate <= 1:
        raise ValueError(f"sample rate {rate}: expected a share in (0, 1]")
    if risk_sample_size < 0:
        raise ValueError(f"risk sample size {risk_sample_size}: expected a number >= 0")
    by_manager: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        if candidate.risk_score is None or candidate.risk_score < 0:
            raise ValueError(f"activity {candidate.activity_id}: risk score {candidate.risk_score!r} < 0")
        by_manager[candidate.manager_id].append(candidate)

    draws: list[Draw] = []
    for manager_id in sorted(by_manager):
        records = by_manager[manager_id]
        n = len(records)
        n1 = stratum1_size(n, rate)
        pi1 = n1 / n
        order = sorted(
            records, key=lambda c: (hash_uniform(salt, week_label, manager_id, c.activity_id), c.activity_id)
        )
        first = {c.activity_id for c in order[:n1]}
        total_risk = sum(c.risk_score for c in records)
        for c in records:
            if total_risk > 0 and pi1 < 1:
                p2 = min(1.0, risk_sample_size * c.risk_score / ((1 - pi1) * total_risk))
            else:
                p2 = 0.0
            if c.activity_id in first:
                stratum: int | None = 1
            elif hash_uniform(salt, week_label, manager_id, "risk", c.activity_id) < p2:
                stratum = 2
            else:
                stratum = None
            draws.append(
                Draw(
                    activity_id=c.activity_id,
                    manager_id=manager_id,
                    risk_score=c.risk_score,
                    stratum=stratum,
                    population_count=n,
                    stratum1_size=n1,
                    stratum1_probability=pi1,
                    stratum2_probability=p2,
                    inclusion_probability=min(1.0, pi1 + (1 - pi1) * p2),
                )
            )
    return draws


# ---------------------------------------------------------------- issuing the sample


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {MANUAL_SCHEMA}")
    for ddl in (SAMPLE_DDL, VERDICTS_DDL, FILES_DDL):
        con.execute(ddl)


def iso_week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def default_week_start(con: duckdb.DuckDBPyConnection) -> date:
    """The latest complete week of the warehouse (marts.warehouse_as_of), as the weekly pack uses."""
    row = con.execute(f"select latest_complete_week_start_date from {AS_OF_MART}").fetchone()
    if row is None or row[0] is None:
        raise LookupError(f"{AS_OF_MART}: empty - no extracts have been loaded yet")
    return row[0]


def _monday(value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    day = date.fromisoformat(value) if isinstance(value, str) else value
    if day.weekday() != 0:
        raise ValueError(f"week_start {day}: is a {day:%A}, expected a Monday")
    return day


_RECORD_COLUMNS = (
    "activity_id, manager_id, manager_name, rep_id, rep_name, customer_id, customer_name, contact_name, "
    "contact_mobile, activity_at, activity_type, city, intention_level, summary, logged_at, risk_score"
)


@dataclass(frozen=True)
class IssuedSample:
    week_start: date
    week_label: str
    newly_issued: bool  # False: the week had been issued before; its frozen rows were reused
    rows: list[dict[str, Any]]


def issue_sample(
    con: duckdb.DuckDBPyConnection,
    week_start: date | str | None = None,
    settings: SampleSettings | None = None,
    issued_at: datetime | None = None,
) -> IssuedSample:
    """The week's sample: drawn from quality.verification_records and frozen the first time,
    read back unchanged every later time. `week_start` defaults to the latest complete week."""
    ensure_tables(con)
    week = _monday(week_start) or default_week_start(con)
    label = iso_week_label(week)
    newly = False
    (issued,) = con.execute(
        f"select count(*) from {SAMPLE_TABLE} where week_start_date = ?", [week]
    ).fetchone()
    if issued == 0:
        settings = settings or SampleSettings.from_project()
        records = _fetch_dicts(
            con, f"select {_RECORD_COLUMNS} from {RECORDS_MODEL} where week_start_date = ?", [week]
        )
        draws = draw_sample(
            (Candidate(r["activity_id"], r["manager_id"], float(r["risk_score"] or 0)) for r in records),
            label,
            settings.rate,
            settings.risk_sample_size,
            settings.salt,
        )
        by_id = {r["activity_id"]: r for r in records}
        stamp = _utc_naive(issued_at)
        rows = [
            {
                **by_id[d.activity_id],
                "week_start_date": week,
                "week_label": label,
                "stratum": d.stratum,
                "population_count": d.population_count,
                "stratum1_size": d.stratum1_size,
                "stratum1_probability": d.stratum1_probability,
                "stratum2_probability": d.stratum2_probability,
                "inclusion_probability": d.inclusion_probability,
                "sample_rate": settings.rate,
                "risk_sample_size": settings.risk_sample_size,
                "issued_at": stamp,
            }
            for d in draws
            if d.is_sampled
        ]
        if rows:
            columns = list(rows[0])
            con.execute("begin transaction")
            try:
                con.executemany(
                    f"insert into {SAMPLE_TABLE} ({', '.join(columns)}) "
                    f"values ({', '.join('?' * len(columns))})",
                    [[row[c] for c in columns] for row in rows],
                )
                con.execute("commit")
            except Exception:
                con.execute("rollback")
                raise
            newly = True
    rows = _fetch_dicts(
        con,
        f"select * from {SAMPLE_TABLE} where week_start_date = ? "
        "order by manager_id, rep_name, activity_at, activity_id",
        [week],
    )
    return IssuedSample(week_start=week, week_label=label, newly_issued=newly, rows=rows)


# ---------------------------------------------------------------- export files


@dataclass(frozen=True)
class ExportColumn:
    key: str
    zh: str
    en: str
    width: int  # Excel column width, characters

    @property
    def header(self) -> str:
        return f"{self.zh} {self.en}"


EXPORT_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("activity_id", "活动编号", "Activity ID", 13),
    ExportColumn("week_label", "周", "Week", 10),
    ExportColumn("manager_name", "经理", "Manager", 10),
    ExportColumn("rep_name", "销售代表", "Rep", 10),
    ExportColumn("customer_name", "客户", "Customer", 22),
    ExportColumn("contact_name", "联系人", "Contact", 10),
    ExportColumn("contact_mobile", "联系电话", "Mobile", 14),
    ExportColumn("activity_at", "活动时间", "Activity time", 17),
    ExportColumn("activity_type", "类型", "Type", 8),
    ExportColumn("city", "城市", "City", 8),
    ExportColumn("intention_level", "意向", "Intention", 8),
    ExportColumn("summary", "摘要", "Summary", 30),
    ExportColumn("stratum", "抽样层", "Stratum", 8),
    ExportColumn("inclusion_probability", "入样概率", "Inclusion probability", 10),
    ExportColumn("verdict", "核查结论", "Verdict", 12),
    ExportColumn("note", "备注", "Note", 24),
    ExportColumn("verified_by", "核查人", "Verified by", 10),
    ExportColumn("verified_at", "核查时间", "Verified at", 17),
)
VERDICT_KEYS = ("verdict", "note", "verified_by", "verified_at")
INSTRUCTIONS = (
    "每周核查样本 Weekly verification sample",
    "请逐条致电客户联系人，核实销售代表报告的拜访或客户意向是否属实，并填写最后四列：",
    "Phone each customer contact, check that the reported visit or intention is real, and fill in the "
    "last four columns:",
    "核查结论 Verdict: 真实 (confirmed) / 虚假 (fake) / 无法核实 (unverifiable); 备注 Note; "
    "核查人 Verified by; 核查时间 Verified at (YYYY-MM-DD HH:MM).",
    "留空的行视为尚未核查。Rows left blank are treated as not yet verified.",
    "请勿修改活动编号。Do not change the activity IDs.",
    "完成后将文件 (CSV 或 Excel) 放入核查结论文件夹: <landing>/manual/verification_verdicts/.",
    "抽样层 Stratum: 1 = 随机抽取 random share; 2 = 风险加抽 extra draw weighted by risk.",
)


def sample_file_stem(week_label: str, manager_id: str | None) -> str:
    """verification_<week>_<manager_id>, or verification_<week>_all for everyone."""
    return f"verification_{week_label}_{manager_id or 'all'}"


def _display(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key == "activity_at" and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if key == "inclusion_probability":
        return f"{float(value):.3f}"
    return str(value)


@contextmanager
def _replaced_atomically(path: Path) -> Iterator[Path]:
    """A new temporary file next to `path` to write; once written it replaces `path` (os.replace).

    The file is never rewritten in place: a reader sees the old file or the new one, never half of one,
    and a copy that shares the old file's inode (a hard-linked release of the site) keeps the old
    content. The temporary file is hidden (its name starts with ".") and removed if writing fails; it is
    created as open() would create it (mode 0o666 less the umask, not tempfile's 0o600).
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """UTF-8 with BOM (Excel then opens the Chinese correctly), bilingual header, empty verdict columns.

    Text that a spreadsheet would take for a formula (a customer named "=HYPERLINK(...)") is written
    with a leading ' (pipelines.lib.safe_cells). The file is replaced atomically.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(neutralise_row(c.header for c in EXPORT_COLUMNS))
    for row in rows:
        writer.writerow(neutralise_row(_display(c.key, row.get(c.key)) for c in EXPORT_COLUMNS))
    data = buffer.getvalue().encode("utf-8-sig")
    with _replaced_atomically(path) as temporary:
        temporary.write_bytes(data)
    return path


def write_xlsx(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """One sheet with the records (verdict column as a drop-down) and one with instructions.

    Every text cell is a string cell, never a formula: a customer named "=HYPERLINK(...)" is shown as
    that text, with Excel's quotePrefix flag (pipelines.lib.safe_cells). The file is replaced atomically.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "核查 Verification"
    sheet.append([c.header for c in EXPORT_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    fill = PatternFill("solid", fgColor="FFF8E1")
    for row in rows:
        values = []
        for c in EXPORT_COLUMNS:
            value = row.get(c.key)
            if c.key == "inclusion_probability" and value is not None:
                value = round(float(value), 6)
            values.append(value)
        sheet.append(values)
    for index, column in enumerate(EXPORT_COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            if column.key == "activity_at":
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif column.key == "inclusion_probability":
                cell.number_format = "0.000"
            elif column.key in ("contact_mobile", "activity_id"):
                cell.number_format = "@"  # text: keep the digits as they are
            elif column.key in VERDICT_KEYS:
                cell.fill = fill
                if column.key == "verified_at":
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif column.key in ("note", "verified_by"):
                    cell.number_format = "@"  # text: a note typed as "-..." or "=..." is not a formula
    verdict_letter = get_column_letter(1 + [c.key for c in EXPORT_COLUMNS].index("verdict"))
    if rows:
        choices = DataValidation(
            type="list",
            formula1='"' + ",".join(VERDICT_CHOICES) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="核查结论 Verdict",
            error="请选择 真实 / 虚假 / 无法核实 (confirmed / fake / unverifiable)",
        )
        sheet.add_data_validation(choices)
        choices.add(f"{verdict_letter}2:{verdict_letter}{len(rows) + 1}")
    sheet.freeze_panes = "B2"
    notes = workbook.create_sheet("说明 Instructions")
    for line in INSTRUCTIONS:
        notes.append([line])
    notes.column_dimensions["A"].width = 110
    for worksheet in workbook.worksheets:
        for cells in worksheet.iter_rows():
            for cell in cells:
                protect_cell(cell)
    with _replaced_atomically(path) as temporary:
        workbook.save(temporary)
    return path


def export_sample(rows: Sequence[dict[str, Any]], week_label: str, out_dir: Path) -> list[Path]:
    """CSV and Excel per manager and for everyone, in out_dir/<week_label>/."""
    folder = Path(out_dir) / week_label
    folder.mkdir(parents=True, exist_ok=True)
    by_manager: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_manager[row["manager_id"]].append(row)
    written: list[Path] = []
    for manager_id in [*sorted(by_manager), None]:
        subset = by_manager[manager_id] if manager_id else list(rows)
        stem = sample_file_stem(week_label, manager_id)
        written.append(write_csv(folder / f"{stem}.csv", subset))
        written.append(write_xlsx(folder / f"{stem}.xlsx", subset))
    return written


def write_verification_sample(
    warehouse: str | Path,
    out_dir: str | Path,
    week_start: date | str | None = None,
    settings: SampleSettings | None = None,
) -> list[Path]:
    """Issue (draw and freeze, the first time) the week's sample and write its files to
    out_dir/<week_label>/ (verification_<week>_<manager_id>.csv|.xlsx and verification_<week>_all.*).
    Returns the files written; none when the week has no record to verify.

    `week_start` (a Monday) defaults to the latest complete week. Opens the warehouse read-write.
    """
    con = duckdb.connect(str(warehouse))
    try:
        issued = issue_sample(con, week_start, settings)
    finally:
        con.close()
    if not issued.rows:
        return []
    return export_sample(issued.rows, issued.week_label, Path(out_dir))


# ---------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class VerdictProblem:
    source_file: str
    row_number: int | None  # spreadsheet row (the header is row 1); None = the file as a whole
    column: str | None  # the column's header as written in the file
    value: str | None
    problem: str

    def describe(self) -> str:
        where = f"row {self.row_number}" if self.row_number is not None else "whole file"
        if self.row_number == 1:
            where = "header (row 1)"
        column = f", column '{self.column}'" if self.column else ""
        value = f" {self.value!r}" if self.value not in (None, "") else ""
        return f"{self.source_file}, {where}{column}:{value} {self.problem}"


WHAT_TO_DO = (
    "What to do: correct the file (the rows and columns named above) and save it again in the verdict "
    "folder; nothing of it was loaded, the other files were."
)


class VerdictFileError(ValueError):
    """Verdict files that cannot be loaded; the message names each file, row and column."""

    def __init__(self, problems: Sequence[VerdictProblem]):
        self.problems = list(problems)
        lines = [p.describe() for p in self.problems]
        super().__init__("verification verdicts rejected:\n  " + "\n  ".join(lines) + "\n" + WHAT_TO_DO)


@dataclass
class VerdictLoadReport:
    files_loaded: list[str] = field(default_factory=list)
    files_skipped_same_content: list[str] = field(default_factory=list)
    rows_loaded: int = 0
    rows_pending: int = 0  # rows without a verdict yet (not loaded)
    rejected: dict[str, list[VerdictProblem]] = field(default_factory=dict)

    @property
    def problems(self) -> list[VerdictProblem]:
        return [p for problems in self.rejected.values() for p in problems]

    def to_metadata(self) -> dict[str, Any]:
        return {
            "files_loaded": len(self.files_loaded),
            "files_skipped_same_content": len(self.files_skipped_same_content),
            "rows_loaded": self.rows_loaded,
            "rows_pending": self.rows_pending,
            "files_rejected": len(self.rejected),
        }


def _header_key(text: str) -> str | None:
    """Which export column a header means: its full bilingual text, its Chinese, its English or its key."""
    wanted = " ".join(str(text).replace("\ufeff", "").split()).casefold()
    for column in EXPORT_COLUMNS:
        if wanted in {column.header.casefold(), column.zh, column.en.casefold(), column.key}:
            return column.key
    return None


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_table_file(path: Path) -> list[list[Any]]:
    """Rows of a CSV (UTF-8 with or without BOM, or GB18030 as Excel saves 'CSV' on Chinese Windows) or
    of the first sheet of an .xlsx; row 1 is the header."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
        finally:
            workbook.close()
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return [list(row) for row in csv.reader(io.StringIO(text, newline=""))]


_TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
)


def parse_verified_at(value: Any) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value).strip()
    for pattern in _TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise ValueError(text)


@dataclass(frozen=True)
class _ParsedFile:
    rows: list[dict[str, Any]]  # ready to insert (without lineage)
    pending: int
    problems: list[VerdictProblem]


def parse_verdict_file(
    path: Path, issued: dict[str, list[dict[str, Any]]], name: str | None = None
) -> _ParsedFile:
    """Validate one returned file against the issued samples (activity_id -> its issued rows).

    Required columns: activity ID and verdict. A row without a verdict is not verified yet and is skipped.
    """
    name = name or path.name
    problems: list[VerdictProblem] = []

    def problem(row: int | None, column: str | None, value: Any, text: str) -> None:
        problems.append(VerdictProblem(name, row, column, None if value is None else _cell_text(value), text))

    try:
        table = read_table_file(path)
    except Exception as exc:  # unreadable: not a CSV/xlsx, damaged, wrong encoding
        problem(None, None, None, f"cannot be read as {path.suffix.lower()} ({type(exc).__name__}: {exc})")
        return _ParsedFile([], 0, problems)
    if not table or not any(_cell_text(v) for v in table[0]):
        problem(1, None, None, "no header row (expected the columns of the exported verification file)")
        return _ParsedFile([], 0, problems)

    header = table[0]
    columns: dict[str, tuple[int, str]] = {}  # key -> (index, header text)
    for index, text in enumerate(header):
        key = _header_key(_cell_text(text))
        if key and key not in columns:
            columns[key] = (index, _cell_text(text))
    for key in ("activity_id", "verdict"):
        if key not in columns:
            spec = next(c for c in EXPORT_COLUMNS if c.key == key)
            problem(1, spec.header, None, "required column is missing (keep the exported header)")
    if problems:
        return _ParsedFile([], 0, problems)

    def cell(values: list[Any], key: str) -> Any:
        if key not in columns:
            return None
        index = columns[key][0]
        return values[index] if index < len(values) else None

    def header_of(key: str) -> str:
        return columns[key][1]

    rows: list[dict[str, Any]] = []
    pending = 0
    first_row_of: dict[str, int] = {}
    for row_number, values in enumerate(table[1:], start=2):
        if not any(_cell_text(v) for v in values):
            continue
        activity_id = _cell_text(cell(values, "activity_id"))
        verdict_text = _cell_text(cell(values, "verdict"))
        if not activity_id:
            if verdict_text:
                problem(row_number, header_of("activity_id"), None, "activity ID is empty")
            continue
        candidates = issued.get(activity_id)
        if not candidates:
            problem(
                row_number,
                header_of("activity_id"),
                activity_id,
                "is not in any issued verification sample (mistyped, or a row copied from elsewhere?)",
            )
            continue
        week_text = _cell_text(cell(values, "week_label"))
        if week_text:
            matching = [s for s in candidates if s["week_label"] == week_text]
            if not matching:
                issued_weeks = ", ".join(sorted(s["week_label"] for s in candidates))
                problem(
                    row_number,
                    header_of("week_label"),
                    week_text,
                    f"activity {activity_id} was sampled in week {issued_weeks}, not this week",
                )
                continue
            sample = matching[0]
        elif len(candidates) == 1:
            sample = candidates[0]
        else:
            problem(
                row_number,
                header_of("activity_id"),
                activity_id,
                "was sampled in several weeks: fill in the week column",
            )
            continue
        if not verdict_text:
            pending += 1
            continue
        verdict = VERDICTS.get(verdict_text.casefold())
        if verdict is None:
            problem(
                row_number,
                header_of("verdict"),
                verdict_text,
                "is not a verdict: expected 真实, 虚假 or 无法核实 (confirmed / fake / unverifiable)",
            )
            continue
        try:
            verified_at = parse_verified_at(cell(values, "verified_at"))
        except ValueError:
            problem(
                row_number,
                header_of("verified_at"),
                cell(values, "verified_at"),
                "is not a date/time: expected YYYY-MM-DD or YYYY-MM-DD HH:MM",
            )
            continue
        if activity_id in first_row_of:
            problem(
                row_number,
                header_of("activity_id"),
                activity_id,
                f"appears twice (first in row {first_row_of[activity_id]}): keep one row per activity",
            )
            continue
        first_row_of[activity_id] = row_number
        rows.append(
            {
                "activity_id": activity_id,
                "week_start_date": sample["week_start_date"],
                "week_label": sample["week_label"],
                "manager_id": sample["manager_id"],
                "manager_name": sample["manager_name"],
                "rep_id": sample["rep_id"],
                "rep_name": sample["rep_name"],
                "activity_at": sample["activity_at"],
                "activity_type": sample["activity_type"],
                "stratum": sample["stratum"],
                "inclusion_probability": sample["inclusion_probability"],
                "verdict": verdict,
                "verdict_text": verdict_text,
                "note": _cell_text(cell(values, "note")) or None,
                "verified_by": _cell_text(cell(values, "verified_by")) or None,
                "verified_at": verified_at,
                "_row_number": row_number,
            }
        )
    return _ParsedFile(rows, pending, problems[:MAX_PROBLEMS_PER_FILE])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _utc_naive(moment: datetime | None) -> datetime:
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _fetch_dicts(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def verdict_files(folder: Path) -> list[Path]:
    """The CSV and Excel files in the folder, by name (Excel's lock files '~$...' left out)."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in VERDICT_SUFFIXES and not p.name.startswith(("~$", "."))
    )


def load_verdicts(
    warehouse: str | Path,
    folder: str | Path,
    archive_dir: str | Path | None = None,
    *,
    strict: bool = False,
    loaded_at: datetime | None = None,
) -> VerdictLoadReport:
    """Load the returned verification files of `folder` into raw_manual.verification_verdicts.

    Each file is loaded once (by SHA-256; a renamed copy is skipped, an edited file loads again and its
    verdicts replace the earlier ones in quality.verification_verdicts). A file with any problem is not
    loaded at all and is listed in `report.rejected` with the file, row and column of each problem;
    the other files are loaded. With `strict=True` any problem raises VerdictFileError and nothing is
    loaded. Originals are copied unchanged to <archive>/manual/verification_verdicts/ when an archive
    folder is given.
    """
    folder = Path(folder)
    report = VerdictLoadReport()
    stamp = _utc_naive(loaded_at)
    con = duckdb.connect(str(warehouse))
    try:
        ensure_tables(con)
        known = {r[0] for r in con.execute(f"select file_sha256 from {FILES_TABLE}").fetchall()}
        issued: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in _fetch_dicts(con, f"select * from {SAMPLE_TABLE}"):
            issued[row["activity_id"]].append(row)

        parsed: list[tuple[Path, str, _ParsedFile]] = []
        for path in verdict_files(folder):
            sha = _sha256(path)
            if sha in known:
                report.files_skipped_same_content.append(path.name)
                continue
            known.add(sha)  # two identical files in one run: load the first only
            result = parse_verdict_file(path, issued)
            if result.problems:
                report.rejected[path.name] = result.problems
            else:
                parsed.append((path, sha, result))
        if strict and report.rejected:
            raise VerdictFileError(report.problems)

        for path, sha, result in parsed:
            archived = None
            if archive_dir is not None:
                relative = ARCHIVE_SUBDIR / f"{path.stem}__{sha[:12]}{path.suffix.lower()}"
                target = Path(archive_dir) / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    shutil.copy2(path, target)
                archived = relative.as_posix()
            lineage = {"_source_file": path.name, "_file_sha256": sha, "_loaded_at": stamp}
            con.execute("begin transaction")
            try:
                if result.rows:
                    columns = [*result.rows[0], *lineage]
                    con.executemany(
                        f"insert into {VERDICTS_TABLE} ({', '.join(columns)}) "
                        f"values ({', '.join('?' * len(columns))})",
                        [[*row.values(), *lineage.values()] for row in result.rows],
                    )
                con.execute(
                    f"insert into {FILES_TABLE} values (?, ?, ?, ?, ?)",
                    [sha, path.name, len(result.rows), archived, stamp],
                )
                con.execute("commit")
            except Exception:
                con.execute("rollback")
                raise
            report.files_loaded.append(path.name)
            report.rows_loaded += len(result.rows)
            report.rows_pending += result.pending
    finally:
        con.close()
    return report
