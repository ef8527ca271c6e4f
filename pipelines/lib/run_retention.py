"""How long the Dagster instance keeps finished runs.

Dagster's instance settings (dagster.yaml `retention:`) purge old schedule and sensor ticks, not runs:
the nightly schedule deletes finished runs (and their event logs) older than `SRW_RUN_RETENTION_DAYS`
(default 400: more than a year of nights stays comparable in the UI), a bounded number per tick so a
first purge of a long history does not hold up the night.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import dagster as dg

RETENTION_VARIABLE = "SRW_RUN_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 400
MAX_DELETED_PER_TICK = 200
FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def retention_days() -> int:
    """Days finished runs are kept (0: forever)."""
    return int(os.environ.get(RETENTION_VARIABLE, DEFAULT_RETENTION_DAYS))


def purge_old_runs(
    instance: dg.DagsterInstance,
    days: int | None = None,
    now: datetime | None = None,
    limit: int = MAX_DELETED_PER_TICK,
) -> int:
    """Delete finished runs created more than `days` ago, oldest first, at most `limit`; how many."""
    days = retention_days() if days is None else days
    if days <= 0:
        return 0
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=FINISHED, created_before=cutoff), limit=limit, ascending=True
    )
    for record in records:
        instance.delete_run(record.dagster_run.run_id)
    return len(records)
