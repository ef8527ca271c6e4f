"""The Dagster code location: one graph from landing files to the pack, with checks, job and schedule."""

from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from pipelines.lib.dbt_args import dbt_build_args, dbt_vars
from quality.contract import load_contract


def test_dbt_build_args_without_as_of():
    assert dbt_build_args() == ["build", "--exclude-resource-type", "unit_test"]


def test_a_deployment_sets_dbt_vars_through_the_environment(monkeypatch):
    monkeypatch.setenv("SRW_DBT_VARS", '{"max_held_back_won_share": 1.0, "as_of_date": "2020-01-01"}')
    assert dbt_vars(date(2026, 11, 15)) == {"max_held_back_won_share": 1.0, "as_of_date": "2026-11-15"}
    assert dbt_build_args()[-2:] == ["--vars", '{"as_of_date": "2020-01-01", "max_held_back_won_share": 1.0}']
    monkeypatch.setenv("SRW_DBT_VARS", "max_held_back_won_share: 1")
    with pytest.raises(ValueError, match="SRW_DBT_VARS is not JSON"):
        dbt_vars()
    monkeypatch.setenv("SRW_DBT_VARS", "[1]")
    with pytest.raises(ValueError, match="must be a JSON object"):
        dbt_vars()


def test_dbt_build_args_as_of_passes_the_date_as_a_var():

    assert dbt_vars(date(2026, 11, 15)) == {"as_of_date": "2026-11-15"}
    assert dbt_build_args(date(2026, 11, 15)) == [
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--vars",
        '{"as_of_date": "2026-11-15"}',
    ]


def test_graph_is_connected_from_every_extract_to_the_pack(dbt_manifest):
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    contract = load_contract()
    raw_keys = {dg.AssetKey([e.raw_schema, e.name]) for e in contract.entities}
    assert raw_keys <= keys, "every contract entity has an ingest asset"

    pack = dg.AssetKey(["reports", "packs"])
    ancestors = set()
    frontier = [pack]
    while frontier:
        key = frontier.pop()
        for parent in graph.get(key).parent_keys:
            if parent not in ancestors:
                ancestors.add(parent)
                frontier.append(parent)
    assert dg.AssetKey(["marts", "fct_attainment_weekly"]) in ancestors
    # the attainment mart reads reps, opportunities, targets and the stage list
    for entity in ("reps", "opportunities", "targets"):
        assert dg.AssetKey(["raw_crm", entity]) in ancestors
    # every staging model hangs off its ingest asset (sources are mapped onto the ingest keys)
    for entity in contract.entities:
        staging = dg.AssetKey(["staging", f"stg_{entity.system}__{entity.name}"])
        assert staging in keys
        assert dg.AssetKey([entity.raw_schema, entity.name]) in graph.get(staging).parent_keys


def test_every_asset_of_the_nightly_build_comes_before_publishing(dbt_manifest):
    """The night is published only after every step has passed: every other step makes an asset that
    is upstream of release/published (a step not upstream could still be running, or failing, when it
    publishes; Dagster skips a step when any step it depends on failed)."""
    from pipelines.definitions import defs
    from pipelines.defs.resources import PUBLISH_KEY

    graph = defs.resolve_asset_graph()
    ancestors, frontier = set(), [PUBLISH_KEY]
    while frontier:
        for parent in graph.get(frontier.pop()).parent_keys:
            if parent not in ancestors and graph.has(parent):
                ancestors.add(parent)
                frontier.append(parent)
    nightly = defs.resolve_job_def("nightly_build").asset_layer.selected_asset_keys
    materializable = {k for k in nightly if graph.get(k).is_materializable}
    step = {k: defs.get_assets_def(k).node_def.name for k in materializable}
    assert {step[k] for k in materializable} - {step[k] for k in ancestors} == {step[PUBLISH_KEY]}


def test_the_packs_by_period_are_their_own_partitioned_jobs_after_the_night():
    """The weekly and quarterly packs render a finished period from the published warehouse (they come
    after release/published) in their own jobs; the nightly build does not run them."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pipelines.definitions import defs
    from pipelines.defs.reports.partitioned import QUARTERLY_PACKS_KEY, WEEKLY_PACKS_KEY
    from pipelines.defs.resources import PUBLISH_KEY

    graph = defs.resolve_asset_graph()
    nightly = defs.resolve_job_def("nightly_build").asset_layer.selected_asset_keys
    monday = datetime(2026, 11, 30, 3, tzinfo=ZoneInfo("Asia/Shanghai"))  # after Sunday's night
    for key, job, finished in (
        (WEEKLY_PACKS_KEY, "weekly_packs", ["2026-11-16", "2026-11-23"]),  # weeks start on Monday
        (QUARTERLY_PACKS_KEY, "quarterly_packs", ["2026-04-01", "2026-07-01"]),  # Q4 has not ended
    ):
        assert key not in nightly
        assert graph.get(key).parent_keys == {PUBLISH_KEY}
        keys = defs.resolve_job_def(job).partitions_def.get_partition_keys(current_time=monday)
        assert keys[-2:] == finished


def test_the_nightly_run_config_requires_a_new_delivery_unless_it_rebuilds():
    from datetime import date

    from pipelines.cli import nightly_run_config

    night = nightly_run_config()
    assert night["ops"] == {
        "raw_crm": {"config": {"require_new_delivery": True}},
        "raw_erp": {"config": {"require_new_delivery": True}},
    }
    as_of = nightly_run_config(date(2026, 11, 15), require_new_delivery=False)
    assert as_of["ops"]["raw_crm"] == {"config": {"require_new_delivery": False}}
    assert as_of["ops"]["sales_review_dbt_assets"] == {"config": {"as_of_date": "2026-11-15"}}


def test_dbt_environment_points_dbt_at_the_release_and_restores_the_environment(monkeypatch):
    import os
    from pathlib import Path

    from pipelines.lib.dbt_args import dbt_environment

    monkeypatch.setenv("SRW_WAREHOUSE", "/published/warehouse.duckdb")
    with dbt_environment(Path("/releases/building/warehouse.duckdb")):
        assert os.environ["SRW_WAREHOUSE"] == "/releases/building/warehouse.duckdb"
    assert os.environ["SRW_WAREHOUSE"] == "/published/warehouse.duckdb"
    monkeypatch.delenv("SRW_WAREHOUSE")
    with dbt_environment(Path("/releases/building/warehouse.duckdb")):
        pass
    assert "SRW_WAREHOUSE" not in os.environ


def test_only_the_newest_dbt_run_targets_are_kept(tmp_path):
    import os

    from pipelines.lib.dbt_args import prune_run_targets

    for night in range(7):
        run = tmp_path / f"sales_review_dbt_assets-{night:03d}-abc"
        (run / "compiled").mkdir(parents=True)
        (run / "run_results.json").write_text("{}")
        os.utime(run, (1_700_000_000 + night, 1_700_000_000 + night))
    (tmp_path / "partial_parse.msgpack").write_bytes(b"x")
    (tmp_path / "compiled").mkdir()  # the project's own parse output, no run_results.json

    removed = prune_run_targets(tmp_path, keep=5)

    assert sorted(p.name for p in removed) == [
        "sales_review_dbt_assets-000-abc",
        "sales_review_dbt_assets-001-abc",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "compiled",
        "partial_parse.msgpack",
        *[f"sales_review_dbt_assets-{n:03d}-abc" for n in range(2, 7)],
    ]


def test_dbt_tests_are_asset_checks_and_job_schedule_and_sensor_exist(dbt_manifest):
    from pipelines.definitions import defs

    checks = defs.resolve_asset_graph().asset_check_keys
    assert any(c.asset_key == dg.AssetKey(["marts", "fct_attainment_weekly"]) for c in checks)
    job = defs.resolve_job_def("nightly_build")
    assert job.executor_def.name == "in_process"
    schedule = defs.resolve_schedule_def("nightly_build_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.job_name == "nightly_build"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    sensors = defs.sensors or []
    assert [s.name for s in sensors] == ["landing_sensor"]
    sensor = defs.resolve_sensor_def("landing_sensor")
    assert sensor.job_name == "nightly_build"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_phase_seconds_groups_steps_into_phases():
    from types import SimpleNamespace

    from pipelines.lib.build_report import phase_seconds

    def success(step_key: str, ms: float):
        return SimpleNamespace(
            event_type_value="STEP_SUCCESS",
            step_key=step_key,
            event_specific_data=SimpleNamespace(duration_ms=ms),
        )

    events = [
        success("raw_crm", 1500),
        success("raw_erp", 500),
        success("sales_review_dbt_assets", 12000),
        success("reports__weekly_pack", 3000),
        success("quality_reports__verification_sample", 250),
        success("release__published", 100),
        SimpleNamespace(event_type_value="STEP_START", step_key="raw_crm", event_specific_data=None),
    ]
    # ingest = 1.5 + 0.5 s; dbt 12 s; packs 3 s; publish 0.1 s; other steps by their asset's name
    assert phase_seconds(events) == {
        "ingest": 2.0,
        "dbt": 12.0,
        "packs": 3.0,
        "verification_sample": 0.25,
        "publish": 0.1,
    }


def test_run_on_an_empty_landing_folder_generates_the_sample_through_the_generate_command(
    tmp_path, monkeypatch
):
    """`make run` on a fresh clone: the sample is generated with the generate command's own options
    (a Namespace built by hand once missed an option added to the command), then the build runs."""
    import pipelines.sample.generator
    from pipelines import cli

    calls = []
    monkeypatch.setenv("SRW_LANDING_DIR", str(tmp_path / "landing"))
    monkeypatch.setattr(
        pipelines.sample.generator,
        "generate",
        lambda out, **options: calls.append(("generate", out, options)) or {},
    )
    monkeypatch.setattr(cli, "prepare_dbt", lambda: calls.append(("prepare",)))
    monkeypatch.setattr(cli, "_build", lambda *a, **k: (calls.append(("build",)), (0, None))[1])

    assert cli.main(["run", "--scale", "0.05"]) == 0

    assert [c[0] for c in calls] == ["generate", "prepare", "build"]
    _, out, options = calls[0]
    assert Path(out) == tmp_path / "landing"
    assert options["scale"] == 0.05 and options["seed"] == 42 and options["days"] == 730
