"""Where things live. One place, overridable by environment variables (see README)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib.release import ReleasePaths

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGSTER_ENV = ("DAGSTER_HOME", "SRW_DAGSTER_STORAGE", "SRW_DAGSTER_LOGS")
COMMAND_VARIABLE = "SRW_COMMAND"  # what started the build, shown to a second build that finds it running


def dagster_env(storage: Path, home: Path = REPO_ROOT) -> dict[str, str]:
    """The variables of a Dagster instance with the project's settings (`home`/dagster.yaml) whose run
    history and compute logs live in `storage` (the Makefile's: build/dagster)."""
    return {
        "DAGSTER_HOME": str(home),
        "SRW_DAGSTER_STORAGE": str(storage),
        "SRW_DAGSTER_LOGS": str(storage / "logs"),
    }


def company_env(root: Path, environ=os.environ) -> dict[str, str]:
    """This environment with a company of its own under `root`: landing, archive, warehouse, site and the
    Dagster run history (the project's instance settings), for a build run on it as a fresh process."""
    return {
        **environ,
        "SRW_LANDING_DIR": str(root / "landing"),
        "SRW_ARCHIVE_DIR": str(root / "archive"),
        "SRW_WAREHOUSE": str(root / "warehouse.duckdb"),
        "SRW_SITE_DIR": str(root / "site"),
        **dagster_env(root / "dagster"),
    }


def use_project_dagster_instance(environ=os.environ, root: Path = REPO_ROOT) -> Path:
    """Point Dagster at the project's instance as the Makefile does, unless DAGSTER_HOME says otherwise:
    DAGSTER_HOME = the project root (its dagster.yaml), run history and logs under build/dagster (created
    here). So a build started as `.venv/bin/salesreview build` shows up in `dagster dev`'s runs.
    Returns DAGSTER_HOME."""
    home = Path(environ.setdefault("DAGSTER_HOME", str(root)))
    if home.resolve() == root.resolve():  # dagster.yaml reads its storage folders from these
        for var, value in dagster_env(root / "build" / "dagster", root).items():
            environ.setdefault(var, value)
        Path(environ["SRW_DAGSTER_STORAGE"]).mkdir(parents=True, exist_ok=True)
        Path(environ["SRW_DAGSTER_LOGS"]).mkdir(parents=True, exist_ok=True)
    return home


@dataclass(frozen=True)
class Settings:
    landing_dir: Path  # extracts arrive here: <landing>/<system>/<entity>/<extract_date>.csv
    archive_dir: Path  # originals are copied here unchanged once loaded
    warehouse_path: Path  # the published DuckDB file (a link into <warehouse dir>/releases/current)
    site_dir: Path  # the published review packs (static site; a link into releases/current)
    dbt_project_dir: Path
    reports_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        def path(var: str, default: str) -> Path:
            # absolute, but links are kept: the warehouse and site are links into releases/current
            return Path(os.path.abspath(os.environ.get(var, str(REPO_ROOT / default))))

        return cls(
            landing_dir=path("SRW_LANDING_DIR", "data/landing"),
            archive_dir=path("SRW_ARCHIVE_DIR", "data/archive"),
            warehouse_path=path("SRW_WAREHOUSE", "build/warehouse.duckdb"),
            site_dir=path("SRW_SITE_DIR", "build/site"),
            dbt_project_dir=path("SRW_DBT_PROJECT_DIR", "dbt_project"),
            reports_dir=REPO_ROOT / "reports",
        )

    @property
    def release_paths(self) -> ReleasePaths:
        return ReleasePaths(self.warehouse_path, self.site_dir)

    @property
    def log_dir(self) -> Path:
        """Full logs of each build (the console gets a summary)."""
        return self.warehouse_path.parent / "logs"
