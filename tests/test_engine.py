"""The engine switch and the two halves of a Spark build that run outside Spark: the raw tables exported
as Parquet, the tables Spark built copied back into the warehouse file; and the comparison that says
whether two engines' tables hold the same figures. (The Spark build itself: tests/test_spark_build.py.)"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.engine import (
    engine,
    export_raw_tables,
    import_spark_tables,
    java_missing,
    spark_dir,
    spark_tables,
)
from pipelines.lib.warehouse_diff import compare_warehouses


def test_engine_defaults_to_duckdb_and_names_the_choices_when_unknown():
    assert engine({}) == "duckdb"
    assert engine({"SRW_ENGINE": " Spark "}) == "spark"
    with pytest.raises(ValueError, match="SRW_ENGINE='postgres': the engine is one of duckdb, spark"):
        engine({"SRW_ENGINE": "postgres"})


def test_spark_dir_is_beside_the_published_warehouse_unless_configured(tmp_path):
    assert spark_dir(tmp_path / "warehouse.duckdb", {}) == tmp_path / "spark"
    assert spark_dir(tmp_path / "warehouse.duckdb", {"SRW_SPARK_DIR": "/data/spark"}) == Path("/data/spark")


def test_raw_tables_are_exported_with_their_types_and_listed(tmp_path):
    con = duckdb.connect()
    con.execute("create schema raw_crm; create schema raw_meta; create schema staging")
    con.execute(
        "create table raw_crm.customers  (customer_id varchar, _extract_date date, _loaded_at timestamp)"
    )
    con.execute("insert into raw_crm.customers values ('C1', '2026-11-02', '2026-11-02 06:00:00')")
    con.execute("create table raw_meta.delivery_sources (system varchar, absent_entities varchar[])")
    con.execute("insert into raw_meta.delivery_sources values ('crm', ['leads'])")
    con.execute("create table staging.stg_crm__customers as select 1 as not_raw")
    old = tmp_path / "raw" / "raw_crm" / "gone"  # a table an earlier build exported that no longer exists
    old.mkdir(parents=True)

    assert export_raw_tables(con, tmp_path / "raw") == 2

    listed = con.execute(f"select * from '{tmp_path}/raw/raw_tables.parquet' order by 1").fetchall()
    assert listed == [
        ("raw_crm", "customers", str(tmp_path / "raw/raw_crm/customers")),
        ("raw_meta", "delivery_sources", str(tmp_path / "raw/raw_meta/delivery_sources")),
    ]
    assert not old.exists()
    customers = con.execute(f"select * from '{tmp_path}/raw/raw_crm/customers/*.parquet'")
    assert [d[1] for d in customers.description] == ["VARCHAR", "DATE", "TIMESTAMP"]
    sources = f"'{tmp_path}/raw/raw_meta/delivery_sources/*.parquet'"
    assert con.execute(f"select absent_entities from {sources}").fetchone() == (["leads"],)


def test_spark_tables_replace_the_warehouse_relations_of_the_same_name(tmp_path):
    spark_warehouse = tmp_path / "warehouse"
    for schema, table, sql in [
        ("marts", "fct_sales", "select 'R1' as rep_id, 12.50::decimal(18, 2) as amount"),
        ("clean", "clean_crm__activities", "select 'A1' as activity_id"),
    ]:
        folder = spark_warehouse / f"{schema}.db" / table
        folder.mkdir(parents=True)
        duckdb.execute(f"copy ({sql}) to '{folder / 'part-00000.parquet'}' (format parquet)")
    (spark_warehouse / "marts.db" / "_SUCCESS").write_text("")  # Spark's marker files are not tables
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema marts; create schema clean")
    con.execute("create table marts.fct_sales as select 'old' as rep_id, 1.00::decimal(18, 2) as amount")
    con.execute("create view clean.clean_crm__activities as select 'old view' as activity_id")

    assert [(s, t) for s, t, _ in spark_tables(spark_warehouse)] == [
        ("clean", "clean_crm__activities"),
        ("marts", "fct_sales"),
    ]
    assert import_spark_tables(con, spark_warehouse) == 2

    assert con.execute("select * from marts.fct_sales").fetchall() == [("R1", Decimal("12.50"))]
    assert con.execute("select * from clean.clean_crm__activities").fetchall() == [("A1",)]
    kinds = con.execute(
        "select table_name, table_type from information_schema.tables where table_schema = 'clean'"
    ).fetchall()
    assert kinds == [("clean_crm__activities", "BASE TABLE")]


REFERENCE = """
    select * from (values
        ('R1', 1000.10::decimal(18, 2), 0.5::double, date '2026-11-02'),
        ('R2', 250.00::decimal(18, 2), 0.25::double, date '2026-11-03'),
        ('R3', null, null, null)
    ) as t(rep_id, amount, rate, day)
"""


def _engines_differ(tmp_path: Path, other_sql: str) -> list[str]:
    """compare_warehouses(engines=True) of a warehouse holding REFERENCE and one holding `other_sql` of it."""
    for name, sql in (("a", REFERENCE), ("b", other_sql.replace("reference", f"({REFERENCE})"))):
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
        con.execute(f"create schema marts; create table marts.t as {sql}")
        con.close()
    return compare_warehouses(tmp_path / "a.duckdb", tmp_path / "b.duckdb", engines=True)


@pytest.mark.parametrize(
    ("other", "problem"),
    [
        ("select * from reference", None),
        # the other engine's types and row order may differ: values decide
        ("select * from reference order by rep_id desc", None),
        ("select rep_id, amount::double as amount, rate, day from reference", None),
        ("select rep_id, amount::decimal(28, 6) + 0.004 as amount, rate, day from reference", None),
        ("select rep_id, amount + 0.01 as amount, rate, day from reference", "marts.t: amount 2 rows differ"),
        ("select rep_id, amount, rate + 5e-10 as rate, day from reference", None),
        ("select rep_id, amount, rate + 2e-9 as rate, day from reference", "marts.t: rate 2 rows differ"),
        (
            "select rep_id, coalesce(amount, 0) as amount, rate, day from reference",
            "marts.t: amount 1 row differs, e.g. None vs Decimal('0.00')",
        ),
        (
            "select rep_id, amount, rate, day + 1 as day from reference",
            "marts.t: day 2 rows differ, e.g. datetime.date(2026, 11, 2) vs datetime.date(2026, 11, 3)",
        ),
        ("select * from reference where rep_id <> 'R2'", "marts.t: row count 3 in a, 2 in b"),
        ("select rep_id, amount, day from reference", "marts.t: columns differ: only in a: rate"),
    ],
)
def test_engines_agree_on_money_to_the_cent_and_rates_to_1e9(tmp_path, other, problem):
    differences = _engines_differ(tmp_path, other)
    if problem is None:
        assert differences == []
    else:
        assert any(line.startswith(problem) for line in differences), differences


def test_a_machine_without_java_is_told_what_spark_needs(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert java_missing() == (
        "no Java on PATH: Spark needs Java 17 or newer (Debian: apt-get install default-jre-headless)"
    )
    old_java = tmp_path / "java"  # a Java 8 prints its version as 1.8
    old_java.write_text("#!/bin/sh\necho 'openjdk version \"1.8.0_402\"' >&2\n")
    old_java.chmod(0o755)
    assert java_missing() == 'Spark needs Java 17 or newer; `java -version` says: openjdk version "1.8.0_402"'
