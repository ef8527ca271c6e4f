"""Ingest assets, built from the extract contract: one step per source system, which loads the
system's new deliveries all or nothing (pipelines.lib.ingest.ingest_system, where the logic and its
tests live) into one asset per extract, raw_<system>/<entity>, plus raw_meta/<system>_deliveries, the
system's delivery log. Single rows that break the contract are set aside (raw_meta.rejected_rows)
while the rest of their file loads, up to the entity's max_rejected_share of the file.

Checks, evaluated in the same step:
- `delivery` (blocking) on the delivery log: every new delivery is complete (its files match the
  manifest), plausibly dated (not after today, not before the first delivery) and its files meet the
  contract. Otherwise nothing of the system is loaded, every problem is listed once, and the build
  stops before dbt: the published warehouse and site stay as they were.
- `freshness` (blocking) on the delivery log: every expected day arrived, and the build brought
  something new (quality/delivery_checks.py).
- `contract` (blocking) on each raw table: its new files meet the contract (the problems of that
  table's files, when the delivery is refused because of them).
- `quarantine` (warning) on each raw table: no row of its new files was set aside; otherwise the count
  per file and the first rows with their reasons (the build goes on).
- `completeness` (warning) on each raw table: today's row count against the same-weekday average.
"""

from datetime import date
from pathlib import Path

import dagster as dg

from pipelines.defs.partitions import extract_date_range, extract_dates
from pipelines.defs.resources import LandingResource, ReleaseResource
from pipelines.lib.ingest import (
    LOADED_FILES_TABLE,
    REJECTED_ROWS_TABLE,
    DeliveryRefused,
    IngestReport,
    SystemIngestReport,
    ingest_system,
    today_in_china,
)
from pipelines.lib.removals import pending_removals
from quality.contract import Contract, Entity, load_contract
from quality.delivery_checks import DeliveryCheck, check_completeness, check_freshness

DELIVERY_CHECK = "delivery"
CONTRACT_CHECK = "contract"
QUARANTINE_CHECK = "quarantine"
FRESHNESS_CHECK = "freshness"
COMPLETENESS_CHECK = "completeness"
MAX_DESCRIPTION_CHARS = 8000


class IngestConfig(dg.Config):
    # A nightly build must bring a new delivery from every system that delivered before; a deliberate
    # rebuild of what is loaded (`salesreview build --rebuild`, `make run`, an as-of build) need not.
    require_new_delivery: bool = True


def deliveries_key(system: str) -> dg.AssetKey:
    return dg.AssetKey(["raw_meta", f"{system}_deliveries"])


def raw_key(entity: Entity) -> dg.AssetKey:
    return dg.AssetKey([entity.raw_schema, entity.name])


def _check_specs(contract: Contract, system: str) -> list[dg.AssetCheckSpec]:
    log = deliveries_key(system)
    specs = [
        dg.AssetCheckSpec(
            DELIVERY_CHECK,
            asset=log,
            blocking=True,
            description=(
                "Every new delivery is complete (each file matches the manifest's SHA-256), dated no later "
                "than today and no earlier than the first delivery, and its files meet the extract contract. "
                "Otherwise nothing of the system is loaded and the night is not published."
            ),
        ),
        dg.AssetCheckSpec(
            FRESHNESS_CHECK,
            asset=log,
            blocking=True,
            description=(
                "Every expected day arrived: the latest delivery loaded is the latest of any system, no day "
                "is missing, and the night brought a new delivery. Otherwise the night is not published."
            ),
        ),
    ]
    for entity in contract.entities_of(system):
        specs += [
            dg.AssetCheckSpec(
                CONTRACT_CHECK,
                asset=raw_key(entity),
                blocking=True,
                description=(
                    "The new files meet the extract contract (quality/contract/extracts.yml): readable UTF-8 "
                    "CSV, header, fields per line, row count against the manifest, no control characters, "
                    "then the value rules built from it, checked in SQL (required values, types, allowed "
                    "values, patterns, ranges, primary key unique within a file). Rows that break it are "
                    "set aside unless more than the entity's max_rejected_share of a file's rows do."
                ),
            ),
            dg.AssetCheckSpec(
                QUARANTINE_CHECK,
                asset=raw_key(entity),
                blocking=False,
                description=(
                    f"No row of the new files broke the contract (a warning: the build goes on). Rows "
                    f"that did are set aside in {REJECTED_ROWS_TABLE} with file, row, column, value and "
                    "reason; the rest of their file loads."
                ),
            ),
            dg.AssetCheckSpec(
                COMPLETENESS_CHECK,
                asset=raw_key(entity),
                blocking=False,
                description=(
                    "Today's row count is not far below the trailing same-weekday average (a warning: the "
                    "build goes on)."
                ),
            ),
        ]
    return specs


def _clip(text: str) -> str:
    if len(text) <= MAX_DESCRIPTION_CHARS:
        return text
    return text[: MAX_DESCRIPTION_CHARS - 30] + "\n... (the rest is in the run log)"


def _result(key: dg.AssetKey, name: str, check: DeliveryCheck, severity=dg.AssetCheckSeverity.ERROR):
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=name,
        passed=check.passed,
        severity=severity,
        description=_clip(check.description),
        metadata=check.metadata,
    )


def _refused_results(contract: Contract, system: str, refused: DeliveryRefused):
    """Failed checks naming every problem once: the delivery's own problems on the delivery log, each
    refused file's problems on its table."""
    yield dg.AssetCheckResult(
        asset_key=deliveries_key(system),
        check_name=DELIVERY_CHECK,
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        description=_clip(
            refused.summary()
            + (
                "\n" + refused.describe_deliveries()
                if refused.delivery_problems
                else " The files' problems are in the contract checks of their tables."
            )
        ),
        metadata={
            "refused_dates": ", ".join(refused.refused_dates),
            "delivery_problems": len(refused.delivery_problems),
            "files_with_problems": sum(len(e.problem_counts) for e in refused.entity_errors.values()),
        },
    )
    for name, error in refused.entity_errors.items():
        yield dg.AssetCheckResult(
            asset_key=raw_key(contract.entity(name)),
            check_name=CONTRACT_CHECK,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=_clip(str(error)),
            metadata={
                "files": error.files_checked,
                "rows": error.rows_checked,
                "failures": sum(error.problem_counts.values()),
                "failing_files": dg.MetadataValue.md(
                    "\n".join(f"- {f}" for f in sorted(error.problem_counts))
                ),
            },
        )


def build_ingest_asset(contract: Contract, system: str) -> dg.AssetsDefinition:
    entities = contract.entities_of(system)
    specs = [
        dg.AssetSpec(
            deliveries_key(system),
            group_name=f"raw_{system}",
            description=(
                f"The {system} deliveries loaded: one row per extract file in {LOADED_FILES_TABLE} (date, "
                "SHA-256, rows, archived original), with the delivery and freshness checks of the system."
            ),
            kinds={"duckdb"},
            metadata={"dagster/table_name": LOADED_FILES_TABLE},
        )
    ]
    specs += [
        dg.AssetSpec(
            raw_key(entity),
            group_name=entity.raw_schema,
            description=(
                f"{entity.label_zh} - {entity.description} Raw text as delivered ({entity.load_mode} "
                f"extract, primary key {', '.join(entity.primary_key)}), one row per file row, with lineage "
                "columns."
            ),
            kinds={"duckdb"},
            metadata={
                "dagster/table_name": entity.raw_table,
                "dagster/column_schema": dg.TableSchema(
                    columns=[
                        dg.TableColumn(c.name, "varchar", description=c.description) for c in entity.columns
                    ]
                ),
                "load_mode": entity.load_mode,
                "primary_key": ", ".join(entity.primary_key),
            },
        )
        for entity in entities
    ]

    @dg.multi_asset(
        name=f"raw_{system}",
        specs=specs,
        check_specs=_check_specs(contract, system),
        partitions_def=extract_dates,
        # a backfill of many days is one run: one release, one dbt build, one publish
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def ingest(
        context: dg.AssetExecutionContext,
        config: IngestConfig,
        release: ReleaseResource,
        landing: LandingResource,
    ):
        landing_dir = Path(landing.landing_dir)
        today = today_in_china()
        removals = pending_removals(release.paths)
        dates = extract_date_range(context)
        with release.connect() as con:
            try:
                report = ingest_system(
                    con,
                    contract,
                    system,
                    landing_dir,
                    Path(landing.archive_dir),
                    today=today,
                    removals=removals,
                    dates=dates,
                )
            except DeliveryRefused as refused:
                yield from _refused_results(contract, system, refused)
                raise dg.Failure(description=str(refused), allow_retries=False) from None
            freshness = check_freshness(
                con,
                contract,
                system,
                landing_dir,
                today=today,
                loaded_this_build=report.deliveries_loaded,
                require_new_delivery=config.require_new_delivery,
                removed={(r.system, r.extract_date) for r in removals},
                up_to=date.fromisoformat(dates[1]) if dates else None,
            )
            completeness = {e.name: check_completeness(con, e) for e in entities}
            row_counts = {
                e.name: con.execute(f"select count(*) from {e.raw_table}").fetchone()[0] for e in entities
            }
        for line in report.describe_waiting():
            context.log.info(f"waiting: {line}")
        if not freshness.passed:
            yield _result(deliveries_key(system), FRESHNESS_CHECK, freshness)
            raise dg.Failure(description=freshness.description, allow_retries=False)
        yield _delivery_log_result(system, report, freshness)
        for entity in entities:
            yield _table_result(entity, report, row_counts[entity.name], completeness[entity.name])

    return ingest


def _table_result(entity: Entity, report: SystemIngestReport, row_count: int, completeness: DeliveryCheck):
    loaded = report.entities[entity.name]
    return dg.MaterializeResult(
        asset_key=raw_key(entity),
        metadata={**loaded.to_metadata(), "dagster/row_count": row_count},
        check_results=[
            dg.AssetCheckResult(
                asset_key=raw_key(entity),
                check_name=CONTRACT_CHECK,
                passed=True,
                description=_contract_description(loaded),
                metadata={
                    "files": loaded.files_loaded,
                    "rows": loaded.rows_checked,
                    "rows_quarantined": loaded.rows_quarantined,
                },
            ),
            _quarantine_result(entity, loaded),
            _result(raw_key(entity), COMPLETENESS_CHECK, completeness, dg.AssetCheckSeverity.WARN),
        ],
    )


def _contract_description(loaded: IngestReport) -> str:
    if not loaded.files_loaded:
        return "No new files to check."
    checked = f"{loaded.files_loaded} new file(s), {loaded.rows_checked} row(s) checked "
    checked += f"({loaded.expectations_checked} expectations): "
    if not loaded.rows_quarantined:
        return checked + "they meet the contract."
    return checked + (
        f"{loaded.rows_quarantined} row(s) break it and were set aside (see the quarantine check), "
        "within the share the contract allows."
    )


def _quarantine_result(entity: Entity, loaded: IngestReport) -> dg.AssetCheckResult:
    """A warning naming the rows of the new files that were set aside, per file, with the first reasons."""
    return dg.AssetCheckResult(
        asset_key=raw_key(entity),
        check_name=QUARANTINE_CHECK,
        passed=not loaded.rows_quarantined,
        severity=dg.AssetCheckSeverity.WARN,
        description=_clip(loaded.describe_quarantine())
        if loaded.rows_quarantined
        else ("No row of the new files was set aside." if loaded.files_loaded else "No new files."),
        metadata={
            "rows_read": loaded.rows_read,
            "rows_quarantined": loaded.rows_quarantined,
            "quarantined_by_file": dg.MetadataValue.md(
                "\n".join(
                    f"- {file}: {quarantined} of {read}"
                    for file, (quarantined, read) in loaded.quarantined_files.items()
                )
                or "none"
            ),
        },
    )


def _delivery_log_result(system: str, report: SystemIngestReport, freshness: DeliveryCheck):
    loaded = report.deliveries_loaded
    return dg.MaterializeResult(
        asset_key=deliveries_key(system),
        metadata={
            "deliveries_loaded": len(loaded),
            "rows_quarantined": sum(e.rows_quarantined for e in report.entities.values()),
            "first_loaded": loaded[0] if loaded else "none",
            "last_loaded": loaded[-1] if loaded else "none",
            "waiting": dg.MetadataValue.md("\n".join(f"- {w}" for w in report.describe_waiting()) or "none"),
            "removed_on_request": ", ".join(report.removed) or "none",
        },
        check_results=[
            dg.AssetCheckResult(
                asset_key=deliveries_key(system),
                check_name=DELIVERY_CHECK,
                passed=True,
                description=_delivery_description(report),
            ),
            _result(deliveries_key(system), FRESHNESS_CHECK, freshness),
        ],
    )


def _delivery_description(report: SystemIngestReport) -> str:
    loaded = report.deliveries_loaded
    if not loaded:
        return "No new delivery to load."
    deliveries = "delivery" if len(loaded) == 1 else "deliveries"
    text = f"{len(loaded)} new {deliveries} loaded, complete and meeting the contract"
    quarantined = {name: e.rows_quarantined for name, e in report.entities.items() if e.rows_quarantined}
    if not quarantined:
        return text + "."
    tables = ", ".join(f"{report.entities[name].raw_table} {n}" for name, n in quarantined.items())
    return (
        text
        + f" except {sum(quarantined.values())} row(s) set aside ({tables}; see their quarantine checks)."
    )


def build_ingest_assets(contract: Contract) -> list[dg.AssetsDefinition]:
    return [build_ingest_asset(contract, system) for system in contract.systems]


ingest_assets = build_ingest_assets(load_contract())
