"""How a run of the nightly_build job is asked for, the same from the shell, the sensor and a backfill:
its run config and, for a range of extract dates, its partition tags. Plain dicts, tested without Dagster."""

from __future__ import annotations

from datetime import date


def nightly_run_config(
    as_of_date: date | None = None, require_new_delivery: bool = True, full_refresh: bool = False
) -> dict:
    """Run config of the nightly_build job: as-of date for dbt; whether every system must have
    delivered something new (a night) or not (a rebuild of what is loaded, or a run the sensor asked for
    after it saw the new delivery); whether dbt rebuilds every incremental model from all rows."""
    from quality.contract import load_contract

    ops: dict = {
        f"raw_{system}": {"config": {"require_new_delivery": require_new_delivery}}
        for system in load_contract().systems
    }
    dbt_config: dict = {}
    if as_of_date:
        dbt_config["as_of_date"] = as_of_date.isoformat()
    if full_refresh:
        dbt_config["full_refresh"] = True
    if dbt_config:
        ops["sales_review_dbt_assets"] = {"config": dbt_config}
    return {"ops": ops, "loggers": {"console": {"config": {"log_level": "INFO"}}}}


def partition_range_tags(first: date | str, last: date | str) -> dict[str, str]:
    """Run tags of one run over the extract dates first..last (what a single-run backfill sets)."""
    return {
        "dagster/asset_partition_range_start": str(first),
        "dagster/asset_partition_range_end": str(last),
    }
