"""The packs by period: one partition per finished week (Monday to Sunday) and per finished quarter.

The nightly build renders the latest finished week and quarter with the marts it publishes. These
partitioned assets render any week or quarter again from the published warehouse: the Monday and
quarter-start schedules record each finished period as a partition (so the UI shows which periods have
packs), and a backfill over a range of weeks or quarters fills the site's archive, e.g. after a first
load of history (UI: the asset's Partitions tab -> Materialize; CLI: `salesreview backfill-packs`). A
past period is rendered from the warehouse as it is now: for the pack exactly as it was known then, build
as of that day (`salesreview build --as-of`).
"""

from datetime import date

import dagster as dg

from pipelines.defs.partitions import TIMEZONE
from pipelines.defs.resources import PUBLISH_KEY, ReleaseResource
from reports.context import Period, as_of_date, connect_readonly
from reports.renderer import render_site

WEEKLY_PACKS_KEY = dg.AssetKey(["reports", "weekly_packs"])
QUARTERLY_PACKS_KEY = dg.AssetKey(["reports", "quarterly_packs"])

pack_weeks = dg.WeeklyPartitionsDefinition(start_date="2020-01-06", day_offset=1, timezone=TIMEZONE)
pack_quarters = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1,4,7,10 *", start="2020-01-01", fmt="%Y-%m-%d", timezone=TIMEZONE
)


def _render_periods(
    context: dg.AssetExecutionContext, release: ReleaseResource, kind: str
) -> dg.MaterializeResult:
    """Render the packs of every period of this run (one, or a backfill's range), then publish."""
    starts = [date.fromisoformat(key) for key in context.partition_keys]
    con = connect_readonly(release.build_warehouse_path)
    try:
        as_of, _ = as_of_date(con)
    finally:
        con.close()
    periods = [Period.week(s) if kind == "week" else Period.quarter(s) for s in starts]
    unfinished = [p.label for p in periods if p.end > as_of]
    if unfinished:
        raise dg.Failure(
            description=(
                f"not finished in the warehouse (data as of {as_of}): {', '.join(unfinished)}. "
                "A pack is rendered once its period has ended and its last day is loaded."
            ),
            allow_retries=False,
        )
    written = 0
    for start in starts:
        files = render_site(
            release.build_warehouse_path,
            release.build_site_dir,
            week_start=start if kind == "week" else None,
            quarter_start=start if kind == "quarter" else None,
            kinds=(kind,),
        )
        written += len(files)
        context.log.info(f"rendered the {kind} packs of {start} ({len(files)} files)")
    release.release.publish({"as_of_date": str(as_of), "packs": [str(s) for s in starts]})
    return dg.MaterializeResult(
        metadata={"periods": [str(s) for s in starts], "files_written": written, "data_as_of": str(as_of)}
    )


@dg.asset(
    key=WEEKLY_PACKS_KEY,
    group_name="reports",
    deps=[PUBLISH_KEY],
    partitions_def=pack_weeks,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"html"},
    description=(
        "The weekly packs (目标-成果-问题-计划) of one finished week, for the company and each region, in "
        "Chinese and English, rendered from the published warehouse and published with the site."
    ),
)
def weekly_packs(context: dg.AssetExecutionContext, release: ReleaseResource) -> dg.MaterializeResult:
    return _render_periods(context, release, "week")


@dg.asset(
    key=QUARTERLY_PACKS_KEY,
    group_name="reports",
    deps=[PUBLISH_KEY],
    partitions_def=pack_quarters,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"html"},
    description=(
        "The quarterly packs of one finished quarter, for the company and each region, in Chinese and "
        "English, rendered from the published warehouse and published with the site."
    ),
)
def quarterly_packs(context: dg.AssetExecutionContext, release: ReleaseResource) -> dg.MaterializeResult:
    return _render_periods(context, release, "quarter")


weekly_packs_job = dg.define_asset_job(
    "weekly_packs",
    selection=[WEEKLY_PACKS_KEY],
    executor_def=dg.in_process_executor,
)
quarterly_packs_job = dg.define_asset_job(
    "quarterly_packs",
    selection=[QUARTERLY_PACKS_KEY],
    executor_def=dg.in_process_executor,
)
# After the 02:00 nightly build has loaded the period's last day: Monday (the week that ended on Sunday)
# and the first day of a quarter (the quarter that ended the day before), 06:00 China time.
weekly_packs_schedule = dg.build_schedule_from_partitioned_job(
    weekly_packs_job, hour_of_day=6, default_status=dg.DefaultScheduleStatus.RUNNING
)


@dg.schedule(
    name="quarterly_packs_schedule",
    job=quarterly_packs_job,
    cron_schedule="0 6 1 1,4,7,10 *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def quarterly_packs_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    # (a partitioned job's own schedule would fire at 00:00, before the night that loads the last day)
    today = context.scheduled_execution_time.date()
    finished = Period.quarter(date(today.year, today.month, 1)).previous()
    return dg.RunRequest(partition_key=finished.start.isoformat())
