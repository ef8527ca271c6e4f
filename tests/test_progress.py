"""Progress of long commands (pipelines/lib/progress.py): a line per phase of the nightly build, dbt's
nodes done at most every few seconds, from hand-made Dagster events; and the project's Dagster instance
found without DAGSTER_HOME (pipelines/lib/settings.py)."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace as NS

from pipelines.lib.progress import BuildProgress, Progress
from pipelines.lib.settings import use_project_dagster_instance


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _event(kind: str, step: str | None = None, unique_id: str | None = None):
    data = NS(materialization=NS(metadata={"unique_id": NS(value=unique_id)})) if unique_id else None
    return NS(dagster_event=NS(event_type_value=kind, step_key=step, event_specific_data=data))


def test_a_line_per_phase_and_dbt_nodes_at_most_every_ten_seconds_and_ten_percent():
    out, clock = io.StringIO(), Clock()
    listen = BuildProgress(Progress(out, clock, stamp=lambda: f"t{clock.now:.0f}"), dbt_nodes=100)
    listen(_event("STEP_START", "raw_crm"))
    clock.now = 5
    listen(_event("STEP_START", "raw_erp"))  # the same phase: no new line
    clock.now = 12
    listen(_event("STEP_START", "sales_review_dbt_assets"))
    for node in range(100):
        clock.now = 12 + node  # a node a second: said every 10 s (and 10 nodes)
        listen(_event("ASSET_MATERIALIZATION", "sales_review_dbt_assets", f"model.x.m{node}"))
        listen(_event("ASSET_MATERIALIZATION", "sales_review_dbt_assets", f"model.x.m{node}"))  # again
    clock.now = 115
    listen(_event("STEP_START", "reports__packs"))
    clock.now = 125
    listen(_event("STEP_FAILURE", "reports__packs"))
    listen(_event("RUN_FAILURE"))
    assert out.getvalue().splitlines() == [
        "t0 ingest … done in 12.0 s",
        "t12 dbt (100 nodes) … 11/100 … 21/100 … 31/100 … 41/100 … 51/100 … 61/100 … 71/100 … 81/100 "
        "… 91/100 … done in 103.0 s",
        "t115 packs … reports__packs FAILED in 10.0 s",
    ]


def test_a_listener_never_breaks_the_build():
    class Broken(io.StringIO):
        def write(self, text):
            raise OSError("console gone")

    BuildProgress(Progress(Broken()))(_event("STEP_START", "raw_crm"))  # no exception


def test_without_dagster_home_the_projects_instance_is_used(tmp_path: Path):
    environ: dict[str, str] = {}
    assert use_project_dagster_instance(environ, root=tmp_path) == tmp_path
    assert environ == {
        "DAGSTER_HOME": str(tmp_path),
        "SRW_DAGSTER_STORAGE": str(tmp_path / "build" / "dagster"),
        "SRW_DAGSTER_LOGS": str(tmp_path / "build" / "dagster" / "logs"),
    }
    assert (tmp_path / "build" / "dagster" / "logs").is_dir()


def test_a_dagster_home_that_is_set_is_left_alone(tmp_path: Path):
    environ = {"DAGSTER_HOME": str(tmp_path / "elsewhere")}
    use_project_dagster_instance(environ, root=tmp_path)
    assert environ == {"DAGSTER_HOME": str(tmp_path / "elsewhere")}
    assert not (tmp_path / "build").exists()
