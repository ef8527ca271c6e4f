"""Labelled defects on the CRM customer and activity side (quality/DEFECTS.md), with their look-alikes.

Six classes: duplicate_customer, shared_phone (customers); late_logging, deadline_burst,
impossible_schedule (activities); missing_activity_day (rep_days). Each injector edits the in-memory
tables in place and returns the labels of the records it made defective.

Rules every injector keeps, so the classes do not blur into each other or into the deal-side classes:
- every row an injector adds or rewrites (defect or look-alike) is tagged `row["_defect"] = <class>`
  (the writer only exports contract columns); later injectors leave tagged rows and their days alone;
- fabricated and rewritten activities carry no opportunity_id, so rewriting a deal's history elsewhere
  never removes or revives them;
- visits are only added where the day's schedule stays feasible (<= 5 visits, another city no sooner
  than 4 hours away), except the impossible schedules themselves;
- a record's delivery day follows its own columns (an activity arrives on the day of its logged_at).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from pipelines.sample.defects import Label, register
from pipelines.sample.defects.shapes_common import CITY_COORDINATES, distance_km, is_working_day
from pipelines.sample.generator.common import Timeline, work_time
from pipelines.sample.generator.company import mobile

TAG = "_defect"
VISIT = "拜访"
MAX_FEASIBLE_VISITS = 5  # the clean simulation's limit (activities.MAX_VISITS_PER_DAY)
MIN_MINUTES_BETWEEN_CITIES = 240  # the clean simulation's travel time (activities.py)

# --- shared helpers ---------------------------------------------------------------------------


def _tagged(row: dict) -> bool:
    return TAG in row


def _tag(row: dict, defect_class: str) -> dict:
    row[TAG] = defect_class
    return row


def _next_id(rows: list[dict], key: str, prefix: str) -> int:
    used = [int(r[key][len(prefix) :]) for r in rows if r[key].startswith(prefix)]
    return max(used, default=0) + 1


def _quota_reps(tables: dict[str, list[dict]]) -> list[dict]:
    return sorted((r for r in tables["reps"] if r["role"] == "rep"), key=lambda r: r["rep_id"])


def _current_customers(tables: dict[str, list[dict]]) -> dict[str, dict]:
    """customer_id -> latest version."""
    current: dict[str, dict] = {}
    for row in sorted(tables["customers"], key=lambda r: r["updated_at"]):
        current[row["customer_id"]] = row
    return dict(sorted(current.items()))


def _accounts_of(tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """owner rep_id -> current versions of its accounts, oldest first."""
    by_owner: dict[str, list[dict]] = defaultdict(list)
    for c in _current_customers(tables).values():
        by_owner[c["owner_rep_id"]].append(c)
    return {k: sorted(v, key=lambda c: (c["created_at"], c["customer_id"])) for k, v in by_owner.items()}


def _weekdays(timeline: Timeline, margin_start: int, margin_end: int) -> list[date]:
    first, last = timeline.start + timedelta(days=margin_start), timeline.end - timedelta(days=margin_end)
    return [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if (first + timedelta(days=i)).weekday() < 5
    ]


def _activity(
    kind: str,
    rep_id: str,
    customer: dict,
    at: datetime,
    logged_at: datetime,
    rng: random.Random,
    summary: str,
) -> dict:
    duration = {"拜访": rng.randint(40, 90), "电话": rng.randint(3, 25)}.get(kind)
    return {
        "activity_type": kind,
        "rep_id": rep_id,
        "customer_id": customer["customer_id"],
        "opportunity_id": None,
        "activity_at": at,
        "duration_minutes": duration,
        "city": customer["city"] if kind == VISIT else None,
        "intention_level": None,
        "summary": summary,
        "logged_at": logged_at,
    }


def _append_activities(tables: dict[str, list[dict]], drafts: list[dict], defect_class: str) -> list[dict]:
    """Give fabricated activities the next free ids, tag them and add them to the table."""
    rows = tables["activities"]
    n = _next_id(rows, "activity_id", "A")
    added = []
    for i, d in enumerate(drafts):
        row = _tag({"activity_id": f"A{n + i:08d}", **d}, defect_class)
        rows.append(row)
        added.append(row)
    return added


def _visits_by_day(tables: dict[str, list[dict]]) -> dict[tuple[str, date], list[dict]]:
    out: dict[tuple[str, date], list[dict]] = defaultdict(list)
    for a in tables["activities"]:
        if a["activity_type"] == VISIT:
            out[(a["rep_id"], a["activity_at"].date())].append(a)
    return out


def _activities_by_day(tables: dict[str, list[dict]]) -> dict[tuple[str, date], list[dict]]:
    out: dict[tuple[str, date], list[dict]] = defaultdict(list)
    for a in tables["activities"]:
        out[(a["rep_id"], a["activity_at"].date())].append(a)
    return out


def _feasible(visits: list[dict], city: str, at: datetime) -> bool:
    return len(visits) < MAX_FEASIBLE_VISITS and all(
        v["city"] == city or abs((v["activity_at"] - at).total_seconds()) >= 60 * MIN_MINUTES_BETWEEN_CITIES
        for v in visits
    )


def _in_weekend_window(ts: datetime) -> bool:
    """Friday from 15:00 to Sunday midnight: when fabricated 'catch-up' logging happens."""
    return ts.weekday() >= 5 or (ts.weekday() == 4 and ts.hour >= 15)


def _same_day_log(rng: random.Random, at: datetime, duration: int | None) -> datetime:
    logged = at + timedelta(minutes=(duration or 5) + rng.randrange(10, 120), seconds=rng.randrange(60))
    return min(logged, datetime.combine(at.date(), time(23, 30)))


# --- duplicate_customer -------------------------------------------------------------------------

DUPLICATES = 22
ONE_CHARACTER_LOOKALIKES = 10
LEGAL_SUFFIXES = ["集团有限公司", "股份有限公司", "有限责任公司", "有限公司"]
PROVINCE_OF_CITY = {
    **dict.fromkeys(["杭州", "宁波"], "浙江省"),
    **dict.fromkeys(["南京", "苏州", "无锡"], "江苏省"),
    **dict.fromkeys(["济南", "青岛"], "山东省"),
    "合肥": "安徽省",
    "福州": "福建省",
    **dict.fromkeys(["石家庄", "唐山", "保定"], "河北省"),
    "太原": "山西省",
    "呼和浩特": "内蒙古自治区",
    **dict.fromkeys(["广州", "深圳", "东莞", "佛山", "珠海"], "广东省"),
    "南宁": "广西壮族自治区",
    "海口": "海南省",
    "成都": "四川省",
    "绵阳": "四川省",
    "昆明": "云南省",
    "贵阳": "贵州省",
    **dict.fromkeys(["武汉", "宜昌"], "湖北省"),
    "长沙": "湖南省",
    **dict.fromkeys(["郑州", "洛阳"], "河南省"),
    "南昌": "江西省",
}
SIMILAR_CHARACTERS = "华鑫信新兴星达通联创源盛宏鸿泰顺"
_SUFFIX_RE = re.compile("(集团)?(股份)?(有限责任公司|有限公司)$")
_PROVINCE_RE = re.compile(
    "^(北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|"
    "贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门)"
    "(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?"
)


def normalize_company_name(name: str, city: str | None = None) -> str:
    """The Python twin of the dbt macro normalize_company_name (used to keep look-alikes apart)."""
    s = re.sub(r"[\W_]", "", unicodedata.normalize("NFKC", name).lower())
    s = re.sub("集团$", "", _SUFFIX_RE.sub("", s))
    city_re = re.compile(f"^{re.escape(city)}市?") if city else None
    if city_re:
        s = city_re.sub("", s)
    s = _PROVINCE_RE.sub("", s)
    if city_re:
        s = city_re.sub("", s)
    return s


def _to_full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def _split_name(name: str, city: str) -> tuple[str, str]:
    """(core without the city, legal suffix)."""
    suffix = next(s for s in LEGAL_SUFFIXES if name.endswith(s))
    return name[len(city) : -len(suffix)], suffix


def _name_variant(rng: random.Random, name: str, city: str) -> tuple[str, str]:
    """How a second rep types the same company: (variant, what changed)."""
    core, suffix = _split_name(name, city)
    other_suffix = rng.choice([s for s in LEGAL_SUFFIXES if s != suffix])
    options = {
        "市 added to the city": f"{city}市{core}{suffix}",
        "province added": f"{PROVINCE_OF_CITY.get(city, '')}{city}{core}{other_suffix}",
        "city left out": f"{core}{suffix}",
        "other legal suffix": f"{city}{core}{other_suffix}",
        "spaces": f"{city} {core} {suffix}",
        "full-width": _to_full_width(f"{city}{core}") + "\u3000" + suffix,
    }
    how = rng.choice(sorted(options))
    variant = options[how]
    if variant.endswith(suffix) and rng.random() < 0.3:  # sometimes two slips at once
        variant, how = variant[: -len(suffix)] + other_suffix, f"{how} + other legal suffix"
    return variant, how


@register("duplicate_customer")
def inject_duplicate_customers(
    tables: dict[str, list[dict]], rng: random.Random, timeline: Timeline
) -> list[Label]:
    reps = _quota_reps(tables)
    current = _current_customers(tables)
    taken = {(c["city"], normalize_company_name(c["customer_name"], c["city"])) for c in current.values()}
    latest_created = timeline.end - timedelta(days=60)
    originals = [c for c in current.values() if c["created_at"].date() <= latest_created and not _tagged(c)]
    rng.shuffle(originals)
    used_mobiles = {c["contact_mobile"] for c in tables["customers"]}
    next_n = _next_id(tables["customers"], "customer_id", "C")
    labels: list[Label] = []
    new_rows: list[dict] = []

    def new_customer(
        template: dict, name: str, owner: dict, created_at: datetime, same_contact: bool
    ) -> dict:
        nonlocal next_n
        contact_mobile = template["contact_mobile"]
        if not same_contact:
            while contact_mobile in used_mobiles:
                contact_mobile = mobile(rng)
            used_mobiles.add(contact_mobile)
        row = {
            **{k: v for k, v in template.items() if k != TAG},
            "customer_id": f"C{next_n:06d}",
            "customer_name": name,
            "tier": "普通",
            "channel": rng.choice(["展会", "转介绍", "线上", "电话营销"]),
            "budget": int(round(template["budget"] * rng.uniform(0.7, 1.3), -3)),
            "owner_rep_id": owner["rep_id"],
            "region": owner["region"],
            "contact_name": template["contact_name"] if same_contact else rng.choice(contact_names),
            "contact_mobile": contact_mobile,
            "created_at": created_at,
            "updated_at": created_at,
        }
        next_n += 1
        new_rows.append(row)
        return row

    contact_names = sorted({c["contact_name"] for c in current.values() if c["contact_name"]})
    copies, pool = 0, iter(originals)
    for original in pool:
        colleagues = [
            r for r in reps if r["region"] == original["region"] and r["rep_id"] != original["owner_rep_id"]
        ]
        owner = rng.choice(colleagues or reps)
        earliest = max(original["created_at"].date() + timedelta(days=30), timeline.start + timedelta(days=7))
        days = [d for d in _weekdays(timeline, 7, 3) if d >= earliest]
        created_at = work_time(rng, rng.choice(days))
        variant, how = _name_variant(rng, original["customer_name"], original["city"])
        if normalize_company_name(variant, original["city"]) != normalize_company_name(
            original["customer_name"], original["city"]
        ):  # a core name that itself starts with a place name: not a clean example
            continue
        row = new_customer(original, variant, owner, created_at, same_contact=rng.random() < 0.4)
        labels.append(
            Label(
                "duplicate_customer",
                "customers",
                row["customer_id"],
                f"copy of {original['customer_id']}: {how}",
            )
        )
        _tag(original, "duplicate_customer")
        copies += 1
        if copies == DUPLICATES:
            break
    # look-alikes: a different company whose core name differs by one character, in the same city
    for template in pool:  # the accounts not used above
        if len(new_rows) >= copies + ONE_CHARACTER_LOOKALIKES:
            break
        core, suffix = _split_name(template["customer_name"], template["city"])
        positions = [i for i, ch in enumerate(core) if "\u4e00" <= ch <= "\u9fff"]
        if not positions:
            continue
        i = rng.choice(positions)
        core = core[:i] + rng.choice([ch for ch in SIMILAR_CHARACTERS if ch != core[i]]) + core[i + 1 :]
        name = f"{template['city']}{core}{suffix}"
        key = (template["city"], normalize_company_name(name, template["city"]))
        if key in taken:
            continue
        taken.add(key)
        owner = rng.choice([r for r in reps if r["region"] == template["region"]] or reps)
        created_at = work_time(rng, rng.choice(_weekdays(timeline, 7, 3)))
        new_customer(template, name, owner, created_at, same_contact=False)
    for row in new_rows:
        tables["customers"].append(_tag(row, "duplicate_customer"))
    return labels


# --- shared_phone ---------------------------------------------------------------------------------

SHARED_PHONE_LABELS = 22  # groups of 3-5 until at least this many accounts
RELATED_PAIRS = 5


@register("shared_phone")
def inject_shared_phones(
    tables: dict[str, list[dict]], rng: random.Random, timeline: Timeline
) -> list[Label]:
    """A rep puts one number (often their own) on several accounts; look-alike: parent and subsidiary."""
    versions: dict[str, list[dict]] = defaultdict(list)
    for row in tables["customers"]:
        versions[row["customer_id"]].append(row)
    in_use = {row["contact_mobile"] for row in tables["customers"]}
    # accounts with one contact throughout and no other class's edits
    free = {
        cid: rows[0]
        for cid, rows in sorted(versions.items())
        if not any(_tagged(r) for r in rows) and len({r["contact_mobile"] for r in rows}) == 1
    }
    by_owner: dict[str, list[str]] = defaultdict(list)
    for cid, row in free.items():
        by_owner[row["owner_rep_id"]].append(cid)
    reps = _quota_reps(tables)
    labels: list[Label] = []

    def fresh_number() -> str:
        number = mobile(rng)
        while number in in_use:
            number = mobile(rng)
        return number

    def set_number(cid: str, number: str) -> None:
        for row in versions[cid]:
            row["contact_mobile"] = number
            _tag(row, "shared_phone")
        in_use.add(number)

    plan = []  # (rep, group size): the defects, then the look-alike pairs
    while sum(size for _, size in plan) < SHARED_PHONE_LABELS:
        plan.append((reps[len(plan) % len(reps)], rng.randint(3, 5)))
    plan += [(rng.choice(reps), 2) for _ in range(RELATED_PAIRS)]
    for rep, size in plan:
        pool = by_owner[rep["rep_id"]]
        if len(pool) < size:
            continue
        group = rng.sample(pool, size)
        for cid in group:
            pool.remove(cid)
        if size > 2:
            own = rep["mobile"]
            number = own if own and own not in in_use and rng.random() < 0.5 else fresh_number()
            for cid in group:
                set_number(cid, number)
                labels.append(
                    Label("shared_phone", "customers", cid, f"{number} on {size} accounts of {rep['rep_id']}")
                )
        else:  # parent and subsidiary: the group's switchboard on both
            set_number(group[1], versions[group[0]][-1]["contact_mobile"])
            for row in versions[group[0]]:
                _tag(row, "shared_phone")
    return labels


# --- late_logging --------------------------------------------------------------------------------

LATE_LOGGED = 25
TWO_DAY_LOOKALIKES = 25


def _free_activities(tables: dict[str, list[dict]], first: date, last: date) -> list[dict]:
    return [
        a
        for a in tables["activities"]
        if not _tagged(a) and a["opportunity_id"] is None and first <= a["activity_at"].date() <= last
    ]


@register("late_logging")
def inject_late_logging(tables: dict[str, list[dict]], rng: random.Random, timeline: Timeline) -> list[Label]:
    """Activities entered 4-15 days after they happened; look-alike: entered 1.5-3 days later."""
    candidates = _free_activities(
        tables, timeline.start + timedelta(days=3), timeline.end - timedelta(days=20)
    )
    rng.shuffle(candidates)
    labels = []
    for a in candidates[:LATE_LOGGED]:
        day = a["activity_at"].date() + timedelta(days=rng.randint(4, 15))
        day += timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 4 else 0)  # Fri-Sun -> Monday
        a["logged_at"] = work_time(rng, day)
        _tag(a, "late_logging")
        hours = (a["logged_at"] - a["activity_at"]).total_seconds() / 3600
        labels.append(Label("late_logging", "activities", a["activity_id"], f"logged {hours:.0f} h later"))
    lookalikes = 0
    for a in candidates[LATE_LOGGED:]:
        if lookalikes == TWO_DAY_LOOKALIKES:
            break
        for _ in range(10):
            logged = a["activity_at"] + timedelta(minutes=rng.randint(36 * 60, 70 * 60))
            if not _in_weekend_window(logged) and 8 <= logged.hour < 22:
                a["logged_at"] = logged
                _tag(a, "late_logging")
                lookalikes += 1
                break
    return labels


# --- deadline_burst ------------------------------------------------------------------------------

BURSTS = 5
END_OF_FRIDAY_LOOKALIKES = 6
BURST_SUMMARIES = [
    "电话跟进项目进展",
    "上门拜访，沟通需求",
    "发送资料",
    "回访客户使用情况",
    "确认下次见面时间",
]


def _burst_start(rng: random.Random, friday: date) -> datetime:
    choice = rng.random()
    if choice < 0.6:  # Friday evening
        return datetime.combine(friday, time(15, 30)) + timedelta(minutes=rng.randrange(0, 6 * 60))
    day = friday + timedelta(days=1 if choice < 0.8 else 2)
    return datetime.combine(day, time(9, 0)) + timedelta(minutes=rng.randrange(0, 12 * 60))


@register("deadline_burst")
def inject_deadline_bursts(
    tables: dict[str, list[dict]], rng: random.Random, timeline: Timeline
) -> list[Label]:
    """A rep fills the week's record in one sitting at the weekend: 6-10 activities for earlier days
    (within the last 72 hours) logged within an hour. Look-alike: 3-4 of Friday's own activities
    entered together at the end of Friday."""
    reps = _quota_reps(tables)
    accounts = _accounts_of(tables)
    visits = _visits_by_day(tables)
    fridays = [d for d in _weekdays(timeline, 14, 4) if d.weekday() == 4]
    catch_up: dict[str, list[datetime]] = defaultdict(list)  # rep -> logged_at of genuine weekend entries
    for a in tables["activities"]:
        if _in_weekend_window(a["logged_at"]) and a["activity_at"].date() < a["logged_at"].date():
            catch_up[a["rep_id"]].append(a["logged_at"])
    labels: list[Label] = []
    used: set[tuple[str, date]] = set()
    bursts = 0
    # bounded by the (rep, Friday) pairs that exist, so a small company cannot loop forever
    attempts = min(4 * BURSTS, len(reps) * len(fridays))
    while bursts < BURSTS and len(used) < attempts:
        rep, friday = rng.choice(reps), rng.choice(fridays)
        if (rep["rep_id"], friday) in used:
            continue
        used.add((rep["rep_id"], friday))
        start = _burst_start(rng, friday)
        if any(abs((t - start).total_seconds()) < 3 * 3600 for t in catch_up[rep["rep_id"]]):
            continue  # keep the burst apart from the rep's genuine weekend entries
        n = rng.randint(6, 10)
        offsets = sorted(rng.sample(range(0, 55 * 60), n))
        drafts = []
        for offset in offsets:
            logged = start + timedelta(seconds=offset)
            for _ in range(20):  # an earlier weekday, within the last 72 hours, during office hours
                day = logged.date() - timedelta(days=rng.randint(1, 3))
                at = work_time(rng, day)
                if day.weekday() < 5 and logged - at < timedelta(hours=71) and at.date() >= timeline.start:
                    break
            else:
                continue
            known = [c for c in accounts.get(rep["rep_id"], []) if c["created_at"] < at]
            if not known:
                continue
            customer = rng.choice(known)
            kind = rng.choice(["电话", "电话", "拜访", "邮件"])
            if kind == VISIT and not _feasible(visits[(rep["rep_id"], day)], customer["city"], at):
                kind = "电话"
            draft = _activity(kind, rep["rep_id"], customer, at, logged, rng, rng.choice(BURST_SUMMARIES))
            drafts.append(draft)
            if kind == VISIT:
                visits[(rep["rep_id"], day)].append(draft)
        if len(drafts) < 6:
            continue
        for row in _append_activities(tables, drafts, "deadline_burst"):
            labels.append(
                Label("deadline_burst", "activities", row["activity_id"], f"burst at {start:%Y-%m-%d %H:%M}")
            )
        catch_up[rep["rep_id"]] += [d["logged_at"] for d in drafts]
        bursts += 1
    # look-alikes: the day's own calls and emails entered together at the end of Friday
    drafts = []
    for friday in rng.sample(fridays, min(END_OF_FRIDAY_LOOKALIKES, len(fridays))):
        rep = rng.choice(reps)
        start = datetime.combine(friday, time(17, 30)) + timedelta(minutes=rng.randrange(60))
        known = [c for c in accounts.get(rep["rep_id"], []) if c["created_at"].date() < friday]
        for offset in sorted(rng.sample(range(0, 50 * 60), rng.randint(3, 4))):
            at = datetime.combine(friday, time(9, 0)) + timedelta(minutes=rng.randrange(0, 8 * 60))
            kind = rng.choice(["电话", "邮件"])
            drafts.append(
                _activity(
                    kind,
                    rep["rep_id"],
                    rng.choice(known),
                    at,
                    start + timedelta(seconds=offset),
                    rng,
                    "电话跟进项目进展",
                )
            )
    _append_activities(tables, drafts, "deadline_burst")
    return labels


# --- impossible_schedule --------------------------------------------------------------------------

CITY_CONFLICTS = 9
OVERLOADED_DAYS = 2
SAME_CITY_HOUR_LOOKALIKES = 4
FAR_APART_LOOKALIKES = 4
FIVE_VISIT_LOOKALIKES = 2


@register("impossible_schedule")
def inject_impossible_schedules(
    tables: dict[str, list[dict]], rng: random.Random, timeline: Timeline
) -> list[Label]:
    """Fabricated visits: one in a city 300+ km away 30-90 minutes from a real visit, or days of 7-9 visits.
    Look-alikes, each a day a rep can really have: another visit in the same city 10-25 minutes after
    the first ends (or before it starts), one in a city within 200 km 4-5 hours later, days of 5 visits
    one after the other."""
    accounts = _accounts_of(tables)
    visits = _visits_by_day(tables)
    by_day = _activities_by_day(tables)
    days = set(_weekdays(timeline, 7, 5))
    labels: list[Label] = []
    # days with exactly one untouched, deal-free visit: room for a second visit
    single = [
        key
        for key, vs in sorted(visits.items())
        if key[1] in days and len(vs) == 1 and not _tagged(vs[0]) and vs[0]["opportunity_id"] is None
    ]
    rng.shuffle(single)
    # days without visits and without other classes' edits: room for a whole day of visits
    empty = [
        (r["rep_id"], d)
        for r in _quota_reps(tables)
        for d in sorted(days)
        if not visits.get((r["rep_id"], d)) and not any(_tagged(a) for a in by_day.get((r["rep_id"], d), []))
    ]
    rng.shuffle(empty)

    def customers_in(rep_id: str, at: datetime, city_filter) -> list[dict]:
        return [c for c in accounts.get(rep_id, []) if c["created_at"] < at and city_filter(c["city"])]

    def add_visit(rep_id: str, customer: dict, at: datetime) -> dict:
        draft = _activity(VISIT, rep_id, customer, at, at, rng, "上门拜访，沟通需求")
        draft["logged_at"] = _same_day_log(rng, at, draft["duration_minutes"])
        (row,) = _append_activities(tables, [draft], "impossible_schedule")
        visits[(rep_id, at.date())].append(row)
        return row

    wanted = [
        ("conflict", CITY_CONFLICTS),
        ("same_city", SAME_CITY_HOUR_LOOKALIKES),
        ("far", FAR_APART_LOOKALIKES),
    ]
    for kind, count in wanted:
        done = 0
        while done < count and single:
            rep_id, day = single.pop()
            (real,) = visits[(rep_id, day)]
            if kind == "same_city":  # after the visit ends, or ending before it starts (visits last <= 90)
                pause = timedelta(minutes=rng.randint(10, 25))
                at = real["activity_at"] + timedelta(minutes=real["duration_minutes"] or 0) + pause
                if not (time(8, 0) <= at.time() <= time(19, 0)) or at.date() != day:
                    at = real["activity_at"] - timedelta(minutes=90) - pause
            else:
                minutes = {"conflict": (30, 90), "far": (240, 300)}[kind]
                sign = rng.choice([-1, 1])
                at = real["activity_at"] + sign * timedelta(
                    minutes=rng.randint(*minutes), seconds=rng.randrange(60)
                )
                if not (time(8, 0) <= at.time() <= time(19, 0)) or at.date() != day:
                    at = real["activity_at"] - sign * timedelta(minutes=rng.randint(*minutes))
            if not (time(8, 0) <= at.time() <= time(19, 0)) or at.date() != day:
                continue
            options = customers_in(
                rep_id, at, lambda city, kind=kind, home=real["city"]: _fits(kind, home, city)
            )
            if not options:
                continue
            added = add_visit(rep_id, rng.choice(options), at)
            _tag(real, "impossible_schedule")
            if kind == "conflict":
                gap = abs((added["activity_at"] - real["activity_at"]).total_seconds()) / 60
                for row in (real, added):
                    labels.append(
                        Label(
                            "impossible_schedule",
                            "activities",
                            row["activity_id"],
                            f"{gap:.0f} min between cities",
                        )
                    )
            done += 1
    for kind, count in [("overloaded", OVERLOADED_DAYS), ("five", FIVE_VISIT_LOOKALIKES)]:
        done = 0
        while done < count and empty:
            rep_id, day = empty.pop()
            start = datetime.combine(day, time(8, 30))
            cities = sorted({c["city"] for c in customers_in(rep_id, start, lambda _: True)})
            if not cities:
                continue
            city = rng.choice(cities)
            options = customers_in(rep_id, start, lambda c, city=city: c == city)
            n = rng.randint(7, 9) if kind == "overloaded" else 5
            at = start
            for _ in range(n):
                row = add_visit(rep_id, rng.choice(options), at)
                if kind == "overloaded":
                    labels.append(
                        Label("impossible_schedule", "activities", row["activity_id"], f"{n} visits in a day")
                    )
                # the next one 10-25 minutes after this one ends: five visits fill a day, they fit it
                at += timedelta(minutes=(row["duration_minutes"] or 0) + rng.randint(10, 25))
            done += 1
    return labels


def _fits(kind: str, home: str, city: str) -> bool:
    """Whether a visit in `city` suits the case `kind` next to a real visit in `home`: a conflict is out of
    reach (300+ km: no trip fits 30-90 minutes), a far look-alike within reach (200 km: an hour by
    high-speed rail), a same-city one in the same city."""
    if kind == "same_city":
        return city == home
    if city == home or home not in CITY_COORDINATES or city not in CITY_COORDINATES:
        return False
    return distance_km(home, city) >= 300 if kind == "conflict" else distance_km(home, city) <= 200


# --- missing_activity_day --------------------------------------------------------------------------

MISSING_DAYS = 25


@register("missing_activity_day")
def inject_missing_days(tables: dict[str, list[dict]], rng: random.Random, timeline: Timeline) -> list[Label]:
    """Every activity of a quota rep on one working day removed (the export lost them, or the rep was
    absent without leave). Look-alike: a rep hired during the window, active only from the hire date."""
    reps = _quota_reps(tables)
    by_day = _activities_by_day(tables)
    candidates = [
        (r["rep_id"], d)
        for r in reps
        for d in _weekdays(timeline, 7, 7)
        if is_working_day(
            d
        )  # a real working day: 国庆 is no missing day (a 调休 Sunday is: shapes_activities)
        and by_day.get((r["rep_id"], d))
        and not any(_tagged(a) for a in by_day[(r["rep_id"], d)])
    ]
    chosen = set(rng.sample(candidates, min(MISSING_DAYS, len(candidates))))
    tables["activities"][:] = [
        a for a in tables["activities"] if (a["rep_id"], a["activity_at"].date()) not in chosen
    ]
    labels = [
        Label("missing_activity_day", "rep_days", f"{rep_id}:{d.isoformat()}", "activities removed")
        for rep_id, d in sorted(chosen)
    ]
    _hire_a_rep(tables, rng, timeline, reps)
    return labels


def _hire_a_rep(
    tables: dict[str, list[dict]], rng: random.Random, timeline: Timeline, reps: list[dict]
) -> None:
    """A new quota rep joins a team two thirds into the window and works the team's accounts from the
    hire date: the days before it are no missing days."""
    mentor = rng.choice(reps)
    hire = timeline.start + timedelta(days=(timeline.end - timeline.start).days * 2 // 3)
    hire += timedelta(days=(7 - hire.weekday()) % 7)  # a Monday
    rep_id = f"R{_next_id(tables['reps'], 'rep_id', 'R'):04d}"
    known_mobiles = {r["mobile"] for r in tables["reps"]}
    number = mobile(rng)
    while number in known_mobiles:
        number = mobile(rng)
    tables["reps"].append(
        _tag(
            {
                **{k: v for k, v in mentor.items() if k != TAG},
                "rep_id": rep_id,
                "rep_name": rng.choice(
                    sorted({c["contact_name"] for c in tables["customers"] if c["contact_name"]})
                ),
                "mobile": number,
                "hire_date": hire,
                "leave_date": None,
                "updated_at": datetime.combine(hire, time(9, 0)),
            },
            "missing_activity_day",
        )
    )
    accounts = _accounts_of(tables)
    team = [c for r in reps if r["team_id"] == mentor["team_id"] for c in accounts.get(r["rep_id"], [])]
    drafts = []
    for day in (hire + timedelta(days=i) for i in range((timeline.end - hire).days + 1)):
        if not is_working_day(day):  # holidays off, make-up days (调休) worked
            continue
        for _ in range(rng.randint(1, 3)):
            at = work_time(rng, day)
            kind = rng.choice(["电话", "电话", "邮件"])
            draft = _activity(
                kind,
                rep_id,
                rng.choice([c for c in team if c["created_at"] < at]),
                at,
                at,
                rng,
                "熟悉客户，电话介绍",
            )
            draft["logged_at"] = _same_day_log(rng, at, draft["duration_minutes"])
            drafts.append(draft)
    _append_activities(tables, drafts, "missing_activity_day")
