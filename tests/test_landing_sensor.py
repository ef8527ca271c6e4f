"""The landing sensor over a temporary landing folder: new, duplicate, already loaded, incomplete,
corrected and one-system deliveries (pipelines/lib/delivery_watch.py), and the sensor through Dagster."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import copy_delivery_day

from pipelines.lib.delivery_watch import (
    dump_cursor,
    latest_loads,
    loaded_shas,
    nightly_already_built,
    parse_cursor,
    watch_landing,
)
from pipelines.lib.ingest import LOADED_FILES_DDL
from pipelines.lib.landing import write_manifest
from quality.contract import load_contract

DAYS = ["2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28", "2026-11-29"]
NOW = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)  # 01:00 in Shanghai, the night after 2026-11-29


@pytest.fixture(scope="module")
def contract():
    return load_contract()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """Five days of a tiny company's deliveries, to copy into a landing folder day by day."""
    from pipelines.sample.generator import generate

    out = tmp_path_factory.mktemp("generated")
    generate(out, scale=0.02, seed=5, end_date=date.fromisoformat(DAYS[-1]), days=len(DAYS))
    return out


@pytest.fixture
def landing(tmp_path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


def deliver(generated: Path, landing: Path, day: str, systems=("crm", "erp")) -> None:
    for system in systems:
        copy_delivery_day(generated / system, landing / system, day)


def manifest_sha(landing: Path, system: str, day: str) -> str:
    return hashlib.sha256((landing / system / "_manifests" / f"{day}.json").read_bytes()).hexdigest()


def expected_key(landing: Path, day: str) -> str:
    return f"landing:{day}:" + ",".join(
        f"{system}={manifest_sha(landing, system, day)[:16]}" for system in ("crm", "erp")
    )


def warehouse_with_loaded(path: Path, landing: Path, contract, days) -> Path:
    """A warehouse whose raw_meta.loaded_files records these days' deliveries, as a build leaves it."""
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists raw_meta")
    con.execute(LOADED_FILES_DDL)
    for day in days:
        for system in contract.systems:
            manifest = json.loads((landing / system / "_manifests" / f"{day}.json").read_text())
            for entity, meta in manifest["files"].items():
                con.execute(
                    "insert into raw_meta.loaded_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        system,
                        entity,
                        day,
                        meta["path"],
                        meta["sha256"],
                        meta["rows"],
                        meta["path"],
                        datetime(2026, 11, 29, 16, 50),
                        meta["rows"],
                        0,
                    ],
                )
    con.close()
    return path


def test_a_new_complete_delivery_is_one_run_for_its_date_and_never_twice(generated, landing, contract):
    deliver(generated, landing, DAYS[0])

    first = watch_landing(landing, contract, {}, None, now=NOW)

    assert first.run is not None
    assert first.run.partition_key == DAYS[0]
    assert first.run.run_key == expected_key(landing, DAYS[0])
    assert first.run.deliveries == (f"crm/{DAYS[0]}", f"erp/{DAYS[0]}")
    assert first.reports == []

    # the next tick, with the cursor it returned: the same delivery is not requested again
    again = watch_landing(landing, contract, {}, dump_cursor(first.cursor), now=NOW + timedelta(minutes=2))
    assert again.run is None and again.reports == [] and again.status == "no new delivery"

    # the next day arrives: only that day is requested
    deliver(generated, landing, DAYS[1])
    nxt = watch_landing(landing, contract, {}, dump_cursor(again.cursor), now=NOW + timedelta(minutes=4))
    assert nxt.run is not None and nxt.run.partition_key == DAYS[1]
    assert nxt.run.run_key == expected_key(landing, DAYS[1])


def test_deliveries_already_in_the_published_warehouse_need_no_run(generated, landing, contract, tmp_path):
    for day in DAYS[:3]:
        deliver(generated, landing, day)
    warehouse = warehouse_with_loaded(tmp_path / "warehouse.duckdb", landing, contract, DAYS[:3])
    loaded = loaded_shas(warehouse)

    result = watch_landing(landing, contract, loaded, None, now=NOW)

    assert result.run is None and result.reports == []
    assert loaded_shas(tmp_path / "missing.duckdb") == {}  # no warehouse yet: nothing loaded
    # a newer day than the loaded ones is requested on its own
    deliver(generated, landing, DAYS[3])
    later = watch_landing(landing, contract, loaded, dump_cursor(result.cursor), now=NOW)
    assert later.run is not None and later.run.partition_key == DAYS[3]


def test_several_new_days_at_once_are_one_run_for_the_range(generated, landing, contract):
    for day in DAYS:
        deliver(generated, landing, day)

    result = watch_landing(landing, contract, {}, None, now=NOW)

    assert result.run is not None
    assert (result.run.first, result.run.last, result.run.partition_key) == (DAYS[0], DAYS[-1], None)
    assert len(result.run.deliveries) == 2 * len(DAYS)
    assert result.run.run_key.startswith(f"landing:{DAYS[0]}..{DAYS[-1]}:10-deliveries:")
    assert watch_landing(landing, contract, {}, dump_cursor(result.cursor), now=NOW).run is None


def test_an_incomplete_delivery_is_reported_once_and_built_when_complete(generated, landing, contract):
    deliver(generated, landing, DAYS[0])
    missing = landing / "crm" / "opportunities" / f"{DAYS[0]}.csv"
    kept = missing.read_bytes()
    missing.unlink()

    first = watch_landing(landing, contract, {}, None, now=NOW)
    assert first.run is None
    assert len(first.reports) == 1
    assert f"crm delivery {DAYS[0]} is incomplete" in first.reports[0]
    assert "crm/opportunities/2026-11-25.csv: listed in the manifest but not delivered" in first.reports[0]

    quiet = watch_landing(landing, contract, {}, dump_cursor(first.cursor), now=NOW + timedelta(minutes=2))
    assert quiet.run is None and quiet.reports == []

    # half of the file arrives: what is wrong changed (a SHA-256 mismatch), reported once more
    missing.write_bytes(kept[: len(kept) // 2])
    partial = watch_landing(landing, contract, {}, dump_cursor(quiet.cursor), now=NOW + timedelta(minutes=4))
    assert partial.run is None and len(partial.reports) == 1 and "SHA-256" in partial.reports[0]
    quiet = watch_landing(landing, contract, {}, dump_cursor(partial.cursor), now=NOW + timedelta(minutes=6))
    assert quiet.run is None and quiet.reports == []

    missing.write_bytes(kept)
    done = watch_landing(landing, contract, {}, dump_cursor(quiet.cursor), now=NOW + timedelta(minutes=8))
    assert done.run is not None and done.run.run_key == expected_key(landing, DAYS[0])
    assert done.cursor["reported"] == {}


def test_files_without_their_manifest_wait_and_block_later_days(generated, landing, contract):
    deliver(generated, landing, DAYS[0])
    (landing / "erp" / "_manifests" / f"{DAYS[0]}.json").unlink()  # the export is still running
    deliver(generated, landing, DAYS[1])

    result = watch_landing(landing, contract, {}, None, now=NOW)

    assert result.run is None
    assert len(result.reports) == 1 and "without the manifest" in result.reports[0]
    # day 2 is complete, but waits for day 1 (a run for it alone would fail freshness with a gap)
    assert DAYS[1] in result.status and "waiting" in result.status
    shutil.copyfile(
        generated / "erp" / "_manifests" / f"{DAYS[0]}.json",
        landing / "erp" / "_manifests" / f"{DAYS[0]}.json",
    )
    done = watch_landing(landing, contract, {}, dump_cursor(result.cursor), now=NOW + timedelta(minutes=2))
    assert done.run is not None and (done.run.first, done.run.last) == (DAYS[0], DAYS[1])


def test_a_corrected_redelivery_gets_a_new_run_key(generated, landing, contract, tmp_path):
    deliver(generated, landing, DAYS[0])
    first = watch_landing(landing, contract, {}, None, now=NOW)
    warehouse = warehouse_with_loaded(tmp_path / "warehouse.duckdb", landing, contract, [DAYS[0]])

    # the CRM re-delivers the day with one more line, then its new manifest
    opportunities = landing / "crm" / "opportunities" / f"{DAYS[0]}.csv"
    header = opportunities.read_text(encoding="utf-8").splitlines()[0]
    opportunities.write_text(
        header + "\n" + ",".join(["x"] * len(header.split(","))) + "\n", encoding="utf-8"
    )
    write_manifest(landing, contract, "crm", DAYS[0])

    again = watch_landing(landing, contract, loaded_shas(warehouse), dump_cursor(first.cursor), now=NOW)

    assert again.run is not None and again.run.partition_key == DAYS[0]
    assert again.run.run_key != first.run.run_key
    assert again.run.run_key == expected_key(landing, DAYS[0])
    assert again.run.deliveries == (f"crm/{DAYS[0]}",)  # erp's delivery is loaded already


def test_one_system_waits_for_the_other_then_builds_after_the_grace_period(generated, landing, contract):
    deliver(generated, landing, DAYS[0])  # both systems have delivered before
    first = watch_landing(landing, contract, {}, None, now=NOW)
    deliver(generated, landing, DAYS[1], systems=("crm",))

    waiting = watch_landing(landing, contract, {}, dump_cursor(first.cursor), now=NOW)
    assert waiting.run is None and waiting.reports == []
    assert len(waiting.notes) == 1 and f"waiting for erp {DAYS[1]}" in waiting.notes[0]

    still = watch_landing(
        landing, contract, {}, dump_cursor(waiting.cursor), now=NOW + timedelta(minutes=119)
    )
    assert still.run is None and still.notes == []  # said once

    late = watch_landing(landing, contract, {}, dump_cursor(still.cursor), now=NOW + timedelta(minutes=120))
    assert late.run is not None and late.run.partition_key == DAYS[1]
    assert late.run.deliveries == (f"crm/{DAYS[1]}",)
    assert late.run.run_key == f"landing:{DAYS[1]}:crm={manifest_sha(landing, 'crm', DAYS[1])[:16]}"
    assert late.reports == [] and late.cursor["reported"] == {}

    # erp arrives after all: a new run key for the day (the failed run did not load it)
    deliver(generated, landing, DAYS[1], systems=("erp",))
    after = watch_landing(landing, contract, {}, dump_cursor(late.cursor), now=NOW + timedelta(minutes=130))
    assert after.run is not None and after.run.deliveries == (f"erp/{DAYS[1]}",)
    assert after.run.run_key == expected_key(landing, DAYS[1]) != late.run.run_key


def test_the_cursor_stays_small_and_survives_garbage(generated, landing, contract):
    assert parse_cursor("not json")["requested"] == {}
    assert parse_cursor('{"v": 0, "requested": {"x": 1}}')["requested"] == {}
    deliver(generated, landing, DAYS[0])
    first = watch_landing(landing, contract, {}, None, now=NOW)
    assert len(dump_cursor(first.cursor)) < 300
    # 61 days later the request is forgotten by the cursor; a later tick asks again with the same run key,
    # which the Dagster daemon refuses (it keeps the run keys of a sensor's runs)
    old = watch_landing(landing, contract, {}, dump_cursor(first.cursor), now=NOW + timedelta(days=61))
    assert old.run is None and old.cursor["requested"] == {}
    again = watch_landing(landing, contract, {}, dump_cursor(old.cursor), now=NOW + timedelta(days=61))
    assert again.run is not None and again.run.run_key == first.run.run_key


def test_the_scheduled_night_is_skipped_only_when_every_system_was_built_since_the_last_tick(
    generated, landing, contract, tmp_path
):
    deliver(generated, landing, DAYS[0])
    warehouse = warehouse_with_loaded(tmp_path / "warehouse.duckdb", landing, contract, [DAYS[0]])
    latest = latest_loads(warehouse)
    assert set(latest) == {"crm", "erp"}
    assert latest["crm"] == datetime(2026, 11, 29, 16, 50, tzinfo=UTC)

    since = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)  # the previous tick, 02:00 Shanghai
    assert "already built and published" in nightly_already_built(contract, latest, since)
    assert nightly_already_built(contract, {"crm": latest["crm"]}, since) is None
    assert nightly_already_built(contract, latest, datetime(2026, 11, 29, 18, 0, tzinfo=UTC)) is None
    assert latest_loads(tmp_path / "none.duckdb") == {}


def test_the_sensor_through_dagster(generated, landing, contract, tmp_path, monkeypatch, dbt_manifest):
    from pipelines.definitions import defs
    from pipelines.defs.sensors.landing import landing_sensor

    monkeypatch.setenv("SRW_LANDING_DIR", str(landing))
    monkeypatch.setenv("SRW_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    assert landing_sensor.job_name == "nightly_build"
    assert landing_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert landing_sensor.minimum_interval_seconds == 120

    with dg.instance_for_test() as instance:
        empty = landing_sensor(dg.build_sensor_context(instance=instance, definitions=defs))
        assert empty.run_requests == [] and "no new delivery" in empty.skip_reason.skip_message

        deliver(generated, landing, DAYS[0])
        result = landing_sensor(dg.build_sensor_context(instance=instance, definitions=defs))
        [request] = result.run_requests
        assert request.partition_key == DAYS[0]
        assert request.run_key == expected_key(landing, DAYS[0])
        assert request.tags["salesreview/trigger"] == "landing_sensor"
        assert request.run_config["ops"]["raw_crm"] == {"config": {"require_new_delivery": False}}
        # the partition key is valid for the job (Dagster resolves it against the job's partitions)
        assert dg.validate_run_config(defs.resolve_job_def("nightly_build"), request.run_config)

        duplicate = landing_sensor(
            dg.build_sensor_context(instance=instance, cursor=result.cursor, definitions=defs)
        )
        assert duplicate.run_requests == []

        deliver(generated, landing, DAYS[1])
        (landing / "erp" / "invoices" / f"{DAYS[1]}.csv").unlink()
        context = dg.build_sensor_context(instance=instance, cursor=duplicate.cursor, definitions=defs)
        incomplete = landing_sensor(context)
        assert incomplete.run_requests == []
        assert "erp delivery 2026-11-26 is incomplete" in incomplete.skip_reason.skip_message
        quiet = landing_sensor(
            dg.build_sensor_context(instance=instance, cursor=incomplete.cursor, definitions=defs)
        )
        assert quiet.run_requests == []
        assert "is incomplete" not in quiet.skip_reason.skip_message  # reported once, then quiet
        assert quiet.skip_reason.skip_message == (
            f"incomplete, no build: erp/{DAYS[1]}; waiting: {DAYS[1]} for erp {DAYS[1]}"
        )
