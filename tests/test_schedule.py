"""The nightly schedule: when it ticks (cron and time zone from the environment), what it requests (a
run without a partition of the partitioned job: every new delivery), and when it steps aside for the
landing sensor."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from dagster._utils.schedules import cron_string_iterator

from pipelines.defs.schedules import nightly
from pipelines.lib.ingest import LOADED_FILES_DDL
from quality.contract import load_contract

SHANGHAI = ZoneInfo("Asia/Shanghai")
TICK = datetime(2026, 11, 30, 2, 0, tzinfo=SHANGHAI)


def next_tick(schedule: dg.ScheduleDefinition, after: datetime) -> datetime:
    return next(cron_string_iterator(after.timestamp(), schedule.cron_schedule, schedule.execution_timezone))


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Warehouse, landing folder and build lock under tmp_path; an empty Dagster instance."""
    monkeypatch.setenv("SRW_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("SRW_SITE_DIR", str(tmp_path / "site"))
    monkeypatch.setenv("SRW_LANDING_DIR", str(tmp_path / "landing"))
    with dg.instance_for_test() as instance:
        yield tmp_path, instance


def test_the_schedule_ticks_at_two_in_the_morning_in_shanghai():
    schedule = nightly.nightly_build_schedule
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Asia/Shanghai")
    # 16:30 UTC is 00:30 in Shanghai: the tick is at 02:00 the same Shanghai night, 18:00 UTC
    tick = next_tick(schedule, datetime(2026, 11, 29, 16, 30, tzinfo=UTC))
    assert tick == TICK and tick.astimezone(UTC) == datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
    # 18:30 UTC is already 02:30 on 2026-11-30 in Shanghai: the next tick is the night after
    assert next_tick(schedule, datetime(2026, 11, 29, 18, 30, tzinfo=UTC)) == datetime(
        2026, 12, 1, 2, 0, tzinfo=SHANGHAI
    )


def test_cron_and_time_zone_come_from_the_environment(monkeypatch):
    custom = nightly.build_nightly_schedule("30 3 * * 1-5", "Europe/Berlin")
    assert next_tick(custom, datetime(2026, 11, 28, 12, 0, tzinfo=UTC)) == datetime(
        2026, 11, 30, 3, 30, tzinfo=ZoneInfo("Europe/Berlin")
    )  # Saturday noon -> Monday 03:30
    monkeypatch.setenv(nightly.CRON_VARIABLE, "15 1 * * *")
    monkeypatch.setenv(nightly.TIMEZONE_VARIABLE, "UTC")
    try:
        reloaded = importlib.reload(nightly)
        assert reloaded.nightly_build_schedule.cron_schedule == "15 1 * * *"
        assert reloaded.nightly_build_schedule.execution_timezone == "UTC"
    finally:
        monkeypatch.undo()
        importlib.reload(nightly)
    assert nightly.nightly_build_schedule.cron_schedule == "0 2 * * *"


def test_a_tick_requests_a_run_of_every_new_delivery(isolated, dbt_manifest):
    from pipelines.definitions import defs

    _, instance = isolated
    schedule = defs.resolve_schedule_def("nightly_build_schedule")
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=TICK)
    [request] = schedule.evaluate_tick(context).run_requests

    assert request.partition_key is None  # no partition: the ingest loads every new delivery
    assert request.tags["salesreview/trigger"] == "nightly_schedule"
    job = defs.resolve_job_def("nightly_build")
    assert job.partitions_def is not None
    assert job.tags["dagster/retry_strategy"] == "ALL_STEPS"
    assert dg.validate_run_config(job, request.run_config) is not None


def test_a_run_without_a_partition_of_a_partitioned_job_runs_unpartitioned():
    """What the schedule relies on (Dagster 1.13): the job has the ingest's partitions, yet a run without a
    partition key executes, and the partitioned asset sees no partition (extract_date_range is None)."""
    from pipelines.defs.partitions import extract_date_range, extract_dates

    seen = []

    @dg.asset(partitions_def=extract_dates, backfill_policy=dg.BackfillPolicy.single_run())
    def ingest(context) -> None:  # (annotations are strings here: Dagster wants the class)
        seen.append(extract_date_range(context))

    @dg.asset(deps=[ingest])
    def marts() -> None:
        seen.append("marts")

    job = dg.define_asset_job("night", executor_def=dg.in_process_executor)
    resolved = dg.Definitions(assets=[ingest, marts], jobs=[job]).resolve_job_def("night")
    with dg.instance_for_test() as instance:
        assert resolved.execute_in_process(instance=instance).success
        assert resolved.execute_in_process(instance=instance, partition_key="2026-11-29").success
    assert seen == [None, "marts", ("2026-11-29", "2026-11-29"), "marts"]


def test_the_tick_steps_aside_while_a_landing_sensor_run_is_running(isolated, dbt_manifest):
    from dagster._core.storage.dagster_run import DagsterRun

    _, instance = isolated
    instance.add_run(
        DagsterRun(
            job_name="nightly_build",
            run_id="0123abcd-0000-0000-0000-000000000000",
            status=dg.DagsterRunStatus.STARTED,
            tags={"salesreview/trigger": "landing_sensor"},
        )
    )
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=TICK)
    result = nightly.nightly_build_schedule.evaluate_tick(context)
    assert result.run_requests == []
    assert "0123abcd" in result.skip_message


def test_the_tick_is_skipped_when_the_sensor_built_every_system_since_the_last_tick(isolated):
    root, instance = isolated
    contract = load_contract()

    def warehouse_loaded_at(at: datetime) -> None:
        path = root / "warehouse.duckdb"
        path.unlink(missing_ok=True)
        con = duckdb.connect(str(path))
        con.execute("create schema raw_meta")
        con.execute(LOADED_FILES_DDL)
        for system in contract.systems:
            con.execute(
                "insert into raw_meta.loaded_files values (?, 'x', '2026-11-29', 'f', 's', 1, 'a', ?, 1, 0)",
                [system, at.astimezone(UTC).replace(tzinfo=None)],
            )
        con.close()

    def evaluate():
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=TICK)
        return nightly.nightly_build_schedule.evaluate_tick(context)

    warehouse_loaded_at(datetime(2026, 11, 30, 0, 45, tzinfo=SHANGHAI))  # the sensor's run tonight
    skipped = evaluate()
    assert skipped.run_requests == []
    assert "already built and published" in skipped.skip_message

    warehouse_loaded_at(datetime(2026, 11, 29, 0, 45, tzinfo=SHANGHAI))  # last night: nothing new since
    [request] = evaluate().run_requests  # runs, and fails freshness with one message per system
    assert request.partition_key is None


def test_finished_runs_past_the_retention_are_deleted(isolated):
    from datetime import timedelta

    from dagster._core.storage.dagster_run import DagsterRun

    from pipelines.lib.run_retention import purge_old_runs

    _, instance = isolated
    for status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.STARTED):
        instance.add_run(DagsterRun(job_name="nightly_build", status=status))
    now = datetime.now(UTC)
    assert purge_old_runs(instance, days=400, now=now) == 0
    assert purge_old_runs(instance, days=0, now=now + timedelta(days=500)) == 0  # 0: kept forever
    assert purge_old_runs(instance, days=400, now=now + timedelta(days=401)) == 2
    assert [r.status for r in instance.get_runs()] == [dg.DagsterRunStatus.STARTED]
