"""The dbt project as Dagster sees it. The manifest is prepared at build time (`salesreview prepare`,
run by `make`), never parsed at import; `dagster dev` re-parses it when the project changes."""

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from pipelines.lib.settings import Settings

_project_dir = Settings.from_env().dbt_project_dir
dbt_project = DbtProject(project_dir=_project_dir, profiles_dir=_project_dir)
dbt_project.prepare_if_dev()

# dbt next to this Python (builds work without an activated virtualenv), started through a wrapper
# that makes it die with the build (pipelines/lib/child_processes.py).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "salesreview-dbt")


def dbt_cli_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def prepare_manifest() -> Path:
    """Parse the dbt project into target/manifest.json, which the Dagster definitions read.

    Parsed against the warehouse a build's dbt writes (releases/building/warehouse.duckdb): dbt's partial
    parsing compares the profile, path included, so the nightly's dbt then reuses this parse
    (target/partial_parse.msgpack, which dagster-dbt copies into each run's target) instead of parsing
    the whole project again."""
    from pipelines.lib.dbt_args import dbt_environment
    from pipelines.lib.release import Release

    settings = Settings.from_env()
    with dbt_environment(Release(settings.release_paths, run_id=None).warehouse_path):
        dbt_cli_resource().cli(["parse", "--quiet"], target_path=dbt_project.target_path).wait()
    return dbt_project.manifest_path
