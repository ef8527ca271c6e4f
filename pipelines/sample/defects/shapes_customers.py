"""Realistic shapes of the customer-side classes: duplicate_customer and shared_phone.

Written from how reps and clerks type accounts (quality/DEFECTS.md, "Realistic shapes"):
- a second rep enters a company that is already there from its business card or from memory: with the city
  in brackets the other width (（苏州） for (苏州), as Chinese input methods switch), with a character heard
  rather than read (a homophone: 华信 -> 华新, or a near one: 晨 -> 辰, 金 -> 京), or by the short name the
  market uses (宁波创联世纪 for 宁波创联世纪公用事业集团有限公司, or 公司 without 有限). The card's contact
  person comes with the copy, which is what tells it from a different company of a similar name;
- a rep who needs a phone number on an account he has none for (and knows that one number on three
  accounts is flagged) puts his own number, or a colleague's, on one or two accounts, or the filler numbers
  everybody knows (13800138000); or replaces real numbers with one number later, by an edit;
- legitimately, a group's subsidiaries and branches in other cities carry the group's name and often its
  purchasing centre's number, a different company may have a homophone name, and a contact who changed
  jobs takes his mobile to the new company.

Rows added or rewritten are tagged (customers_activities.TAG); tagged customers are left alone.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

from pypinyin import Style, lazy_pinyin, pinyin

from pipelines.sample.defects import DEFECT, LOOK_ALIKE, Label, register
from pipelines.sample.defects.customers_activities import (
    LEGAL_SUFFIXES,
    _current_customers,
    _next_id,
    _quota_reps,
    _tag,
    _tagged,
    normalize_company_name,
)
from pipelines.sample.defects.shapes_common import cases_per_shape, working_days
from pipelines.sample.generator.common import Timeline, work_time
from pipelines.sample.generator.company import INDUSTRIES, mobile

# Characters company names are made of: a homophone or near-homophone typo lands on one of these.
NAME_CHARACTERS = (
    "华化画话信新鑫心欣兴星行形型达大通同童铜联连莲廉创窗源元园原圆盛胜圣升生宏鸿红洪虹泰太钛顺舜瑞锐"
    "睿蕊丰峰锋风枫凤金京晶精经景锦进劲晨辰臣宸诚成城程承科可克恒衡横亨海凯开楷嘉佳家加佳远园苑宇雨"
    "羽语禹天田添力立利丽理博波伯柏世时实市视飞菲非润闰明铭名鸣德得光广创伟维威卫为志智致至中众忠钟"
    "东冬栋动安岸昂康抗正政证振震阵鼎定丁顶和合何禾荣容融蓉永勇涌泳新芯"
)
# pinyin finals and initials people confuse (southern accents, fast typing)
NEAR_SOUNDS = [("ing", "in"), ("eng", "en"), ("ang", "an"), ("zh", "z"), ("ch", "c"), ("sh", "s")]


def _toneless(ch: str) -> str:
    return lazy_pinyin(ch)[0]


def _tone(ch: str) -> str:
    return pinyin(ch, style=Style.TONE3)[0][0]


def _near(a: str, b: str) -> bool:
    """Two toneless syllables an accent confuses: in/ing, en/eng, an/ang, z/zh, c/ch, s/sh."""
    for long, short in NEAR_SOUNDS:
        if a.replace(long, short) == b.replace(long, short) and a != b:
            return True
    return False


def sound_alikes(ch: str) -> tuple[list[str], list[str]]:
    """(homophones: the same syllable, any tone; near homophones: a confusable syllable) of ch."""
    syllable = _toneless(ch)
    same = sorted({c for c in NAME_CHARACTERS if c != ch and _toneless(c) == syllable})
    near = sorted({c for c in NAME_CHARACTERS if c != ch and _near(_toneless(c), syllable)})
    return same, near


def _parts(name: str, city: str) -> tuple[str, str, str] | None:
    """(brand, industry word, legal suffix) of a generated name city+brand+word+suffix."""
    suffix = next((s for s in LEGAL_SUFFIXES if name.endswith(s)), None)
    if suffix is None or not name.startswith(city):
        return None
    core = name[len(city) : -len(suffix)]
    words = sorted({w for _, ws in INDUSTRIES.values() for w in ws}, key=len, reverse=True)
    word = next((w for w in words if core.endswith(w) and len(core) > len(w)), None)
    if word is None:
        return None
    return core[: -len(word)], word, suffix


def _versions(tables: dict[str, list[dict]]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for row in tables["customers"]:
        out[row["customer_id"]].append(row)
    return out


# --- duplicate_customer ---------------------------------------------------------------------------


@register("duplicate_customer")
def inject_duplicate_shapes(
    tables: dict[str, list[dict]], rng: random.Random, timeline: Timeline
) -> list[Label]:
    """Copies of an existing account entered later by another rep: fullwidth_brackets, homophone_typo,
    near_homophone_typo, abbreviation. Look-alikes: group_subsidiary (the group's company in another city,
    its name with that city in brackets or as 分公司), homophone_other_company (a different company, same
    city, a homophone name, its own contact and industry)."""
    cls, n = "duplicate_customer", cases_per_shape(tables)
    reps = _quota_reps(tables)
    versions = _versions(tables)
    current = _current_customers(tables)
    taken = {(c["city"], normalize_company_name(c["customer_name"], c["city"])) for c in current.values()}
    names = {c["customer_name"] for c in current.values()}
    latest_created = timeline.end - timedelta(days=60)
    originals = [
        c
        for c in current.values()
        if c["created_at"].date() <= latest_created
        and not any(_tagged(v) for v in versions[c["customer_id"]])
        and _parts(c["customer_name"], c["city"])
    ]
    rng.shuffle(originals)
    pool = iter(originals)
    used_mobiles = {c["contact_mobile"] for c in tables["customers"]}
    contact_names = sorted({c["contact_name"] for c in current.values() if c["contact_name"]})
    next_n = _next_id(tables["customers"], "customer_id", "C")
    labels: list[Label] = []

    def fresh_mobile() -> str:
        number = mobile(rng)
        while number in used_mobiles:
            number = mobile(rng)
        used_mobiles.add(number)
        return number

    def add(template: dict, name: str, *, same_contact: str, city: str | None = None, **extra) -> dict:
        """same_contact: 'both' (name and mobile from the card), 'name', or 'none'."""
        nonlocal next_n
        colleagues = [
            r for r in reps if r["rep_id"] != template["owner_rep_id"] and r["region"] == template["region"]
        ] or reps
        owner = rng.choice(colleagues)
        earliest = max(template["created_at"].date() + timedelta(days=30), timeline.start + timedelta(days=7))
        created_at = work_time(rng, rng.choice([d for d in working_days(timeline, 7, 3) if d >= earliest]))
        row = {
            **{k: v for k, v in template.items() if not k.startswith("_")},
            "customer_id": f"C{next_n:06d}",
            "customer_name": name,
            "city": city or template["city"],
            "tier": "普通",
            "channel": rng.choice(["展会", "转介绍", "线上", "电话营销"]),
            "budget": int(round(template["budget"] * rng.uniform(0.7, 1.3), -3)),
            "owner_rep_id": owner["rep_id"],
            "region": owner["region"],
            "contact_name": template["contact_name"] if same_contact != "none" else rng.choice(contact_names),
            "contact_mobile": template["contact_mobile"] if same_contact == "both" else fresh_mobile(),
            "created_at": created_at,
            "updated_at": created_at,
            **extra,
        }
        next_n += 1
        names.add(name)
        tables["customers"].append(_tag(row, cls))
        return row

    def claim(original: dict) -> None:
        for v in versions[original["customer_id"]]:
            _tag(v, cls)

    def copy_shape(shape: str, original: dict) -> tuple[str, str] | None:
        city, name = original["city"], original["customer_name"]
        brand, word, suffix = _parts(name, city)
        if shape == "fullwidth_brackets":
            half, full = f"{brand}{word}({city}){suffix}", f"{brand}{word}（{city}）{suffix}"
            first, second = (half, full) if rng.random() < 0.5 else (full, half)
            for v in versions[original["customer_id"]]:  # the account as it was always named
                v["customer_name"] = first
            return second, f"{first} -> {second}"
        if shape in ("homophone_typo", "near_homophone_typo"):
            positions = list(range(len(brand)))
            rng.shuffle(positions)
            for i in positions:
                same, near = sound_alikes(brand[i])
                options = same if shape == "homophone_typo" else near
                if options:
                    typo = rng.choice(options)
                    variant = f"{city}{brand[:i]}{typo}{brand[i + 1 :]}{word}{suffix}"
                    note = f"{brand[i]} ({_tone(brand[i])}) typed {typo} ({_tone(typo)})"
                    return variant, note
            return None
        # abbreviation: the short name the market uses
        forms = {
            "city + brand": f"{city}{brand}",
            "brand + word": f"{brand}{word}",
            "公司 without 有限": f"{city}{brand}{word}公司",
        }
        how = rng.choice(sorted(forms))
        return forms[how], how

    for shape in ("fullwidth_brackets", "homophone_typo", "near_homophone_typo", "abbreviation"):
        done = 0
        for original in pool:
            if done == n:
                break
            made = copy_shape(shape, original)
            if made is None or made[0] in names:
                continue
            variant, how = made
            contact = "both" if rng.random() < 0.5 else "name"
            row = add(original, variant, same_contact=contact)
            claim(original)
            note = f"copy of {original['customer_id']}: {how}; contact from the card ({contact})"
            labels.append(Label(cls, "customers", row["customer_id"], note, DEFECT, shape))
            done += 1

    # look-alikes
    cities = sorted({c["city"] for c in current.values()})
    done = 0
    for parent in pool:
        if done == n:
            break
        brand, word, suffix = _parts(parent["customer_name"], parent["city"])
        other = rng.choice([c for c in cities if c != parent["city"]] or cities)
        if other == parent["city"]:
            continue
        name = (
            f"{brand}{word}（{other}）有限公司"
            if rng.random() < 0.5
            else f"{parent['city']}{brand}{word}{suffix}{other}分公司"
        )
        if name in names:
            continue
        row = add(parent, name, same_contact="none", city=other)
        claim(parent)
        labels.append(
            Label(
                cls,
                "customers",
                row["customer_id"],
                f"of {parent['customer_id']} in {other}",
                LOOK_ALIKE,
                "group_subsidiary",
            )
        )
        done += 1
    industries = sorted(INDUSTRIES)
    done = 0
    for template in pool:
        if done == n:
            break
        brand, word, suffix = _parts(template["customer_name"], template["city"])
        i = rng.randrange(len(brand))
        same, _ = sound_alikes(brand[i])
        if not same:
            continue
        other_industry = rng.choice([x for x in industries if x != template["industry"]])
        other_word = rng.choice(INDUSTRIES[other_industry][1])
        name = f"{template['city']}{brand[:i]}{rng.choice(same)}{brand[i + 1 :]}{other_word}{suffix}"
        key = (template["city"], normalize_company_name(name, template["city"]))
        if name in names or key in taken:
            continue
        taken.add(key)
        row = add(template, name, same_contact="none", industry=other_industry)
        claim(template)
        labels.append(
            Label(
                cls,
                "customers",
                row["customer_id"],
                f"vs {template['customer_id']}",
                LOOK_ALIKE,
                "homophone_other_company",
            )
        )
        done += 1
    return labels


# --- shared_phone ---------------------------------------------------------------------------------

FILLER_NUMBERS = ["13800138000", "13888888888", "13900000000", "13912345678", "18888888888"]


@register("shared_phone")
def inject_shared_phone_shapes(
    tables: dict[str, list[dict]], rng: random.Random, timeline: Timeline
) -> list[Label]:
    """rep_own_mobile (the rep's own number on one or two of his accounts), colleague_mobile (another rep's
    number), filler_number (13800138000 and the like, by several reps), edited_in_later (2-3 accounts'
    real numbers replaced by one in a later edit). Look-alikes: group_switchboard (a subsidiary with the
    group's purchasing number), contact_changed_jobs (a contact's mobile, gone from his old company's
    current record, on his new company's)."""
    cls, n = "shared_phone", cases_per_shape(tables)
    versions = _versions(tables)
    reps = _quota_reps(tables)
    mobiles_of_reps = {r["mobile"] for r in tables["reps"] if r["mobile"]}
    in_use = {row["contact_mobile"] for row in tables["customers"]} | mobiles_of_reps
    free = {
        cid: sorted(rows, key=lambda r: r["updated_at"])
        for cid, rows in sorted(versions.items())
        if not any(_tagged(r) for r in rows) and len({r["contact_mobile"] for r in rows}) == 1
    }
    by_owner: dict[str, list[str]] = defaultdict(list)
    for cid, rows in free.items():
        by_owner[rows[-1]["owner_rep_id"]].append(cid)
    for pool in by_owner.values():
        rng.shuffle(pool)
    reps = [r for r in reps if len(by_owner.get(r["rep_id"], [])) > 10]  # a rep hired last month has none
    contact_names = sorted({r["contact_name"] for r in tables["customers"] if r["contact_name"]})
    labels: list[Label] = []

    def take(rep_id: str, k: int) -> list[str]:
        pool = by_owner.get(rep_id, [])
        got = pool[:k]
        del pool[:k]
        return got

    def set_number(cid: str, number: str, since=None) -> None:
        for row in versions[cid]:
            if since is None or row["updated_at"] >= since:
                row["contact_mobile"] = number
            _tag(row, cls)

    def label(cid: str, note: str, shape: str, kind: str = DEFECT) -> None:
        labels.append(Label(cls, "customers", cid, note, kind, shape))

    count = 0
    for rep in reps * n:  # the rep's own number on 1-2 accounts
        if count >= n:
            break
        if not rep["mobile"]:
            continue
        for cid in take(rep["rep_id"], rng.randint(1, 2)):
            set_number(cid, rep["mobile"])
            label(cid, f"{rep['rep_id']}'s own mobile", "rep_own_mobile")
            count += 1
    count = 0
    while count < n:
        rep, colleague = rng.sample(reps, 2) if len(reps) > 1 else (reps[0], reps[0])
        cids = take(rep["rep_id"], rng.randint(1, 2))
        if not cids or not colleague["mobile"] or colleague is rep:
            break
        for cid in cids:
            set_number(cid, colleague["mobile"])
            label(cid, f"{colleague['rep_id']}'s mobile on {rep['rep_id']}'s account", "colleague_mobile")
            count += 1
    count = 0
    fillers = [f for f in FILLER_NUMBERS if f not in in_use]
    for i in range(n):
        rep = reps[i % len(reps)]
        for cid in take(rep["rep_id"], 1):
            number = fillers[i % 2]
            set_number(cid, number)
            label(cid, f"filler number {number}", "filler_number")
    count = 0
    while count < n:
        rep = rng.choice(reps)
        cids = take(rep["rep_id"], rng.randint(2, 3))
        if len(cids) < 2:
            break
        number = mobile(rng)
        while number in in_use:
            number = mobile(rng)
        in_use.add(number)
        latest = max(versions[cid][-1]["updated_at"].date() for cid in cids)
        days = [d for d in working_days(timeline, 30, 5) if d > latest]  # delivered within the window
        if not days:
            continue
        day = rng.choice(days)
        for cid in cids:
            last = versions[cid][-1]
            at = work_time(rng, day)
            versions[cid].append(_tag({**last, "contact_mobile": number, "updated_at": at}, cls))
            tables["customers"].append(versions[cid][-1])
            for v in versions[cid]:
                _tag(v, cls)
            label(cid, f"edited to {number} on {at:%Y-%m-%d}", "edited_in_later")
            count += 1

    # look-alikes: a subsidiary with the group's purchasing number; a contact who changed jobs
    for _ in range(max(3, n // 2)):
        rep = rng.choice(reps)
        cids = take(rep["rep_id"], 1)
        if not cids:
            continue
        parent = versions[cids[0]][-1]
        parts = _parts(parent["customer_name"], parent["city"])
        if parts is None:
            continue
        brand, word, _ = parts
        created = work_time(rng, rng.choice(working_days(timeline, 7, 3)))
        sub_id = f"C{_next_id(tables['customers'], 'customer_id', 'C'):06d}"
        sub = _tag(
            {
                **{k: v for k, v in parent.items() if not k.startswith("_")},
                "customer_id": sub_id,
                "customer_name": f"{parent['city']}{brand}{word}销售有限公司",
                "contact_name": parent["contact_name"],
                "created_at": created,
                "updated_at": created,
            },
            cls,
        )
        tables["customers"].append(sub)
        versions[sub_id].append(sub)
        for v in versions[cids[0]]:
            _tag(v, cls)
        label(sub_id, f"subsidiary of {cids[0]}, group purchasing number", "group_switchboard", LOOK_ALIKE)
        # its own legal entity, whatever its name shares with the parent's: no duplicate either
        labels.append(
            Label(
                "duplicate_customer",
                "customers",
                sub_id,
                f"subsidiary of {cids[0]}",
                LOOK_ALIKE,
                "group_subsidiary",
            )
        )
    for _ in range(max(3, n // 2)):
        old_rep, new_rep = rng.choice(reps), rng.choice(reps)
        old, new = take(old_rep["rep_id"], 1), take(new_rep["rep_id"], 1)
        if not old or not new:
            continue
        old_id, new_id = old[0], new[0]
        moved = versions[old_id][-1]["contact_mobile"]
        latest = max(versions[cid][-1]["updated_at"].date() for cid in (old_id, new_id))
        days = [d for d in working_days(timeline, 30, 5) if d > latest]
        if not days:
            continue
        day = rng.choice(days)
        for cid, number, person in (
            (old_id, None, None),
            (new_id, moved, versions[old_id][-1]["contact_name"]),
        ):
            last = versions[cid][-1]
            at = work_time(rng, day)
            if number is None:
                number = mobile(rng)
                while number in in_use:
                    number = mobile(rng)
                in_use.add(number)
                person = rng.choice(contact_names)
            versions[cid].append(
                _tag({**last, "contact_mobile": number, "contact_name": person, "updated_at": at}, cls)
            )
            tables["customers"].append(versions[cid][-1])
            for v in versions[cid]:
                _tag(v, cls)
        label(new_id, f"contact of {old_id} moved here", "contact_changed_jobs", LOOK_ALIKE)
    return labels
