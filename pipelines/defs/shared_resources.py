"""Binds the resources every asset uses (declared in pipelines/defs/resources.py), and runs every job's
steps in one process: the steps of a run share one release (one DuckDB file, one writer at a time)."""

import dagster as dg

from pipelines.defs.dbt.project import dbt_cli_resource
from pipelines.defs.resources import default_resources


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={**default_resources(), "dbt": dbt_cli_resource()}, executor=dg.in_process_executor
    )
