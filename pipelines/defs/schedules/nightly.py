"""The nightly build: ingest the day's extracts, rebuild the marts, render the packs, publish."""

import dagster as dg

from pipelines.defs.reports.partitioned import QUARTERLY_PACKS_KEY, WEEKLY_PACKS_KEY
from pipelines.lib.run_recovery import reap_dead_runs_if_idle
from pipelines.lib.settings import Settings

nightly_build = dg.define_asset_job(
    name="nightly_build",
    # every asset but the packs by period (their own jobs render a week or a quarter again)
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(WEEKLY_PACKS_KEY, QUARTERLY_PACKS_KEY),
    # DuckDB allows one writing process: run every step in one process, one after another.
    executor_def=dg.in_process_executor,
    description=(
        "Landing extracts -> raw tables -> dbt marts (with tests) -> review packs -> publish, in a private "
        "copy of the warehouse and site that is published only when every step passed."
    ),
)


# After the CRM and ERP exports land (they are expected by 01:00 China time).
@dg.schedule(
    name="nightly_build_schedule",
    job=nightly_build,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_build_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    # A build killed outside the daemon leaves its run "started", which would hold the run queue.
    for note in reap_dead_runs_if_idle(context.instance, Settings.from_env().release_paths.lock_path):
        context.log.warning(f"recovered: {note}")
    return dg.RunRequest()
