"""Ingest assets, built from the extract contract: one per entity, keyed raw_<system>/<entity>.

Each asset is a thin wrapper around pipelines.lib.ingest.ingest_entity (the logic and its tests
live there). All of them write to DuckDB, so they share the one-writer pool.

Each asset carries three asset checks, evaluated in the same step right after the load:
- `contract` (blocking): the Great Expectations suite built from the contract, run on the files
  loaded in this run (quality/expectations.py). When it fails, nothing of the entity is loaded, the
  step fails with the message naming file, row, column and value, and the dbt build and the packs
  downstream do not run: the marts and the site keep the previous good build.
- `freshness` (blocking): every expected extract arrived (quality/delivery_checks.py).
- `completeness` (warning, not blocking): today's row count against the trailing same-weekday average.
"""

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import WRITER_POOL, LandingResource, WarehouseResource
from pipelines.lib.ingest import ExtractContractError, IngestReport, ingest_entity
from quality.contract import Contract, Entity, load_contract
from quality.delivery_checks import check_completeness, check_freshness

CONTRACT_CHECK = "contract"
FRESHNESS_CHECK = "freshness"
COMPLETENESS_CHECK = "completeness"
MAX_DESCRIPTION_CHARS = 4000


def check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            CONTRACT_CHECK,
            asset=key,
            blocking=True,
            description=(
                "The new files meet the extract contract (quality/contract/extracts.yml), checked with the "
                "Great Expectations suite built from it: required values, types, allowed values, patterns, "
                "ranges, primary key unique within a file; plus header, fields per line and row counts. "
                "On failure nothing of the entity is loaded and the marts are not rebuilt."
            ),
        ),
        dg.AssetCheckSpec(
            FRESHNESS_CHECK,
            asset=key,
            blocking=True,
            description=(
                "Every expected extract arrived: the latest complete delivery is the latest delivery date of "
                "any system, with no missing day in between. On failure the marts are not rebuilt."
            ),
        ),
        dg.AssetCheckSpec(
            COMPLETENESS_CHECK,
            asset=key,
            blocking=False,
            description=(
                "Today's row count is not far below the trailing same-weekday average (a warning: the build "
                "goes on)."
            ),
        ),
    ]


def _contract_result(key: dg.AssetKey, report: IngestReport | None, error: ExtractContractError | None):
    if error is not None:
        message = str(error)
        if len(message) > MAX_DESCRIPTION_CHARS:
            message = message[: MAX_DESCRIPTION_CHARS - 20] + "\n... (see the run log)"
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=CONTRACT_CHECK,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=message,
            metadata={
                "files": error.files_checked,
                "rows": error.rows_checked,
                "failures": sum(error.problem_counts.values()),
                "failing_files": dg.MetadataValue.md(
                    "\n".join(f"- {f}" for f in sorted(error.problem_counts))
                ),
            },
        )
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CONTRACT_CHECK,
        passed=True,
        description=(
            f"{report.files_loaded} new file(s), {report.rows_checked} row(s) meet the contract "
            f"({report.expectations_checked} expectations)."
            if report.files_loaded
            else "No new files to check."
        ),
        metadata={
            "files": report.files_loaded,
            "rows": report.rows_checked,
            "failures": 0,
            "expectations": report.expectations_checked,
        },
    )


def _delivery_results(con, contract: Contract, entity: Entity, key: dg.AssetKey, landing_dir: Path):
    freshness = check_freshness(con, contract, entity, landing_dir)
    completeness = check_completeness(con, entity)
    return [
        dg.AssetCheckResult(
            asset_key=key,
            check_name=FRESHNESS_CHECK,
            passed=freshness.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=freshness.description,
            metadata=freshness.metadata,
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name=COMPLETENESS_CHECK,
            passed=completeness.passed,
            severity=dg.AssetCheckSeverity.WARN,
            description=completeness.description,
            metadata=completeness.metadata,
        ),
    ]


def build_ingest_asset(contract: Contract, entity: Entity) -> dg.AssetsDefinition:
    key = dg.AssetKey([entity.raw_schema, entity.name])

    @dg.asset(
        key=key,
        group_name=entity.raw_schema,
        description=(
            f"{entity.label_zh} - {entity.description} Raw text as delivered ({entity.load_mode} extract, "
            f"primary key {', '.join(entity.primary_key)}), one row per file row, with lineage columns."
        ),
        pool=WRITER_POOL,
        kinds={"duckdb"},
        metadata={
            "dagster/table_name": entity.raw_table,
            "dagster/column_schema": dg.TableSchema(
                columns=[dg.TableColumn(c.name, "varchar", description=c.description) for c in entity.columns]
            ),
            "load_mode": entity.load_mode,
            "primary_key": ", ".join(entity.primary_key),
        },
        check_specs=check_specs(key),
    )
    def ingest(context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource):
        landing_dir = Path(landing.landing_dir)
        with warehouse.connect() as con:
            try:
                report = ingest_entity(con, contract, entity.name, landing_dir, Path(landing.archive_dir))
            except ExtractContractError as error:
                # Record the failed checks, then fail the step: nothing was loaded, so the asset is not
                # materialized, and the steps downstream (dbt, packs) are skipped.
                yield _contract_result(key, None, error)
                yield from _delivery_results(con, contract, entity, key, landing_dir)
                raise
            table_rows = con.execute(f"select count(*) from {entity.raw_table}").fetchone()[0]
            delivery_results = _delivery_results(con, contract, entity, key, landing_dir)
        for problem in report.incomplete_deliveries:
            context.log.warning(f"skipped incomplete delivery (loads once complete): {problem}")
        for result in delivery_results:
            if not result.passed:
                log = (
                    context.log.error
                    if result.severity == dg.AssetCheckSeverity.ERROR
                    else context.log.warning
                )
                log(f"{result.check_name} check failed: {result.description}")
        meta = report.to_metadata()
        yield dg.MaterializeResult(
            metadata={
                **{k: v for k, v in meta.items() if k != "incomplete_deliveries"},
                "dagster/row_count": table_rows,
                "incomplete_deliveries": len(report.incomplete_deliveries),
                "incomplete_delivery_problems": dg.MetadataValue.md(
                    "\n".join(f"- {p}" for p in report.incomplete_deliveries) or "none"
                ),
            },
            check_results=[_contract_result(key, report, None), *delivery_results],
        )

    return ingest


def build_ingest_assets(contract: Contract) -> list[dg.AssetsDefinition]:
    return [build_ingest_asset(contract, entity) for entity in contract.entities]


ingest_assets = build_ingest_assets(load_contract())
