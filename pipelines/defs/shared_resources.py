"""Binds the resources every asset uses (declared in pipelines/defs/resources.py)."""

import dagster as dg

from pipelines.defs.dbt.project import dbt_cli_resource
from pipelines.defs.resources import default_resources


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={**default_resources(), "dbt": dbt_cli_resource()})
