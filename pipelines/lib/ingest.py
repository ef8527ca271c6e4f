"""Load landing extracts into the warehouse's raw tables (raw_<system>.<entity>), one system at a time.

A delivery (one system's files for one extract date) loads completely or not at all, and so do all the
new deliveries of a system in one run; only single rows that break the contract are set aside. One call
of `ingest_system`:
1. reads the system's manifests (each once) and finds the new deliveries: a delivery is new when a
   file it lists has another SHA-256 than the one loaded for that entity and date (a file loaded before
   with the same SHA-256 is not opened); files whose manifest has not arrived are reported as waiting,
   not read. Each new file is read once from the landing folder: copied into the archive folder
   (`.partial`) while it is hashed; everything after reads that copy, the exact bytes that were hashed;
2. refuses a new delivery that is incomplete (a listed file missing or with another SHA-256), whose
   extract date is after today (Asia/Shanghai) or before the system's first loaded delivery, or with a
   file that cannot be read as the contract says: not UTF-8 text, an Excel workbook, over-long lines,
   header columns, fields per line, row count vs the manifest;
3. checks the values of the files that read well, row by row, in SQL over the staged rows (DuckDB,
   under the ingest's memory limit; no data is held in Python): control characters, over-long values,
   then the entity's contract rules (quality/contract_sql.py: required, types, allowed values,
   patterns, min/max; the same failures as the Great Expectations suite of quality/expectations.py,
   the reference, which the nightly build does not import) and the primary key unique per file. A row
   with such a problem is quarantined: it goes to raw_meta.rejected_rows (file, row, line, column,
   value, reason) and the rest of the file loads. When more than the entity's max_rejected_share
   (quality/contract/extracts.yml) of a file's rows break the contract, the file is refused instead;
4. when anything was refused, raises DeliveryRefused listing every problem of every refused file or
   delivery, naming file, row, line, column and value, and loads nothing of the system;
5. otherwise renames each new file's copy to its archive name (a refused delivery leaves nothing in the
   archive) and, in ONE transaction, applies the operator's pending removals (`salesreview
   remove-day`), replaces corrected days' rows (and their quarantined rows), inserts the new rows with
   their lineage columns and the quarantined rows, records every file in raw_meta.loaded_files (rows
   read = rows loaded + rows quarantined) and the manifest's `source` block in raw_meta.delivery_sources.

Raw values are stored as text exactly as in the file, except that an empty field (quoted or not)
is stored as NULL. `_loaded_at` is UTC without a time zone.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from pipelines.lib.file_diagnosis import diagnose_text, sniff_format
from pipelines.lib.landing import (
    dates_without_manifest,
    list_extract_dates,
    read_manifest,
    sha_mismatch_problem,
)
from pipelines.lib.warehouse import create_raw_tables
from quality.contract import Contract, Entity
from quality.contract_sql import contract_rules, duplicate_key_query, value_problems_query

LOADED_FILES_TABLE = "raw_meta.loaded_files"
LOADED_FILES_DDL = f"""
create table if not exists {LOADED_FILES_TABLE} (
  system varchar not null,
  entity varchar not null,
  extract_date date not null,
  source_file varchar not null,     -- path relative to the landing folder
  file_sha256 varchar not null,
  row_count integer not null,       -- rows loaded into the raw table
  archived_path varchar not null,   -- path relative to the archive folder
  loaded_at timestamp not null,     -- UTC
  rows_read integer,                -- data rows in the file = row_count + rows_quarantined
  rows_quarantined integer,         -- rows set aside in raw_meta.rejected_rows
  primary key (system, entity, extract_date)
)"""
# Warehouses made before rows were quarantined: every row read was loaded.
LOADED_FILES_MIGRATION = (
    f"alter table {LOADED_FILES_TABLE} add column if not exists rows_read integer",
    f"alter table {LOADED_FILES_TABLE} add column if not exists rows_quarantined integer",
    f"update {LOADED_FILES_TABLE} set rows_read = row_count, rows_quarantined = 0 where rows_read is null",
)
REJECTED_ROWS_TABLE = "raw_meta.rejected_rows"
REJECTED_ROWS_DDL = f"""
create table if not exists {REJECTED_ROWS_TABLE} (
  system varchar not null,
  entity varchar not null,
  extract_date date not null,
  source_file varchar not null,     -- path relative to the landing folder
  row_number bigint not null,       -- 1 = first data row after the header
  line_number bigint,               -- physical line where the row starts (1 = header)
  column_name varchar,              -- for a duplicated key: the key's columns
  value varchar,                    -- as delivered (the first 60 characters of an over-long value)
  problem varchar not null,         -- the reason, as in the refusal messages
  detail varchar,
  loaded_at timestamp not null      -- UTC
)"""
DELIVERY_SOURCES_TABLE = "raw_meta.delivery_sources"
DELIVERY_SOURCES_DDL = f"""
create table if not exists {DELIVERY_SOURCES_TABLE} (
  system varchar not null,
  extract_date date not null,
  profile varchar,                  -- the manifest's `source` block (profiles/FORMAT.md), null without one
  initial boolean not null,         -- a first load of history (`deliver --initial`)
  currency varchar,
  absent_entities varchar[],
  defaulted_columns varchar,        -- JSON: entity -> columns the profile filled with defaults
  source_files varchar,             -- JSON: entity -> the source export's file names
  source_block varchar,             -- JSON: the whole block, with any key not in a column above
  loaded_at timestamp not null,     -- UTC
  primary key (system, extract_date)
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
# DuckDB's memory limit while a system is ingested (DuckDB's own default is 80% of RAM): the temp tables
# the files are staged in spill to the temp directory next to the warehouse (`<warehouse>.tmp`) beyond
# it, so the ingest's memory does not grow with the files' size (every check is SQL over the staged
# rows; no data is held in Python). A DuckDB size: 512MB, 1GB, ... Not less than 256MB: reading a CSV
# file takes 32 MB buffers per thread.
INGEST_MEMORY_LIMIT_ENV = "SRW_INGEST_MEMORY_LIMIT"
DEFAULT_INGEST_MEMORY_LIMIT = "512MB"
QUARANTINE_EXAMPLES_PER_FILE = 3  # the rows set aside that a report names, per file
CONTRACT_FILE = "quality/contract/extracts.yml"
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
    """New extract files of an entity break the contract: they cannot be read as the contract says, or
    more of their rows break it than the entity's max_rejected_share allows."""

    def __init__(
        self,
        entity: Entity,
        problems: list[ContractProblem],
        problem_counts: dict[str, int],
        most_common: list[tuple[str | None, str, int]] = (),
        files_checked: int = 0,
        rows_checked: int = 0,
        share_notes: dict[str, str] | None = None,
    ):
        self.entity = entity
        self.problems = problems  # the problems shown (at most MAX_PROBLEMS_PER_FILE per file)
        self.problem_counts = problem_counts  # source_file -> number of problems found in it
        self.files_checked = files_checked  # new files in this run
        self.rows_checked = rows_checked  # rows the value rules were checked on
        self.most_common = list(most_common)
        # source_file -> why its rows were not quarantined instead (too many of them break the contract)
        self.share_notes = share_notes or {}
        super().__init__(_format_error(entity, problems, problem_counts, self.most_common, self.share_notes))


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
    rows_read: int = 0  # data rows of the files loaded = rows_loaded + rows_quarantined
    rows_loaded: int = 0
    rows_quarantined: int = 0  # rows set aside in raw_meta.rejected_rows
    rows_checked: int = 0  # rows the value rules were checked on (the new files' readable rows)
    expectations_checked: int = 0  # the entity's contract rules (quality/contract_sql.py), 0 when no new rows
    # source_file -> (rows quarantined, rows read), for the files loaded with rows set aside
    quarantined_files: dict[str, tuple[int, int]] = field(default_factory=dict)
    # the first rows set aside in each such file (at most QUARANTINE_EXAMPLES_PER_FILE, one per problem)
    quarantine_examples: list[ContractProblem] = field(default_factory=list)

    @property
    def raw_table(self) -> str:
        return f"raw_{self.system}.{self.entity}"

    def to_metadata(self) -> dict:
        meta = asdict(self)
        del meta["system"], meta["entity"], meta["quarantined_files"], meta["quarantine_examples"]
        return {"raw_table": self.raw_table, **meta}

    def describe_quarantine(self) -> str:
        """Which rows of the new files were set aside and why (empty when none was)."""
        if not self.rows_quarantined:
            return ""
        lines = [
            f"{self.raw_table}: {self.rows_quarantined} row(s) of {len(self.quarantined_files)} new file(s) "
            f"break the contract and were set aside in {REJECTED_ROWS_TABLE}; the rest loaded."
        ]
        lines += [
            f"- {source_file}: {quarantined} of {read} row(s) set aside"
            for source_file, (quarantined, read) in self.quarantined_files.items()
        ]
        lines.append("First reasons:")
        lines += [f"- {p.describe()}" for p in self.quarantine_examples]
        lines.append(
            "What to do: have the source system correct these rows and deliver the day again (the "
            "corrected files replace the day's rows and its quarantined rows)."
        )
        return "\n".join(lines)


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
    """One entity's file in a complete delivery. `path` is the copy in the archive folder (a `.partial`
    file until the delivery loads) whose bytes were checked against the manifest's SHA-256: the ingest
    reads that copy, not the landing file, so what is loaded is exactly what was hashed."""

    system: str
    entity: str
    extract_date: str
    source_file: str  # relative to the landing folder, as in the manifest; messages name this
    path: Path
    sha256: str
    rows: int  # data rows, as counted by the exporter's manifest

    @property
    def archive_name(self) -> str:
        return archive_name(self.system, self.entity, self.extract_date, self.sha256)


def archive_name(system: str, entity: str, extract_date: str, sha256: str) -> str:
    """Where a file goes in the archive, relative to it: the name carries the content hash."""
    return f"{system}/{entity}/{extract_date}__{sha256[:12]}.csv"


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
    for statement in LOADED_FILES_MIGRATION:
        con.execute(statement)
    con.execute(REMOVED_DELIVERIES_DDL)
    con.execute(REJECTED_ROWS_DDL)
    con.execute(DELIVERY_SOURCES_DDL)


def _has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchone()[0]
    )


def has_initial_delivery(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a first load of history (`deliver --initial`) is loaded: its rows count from their own
    dates, so an as-of build may go back before its extract date."""
    if not _has_table(con, DELIVERY_SOURCES_TABLE):
        return False
    return con.execute(f"select count(*) from {DELIVERY_SOURCES_TABLE} where initial").fetchone()[0] > 0


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
    dates: tuple[str, str] | None = None,
) -> SystemIngestReport:
    """Load the system's new and corrected deliveries, all or nothing. See the module docstring.
    `dates` (first, last; inclusive): only the deliveries of those extract dates (a partitioned run)."""
    ensure_ingest_tables(con, contract)
    loaded_at = _utc_naive(loaded_at)
    removals = [r for r in removals if r.system == system]
    removed_dates = {r.extract_date for r in removals}
    loaded = _loaded_files(con, system, removed_dates)
    first_loaded = min((day for _, day in loaded), default=None)
    report = SystemIngestReport(system=system, waiting=dates_without_manifest(landing_dir, contract, system))
    entities = contract.entities_of(system)
    staged: dict[str, list[LandedFile]] = {}
    file_counts: dict[tuple[str, str], FileCounts] = {}
    entity_errors: dict[str, ExtractContractError] = {}
    settings_before = _limit_memory(con)  # a bad setting is refused before any file is read
    archive_existed = archive_dir.exists()
    copies: list[Path] = []  # every copy made in the archive folder; those not loaded are removed
    try:
        new_files, skipped, delivery_problems, refused, sources = _find_new_files(
            landing_dir,
            archive_dir,
            copies,
            contract,
            system,
            loaded,
            today or today_in_china(),
            first_loaded,
            dates,
        )
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
            checked, error = _check_contract(con, entity, files, stage_table, _rejected_table(entity))
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
        file_counts = _write(con, contract, system, staged, archived, removals, sources, loaded_at)
        for name, files in staged.items():
            report.entities[name].quarantine_examples = _quarantine_examples(
                con, _rejected_table(contract.entity(name)), files
            )
    finally:
        for entity in entities:
            con.execute(f"drop table if exists {_stage_table(entity)}")
            con.execute(f"drop table if exists {_rejected_table(entity)}")
        _drop_temp_tables(con)
        _restore_memory(con, settings_before)
        _remove_copies(copies, archive_dir, archive_existed)
    for name, files in staged.items():
        entity_report = report.entities[name]
        entity_report.files_loaded = len(files)
        entity_report.files_replaced = sum((name, f.extract_date) in loaded for f in files)
        counts = [(f, file_counts.get((name, f.extract_date), FileCounts(0, 0, 0))) for f in files]
        entity_report.rows_read = sum(c.read for _, c in counts)
        entity_report.rows_loaded = sum(c.loaded for _, c in counts)
        entity_report.rows_quarantined = sum(c.quarantined for _, c in counts)
        entity_report.quarantined_files = {
            f.source_file: (c.quarantined, c.read) for f, c in counts if c.quarantined
        }
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
    archive_dir: Path,
    copies: list[Path],
    contract: Contract,
    system: str,
    loaded: dict[tuple[str, str], str],
    today: date,
    first_loaded: str | None,
    dates: tuple[str, str] | None = None,
) -> tuple[list[LandedFile], dict[str, int], list[DeliveryProblem], set[str], dict[str, dict | None]]:
    """New and corrected files of complete deliveries; per entity, the files loaded before with the same
    content; the problems of the new deliveries that are not complete or not plausible; the dates
    refused for those problems; the manifest's `source` block of each date with new files.

    Each manifest is read once. A new file is read once here: copied into the archive folder while it is
    hashed (`_copy_and_hash`; each copy's path is added to `copies`); the rest of the ingest reads that
    copy. Files loaded before with the same SHA-256 are not opened."""
    new_files: list[LandedFile] = []
    sources: dict[str, dict | None] = {}
    skipped: dict[str, int] = defaultdict(int)
    problems: list[DeliveryProblem] = []
    refused: set[str] = set()

    def refuse(day: str, problem: str) -> None:
        problems.append(DeliveryProblem(system, day, problem))
        refused.add(day)

    for day in list_extract_dates(landing_dir, contract, system):
        if dates is not None and not dates[0] <= day <= dates[1]:
            continue  # another partition's delivery: a later run loads it
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
        day_files, missing = [], []
        for entity, meta in changed.items():
            copy = archive_dir / (archive_name(system, entity, day, meta["sha256"]) + ".partial")
            copies.append(copy)
            problem = _copy_and_hash(landing_dir, meta, copy)
            if problem:
                missing.append(problem)
            day_files.append(
                LandedFile(
                    system=system,
                    entity=entity,
                    extract_date=day,
                    source_file=meta["path"],
                    path=copy,
                    sha256=meta["sha256"],
                    rows=int(meta["rows"]),
                )
            )
        if missing:
            for problem in missing:
                refuse(day, f"incomplete delivery: {problem}; deliver the file(s) again, then the manifest")
            continue
        new_files += day_files
        sources[day] = manifest.source
    return new_files, skipped, problems, refused, sources


def _utc_naive(moment: datetime | None) -> datetime:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


# --------------------------------------------------------------------------- the load


def _stage_table(entity: Entity) -> str:
    return f"_ingest_stage__{entity.system}__{entity.name}"


def _rejected_table(entity: Entity) -> str:
    """Temp table of the problems of the rows set aside (layout of _ingest_problems), until the load."""
    return f"_ingest_rejected__{entity.system}__{entity.name}"


@dataclass(frozen=True)
class FileCounts:
    """Rows of one loaded file: read = loaded + quarantined."""

    read: int
    loaded: int
    quarantined: int


def _write(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    system: str,
    staged: dict[str, list[LandedFile]],
    archived: dict[tuple[str, str], str],
    removals: Sequence[Removal],
    sources: dict[str, dict | None],
    loaded_at: datetime,
) -> dict[tuple[str, str], FileCounts]:
    """Apply the removals, replace corrected days' rows and insert the new rows and the quarantined
    ones: one transaction. Returns the rows of each file written, per (entity, extract date)."""
    counts: dict[tuple[str, str], FileCounts] = {}
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
            for table in (LOADED_FILES_TABLE, REJECTED_ROWS_TABLE, DELIVERY_SOURCES_TABLE):
                con.execute(
                    f"delete from {table} where system = ? and extract_date = ?",
                    [system, removal.extract_date],
                )
            con.execute(
                f"insert into {REMOVED_DELIVERIES_TABLE} values (?, ?, ?, ?, ?, ?)",
                [system, removal.extract_date, rows_removed, removal.reason, removal.requested_at, loaded_at],
            )
        for name, files in staged.items():
            entity = contract.entity(name)
            _register_files(con, name, files, archived)
            counts.update(_write_entity(con, entity, loaded_at))
        loaded_days = sorted({f.extract_date for files in staged.values() for f in files})
        for day in loaded_days:
            _write_delivery_source(con, system, day, sources.get(day), loaded_at)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return counts


def _register_files(
    con: duckdb.DuckDBPyConnection, entity: str, files: list[LandedFile], archived: dict[tuple[str, str], str]
) -> None:
    """Temp table _ingest_files: the entity's new files with what their rows and log entry record."""
    _temp_table(
        con,
        "_ingest_files",
        {
            "path": [str(f.path) for f in files],
            "source_file": [f.source_file for f in files],
            "file_sha256": [f.sha256 for f in files],
            "extract_date": [f.extract_date for f in files],
            "archived_path": [archived[(entity, f.extract_date)] for f in files],
        },
    )
    con.execute("alter table _ingest_files alter extract_date type date")


def _temp_table(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list]) -> None:
    """Temp table `name` from Python lists of the same length, one per column (no pandas frame)."""
    selects = ", ".join(f"unnest(?) as {_ident(c)}" for c in columns)
    con.execute(f"create or replace temp table {name} as select {selects}", list(columns.values()))


def _write_entity(
    con: duckdb.DuckDBPyConnection, entity: Entity, loaded_at: datetime
) -> dict[tuple[str, str], FileCounts]:
    """Replace the days of the files in _ingest_files: raw rows, quarantined rows, log entries."""
    stage_table, rejected_table = _stage_table(entity), _rejected_table(entity)
    con.execute(
        f"delete from {entity.raw_table} where _extract_date in (select extract_date from _ingest_files)"
    )
    con.execute(
        f"delete from {REJECTED_ROWS_TABLE} where system = ? and entity = ? "
        "and extract_date in (select extract_date from _ingest_files)",
        [entity.system, entity.name],
    )
    columns = ", ".join(_ident(c) for c in entity.column_names)
    staged_columns = ", ".join(f"s.{_ident(c)}" for c in entity.column_names)
    con.execute(
        f"""
        insert into {entity.raw_table}
            ({columns}, _source_file, _file_sha256, _extract_date, _row_number, _loaded_at)
        select {staged_columns}, f.source_file, f.file_sha256, f.extract_date, s._row_number, ?
        from {stage_table} s join _ingest_files f on s._path = f.path
        where not exists (
            select 1 from {rejected_table} q where q._path = s._path and q._row_number = s._row_number
        )
        """,
        [loaded_at],
    )
    con.execute(
        f"""
        insert into {REJECTED_ROWS_TABLE}
        select ?, ?, f.extract_date, f.source_file, q._row_number, q._line_number, q.column_name, q.value,
               q.problem, q.detail, ?
        from {rejected_table} q join _ingest_files f on q._path = f.path
        order by f.extract_date, q._row_number, q.column_index
        """,
        [entity.system, entity.name, loaded_at],
    )
    return {
        (entity.name, day): FileCounts(read=read, loaded=read - quarantined, quarantined=quarantined)
        for day, read, quarantined in con.execute(
            f"""
            insert or replace into {LOADED_FILES_TABLE} (system, entity, extract_date, source_file,
                file_sha256, row_count, archived_path, loaded_at, rows_read, rows_quarantined)
            select ?, ?, f.extract_date, f.source_file, f.file_sha256,
                   coalesce(n.rows, 0) - coalesce(q.rows, 0), f.archived_path, ?,
                   coalesce(n.rows, 0), coalesce(q.rows, 0)
            from _ingest_files f
            left join (select _path, count(*) as rows from {stage_table} group by _path) n
              on n._path = f.path
            left join (
                select _path, count(distinct _row_number) as rows from {rejected_table} group by _path
            ) q on q._path = f.path
            returning strftime(extract_date, '%Y-%m-%d'), rows_read, rows_quarantined
            """,
            [entity.system, entity.name, loaded_at],
        ).fetchall()
    }


def _write_delivery_source(
    con: duckdb.DuckDBPyConnection, system: str, day: str, source: dict | None, loaded_at: datetime
) -> None:
    """Record how the delivery was made from a source export (its manifest's `source` block)."""
    source = source or {}

    def text(value) -> str | None:
        return None if value is None else str(value)

    def as_json(value) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    absent = source.get("absent_entities")
    con.execute(
        f"insert or replace into {DELIVERY_SOURCES_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            system,
            day,
            text(source.get("profile")),
            source.get("initial") is True,
            text(source.get("currency")),
            [str(e) for e in absent] if isinstance(absent, list) else None,
            as_json(source.get("defaulted_columns")),
            as_json(source.get("source_files")),
            as_json(source or None),
            loaded_at,
        ],
    )


def _copy_and_hash(landing_dir: Path, meta: dict, copy: Path) -> str | None:
    """Copy a file listed in a manifest to `copy`, hashing what is copied; None when its SHA-256 is the
    manifest's, else why the delivery is incomplete (and no copy is left).

    One read of the landing file checks it and gives the bytes the ingest reads: a file that changes
    in the landing folder afterwards does not matter. Block by block: memory does not grow with the
    file's size."""
    source = landing_dir / meta["path"]
    if not source.exists():
        return f"{meta['path']}: listed in the manifest but not delivered"
    copy.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(source, "rb") as landed, open(copy, "wb") as target:
        for block in iter(lambda: landed.read(1 << 20), b""):
            digest.update(block)
            target.write(block)
    problem = sha_mismatch_problem(meta, digest.hexdigest())
    if problem:
        copy.unlink()
    return problem


def _remove_copies(copies: list[Path], archive_dir: Path, archive_existed: bool) -> None:
    """Remove the copies of files not loaded (loaded ones were renamed) and the folders made for them:
    a refused delivery leaves nothing in the archive."""
    for copy in copies:
        copy.unlink(missing_ok=True)
        folder = copy.parent
        while folder != archive_dir and archive_dir in folder.parents:
            try:
                folder.rmdir()  # only when empty
            except OSError:
                break
            folder = folder.parent
    if not archive_existed:
        try:
            archive_dir.rmdir()
        except OSError:
            pass


def _archive(f: LandedFile, archive_dir: Path) -> str:
    """Move the checked copy to its archive name (the name carries the content hash, so a delivery
    loaded again overwrites an identical file). Atomic: the archive never holds a half-written file."""
    os.replace(f.path, archive_dir / f.archive_name)
    return f.archive_name


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
                except duckdb.OutOfMemoryException as error:
                    # Not the file's fault: say so rather than refuse the file.
                    raise MemoryError(
                        f"DuckDB ran out of memory reading {f.source_file}: raise "
                        f"{INGEST_MEMORY_LIMIT_ENV} (now {_setting(con, 'memory_limit')}; default "
                        f"{DEFAULT_INGEST_MEMORY_LIMIT}). {error}"
                    ) from error
                except duckdb.Error as error:
                    con.execute(
                        "insert into _ingest_problems values (?, null, null, null, -1, null, ?, ?)",
                        [
                            str(f.path),
                            "DuckDB cannot read the file as CSV",
                            str(error).replace(str(f.path), f.source_file),  # the landing file's name
                        ],
                    )
    _number_rows(con, stage_table)


def _number_rows(con: duckdb.DuckDBPyConnection, stage_table: str) -> None:
    """Copy _ingest_read to temp table `stage_table` with each row's number in its file (_row_number).

    Insertion order is file order, so each file's rows have consecutive rowids in file order: a row's
    number is its rowid less its file's first rowid, a join with one row per file that streams, where a
    window over the whole stage would hold all of it at once (in memory or spilled).
    """
    con.execute(
        "create or replace temp table _ingest_read_files as select _path, min(rowid) as first_rowid, "
        "max(rowid) - min(rowid) + 1 = count(*) as consecutive from _ingest_read group by _path"
    )
    if con.execute("select bool_and(consecutive) is not false from _ingest_read_files").fetchone()[0]:
        con.execute(
            f"create or replace temp table {stage_table} as select r.*, "
            "r.rowid - f.first_rowid + 1 as _row_number from _ingest_read r join _ingest_read_files f "
            "on r._path = f._path"
        )
    else:  # never seen; the window numbers the rows whatever their rowids
        con.execute(
            f"create or replace temp table {stage_table} as select *, "
            "row_number() over (partition by _path order by rowid) as _row_number from _ingest_read"
        )
    con.execute("drop table _ingest_read")
    con.execute("drop table _ingest_read_files")


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


def _limit_memory(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """Set DuckDB's memory limit for the ingest (SRW_INGEST_MEMORY_LIMIT, default
    DEFAULT_INGEST_MEMORY_LIMIT) and make sure it may spill to disk; returns the settings before.

    The staged files stay in TEMP tables: they never reach the warehouse file, so a build killed in the
    middle of an ingest leaves nothing in the warehouse (DuckDB spills them to its temp directory, not
    to the database file). The limit is the database's, for every connection to it, until restored.
    """
    before = con.execute(
        "select current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchone()
    limit = os.environ.get(INGEST_MEMORY_LIMIT_ENV, "").strip() or DEFAULT_INGEST_MEMORY_LIMIT
    try:
        con.execute(f"set memory_limit = {_lit(limit)}")
    except duckdb.Error as error:
        raise ValueError(
            f"{INGEST_MEMORY_LIMIT_ENV}={limit!r} is not a memory size DuckDB understands "
            f"(e.g. 512MB, 1GB): {error}"
        ) from None
    if not before[1]:  # spilling was switched off: spill next to the warehouse, DuckDB's default
        (path,) = con.execute(
            "select path from duckdb_databases() where database_name = current_database()"
        ).fetchone()
        if path:
            con.execute(f"set temp_directory = {_lit(path + '.tmp')}")
    return before


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    return con.execute("select current_setting(?)", [name]).fetchone()[0]


def _restore_memory(con: duckdb.DuckDBPyConnection, before: tuple[str, str]) -> None:
    memory_limit, temp_directory = before
    # DuckDB shows the limit cut to one decimal (18.8 GiB): reset it exactly when it was the default,
    # else set it a hair above what was shown, so that saving and restoring again does not shrink it.
    con.execute("reset memory_limit")
    if con.execute("select current_setting('memory_limit')").fetchone()[0] != memory_limit:
        number, _, unit = memory_limit.partition(" ")
        try:
            memory_limit = f"{float(number) + 0.01:g} {unit}"
        except ValueError:
            pass
        con.execute(f"set memory_limit = {_lit(memory_limit)}")
    if con.execute("select current_setting('temp_directory')").fetchone()[0] != temp_directory:
        con.execute(f"set temp_directory = {_lit(temp_directory)}")


def _drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table if exists _ingest_rejects")
    con.execute("drop table if exists _ingest_reject_scans")


def _drop_temp_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in (
        "_ingest_read",
        "_ingest_read_files",
        "_ingest_files",
        "_ingest_problems",
        "_ingest_unreadable",
        "_ingest_refused",
        "_ingest_lines",
        "_ingest_manifest_rows",
    ):
        con.execute(f"drop table if exists {table}")
    _drop_rejects(con)


def _check_contract(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    files: list[LandedFile],
    stage_table: str,
    rejected_table: str,
) -> tuple[ValueCheck, ExtractContractError | None]:
    """Every contract problem of the staged files: how they read, their text, then the value rules.

    A file that does not read as the contract says, or where more rows than the entity's
    max_rejected_share break the contract, is refused (the error). The problems of the other files'
    rows go to `rejected_table`: those rows are set aside when the files load.
    """
    _collect_parse_problems(con, files, stage_table)
    # What is found so far concerns files as a whole: such a file is refused, not its rows set aside.
    con.execute("create or replace temp table _ingest_refused as select distinct _path from _ingest_problems")
    _collect_text_problems(con, entity, stage_table)
    checked = _collect_value_problems(con, entity, stage_table)
    by_path = {str(f.path): f for f in files}
    share_notes = _refuse_files_over_the_share(con, entity, by_path, stage_table)
    _set_rows_aside(con, rejected_table)
    counts = {
        by_path[path].source_file: n
        for path, n in con.execute(
            "select _path, count(*) from _ingest_problems "
            "where _path in (select _path from _ingest_refused) group by _path"
        ).fetchall()
    }
    if not counts:
        return checked, None
    shown = con.execute(
        f"""
        select _path, _row_number, _line_number, column_name, value, problem, detail
        from _ingest_problems
        where _path in (select _path from _ingest_refused order by _path limit {MAX_FILES_IN_MESSAGE})
        qualify row_number() over (
                    partition by _path order by _row_number nulls first, _line_number, column_index
                ) <= {MAX_PROBLEMS_PER_FILE}
        order by _path, _row_number nulls first, _line_number, column_index
        """
    ).fetchall()
    most_common = con.execute(
        "select column_name, problem, count(*) as n from _ingest_problems "
        "where _path in (select _path from _ingest_refused) group by all order by n desc, 1, 2 limit 5"
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
    return checked, ExtractContractError(
        entity, problems, counts, most_common, len(files), checked.rows, share_notes
    )


def _refuse_files_over_the_share(
    con: duckdb.DuckDBPyConnection, entity: Entity, by_path: dict[str, LandedFile], stage_table: str
) -> dict[str, str]:
    """Add to _ingest_refused the files where more rows break the contract than the entity allows;
    returns why, per source file."""
    shares = con.execute(
        f"""
        select p._path, count(distinct p._row_number) as bad, any_value(r.n) as read
        from _ingest_problems p
        join (select _path, count(*) as n from {stage_table} group by _path) r on r._path = p._path
        where p._path not in (select _path from _ingest_refused)
        group by p._path
        order by p._path
        """
    ).fetchall()
    allowed = entity.max_rejected_share
    notes = {}
    for path, bad, read in shares:
        if bad / read > allowed:
            notes[by_path[path].source_file] = (
                f"{bad} of {read} rows ({bad / read:.1%}) break the contract, more than the "
                f"{allowed * 100:g}% allowed for {entity.system}.{entity.name} "
                f"(max_rejected_share in {CONTRACT_FILE})."
            )
            con.execute("insert into _ingest_refused values (?)", [path])
    return notes


def _set_rows_aside(con: duckdb.DuckDBPyConnection, rejected_table: str) -> None:
    """Copy the problems of the files not refused to `rejected_table`, with the line of each row."""
    con.execute(
        f"create or replace temp table {rejected_table} as select * from _ingest_problems "
        "where _path not in (select _path from _ingest_refused)"
    )
    paths = [p for (p,) in con.execute(f"select distinct _path from {rejected_table} order by 1").fetchall()]
    for path in paths:
        query = f"select distinct _row_number from {rejected_table} where _path = ?"
        rows = {row for (row,) in con.execute(query, [path]).fetchall()}
        lines = _lines_of_rows(Path(path), rows)
        if not lines:
            continue
        _temp_table(con, "_ingest_lines", {"row": list(lines), "line": list(lines.values())})
        try:
            con.execute(
                f"update {rejected_table} q set _line_number = l.line from _ingest_lines l "
                "where q._path = ? and q._row_number = l.row",
                [path],
            )
        finally:
            con.execute("drop table _ingest_lines")


def _quarantine_examples(
    con: duckdb.DuckDBPyConnection, rejected_table: str, files: list[LandedFile]
) -> list[ContractProblem]:
    """The first problems of the rows set aside, per file, for the reports."""
    by_path = {str(f.path): f for f in files}
    rows = con.execute(
        f"""
        select _path, _row_number, _line_number, column_name, value, problem, detail
        from {rejected_table}
        qualify row_number() over (partition by _path order by _row_number, column_index)
                <= {QUARANTINE_EXAMPLES_PER_FILE}
        order by _path, _row_number, column_index
        """
    ).fetchall()
    return [
        ContractProblem(by_path[path].source_file, row, line, column, value, problem, detail)
        for path, row, line, column, value, problem, detail in rows
    ]


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
    _temp_table(
        con,
        "_ingest_manifest_rows",
        {"path": [str(f.path) for f in files], "manifest_rows": [f.rows for f in files]},
    )
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
        con.execute("drop table _ingest_manifest_rows")


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


@dataclass(frozen=True)
class ValueCheck:
    """What the value rules were checked on: rows, and rules (0 when there were no rows)."""

    rows: int
    expectations: int


def _collect_value_problems(con: duckdb.DuckDBPyConnection, entity: Entity, stage_table: str) -> ValueCheck:
    """Check the entity's contract rules (quality/contract_sql.py: required, types, allowed values,
    patterns, min/max; the first failing rule of each value) on the staged rows, then look for repeated
    primary keys within a file; add what they find to _ingest_problems. Both are SQL over the staged
    table: nothing of the data is held in Python.

    Files that already have a parse problem are left out: their row numbering cannot be trusted.
    """
    readable = f"(select * from {stage_table} where _path not in (select _path from _ingest_unreadable))"
    (rows,) = con.execute(f"select count(*) from {readable}").fetchone()
    # Values first, then keys: a key value that breaks a rule is reported once, for the rule.
    for query in (value_problems_query(entity, readable), duplicate_key_query(entity, readable)):
        con.execute(
            "create or replace temp table _ingest_found as "
            "select _path, _row_number, null::bigint as _line_number, column_name, column_index, value, "
            f"problem, detail from ({query})"
        )
        try:
            _insert_found(con)
        finally:
            con.execute("drop table _ingest_found")
    return ValueCheck(rows=rows, expectations=len(contract_rules(entity)) if rows else 0)


def _insert_found(con: duckdb.DuckDBPyConnection) -> None:
    # One problem per value: a control character or an over-long value was said already.
    con.execute(
        "insert into _ingest_problems select * from _ingest_found f where not exists ("
        "select 1 from _ingest_problems p where p._path = f._path and p._row_number = f._row_number "
        "and p.column_name = f.column_name)"
    )


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
    share_notes: dict[str, str],
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
        if source_file in share_notes:
            out.append(f"  {share_notes[source_file]}")
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
