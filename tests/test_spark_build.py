"""The same company built on Apache Spark (SRW_ENGINE=spark, a local session) holds the same marts as its
DuckDB build: same rows, money to the cent, rates to 1e-9. Needs a Java runtime (17 or newer), which
.ci/run installs; without one these tests are skipped, saying so."""

from __future__ import annotations

import json
import shutil
from datetime import date

import duckdb
import pytest

from pipelines.lib.engine import java_missing, spark_tables
from pipelines.lib.warehouse_diff import compare_warehouses

END_DATE = date(2026, 11, 19)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.spark,
    pytest.mark.skipif(java_missing() is not None, reason=java_missing() or ""),
]


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory, salesreview, dbt_manifest):
    """One company with labelled defects (every class: the detectors have something to flag), built from
    the same deliveries on DuckDB and, from nothing, on Spark: (duckdb root, spark root, Spark output)."""
    from pipelines.sample.generator import generate

    base = tmp_path_factory.mktemp("engines")
    generate(
        base / "landing", scale=0.15, seed=13, end_date=END_DATE, days=70, labels_path=base / "labels.csv"
    )
    # a labelled company holds back far more revenue than the 10 % a real night may (quality/DEFECTS.md)
    publish_anyway = {"SRW_DBT_VARS": json.dumps({"max_held_back_won_share": 1})}
    roots = {}
    for engine in ("duckdb", "spark"):
        root = base / engine
        shutil.copytree(base / "landing", root / "landing")
        result = salesreview(
            ["build"], root, SRW_ENGINE=engine, SRW_SPARK_DIR=str(root / "spark"), **publish_anyway
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        roots[engine] = (root, result)
    return roots["duckdb"][0], roots["spark"][0], roots["spark"][1]


def test_spark_builds_the_company_end_to_end(two_builds):
    _, root, result = two_builds
    assert "nightly build succeeded" in result.stdout
    assert "dbt: full refresh (Spark rebuilds every model)" in result.stdout
    built = {(schema, table) for schema, table, _ in spark_tables(root / "spark" / "warehouse")}
    # every layer ran on Spark, the raw tables were read from Parquet
    layers = {"staging", "quality", "clean", "intermediate", "marts", "seeds"}
    assert {schema for schema, _ in built} >= layers
    assert (root / "spark" / "raw" / "raw_crm" / "opportunities").is_dir()
    assert sorted((root / "site" / "weekly").iterdir())  # the packs were rendered from the Spark marts


def test_every_mart_built_on_spark_equals_the_duckdb_build(two_builds):
    duckdb_root, spark_root, _ = two_builds
    with duckdb.connect(str(duckdb_root / "warehouse.duckdb"), read_only=True) as con:
        marts = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        flagged = dict(
            con.execute("select rule_id, count(*) from quality.quarantine group by all").fetchall()
        )
    from_spark = sorted(t for s, t, _ in spark_tables(spark_root / "spark" / "warehouse") if s == "marts")
    assert from_spark == marts  # each mart the packs read on the Spark company is Spark's own table
    assert len(marts) >= 40
    assert len(flagged) >= 15, flagged  # most rules flag something, so the detectors are compared on rows
    # the marts and the quality layer (detectors, quarantine): same rows, money to the cent, rates to 1e-9
    differences = compare_warehouses(
        duckdb_root / "warehouse.duckdb", spark_root / "warehouse.duckdb", ("marts", "quality"), engines=True
    )
    assert differences == []
