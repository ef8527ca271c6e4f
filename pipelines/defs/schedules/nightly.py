"""The nightly build: ingest the day's extracts, rebuild the marts, render the packs."""

import dagster as dg

nightly_build = dg.define_asset_job(
    name="nightly_build",
    selection=dg.AssetSelection.all(),
    # DuckDB allows one writing process: run every step in one process, one after another.
    executor_def=dg.in_process_executor,
    description="Landing extracts -> raw tables -> dbt marts (with tests) -> review packs.",
)

# After the CRM and ERP exports land (they are expected by 01:00 China time).
nightly_schedule = dg.ScheduleDefinition(
    name="nightly_build_schedule",
    job=nightly_build,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
