"""Split the in-memory tables into daily deliveries: one CSV per entity per day, then manifests.

Snapshot entities: the full list as of each day. Delta entities: the rows created or changed that
day (the day of the column in DELIVERY_DAY_COLUMN); everything before the window goes into the
first delivery, and a key changed several times in one day appears once, in its latest version.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from pipelines.lib.landing import write_manifest
from quality.contract import Contract, Entity

# The column whose day decides in which delivery a row of a delta entity arrives.
DELIVERY_DAY_COLUMN = {
    "customers": "updated_at",
    "leads": "updated_at",
    "opportunities": "updated_at",
    "opportunity_stage_history": "changed_at",
    "activities": "logged_at",
    "targets": "updated_at",
    "feedback": "feedback_date",
    "sales_orders": "updated_at",
    "invoices": "updated_at",
    "payments": "payment_date",
    "collection_plan": "updated_at",
}


def format_value(value: object, column_type: str) -> str:
    """The exported text of one value: fixed formats so that reruns are byte-identical."""
    if value is None or value == "":
        return ""
    if column_type == "decimal":
        return f"{Decimal(value):.2f}" if not isinstance(value, int) else f"{value}.00"
    if column_type == "timestamp":
        return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else str(value)
    if column_type == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    if column_type == "boolean":
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    return str(value)


def day_of(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def split_by_day(entity: Entity, rows: list[dict], start: date, end: date) -> dict[date, list[dict]]:
    """Delta rows per delivery day, one version per key (the latest that day), sorted by key."""
    column = DELIVERY_DAY_COLUMN[entity.name]
    latest: dict[date, dict[tuple, dict]] = defaultdict(dict)
    version = entity.version_column or column
    for row in sorted(rows, key=lambda r: r[version]):  # stable: equal versions keep table order
        day = max(day_of(row[column]), start)
        if day <= end:
            latest[day][tuple(row[k] for k in entity.primary_key)] = row
    return {day: [by_key[k] for k in sorted(by_key)] for day, by_key in latest.items()}


def snapshot_as_of(entity: Entity, rows: list[dict], day: date) -> list[dict]:
    """The full list as of a day: the latest version of every key changed on or before it."""
    current: dict[tuple, dict] = {}
    version = entity.version_column
    for row in sorted(rows, key=lambda r: r[version]) if version else rows:
        if version is None or day_of(row[version]) <= day:
            current[tuple(row[k] for k in entity.primary_key)] = row
    return [current[k] for k in sorted(current)]


WRITING = "writing deliveries"  # the stage write_deliveries tells its progress under


def write_deliveries(
    out_dir: Path,
    tables: dict[str, list[dict]],
    contract: Contract,
    start: date,
    end: date,
    progress: Callable[..., None] | None = None,
) -> dict[str, int]:
    """Write every entity's file for every day in [start, end], then each delivery's manifest.
    `progress("writing deliveries", item)` is called with each entity written, then 'manifests'.

    Returns the number of data rows per entity, summed over all files."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    counts = {}
    # (system, day) -> entity -> (rows, sha256) of the files written, for the manifests
    written: dict[tuple[str, date], dict[str, tuple[int, str]]] = defaultdict(dict)
    for entity in contract.entities:
        rows = tables.get(entity.name, [])
        types = [c.type for c in entity.columns]
        names = entity.column_names
        total = 0
        if entity.load_mode == "snapshot":
            cache: tuple[list[int], list[list[str]], bytes, str] | None = None
            for day, current in _snapshots(entity, rows, days):
                ids = [id(r) for r in current]
                if cache is None or cache[0] != ids:  # the list rarely changes: format it once
                    lines = _lines(current, names, types)
                    data = csv_bytes(names, lines)
                    cache = (ids, lines, data, hashlib.sha256(data).hexdigest())
                path = out_dir / contract.file_path(entity.system, entity.name, day.isoformat())
                _write_bytes(path, cache[2])
                written[(entity.system, day)][entity.name] = (len(cache[1]), cache[3])
                total += len(current)
        else:
            by_day = split_by_day(entity, rows, start, end)
            for day in days:
                day_rows = by_day.get(day, [])
                path = out_dir / contract.file_path(entity.system, entity.name, day.isoformat())
                lines = _lines(day_rows, names, types)
                written[(entity.system, day)][entity.name] = _write_csv(path, names, lines)
                total += len(day_rows)
        counts[entity.name] = total
        if progress:
            progress(WRITING, entity.name)
    if progress:
        progress(WRITING, "manifests")
    for day in days:  # manifests last: a delivery is complete only once its manifest exists
        for system in contract.systems:
            write_manifest(out_dir, contract, system, day.isoformat(), known=written[(system, day)])
    return counts


def _lines(rows: list[dict], names: list[str], types: list[str]) -> list[list[str]]:
    return [[format_value(r[n], t) for n, t in zip(names, types, strict=True)] for r in rows]


def _snapshots(entity: Entity, rows: list[dict], days: list[date]):
    """(day, snapshot_as_of(entity, rows, day)) for each day of an increasing list, sorting the rows once
    instead of once per day."""
    version = entity.version_column
    ordered = sorted(rows, key=lambda r: r[version]) if version else rows
    current: dict[tuple, dict] = {}
    taken = 0
    listed: list[dict] | None = None
    for day in days:
        while taken < len(ordered) and (version is None or day_of(ordered[taken][version]) <= day):
            row = ordered[taken]
            current[tuple(row[k] for k in entity.primary_key)] = row
            taken += 1
            listed = None
        if listed is None:
            listed = [current[k] for k in sorted(current)]
        yield day, listed


def csv_bytes(header: list[str], lines: list[list[str]]) -> bytes:
    """A delivery file's bytes: UTF-8, comma-separated, quoted where needed, "\n" line ends."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    return text.getvalue().encode("utf-8")


def _write_csv(path: Path, header: list[str], lines: list[list[str]]) -> tuple[int, str]:
    """Write one file; returns (data rows, sha256) for its manifest, so it is not read back."""
    data = csv_bytes(header, lines)
    _write_bytes(path, data)
    return len(lines), hashlib.sha256(data).hexdigest()


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except FileNotFoundError:  # the entity's folder, the first time
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
