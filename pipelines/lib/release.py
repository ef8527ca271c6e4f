"""Safe nights: a build writes into a private copy of the published warehouse and site, and makes the
copy visible all at once, only after every step has passed.

Layout, next to the warehouse file (SRW_WAREHOUSE):

    releases/
      build.lock            held (flock) by the running build; its pid, run and start time are in it
      current -> 20261129T180312Z-1a2b3c4d          the published release (a relative symlink)
      20261129T180312Z-1a2b3c4d/warehouse.duckdb, site/, release.json
      20261128T180301Z-9f8e7d6c/                    the previous release, kept for readers still on it
      building/             the release being built; removed by the next build if its build died
    warehouse.duckdb -> releases/current/warehouse.duckdb     what readers open
    site -> releases/current/site (SRW_SITE_DIR)             what the web server serves

A build copies the published warehouse and site into `building/`, every step writes there, and the
last step publishes: `building/` is renamed to a release folder and the `current` link is replaced by
one rename(2), which is atomic. The warehouse and the site switch together; a build that fails or is
killed leaves `current` untouched, so readers keep the previous night byte for byte.

One build at a time: the lock is an flock(2) on `build.lock`, which the kernel releases when the holder
dies, so a killed build never blocks the next one. The next build removes what the dead one left.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

WAREHOUSE_FILE = "warehouse.duckdb"
SITE_FOLDER = "site"
RELEASE_INFO = "release.json"
BUILD_INFO = "build.json"  # in building/: which run is building it
KEEP_PREVIOUS = 1  # releases kept besides the current one


class BuildRunning(RuntimeError):
    """Another build holds the lock."""


@dataclass(frozen=True)
class ReleasePaths:
    """Where the published warehouse and site are, and the release folders behind them."""

    warehouse_path: Path  # what readers open: a link to releases/current/warehouse.duckdb
    site_dir: Path  # what the web server serves: a link to releases/current/site

    @property
    def releases_dir(self) -> Path:
        return self.warehouse_path.parent / "releases"

    @property
    def lock_path(self) -> Path:
        return self.releases_dir / "build.lock"

    @property
    def current_link(self) -> Path:
        return self.releases_dir / "current"

    @property
    def building_dir(self) -> Path:
        return self.releases_dir / "building"

    @property
    def pending_removals_path(self) -> Path:
        return self.releases_dir / "pending_removals.json"

    def current_release(self) -> Path | None:
        """The published release folder, or None before the first publish."""
        if not self.current_link.is_symlink():
            return None
        return self.releases_dir / os.readlink(self.current_link)


# ---------------------------------------------------------------------------------------------- lock


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def holder(command: str, run_id: str | None = None) -> dict:
    """Who takes the lock: shown to a build that finds it taken."""
    return {"pid": os.getpid(), "started_at": _now(), "command": command, "run_id": run_id}


class BuildLock:
    """An exclusive flock on releases/build.lock. The holder writes who it is into the file."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, who: dict, *, wait: bool = False, poll_seconds: float = 1.0) -> None:
        """Take the lock or raise BuildRunning naming the build that has it (with wait=True: wait)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    running = read_holder(self.path)
                    os.close(fd)
                    raise BuildRunning(describe_running_build(running)) from None
                time.sleep(poll_seconds)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps({**who, "host": socket.gethostname()}) + "\n").encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def read_holder(lock_path: Path) -> dict:
    try:
        return json.loads(lock_path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def running_build(lock_path: Path) -> dict | None:
    """Who holds the lock (pid, run_id, started_at, command), or None when no build runs."""
    if not lock_path.exists():
        return None
    fd = os.open(lock_path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_holder(lock_path)
    finally:
        os.close(fd)
    return None


def describe_running_build(holder: dict) -> str:
    who = f"process {holder.get('pid', '?')}"
    if holder.get("host"):
        who += f" on {holder['host']}"
    what = holder.get("command") or "a build"
    run = f", Dagster run {holder['run_id']}" if holder.get("run_id") else ""
    return (
        f"another build is running: {what} ({who}, started {holder.get('started_at', '?')}{run}). "
        "This build did not start; nothing was changed. Wait for it to finish, or run "
        "`salesreview build --wait` to start as soon as it has."
    )


# ---------------------------------------------------------------------------------------------- releases


def _relative_link(link: Path, target: Path) -> None:
    """Point `link` at `target` (relative when possible) by renaming a new link over it: atomic."""
    link.parent.mkdir(parents=True, exist_ok=True)
    tmp = link.with_name(f".{link.name}.link-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, link.parent), tmp)
    os.replace(tmp, link)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _checkpointed_copy(source: Path, target: Path) -> None:
    """Copy a DuckDB file (and its write-ahead log, if a crash left one) so the copy opens as the source."""
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))


class Release:
    """The release a build writes: releases/building/{warehouse.duckdb, site/}."""

    def __init__(self, paths: ReleasePaths, run_id: str | None):
        self.paths = paths
        self.run_id = run_id
        self.published: Path | None = None
        self.copied_bytes = 0  # what begin() copied from the published release, and how long it took
        self.copy_seconds = 0.0

    @property
    def warehouse_path(self) -> Path:
        return self.paths.building_dir / WAREHOUSE_FILE

    @property
    def site_dir(self) -> Path:
        return self.paths.building_dir / SITE_FOLDER

    @classmethod
    def begin(cls, paths: ReleasePaths, run_id: str | None) -> Release:
        """Copy the published warehouse and site into building/. The caller holds the build lock."""
        release = cls(paths, run_id)
        started = time.perf_counter()
        building = paths.building_dir
        if building.exists():
            raise RuntimeError(f"{building} exists: recover() removes what a dead build left first")
        building.mkdir(parents=True)
        (building / BUILD_INFO).write_text(
            json.dumps({"run_id": run_id, "pid": os.getpid(), "started_at": _now()}) + "\n", encoding="utf-8"
        )
        if paths.warehouse_path.exists():
            _checkpointed_copy(paths.warehouse_path, release.warehouse_path)
        if paths.site_dir.is_dir():
            shutil.copytree(paths.site_dir, release.site_dir, symlinks=True)
        else:
            release.site_dir.mkdir()
        release.copy_seconds = time.perf_counter() - started
        release.copied_bytes = sum(p.stat().st_size for p in building.rglob("*") if p.is_file())
        return release

    def publish(self, info: dict | None = None) -> Path:
        """Make the release the published one: the warehouse and the site switch with one rename."""
        if self.published:
            return self.published
        if self.warehouse_path.exists():
            # Fold any write-ahead log into the file: readers open it read-only and must see it all.
            con = duckdb.connect(str(self.warehouse_path))
            try:
                con.execute("checkpoint")
            finally:
                con.close()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"{stamp}-{(self.run_id or 'manual')[:8]}"
        (self.paths.building_dir / RELEASE_INFO).write_text(
            json.dumps({"release": name, "run_id": self.run_id, "published_at": _now(), **(info or {})})
            + "\n",
            encoding="utf-8",
        )
        target = self.paths.releases_dir / name
        os.replace(self.paths.building_dir, target)
        _relative_link(self.paths.current_link, target)  # <- the moment of publication
        ensure_published_links(self.paths)
        prune_releases(self.paths)
        self.published = target
        return target

    def discard(self) -> None:
        if not self.published:
            _remove(self.paths.building_dir)


def ensure_published_links(paths: ReleasePaths) -> None:
    """warehouse.duckdb and site point through releases/current (they never change after the first
    publish). A warehouse file or site folder from before releases existed is moved into the
    releases folder first."""
    if paths.current_release() is None:
        return
    for link, inside in (
        (paths.warehouse_path, paths.current_link / WAREHOUSE_FILE),
        (paths.site_dir, paths.current_link / SITE_FOLDER),
    ):
        if link.is_symlink() and Path(os.readlink(link)) == Path(os.path.relpath(inside, link.parent)):
            continue
        if link.is_dir() and not link.is_symlink():
            link.rename(paths.releases_dir / f"unreleased-{link.name}-{os.getpid()}")
        _relative_link(link, inside)
    for stale in paths.warehouse_path.parent.glob(paths.warehouse_path.name + ".wal"):
        stale.unlink()  # a write-ahead log of the pre-release file, already folded into the copy


def release_folders(paths: ReleasePaths) -> list[Path]:
    """Published (or orphaned) release folders, oldest first."""
    if not paths.releases_dir.is_dir():
        return []
    return sorted(
        p
        for p in paths.releases_dir.iterdir()
        if p.is_dir() and not p.is_symlink() and (p / RELEASE_INFO).exists()
    )


def prune_releases(paths: ReleasePaths, keep_previous: int = KEEP_PREVIOUS) -> list[Path]:
    """Remove releases other than the current one and the `keep_previous` before it, and leftovers."""
    current = paths.current_release()
    folders = release_folders(paths)
    if current is None:
        return []
    older = [p for p in folders if p.name < current.name]
    keep = {current.name, *(p.name for p in older[-keep_previous:] if keep_previous)}
    removed = [p for p in folders if p.name not in keep]
    removed += [p for p in paths.releases_dir.glob("unreleased-*")]
    for path in removed:
        _remove(path)
    return removed


def recover(paths: ReleasePaths) -> list[str]:
    """Clean up after a build that died (the caller holds the lock, so no build is running).
    Returns one line per thing done, for the log."""
    notes = []
    building = paths.building_dir
    if building.exists():
        info = {}
        try:
            info = json.loads((building / BUILD_INFO).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        _remove(building)
        notes.append(
            f"removed the unfinished release of a build that did not end (run {info.get('run_id', '?')}, "
            f"process {info.get('pid', '?')}, started {info.get('started_at', '?')}); "
            "the published warehouse and site were never touched by it"
        )
    current = paths.current_release()
    if current is not None:
        ensure_published_links(paths)
        for orphan in (p for p in release_folders(paths) if p.name > current.name):
            _remove(orphan)  # renamed but never made current: the build died while publishing
            notes.append(f"removed {orphan.name}, a release that was never published")
        prune_releases(paths)
    # Render folders the renderer of earlier versions left next to the site when it was killed.
    for leftover in paths.site_dir.parent.glob(f".{paths.site_dir.name}-render-*"):
        _remove(leftover)
        notes.append(f"removed {leftover}, left by a killed render")
    return notes


def start_release(paths: ReleasePaths, who: dict, run_id: str | None) -> tuple[BuildLock, Release, list[str]]:
    """Take the build lock (or raise BuildRunning), clean up after a dead build, copy the published
    warehouse and site into a new release. Returns the lock, the release and what was cleaned up."""
    lock = BuildLock(paths.lock_path)
    lock.acquire(who)
    try:
        notes = recover(paths)
        return lock, Release.begin(paths, run_id), notes
    except BaseException:
        lock.release()
        raise


@contextmanager
def release_in_progress(paths: ReleasePaths, command: str) -> Iterator[Release]:
    """A release for a command outside Dagster (e.g. re-issuing a verification sample): the caller
    publishes it; otherwise it is discarded."""
    lock, release, _ = start_release(paths, holder(command), None)
    try:
        yield release
    finally:
        release.discard()
        lock.release()
