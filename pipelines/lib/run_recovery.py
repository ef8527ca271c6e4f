"""Dagster runs that died without ending.

A build killed with kill -9 (or by the OOM killer, or a reboot) cannot tell Dagster it ended: its run
stays STARTED in the instance forever, which blocks the run queue (max_concurrent_runs) and shows a
build in progress that is not. Every run takes the build lock (pipelines/lib/release.py) and tags
itself with its process id once it has it; so a run whose tag is set, while someone else holds the
lock, is dead. A run without the tag never got the lock: it is dead once it is older than a start-up
grace period.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

PID_TAG = "salesreview/pid"
STARTUP_GRACE_SECONDS = 120  # a live run takes the lock within seconds of starting
IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def reap_dead_runs(
    instance: dg.DagsterInstance, current_run_id: str | None = None, now: datetime | None = None
) -> list[str]:
    """Mark the runs that died as failed and free their concurrency slots. Only call this while
    holding the build lock: then no other build is alive. Returns one line per run."""
    now = now or datetime.now(UTC)
    notes = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        run = record.dagster_run
        if run.run_id == current_run_id:
            continue
        created = record.create_timestamp
        created = created if created.tzinfo else created.replace(tzinfo=UTC)
        age = (now - created).total_seconds()
        if PID_TAG not in run.tags and age < STARTUP_GRACE_SECONDS:
            continue  # still starting: it will find the lock taken and fail by itself
        pid = run.tags.get(PID_TAG, "?")
        message = (
            f"run {run.run_id} (process {pid}) stopped without ending: it was killed or its machine "
            "went down. Marked as failed by the next build; its unfinished release was discarded."
        )
        instance.report_run_failed(run, message)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        notes.append(
            f"Dagster run {run.run_id} (process {pid}, started {created:%Y-%m-%d %H:%M:%S} UTC) "
            "had died without ending: marked as failed"
        )
    return notes


def reap_dead_runs_if_idle(instance: dg.DagsterInstance, lock_path) -> list[str]:
    """Reap dead runs when no build is running (the schedule does this before it starts the night, so a
    run killed outside the daemon does not hold the run queue)."""
    from pipelines.lib.release import BuildLock, BuildRunning, holder

    lock = BuildLock(lock_path)
    try:
        lock.acquire(holder("the nightly schedule, checking for dead runs"))
    except BuildRunning:
        return []
    try:
        return reap_dead_runs(instance)
    finally:
        lock.release()
