"""The Chinese working calendar (工作日历): which days a mainland China office works.

The calendar is the dbt seed `dbt_project/seeds/working_calendar.csv`, one row per date and region:

    calendar_date, region, is_working_day, day_kind, holiday_name_zh, holiday_name_en, source

- `day_kind`: `workday` (Monday-Friday), `weekend`, `public_holiday` (法定节假日, including the weekend
  and swapped days of the holiday's block) or `makeup_workday` (调休上班: a Saturday or Sunday worked to
  make a longer holiday; its holiday name is the holiday it makes up for).
- `region`: `CN` = mainland China, the State Council's national calendar, which every office of a
  company follows. A sales region's own days (a local festival, a company's extra day off in one region)
  are extra rows with `region` = the region's name as in the reps extract (华东 …); they win over the
  `CN` row of that date for the reps of that region.
- `source`: `chinese-calendar` for the rows generated from the maintained `chinese-calendar` package;
  anything else (e.g. `manual`) for rows a person added or changed. `refresh_seed` (the command
  `salesreview refresh-calendar`) rewrites the package's rows and keeps the others: a hand-edited date
  keeps its edit (change its source when you change a generated row).

A date without a `CN` row is beyond the calendar's coverage (the package publishes a year once the State
Council announces it, usually in November of the year before): it is judged Monday-Friday, and the dbt
test `assert_working_calendar_covers_as_of_date` warns so that an operator refreshes the calendar.

The product reads the seed; the sample generator reads the same seed (`WorkingCalendar.load()`), so a
sample company's reps rest on the holidays the rules know.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED_PATH = REPO_ROOT / "dbt_project" / "seeds" / "working_calendar.csv"
COLUMNS = (
    "calendar_date",
    "region",
    "is_working_day",
    "day_kind",
    "holiday_name_zh",
    "holiday_name_en",
    "source",
)
MAINLAND = "CN"
LIBRARY_SOURCE = "chinese-calendar"
DAY_KINDS = ("workday", "weekend", "public_holiday", "makeup_workday")


@dataclass(frozen=True)
class CalendarDay:
    calendar_date: date
    region: str
    is_working_day: bool
    day_kind: str
    holiday_name_zh: str = ""
    holiday_name_en: str = ""
    source: str = LIBRARY_SOURCE

    def as_row(self) -> dict[str, str]:
        return {
            "calendar_date": self.calendar_date.isoformat(),
            "region": self.region,
            "is_working_day": "true" if self.is_working_day else "false",
            "day_kind": self.day_kind,
            "holiday_name_zh": self.holiday_name_zh,
            "holiday_name_en": self.holiday_name_en,
            "source": self.source,
        }

    @classmethod
    def from_row(cls, row: dict[str, str]) -> CalendarDay:
        kind = row["day_kind"].strip()
        if kind not in DAY_KINDS:
            raise ValueError(f"working calendar {row['calendar_date']}: day_kind {kind!r} not in {DAY_KINDS}")
        return cls(
            calendar_date=date.fromisoformat(row["calendar_date"].strip()),
            region=(row.get("region") or MAINLAND).strip(),
            is_working_day=row["is_working_day"].strip().lower() in ("true", "1", "yes"),
            day_kind=kind,
            holiday_name_zh=(row.get("holiday_name_zh") or "").strip(),
            holiday_name_en=(row.get("holiday_name_en") or "").strip(),
            source=(row.get("source") or "").strip(),
        )


def library_version() -> str:
    import chinese_calendar

    return getattr(chinese_calendar, "__version__", "unknown")


def library_days() -> list[CalendarDay]:
    """Every date of every year the `chinese-calendar` package has the State Council's notice for."""
    import chinese_calendar
    from chinese_calendar.constants import Holiday

    names = {h.value: h.chinese for h in Holiday}  # English name (the package's key) -> Chinese
    holidays, workdays = chinese_calendar.holidays, chinese_calendar.workdays
    years = sorted({d.year for d in holidays} | {d.year for d in workdays})
    days = []
    day, last = date(years[0], 1, 1), date(years[-1], 12, 31)
    while day <= last:
        if day in workdays:
            kind, name = "makeup_workday", workdays[day]
        elif day in holidays:
            kind, name = "public_holiday", holidays[day]
        else:
            kind, name = ("weekend" if day.weekday() >= 5 else "workday"), None
        days.append(
            CalendarDay(
                calendar_date=day,
                region=MAINLAND,
                is_working_day=kind in ("workday", "makeup_workday"),
                day_kind=kind,
                holiday_name_zh=names.get(name, name or ""),
                holiday_name_en=name or "",
            )
        )
        day += timedelta(days=1)
    return days


def read_seed(path: Path = SEED_PATH) -> list[CalendarDay]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as f:
        return [CalendarDay.from_row(r) for r in csv.DictReader(f) if (r.get("calendar_date") or "").strip()]


def write_seed(days: Iterable[CalendarDay], path: Path = SEED_PATH) -> None:
    rows = sorted(days, key=lambda d: (d.calendar_date, d.region != MAINLAND, d.region))
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(d.as_row() for d in rows)


@dataclass(frozen=True)
class RefreshResult:
    path: Path
    years: list[int]  # years with a full CN calendar in the seed now
    library_rows: int
    kept_rows: int  # rows not from the package (hand-edited), kept as they were

    def describe(self) -> str:
        span = f"{self.years[0]}-{self.years[-1]}" if self.years else "no year"
        return (
            f"{self.path}: mainland China working calendar for {span} "
            f"({self.library_rows} days from chinese-calendar {library_version()}, "
            f"{self.kept_rows} hand-edited rows kept)"
        )


def refresh_seed(path: Path | None = None, generated: list[CalendarDay] | None = None) -> RefreshResult:
    """Rewrite the seed's (default SEED_PATH) package rows from `chinese-calendar` (or from `generated`),
    keeping every row whose source is not the package; a kept row replaces the package's row of its date
    and region."""
    path = SEED_PATH if path is None else path
    kept = [d for d in read_seed(path) if d.source != LIBRARY_SOURCE]
    taken = {(d.calendar_date, d.region) for d in kept}
    fresh = [
        replace(d, source=LIBRARY_SOURCE)
        for d in (library_days() if generated is None else generated)
        if (d.calendar_date, d.region) not in taken
    ]
    write_seed(kept + fresh, path)
    return RefreshResult(path, covered_years(kept + fresh), len(fresh), len(kept))


def covered_years(days: Iterable[CalendarDay]) -> list[int]:
    """Years with a CN row for every one of their dates."""
    per_year: dict[int, int] = {}
    for d in {d.calendar_date for d in days if d.region == MAINLAND}:
        per_year[d.year] = per_year.get(d.year, 0) + 1
    return sorted(y for y, n in per_year.items() if n == (date(y, 12, 31) - date(y, 1, 1)).days + 1)


class WorkingCalendar:
    """Which days are worked, per region: the region's row, else the CN row, else Monday-Friday (a date
    beyond the calendar's coverage)."""

    def __init__(self, days: Iterable[CalendarDay]):
        self.days: dict[tuple[date, str], CalendarDay] = {(d.calendar_date, d.region): d for d in days}
        mainland = [d for (d, region) in self.days if region == MAINLAND]
        self.first = min(mainland, default=None)
        self.last = max(mainland, default=None)

    @classmethod
    def load(cls, path: Path = SEED_PATH) -> WorkingCalendar:
        return cls(read_seed(path))

    def day(self, d: date, region: str = MAINLAND) -> CalendarDay | None:
        return self.days.get((d, region)) or self.days.get((d, MAINLAND))

    def covers(self, d: date) -> bool:
        return (d, MAINLAND) in self.days

    def is_working_day(self, d: date, region: str = MAINLAND) -> bool:
        row = self.day(d, region)
        return row.is_working_day if row is not None else d.weekday() < 5

    def next_working_day(self, d: date, region: str = MAINLAND) -> date:
        """d itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(d, region):
            d += timedelta(days=1)
        return d


@lru_cache(maxsize=1)
def default_calendar() -> WorkingCalendar:
    """The seed's calendar, read once per process."""
    return WorkingCalendar.load()
