"""Where things live. One place, overridable by environment variables (see README)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib.release import ReleasePaths

REPO_ROOT = Path(__file__).resolve().parents[2]


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
