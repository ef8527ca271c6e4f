"""The nightly build: ingest the day's extracts, rebuild the marts, render the packs, publish.

The job runs from the nightly schedule (a run without a partition: it loads every new delivery), from
the landing sensor (pipelines/defs/sensors/landing.py: a run for the extract date, or dates, that just
arrived) and from `salesreview build`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import dagster as dg

from pipelines.defs.reports.partitioned import QUARTERLY_PACKS_KEY, WEEKLY_PACKS_KEY
from pipelines.lib.delivery_watch import TRIGGER_TAG, latest_loads, nightly_already_built
from pipelines.lib.run_recovery import reap_dead_runs_if_idle
from pipelines.lib.run_retention import purge_old_runs
from pipelines.lib.settings import Settings
from quality.contract import load_contract

CRON_VARIABLE = "SRW_NIGHTLY_CRON"
TIMEZONE_VARIABLE = "SRW_NIGHTLY_TIMEZONE"
DEFAULT_CRON = "0 2 * * *"  # after the CRM and ERP exports land (they are expected by 01:00 China time)
DEFAULT_TIMEZONE = "Asia/Shanghai"
SCHEDULE_TRIGGER = "nightly_schedule"
QUEUED_OR_RUNNING = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]

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
    tags={
        # A run the daemon retries (dagster.yaml run_retries: a crashed or killed run, never a data error)
        # starts over: what a step wrote went into the dead run's private release, which was discarded.
        "dagster/retry_strategy": "ALL_STEPS",
    },
)


def _previous_tick(scheduled: datetime, cron: str, timezone: str) -> datetime:
    """The tick of the schedule before `scheduled` (a day before, for a daily cron)."""
    from dagster._utils.schedules import reverse_cron_string_iterator

    ticks = reverse_cron_string_iterator(scheduled.timestamp() - 1, cron, timezone)
    try:
        return next(ticks).astimezone(UTC)
    except StopIteration:  # pragma: no cover - a cron string always has a previous tick
        return scheduled.astimezone(UTC) - timedelta(days=1)


def build_nightly_schedule(
    cron: str = DEFAULT_CRON, timezone: str = DEFAULT_TIMEZONE
) -> dg.ScheduleDefinition:
    """The nightly schedule at `cron` in `timezone` (the code location reads them from the environment)."""

    @dg.schedule(
        name="nightly_build_schedule",
        job=nightly_build,
        cron_schedule=cron,
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            "Every new delivery, built and published (a run without a partition). Skipped when the landing "
            "sensor's runs already built every system's new delivery since the previous tick."
        ),
    )
    def nightly_build_schedule(context: dg.ScheduleEvaluationContext):
        settings = Settings.from_env()
        # A build killed outside the daemon leaves its run "started", which would hold the run queue.
        for note in reap_dead_runs_if_idle(context.instance, settings.release_paths.lock_path):
            context.log.warning(f"recovered: {note}")
        purged = purge_old_runs(context.instance)
        if purged:
            context.log.info(f"deleted {purged} finished run(s) past the run retention")
        pending = context.instance.get_runs(
            filters=dg.RunsFilter(
                job_name=nightly_build.name,
                statuses=QUEUED_OR_RUNNING,
                tags={TRIGGER_TAG: "landing_sensor"},
            ),
            limit=1,
        )
        if pending:
            return dg.SkipReason(
                f"the landing sensor's run {pending[0].run_id} is queued or running: it builds the new "
                "deliveries (a second run would find nothing new)"
            )
        scheduled = context.scheduled_execution_time or datetime.now(UTC)
        try:
            latest = latest_loads(settings.warehouse_path)
        except Exception as error:  # noqa: BLE001 - an unreadable warehouse: run, the build will say
            context.log.warning(f"could not read {settings.warehouse_path}: {error}; running the night")
            latest = {}
        done = nightly_already_built(load_contract(), latest, _previous_tick(scheduled, cron, timezone))
        if done:
            return dg.SkipReason(done)
        return dg.RunRequest(tags={TRIGGER_TAG: SCHEDULE_TRIGGER})

    return nightly_build_schedule


nightly_build_schedule = build_nightly_schedule(
    os.environ.get(CRON_VARIABLE, DEFAULT_CRON), os.environ.get(TIMEZONE_VARIABLE, DEFAULT_TIMEZONE)
)
