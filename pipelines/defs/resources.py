"""Dagster resources, declared once. Paths come from pipelines.lib.settings (env-overridable)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from pipelines.lib import warehouse
from pipelines.lib.settings import Settings


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file. One writer at a time: every writing asset uses the `duckdb_writer` pool."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False):
        with warehouse.connect(Path(self.path), read_only=read_only) as con:
            yield con


class LandingResource(dg.ConfigurableResource):
    """The landing folder the extracts arrive in, and the archive their originals are kept in."""

    landing_dir: str
    archive_dir: str


class SiteResource(dg.ConfigurableResource):
    """The folder the review packs are published to as a static site."""

    site_dir: str


WRITER_POOL = "duckdb_writer"


def default_resources(settings: Settings | None = None) -> dict:
    settings = settings or Settings.from_env()
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
        "landing": LandingResource(
            landing_dir=str(settings.landing_dir), archive_dir=str(settings.archive_dir)
        ),
        "site": SiteResource(site_dir=str(settings.site_dir)),
    }
