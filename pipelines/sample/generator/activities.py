"""Visits, calls and emails of the quota reps, logged in the CRM usually within hours."""

from __future__ import annotations

import bisect
import csv
import functools
import math
import random
from datetime import date, datetime, time, timedelta

from pipelines.sample.generator.common import (
    Timeline,
    is_workday,
    load_stages,
    monday_of,
    rng_for,
    weighted,
    work_time,
    workdays_of_week,
)
from pipelines.sample.generator.company import Company, Customer, Rep
from pipelines.sample.generator.pipeline import Opportunity
from quality.contract import REPO_ROOT

WEEKLY = {"拜访": (3, 8), "电话": (5, 12), "邮件": (2, 6)}  # per rep per week, before diligence
DURATION = {"拜访": (30, 120), "电话": (3, 30)}  # minutes; emails have none
# A rep plans a day's visits: at most this many, one at a time (the next starts SAME_CITY_MINUTES after
# the previous has ended), and a visit in another city no sooner than MIN_MINUTES_BETWEEN_CITIES after (or
# before) the previous one starts and no sooner than the trip takes after it ends: the rep's own rule of
# thumb, TRAVEL_BASE_MINUTES + TRAVEL_MINUTES_PER_KM per km as the crow flies (seeds/cities.csv; a city
# not there is taken to be far away). Data-quality rules flag days that break these.
MAX_VISITS_PER_DAY = 5
MIN_MINUTES_BETWEEN_CITIES = 240
SAME_CITY_MINUTES = 15
TRAVEL_BASE_MINUTES = 60
TRAVEL_MINUTES_PER_KM = 0.45
INTENTION_SHARE = {"拜访": 0.6, "电话": 0.35, "邮件": 0.0}
INTENTION_BY_STAGE = {  # what the rep reports, by the deal's stage at the time
    "lead": {"低": 60, "中": 35, "高": 5},
    "discovery": {"低": 35, "中": 50, "高": 15},
    "demo": {"低": 15, "中": 50, "高": 35},
    "negotiation": {"低": 5, "中": 35, "高": 60},
}
SUMMARIES = {
    "拜访": [
        "上门拜访，沟通{p}需求",
        "现场调研，了解使用场景",
        "拜访决策人，介绍{p}方案",
        "陪同技术顾问现场交流",
    ],
    "电话": ["电话跟进{p}进展", "确认下次见面时间", "电话沟通报价细节", "回访客户使用情况"],
    "邮件": ["发送{p}资料", "邮件发送报价单", "发送会议纪要", "发送案例介绍"],
}


def build_activities(
    seed: int, company: Company, opportunities: list[Opportunity], timeline: Timeline
) -> list[dict]:
    rng = rng_for(seed, "activities")
    stage_keys = _stage_keys()
    by_owner: dict[str, list[Customer]] = {}
    for c in company.customers:
        by_owner.setdefault(c.owner.rep_id, []).append(c)
    deals: dict[str, list[Opportunity]] = {}
    for o in opportunities:
        deals.setdefault(o.owner.rep_id, []).append(o)
    drafts = []
    for rep in company.quota_reps:
        accounts = by_owner.get(rep.rep_id, [])
        created = [c.created_at for c in accounts]
        weekly_open = _open_deals_by_week(deals.get(rep.rep_id, []))
        monday = monday_of(timeline.start)
        while monday <= timeline.end:
            open_deals = weekly_open(monday)
            # the week's working days (working calendar): a holiday week has fewer, or none (春节, 国庆)
            workdays = workdays_of_week(monday)
            for kind, (lo, hi) in WEEKLY.items():
                for _ in range(round(rng.randint(lo, hi) * rep.diligence * len(workdays) / 5)):
                    day = rng.choice(workdays)
                    at = work_time(rng, day)
                    if timeline.start <= day <= timeline.end:
                        draft = _activity(rng, kind, rep, at, accounts, created, open_deals, stage_keys)
                        if draft and draft["logged_at"] <= timeline.end_ts:
                            drafts.append(draft)
            monday += timedelta(days=7)
    drafts = _plan_visit_days(rng_for(seed, "activities-visit-days"), drafts, timeline)
    drafts += _daily_upkeep(
        rng_for(seed, "activities-upkeep"), company.quota_reps, by_owner, drafts, timeline
    )
    drafts.sort(key=lambda d: (d["activity_at"], d["rep_id"], d["customer_id"]))
    return [{"activity_id": f"A{i:08d}", **d} for i, d in enumerate(drafts, 1)]


def _plan_visit_days(rng: random.Random, drafts: list[dict], timeline: Timeline) -> list[dict]:
    """Make each rep's day of visits feasible (_visit_fits): a visit that would overlap another, come too
    soon after one in another city, or be one too many, is moved to another time of the day when that
    fits, else made by phone."""
    by_day: dict[tuple[str, date], list[dict]] = {}
    for d in drafts:
        if d["activity_type"] == "拜访":
            by_day.setdefault((d["rep_id"], d["activity_at"].date()), []).append(d)
    for (_, day), visits in sorted(by_day.items()):
        kept: list[dict] = []
        for v in sorted(visits, key=lambda v: (v["activity_at"], v["customer_id"])):
            if _visit_fits(kept, v["city"], v["activity_at"], v["duration_minutes"]):
                kept.append(v)
                continue
            for _ in range(20):
                at = work_time(rng, day)
                logged = _logged_at(rng, at, v["duration_minutes"])
                if _visit_fits(kept, v["city"], at, v["duration_minutes"]) and logged <= timeline.end_ts:
                    v["activity_at"], v["logged_at"] = at, logged
                    kept.append(v)
                    break
            else:
                v["activity_type"], v["city"] = "电话", None
                v["duration_minutes"] = rng.randint(*DURATION["电话"])
                v["summary"] = rng.choice(SUMMARIES["电话"]).format(p="产品")
    return drafts


def _visit_fits(visits: list[dict], city: str, at: datetime, duration: int | None = None) -> bool:
    """A visit in `city` at `at` lasting `duration` minutes fits a day that already has `visits`."""
    return len(visits) < MAX_VISITS_PER_DAY and all(
        _apart(v["activity_at"], v.get("duration_minutes"), v["city"], at, duration, city)
        if v["activity_at"] <= at
        else _apart(at, duration, city, v["activity_at"], v.get("duration_minutes"), v["city"])
        for v in visits
    )


def _apart(first_at: datetime, first_minutes, first_city, then_at: datetime, then_minutes, then_city) -> bool:
    """The visit starting at then_at can follow the one starting at first_at."""
    gap = (then_at - first_at).total_seconds() / 60 - (first_minutes or 0)
    if first_city == then_city:
        return gap >= SAME_CITY_MINUTES
    return (then_at - first_at).total_seconds() >= 60 * MIN_MINUTES_BETWEEN_CITIES and gap >= _travel_minutes(
        first_city, then_city
    )


def _travel_minutes(a: str, b: str) -> float:
    places = _city_coordinates()
    if a not in places or b not in places:
        return 24 * 60
    (lat1, lon1), (lat2, lon2) = places[a], places[b]
    h = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(math.radians(lat1))
        * math.cos(math.radians(lat2))
        * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return TRAVEL_BASE_MINUTES + TRAVEL_MINUTES_PER_KM * 2 * 6371 * math.asin(math.sqrt(h))


@functools.cache
def _city_coordinates() -> dict[str, tuple[float, float]]:
    """City -> (latitude, longitude), from dbt_project/seeds/cities.csv."""
    with open(REPO_ROOT / "dbt_project" / "seeds" / "cities.csv", encoding="utf-8", newline="") as f:
        return {r["city"]: (float(r["latitude"]), float(r["longitude"])) for r in csv.DictReader(f)}


def _daily_upkeep(
    rng: random.Random,
    reps: list[Rep],
    accounts: dict[str, list[Customer]],
    drafts: list[dict],
    timeline: Timeline,
) -> list[dict]:
    """Account upkeep: every working day (the working calendar: 调休 weekend days too, public holidays not)
    a rep makes at least one call or email not tied to a deal (a follow-up, a satisfaction call), logged
    the same day."""
    covered = {(d["rep_id"], d["activity_at"].date()) for d in drafts if d["opportunity_id"] is None}
    upkeep = []
    for rep in reps:
        day = timeline.start
        while day <= timeline.end:
            if is_workday(day) and day >= rep.hire_date and (rep.rep_id, day) not in covered:
                at = work_time(rng, day)
                known = [c for c in accounts.get(rep.rep_id, []) if c.created_at < at]
                if known:
                    kind = "电话" if rng.random() < 0.8 else "邮件"
                    duration = rng.randint(*DURATION["电话"]) if kind == "电话" else None
                    logged = at + timedelta(minutes=(duration or 5) + rng.randrange(10, 120))
                    upkeep.append(
                        {
                            "activity_type": kind,
                            "rep_id": rep.rep_id,
                            "customer_id": rng.choice(known).customer_id,
                            "opportunity_id": None,
                            "activity_at": at,
                            "duration_minutes": duration,
                            "city": None,
                            "intention_level": None,
                            "summary": rng.choice(SUMMARIES[kind]).format(p="产品"),
                            "logged_at": min(logged, datetime.combine(day, time(23, 30))),
                        }
                    )
            day += timedelta(days=1)
    return upkeep


def _open_deals_by_week(rep_deals: list[Opportunity]):
    """open_deals(monday): the rep's deals open in that week (_open_in_week), in the list's order, for
    Mondays asked in increasing order. The deals are in creation order (build_pipeline sorts them), so
    a week's deals are the ones created so far that have not closed yet: kept as a running list rather
    than testing every deal of the rep's history each week (that grew with the square of the period)."""
    created = [o.created_at.date() for o in rep_deals]
    if created != sorted(created):  # not in creation order: test each deal each week
        return lambda monday: [o for o in rep_deals if _open_in_week(o, monday)]
    closed = [None if o.closed_at is None else o.closed_at.date() for o in rep_deals]
    live: list[int] = []
    taken = 0

    def open_deals(monday: date) -> list[Opportunity]:
        nonlocal live, taken
        last_created = monday + timedelta(days=4)
        while taken < len(rep_deals) and created[taken] <= last_created:
            if rep_deals[taken].versions:
                live.append(taken)
            taken += 1
        # a deal closed before this Monday is closed for every later Monday too
        live = [i for i in live if closed[i] is None or closed[i] >= monday]
        return [rep_deals[i] for i in live]

    return open_deals


def _open_in_week(o: Opportunity, monday: date) -> bool:
    if not o.versions or o.created_at.date() > monday + timedelta(days=4):
        return False
    closed = o.closed_at
    return closed is None or closed.date() >= monday


def _activity(
    rng: random.Random,
    kind: str,
    rep: Rep,
    at: datetime,
    accounts: list[Customer],
    created: list[datetime],
    open_deals: list[Opportunity],
    stage_keys: dict[str, str],
) -> dict | None:
    deal = None
    candidates = [o for o in open_deals if o.created_at < at and (o.closed_at is None or o.closed_at > at)]
    if candidates and rng.random() < 0.65:  # most effort goes to accounts with a live deal
        deal = rng.choice(candidates)
        customer = deal.customer
    else:
        known = bisect.bisect_left(created, at)
        if not known:
            return None
        customer = accounts[rng.randrange(known)]
    intention = None
    if rng.random() < INTENTION_SHARE[kind]:
        stage = stage_keys[_stage_at(deal, at)] if deal else "lead"
        intention = weighted(rng, INTENTION_BY_STAGE.get(stage, INTENTION_BY_STAGE["lead"]))
    duration = rng.randint(*DURATION[kind]) if kind in DURATION else None
    product = deal.product.name if deal else "产品"
    return {
        "activity_type": kind,
        "rep_id": rep.rep_id,
        "customer_id": customer.customer_id,
        "opportunity_id": deal.opportunity_id if deal else None,
        "activity_at": at,
        "duration_minutes": duration,
        "city": customer.city if kind == "拜访" else None,
        "intention_level": intention,
        "summary": rng.choice(SUMMARIES[kind]).format(p=product),
        "logged_at": _logged_at(rng, at, duration or 5),
    }


def _logged_at(rng: random.Random, at: datetime, duration: int) -> datetime:
    """Usually the same day, within hours; sometimes the next morning."""
    if rng.random() < 0.85:
        ts = at + timedelta(minutes=duration + rng.randrange(10, 240))
        return min(ts, datetime.combine(at.date(), time(23, 30)) + timedelta(seconds=rng.randrange(600)))
    next_morning = datetime.combine(at.date() + timedelta(days=1), time(8, 30))
    return next_morning + timedelta(minutes=rng.randrange(150), seconds=rng.randrange(60))


def _stage_at(deal: Opportunity, at: datetime) -> str:
    stage = deal.versions[0]["stage"]
    for v in deal.versions:
        if v["updated_at"] > at:
            break
        stage = v["stage"]
    return stage


def _stage_keys() -> dict[str, str]:
    return {s.name: s.key for s in load_stages().values()}
