"""Missing deliveries: did every expected extract arrive (freshness), and is today's file as big as usual
(completeness)? Plain functions over raw_meta.loaded_files and the landing folder's manifests; the ingest
step of each system runs them as its `freshness` (blocking) and per-entity `completeness` (warning)
asset checks.

Freshness, per system:
- the latest extract date loaded must be the latest delivery date of ANY system (a manifest in the
  landing folder, complete or not, dated no later than today, or a loaded file): when the CRM delivered
  2026-11-23 and the ERP's latest complete delivery is 2026-11-22, the ERP is stale;
- no day may be missing between the system's first and latest loaded extract date (a gap in the
  daily sequence). A day the source system really did not export must still be delivered, as
  header-only files with a manifest, once the source confirms nothing changed that day. A first load
  of history (`salesreview deliver --initial`: one delivery holding everything up to its date) starts
  the sequence afresh: daily deliveries are demanded from the latest such delivery of the system on;
- a nightly build must bring something new: a system that delivered before but has no new complete
  delivery in this build is stale (its export did not arrive), unless the build is a deliberate
  rebuild of what is loaded (`salesreview build --rebuild`, or an as-of build).

Completeness, per entity: today's (the latest loaded extract date's) row count against the
average of the same weekday in the trailing COMPLETENESS_WEEKS weeks. Below COMPLETENESS_MIN_RATIO
of that average is a warning (a half-exported file looks complete to every other check). The
entity's first delivery is left out of the average (it carries the whole history before the first
day), and there is no verdict without COMPLETENESS_MIN_HISTORY such days or when the average is
below COMPLETENESS_MIN_AVERAGE_ROWS (entities that rarely change, e.g. targets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.lib.ingest import LOADED_FILES_TABLE
from pipelines.lib.landing import dates_without_manifest, list_extract_dates
from quality.contract import Contract, Entity

# Where the ingest keeps each delivery's `source` block (system, extract_date, initial, ...). Read
# defensively: a warehouse loaded before `deliver` existed has no such table (no initial deliveries).
DELIVERY_SOURCES_TABLE = "raw_meta.delivery_sources"

# Completeness thresholds (a warning, never blocking).
COMPLETENESS_WEEKS = 4  # trailing same-weekday deliveries compared against
COMPLETENESS_MIN_RATIO = 0.30  # warn when today's rows < 30% of their average
COMPLETENESS_MIN_HISTORY = 2  # same-weekday deliveries needed before judging
COMPLETENESS_MIN_AVERAGE_ROWS = 10  # below this average a low count is normal noise

MAX_DATES_LISTED = 10


@dataclass
class DeliveryCheck:
    """The outcome of one check, ready to become a Dagster AssetCheckResult."""

    passed: bool
    description: str
    metadata: dict = field(default_factory=dict)


def _has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
        ).fetchone()[0]
    )


def _has_loaded_files(con: duckdb.DuckDBPyConnection) -> bool:
    return _has_table(con, LOADED_FILES_TABLE)


def latest_initial_delivery(
    con: duckdb.DuckDBPyConnection,
    system: str,
    loaded: set[date],
    removed: set[tuple[str, str]] = frozenset(),
) -> date | None:
    """The extract date of the system's latest first load of history (`deliver --initial`) that is
    loaded and not being removed; None without one (or without the table)."""
    if not _has_table(con, DELIVERY_SOURCES_TABLE):
        return None
    try:
        rows = con.execute(
            f'select extract_date from {DELIVERY_SOURCES_TABLE} where system = ? and "initial"', [system]
        ).fetchall()
    except duckdb.Error:  # an older layout of the table: no initial deliveries known
        return None
    days = [d if isinstance(d, date) else date.fromisoformat(str(d)) for (d,) in rows]
    return max((d for d in days if d in loaded and (system, d.isoformat()) not in removed), default=None)


def _loaded(con: duckdb.DuckDBPyConnection, entity: Entity) -> dict[date, int]:
    """Extract date -> rows loaded, for the entity's files in raw_meta.loaded_files."""
    if not _has_loaded_files(con):
        return {}
    return dict(
        con.execute(
            f"select extract_date, row_count from {LOADED_FILES_TABLE} "
            "where system = ? and entity = ? order by extract_date",
            [entity.system, entity.name],
        ).fetchall()
    )


def _loaded_days(con: duckdb.DuckDBPyConnection, system: str) -> dict[date, datetime]:
    """Extract date -> when it was (last) loaded, for the system's deliveries."""
    if not _has_loaded_files(con):
        return {}
    return dict(
        con.execute(
            f"select extract_date, max(loaded_at) from {LOADED_FILES_TABLE} where system = ? "
            "group by extract_date order by extract_date",
            [system],
        ).fetchall()
    )


def latest_delivery_date(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    landing_dir: Path,
    today: date | None = None,
    removed: set[tuple[str, str]] = frozenset(),
) -> date | None:
    """The latest extract date any system delivered: a manifest in the landing folder (complete or not,
    not after `today`: a misdated one is refused at ingest) or a loaded file (not one being removed
    on the operator's request: `removed` holds (system, YYYY-MM-DD))."""
    dates = []
    for system in contract.systems:
        for day in list_extract_dates(landing_dir, contract, system):
            try:
                delivered = date.fromisoformat(day)
            except ValueError:
                continue  # refused at ingest
            if today is None or delivered <= today:
                dates.append(delivered)
    if _has_loaded_files(con):
        loaded = con.execute(f"select distinct system, extract_date from {LOADED_FILES_TABLE}").fetchall()
        dates += [day for system, day in loaded if (system, day.isoformat()) not in removed]
    return max(dates, default=None)


def _listed(days: list[date]) -> str:
    shown = ", ".join(d.isoformat() for d in days[:MAX_DATES_LISTED])
    return shown + (f" and {len(days) - MAX_DATES_LISTED} more" if len(days) > MAX_DATES_LISTED else "")


def check_freshness(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    system: str,
    landing_dir: Path,
    *,
    today: date | None = None,
    loaded_this_build: list[str] | None = None,
    require_new_delivery: bool = False,
    removed: set[tuple[str, str]] = frozenset(),
    up_to: date | None = None,
) -> DeliveryCheck:
    """Every expected extract of the system arrived: up to the latest delivery of any system, no gaps,
    and (with require_new_delivery) something new in this build. One message for the system.
    `up_to`: a partitioned run's last extract date; later deliveries are for later runs."""
    loaded = _loaded_days(con, system)
    expected_latest = latest_delivery_date(con, contract, landing_dir, today, removed)
    if up_to is not None and expected_latest is not None and expected_latest > up_to:
        expected_latest = max(up_to, max(loaded)) if loaded else up_to
    waiting = dates_without_manifest(landing_dir, contract, system)
    waiting_text = (
        "; files without a manifest (export not finished?): "
        + ", ".join(f"{d} ({n} file(s))" for d, n in waiting.items())
        if waiting
        else ""
    )
    if not loaded:
        if expected_latest is None:
            return DeliveryCheck(True, f"{system}: nothing delivered yet by any system.", {"days_behind": 0})
        return DeliveryCheck(
            False,
            f"{system}: no complete delivery loaded, while the latest delivery of any system is "
            f"{expected_latest}{waiting_text}. Deliver the {system} extracts with their manifest.",
            {"latest_loaded": "none", "latest_delivered_any_system": str(expected_latest)},
        )
    initial = latest_initial_delivery(con, system, set(loaded), removed)
    # days before a first load of history are in it: the daily sequence starts there
    first, latest = (initial or min(loaded)), max(loaded)
    behind = (expected_latest - latest).days if expected_latest and expected_latest > latest else 0
    all_days = [first + timedelta(days=i) for i in range((latest - first).days + 1)]
    gaps = [d for d in all_days if d not in loaded]
    missing_at_end = [latest + timedelta(days=i) for i in range(1, behind + 1)]
    new = sorted(loaded_this_build or [])
    metadata = {
        "latest_loaded": str(latest),
        "latest_delivered_any_system": str(expected_latest or latest),
        "days_behind": behind,
        "gaps": len(gaps),
        "gap_dates": _listed(gaps) or "none",
        "new_deliveries": len(new),
        "first_load_of_history": str(initial) if initial else "none",
    }
    problems, what_to_do = [], []
    deliver_missing = (
        f"deliver the missing day(s) of the {system} export with their manifest (header-only files if the "
        "source confirms nothing changed that day)"
    )
    if behind:
        problems.append(
            f"the latest complete {system} delivery loaded is {latest}, but a system delivered "
            f"{expected_latest}: missing {_listed(missing_at_end)}{waiting_text}"
        )
        what_to_do.append(deliver_missing)
    if gaps:
        problems.append(f"no delivery for {len(gaps)} day(s) in the daily sequence: {_listed(gaps)}")
        what_to_do.append(deliver_missing)
        if initial is None:
            what_to_do.append(
                f"if the {system} deliveries so far are history rather than daily exports, a first load of "
                "history is simpler: deliver the full export once with `salesreview deliver --initial` "
                "(daily deliveries are then expected from its date on)"
            )
    if require_new_delivery and not new and not behind:
        problems.append(
            f"nothing new was delivered since the last build: the latest delivery loaded is {latest} "
            f"(loaded {loaded[latest]:%Y-%m-%d %H:%M} UTC){waiting_text}; the {system} export did not "
            "arrive, so the published figures would be those of the last night"
        )
        what_to_do.append(
            f"check the {system} export job and deliver its files with their manifest; to rebuild the marts "
            "from what is loaded, run `salesreview build --rebuild`"
        )
    if not problems:
        since = f" (first load of history on {initial})" if initial else ""
        return DeliveryCheck(
            True, f"{system}: delivered every day from {first} to {latest}{since}.", metadata
        )
    return DeliveryCheck(
        False,
        f"{system}: " + "; ".join(problems) + ". What to do: " + "; ".join(dict.fromkeys(what_to_do)) + ".",
        metadata,
    )


def check_completeness(con: duckdb.DuckDBPyConnection, entity: Entity) -> DeliveryCheck:
    """Today's row count against the trailing same-weekday average (a warning when far below)."""
    loaded = _loaded(con, entity)
    name = f"{entity.system}.{entity.name}"
    if not loaded:
        return DeliveryCheck(True, f"{name}: nothing loaded yet.", {})
    first, today = min(loaded), max(loaded)
    history = [
        loaded[d]
        for d in (today - timedelta(weeks=w) for w in range(1, COMPLETENESS_WEEKS + 1))
        if d in loaded and d != first
    ]
    rows = loaded[today]
    metadata = {
        "extract_date": str(today),
        "rows": rows,
        "same_weekday_days": len(history),
        "min_ratio": COMPLETENESS_MIN_RATIO,
    }
    if len(history) < COMPLETENESS_MIN_HISTORY:
        return DeliveryCheck(
            True, f"{name}: {rows} row(s) on {today}; not enough same-weekday history to compare.", metadata
        )
    average = sum(history) / len(history)
    metadata["trailing_average"] = round(average, 1)
    metadata["ratio"] = round(rows / average, 3) if average else None
    if average < COMPLETENESS_MIN_AVERAGE_ROWS:
        return DeliveryCheck(
            True,
            f"{name}: {rows} row(s) on {today}; the usual count ({average:.1f}) is too small to judge.",
            metadata,
        )
    if rows < COMPLETENESS_MIN_RATIO * average:
        return DeliveryCheck(
            False,
            f"{name}: only {rows} row(s) on {today} ({today:%A}), {rows / average:.0%} of the average "
            f"{average:.1f} of the last {len(history)} {today:%A}s "
            f"(warning below {COMPLETENESS_MIN_RATIO:.0%}). "
            "Check with the source system that the export was not cut short; if it was, re-deliver the day.",
            metadata,
        )
    return DeliveryCheck(
        True,
        f"{name}: {rows} row(s) on {today}, {rows / average:.0%} of the same-weekday average {average:.1f}.",
        metadata,
    )
