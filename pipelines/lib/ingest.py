"""Load landing extracts into the warehouse's raw tables (raw_<system>.<entity>), one system at a time.

A delivery (one system's files for one extract date) loads completely or not at all, and so do all the
new deliveries of a system in one run. One call of `ingest_system`:
1. reads the system's manifests and finds the new deliveries: a delivery is new when a file it lists
   has another SHA-256 than the one loaded for that entity and date (only those files are hashed);
   files whose manifest has not arrived are reported as waiting, not read;
2. refuses a new delivery that is incomplete (a listed file missing or with another SHA-256), whose
   extract date is after today (Asia/Shanghai) or before the system's first loaded delivery, or whose
   files break the contract: unreadable (not UTF-8 text, an Excel workbook, over-long lines), header
   columns, fields per line, row count vs the manifest, control characters, over-long values, then the
   entity's Great Expectations suite (quality/expectations.py: required, types, allowed values,
   patterns, min/max, primary key unique per file);
3. when anything was refused, raises DeliveryRefused listing every problem of every refused delivery,
   naming file, row, line, column and value, and loads nothing of the system;
4. otherwise copies each new file's original bytes to the archive and, in ONE transaction, applies the
   operator's pending removals (`salesreview remove-day`), replaces corrected days' rows, inserts the
   new rows with their lineage columns and records every file in raw_meta.loaded_files.

Raw values are stored as text exactly as in the file, except that an empty field (quoted or not)
is stored as NULL. `_loaded_at` is UTC without a time zone.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from pipelines.lib.file_diagnosis import diagnose_text, sniff_format
from pipelines.lib.landing import (
    dates_without_manifest,
    file_problem,
    list_extract_dates,
    read_manifest,
    sha256_of,
)
from pipelines.lib.warehouse import create_raw_tables
from quality.contract import Contract, Entity
from quality.expectations import SuiteResult, validate_frame

LOADED_FILES_TABLE = "raw_meta.loaded_files"
LOADED_FILES_DDL = f"""
create table if not exists {LOADED_FILES_TABLE} (
  system varchar not null,
  entity varchar not null,
  extract_date date not null,
  source_file varchar not null,     -- path relative to the landing folder
  file_sha256 varchar not null,
  row_count integer not null,
  archived_path varchar not null,   -- path relative to the archive folder
  loaded_at timestamp not null,     -- UTC
  primary key (system, entity, extract_date)
)"""
REMOVED_DELIVERIES_TABLE = "raw_meta.removed_deliveries"
REMOVED_DELIVERIES_DDL = f"""
create table if not exists {REMOVED_DELIVERIES_TABLE} (
  system varchar not null,
  extract_date date not null,
  rows_removed bigint not null,
  reason varchar,
  requested_at timestamp,           -- UTC, when the operator asked
  removed_at timestamp not null     -- UTC, the build that applied it
)"""

DELIVERY_TIMEZONE = ZoneInfo("Asia/Shanghai")  # extract dates are China dates
MAX_LINE_BYTES = 2_000_000  # DuckDB's default max_line_size; a longer line is refused
MAX_VALUE_CHARS = 32_767  # the most an Excel cell holds: no real CRM/ERP field is longer
# C0 control characters and DEL, except tab, line feed and carriage return (multi-line notes are fine).
CONTROL_CHARACTERS = "[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]"
MAX_PROBLEMS_PER_FILE = 20
MAX_FILES_IN_MESSAGE = 5
WHAT_TO_DO = (
    "What to do: have the source system re-export the file(s) so they match quality/contract/extracts.yml "
    "and deliver them again with a new manifest (or, if the contract itself is wrong, change extracts.yml); "
    "then run the build again."
)

_REJECT_TEXT = {
    "TOO MANY COLUMNS": "the line has more fields than the header",
    "MISSING COLUMNS": "the line has fewer fields than the header",
    "UNQUOTED VALUE": "a value contains a quote but is not quoted properly",
    "INVALID ENCODING": "the line is not valid UTF-8",
    "LINE SIZE OVER MAXIMUM": "the line is too long",
}


def today_in_china() -> date:
    return datetime.now(DELIVERY_TIMEZONE).date()


@dataclass(frozen=True)
class ContractProblem:
    """One way a file breaks the contract. row_number None = the header or the file as a whole."""

    source_file: str  # relative to the landing folder
    row_number: int | None  # 1 = first data row after the header
    line_number: int | None  # physical line in the file (1 = header)
    column: str | None
    value: str | None
    problem: str
    detail: str | None = None

    @property
    def where(self) -> str:
        if self.row_number is None:
            if self.line_number == 1:
                return "header (line 1)"
            return f"line {self.line_number}" if self.line_number else "whole file"
        return f"row {self.row_number} (line {self.line_number})"

    def describe(self) -> str:
        column = f", column {self.column}" if self.column else ""
        value = f" {_show(self.value)}" if self.value is not None else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.source_file}, {self.where}{column}:{value} {self.problem}{detail}"


class ExtractContractError(ValueError):
    """New extract files of an entity break the contract."""

    def __init__(
        self,
        entity: Entity,
        problems: list[ContractProblem],
        problem_counts: dict[str, int],
        most_common: list[tuple[str | None, str, int]] = (),
        files_checked: int = 0,
        rows_checked: int = 0,
    ):
        self.entity = entity
        self.problems = problems  # the problems shown (at most MAX_PROBLEMS_PER_FILE per file)
        self.problem_counts = problem_counts  # source_file -> number of problems found in it
        self.files_checked = files_checked  # new files in this run
        self.rows_checked = rows_checked  # rows the expectation suite ran on
        self.most_common = list(most_common)
        super().__init__(_format_error(entity, problems, problem_counts, self.most_common))


@dataclass(frozen=True)
class DeliveryProblem:
    """A problem of a delivery as a whole: its manifest, a missing or changed file, its date."""

    system: str
    extract_date: str
    problem: str

    def describe(self) -> str:
        return f"{self.system} {self.extract_date}: {self.problem}"


class DeliveryRefused(ValueError):
    """New deliveries of a system were refused; nothing of the system was loaded."""

    def __init__(
        self,
        system: str,
        refused_dates: list[str],
        delivery_problems: list[DeliveryProblem],
        entity_errors: dict[str, ExtractContractError],
    ):
        self.system = system
        self.refused_dates = refused_dates
        self.delivery_problems = delivery_problems
        self.entity_errors = entity_errors
        super().__init__(self.summary())

    def summary(self) -> str:
        dates = ", ".join(self.refused_dates)
        problems = len(self.delivery_problems) + sum(
            sum(e.problem_counts.values()) for e in self.entity_errors.values()
        )
        deliveries = "delivery" if len(self.refused_dates) == 1 else "deliveries"
        return (
            f"{self.system}: {len(self.refused_dates)} new {deliveries} refused ({dates}), "
            f"{problems} problem(s); nothing of {self.system} was loaded."
        )

    def describe_deliveries(self) -> str:
        """The delivery-level problems, one per line (the files' problems are the entity errors)."""
        return "\n".join(p.describe() for p in self.delivery_problems)

    def __str__(self) -> str:
        parts = [self.summary()]
        if self.delivery_problems:
            parts.append(self.describe_deliveries())
        parts += [str(e) for e in self.entity_errors.values()]
        return "\n\n".join(parts)


@dataclass
class IngestReport:
    """What one ingest did for one entity. files_loaded counts every file loaded in this run;
    files_replaced is how many of them were corrections replacing an earlier load of the same date."""

    system: str
    entity: str
    files_loaded: int = 0
    files_replaced: int = 0
    files_skipped_same_content: int = 0
    rows_loaded: int = 0
    rows_checked: int = 0  # rows the expectation suite ran on (the new files' rows)
    expectations_checked: int = 0  # expectations in the entity's suite, 0 when no new rows

    @property
    def raw_table(self) -> str:
        return f"raw_{self.system}.{self.entity}"

    def to_metadata(self) -> dict:
        meta = asdict(self)
        del meta["system"], meta["entity"]
        return {"raw_table": self.raw_table, **meta}


@dataclass
class SystemIngestReport:
    """What one ingest did for one system."""

    system: str
    entities: dict[str, IngestReport] = field(default_factory=dict)
    deliveries_loaded: list[str] = field(default_factory=list)  # extract dates loaded (new or corrected)
    waiting: dict[str, int] = field(default_factory=dict)  # date -> files whose manifest has not arrived
    removed: list[str] = field(default_factory=list)  # extract dates removed on the operator's request

    def describe_waiting(self) -> list[str]:
        return [
            f"{self.system} {day}: {n} file(s) delivered but no manifest yet (export not finished?)"
            for day, n in self.waiting.items()
        ]


@dataclass(frozen=True)
class LandedFile:
    """One entity's file in a complete delivery."""

    system: str
    entity: str
    extract_date: str
    source_file: str  # relative to the landing folder, as in the manifest
    path: Path
    sha256: str
    rows: int  # data rows, as counted by the exporter's manifest

    @property
    def archive_name(self) -> str:
        return f"{self.system}/{self.entity}/{self.extract_date}__{self.sha256[:12]}.csv"


@dataclass(frozen=True)
class Removal:
    """An operator's request to take a loaded day out (`salesreview remove-day`)."""

    system: str
    extract_date: str
    reason: str | None = None
    requested_at: datetime | None = None


# --------------------------------------------------------------------------- public API


def ensure_ingest_tables(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    create_raw_tables(con, contract)
    con.execute("create schema if not exists raw_meta")
    con.execute(LOADED_FILES_DDL)
    con.execute(REMOVED_DELIVERIES_DDL)


def _has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchone()[0]
    )


def first_extract_date(con: duckdb.DuckDBPyConnection, system: str | None = None) -> date | None:
    """The earliest extract date loaded (of one system, or of any), None when nothing is loaded."""
    if not _has_table(con, LOADED_FILES_TABLE):
        return None
    where, params = ("where system = ?", [system]) if system else ("", [])
    return con.execute(f"select min(extract_date) from {LOADED_FILES_TABLE} {where}", params).fetchone()[0]


def ingest_system(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    system: str,
    landing_dir: Path,
    archive_dir: Path,
    *,
    today: date | None = None,
    removals: Sequence[Removal] = (),
    loaded_at: datetime | None = None,
) -> SystemIngestReport:
    """Load the system's new and corrected deliveries, all or nothing. See the module docstring."""
    ensure_ingest_tables(con, contract)
    loaded_at = _utc_naive(loaded_at)
    removals = [r for r in removals if r.system == system]
    removed_dates = {r.extract_date for r in removals}
    loaded = _loaded_files(con, system, removed_dates)
    first_loaded = min((day for _, day in loaded), default=None)
    report = SystemIngestReport(system=system, waiting=dates_without_manifest(landing_dir, contract, system))
    new_files, skipped, delivery_problems, refused = _find_new_files(
        landing_dir, contract, system, loaded, today or today_in_china(), first_loaded
    )
    entities = contract.entities_of(system)
    staged: dict[str, list[LandedFile]] = {}
    rows_written: dict[tuple[str, str], int] = {}
    entity_errors: dict[str, ExtractContractError] = {}
    try:
        for entity in entities:
            files = [f for f in new_files if f.entity == entity.name and f.extract_date not in refused]
            entity_report = IngestReport(
                system, entity.name, files_skipped_same_content=skipped.get(entity.name, 0)
            )
            report.entities[entity.name] = entity_report
            if not files:
                continue
            stage_table = _stage_table(entity)
            _stage(con, entity, files, stage_table)
            checked, error = _check_contract(con, entity, files, stage_table)
            entity_report.rows_checked = checked.rows
            entity_report.expectations_checked = checked.expectations
            if error is not None:
                entity_errors[entity.name] = error
            staged[entity.name] = files
        refused_dates = sorted(
            set(refused)
            | {
                f.extract_date
                for e in entity_errors.values()
                for f in new_files
                if f.entity == e.entity.name and f.source_file in e.problem_counts
            }
        )
        if delivery_problems or entity_errors:
            raise DeliveryRefused(system, refused_dates, delivery_problems, entity_errors)
        all_new = [f for files in staged.values() for f in files]
        archived = {(f.entity, f.extract_date): _archive(f, archive_dir) for f in all_new}
        rows_written = _write(con, contract, system, staged, archived, removals, loaded_at)
    finally:
        for entity in entities:
            con.execute(f"drop table if exists {_stage_table(entity)}")
        _drop_temp_tables(con)
    for name, files in staged.items():
        entity_report = report.entities[name]
        entity_report.files_loaded = len(files)
        entity_report.files_replaced = sum((name, f.extract_date) in loaded for f in files)
        entity_report.rows_loaded = sum(rows_written.get((name, f.extract_date), 0) for f in files)
    report.deliveries_loaded = sorted({f.extract_date for files in staged.values() for f in files})
    report.removed = sorted(removed_dates)
    return report


def ingest_all(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    landing_dir: Path,
    archive_dir: Path,
    *,
    today: date | None = None,
    loaded_at: datetime | None = None,
) -> list[SystemIngestReport]:
    """Ingest every system (each all or nothing). Raises the first DeliveryRefused."""
    return [
        ingest_system(con, contract, system, landing_dir, archive_dir, today=today, loaded_at=loaded_at)
        for system in contract.systems
    ]


# --------------------------------------------------------------------------- finding new deliveries


def _loaded_files(
    con: duckdb.DuckDBPyConnection, system: str, removed_dates: set[str]
) -> dict[tuple[str, str], str]:
    """(entity, extract date) -> SHA-256 of the file loaded, without the days being removed."""
    rows = con.execute(
        f"select entity, strftime(extract_date, '%Y-%m-%d'), file_sha256 from {LOADED_FILES_TABLE} "
        "where system = ?",
        [system],
    ).fetchall()
    return {(entity, day): sha for entity, day, sha in rows if day not in removed_dates}


def _find_new_files(
    landing_dir: Path,
    contract: Contract,
    system: str,
    loaded: dict[tuple[str, str], str],
    today: date,
    first_loaded: str | None,
) -> tuple[list[LandedFile], dict[str, int], list[DeliveryProblem], set[str]]:
    """New and corrected files of complete deliveries; per entity, the files loaded before with the same
    content; the problems of the new deliveries that are not complete or not plausible; the dates
    refused for those problems."""
    new_files: list[LandedFile] = []
    skipped: dict[str, int] = defaultdict(int)
    problems: list[DeliveryProblem] = []
    refused: set[str] = set()

    def refuse(day: str, problem: str) -> None:
        problems.append(DeliveryProblem(system, day, problem))
        refused.add(day)

    for day in list_extract_dates(landing_dir, contract, system):
        manifest = read_manifest(landing_dir, contract, system, day)
        if manifest.problems:
            for problem in manifest.problems:
                refuse(day, problem)
            continue
        entities = [e.name for e in contract.entities_of(system)]
        changed = {
            e: manifest.files[e] for e in entities if loaded.get((e, day)) != manifest.files[e]["sha256"]
        }
        for entity in set(entities) - set(changed):
            skipped[entity] += 1
        if not changed:
            continue  # loaded before, unchanged: not even hashed again
        extract_date = date.fromisoformat(day)
        if extract_date > today:
            refuse(
                day,
                f"the extract date is after today ({today}, Asia/Shanghai): a misdated export? "
                f"Have the source re-export it with the right date; to take these files away run "
                f"`salesreview remove-day --system {system} --date {day}`",
            )
            continue
        if first_loaded is not None and day < first_loaded:
            refuse(
                day,
                f"the extract date is before the first {system} delivery loaded ({first_loaded}): "
                f"a misdated export? To take these files away run "
                f"`salesreview remove-day --system {system} --date {day}`",
            )
            continue
        missing = [p for meta in changed.values() if (p := file_problem(landing_dir, meta))]
        if missing:
            for problem in missing:
                refuse(day, f"incomplete delivery: {problem}; deliver the file(s) again, then the manifest")
            continue
        new_files += [
            LandedFile(
                system=system,
                entity=entity,
                extract_date=day,
                source_file=meta["path"],
                path=landing_dir / meta["path"],
                sha256=meta["sha256"],
                rows=int(meta["rows"]),
            )
            for entity, meta in changed.items()
        ]
    return new_files, skipped, problems, refused


def _utc_naive(moment: datetime | None) -> datetime:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


# --------------------------------------------------------------------------- the load


def _stage_table(entity: Entity) -> str:
    return f"_ingest_stage__{entity.system}__{entity.name}"


def _write(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    system: str,
    staged: dict[str, list[LandedFile]],
    archived: dict[tuple[str, str], str],
    removals: Sequence[Removal],
    loaded_at: datetime,
) -> dict[tuple[str, str], int]:
    """Apply the removals, replace corrected days' rows and insert the new rows: one transaction.
    Returns the rows written per (entity, extract date)."""
    rows_written: dict[tuple[str, str], int] = {}
    con.begin()
    try:
        for removal in removals:
            rows_removed = 0
            for entity in contract.entities_of(system):
                (n,) = con.execute(
                    f"select count(*) from {entity.raw_table} where _extract_date = ?", [removal.extract_date]
                ).fetchone()
                rows_removed += n
                con.execute(f"delete from {entity.raw_table} where _extract_date = ?", [removal.extract_date])
            con.execute(
                f"delete from {LOADED_FILES_TABLE} where system = ? and extract_date = ?",
                [system, removal.extract_date],
            )
            con.execute(
                f"insert into {REMOVED_DELIVERIES_TABLE} values (?, ?, ?, ?, ?, ?)",
                [system, removal.extract_date, rows_removed, removal.reason, removal.requested_at, loaded_at],
            )
        for name, files in staged.items():
            entity = contract.entity(name)
            stage_table = _stage_table(entity)
            files_df = pd.DataFrame(
                {
                    "path": [str(f.path) for f in files],
                    "source_file": [f.source_file for f in files],
                    "file_sha256": [f.sha256 for f in files],
                    "extract_date": [f.extract_date for f in files],
                    "archived_path": [archived[(name, f.extract_date)] for f in files],
                }
            )
            con.register("_ingest_files_df", files_df)
            try:
                con.execute(
                    "create or replace temp table _ingest_files as select * replace "
                    "(cast(extract_date as date) as extract_date) from _ingest_files_df"
                )
            finally:
                con.unregister("_ingest_files_df")
            columns = ", ".join(_ident(c) for c in entity.column_names)
            staged_columns = ", ".join(f"s.{_ident(c)}" for c in entity.column_names)
            con.execute(
                f"delete from {entity.raw_table} "
                "where _extract_date in (select extract_date from _ingest_files)"
            )
            con.execute(
                f"""
                insert into {entity.raw_table}
                    ({columns}, _source_file, _file_sha256, _extract_date, _row_number, _loaded_at)
                select {staged_columns}, f.source_file, f.file_sha256, f.extract_date, s._row_number, ?
                from {stage_table} s join _ingest_files f on s._path = f.path
                """,
                [loaded_at],
            )
            con.execute(
                f"""
                insert or replace into {LOADED_FILES_TABLE}
                select ?, ?, f.extract_date, f.source_file, f.file_sha256, coalesce(n.rows, 0),
                       f.archived_path, ?
                from _ingest_files f
                left join (select _path, count(*) as rows from {stage_table} group by _path) n
                  on n._path = f.path
                """,
                [system, name, loaded_at],
            )
            for day, rows in con.execute(
                f"select strftime(f.extract_date, '%Y-%m-%d'), count(s._path) from _ingest_files f "
                f"left join {stage_table} s on s._path = f.path group by 1"
            ).fetchall():
                rows_written[(name, day)] = rows
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return rows_written


def _archive(f: LandedFile, archive_dir: Path) -> str:
    """Copy the original bytes to the archive (idempotent: the name carries the content hash)."""
    dest = archive_dir / f.archive_name
    if dest.exists() and sha256_of(dest) == f.sha256:
        return f.archive_name
    data = f.path.read_bytes()
    if _sha256_bytes(data) != f.sha256:
        raise RuntimeError(
            f"{f.source_file} changed while it was being loaded (SHA-256 no longer matches its manifest); "
            "nothing was loaded - run the build again once the delivery is complete."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, dest)  # atomic: the archive never holds a half-written file
    return f.archive_name


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- reading and checking

_PROBLEMS_DDL = (
    "create or replace temp table _ingest_problems (_path varchar, _row_number bigint, _line_number bigint, "
    "column_name varchar, column_index integer, value varchar, problem varchar, detail varchar)"
)


def _stage(con: duckdb.DuckDBPyConnection, entity: Entity, files: list[LandedFile], stage_table: str) -> None:
    """Read the files into temp table `stage_table` (contract columns as text, _path, _row_number).

    A file that is not CSV text (an Excel workbook, UTF-16, ...) or whose header does not have the
    contract's columns goes to _ingest_problems and is not read. Files are grouped by header so a file
    with the contract's columns in another order still reads correctly; normally there is one group,
    i.e. one read_csv call over all files.
    """
    con.execute(_PROBLEMS_DDL)
    column_defs = ", ".join(f"{_ident(c)} varchar" for c in entity.column_names)
    con.execute(f"create or replace temp table _ingest_read ({column_defs}, _path varchar)")
    _drop_rejects(con)
    groups: dict[tuple[str, ...], list[LandedFile]] = defaultdict(list)
    file_problems = []
    for f in files:
        with open(f.path, "rb") as handle:
            sniffed = sniff_format(handle.read(4096))
        if sniffed is not None:
            file_problems.append(
                (str(f.path), None, sniffed.line_number, None, -1, None, sniffed.problem, sniffed.what_to_do)
            )
            continue
        header = _read_header(f.path)
        problems = _header_problems(entity, header)
        if problems:
            file_problems += [
                (str(f.path), None, 1, col, idx, None, text, None) for col, idx, text in problems
            ]
        else:
            groups[tuple(header)].append(f)
    if file_problems:
        con.executemany("insert into _ingest_problems values (?, ?, ?, ?, ?, ?, ?, ?)", file_problems)
    select = ", ".join(_ident(c) for c in entity.column_names)
    for header, group in groups.items():
        columns = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in header) + "}"
        try:
            con.execute(_read_csv_sql(select, columns, group))
        except duckdb.Error:
            # Rejects catch bad lines; anything else is found by reading the group's files one by one.
            for f in group:
                try:
                    con.execute(_read_csv_sql(select, columns, [f]))
                except duckdb.Error as error:
                    con.execute(
                        "insert into _ingest_problems values (?, null, null, null, -1, null, ?, ?)",
                        [str(f.path), "DuckDB cannot read the file as CSV", str(error)],
                    )
    # Insertion order is file order, so rowid numbers each file's rows in file order.
    con.execute(
        f"create or replace temp table {stage_table} as select *, "
        "row_number() over (partition by _path order by rowid) as _row_number from _ingest_read"
    )
    con.execute("drop table _ingest_read")


def _read_csv_sql(select: str, columns: str, files: list[LandedFile]) -> str:
    paths = "[" + ", ".join(_lit(str(f.path)) for f in files) + "]"
    # auto_detect=false: no sniffing of every file; the header was checked before.
    return (
        f"insert into _ingest_read select {select}, _path from read_csv({paths}, columns={columns}, "
        "header=true, auto_detect=false, delim=',', quote='\"', escape='\"', filename='_path', "
        f"max_line_size={MAX_LINE_BYTES}, "
        "store_rejects=true, rejects_table='_ingest_rejects', rejects_scan='_ingest_reject_scans')"
    )


def _read_header(path: Path) -> list[str] | None:
    """The header's column names (None for an empty file); bytes that are not UTF-8 read as U+FFFD."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        return next(csv.reader(f), None)


def _header_problems(entity: Entity, header: list[str] | None) -> list[tuple[str | None, int, str]]:
    """(column, column index, problem) for a header that does not have exactly the contract's columns."""
    if header is None:
        return [(None, -1, "the file is empty; even a file without rows needs the header line")]
    expected = entity.column_names
    problems = [(c, i, "column missing from the header") for i, c in enumerate(expected) if c not in header]
    problems += [
        (c, -1, "unexpected column in the header (not in the contract)") for c in header if c not in expected
    ]
    problems += [
        (c, -1, "column appears more than once in the header")
        for c in sorted(set(header))
        if header.count(c) > 1
    ]
    return problems


def _drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table if exists _ingest_rejects")
    con.execute("drop table if exists _ingest_reject_scans")


def _drop_temp_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("_ingest_read", "_ingest_files", "_ingest_problems", "_ingest_unreadable"):
        con.execute(f"drop table if exists {table}")
    _drop_rejects(con)


def _check_contract(
    con: duckdb.DuckDBPyConnection, entity: Entity, files: list[LandedFile], stage_table: str
) -> tuple[SuiteResult, ExtractContractError | None]:
    """Every contract problem of the staged files: how they read, their text, then the GX suite."""
    _collect_parse_problems(con, files, stage_table)
    _collect_text_problems(con, entity, stage_table)
    checked = _collect_value_problems(con, entity, stage_table)
    by_path = {str(f.path): f for f in files}
    counts = {
        by_path[path].source_file: n
        for path, n in con.execute("select _path, count(*) from _ingest_problems group by _path").fetchall()
    }
    if not counts:
        return checked, None
    shown = con.execute(
        f"""
        select _path, _row_number, _line_number, column_name, value, problem, detail
        from _ingest_problems
        where _path in (
            select distinct _path from _ingest_problems order by _path limit {MAX_FILES_IN_MESSAGE}
        )
        qualify row_number() over (
                    partition by _path order by _row_number nulls first, _line_number, column_index
                ) <= {MAX_PROBLEMS_PER_FILE}
        order by _path, _row_number nulls first, _line_number, column_index
        """
    ).fetchall()
    most_common = con.execute(
        "select column_name, problem, count(*) as n from _ingest_problems "
        "group by all order by n desc, 1, 2 limit 5"
    ).fetchall()
    rows_by_path: dict[str, set[int]] = defaultdict(set)
    for path, row, *_ in shown:
        if row is not None:
            rows_by_path[path].add(row)
    lines = {path: _lines_of_rows(Path(path), rows) for path, rows in rows_by_path.items()}
    problems = [
        ContractProblem(
            source_file=by_path[path].source_file,
            row_number=row,
            line_number=lines[path].get(row) if row is not None else line,
            column=column,
            value=value,
            problem=problem,
            detail=detail,
        )
        for path, row, line, column, value, problem, detail in shown
    ]
    return checked, ExtractContractError(entity, problems, counts, most_common, len(files), checked.rows)


def _collect_parse_problems(
    con: duckdb.DuckDBPyConnection, files: list[LandedFile], stage_table: str
) -> None:
    """Lines DuckDB could not split into the header's fields, files it could not read (named for what
    they are: GBK text, over-long lines, ...), and row counts that differ from the manifest."""
    has_rejects = con.execute(
        "select count(*) from duckdb_tables() where temporary and table_name = '_ingest_rejects'"
    ).fetchone()[0]
    if has_rejects:
        cases = " ".join(f"when {_lit(k)} then {_lit(v)}" for k, v in _REJECT_TEXT.items())
        # DuckDB's "line" counts CSV records including the header, so data row = line - 1.
        con.execute(
            f"""
            insert into _ingest_problems
            select s.file_path, e.line - 1, null, e.column_name, -1, null,
                   coalesce(case cast(e.error_type as varchar) {cases} end, cast(e.error_type as varchar)),
                   e.error_message
            from _ingest_rejects e join _ingest_reject_scans s using (scan_id, file_id)
            """
        )
    # A file that is not UTF-8 fails on every line, an over-long value in a multi-byte text can make
    # DuckDB fail without a line: say once what the file is instead.
    suspicious = con.execute(
        "select distinct _path from _ingest_problems where problem in (?, ?, ?)",
        [
            _REJECT_TEXT["INVALID ENCODING"],
            _REJECT_TEXT["LINE SIZE OVER MAXIMUM"],
            "DuckDB cannot read the file as CSV",
        ],
    ).fetchall()
    for (path,) in suspicious:
        diagnosed = diagnose_text(Path(path), MAX_LINE_BYTES)
        if not diagnosed:
            continue
        con.execute("delete from _ingest_problems where _path = ?", [path])
        con.executemany(
            "insert into _ingest_problems values (?, null, ?, null, -1, null, ?, ?)",
            [
                [path, d.line_number, d.problem, "; ".join(filter(None, [d.detail, d.what_to_do]))]
                for d in diagnosed
            ],
        )
    # Snapshot the files that already have problems: an insert must not read the table it writes to.
    con.execute(
        "create or replace temp table _ingest_unreadable as select distinct _path from _ingest_problems"
    )
    files_df = pd.DataFrame({"path": [str(f.path) for f in files], "manifest_rows": [f.rows for f in files]})
    con.register("_ingest_manifest_rows", files_df)
    try:
        con.execute(
            f"""
            insert into _ingest_problems
            select m.path, null, null, null, -1, null,
                   'the number of data rows read differs from the manifest',
                   'read ' || coalesce(r.n, 0) || ', manifest lists ' || m.manifest_rows
                   || '; blank lines in the file are the usual cause, they are not allowed'
            from _ingest_manifest_rows m
            left join (select _path, count(*) as n from {stage_table} group by _path) r on r._path = m.path
            where coalesce(r.n, 0) <> m.manifest_rows
              and m.path not in (select _path from _ingest_unreadable)
            """
        )
    finally:
        con.unregister("_ingest_manifest_rows")


def _collect_text_problems(con: duckdb.DuckDBPyConnection, entity: Entity, stage_table: str) -> None:
    """Control characters (a NUL in a name breaks every Excel export) and values longer than a cell."""
    checks = []
    for index, name in enumerate(entity.column_names):
        col = _ident(name)
        checks.append(
            f"select _path, _row_number, null, {_lit(name)}, {index}, {col}, "
            f"'contains a control character (' || printf('U+%04X', unicode(regexp_extract({col}, "
            f"'{CONTROL_CHARACTERS}'))) || ') that text must not hold', "
            "'remove it in the source system and export the file again' "
            f"from {stage_table} where regexp_matches({col}, '{CONTROL_CHARACTERS}') "
            "and _path not in (select _path from _ingest_unreadable)"
        )
        checks.append(
            f"select _path, _row_number, null, {_lit(name)}, {index}, left({col}, 60), "
            f"'is ' || length({col}) || ' characters long, more than the {MAX_VALUE_CHARS:,} an Excel cell "
            "holds', 'a value this long is an export error (a field that swallowed the rest of the file?)' "
            f"from {stage_table} where length({col}) > {MAX_VALUE_CHARS} "
            "and _path not in (select _path from _ingest_unreadable)"
        )
    con.execute("insert into _ingest_problems " + " union all ".join(checks))


def _collect_value_problems(con: duckdb.DuckDBPyConnection, entity: Entity, stage_table: str) -> SuiteResult:
    """Run the entity's Great Expectations suite (quality/expectations.py) on one batch holding all
    staged rows, and add what it finds to _ingest_problems.

    Files that already have a parse problem are left out: their row numbering cannot be trusted.
    """
    columns = ", ".join(_ident(c) for c in entity.column_names)
    frame = con.execute(
        f"select {columns}, _path, _row_number from {stage_table} "
        "where _path not in (select _path from _ingest_unreadable)"
    ).df()
    result = validate_frame(entity, frame)
    if result.failures:
        found = pd.DataFrame(
            {
                "_path": [f.path for f in result.failures],
                "_row_number": [f.row_number for f in result.failures],
                "_line_number": [None for _ in result.failures],
                "column_name": [f.column for f in result.failures],
                "column_index": [f.column_index for f in result.failures],
                "value": [f.value for f in result.failures],
                "problem": [f.problem for f in result.failures],
                "detail": [f.detail for f in result.failures],
            }
        )
        con.register("_ingest_found", found)
        try:
            # One problem per value: a control character or an over-long value was said already.
            con.execute(
                "insert into _ingest_problems select * from _ingest_found f where not exists ("
                "select 1 from _ingest_problems p where p._path = f._path and p._row_number = f._row_number "
                "and p.column_name = f.column_name)"
            )
        finally:
            con.unregister("_ingest_found")
    return result


def _lines_of_rows(path: Path, rows: set[int]) -> dict[int, int]:
    """Physical line where each data row starts (differs from row + 1 when values span lines)."""
    lines, last = {}, max(rows)
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)
        end_of_previous = reader.line_num
        for row_number, _ in enumerate(reader, start=1):
            if row_number in rows:
                lines[row_number] = end_of_previous + 1
            if row_number >= last:
                break
            end_of_previous = reader.line_num
    return lines


# --------------------------------------------------------------------------- formatting


def _format_error(
    entity: Entity,
    problems: list[ContractProblem],
    counts: dict[str, int],
    most_common: list[tuple[str | None, str, int]],
) -> str:
    """The first files' problems grouped by column and problem, then a count of the rest."""
    total = sum(counts.values())
    out = [f"{entity.raw_table}: {len(counts)} new file(s) break the extract contract ({total} problem(s))."]
    by_file: dict[str, list[ContractProblem]] = defaultdict(list)
    for p in problems:
        by_file[p.source_file].append(p)
    for source_file, file_problems in by_file.items():
        n = counts[source_file]
        shown = "" if n == len(file_problems) else f", first {len(file_problems)} shown"
        out.append(f"\n{source_file}: {n} problem(s){shown}")
        groups: dict[tuple[str | None, str], list[ContractProblem]] = defaultdict(list)
        for p in file_problems:
            groups[(p.column, p.problem)].append(p)
        for (column, problem), members in groups.items():
            out.append(f"  {'column ' + column if column else 'file'}: {problem}")
            for p in members:
                value = f" {_show(p.value)}" if p.value is not None else ""
                detail = f" ({p.detail})" if p.detail else ""
                if p.where == "whole file":
                    out += [f"    {p.detail}"] if p.detail else []
                else:
                    out.append(f"    {p.where}:{value}{detail}".rstrip(":"))
        if n > len(file_problems):
            out.append(f"  ... and {n - len(file_problems)} more problem(s) in this file")
    rest = sorted(set(counts) - set(by_file))
    if rest:
        out.append(
            f"\n... and {len(rest)} more file(s) with {sum(counts[f] for f in rest)} problem(s), "
            f"{rest[0]} to {rest[-1]}."
        )
        out.append("Most common problems over all files:")
        out += [f"  {n} x {'column ' + c if c else 'file'}: {p}" for c, p, n in most_common]
    out.append("\n" + WHAT_TO_DO)
    return "\n".join(out)


def _show(value: str | None) -> str:
    if value is None:
        return "(empty)"
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
