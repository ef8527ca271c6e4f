"""Realistic shapes of the deal-side classes: stage_jump, anomalous_amount, zombie_opportunity,
order_without_opportunity.

Written from how reps and clerks work around the rules (quality/DEFECTS.md, "Realistic shapes"):
- a rep told that deals must not skip stages clicks through every stage in one sitting on the day he
  closes it: every stage is in the history, minutes apart, none of them happened (click_through); a rep who
  really moves a deal two stages at one meeting does it hours apart around a visit (look-alike);
- an amount is wrong not only when it is 20 times the product's usual one: a deal ten times its customer's
  declared budget is a wish (over_budget), and a Chinese rep types 万元 into a field in yuan (wan_unit_slip:
  35 for 350,000); a bulk order of a cheap consumable is large and real (look-alike);
- a rep who knows that a deal nobody touched for 90 days is flagged touches it: rewrites the next step every
  few weeks (cosmetic_touch) or sends an email now and then (token_activity), while its promised date is long
  past and its stage has not moved;
- a clerk told that every order needs a CRM deal number types one: another customer's won deal
  (other_customer_opportunity), the same customer's old deal that already has its order
  (reused_old_opportunity), or a deal the CRM says was lost (cites_lost_opportunity).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

from pipelines.sample.defects import DEFECT, LOOK_ALIKE, Label, register
from pipelines.sample.defects.customers_activities import _activity, _append_activities
from pipelines.sample.defects.deals_erp import (
    MAIN_PATH,
    _book_order,
    _current,
    _Deals,
    _fabricate_open_deal,
    _group,
    _Ids,
    open_deal_templates,
)
from pipelines.sample.defects.shapes_common import cases_per_shape, is_working_day
from pipelines.sample.generator.common import Timeline, next_workday, work_time

TAG = "_defect"


def _free_opps(tables: dict[str, list[dict]], deals: _Deals) -> set[str]:
    """Deals no earlier injector added or rewrote (tagged), with an ordinary amount."""
    touched = {r["opportunity_id"] for r in tables["opportunities"] if TAG in r}
    touched |= {r["opportunity_id"] for r in tables["opportunity_stage_history"] if TAG in r}
    return {o for o, row in deals.current.items() if o not in touched and deals.is_plain(row)}


def _busy_days(tables: dict[str, list[dict]]) -> dict[tuple[str, object], bool]:
    """(rep, day) -> may another activity go there: the rep logged something that day and none of it is a
    missing_activity_day case (an empty day may be a labelled missing day or a day off)."""
    out: dict[tuple[str, object], bool] = {}
    for a in tables["activities"]:
        key = (a["rep_id"], a["activity_at"].date())
        out[key] = out.get(key, True) and a.get(TAG) != "missing_activity_day"
    return out


def _clashes(visits: list[dict], start, minutes: int, city: str) -> bool:
    """Whether a visit in `city` from `start` for `minutes` would not fit a rep's day beside his `visits`:
    one in another city that day (no trip checked here), or one in the same city within 30 minutes."""
    margin = timedelta(minutes=30)
    end = start + timedelta(minutes=minutes)
    return any(
        v["city"] != city
        or (
            v["activity_at"] - margin < end
            and start < v["activity_at"] + timedelta(minutes=v["duration_minutes"] or 0) + margin
        )
        for v in visits
    )


def _tag_all(rows, cls: str) -> None:
    for r in rows:
        r[TAG] = cls


# --- stage_jump -----------------------------------------------------------------------------------


def _full_path(deals: _Deals, changes: list[dict]) -> bool:
    keys = [deals.key_of[c["to_stage"]] for c in changes]
    return tuple(keys) == MAIN_PATH and len({c["changed_at"].date() for c in changes}) == len(changes)


@register("stage_jump")
def inject_stage_shapes(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """click_through: a won deal whose discovery, demo and negotiation changes all happen within minutes
    before the win, on the day of the win (the versions before keep the lead stage). Look-alike
    same_day_two_stages: demo and negotiation reached on one day, 2-4 hours apart, around a visit."""
    cls, n = "stage_jump", cases_per_shape(tables)
    deals = _Deals(tables)
    free = _free_opps(tables, deals)
    history = _group(tables["opportunity_stage_history"], "opportunity_id", "changed_at")
    candidates = sorted(
        o
        for o, changes in history.items()
        if o in free and _full_path(deals, changes) and changes[1]["changed_at"].date() >= tl.start
    )
    rng.shuffle(candidates)
    labels: list[Label] = []
    for opp_id in candidates[:n]:
        changes, versions = history[opp_id], deals.versions[opp_id]
        won_at = changes[-1]["changed_at"]
        lead = deals.stages["lead"]
        steps = [timedelta(minutes=rng.randint(1, 3), seconds=rng.randrange(60)) for _ in changes[1:]]
        at = won_at - sum(steps, timedelta(0))  # the sitting: a few minutes, the win its last click
        for change, step in zip(changes[1:-1], steps, strict=False):
            change["changed_at"] = at
            at += step
        first = changes[1]["changed_at"]
        for v in versions:
            if changes[0]["changed_at"] <= v["updated_at"] < first and v["stage"] != lead.name:
                v["stage"], v["probability"] = lead.name, lead.probability
        _tag_all([*changes, *versions], cls)
        minutes = (won_at - first).total_seconds() / 60
        note = f"lead -> won in one sitting ({minutes:.0f} min) on {won_at:%Y-%m-%d}"
        labels.append(Label(cls, "opportunities", opp_id, note, DEFECT, "click_through"))
    free_days = _busy_days(tables)
    visits_by_day: dict[tuple[str, object], list[dict]] = {}
    for a in tables["activities"]:
        if a["activity_type"] == "拜访":
            visits_by_day.setdefault((a["rep_id"], a["activity_at"].date()), []).append(a)
    # deals that reached negotiation stage by stage (won or still open), not used above
    reached = sorted(
        o
        for o, changes in history.items()
        if o in free
        and o not in set(candidates[:n])
        and len(changes) >= 4
        and tuple(deals.key_of[c["to_stage"]] for c in changes[:4]) == MAIN_PATH[:4]
        and len({c["changed_at"].date() for c in changes[:4]}) == 4
        and changes[1]["changed_at"].date() >= tl.start
    )
    rng.shuffle(reached)
    alike = 0
    for opp_id in reached:
        if alike == n:
            break
        changes, versions = history[opp_id], deals.versions[opp_id]
        demo, negotiation = changes[2], changes[3]
        day = negotiation["changed_at"].date()
        customer = deals.customers.get(deals.current[opp_id]["customer_id"])
        if day <= changes[1]["changed_at"].date() or not customer:
            continue
        if not free_days.get((deals.current[opp_id]["owner_rep_id"], day)):
            continue
        new_at = negotiation["changed_at"] - timedelta(minutes=rng.randint(120, 240))
        if new_at.date() != day or new_at.hour < 8:
            continue
        rep_id = deals.current[opp_id]["owner_rep_id"]
        if _clashes(
            visits_by_day.get((rep_id, day), []), new_at - timedelta(minutes=90), 80, customer["city"]
        ):
            continue  # the meeting must fit the rep's day
        old_at = demo["changed_at"]
        demo["changed_at"] = new_at
        discovery = deals.stages["discovery"]
        for v in versions:
            if old_at <= v["updated_at"] < new_at:
                v["stage"], v["probability"] = discovery.name, discovery.probability
        # the meeting both stages came from
        visit = _activity(
            "拜访",
            deals.current[opp_id]["owner_rep_id"],
            customer,
            new_at - timedelta(minutes=90),
            new_at + timedelta(minutes=30),
            rng,
            "现场演示方案，客户当场进入商务谈判",
        )
        visit["duration_minutes"] = 80
        _append_activities(tables, [visit], cls)
        _tag_all([*changes, *versions], cls)
        labels.append(
            Label(
                cls,
                "opportunities",
                opp_id,
                f"demo and negotiation on {day}",
                LOOK_ALIKE,
                "same_day_two_stages",
            )
        )
        alike += 1
    return labels


# --- anomalous_amount -----------------------------------------------------------------------------


@register("anomalous_amount")
def inject_amount_shapes(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """over_budget (an ordinary amount for the product, 8-15 times the customer's declared budget),
    wan_unit_slip (the amount typed in 万元). Look-alike bulk_cheap_product (hundreds of units of a cheap
    product, a whole number of units at list price less a volume discount, within the customer's budget)."""
    cls, n = "anomalous_amount", cases_per_shape(tables)
    deals = _Deals(tables)
    free = _free_opps(tables, deals)
    won = deals.stages["won"].name
    open_or_lost = sorted(
        o
        for o in free
        if deals.current[o]["stage"] != won and deals.current[o]["updated_at"].date() >= tl.start
    )
    rng.shuffle(open_or_lost)
    labels: list[Label] = []

    def set_amount(opp_id: str, amount: int) -> None:
        for row in deals.versions[opp_id]:
            row["amount"] = amount
            row[TAG] = cls
        for row in tables["opportunity_stage_history"]:
            if row["opportunity_id"] == opp_id:
                row["amount"] = amount
                row[TAG] = cls

    used: set[str] = set()
    for opp_id in open_or_lost:
        if len(used) == n:
            break
        row = deals.current[opp_id]
        budget = deals.customers[row["customer_id"]]["budget"] or 0
        m = deals.median[row["product_id"]]
        amount = int(round(budget * rng.uniform(8, 15), -3))
        if budget and amount <= 3 * m and amount >= 0.3 * m:
            set_amount(opp_id, amount)
            used.add(opp_id)
            labels.append(
                Label(
                    cls,
                    "opportunities",
                    opp_id,
                    f"{amount / budget:.0f} x budget {budget}",
                    DEFECT,
                    "over_budget",
                )
            )
    done = 0
    for opp_id in open_or_lost:
        if done == n:
            break
        if opp_id in used:
            continue
        row = deals.current[opp_id]
        typed, amount = row["amount"], max(1, round(row["amount"] / 10_000))
        set_amount(opp_id, amount)
        used.add(opp_id)
        labels.append(
            Label(
                cls,
                "opportunities",
                opp_id,
                f"{typed} typed as {amount} (万元)",
                DEFECT,
                "wan_unit_slip",
            )
        )
        done += 1
    # cheap hardware sold by the unit (sensors, drives, access points, controllers)
    cheap = {
        p["product_id"]: p for p in tables["products"] if p["unit"] == "台" and p["list_price"] <= 30_000
    }
    per_product: dict[str, int] = defaultdict(int)
    done = 0
    cheap_ids = sorted(cheap)
    for opp_id in open_or_lost:  # a big account's roll-out: hundreds of units of a cheap device
        if done == n:
            break
        row = deals.current[opp_id]
        budget = deals.customers[row["customer_id"]]["budget"] or 0
        options = [p for p in cheap_ids if per_product[p] < 2 and p in deals.median]
        if opp_id in used or not options:
            continue
        product = cheap[rng.choice(options)]
        discount = rng.choice([0.8, 0.85, 0.9])
        units = int(budget * rng.uniform(0.6, 0.95) / (product["list_price"] * discount)) // 10 * 10
        amount = int(units * product["list_price"] * discount)
        if units < 30 or amount < 6 * deals.median[product["product_id"]]:
            continue
        for version in deals.versions[opp_id]:
            version["product_id"] = product["product_id"]
        set_amount(opp_id, amount)
        used.add(opp_id)
        per_product[product["product_id"]] += 1  # at most two per product: its median stays put
        note = f"{units} {product['unit']} of {product['product_name']} at {discount:.0%}, budget {budget}"
        labels.append(Label(cls, "opportunities", opp_id, note, LOOK_ALIKE, "bulk_cheap_product"))
        done += 1
    return labels


# --- zombie_opportunity ---------------------------------------------------------------------------

COSMETIC_NEXT_STEPS = ["持续跟进", "等待客户反馈", "保持联系", "跟进客户内部审批", "等待预算确认"]


@register("zombie_opportunity")
def inject_zombie_shapes(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """Open deals whose stage has not moved for 120-300 days and whose promised date is long past, kept
    looking alive: cosmetic_touch (the next step rewritten every 3-6 weeks, nothing else), token_activity
    (an email or a call about the deal every 3-6 weeks)."""
    cls, n = "zombie_opportunity", cases_per_shape(tables)
    deals = _Deals(tables)
    templates = open_deal_templates(deals, tl)
    opp_ids = _Ids(tables["opportunities"], "opportunity_id", "O", 7)
    change_ids = _Ids(tables["opportunity_stage_history"], "stage_change_id", "SH", 8)
    labels: list[Label] = []
    free_days = _busy_days(tables)
    for shape in ("cosmetic_touch", "token_activity"):
        for _ in range(n):
            template = rng.choice(templates)
            last_real = next_workday(tl.end - timedelta(days=rng.randint(120, 300)))
            opp_id = opp_ids.next()
            _fabricate_open_deal(tables, rng, deals, template, opp_id, last_real, change_ids)
            rows = [r for r in tables["opportunities"] if r["opportunity_id"] == opp_id]
            last = rows[-1]
            day = last_real
            touches = 0
            customer = deals.customers.get(last["customer_id"])
            while True:
                day += timedelta(days=rng.randint(21, 42))
                while not is_working_day(day):  # 国庆 is no day for a touch
                    day += timedelta(days=1)
                if day > tl.end - timedelta(days=1):
                    break
                at = work_time(rng, day)
                if shape == "cosmetic_touch":
                    steps = [s for s in COSMETIC_NEXT_STEPS if s != last["next_step"]]
                    last = {**last, "next_step": rng.choice(steps), "updated_at": at}
                    tables["opportunities"].append(last)
                elif customer:
                    for _ in range(10):  # a working day the rep logged other things on
                        if free_days.get((last["owner_rep_id"], at.date())):
                            break
                        at = work_time(rng, at.date() + timedelta(days=1))
                    else:
                        continue
                    if at.date() > tl.end:
                        break
                    kind = rng.choice(["邮件", "电话"])
                    act = _activity(kind, last["owner_rep_id"], customer, at, at, rng, "发送资料，保持联系")
                    act["opportunity_id"] = opp_id
                    act["logged_at"] = at + timedelta(minutes=rng.randint(5, 60))
                    _append_activities(tables, [act], cls)
                touches += 1
            _tag_all([r for r in tables["opportunities"] if r["opportunity_id"] == opp_id], cls)
            idle = (tl.end - last_real).days
            note = f"stage unmoved {idle} days, promised {rows[-1]['expected_close_date']}, {touches} touches"
            labels.append(Label(cls, "opportunities", opp_id, note, DEFECT, shape))
    return labels


# --- order_without_opportunity --------------------------------------------------------------------


@register("order_without_opportunity")
def inject_order_shapes(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """Orders entered straight into the ERP with a deal number typed to satisfy the form:
    other_customer_opportunity, reused_old_opportunity (the customer's deal won 2-8 months earlier that
    already has its order), cites_lost_opportunity."""
    cls, n = "order_without_opportunity", cases_per_shape(tables)
    deals = _Deals(tables)
    orders = _current(tables["sales_orders"], "order_id")
    invoices = _group(tables["invoices"], "order_id", "updated_at")
    won, lost = deals.stages["won"].name, deals.stages["lost"].name
    ordered = defaultdict(list)
    for o in orders.values():
        ordered[o["opportunity_id"]].append(o)
    templates = sorted(
        (
            o
            for o in orders.values()
            if o["opportunity_id"] in deals.current
            and deals.is_plain(deals.current[o["opportunity_id"]])
            and o["order_id"] in invoices
            and o["customer_id"] in deals.customers
        ),
        key=lambda o: o["order_id"],
    )
    won_deals = sorted(o for o, r in deals.current.items() if r["stage"] == won and deals.is_plain(r))
    lost_deals = sorted(o for o, r in deals.current.items() if r["stage"] == lost and deals.is_plain(r))
    order_ids = _Ids(tables["sales_orders"], "order_id", "SO", 8)
    invoice_ids = _Ids(tables["invoices"], "invoice_id", "INV", 8)
    labels: list[Label] = []

    def book(template: dict, opp_id: str, day, note: str, shape: str, **changes) -> None:
        template = {**template, **changes}
        order = _book_order(
            tables, rng, tl, template, invoices[template["order_id"]][0], order_ids, invoice_ids, day, opp_id
        )
        labels.append(Label(cls, "sales_orders", order["order_id"], note, DEFECT, shape))
        if deals.current[opp_id]["stage"] == won:  # the won deal is right; the order citing it is not
            labels.append(
                Label(
                    "won_amount_differs_from_order",
                    "opportunities",
                    opp_id,
                    f"{order['order_id']} ({shape}) cites it",
                    LOOK_ALIKE,
                    "foreign_order_cites_deal",
                )
            )

    days = [
        d
        for d in (tl.start + timedelta(days=i) for i in range((tl.end - tl.start).days - 1))
        if is_working_day(d)
    ]
    for _ in range(n):
        template = rng.choice(templates)
        opp_id = rng.choice(
            [o for o in won_deals if deals.current[o]["customer_id"] != template["customer_id"]]
        )
        book(
            template,
            opp_id,
            rng.choice(days),
            f"{opp_id} is {deals.current[opp_id]['customer_id']}'s deal",
            "other_customer_opportunity",
        )
    reusable = [
        (o, ordered[o][0])
        for o in won_deals
        if len(ordered.get(o, [])) == 1
        and ordered[o][0]["order_id"] in invoices
        and ordered[o][0]["customer_id"] == deals.current[o]["customer_id"]
    ]
    rng.shuffle(reusable)
    for opp_id, first in reusable:
        if sum(1 for lb in labels if lb.shape == "reused_old_opportunity") == n:
            break
        closed = deals.current[opp_id]["closed_date"]
        later = [d for d in days if 60 <= (d - closed).days <= 240]
        if not later:
            continue
        product = deals.products[first["product_id"]]
        quantity = rng.randint(1, 5)
        price = int(product["list_price"] * rng.uniform(0.8, 1.0))
        book(
            first,
            opp_id,
            rng.choice(later),
            f"{opp_id} closed {closed}, ordered in {first['order_id']}",
            "reused_old_opportunity",
            quantity=quantity,
            unit_price=price,
            order_amount=quantity * price,
        )
    for opp_id in rng.sample(lost_deals, min(n, len(lost_deals))):
        opp = deals.current[opp_id]
        template = next((t for t in templates if t["customer_id"] == opp["customer_id"]), None) or rng.choice(
            templates
        )
        later = [d for d in days if d >= opp["closed_date"]] or days
        book(
            template,
            opp_id,
            rng.choice(later),
            f"{opp_id} was lost on {opp['closed_date']}",
            "cites_lost_opportunity",
            customer_id=opp["customer_id"],
        )
    return labels
