"""dbt command lines and environment, built by plain functions so they can be unit-tested."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

WAREHOUSE_VARIABLE = "SRW_WAREHOUSE"  # read by dbt_project/profiles.yml
VARS_VARIABLE = "SRW_DBT_VARS"  # a JSON object of dbt vars that override dbt_project.yml's for this build


def dbt_vars(as_of_date: date | None = None) -> dict:
    """Variables for a build: those of SRW_DBT_VARS (a deployment's own settings without editing
    dbt_project.yml), and `as_of_date` to rebuild the marts from the extracts delivered up to that date."""
    text = os.environ.get(VARS_VARIABLE, "").strip()
    try:
        variables = json.loads(text) if text else {}
    except json.JSONDecodeError as error:
        raise ValueError(f"{VARS_VARIABLE} is not JSON ({error}): {text!r}") from None
    if not isinstance(variables, dict):
        raise ValueError(f'{VARS_VARIABLE} must be a JSON object such as {{"review_weekday": 1}}: {text!r}')
    return {**variables, **({"as_of_date": as_of_date.isoformat()} if as_of_date else {})}


def dbt_build_args(as_of_date: date | None = None, full_refresh: bool = False) -> list[str]:
    # Unit tests check the SQL, not the night's data: the test suite runs them
    # (tests/test_attainment_mart.py), not every nightly build (dbt's advice for production builds).
    args = ["build", "--exclude-resource-type", "unit_test"]
    if full_refresh:
        # every incremental model rebuilt from all rows (pipelines/lib/incremental.py says when)
        args.append("--full-refresh")
    variables = dbt_vars(as_of_date)
    if variables:
        args += ["--vars", json.dumps(variables, sort_keys=True)]
    return args


@contextmanager
def dbt_environment(warehouse_path: Path, **variables: str) -> Iterator[None]:
    """While dbt is started, point its profile at `warehouse_path` (dagster-dbt hands dbt a copy of
    this process's environment), with any other `variables` (SRW_SPARK_DIR); the environment is
    restored afterwards."""
    variables = {WAREHOUSE_VARIABLE: str(warehouse_path), **variables}
    before = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


RUN_TARGETS_KEPT = 5


def prune_run_targets(target_dir: Path, keep: int = RUN_TARGETS_KEPT) -> list[Path]:
    """Remove all but the newest `keep` per-run dbt target folders (dagster-dbt gives each invocation its
    own, `<asset name>-<hash>`, of compiled SQL, manifest and logs: about 40 MB a night, forever). The
    project's own files (manifest.json, partial_parse.msgpack, ...) are not folders and stay. Returns
    what was removed."""
    import shutil

    runs = sorted(
        (p for p in target_dir.glob("*-*") if p.is_dir() and (p / "run_results.json").exists()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in runs[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    return runs[keep:]
