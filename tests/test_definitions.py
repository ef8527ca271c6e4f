"""The Dagster code location: one graph from landing files to the pack, with checks, job and schedule."""

import dagster as dg

from pipelines.lib.dbt_args import dbt_build_args, dbt_vars
from quality.contract import load_contract


def test_dbt_build_args_without_as_of():
    assert dbt_build_args() == ["build"]


def test_dbt_build_args_as_of_passes_the_date_as_a_var():
    from datetime import date

    assert dbt_vars(date(2026, 11, 15)) == {"as_of_date": "2026-11-15"}
    assert dbt_build_args(date(2026, 11, 15)) == ["build", "--vars", '{"as_of_date": "2026-11-15"}']


def test_graph_is_connected_from_every_extract_to_the_pack(dbt_manifest):
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    contract = load_contract()
    raw_keys = {dg.AssetKey([e.raw_schema, e.name]) for e in contract.entities}
    assert raw_keys <= keys, "every contract entity has an ingest asset"

    pack = dg.AssetKey(["reports", "weekly_pack"])
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


def test_dbt_tests_are_asset_checks_and_job_and_schedule_exist(dbt_manifest):
    from pipelines.definitions import defs

    checks = defs.resolve_asset_graph().asset_check_keys
    assert any(c.asset_key == dg.AssetKey(["marts", "fct_attainment_weekly"]) for c in checks)
    job = defs.resolve_job_def("nightly_build")
    assert job.executor_def.name == "in_process"
    schedule = defs.resolve_schedule_def("nightly_build_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Asia/Shanghai"


def test_phase_seconds_groups_steps_into_phases():
    from types import SimpleNamespace

    from pipelines.cli import phase_seconds

    def success(step_key: str, ms: float):
        return SimpleNamespace(
            event_type_value="STEP_SUCCESS",
            step_key=step_key,
            event_specific_data=SimpleNamespace(duration_ms=ms),
        )

    events = [
        success("raw_crm__reps", 1500),
        success("raw_erp__payments", 500),
        success("sales_review_dbt_assets", 12000),
        success("reports__weekly_pack", 3000),
        success("quality_reports__verification_sample", 250),
        SimpleNamespace(event_type_value="STEP_START", step_key="raw_crm__reps", event_specific_data=None),
    ]
    # ingest = 1.5 + 0.5 s; dbt 12 s; packs 3 s; other steps by their asset's name
    assert phase_seconds(events) == {"ingest": 2.0, "dbt": 12.0, "packs": 3.0, "verification_sample": 0.25}
