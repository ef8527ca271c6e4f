"""Shared fixtures: a prepared dbt manifest, and a small generated company built end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """dbt's manifest, which the Dagster definitions read; prepared once per test session."""
    from pipelines.cli import prepare_dbt
    from pipelines.defs.dbt.project import dbt_project

    prepare_dbt()
    return dbt_project.manifest_path


def _isolated_env(root: Path) -> dict[str, str]:
    """Environment for a build whose landing, archive, warehouse and site live under `root`."""
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(
        SRW_LANDING_DIR=str(root / "landing"),
        SRW_ARCHIVE_DIR=str(root / "archive"),
        SRW_WAREHOUSE=str(root / "warehouse.duckdb"),
        SRW_SITE_DIR=str(root / "site"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    return env


@pytest.fixture(scope="session")
def salesreview():
    """Run `salesreview ...` in a fresh process, as an operator would, with the landing folder,
    archive, warehouse and site under `root`."""

    def run(args: list[str], root: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pipelines.cli", *args],
            cwd=REPO_ROOT,
            env=_isolated_env(root),
            capture_output=True,
            text=True,
            timeout=900,
        )

    return run
