"""What one pack is about: its period, its audience (the company or one region), its language, the
warehouse it reads and where its table downloads go. Every section reads the marts through it, so a
region's pack can only see its own region's rows.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.safe_cells import neutralise_row, protect_cell
from reports import i18n

AS_OF_MART = "marts.warehouse_as_of"


class PackDataError(LookupError):
    """The warehouse does not hold what the pack asks for (names the period and the file)."""


@dataclass(frozen=True)
class Period:
    kind: str  # "week" or "quarter"
    start: date
    end: date
    label: str  # 2026-W47, 2026-Q3

    @classmethod
    def week(cls, monday: date) -> Period:
        iso = monday.isocalendar()
        return cls("week", monday, monday + timedelta(days=6), f"{iso.year}-W{iso.week:02d}")

    @classmethod
    def quarter(cls, first_day: date) -> Period:
        number = (first_day.month - 1) // 3 + 1
        start = date(first_day.year, 3 * number - 2, 1)
        following = date(start.year + (number == 4), 1 if number == 4 else start.month + 3, 1)
        return cls("quarter", start, following - timedelta(days=1), f"{start.year}-Q{number}")

    def previous(self) -> Period:
        if self.kind == "week":
            return Period.week(self.start - timedelta(days=7))
        return Period.quarter(self.start - timedelta(days=1))

    def next(self) -> Period:
        following = self.end + timedelta(days=1)
        return Period.week(following) if self.kind == "week" else Period.quarter(following)

    def year_before(self) -> Period:
        if self.kind == "week":
            return Period.week(self.start - timedelta(weeks=52))
        return Period.quarter(date(self.start.year - 1, self.start.month, 1))


@dataclass(frozen=True)
class Audience:
    """Who the pack is for: the company (region None) or one region's managers."""

    region: str | None = None

    @property
    def slug(self) -> str:
        return "company" if self.region is None else i18n.region_slug(self.region)

    def name(self, lang: str) -> str:
        if self.region is None:
            return i18n.t("company", lang)
        return i18n.t("region_pack", lang, region=i18n.region_name(self.region, lang))


@dataclass
class PackContext:
    con: duckdb.DuckDBPyConnection
    period: Period
    audience: Audience
    lang: str
    as_of: date
    tables_dir: Path | None = None  # where the table downloads are written; None: no downloads
    tables_href: str = ""  # how the page links to that folder
    rendered_at: datetime = field(default_factory=datetime.now)

    # ------------------------------------------------------------------------------ reading the marts

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def unit(self, alias: str = "") -> tuple[str, list[Any]]:
        """The filter for marts keyed by level and unit_id: the company row, or the region's row."""
        prefix = f"{alias}." if alias else ""
        if self.audience.region is None:
            return f"{prefix}level = 'company'", []
        return f"{prefix}level = 'region' and {prefix}unit_id = ?", [self.audience.region]

    def in_region(self, column: str = "region") -> tuple[str, list[Any]]:
        """The filter for marts with one row per rep, customer, deal or invoice: all, or the region's."""
        if self.audience.region is None:
            return "true", []
        return f"{column} = ?", [self.audience.region]

    # ------------------------------------------------------------------------------ table downloads

    def write_table(self, table_id: str, header: list[str], rows: list[list[Any]]) -> list[tuple[str, str]]:
        """Write a table as CSV (UTF-8 with BOM, for Excel) and as an Excel file; return (label, href)
        of each. Values that a spreadsheet would run as a formula are written as text."""
        if self.tables_dir is None:
            return []
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(neutralise_row(header))
        writer.writerows(neutralise_row(row) for row in rows)
        _replace(self.tables_dir / f"{table_id}.csv", buffer.getvalue().encode("utf-8-sig"))

        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = table_id[:31]
        sheet.append(header)
        for row in rows:
            sheet.append([_excel_value(v) for v in row])
        for cells in sheet.iter_rows():
            for cell in cells:
                protect_cell(cell)  # text stays text, never a formula
        xlsx = self.tables_dir / f"{table_id}.xlsx"
        tmp = xlsx.with_name(f".{xlsx.name}.{os.getpid()}.tmp")
        workbook.save(tmp)
        os.replace(tmp, xlsx)
        prefix = f"{self.tables_href}/" if self.tables_href else ""
        return [("CSV", f"{prefix}{table_id}.csv"), ("Excel", f"{prefix}{table_id}.xlsx")]


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _excel_value(value: Any) -> Any:
    from decimal import Decimal

    return float(value) if isinstance(value, Decimal) else value


def connect_readonly(warehouse: str | Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse read-only (the packs never write)."""
    path = Path(warehouse)
    if not path.is_file():
        raise PackDataError(f"warehouse {path}: file not found (build the warehouse first)")
    return duckdb.connect(str(path), read_only=True)


def as_of_date(con: duckdb.DuckDBPyConnection) -> tuple[date, date | None]:
    """(as-of date, Monday of the latest complete week) of the warehouse."""
    row = con.execute(f"select as_of_date, latest_complete_week_start_date from {AS_OF_MART}").fetchone()
    if row is None or row[0] is None:
        raise PackDataError(f"{AS_OF_MART} is empty: no extract has been loaded")
    return row[0], row[1]
