"""Releases (pipelines/lib/release.py): readers see the previous night byte for byte until a build
publishes, a killed build leaves nothing behind that blocks the next one, and one build runs at a time.

The warehouse here is a real DuckDB file and the site a folder of files; the builds are stand-ins that
write into the release like the real steps do.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.lib.release import (
    BuildLock,
    BuildRunning,
    Release,
    ReleasePaths,
    recover,
    release_folders,
    running_build,
    start_release,
)
from pipelines.lib.run_recovery import PID_TAG, reap_dead_runs


def _paths(root: Path) -> ReleasePaths:
    return ReleasePaths(root / "warehouse.duckdb", root / "site")


def _snapshot(paths: ReleasePaths) -> dict[str, bytes]:
    """Every byte a reader sees: the warehouse file and every site file."""
    files = {"warehouse": paths.warehouse_path.read_bytes()}
    files |= {
        str(p.relative_to(paths.site_dir)): p.read_bytes() for p in paths.site_dir.rglob("*") if p.is_file()
    }
    return files


def _night(paths: ReleasePaths, value: int, page: str) -> Release:
    """A build that writes a row into the warehouse and a page into the site of its release."""
    lock, release, _ = start_release(paths, {"pid": os.getpid()}, f"run-{value:04d}-0000")
    try:
        with duckdb.connect(str(release.warehouse_path)) as con:
            con.execute("create table if not exists nights (value integer)")
            con.execute("insert into nights values (?)", [value])
        (release.site_dir / "weekly").mkdir(exist_ok=True)
        (release.site_dir / "weekly" / f"{page}.html").write_text(f"<p>night {value}</p>", encoding="utf-8")
        (release.site_dir / "index.html").write_text(f"<p>index after night {value}</p>", encoding="utf-8")
        return release
    finally:
        lock.release()


def _nights(paths: ReleasePaths) -> list[int]:
    with duckdb.connect(str(paths.warehouse_path), read_only=True) as con:
        return [v for (v,) in con.execute("select value from nights order by value").fetchall()]


def test_first_publish_makes_the_warehouse_and_site_links_into_the_release(tmp_path):
    paths = _paths(tmp_path)
    folder = _night(paths, 1, "2026-W47").publish()

    assert paths.warehouse_path.is_symlink() and paths.site_dir.is_symlink()
    assert os.readlink(paths.warehouse_path) == "releases/current/warehouse.duckdb"  # relative
    assert os.readlink(paths.site_dir) == "releases/current/site"
    assert paths.current_release() == folder
    assert _nights(paths) == [1]
    assert (paths.site_dir / "weekly" / "2026-W47.html").read_text(encoding="utf-8") == "<p>night 1</p>"
    assert not paths.building_dir.exists()


def test_an_unpublished_release_changes_nothing_a_reader_sees(tmp_path):
    paths = _paths(tmp_path)
    _night(paths, 1, "2026-W47").publish()
    before = _snapshot(paths)

    release = _night(paths, 2, "2026-W48")  # built but not published (a later step failed)
    assert _snapshot(paths) == before
    release.discard()

    assert _snapshot(paths) == before
    assert not paths.building_dir.exists()
    assert _nights(paths) == [1]


def test_the_next_night_starts_from_the_published_one_and_switches_both_at_once(tmp_path):
    paths = _paths(tmp_path)
    first = _night(paths, 1, "2026-W47").publish()
    second = _night(paths, 2, "2026-W48").publish()

    assert _nights(paths) == [1, 2]  # the second build copied the first warehouse
    assert sorted(p.name for p in (paths.site_dir / "weekly").iterdir()) == ["2026-W47.html", "2026-W48.html"]
    assert (paths.site_dir / "index.html").read_text(encoding="utf-8") == "<p>index after night 2</p>"
    assert [p.name for p in release_folders(paths)] == [first.name, second.name]  # the previous one is kept

    third = _night(paths, 3, "2026-W49").publish()
    assert [p.name for p in release_folders(paths)] == [second.name, third.name]  # older ones go


def test_a_reader_that_opened_the_old_warehouse_keeps_reading_it(tmp_path):
    paths = _paths(tmp_path)
    _night(paths, 1, "2026-W47").publish()
    reader = duckdb.connect(str(paths.warehouse_path), read_only=True)
    try:
        _night(paths, 2, "2026-W48").publish()  # a read-only reader does not block the build either
        assert reader.execute("select count(*) from nights").fetchone() == (1,)
    finally:
        reader.close()
    assert _nights(paths) == [1, 2]


def test_recover_removes_what_a_killed_build_left_and_the_next_build_proceeds(tmp_path):
    paths = _paths(tmp_path)
    _night(paths, 1, "2026-W47").publish()
    before = _snapshot(paths)
    _night(paths, 2, "2026-W48")  # killed before publishing: its release stays on disk
    orphan = paths.releases_dir / "29991231T000000Z-deadbeef"  # killed between rename and link switch
    shutil.copytree(paths.current_release(), orphan)

    notes = recover(paths)

    assert len(notes) == 2
    assert notes[0].startswith(
        "removed the unfinished release of a build that did not end (run run-0002-0000"
    )
    assert notes[1] == "removed 29991231T000000Z-deadbeef, a release that was never published"
    assert not paths.building_dir.exists() and not orphan.exists()
    assert _snapshot(paths) == before
    _night(paths, 3, "2026-W49").publish()
    assert _nights(paths) == [1, 3]


def test_a_warehouse_and_site_from_before_releases_are_taken_over(tmp_path):
    paths = _paths(tmp_path)
    with duckdb.connect(str(paths.warehouse_path)) as con:
        con.execute("create table nights (value integer); insert into nights values (0)")
    (paths.site_dir / "weekly").mkdir(parents=True)
    (paths.site_dir / "weekly" / "2026-W46.html").write_text("<p>old</p>", encoding="utf-8")

    _night(paths, 1, "2026-W47").publish()

    assert paths.warehouse_path.is_symlink() and paths.site_dir.is_symlink()
    assert _nights(paths) == [0, 1]
    assert sorted(p.name for p in (paths.site_dir / "weekly").iterdir()) == ["2026-W46.html", "2026-W47.html"]
    assert not list(paths.releases_dir.glob("unreleased-*"))


def test_a_copied_folder_keeps_working_because_the_links_are_relative(tmp_path):
    paths = _paths(tmp_path / "a")
    _night(paths, 1, "2026-W47").publish()
    shutil.copytree(tmp_path / "a", tmp_path / "b", symlinks=True)
    assert _nights(_paths(tmp_path / "b")) == [1]


# ---------------------------------------------------------------------------------------- the lock


def test_a_second_build_is_told_who_is_running(tmp_path):
    paths = _paths(tmp_path)
    holder = {
        "pid": 4242,
        "started_at": "2026-11-29T02:00:03+08:00",
        "run_id": "abc",
        "command": "salesreview build",
    }
    lock = BuildLock(paths.lock_path)
    lock.acquire(holder)
    try:
        assert running_build(paths.lock_path)["pid"] == 4242
        with pytest.raises(BuildRunning) as caught:
            start_release(paths, {"pid": os.getpid()}, "second")
        assert str(caught.value).startswith("another build is running: salesreview build (process 4242 on ")
        assert "started 2026-11-29T02:00:03+08:00, Dagster run abc" in str(caught.value)
        assert not paths.building_dir.exists(), "the second build touched nothing"
    finally:
        lock.release()
    assert running_build(paths.lock_path) is None


def test_the_lock_of_a_killed_process_is_free_at_once(tmp_path):
    paths = _paths(tmp_path)
    holder_code = (
        "import sys, time; from pathlib import Path; from pipelines.lib.release import BuildLock; "
        "BuildLock(Path(sys.argv[1])).acquire({'pid': 1}); print('locked', flush=True); time.sleep(60)"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", holder_code, str(paths.lock_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "locked"
        assert running_build(paths.lock_path) is not None
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        assert running_build(paths.lock_path) is None
        lock, release, _ = start_release(paths, {"pid": os.getpid()}, "next")
        release.discard()
        lock.release()
    finally:
        child.kill()


def test_waiting_for_the_lock_gets_it_when_the_holder_ends(tmp_path):
    paths = _paths(tmp_path)
    first = BuildLock(paths.lock_path)
    first.acquire({"pid": 1})
    started = time.monotonic()
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from pipelines.lib.release import BuildLock; "
            "BuildLock(Path(sys.argv[1])).acquire({'pid': 2}, wait=True, poll_seconds=0.1); print('got it')",
            str(paths.lock_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    assert child.poll() is None, "it waits while the lock is held"
    first.release()
    assert child.communicate(timeout=20)[0].strip() == "got it"
    assert time.monotonic() - started >= 1.0


# ---------------------------------------------------------------------------------------- dead runs


def _run(instance: dg.DagsterInstance, status: dg.DagsterRunStatus, tags: dict) -> str:
    from dagster._core.test_utils import create_run_for_test

    return create_run_for_test(instance, job_name="nightly_build", status=status, tags=tags).run_id


def test_runs_that_died_are_marked_failed_and_a_starting_one_is_left_alone():
    with dg.instance_for_test() as instance:
        dead = _run(instance, dg.DagsterRunStatus.STARTED, {PID_TAG: "999999"})
        starting = _run(instance, dg.DagsterRunStatus.STARTING, {})
        current = _run(instance, dg.DagsterRunStatus.STARTED, {PID_TAG: str(os.getpid())})
        finished = _run(instance, dg.DagsterRunStatus.SUCCESS, {PID_TAG: "999998"})

        notes = reap_dead_runs(instance, current_run_id=current)

        status = {r: instance.get_run_by_id(r).status for r in (dead, starting, current, finished)}
        assert status == {
            dead: dg.DagsterRunStatus.FAILURE,
            starting: dg.DagsterRunStatus.STARTING,  # younger than the start-up grace: still starting
            current: dg.DagsterRunStatus.STARTED,
            finished: dg.DagsterRunStatus.SUCCESS,
        }
        assert len(notes) == 1 and notes[0].startswith(f"Dagster run {dead} (process 999999, started ")
        # Ten minutes on, the run that never got the lock is dead too.
        later = datetime.now(UTC) + timedelta(minutes=10)
        assert len(reap_dead_runs(instance, current_run_id=current, now=later)) == 1
        assert instance.get_run_by_id(starting).status == dg.DagsterRunStatus.FAILURE
