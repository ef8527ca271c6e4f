"""The partitions of the warehouse's assets: extract dates (the days deliveries are for).

An ingest run for one date, or a range of dates (a backfill, in one run), loads the deliveries of those
dates only; a run without a partition (the nightly schedule, `salesreview build`) loads every new one.
The marts are not partitioned: they are rebuilt from everything loaded, incrementally where the data
allows (README, "Running it nightly").
"""

from __future__ import annotations

import os

import dagster as dg

TIMEZONE = "Asia/Shanghai"
# Far enough back for any history a first load brings; the UI lists one partition per day from here.
PARTITIONS_START_VARIABLE = "SRW_PARTITIONS_START"

extract_dates = dg.DailyPartitionsDefinition(
    start_date=os.environ.get(PARTITIONS_START_VARIABLE, "2020-01-01"),
    timezone=TIMEZONE,
    end_offset=1,  # today's delivery (dated today, China time) has its partition before the day ends
)


def extract_date_range(context: dg.AssetExecutionContext) -> tuple[str, str] | None:
    """(first, last) extract date of a partitioned run, inclusive; None for a run of every new delivery."""
    if context.has_partition_key:
        return context.partition_key, context.partition_key
    if context.has_partition_key_range:
        keys = context.partition_key_range
        return keys.start, keys.end
    return None
