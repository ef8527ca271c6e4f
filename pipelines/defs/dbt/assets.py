"""dbt models, seeds and tests as Dagster assets and asset checks."""

from collections.abc import Mapping
from datetime import date
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from pipelines.defs.dbt.project import dbt_project
from pipelines.defs.resources import ReleaseResource
from pipelines.lib.build_report import DBT_MODE_PREFIX, DBT_RESULTS_PREFIX
from pipelines.lib.dbt_args import dbt_build_args, dbt_environment, prune_run_targets
from pipelines.lib.engine import (
    SPARK_DIR_VARIABLE,
    engine,
    export_raw_tables,
    import_spark_tables,
    java_missing,
    reset_spark_catalog,
    spark_dir,
)
from pipelines.lib.incremental import (
    ensure_built_files_table,
    full_refresh_reason,
    new_files_count,
    project_checksum,
    record_dbt_build,
)
from pipelines.lib.ingest import first_extract_date, has_initial_delivery


class SalesReviewTranslator(DagsterDbtTranslator):
    """dbt sources point at the ingest assets (raw_<system>/<entity>), so the graph runs file -> pack;
    models are grouped by layer (staging / intermediate / marts)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else None


class DbtBuildConfig(dg.Config):
    as_of_date: str | None = None  # YYYY-MM-DD: rebuild from the extracts delivered up to that date
    full_refresh: bool = False  # rebuild the incremental models from all rows even when not needed


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=SalesReviewTranslator(),
)
def sales_review_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, release: ReleaseResource, config: DbtBuildConfig
):
    as_of = date.fromisoformat(config.as_of_date) if config.as_of_date else None
    if as_of is not None:
        with release.connect(read_only=True) as con:
            first = first_extract_date(con)
            history = has_initial_delivery(con)  # its rows count from their own dates
        if first is None or (as_of < first and not history):
            raise dg.Failure(
                description=(
                    f"no extract exists on or before {as_of}: "
                    + (f"the first extract loaded is {first}. " if first else "nothing is loaded yet. ")
                    + "Choose an as-of date on or after the first extract."
                ),
                allow_retries=False,
            )
    checksum = project_checksum(dbt_project.project_dir)
    on_spark = engine() == "spark"
    if on_spark and (missing := java_missing()):
        raise dg.Failure(description=f"SRW_ENGINE=spark: {missing}", allow_retries=False)
    spark = spark_dir(release.paths.warehouse_path)
    with release.connect() as con:
        ensure_built_files_table(con)
        if (
            on_spark
        ):  # Spark reads the raw tables as Parquet, and rebuilds every model (pipelines/lib/engine.py)
            reset_spark_catalog(spark)
            exported = export_raw_tables(con, spark / "raw")
            context.log.info(f"Spark: {exported} raw tables exported as Parquet to {spark / 'raw'}")
            reason = "Spark rebuilds every model"
        else:
            reason = "asked for" if config.full_refresh else full_refresh_reason(con, as_of, checksum)
        new_files = new_files_count(con)
    context.log.info(
        DBT_MODE_PREFIX
        + (
            f"full refresh ({reason})"
            if reason
            else f"incremental ({new_files} new file(s) since the last build)"
        )
    )
    # dbt writes the warehouse of the release being built, not the published one.
    with dbt_environment(
        release.build_warehouse_path, **({SPARK_DIR_VARIABLE: str(spark)} if on_spark else {})
    ):
        invocation = dbt.cli(dbt_build_args(as_of, full_refresh=reason is not None), context=context)
    # seconds per node are in its run_results.json (`salesreview benchmark` splits models from tests)
    context.log.info(DBT_RESULTS_PREFIX + str(invocation.target_path / "run_results.json"))
    yield from invocation.stream()
    if invocation.is_successful():
        with release.connect() as con:
            if on_spark:  # what the checks, verification and packs read: the tables Spark built
                imported = import_spark_tables(con, spark / "warehouse")
                context.log.info(f"Spark: {imported} tables copied into the warehouse file")
            record_dbt_build(con, as_of, checksum)
    prune_run_targets(dbt_project.target_path)
