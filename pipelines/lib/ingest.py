"""Load landing extracts into the warehouse's raw tables (raw_<system>.<entity>).

One call loads one entity, in one transaction:
1. find the entity's files in COMPLETE deliveries (manifest present and matching); incomplete
   deliveries are skipped and reported - they load on a later run, once complete;
2. skip files already loaded with the same SHA-256 (idempotent), and treat a file with new content
   for an already-loaded extract date as a correction that replaces the earlier load;
3. read all new files with one DuckDB `read_csv([...])` call; check the structure that only a
   reader can (header columns, fields per line, encoding, row count vs the manifest), then run the
   entity's Great Expectations suite (quality/expectations.py: required, types, allowed values,
   patterns, min/max, primary key unique per file) on one batch of all the new rows; any problem
   raises ExtractContractError naming file, row, line, column and value, and nothing of the entity
   is loaded;
4. copy each new file's original bytes to the archive, then insert the rows with their lineage
   columns and record the file in raw_meta.loaded_files.

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
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipelines.lib.landing import Delivery, list_extract_dates, read_delivery
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

MAX_PROBLEMS_PER_FILE = 20
MAX_FILES_IN_MESSAGE = 5
WHAT_TO_DO = (
    "What to do: have the source system re-export the file(s) so they match quality/contract/extracts.yml "
    "and deliver them again with a new manifest (or, if the contract itself is wrong, change extracts.yml); "
    "then run the ingest again. Nothing of {table} was loaded, so the raw table is unchanged."
)

_REJECT_TEXT = {
    "TOO MANY COLUMNS": "the line has more fields than the header",
    "MISSING COLUMNS": "the line has fewer fields than the header",
    "UNQUOTED VALUE": "a value contains a quote but is not quoted properly",
    "INVALID ENCODING": "the line is not valid UTF-8",
    "LINE SIZE OVER MAXIMUM": "the line is too long",
}


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
            return "header (line 1)" if self.line_number == 1 else "whole file"
        return f"row {self.row_number} (line {self.line_number})"

    def describe(self) -> str:
        column = f", column {self.column}" if self.column else ""
        value = f" {_show(self.value)}" if self.value is not None else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.source_file}, {self.where}{column}:{value} {self.problem}{detail}"


class ExtractContractError(ValueError):
    """New extract files of an entity break the contract; nothing of the entity was loaded."""

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
        super().__init__(_format_error(entity, problems, problem_counts, list(most_common)))


@dataclass
class IngestReport:
    """What one ingest of one entity did.

    files_loaded counts every file loaded in this run; files_replaced is how many of them were
    corrections replacing an earlier load of the same extract date.
    """

    system: str
    entity: str
    files_loaded: int = 0
    files_replaced: int = 0
    files_skipped_same_content: int = 0
    rows_loaded: int = 0
    rows_checked: int = 0  # rows the expectation suite ran on (the new files' rows)
    expectations_checked: int = 0  # expectations in the entity's suite, 0 when no new rows
    incomplete_deliveries: list[str] = field(default_factory=list)

    @property
    def raw_table(self) -> str:
        return f"raw_{self.system}.{self.entity}"

    def to_metadata(self) -> dict:
        meta = asdict(self)
        del meta["system"], meta["entity"]
        return {"raw_table": self.raw_table, **meta}


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


# --------------------------------------------------------------------------- public API


def ensure_ingest_tables(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    create_raw_tables(con, contract)
    con.execute("create schema if not exists raw_meta")
    con.execute(LOADED_FILES_DDL)


def ingest_entity(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    entity_name: str,
    landing_dir: Path,
    archive_dir: Path,
    loaded_at: datetime | None = None,
) -> IngestReport:
    """Load the entity's new and corrected files from complete deliveries. See the module docstring."""
    entity = contract.entity(entity_name)
    deliveries = _deliveries(landing_dir, contract, entity.system)
    return _ingest(con, contract, entity, landing_dir, archive_dir, _utc_naive(loaded_at), deliveries)


def ingest_all(
    con: duckdb.DuckDBPyConnection, contract: Contract, landing_dir: Path, archive_dir: Path
) -> list[IngestReport]:
    """Ingest every contract entity (each in its own transaction), reading each manifest once."""
    loaded_at = _utc_naive(None)
    deliveries = {system: _deliveries(landing_dir, contract, system) for system in contract.systems}
    return [
        _ingest(con, contract, e, landing_dir, archive_dir, loaded_at, deliveries[e.system])
        for e in contract.entities
    ]


def landed_files(
    landing_dir: Path, contract: Contract, entity: Entity, deliveries: Sequence[Delivery] | None = None
) -> tuple[list[LandedFile], list[str]]:
    """The entity's files in complete deliveries (oldest first), and the incomplete deliveries' problems."""
    if deliveries is None:
        deliveries = _deliveries(landing_dir, contract, entity.system)
    files, incomplete = [], []
    for d in deliveries:
        if not d.is_complete:
            incomplete.append(f"{d.system} {d.extract_date}: " + "; ".join(d.problems))
            continue
        meta = d.files[entity.name]
        files.append(
            LandedFile(
                system=entity.system,
                entity=entity.name,
                extract_date=d.extract_date,
                source_file=meta["path"],
                path=landing_dir / meta["path"],
                sha256=meta["sha256"],
                rows=int(meta["rows"]),
            )
        )
    # Files already delivered whose manifest has not arrived yet (export still running or failed).
    with_manifest = {d.extract_date for d in deliveries}
    folder = (landing_dir / contract.file_path(entity.system, entity.name, "X")).parent
    for path in sorted(folder.glob("*.csv")):
        if path.stem not in with_manifest:
            incomplete.append(f"{entity.system} {path.stem}: manifest missing (export not finished?)")
    return files, incomplete


# --------------------------------------------------------------------------- the load


def _deliveries(landing_dir: Path, contract: Contract, system: str) -> list[Delivery]:
    return [
        read_delivery(landing_dir, contract, system, d)
        for d in list_extract_dates(landing_dir, contract, system)
    ]


def _utc_naive(moment: datetime | None) -> datetime:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _ingest(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    entity: Entity,
    landing_dir: Path,
    archive_dir: Path,
    loaded_at: datetime,
    deliveries: Sequence[Delivery],
) -> IngestReport:
    ensure_ingest_tables(con, contract)
    files, incomplete = landed_files(landing_dir, contract, entity, deliveries)
    loaded = dict(
        con.execute(
            f"select strftime(extract_date, '%Y-%m-%d'), file_sha256 from {LOADED_FILES_TABLE} "
            "where system = ? and entity = ?",
            [entity.system, entity.name],
        ).fetchall()
    )
    new = [f for f in files if loaded.get(f.extract_date) != f.sha256]
    report = IngestReport(
        system=entity.system,
        entity=entity.name,
        files_skipped_same_content=len(files) - len(new),
        incomplete_deliveries=incomplete,
    )
    if not new:
        return report
    try:
        _stage(con, entity, new)
        checked = _raise_on_contract_problems(con, entity, new)
        archived = {f.extract_date: _archive(f, archive_dir) for f in new}
        rows = _write(con, entity, new, set(loaded), archived, loaded_at)
    finally:
        for table in (
            "_ingest_read",
            "_ingest_stage",
            "_ingest_files",
            "_ingest_problems",
            "_ingest_unreadable",
        ):
            con.execute(f"drop table if exists {table}")
        _drop_rejects(con)
    report.files_loaded = len(new)
    report.files_replaced = sum(f.extract_date in loaded for f in new)
    report.rows_loaded = rows
    report.rows_checked = checked.rows
    report.expectations_checked = checked.expectations
    return report


def _write(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    files: list[LandedFile],
    loaded_dates: set[str],
    archived: dict[str, str],
    loaded_at: datetime,
) -> int:
    """Replace corrected files' rows and insert the new rows, in one transaction."""
    files_df = pd.DataFrame(
        {
            "path": [str(f.path) for f in files],
            "source_file": [f.source_file for f in files],
            "file_sha256": [f.sha256 for f in files],
            "extract_date": [f.extract_date for f in files],
            "is_replacement": [f.extract_date in loaded_dates for f in files],
            "archived_path": [archived[f.extract_date] for f in files],
        }
    )
    con.register("_ingest_files_df", files_df)
    con.execute(
        "create temp table _ingest_files as select * replace (cast(extract_date as date) as extract_date) "
        "from _ingest_files_df"
    )
    con.unregister("_ingest_files_df")
    columns = ", ".join(_ident(c) for c in entity.column_names)
    staged_columns = ", ".join(f"s.{_ident(c)}" for c in entity.column_names)
    con.begin()
    try:
        con.execute(
            f"delete from {entity.raw_table} where _extract_date in "
            "(select extract_date from _ingest_files where is_replacement)"
        )
        con.execute(
            f"""
            insert into {entity.raw_table}
                ({columns}, _source_file, _file_sha256, _extract_date, _row_number, _loaded_at)
            select {staged_columns}, f.source_file, f.file_sha256, f.extract_date, s._row_number, ?
            from _ingest_stage s join _ingest_files f on s._path = f.path
            """,
            [loaded_at],
        )
        con.execute(
            f"""
            insert or replace into {LOADED_FILES_TABLE}
            select ?, ?, f.extract_date, f.source_file, f.file_sha256,
                   (select count(*) from _ingest_stage s where s._path = f.path), f.archived_path, ?
            from _ingest_files f
            """,
            [entity.system, entity.name, loaded_at],
        )
        rows = con.execute("select count(*) from _ingest_stage").fetchone()[0]
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return rows


def _archive(f: LandedFile, archive_dir: Path) -> str:
    """Copy the original bytes to the archive (idempotent: the name carries the content hash)."""
    dest = archive_dir / f.archive_name
    if dest.exists() and _sha256_bytes(dest.read_bytes()) == f.sha256:
        return f.archive_name
    data = f.path.read_bytes()
    if _sha256_bytes(data) != f.sha256:
        raise RuntimeError(
            f"{f.source_file} changed while it was being loaded (SHA-256 no longer matches its manifest); "
            "nothing was loaded - run the ingest again once the delivery is complete."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, dest)  # atomic: the archive never holds a half-written file
    return f.archive_name


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- reading and checking


def _stage(con: duckdb.DuckDBPyConnection, entity: Entity, files: list[LandedFile]) -> None:
    """Read the files into temp table _ingest_stage (contract columns as text, _path, _row_number).

    Header problems go to _ingest_problems and those files are not read. Files are grouped by
    header so a file with the contract's columns in another order still reads correctly; normally
    there is one group, i.e. one read_csv call over all files.
    """
    con.execute(
        "create or replace temp table _ingest_problems (_path varchar, _row_number bigint, "
        "column_name varchar, column_index integer, value varchar, problem varchar, detail varchar)"
    )
    column_defs = ", ".join(f"{_ident(c)} varchar" for c in entity.column_names)
    con.execute(f"create or replace temp table _ingest_read ({column_defs}, _path varchar)")
    _drop_rejects(con)
    groups: dict[tuple[str, ...], list[LandedFile]] = defaultdict(list)
    header_problems = []
    for f in files:
        header = _read_header(f.path)
        problems = _header_problems(entity, header)
        if problems:
            header_problems += [
                (str(f.path), None, col, idx, None, text, None) for col, idx, text in problems
            ]
        else:
            groups[tuple(header)].append(f)
    if header_problems:
        con.executemany("insert into _ingest_problems values (?, ?, ?, ?, ?, ?, ?)", header_problems)
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
                        "insert into _ingest_problems values (?, null, null, -1, null, ?, ?)",
                        [str(f.path), "DuckDB cannot read the file as CSV", str(error)],
                    )
    # Insertion order is file order, so rowid numbers each file's rows in file order.
    con.execute(
        "create or replace temp table _ingest_stage as select *, "
        "row_number() over (partition by _path order by rowid) as _row_number from _ingest_read"
    )


def _read_csv_sql(select: str, columns: str, files: list[LandedFile]) -> str:
    paths = "[" + ", ".join(_lit(str(f.path)) for f in files) + "]"
    # auto_detect=false: no sniffing of every file; the header was checked before.
    return (
        f"insert into _ingest_read select {select}, _path from read_csv({paths}, columns={columns}, "
        "header=true, auto_detect=false, delim=',', quote='\"', escape='\"', filename='_path', "
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


def _raise_on_contract_problems(
    con: duckdb.DuckDBPyConnection, entity: Entity, files: list[LandedFile]
) -> SuiteResult:
    _collect_parse_problems(con, files)
    checked = _collect_value_problems(con, entity)
    by_path = {str(f.path): f for f in files}
    counts = {
        by_path[path].source_file: n
        for path, n in con.execute("select _path, count(*) from _ingest_problems group by _path").fetchall()
    }
    if not counts:
        return checked
    shown = con.execute(
        f"""
        select _path, _row_number, column_name, value, problem, detail
        from _ingest_problems
        where _path in (
            select distinct _path from _ingest_problems order by _path limit {MAX_FILES_IN_MESSAGE}
        )
        qualify row_number() over (partition by _path order by _row_number nulls first, column_index)
                <= {MAX_PROBLEMS_PER_FILE}
        order by _path, _row_number nulls first, column_index
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
            line_number=lines[path].get(row) if row is not None else (1 if column else None),
            column=column,
            value=value,
            problem=problem,
            detail=detail,
        )
        for path, row, column, value, problem, detail in shown
    ]
    raise ExtractContractError(entity, problems, counts, most_common, len(files), checked.rows)


def _collect_parse_problems(con: duckdb.DuckDBPyConnection, files: list[LandedFile]) -> None:
    """Lines DuckDB could not split into the header's fields, and row counts that differ from the manifest."""
    has_rejects = con.execute(
        "select count(*) from duckdb_tables() where temporary and table_name = '_ingest_rejects'"
    ).fetchone()[0]
    if has_rejects:
        cases = " ".join(f"when {_lit(k)} then {_lit(v)}" for k, v in _REJECT_TEXT.items())
        # DuckDB's "line" counts CSV records including the header, so data row = line - 1.
        con.execute(
            f"""
            insert into _ingest_problems
            select s.file_path, e.line - 1, e.column_name, -1, null,
                   coalesce(case cast(e.error_type as varchar) {cases} end, cast(e.error_type as varchar)),
                   e.error_message
            from _ingest_rejects e join _ingest_reject_scans s using (scan_id, file_id)
            """
        )
    # Snapshot the files that already have problems: an insert must not read the table it writes to.
    con.execute(
        "create or replace temp table _ingest_unreadable as select distinct _path from _ingest_problems"
    )
    files_df = pd.DataFrame({"path": [str(f.path) for f in files], "manifest_rows": [f.rows for f in files]})
    con.register("_ingest_manifest_rows", files_df)
    try:
        con.execute(
            """
            insert into _ingest_problems
            select m.path, null, null, -1, null,
                   'the number of data rows read differs from the manifest',
                   'read ' || coalesce(r.n, 0) || ', manifest lists ' || m.manifest_rows
                   || '; blank lines in the file are the usual cause, they are not allowed'
            from _ingest_manifest_rows m
            left join (select _path, count(*) as n from _ingest_read group by _path) r on r._path = m.path
            where coalesce(r.n, 0) <> m.manifest_rows
              and m.path not in (select _path from _ingest_unreadable)
            """
        )
    finally:
        con.unregister("_ingest_manifest_rows")


def _collect_value_problems(con: duckdb.DuckDBPyConnection, entity: Entity) -> SuiteResult:
    """Run the entity's Great Expectations suite (quality/expectations.py) on one batch holding all
    staged rows, and add what it finds to _ingest_problems.

    Files that already have a parse problem are left out: their row numbering cannot be trusted.
    """
    con.execute(
        "create or replace temp table _ingest_unreadable as select distinct _path from _ingest_problems"
    )
    columns = ", ".join(_ident(c) for c in entity.column_names)
    frame = con.execute(
        f"select {columns}, _path, _row_number from _ingest_stage "
        "where _path not in (select _path from _ingest_unreadable)"
    ).df()
    result = validate_frame(entity, frame)
    if result.failures:
        found = pd.DataFrame(
            {
                "_path": [f.path for f in result.failures],
                "_row_number": [f.row_number for f in result.failures],
                "column_name": [f.column for f in result.failures],
                "column_index": [f.column_index for f in result.failures],
                "value": [f.value for f in result.failures],
                "problem": [f.problem for f in result.failures],
                "detail": [f.detail for f in result.failures],
            }
        )
        con.register("_ingest_found", found)
        try:
            con.execute("insert into _ingest_problems select * from _ingest_found")
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
    out = [
        f"{entity.raw_table}: {len(counts)} new extract file(s) break the extract contract "
        f"({total} problem(s)); nothing of {entity.raw_table} was loaded."
    ]
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
    if rest:
        out.append("Most common problems over all files:")
        out += [f"  {n} x {'column ' + c if c else 'file'}: {p}" for c, p, n in most_common]
    out.append("\n" + WHAT_TO_DO.format(table=entity.raw_table))
    return "\n".join(out)


def _show(value: str | None) -> str:
    if value is None:
        return "(empty)"
    return repr(value if len(value) <= 60 else value[:57] + "...")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
