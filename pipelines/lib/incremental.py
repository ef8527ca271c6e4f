"""When a night's dbt build may be incremental, and what it records for the next night.

The staging models of delta entities are incremental (dbt_project/macros/staging/current_extract_rows.sql):
a night re-deduplicates only the keys found in the files loaded since the last dbt build. That equals a
full build exactly when those files are all the change since then. The build therefore forces a full
refresh when that is not so:
- an as-of build (rows after the as-of date must leave staging), or the build after one;
- a file built last time was replaced (a corrected re-delivery) or removed (`remove-day`): keys may have
  to fall back to an older version, or disappear;
- the dbt project changed (a model, macro, seed or variable): rows built by the old SQL would stay;
- nothing was built yet (a new warehouse, or one from before this bookkeeping).

After a successful dbt build, `record_dbt_build` stores the files it was built from
(raw_meta.dbt_built_files) and the state it was built in (raw_meta.dbt_build_state), in the release
being built, so they are published with the marts they describe.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb

BUILT_FILES_TABLE = "raw_meta.dbt_built_files"
BUILD_STATE_TABLE = "raw_meta.dbt_build_state"
PROJECT_INPUTS = ("models", "macros", "seeds", "dbt_project.yml")  # tests do not change a row


def project_checksum(dbt_project_dir: Path) -> str:
    """SHA-256 over the dbt project's files (names and contents) that decide what a model computes."""
    digest = hashlib.sha256()
    for name in PROJECT_INPUTS:
        root = dbt_project_dir / name
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if path.exists():
                digest.update(path.relative_to(dbt_project_dir).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


def full_refresh_reason(con: duckdb.DuckDBPyConnection, as_of: date | None, checksum: str) -> str | None:
    """Why this build must rebuild every model from all rows; None when an incremental build is exact."""
    if as_of is not None:
        return f"an as-of build ({as_of})"
    if not (_has_table(con, BUILD_STATE_TABLE) and _has_table(con, BUILT_FILES_TABLE)):
        return "no incremental build state yet"
    state = con.execute(f"select as_of_date, project_checksum from {BUILD_STATE_TABLE}").fetchone()
    if state is None:
        return "no incremental build state yet"
    last_as_of, last_checksum = state
    if last_as_of is not None:
        return f"the last build was an as-of build ({last_as_of})"
    if last_checksum != checksum:
        return "the dbt project changed since the last build"
    gone = con.execute(
        f"""
        select built.system, built.entity, strftime(built.extract_date, '%Y-%m-%d')
        from {BUILT_FILES_TABLE} as built
        where not exists (
            select 1 from raw_meta.loaded_files as loaded
            where loaded.system = built.system and loaded.entity = built.entity
              and loaded.extract_date = built.extract_date and loaded.file_sha256 = built.file_sha256
        )
        order by 3, 1, 2
        """
    ).fetchall()
    if gone:
        days = sorted({f"{system} {day}" for system, _, day in gone})
        return (
            "deliveries were corrected or removed since the last build: "
            + ", ".join(days[:5])
            + (f" and {len(days) - 5} more" if len(days) > 5 else "")
        )
    return None


def new_files_count(con: duckdb.DuckDBPyConnection) -> int:
    """Files loaded since the last dbt build (all of them when there was none)."""
    if not _has_table(con, BUILT_FILES_TABLE):
        return con.execute("select count(*) from raw_meta.loaded_files").fetchone()[0]
    return con.execute(
        f"""
        select count(*) from raw_meta.loaded_files as loaded
        where not exists (
            select 1 from {BUILT_FILES_TABLE} as built
            where loaded.system = built.system and loaded.entity = built.entity
              and loaded.extract_date = built.extract_date and loaded.file_sha256 = built.file_sha256
        )
        """
    ).fetchone()[0]


def ensure_built_files_table(con: duckdb.DuckDBPyConnection) -> None:
    """The incremental staging models read this table; it exists (empty) before the first dbt build."""
    con.execute("create schema if not exists raw_meta")
    con.execute(
        f"create table if not exists {BUILT_FILES_TABLE} "
        "(system varchar, entity varchar, extract_date date, file_sha256 varchar)"
    )


def record_dbt_build(con: duckdb.DuckDBPyConnection, as_of: date | None, checksum: str) -> None:
    """After a successful dbt build: the files and the state it was built from (one transaction)."""
    con.execute("begin")
    ensure_built_files_table(con)
    con.execute(f"delete from {BUILT_FILES_TABLE}")
    con.execute(
        f"insert into {BUILT_FILES_TABLE} "
        "select system, entity, extract_date, file_sha256 from raw_meta.loaded_files order by all"
    )
    con.execute(f"create or replace table {BUILD_STATE_TABLE} (as_of_date date, project_checksum varchar)")
    con.execute(f"insert into {BUILD_STATE_TABLE} values (?, ?)", [as_of, checksum])
    con.execute("commit")
