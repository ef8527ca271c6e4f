"""Undoing a delivery: `salesreview remove-day --system S --date D`.

A misdated or wrong delivery is taken out of the landing folder (its files and manifest are moved,
unchanged, to <archive>/removed/<system>/<date>__<when>/, so nothing is lost), and the day's loaded
rows are scheduled for removal: the next build deletes them from the raw tables and from the load
registry inside its own release, records them in raw_meta.removed_deliveries, and publishes as
usual. Until that build is published the request stays pending (releases/pending_removals.json), so
a build that fails applies it again next time.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from pipelines.lib.ingest import REMOVED_DELIVERIES_TABLE, Removal
from pipelines.lib.release import ReleasePaths
from quality.contract import Contract


@dataclass(frozen=True)
class RemovalRequest:
    system: str
    extract_date: str
    reason: str | None
    requested_at: str  # ISO, UTC
    moved_files: list[str]  # where the landing files went, relative to the archive folder


def _read(paths: ReleasePaths) -> list[dict]:
    try:
        return json.loads(paths.pending_removals_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []


def _write(paths: ReleasePaths, requests: list[dict]) -> None:
    paths.releases_dir.mkdir(parents=True, exist_ok=True)
    tmp = paths.pending_removals_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(requests, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, paths.pending_removals_path)


def pending_removals(paths: ReleasePaths, system: str | None = None) -> list[Removal]:
    return [
        Removal(
            system=r["system"],
            extract_date=r["extract_date"],
            reason=r.get("reason"),
            requested_at=datetime.fromisoformat(r["requested_at"]).replace(tzinfo=None),
        )
        for r in _read(paths)
        if system is None or r["system"] == system
    ]


def request_removal(
    paths: ReleasePaths,
    contract: Contract,
    landing_dir: Path,
    archive_dir: Path,
    system: str,
    extract_date: date,
    reason: str | None = None,
) -> RemovalRequest:
    """Move the delivery's files out of the landing folder (manifest first, so a half-moved delivery is
    never complete) and schedule its loaded rows for removal. The caller holds the build lock."""
    if system not in contract.systems:
        raise ValueError(f"unknown system {system!r}: one of {', '.join(contract.systems)}")
    day = extract_date.isoformat()
    now = datetime.now(UTC)
    target = archive_dir / "removed" / system / f"{day}__{now:%Y%m%dT%H%M%SZ}"
    candidates = [contract.manifest_path(system, day)] + [
        contract.file_path(system, e.name, day) for e in contract.entities_of(system)
    ]
    moved = []
    for relative in candidates:
        source = landing_dir / relative
        if source.exists():
            dest = target / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, dest)
            moved.append(str(dest.relative_to(archive_dir)))
    request = RemovalRequest(system, day, reason, now.replace(microsecond=0).isoformat(), moved)
    requests = [r for r in _read(paths) if (r["system"], r["extract_date"]) != (system, day)]
    _write(paths, [*requests, asdict(request)])
    return request


def applied_requests(paths: ReleasePaths, con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The pending requests that the release in `con` has applied (raw_meta.removed_deliveries)."""
    requests = _read(paths)
    if not requests:
        return []
    applied = {
        (system, str(day), requested_at)
        for system, day, requested_at in con.execute(
            f"select system, extract_date, requested_at from {REMOVED_DELIVERIES_TABLE}"
        ).fetchall()
    }
    return [
        r
        for r in requests
        if (r["system"], r["extract_date"], datetime.fromisoformat(r["requested_at"]).replace(tzinfo=None))
        in applied
    ]


def forget(paths: ReleasePaths, done: list[dict]) -> None:
    """Drop requests once the release that applied them is published."""
    if done:
        _write(paths, [r for r in _read(paths) if r not in done])
