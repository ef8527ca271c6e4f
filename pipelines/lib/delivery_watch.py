"""What the landing sensor decides on each tick: which new deliveries to build, what to report.

A delivery is one system's manifest for one extract date (pipelines/lib/landing.py). The sensor asks
`watch_landing(...)` with the landing folder, the contract, what the published warehouse has loaded and
the cursor it kept from its last tick, and gets back the run to request (if any), the messages to
report and the next cursor. No Dagster here: the function is tested on temporary folders.

- A delivery is **new** when its manifest lists a file the published warehouse has not loaded with the
  same SHA-256 (raw_meta.loaded_files; so deliveries loaded by a shell build need no run), and it was
  not already requested with the same manifest content.
- A delivery is **complete** when every file it lists is there with the listed SHA-256 (the same test as
  the ingest's). An incomplete one (a file missing or still being written, a manifest that cannot be
  read, files without a manifest yet) gets no run; it is reported once, and again only when what is
  wrong with it changes.
- A date is **due** when every system expected that day has a complete delivery for it and no earlier
  date is still waiting, or when its first complete delivery has waited longer than the grace period
  (then the build runs anyway, and its freshness and delivery checks say which system or file is
  missing). A system is expected from its first delivery on; one that never delivered is expected
  every day (as the freshness check expects it).
- One run covers the new deliveries up to the last due date: a single date is a run for that partition,
  several (after an outage, or a first load of many days) one run for the partition range. Separate
  runs per date would each fail freshness while a later day's manifest is already in the landing folder
  (freshness expects the latest delivery of any system), and each would rebuild the marts.
- The run key is made of the dates and the SHA-256 of each delivery's manifest bytes: the same deliveries
  are never run twice (the Dagster daemon also refuses a run key it has seen), and a corrected
  re-delivery (a new manifest) gets a new key and runs again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipelines.lib.landing import dates_without_manifest, file_problem, list_extract_dates, read_manifest
from quality.contract import Contract

CURSOR_VERSION = 1
DEFAULT_GRACE = timedelta(minutes=120)
# Cursor entries (requested deliveries) older than this are dropped: the warehouse and the run keys the
# Dagster instance keeps are the lasting record; the cursor only saves work and keeps ticks quiet.
CURSOR_RETENTION = timedelta(days=60)
TRIGGER_TAG = "salesreview/trigger"
DELIVERIES_TAG = "salesreview/deliveries"
SHORT = 16  # hex digits of a SHA-256 kept in run keys and the cursor


@dataclass(frozen=True)
class PlannedRun:
    """The run to request: one extract date (first == last) or a range, and the deliveries in it."""

    first: str
    last: str
    run_key: str
    deliveries: tuple[str, ...]  # "system/YYYY-MM-DD", in date order

    @property
    def partition_key(self) -> str | None:
        return self.first if self.first == self.last else None


@dataclass
class WatchResult:
    run: PlannedRun | None
    reports: list[str] = field(default_factory=list)  # new problems: warn once
    notes: list[str] = field(default_factory=list)  # new waits and the like: say once, at info level
    status: str = ""  # one line for the tick (a skip reason when no run is requested)
    cursor: dict = field(default_factory=dict)


def _published_loads(warehouse_path: Path, sql: str) -> list[tuple]:
    """Rows of `sql` over raw_meta.loaded_files of the published warehouse, opened read-only; none when
    there is no warehouse (or no raw_meta.loaded_files) yet."""
    import duckdb

    if not warehouse_path.exists():
        return []
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        has_table = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw_meta' and table_name = 'loaded_files'"
        ).fetchone()[0]
        return con.execute(sql).fetchall() if has_table else []
    finally:
        con.close()


def loaded_shas(warehouse_path: Path) -> dict[tuple[str, str, str], str]:
    """(system, entity, extract date) -> SHA-256 loaded, from the published warehouse."""
    rows = _published_loads(
        warehouse_path,
        "select system, entity, strftime(extract_date, '%Y-%m-%d'), file_sha256 from raw_meta.loaded_files",
    )
    return {(system, entity, day): sha for system, entity, day, sha in rows}


def parse_cursor(text: str | None) -> dict:
    """The cursor as kept by the sensor; an empty state for none, an older format or garbage."""
    try:
        state = json.loads(text) if text else {}
    except ValueError:
        state = {}
    if not isinstance(state, dict) or state.get("v") != CURSOR_VERSION:
        state = {}
    return {
        "v": CURSOR_VERSION,
        "requested": dict(state.get("requested", {})),  # "system/date" -> [manifest sha, epoch requested]
        "reported": dict(state.get("reported", {})),  # "system/date" or "wait/date" -> what was reported
        "first_seen": dict(state.get("first_seen", {})),  # date -> epoch of its first complete delivery
    }


def dump_cursor(state: Mapping) -> str:
    return json.dumps(state, sort_keys=True, separators=(",", ":"))


def _digest(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:SHORT]


def run_key(deliveries: Mapping[str, str]) -> str:
    """Stable key of a run from its deliveries ("system/date" -> SHA-256 of the manifest's bytes): the
    date(s), then each system's manifest hash for one date, or one hash over all for a range."""
    keys = sorted(deliveries, key=lambda k: (k.split("/")[1], k))
    dates = sorted({k.split("/")[1] for k in keys})
    if len(dates) == 1:
        return f"landing:{dates[0]}:" + ",".join(f"{k.split('/')[0]}={deliveries[k][:SHORT]}" for k in keys)
    combined = _digest("\n".join(f"{k}={deliveries[k]}" for k in keys))
    return f"landing:{dates[0]}..{dates[-1]}:{len(keys)}-deliveries:{combined}"


def watch_landing(
    landing_dir: Path,
    contract: Contract,
    loaded: Mapping[tuple[str, str, str], str],
    cursor: str | None,
    *,
    now: datetime | None = None,
    grace: timedelta = DEFAULT_GRACE,
) -> WatchResult:
    """One tick of the landing sensor. `loaded` is `loaded_shas(<published warehouse>)`."""
    now = now or datetime.now(UTC)
    epoch = int(now.timestamp())
    state = parse_cursor(cursor)
    requested: dict = state["requested"]
    reported_before: dict = state["reported"]
    first_seen: dict = state["first_seen"]

    complete: dict[str, dict[str, str]] = {}  # date -> system -> manifest sha (new, complete deliveries)
    problems: dict[str, str] = {}  # "system/date" -> what is wrong (new, incomplete deliveries)
    first_delivery: dict[str, str] = {}  # system -> its first extract date (landing or warehouse)
    # (system, date) loaded, or its run requested: nothing to wait for -> its manifest's SHA-256
    settled: dict[tuple[str, str], str] = {}
    for system, _, day in loaded:
        first_delivery[system] = min(day, first_delivery.get(system, day))

    for system in contract.systems:
        days = list_extract_dates(landing_dir, contract, system)
        if days:
            first_delivery[system] = min(days[0], first_delivery.get(system, days[0]))
        for day in days:
            key = f"{system}/{day}"
            manifest = read_manifest(landing_dir, contract, system, day)
            if manifest.problems:
                problems[key] = "; ".join(manifest.problems)
                continue
            try:
                manifest_sha = hashlib.sha256(manifest.path.read_bytes()).hexdigest()
            except OSError as error:  # removed between listing and reading
                problems[key] = f"{manifest.path.name}: {error}"
                continue
            files = list(manifest.files.items())
            if all(loaded.get((system, entity, day)) == meta["sha256"] for entity, meta in files):
                requested.pop(key, None)  # loaded: the warehouse remembers it now
                settled[(system, day)] = manifest_sha
                continue
            if requested.get(key, [None])[0] == manifest_sha[:SHORT]:
                settled[(system, day)] = manifest_sha
                continue  # its run was requested (queued, running, or failed: a new manifest runs again)
            missing = [p for _, meta in files if (p := file_problem(landing_dir, meta))]
            if missing:
                problems[key] = "; ".join(missing)
                continue
            complete.setdefault(day, {})[system] = manifest_sha
        for day, count in dates_without_manifest(landing_dir, contract, system).items():
            problems.setdefault(
                f"{system}/{day}",
                f"{count} file(s) for {day} delivered without the manifest (the export is still running, or "
                f"stopped before writing {contract.manifest_path(system, day)})",
            )

    for key in problems:  # an incomplete delivery is a delivery too: its system is expected from then on
        system, day = key.split("/", 1)
        first_delivery[system] = min(day, first_delivery.get(system, day))

    # Report each incomplete delivery once, and again only when what is wrong with it changes.
    reports: list[str] = []
    reported: dict[str, str] = {}
    for key, problem in sorted(problems.items()):
        system, day = key.split("/", 1)
        signature = _digest(problem)
        reported[key] = signature
        if reported_before.get(key) != signature:
            reports.append(
                f"{system} delivery {day} is incomplete, no build started for it: {problem}. "
                "It is built once the files match the manifest "
                "(deliver the file(s) again, then the manifest)."
            )

    for day in complete:
        first_seen.setdefault(day, epoch)
    for day in list(first_seen):
        if day not in complete:
            del first_seen[day]

    def expected(day: str) -> list[str]:
        return [s for s in contract.systems if first_delivery.get(s, day) <= day]

    def waited(day: str) -> timedelta:
        return now - datetime.fromtimestamp(first_seen[day], UTC)

    incomplete_days = {key.split("/", 1)[1] for key in problems}
    due: list[str] = []
    waiting: dict[str, list[str]] = {}  # date -> what it waits for
    blocked_by: str | None = None
    for day in sorted(set(complete) | incomplete_days):
        lacking = [s for s in expected(day) if s not in complete.get(day, {}) and (s, day) not in settled]
        ready = day in complete and not lacking and blocked_by is None
        if day in complete and (ready or waited(day) >= grace):
            due.append(day)
            continue
        if day in complete:
            waiting[day] = [f"{s} {day}" for s in lacking] + (
                [f"the delivery of {blocked_by}"] if blocked_by else []
            )
        blocked_by = blocked_by or day

    notes: list[str] = []
    for day, what in waiting.items():
        wait_key = f"wait/{day}"
        signature = _digest(",".join(what))
        reported[wait_key] = signature
        if reported_before.get(wait_key) != signature:
            until = datetime.fromtimestamp(first_seen[day], UTC) + grace
            have = ", ".join(sorted(complete[day]))
            notes.append(
                f"{have} {day} complete; waiting for {', '.join(what)} until {until:%Y-%m-%d %H:%M} UTC, "
                "then building without it"
            )

    run = None
    if due:
        last = due[-1]
        first = min(day for day in complete if day <= last)
        included = {
            f"{system}/{day}": sha
            for day in sorted(complete)
            if first <= day <= last
            for system, sha in sorted(complete[day].items())
        }
        # the key: every complete delivery of those dates, the ones built before too (a day's state)
        keyed = {f"{s}/{d}": sha for (s, d), sha in settled.items() if first <= d <= last} | included
        run = PlannedRun(first, last, run_key(keyed), tuple(included))
        for key, sha in included.items():
            requested[key] = [sha[:SHORT], epoch]
            reported.pop(f"wait/{key.split('/', 1)[1]}", None)
        for day in {k.split("/", 1)[1] for k in included}:
            first_seen.pop(day, None)

    horizon = epoch - int(CURSOR_RETENTION.total_seconds())
    state["requested"] = {k: v for k, v in requested.items() if v[1] >= horizon}
    state["reported"] = reported
    state["first_seen"] = first_seen

    if run:
        span = run.first if run.partition_key else f"{run.first} to {run.last}"
        status = f"building {span}: {', '.join(run.deliveries)}"
    else:
        parts = []
        if problems:
            parts.append("incomplete, no build: " + ", ".join(sorted(problems)))
        if waiting:
            parts.append(
                "waiting: " + "; ".join(f"{day} for {', '.join(what)}" for day, what in waiting.items())
            )
        status = "; ".join(parts) or "no new delivery"
    return WatchResult(run, reports, notes, status, state)


def latest_loads(warehouse_path: Path) -> dict[str, datetime]:
    """System -> when the published warehouse last loaded a file of it (UTC); empty without a warehouse."""
    rows = _published_loads(
        warehouse_path, "select system, max(loaded_at) from raw_meta.loaded_files group by system"
    )
    return {system: at.replace(tzinfo=UTC) for system, at in rows}


def nightly_already_built(contract: Contract, latest: Mapping[str, datetime], since: datetime) -> str | None:
    """Why the scheduled night need not run (None: run it): every system's delivery was already loaded
    and published since the previous scheduled night, by the landing sensor's run. Otherwise the night
    runs as always, and fails with one message per system when a system brought nothing new."""
    if not contract.systems or any(latest.get(s) is None or latest[s] < since for s in contract.systems):
        return None
    loads = ", ".join(f"{s} at {latest[s]:%Y-%m-%d %H:%M} UTC" for s in contract.systems)
    return (
        f"every system's new delivery was already built and published since {since:%Y-%m-%d %H:%M} UTC "
        f"(the landing sensor's runs: {loads}); nothing left for the scheduled night"
    )
