"""Realistic shapes of the activity-side classes: missing_activity_day, impossible_schedule, deadline_burst.

Written from how reps work and cheat, not from the rules (quality/DEFECTS.md, "Realistic shapes"):
- a rep who knows the manager checks every working day that something was logged skips a make-up
  working day (调休) the way he would skip a Tuesday, or fills an empty day days later with one token call;
  a rep who logs nothing on 国庆 is on holiday;
- a rep who invents a visit puts it where it sounds right, not where it is reachable: at a customer 1,000 km
  away two hours after a real visit, or at the same time as a real visit across town; a rep who really
  visits two neighbouring cities (苏州 / 无锡, 广州 / 佛山) does it in an hour and a half, and a CRM city
  field holds 苏州 and 苏州市 alike;
- a rep who fills the week's record in one sitting does it whenever the review is near: Monday morning
  before the meeting, Sunday night, the last evening before a long holiday, the last working day of the
  month, or spread over an evening so it does not look like a burst. A rep back from a trip in midweek, or
  one working a make-up Saturday, enters a few records together without any review pressing.

Every row added or rewritten is tagged like the textbook injectors' (customers_activities.TAG); days holding
another class's tagged rows are left alone.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from pipelines.sample.defects import LOOK_ALIKE, Label, register
from pipelines.sample.defects.customers_activities import (
    VISIT,
    _accounts_of,
    _activities_by_day,
    _activity,
    _append_activities,
    _feasible,
    _quota_reps,
    _same_day_log,
    _tag,
    _tagged,
    _visits_by_day,
)
from pipelines.sample.defects.shapes_common import (
    FAR_APART_KM,
    NEIGHBOUR_MINUTES,
    cases_per_shape,
    distance_km,
    holiday_name,
    is_makeup_working_day,
    is_public_holiday_weekday,
    is_working_day,
    window_days,
    working_days,
)
from pipelines.sample.generator.common import Timeline, work_time


def _active(rep: dict, d: date) -> bool:
    hired = rep["hire_date"] if isinstance(rep["hire_date"], date) else None
    left = rep.get("leave_date")
    return (hired is None or hired <= d) and (left is None or d < left)


def _label(cls: str, entity: str, record_id: str, note: str, shape: str, kind: str = "defect") -> Label:
    return Label(cls, entity, record_id, note, kind, shape)


def _untouched_days(tables: dict[str, list[dict]]) -> dict[tuple[str, date], list[dict]]:
    """(rep, day) -> activities, for days holding no row another injector added or rewrote."""
    return {k: v for k, v in _activities_by_day(tables).items() if not any(_tagged(a) for a in v)}


def _upkeep(rng: random.Random, rep_id: str, accounts: list[dict], day: date, n: int) -> list[dict]:
    """n calls and emails of a working day, logged the same day."""
    drafts = []
    for _ in range(n):
        at = work_time(rng, day)
        known = [c for c in accounts if c["created_at"] < at]
        if not known:
            continue
        kind = rng.choice(["电话", "电话", "邮件"])
        draft = _activity(kind, rep_id, rng.choice(known), at, at, rng, "电话跟进项目进展")
        draft["logged_at"] = _same_day_log(rng, at, draft["duration_minutes"])
        drafts.append(draft)
    return drafts


# --- missing_activity_day -------------------------------------------------------------------------


@register("missing_activity_day")
def inject_missing_day_shapes(
    tables: dict[str, list[dict]], rng: random.Random, timeline: Timeline
) -> list[Label]:
    """makeup_day_missing (a 调休 working day without a single record while colleagues work it),
    token_backfill (a working day left empty, then given one call or email entered 2-3 days later);
    look-alike holiday_not_missing (a rep's weekday public holiday without records)."""
    cls, n = "missing_activity_day", cases_per_shape(tables)
    reps = _quota_reps(tables)
    accounts = _accounts_of(tables)
    by_day = _activities_by_day(tables)
    labels: list[Label] = []
    remove: set[tuple[str, date]] = set()
    added: list[dict] = []

    # make-up working days: everybody works them; some reps log nothing
    makeup = [d for d in window_days(timeline, 3, 3) if is_makeup_working_day(d)]
    pairs = [(r, d) for d in makeup for r in reps if _active(r, d) and accounts.get(r["rep_id"])]
    free = [(r, d) for r, d in pairs if not any(_tagged(a) for a in by_day.get((r["rep_id"], d), []))]
    per_day = defaultdict(int)
    missing: set[tuple[str, date]] = set()
    for r, d in rng.sample(free, len(free)):
        working = sum(1 for r2, d2 in pairs if d2 == d)
        if len(missing) < n and per_day[d] < max(1, working // 2):
            missing.add((r["rep_id"], d))
            per_day[d] += 1
    for r, d in pairs:
        key = (r["rep_id"], d)
        if key in missing:
            remove.add(key)
            note = f"{holiday_name(d)} 调休 {d:%a}: colleagues worked"
            labels.append(_label(cls, "rep_days", f"{key[0]}:{d.isoformat()}", note, "makeup_day_missing"))
        elif not by_day.get(key):
            added += _upkeep(rng, r["rep_id"], accounts[r["rep_id"]], d, rng.randint(2, 4))

    # weekday public holidays: a rep who logs nothing is off (look-alike)
    untouched = _untouched_days(tables)
    holidays = [
        (rep_id, d)
        for (rep_id, d) in sorted(untouched)
        if is_public_holiday_weekday(d) and timeline.start + timedelta(days=3) <= d
    ]
    for rep_id, d in rng.sample(holidays, min(n, len(holidays))):
        remove.add((rep_id, d))
        labels.append(
            _label(
                cls,
                "rep_days",
                f"{rep_id}:{d.isoformat()}",
                holiday_name(d),
                "holiday_not_missing",
                LOOK_ALIKE,
            )
        )

    # an empty working day filled 2-3 days later with one token entry, once the manager had asked
    candidates = [
        (rep_id, d)
        for (rep_id, d) in sorted(untouched)
        if (rep_id, d) not in remove
        and d.weekday() in (0, 1, 2)
        and all(is_working_day(d + timedelta(days=k)) for k in (1, 2, 3))
        and timeline.start + timedelta(days=7) <= d <= timeline.end - timedelta(days=7)
        and accounts.get(rep_id)
    ]
    for rep_id, d in rng.sample(candidates, min(n, len(candidates))):
        remove.add((rep_id, d))
        at = work_time(rng, d)
        known = [c for c in accounts[rep_id] if c["created_at"] < at]
        logged = datetime.combine(d + timedelta(days=2), time(9, 0)) + timedelta(
            minutes=rng.randrange(0, 11 * 60), seconds=rng.randrange(60)
        )
        kind = rng.choice(["电话", "邮件"])
        added.append(_activity(kind, rep_id, rng.choice(known), at, logged, rng, "电话回访，客户反馈良好"))
        hours = (logged - at).total_seconds() / 3600
        labels.append(
            _label(
                cls,
                "rep_days",
                f"{rep_id}:{d.isoformat()}",
                f"one {kind} entered {hours:.0f} h later",
                "token_backfill",
            )
        )

    tables["activities"][:] = [
        a for a in tables["activities"] if (a["rep_id"], a["activity_at"].date()) not in remove
    ]
    _append_activities(tables, added, cls)
    # every quota rep's weekday holiday without a record is a day off, whoever's (a rep hired in the
    # window included): labelled, so a flag on one is named
    active = {(a["rep_id"], a["activity_at"].date()) for a in tables["activities"]}
    labelled = {label.record_id for label in labels}
    for rep in reps:
        for d in window_days(timeline, 3, 0):
            record_id = f"{rep['rep_id']}:{d.isoformat()}"
            if (
                is_public_holiday_weekday(d)
                and _active(rep, d)
                and (rep["rep_id"], d) not in active
                and record_id not in labelled
            ):
                labels.append(
                    _label(cls, "rep_days", record_id, holiday_name(d), "holiday_not_missing", LOOK_ALIKE)
                )
    return labels


# --- impossible_schedule --------------------------------------------------------------------------


def _minutes(a: datetime, b: datetime) -> float:
    return abs((a - b).total_seconds()) / 60


@register("impossible_schedule")
def inject_schedule_shapes(
    tables: dict[str, list[dict]], rng: random.Random, timeline: Timeline
) -> list[Label]:
    """Next to a real visit (a day with one untouched visit): distant_city (a visit > 800 km away 2-3 h
    before or after), same_city_overlap (a visit in the same city starting while the real one is still
    going on); look-alikes neighbouring_city (a city < 1 h away, 90-110 min later, the first visit short
    enough for the trip), city_suffix (the same city written 苏州市, 60-120 min later), back_to_back (the
    same city, starting 10-25 min after the real one ended)."""
    cls, n = "impossible_schedule", cases_per_shape(tables)
    accounts = _accounts_of(tables)
    all_customers = [c for owned in accounts.values() for c in owned]
    visits = _visits_by_day(tables)
    days = set(working_days(timeline, 7, 5)) - {d for d in window_days(timeline) if d.weekday() >= 5}
    single = [
        key
        for key, vs in sorted(visits.items())
        if key[1] in days
        and len(vs) == 1
        and not _tagged(vs[0])
        and vs[0]["opportunity_id"] is None
        and vs[0]["duration_minutes"]
    ]
    rng.shuffle(single)
    labels: list[Label] = []

    def add_visit(rep_id: str, customer: dict, at: datetime, city: str | None = None) -> dict:
        draft = _activity(VISIT, rep_id, customer, at, at, rng, "上门拜访，沟通需求")
        if city:
            draft["city"] = city
        draft["logged_at"] = _same_day_log(rng, at, draft["duration_minutes"])
        (row,) = _append_activities(tables, [draft], cls)
        visits[(rep_id, at.date())].append(row)
        return row

    def in_hours(at: datetime, day: date) -> bool:
        return at.date() == day and time(8, 0) <= at.time() <= time(19, 0)

    def try_shape(shape: str, rep_id: str, day: date, real: dict) -> bool:
        start = real["activity_at"]
        end = start + timedelta(minutes=real["duration_minutes"])
        own = [c for c in accounts.get(rep_id, []) if c["created_at"] < start]
        if shape == "distant_city":
            far = [c for c in own if distance_km(c["city"], real["city"]) > FAR_APART_KM]
            far = far or [
                c
                for c in all_customers
                if c["created_at"] < start and distance_km(c["city"], real["city"]) > FAR_APART_KM
            ]
            at = start + rng.choice([-1, 1]) * timedelta(minutes=rng.randint(120, 180))
            if not far or not in_hours(at, day):
                return False
            customer = rng.choice(far)
            row = add_visit(rep_id, customer, at)
            km = distance_km(customer["city"], real["city"])
            note = f"{real['city']} / {customer['city']}: {km:.0f} km, {_minutes(at, start):.0f} min apart"
            kind = "defect"
        elif shape == "same_city_overlap":
            same = [c for c in own if c["city"] == real["city"] and c["customer_id"] != real["customer_id"]]
            real["duration_minutes"] = max(real["duration_minutes"], rng.randint(60, 90))
            at = start + timedelta(minutes=rng.randint(10, real["duration_minutes"] - 20))
            if not same or not in_hours(at, day):
                return False
            row = add_visit(rep_id, rng.choice(same), at)
            into = _minutes(at, start)
            note = f"{real['city']}: starts {into:.0f} min into a {real['duration_minutes']} min visit"
            kind = "defect"
        elif shape == "neighbouring_city":
            options = [
                (c, minutes)
                for c in own
                for pair, minutes in NEIGHBOUR_MINUTES.items()
                if pair == frozenset({c["city"], real["city"]})
            ]
            if not options:
                return False
            customer, travel = rng.choice(options)
            gap = rng.randint(90, 110)
            at = start + timedelta(minutes=gap)
            if not in_hours(at, day):
                return False
            real["duration_minutes"] = gap - travel - rng.randint(5, 15)  # short enough to make the trip
            row = add_visit(rep_id, customer, at)
            note = f"{real['city']} -> {customer['city']}: {gap} min apart, {travel} min door to door"
            kind = LOOK_ALIKE
        elif shape == "city_suffix":
            same = [c for c in own if c["city"] == real["city"] and c["customer_id"] != real["customer_id"]]
            at = end + timedelta(minutes=rng.randint(20, 40))
            if not same or not in_hours(at, day):
                return False
            row = add_visit(rep_id, rng.choice(same), at, city=f"{real['city']}市")
            note = f"{real['city']} and {real['city']}市, {_minutes(at, start):.0f} min apart"
            kind = LOOK_ALIKE
        else:  # back_to_back
            same = [c for c in own if c["city"] == real["city"] and c["customer_id"] != real["customer_id"]]
            at = end + timedelta(minutes=rng.randint(10, 25))
            if not same or not in_hours(at, day):
                return False
            row = add_visit(rep_id, rng.choice(same), at)
            note = f"{real['city']}: {_minutes(at, end):.0f} min after the previous visit ended"
            kind = LOOK_ALIKE
        _tag(real, cls)
        for record in (real, row):
            labels.append(_label(cls, "activities", record["activity_id"], note, shape, kind))
        return True

    shapes = ["distant_city", "same_city_overlap", "neighbouring_city", "city_suffix", "back_to_back"]
    for shape in shapes:
        done, tries = 0, 0
        pool = list(single)
        while done < (n + 1) // 2 and pool and tries < 400:  # each case labels two visits
            tries += 1
            rep_id, day = pool.pop()
            (real,) = visits[(rep_id, day)]
            if _tagged(real) or len(visits[(rep_id, day)]) != 1:
                continue
            if try_shape(shape, rep_id, day, real):
                done += 1
                single.remove((rep_id, day))
    return labels


# --- deadline_burst -------------------------------------------------------------------------------

BURST_SUMMARIES = [
    "电话跟进项目进展",
    "上门拜访，沟通需求",
    "发送资料",
    "回访客户使用情况",
    "确认下次见面时间",
]


@register("deadline_burst")
def inject_burst_shapes(tables: dict[str, list[dict]], rng: random.Random, timeline: Timeline) -> list[Label]:
    """A week's record typed in one sitting for the review, at other moments than Friday afternoon:
    monday_before_review (07:20-08:50 on Monday), sunday_night (20:30-22:30), pre_holiday (the last
    working afternoon before 端午 / 中秋 / 国庆), month_end (the last working day of a month, evening),
    spread_evening (Friday from 16:00, 8-12 entries 8-20 min apart). Look-alikes: makeup_day_same_day (a
    make-up Saturday's or Sunday's own calls entered together at its end), trip_batch_midweek (a trip's
    1-2 days of visits and calls entered on Wednesday or Thursday evening)."""
    cls = "deadline_burst"
    reps = _quota_reps(tables)
    accounts = _accounts_of(tables)
    visits = _visits_by_day(tables)
    busy: dict[str, list[datetime]] = defaultdict(list)  # rep -> logged_at of entries made after the day
    for a in tables["activities"]:
        if a["activity_at"].date() < a["logged_at"].date() or _tagged(a):
            busy[a["rep_id"]].append(a["logged_at"])
    bursts_per_shape = max(2, round(len(reps) / 3))
    labels: list[Label] = []
    days = window_days(timeline, 10, 3)

    def fill(rep_id: str, start: datetime, offsets: list[int], own_day: bool) -> list[dict]:
        """Entries logged at start + offsets (seconds) about working days in the 71 hours before (or about
        the day itself when own_day)."""
        drafts = []
        for offset in offsets:
            logged = start + timedelta(seconds=offset)
            for _ in range(30):
                day = logged.date() if own_day else logged.date() - timedelta(days=rng.randint(1, 3))
                at = work_time(rng, day)
                if own_day:
                    at = min(at, logged - timedelta(minutes=30))
                if (
                    is_working_day(day)
                    and timedelta(0) < logged - at < timedelta(hours=71)
                    and day >= timeline.start
                ):
                    break
            else:
                continue
            known = [c for c in accounts.get(rep_id, []) if c["created_at"] < at]
            if not known:
                continue
            customer = rng.choice(known)
            kind = rng.choice(["电话", "邮件"] if own_day else ["电话", "电话", "拜访", "邮件"])
            if kind == VISIT and not _feasible(visits[(rep_id, at.date())], customer["city"], at):
                kind = "电话"
            draft = _activity(kind, rep_id, customer, at, logged, rng, rng.choice(BURST_SUMMARIES))
            drafts.append(draft)
            if kind == VISIT:
                visits[(rep_id, at.date())].append(draft)
        return drafts

    def moments(shape: str) -> list[datetime]:
        out = []
        for d in days:
            if shape == "monday_before_review" and d.weekday() == 0 and is_working_day(d):
                out.append(datetime.combine(d, time(7, 20)) + timedelta(minutes=rng.randrange(90)))
            elif shape == "sunday_night" and d.weekday() == 6 and not is_working_day(d):
                out.append(datetime.combine(d, time(20, 30)) + timedelta(minutes=rng.randrange(120)))
            elif (
                shape == "pre_holiday"
                and is_working_day(d)
                and all(not is_working_day(d + timedelta(days=k)) for k in (1, 2, 3))
                and any(is_public_holiday_weekday(d + timedelta(days=k)) for k in (1, 2, 3, 4))
            ):
                out.append(datetime.combine(d, time(15, 0)) + timedelta(minutes=rng.randrange(240)))
            elif shape == "month_end" and is_working_day(d) and d.weekday() < 4:
                nxt = d + timedelta(days=1)
                while not is_working_day(nxt):
                    nxt += timedelta(days=1)
                if nxt.month != d.month:
                    out.append(datetime.combine(d, time(18, 30)) + timedelta(minutes=rng.randrange(150)))
            elif shape == "spread_evening" and d.weekday() == 4 and is_working_day(d):
                out.append(datetime.combine(d, time(16, 0)) + timedelta(minutes=rng.randrange(90)))
            elif shape == "makeup_day_same_day" and is_makeup_working_day(d):
                out.append(datetime.combine(d, time(17, 30)) + timedelta(minutes=rng.randrange(60)))
            elif (
                shape == "trip_batch_midweek"
                and d.weekday() in (2, 3)
                and all(is_working_day(d - timedelta(days=k)) for k in range(3))
                and is_working_day(d + timedelta(days=1))
                and (d + timedelta(days=1)).month == d.month
            ):
                out.append(datetime.combine(d, time(19, 0)) + timedelta(minutes=rng.randrange(150)))
        return out

    shapes = [
        ("monday_before_review", "defect"),
        ("sunday_night", "defect"),
        ("pre_holiday", "defect"),
        ("month_end", "defect"),
        ("spread_evening", "defect"),
        ("makeup_day_same_day", LOOK_ALIKE),
        ("trip_batch_midweek", LOOK_ALIKE),
    ]
    used: set[tuple[str, date]] = set()
    for shape, kind in shapes:
        options = [(r["rep_id"], m) for m in moments(shape) for r in reps if _active(r, m.date())]
        rng.shuffle(options)
        done = 0
        for rep_id, start in options:
            if done == bursts_per_shape:
                break
            if (rep_id, start.date()) in used or any(
                abs((t - start).total_seconds()) < 6 * 3600 for t in busy[rep_id]
            ):
                continue
            if shape == "spread_evening":
                count = rng.randint(8, 12)
                offsets, t = [], 0
                for _ in range(count):
                    offsets.append(t)
                    t += rng.randint(8 * 60, 20 * 60)
            elif shape == "makeup_day_same_day":
                offsets = sorted(rng.sample(range(0, 40 * 60), rng.randint(3, 4)))
            elif shape == "trip_batch_midweek":
                offsets = sorted(rng.sample(range(0, 40 * 60), rng.randint(4, 6)))
            else:
                offsets = sorted(rng.sample(range(0, 55 * 60), rng.randint(6, 10)))
            drafts = fill(rep_id, start, offsets, own_day=shape == "makeup_day_same_day")
            if len(drafts) < min(len(offsets), 6 if kind == "defect" else 3):
                continue
            used.add((rep_id, start.date()))
            busy[rep_id] += [d["logged_at"] for d in drafts]
            for row in _append_activities(tables, drafts, cls):
                note = f"{len(drafts)} entries from {start:%a %Y-%m-%d %H:%M}"
                labels.append(_label(cls, "activities", row["activity_id"], note, shape, kind))
            done += 1
    return labels
