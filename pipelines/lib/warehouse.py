"""DuckDB warehouse layout shared by ingestion, dbt and the reports."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import duckdb

from quality.contract import Contract, Entity

# Lineage columns on every raw table, after the contract's own columns (all kept as text).
LINEAGE_COLUMNS = {
    "_source_file": "varchar",  # path relative to the landing folder
    "_file_sha256": "varchar",
    "_extract_date": "date",
    "_row_number": "integer",  # 1 = first data row after the header
    "_loaded_at": "timestamp",
}


def raw_table_ddl(entity: Entity) -> str:
    cols = [f'"{c.name}" varchar' for c in entity.columns]
    cols += [f"{name} {typ}" for name, typ in LINEAGE_COLUMNS.items()]
    return f"create table if not exists {entity.raw_table} (\n  " + ",\n  ".join(cols) + "\n)"


def create_raw_tables(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    for system in contract.systems:
        con.execute(f"create schema if not exists raw_{system}")
    for entity in contract.entities:
        con.execute(raw_table_ddl(entity))


@contextmanager
def connect(path: Path, read_only: bool = False):
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()
