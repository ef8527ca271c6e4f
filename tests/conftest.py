"""Shared fixtures: a prepared dbt manifest, `salesreview` in a fresh process, and a small company built
once per session that tests copy before they change it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
BASELINE_END = date(2026, 11, 19)  # the built company's last delivery (a Thursday)
BASELINE_DAYS = 60
EXTRA_DAYS = 3  # delivered by the tests: 2026-11-20 (Friday) to 2026-11-22 (Sunday: a new complete week)


def pytest_configure(config) -> None:
    """dbt's manifest, which the Dagster definitions read when they are imported (test modules import
    them): prepared once per session, before collection, so a fresh clone's tests find it. With the tests
    spread over processes (pytest-xdist), the controller prepares it before it starts the workers."""
    if hasattr(config, "workerinput"):
        return  # a worker: the controller has prepared it (two dbt parses would write one file)
    from pipelines.cli import prepare_dbt

    prepare_dbt()


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The dbt manifest prepared for this session (see pytest_configure)."""
    from pipelines.defs.dbt.project import dbt_project

    return dbt_project.manifest_path


def isolated_env(root: Path, **extra: str) -> dict[str, str]:
    """Environment for a build whose landing, archive, warehouse, site and Dagster instance (the
    project's dagster.yaml, its storage under `root`) live under `root`."""
    env = dict(os.environ)
    env.update(
        SRW_LANDING_DIR=str(root / "landing"),
        SRW_ARCHIVE_DIR=str(root / "archive"),
        SRW_WAREHOUSE=str(root / "warehouse.duckdb"),
        SRW_SITE_DIR=str(root / "site"),
        DAGSTER_HOME=str(REPO_ROOT),
        SRW_DAGSTER_STORAGE=str(root / "dagster"),
        SRW_DAGSTER_LOGS=str(root / "dagster" / "logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        **extra,
    )
    return env


@pytest.fixture(scope="session")
def salesreview():
    """Run `salesreview ...` in a fresh process, as an operator would, with everything under `root`."""

    def run(args: list[str], root: Path, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pipelines.cli", *args],
            cwd=REPO_ROOT,
            env=isolated_env(root, **env),
            capture_output=True,
            text=True,
            timeout=900,
        )

    return run


def copy_delivery_day(source: Path, landing: Path, day: str) -> None:
    """Deliver one generated day: its files, then its manifests."""
    paths = sorted(source.rglob(f"{day}.*"), key=lambda p: p.suffix == ".json")  # manifests last
    for path in paths:
        dest = landing / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)


@pytest.fixture(scope="session")
def built_company(
    tmp_path_factory, salesreview, dbt_manifest
) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """A small company (scale 0.3: 12 reps in 2 regions, so region packs have something to keep apart)
    whose 60 daily deliveries up to 2026-11-19 are built and published, its generated next days waiting
    in `source`, and what the build printed. Read it, or take the `company` fixture (a copy) to change it."""
    root = tmp_path_factory.mktemp("company")
    source = root.parent / f"{root.name}-source"
    from pipelines.sample.generator import generate

    generate(
        source,
        scale=0.3,
        seed=11,
        end_date=BASELINE_END + timedelta(days=EXTRA_DAYS),
        days=BASELINE_DAYS + EXTRA_DAYS,
    )
    for offset in range(BASELINE_DAYS - 1, -1, -1):
        copy_delivery_day(source, root / "landing", (BASELINE_END - timedelta(days=offset)).isoformat())
    result = salesreview(["build"], root)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return root, source, result


@pytest.fixture
def company(built_company, tmp_path) -> tuple[Path, Path]:
    """A private copy of the built company (links inside it are relative, so the copy works)."""
    root, source, _ = built_company
    copy = tmp_path / "company"
    shutil.copytree(root, copy, symlinks=True)
    return copy, source
