"""Shared helpers of the generator: seeded randomness, money, working time, the calendar.

Everything random goes through `rng_for(seed, purpose)` so that each part of the company has its
own stream: changing how activities are drawn does not shift the customers or the deals.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pipelines.lib.working_calendar import default_calendar
from quality.contract import REPO_ROOT, load_contract


def rng_for(seed: int, purpose: str) -> random.Random:
    # Seeding with a str is stable across processes (it is hashed with SHA-512, not hash()).
    return random.Random(f"{seed}:{purpose}")


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method; fine for the small rates used here (a few events per week)."""
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# --- calendar -------------------------------------------------------------------------------


def monday_of(d: date) -> date:
    return d - timedelta(days=d.weekday())


def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def next_quarter_start(d: date) -> date:
    q = quarter_start(d)
    return date(q.year + 1, 1, 1) if q.month == 10 else date(q.year, q.month + 3, 1)


def is_workday(d: date) -> bool:
    """A working day of the Chinese working calendar (the dbt seed working_calendar, which the rules read
    too): Monday-Friday except public holidays, plus the weekend days worked to make up for a holiday
    (调休上班); Monday-Friday beyond the calendar's years."""
    return default_calendar().is_working_day(d)


def next_workday(d: date) -> date:
    """The same day when it is a working day (is_workday), else the next working day."""
    return default_calendar().next_working_day(d)


def workdays_of_week(monday: date) -> list[date]:
    """The working days of the week that starts on `monday`: usually Monday-Friday, none in a week of
    春节 or 国庆, and a Saturday or Sunday when it is a make-up working day."""
    return [d for d in (monday + timedelta(days=i) for i in range(7)) if is_workday(d)]


def work_time(rng: random.Random, d: date, after: datetime | None = None) -> datetime:
    """A moment during office hours (09:00-18:00) of day d, strictly later than `after` if given."""
    ts = datetime.combine(d, time(9, 0)) + timedelta(minutes=rng.randrange(0, 540), seconds=rng.randrange(60))
    if after is not None and ts <= after:
        ts = after + timedelta(minutes=rng.randrange(5, 90), seconds=rng.randrange(60))
    return ts


def end_of(d: date) -> datetime:
    return datetime.combine(d, time(23, 59, 59))


@dataclass(frozen=True)
class Timeline:
    """The delivery window [start, end] and the warm-up before it (history already in the CRM)."""

    sim_start: date
    start: date
    end: date

    @property
    def end_ts(self) -> datetime:
        return end_of(self.end)

    def fraction(self, d: date) -> float:
        """0 at sim_start, 1 at end: drives the growth trend and drifting payment cycles."""
        return (d - self.sim_start).days / max((self.end - self.sim_start).days, 1)

    def weeks(self) -> list[date]:
        """Mondays of every week that starts in the simulated period."""
        first = monday_of(self.sim_start) + timedelta(days=7)
        return [first + timedelta(days=7 * i) for i in range((self.end - first).days // 7 + 1)]


# Opportunities created in these months tend to close in Q4 (year-end budgets): creation is
# boosted here so that Q4 sales end up about 20% above the rest of the year.
CREATION_SEASON = {
    1: 0.85,
    2: 0.65,
    3: 0.95,
    4: 1.0,
    5: 1.0,
    6: 0.95,
    7: 0.95,
    8: 1.05,
    9: 1.3,
    10: 1.35,
    11: 1.3,
    12: 1.05,
}


def creation_season(d: date) -> float:
    return CREATION_SEASON.get(d.month, 1.0)


# --- the funnel stages, as the CRM names them -------------------------------------------------


@dataclass(frozen=True)
class Stage:
    key: str
    name: str
    probability: int


def load_stages() -> dict[str, Stage]:
    """Stage key -> Stage, from dbt_project/seeds/funnel_stages.csv (analysts may rename stages)."""
    column = load_contract().entity("opportunities").column("stage")
    path = REPO_ROOT / column.allowed_values_from.split(":")[0]
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    allowed = set(column.resolved_allowed_values())
    stages = {
        r["stage_key"]: Stage(r["stage_key"], r["stage_name"], int(r["default_probability"])) for r in rows
    }
    missing = {"lead", "discovery", "demo", "negotiation", "won", "lost"} - set(stages)
    if missing or not {s.name for s in stages.values()} <= allowed:
        raise ValueError(
            f"{path}: the generator needs stage keys lead..won and lost, missing {sorted(missing)}"
        )
    return stages


def weighted(rng: random.Random, options: dict[str, float]) -> str:
    """Pick a key by weight; dict order is the declaration order, so this is deterministic."""
    return rng.choices(list(options), weights=list(options.values()))[0]
