"""Where things live. One place, overridable by environment variables (see README)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    landing_dir: Path  # extracts arrive here: <landing>/<system>/<entity>/<extract_date>.csv
    archive_dir: Path  # originals are copied here unchanged once loaded
    warehouse_path: Path  # the DuckDB file
    site_dir: Path  # the rendered review packs (static site)
    dbt_project_dir: Path
    reports_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        def path(var: str, default: str) -> Path:
            return Path(os.environ.get(var, str(REPO_ROOT / default))).resolve()

        return cls(
            landing_dir=path("SRW_LANDING_DIR", "data/landing"),
            archive_dir=path("SRW_ARCHIVE_DIR", "data/archive"),
            warehouse_path=path("SRW_WAREHOUSE", "build/warehouse.duckdb"),
            site_dir=path("SRW_SITE_DIR", "build/site"),
            dbt_project_dir=REPO_ROOT / "dbt_project",
            reports_dir=REPO_ROOT / "reports",
        )
