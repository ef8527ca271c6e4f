"""Ingest assets, built from the extract contract: one per entity, keyed raw_<system>/<entity>.

Each asset is a thin wrapper around pipelines.lib.ingest.ingest_entity (the logic and its tests
live there). All of them write to DuckDB, so they share the one-writer pool.
"""

from pathlib import Path

import dagster as dg

from pipelines.defs.resources import WRITER_POOL, LandingResource, WarehouseResource
from pipelines.lib.ingest import ingest_entity
from quality.contract import Contract, Entity, load_contract


def build_ingest_asset(contract: Contract, entity: Entity) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([entity.raw_schema, entity.name]),
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
    )
    def ingest(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource
    ) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            report = ingest_entity(
                con, contract, entity.name, Path(landing.landing_dir), Path(landing.archive_dir)
            )
            table_rows = con.execute(f"select count(*) from {entity.raw_table}").fetchone()[0]
        for problem in report.incomplete_deliveries:
            context.log.warning(f"skipped incomplete delivery (loads once complete): {problem}")
        meta = report.to_metadata()
        return dg.MaterializeResult(
            metadata={
                **{k: v for k, v in meta.items() if k != "incomplete_deliveries"},
                "dagster/row_count": table_rows,
                "incomplete_deliveries": len(report.incomplete_deliveries),
                "incomplete_delivery_problems": dg.MetadataValue.md(
                    "\n".join(f"- {p}" for p in report.incomplete_deliveries) or "none"
                ),
            }
        )

    return ingest


def build_ingest_assets(contract: Contract) -> list[dg.AssetsDefinition]:
    return [build_ingest_asset(contract, entity) for entity in contract.entities]


ingest_assets = build_ingest_assets(load_contract())
