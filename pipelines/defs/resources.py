"""Dagster resources, declared once. Paths come from pipelines.lib.settings (env-overridable)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from pipelines.lib import warehouse
from pipelines.lib.build_report import RECOVERED_PREFIX  # log lines the build summary repeats
from pipelines.lib.child_processes import BUILD_PID_VARIABLE
from pipelines.lib.release import BuildLock, Release, ReleasePaths, holder, start_release
from pipelines.lib.run_recovery import PID_TAG, reap_dead_runs
from pipelines.lib.settings import COMMAND_VARIABLE, Settings

PUBLISH_KEY = dg.AssetKey(["release", "published"])


class ReleaseResource(dg.ConfigurableResource):
    """The night's release: a private copy of the published warehouse and site that this run's steps
    write, made visible all at once by the `release/published` asset (pipelines/lib/release.py).

    Setting it up takes the build lock (another build running: the run fails at once, saying which),
    cleans up after a build that died (its unfinished release, its Dagster run still marked as
    running) and copies the published warehouse and site. Tearing it down drops the copy unless it
    was published, and lets go of the lock.
    """

    warehouse_path: str  # the published warehouse (readers open this)
    site_dir: str  # the published site

    _release: Release | None = PrivateAttr(default=None)
    _lock: BuildLock | None = PrivateAttr(default=None)
    _build_pid_before: str | None = PrivateAttr(default=None)

    @property
    def paths(self) -> ReleasePaths:
        return ReleasePaths(Path(self.warehouse_path), Path(self.site_dir))

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        run_id = run.run_id if run is not None else None
        who = holder(os.environ.get(COMMAND_VARIABLE, "a Dagster run"), run_id)
        self._lock, self._release, notes = start_release(self.paths, who, run_id)
        # The children this run starts (dbt) die with this process; restored at teardown.
        self._build_pid_before = os.environ.get(BUILD_PID_VARIABLE)
        os.environ[BUILD_PID_VARIABLE] = str(os.getpid())
        if context.instance is not None and run_id:
            context.instance.add_run_tags(run_id, {PID_TAG: str(os.getpid())})
            notes += reap_dead_runs(context.instance, current_run_id=run_id)
        log = context.log
        for note in notes:
            if log:
                log.warning(f"{RECOVERED_PREFIX}{note}")
        if log:
            copied = self._release.copied_bytes / 2**20
            log.info(
                f"release: copied the published warehouse and site ({copied:.1f} MB) into "
                f"{self.paths.building_dir} in {self._release.copy_seconds:.2f} s"
            )
        if (
            log
            and run is not None
            and run.asset_selection  # empty: the whole job (execute_in_process records it so)
            and PUBLISH_KEY not in run.asset_selection
        ):
            log.warning(
                "this run does not include release/published: what it builds is discarded at the end "
                "(run the nightly_build job, or add release/published, to publish)"
            )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._build_pid_before is None:
            os.environ.pop(BUILD_PID_VARIABLE, None)
        else:
            os.environ[BUILD_PID_VARIABLE] = self._build_pid_before
        if self._release is not None:
            self._release.discard()  # does nothing once published
        if self._lock is not None:
            self._lock.release()

    @property
    def release(self) -> Release:
        if self._release is None:
            raise RuntimeError("the release resource is used outside a run")
        return self._release

    @property
    def build_warehouse_path(self) -> Path:
        """The warehouse this run writes (inside the release being built)."""
        return self.release.warehouse_path

    @property
    def build_site_dir(self) -> Path:
        """The site this run writes (inside the release being built)."""
        return self.release.site_dir

    @contextmanager
    def connect(self, read_only: bool = False):
        with warehouse.connect(self.build_warehouse_path, read_only=read_only) as con:
            yield con


class LandingResource(dg.ConfigurableResource):
    """The landing folder the extracts arrive in, and the archive their originals are kept in."""

    landing_dir: str
    archive_dir: str


def default_resources(settings: Settings | None = None) -> dict:
    settings = settings or Settings.from_env()
    return {
        "release": ReleaseResource(
            warehouse_path=str(settings.warehouse_path), site_dir=str(settings.site_dir)
        ),
        "landing": LandingResource(
            landing_dir=str(settings.landing_dir), archive_dir=str(settings.archive_dir)
        ),
    }
