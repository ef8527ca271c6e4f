"""dbt command lines, built by pure functions so they can be unit-tested."""

from __future__ import annotations

import json
from datetime import date


def dbt_vars(as_of_date: date | None = None) -> dict:
    """Variables for a build. `as_of_date` rebuilds the marts from the extracts delivered up to that date."""
    return {"as_of_date": as_of_date.isoformat()} if as_of_date else {}


def dbt_build_args(as_of_date: date | None = None) -> list[str]:
    args = ["build"]
    variables = dbt_vars(as_of_date)
    if variables:
        args += ["--vars", json.dumps(variables, sort_keys=True)]
    return args
