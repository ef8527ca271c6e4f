"""Which engine the dbt models run on: DuckDB (the default, one machine) or Apache Spark (SRW_ENGINE=spark).

Everything but the models stays on DuckDB: the ingest (contract checks, lineage columns) loads the raw
tables into the warehouse file as always, and the packs, checks and verification read the warehouse
file. On Spark the build exports the raw tables to Parquet for Spark to read, dbt builds the models on
Spark (as Parquet tables), and the build copies the tables Spark built back into the warehouse file,
which is then published as on DuckDB. See README "When one machine is not enough".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb

ENGINE_VARIABLE = "SRW_ENGINE"  # read by dbt_project/profiles.yml as the target
SPARK_DIR_VARIABLE = "SRW_SPARK_DIR"  # raw/ and warehouse/ of the Spark engine
ENGINES = ("duckdb", "spark")
# read by macros/engine/register_raw_tables.sql; no leading underscore, which Spark skips
RAW_TABLE_INDEX = "raw_tables.parquet"


def engine(environ=os.environ) -> str:
    name = environ.get(ENGINE_VARIABLE, "").strip().lower() or "duckdb"
    if name not in ENGINES:
        raise ValueError(f"{ENGINE_VARIABLE}={name!r}: the engine is one of {', '.join(ENGINES)}")
    return name


def java_missing() -> str | None:
    """Why Spark cannot start on this machine (no Java 17 or newer), or None."""
    java = shutil.which("java")
    if java is None:
        return "no Java on PATH: Spark needs Java 17 or newer (Debian: apt-get install default-jre-headless)"
    version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(?:1\.)?(\d+)', version)
    if found is None or int(found.group(1)) < 17:
        first_line = version.splitlines()[0] if version else "?"
        return f"Spark needs Java 17 or newer; `java -version` says: {first_line}"
    return None


def spark_dir(warehouse_path: Path, environ=os.environ) -> Path:
    """Spark's working folder: SRW_SPARK_DIR, else `spark/` beside the published warehouse. It is not part
    of a release: each Spark build rebuilds it whole, and readers only ever read the warehouse file."""
    configured = environ.get(SPARK_DIR_VARIABLE, "").strip()
    return Path(os.path.abspath(configured)) if configured else warehouse_path.parent / "spark"


def raw_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.execute(
        """
        select table_schema, table_name
        from information_schema.tables
        where table_schema like 'raw\\_%' escape '\\' and table_type = 'BASE TABLE'
        order by 1, 2
        """
    ).fetchall()


def export_raw_tables(con: duckdb.DuckDBPyConnection, raw_dir: Path) -> int:
    """Write every raw table (raw_crm, raw_erp, raw_manual, raw_meta) as Parquet under
    raw_dir/<schema>/<table>/, listed in raw_dir/raw_tables.parquet. Returns the number of tables."""
    return export_tables(con, raw_tables(con), raw_dir)


def export_tables(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]], out_dir: Path) -> int:
    """Write `tables` as Parquet under out_dir/<schema>/<table>/ and list them in out_dir/raw_tables.parquet
    (what macros/engine/register_raw_tables.sql registers). Replaces what was there."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    listed = []
    for schema, table in tables:
        folder = out_dir / schema / table
        folder.mkdir(parents=True)
        con.execute(f"copy {schema}.{table} to '{folder / 'part-0.parquet'}' (format parquet)")
        listed.append((schema, table, str(folder)))
    con.execute(
        "create or replace temp table raw_table_index"
        " (schema_name varchar, table_name varchar, location varchar)"
    )
    con.executemany("insert into raw_table_index values (?, ?, ?)", listed)
    con.execute(f"copy raw_table_index to '{out_dir / RAW_TABLE_INDEX}' (format parquet)")
    con.execute("drop table raw_table_index")
    return len(listed)


# Spark's own log, errors only (dbt_project/profiles.yml points the session at it): at its default level it
# writes a warning per query ("Using an existing Spark session"), hundreds a night, into the build log.
SPARK_LOG_SETTINGS = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""


def reset_spark_catalog(spark: Path) -> None:
    """A Spark build rebuilds every model: it starts from an empty catalog and warehouse, so that no table
    half-written by a killed build (a folder the catalog does not know) stops Spark from creating it
    again. The catalog then holds this build's tables until the next one, for `dbt show` or `dbt test`."""
    for part in ("warehouse", "metastore_db"):
        shutil.rmtree(spark / part, ignore_errors=True)
    spark.mkdir(parents=True, exist_ok=True)
    (spark / "log4j2.properties").write_text(SPARK_LOG_SETTINGS)


def spark_tables(warehouse_dir: Path) -> list[tuple[str, str, Path]]:
    """The tables Spark built: <schema>.db/<table>/ folders of its warehouse."""
    return sorted(
        (schema_dir.name.removesuffix(".db"), table_dir.name, table_dir)
        for schema_dir in warehouse_dir.glob("*.db")
        for table_dir in schema_dir.iterdir()
        if table_dir.is_dir()
    )


def import_spark_tables(con: duckdb.DuckDBPyConnection, warehouse_dir: Path) -> int:
    """Copy the tables Spark built into the warehouse file, replacing the DuckDB ones of the same name:
    what the packs, checks and verification read afterwards. Returns the number of tables."""
    tables = spark_tables(warehouse_dir)
    for schema, table, folder in tables:
        con.execute(f"create schema if not exists {schema}")
        kind = con.execute(
            "select table_type from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()
        if kind == ("VIEW",):  # a view on DuckDB (a model read once), a table from Spark
            con.execute(f"drop view {schema}.{table}")
        con.execute(
            f"create or replace table {schema}.{table} as select * from read_parquet('{folder}/*.parquet')"
        )
    return len(tables)
