"""The landing sensor: a new complete delivery starts the nightly build for its extract date.

Every `SRW_SENSOR_INTERVAL_SECONDS` (120) the daemon asks pipelines.lib.delivery_watch what is new in the
landing folder against the published warehouse. A date whose deliveries are complete for every system
gets a run of `nightly_build` for that partition (several dates at once: one run for the range); a date
with one system only waits `SRW_SENSOR_WAIT_FOR_OTHERS_MINUTES` (120) for the others, then runs anyway
(its freshness check names the missing system). An incomplete delivery is reported once. The run key is
made of the manifests' SHA-256, so a delivery is never built twice and a corrected one is built again.
"""

from __future__ import annotations

import os
from datetime import timedelta

import dagster as dg

from pipelines.defs.schedules.nightly import nightly_build
from pipelines.lib.delivery_watch import (
    DELIVERIES_TAG,
    TRIGGER_TAG,
    dump_cursor,
    loaded_shas,
    watch_landing,
)
from pipelines.lib.nightly_run import nightly_run_config, partition_range_tags
from pipelines.lib.settings import Settings
from quality.contract import load_contract

INTERVAL_VARIABLE = "SRW_SENSOR_INTERVAL_SECONDS"
GRACE_VARIABLE = "SRW_SENSOR_WAIT_FOR_OTHERS_MINUTES"
SENSOR_TRIGGER = "landing_sensor"
MAX_TAG_CHARS = 4000  # Dagster tag values are limited; a first load of many days lists the first ones


def grace_period() -> timedelta:
    return timedelta(minutes=float(os.environ.get(GRACE_VARIABLE, "120")))


@dg.sensor(
    name="landing_sensor",
    job=nightly_build,
    minimum_interval_seconds=int(os.environ.get(INTERVAL_VARIABLE, "120")),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "A new complete delivery in the landing folder starts nightly_build for its extract date; an "
        "incomplete one is reported once and built when it is complete."
    ),
)
def landing_sensor(context: dg.SensorEvaluationContext):
    settings = Settings.from_env()
    contract = load_contract()
    try:
        loaded = loaded_shas(settings.warehouse_path)
    except Exception as error:  # noqa: BLE001 - try again next tick rather than rebuild everything
        return dg.SkipReason(f"could not read the published warehouse {settings.warehouse_path}: {error}")
    result = watch_landing(settings.landing_dir, contract, loaded, context.cursor, grace=grace_period())
    for report in result.reports:
        context.log.warning(report)
    for note in result.notes:
        context.log.info(note)
    cursor = dump_cursor(result.cursor)
    if result.run is None:
        # Say what is wrong the first time it is seen; later ticks stay quiet until it changes.
        reason = "\n".join(result.reports + result.notes) or result.status
        return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=cursor)
    run = result.run
    tags = {TRIGGER_TAG: SENSOR_TRIGGER, DELIVERIES_TAG: ",".join(run.deliveries)[:MAX_TAG_CHARS]}
    if run.partition_key is None:  # several dates: one run for the range (one release, one dbt build)
        tags |= partition_range_tags(run.first, run.last)
    context.log.info(result.status)
    request = dg.RunRequest(
        run_key=run.run_key,
        partition_key=run.partition_key,
        # The sensor saw something new before it asked for the run: the run need not find something new
        # again (a run queued behind another that already loaded the same day rebuilds, it does not fail).
        run_config=nightly_run_config(require_new_delivery=False),
        tags=tags,
    )
    return dg.SensorResult(run_requests=[request], cursor=cursor)
