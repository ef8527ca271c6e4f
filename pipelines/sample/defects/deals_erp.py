"""Labelled defects on the deal and ERP side, with their look-alike legitimate cases (quality/DEFECTS.md).

Classes: stage_jump, zombie_opportunity, slipping_close_date, anomalous_amount, overpayment,
won_without_order, order_without_opportunity, orphan_reference (the ERP's references; the CRM deal's are in
references.py).

Every injector edits the in-memory tables of `simulate()` so that the result still reads like a real
delivery: rows follow the contract (ids match their patterns, money is whole yuan), every version of a
record is rewritten consistently, and a row's version timestamp (updated_at, changed_at, payment_date)
decides the day it is delivered (pipelines.sample.generator.deliveries). Look-alikes are not labelled.

Injectors run in class-name order. Each one leaves alone the records an earlier one made defective where
the two would interfere (for example won_without_order never drops an order whose customer was replaced by
orphan_reference, so that label stays detectable).
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from statistics import median

from pipelines.sample.defects import Label, register
from pipelines.sample.generator.common import Timeline, load_stages, next_workday, work_time

# How many labelled records (and look-alikes) per class and seed: at least 20 at scale 0.2 / 365 days.
DEFECTS_PER_CLASS = (24, 30)
LOOK_ALIKES_PER_CLASS = (20, 26)
MAIN_PATH = ("lead", "discovery", "demo", "negotiation", "won")  # funnel_stages.stage_order 1..5
OPEN_STAGES = MAIN_PATH[:-1]
ANOMALY_MULTIPLE = (15.0, 40.0)  # x the product's median amount
LARGE_DEAL_MULTIPLE = (4.0, 6.0)  # look-alike: a big deal the customer's budget supports
ANOMALY_PLACEHOLDER = 10**12  # above any real amount while the final medians are worked out
MEDIAN_SHIFT_RANKS = 5  # an anomaly's product median may move up this many ranks (later injections) ...
STABLE_MEDIAN_RISE = 1.4  # ... and rise at most this much, so 15 x the median stays above 10 x the new one
PLAIN_AMOUNT_MULTIPLE = 3.0  # a deal within 3x its product's median is ordinary (used to pick templates)
ZOMBIE_IDLE_DAYS = (100, 300)
QUIET_IDLE_DAYS = (60, 80)  # look-alike: open and quiet, but not for long


# --- small helpers ------------------------------------------------------------------------------


def _count(rng: random.Random, bounds: tuple[int, int]) -> int:
    return rng.randint(*bounds)


def _sample(rng: random.Random, items: list, n: int) -> list:
    return rng.sample(items, min(n, len(items)))


def _group(rows: Iterable[dict], key: str, order_by: str) -> dict[str, list[dict]]:
    """key -> its rows (versions), oldest first; the lists hold the table's own dicts."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    for versions in grouped.values():
        versions.sort(key=lambda r: r[order_by])
    return dict(grouped)


def _current(rows: Iterable[dict], key: str, order_by: str = "updated_at") -> dict[str, dict]:
    return {k: v[-1] for k, v in _group(rows, key, order_by).items()}


class _Ids:
    """New ids after the largest in use (prefix + zero-padded number), as the source system would issue."""

    def __init__(self, rows: Iterable[dict], key: str, prefix: str, width: int):
        self.prefix, self.width = prefix, width
        self.last = max((int(r[key][len(prefix) :]) for r in rows), default=0)

    def next(self) -> str:
        self.last += 1
        return f"{self.prefix}{self.last:0{self.width}d}"


def _never_used_ids(rng: random.Random, used: set[str], prefix: str, width: int, n: int) -> list[str]:
    """Ids that match the pattern but never existed: well above every id in use (a mistyped number)."""
    top = max((int(i[len(prefix) :]) for i in used if i and i.startswith(prefix)), default=0)
    low = max(top * 3, 10 ** (width - 1))
    ids: set[str] = set()
    while len(ids) < n:
        candidate = f"{prefix}{rng.randrange(low, 10**width):0{width}d}"
        if candidate not in used:
            ids.add(candidate)
    return sorted(ids)


def _workdays(first: date, last: date) -> list[date]:
    return [
        first + timedelta(days=i)
        for i in range((last - first).days + 1)
        if (first + timedelta(days=i)).weekday() < 5
    ]


def _observed_versions(versions: list[dict], tl: Timeline) -> list[dict]:
    """The versions the warehouse sees: one per delivery day (that day's latest), history before the
    window folded into the first delivery, nothing after the end."""
    by_day: dict[date, dict] = {}
    for v in sorted(versions, key=lambda r: r["updated_at"]):
        day = max(v["updated_at"].date(), tl.start)
        if day <= tl.end:
            by_day[day] = v
    return [by_day[d] for d in sorted(by_day)]


def postponements(versions: list[dict], tl: Timeline) -> int:
    """Times the delivered versions moved expected_close_date later (what slipping_close_date counts)."""
    seen = _observed_versions(versions, tl)
    return sum(
        1 for a, b in zip(seen, seen[1:], strict=False) if b["expected_close_date"] > a["expected_close_date"]
    )


class _Deals:
    """Read-only views of the deal tables that several injectors need."""

    def __init__(self, tables: dict[str, list[dict]]):
        self.stages = load_stages()
        self.key_of = {s.name: k for k, s in self.stages.items()}
        self.versions = _group(tables["opportunities"], "opportunity_id", "updated_at")
        self.current = {k: v[-1] for k, v in self.versions.items()}
        self.reps = {r["rep_id"] for r in tables["reps"]}
        self.quota_reps = sorted(
            {r["rep_id"] for r in tables["reps"] if r["role"] == "rep" and not r["leave_date"]}
        )
        self.products = {p["product_id"]: p for p in tables["products"]}
        self.customers = _current(tables["customers"], "customer_id")
        amounts: dict[str, list[float]] = defaultdict(list)
        for row in self.current.values():
            amounts[row["product_id"]].append(row["amount"])
        self.median = {p: median(a) for p, a in amounts.items()}

    def stage_key(self, row: dict) -> str:
        return self.key_of[row["stage"]]

    def is_plain(self, row: dict) -> bool:
        """Known rep, product and customer, and an ordinary amount: safe to copy or to change."""
        return (
            row["owner_rep_id"] in self.reps
            and row["product_id"] in self.products
            and row["customer_id"] in self.customers
            and row["amount"] <= PLAIN_AMOUNT_MULTIPLE * self.median[row["product_id"]]
        )


def _window_workday(
    rng: random.Random, tl: Timeline, first: date | None = None, last: date | None = None
) -> date:
    return rng.choice(_workdays(first or tl.start, last or tl.end))


# --- stage_jump -------------------------------------------------------------------------------


@register("stage_jump")
def inject_stage_jumps(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """Rewrite a deal's stage history so that it jumps two or more main stages forward (线索获取 -> 商务谈判,
    需求挖掘 -> 签约成交): the stage changes in between are removed and the versions in between keep the
    earlier stage. Look-alike: one stage skipped (线索获取 -> 方案演示), as real deals do."""
    deals = _Deals(tables)
    order = {k: i for i, k in enumerate(MAIN_PATH, 1)}
    history = _group(tables["opportunity_stage_history"], "opportunity_id", "changed_at")
    jumps, skips = [], []
    for opp_id, changes in sorted(history.items()):
        if changes[-1]["changed_at"].date() < tl.start:
            continue  # keep the rewritten history inside the delivery window
        keys = [deals.key_of[c["to_stage"]] for c in changes]
        for i in range(1, len(changes)):
            start = deals.key_of[changes[i]["from_stage"]] if changes[i]["from_stage"] else None
            if start not in order:
                continue
            for j in range(i + 1, len(changes)):
                if keys[j] not in order:
                    break
                gap = order[keys[j]] - order[start]
                if gap >= 3 and j - i <= 3:
                    jumps.append((opp_id, i, j))
                elif gap == 2 and j == i + 1:
                    skips.append((opp_id, i, j))
    by_opp_jumps: dict[str, list] = defaultdict(list)
    for c in jumps:
        by_opp_jumps[c[0]].append(c)
    chosen = _sample(rng, sorted(by_opp_jumps), _count(rng, DEFECTS_PER_CLASS))
    taken = set(chosen)
    by_opp_skips: dict[str, list] = defaultdict(list)
    for c in skips:
        if c[0] not in taken:
            by_opp_skips[c[0]].append(c)
    alike = _sample(rng, sorted(by_opp_skips), _count(rng, LOOK_ALIKES_PER_CLASS))
    removed: set[int] = set()
    labels = []
    for opp_id in chosen:
        _, i, j = rng.choice(by_opp_jumps[opp_id])
        removed |= _skip_changes(deals, history[opp_id], deals.versions[opp_id], i, j)
        changes = history[opp_id]
        labels.append(
            Label(
                "stage_jump",
                "opportunities",
                opp_id,
                f"{changes[i]['from_stage']} -> {changes[j]['to_stage']}",
            )
        )
    for opp_id in alike:
        _, i, j = rng.choice(by_opp_skips[opp_id])
        removed |= _skip_changes(deals, history[opp_id], deals.versions[opp_id], i, j)
    tables["opportunity_stage_history"][:] = [
        h for h in tables["opportunity_stage_history"] if id(h) not in removed
    ]
    return labels


def _skip_changes(deals: _Deals, changes: list[dict], versions: list[dict], i: int, j: int) -> set[int]:
    """Remove stage changes i..j-1 so that change j goes straight from change i's from-stage to its
    to-stage; versions in between keep the from-stage (and its probability). Returns the removed rows' ids."""
    start_name = changes[i]["from_stage"]
    begin, end = changes[i]["changed_at"], changes[j]["changed_at"]
    before = [v for v in versions if v["updated_at"] < begin]
    probability = before[-1]["probability"] if before else deals.stages[deals.key_of[start_name]].probability
    for v in versions:
        if begin <= v["updated_at"] < end:
            v["stage"], v["probability"] = start_name, probability
    changes[j]["from_stage"] = start_name
    return {id(c) for c in changes[i:j]}


# --- zombie_opportunity -----------------------------------------------------------------------


@register("zombie_opportunity")
def inject_zombies(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """Open deals nobody has touched (no update, stage change or activity) for 100-300 days: a pipeline kept
    looking full. Look-alike: open deals quiet for 60-80 days."""
    deals = _Deals(tables)
    templates = open_deal_templates(deals, tl)
    opp_ids = _Ids(tables["opportunities"], "opportunity_id", "O", 7)
    change_ids = _Ids(tables["opportunity_stage_history"], "stage_change_id", "SH", 8)
    labels = []
    for idle_days, how_many, is_defect in (
        (ZOMBIE_IDLE_DAYS, _count(rng, DEFECTS_PER_CLASS), True),
        (QUIET_IDLE_DAYS, _count(rng, LOOK_ALIKES_PER_CLASS), False),
    ):
        for _ in range(how_many):
            template = rng.choice(templates)
            last_day = next_workday(tl.end - timedelta(days=rng.randint(*idle_days)))
            opp_id = opp_ids.next()
            _fabricate_open_deal(tables, rng, deals, template, opp_id, last_day, change_ids)
            if is_defect:
                idle = (tl.end - last_day).days
                labels.append(Label("zombie_opportunity", "opportunities", opp_id, f"idle {idle} days"))
    return labels


def open_deal_templates(deals: _Deals, tl: Timeline) -> list[dict]:
    """Plain deals of quota reps whose customer existed before the window: patterns for fabricated open
    deals (not unknown_customer's accounts still pending)."""
    return sorted(
        (
            r
            for r in deals.current.values()
            if deals.is_plain(r)
            and r["owner_rep_id"] in deals.quota_reps
            and deals.customers[r["customer_id"]]["created_at"].date() < tl.start
        ),
        key=lambda r: r["opportunity_id"],
    )


def _fabricate_open_deal(
    tables: dict[str, list[dict]],
    rng: random.Random,
    deals: _Deals,
    template: dict,
    opp_id: str,
    last_day: date,
    change_ids: _Ids,
) -> None:
    """A deal that walked the funnel stage by stage and was last touched on last_day (still open)."""
    final_stage = rng.choice(OPEN_STAGES)
    steps = MAIN_PATH[: MAIN_PATH.index(final_stage) + 1]
    span = rng.randint(8, 40)
    created_day = next_workday(last_day - timedelta(days=span))
    while len(_workdays(created_day, last_day)[1:-1]) < len(steps) - 1:  # a holiday ate the days between
        span += 7
        created_day = next_workday(last_day - timedelta(days=span))
    days = (
        sorted(rng.sample(_workdays(created_day, last_day)[1:-1], len(steps) - 1)) if len(steps) > 1 else []
    )
    moments = [work_time(rng, created_day)] + [work_time(rng, d) for d in days]
    last_touch = work_time(rng, last_day, after=moments[-1])
    product = deals.products[template["product_id"]]
    row = {
        **template,
        "opportunity_id": opp_id,
        "opportunity_name": f"{template['opportunity_name'].split('-')[0]}-{product['product_name']}二期项目",
        "lead_id": None,
        "stage": deals.stages["lead"].name,
        "probability": deals.stages["lead"].probability,
        "expected_close_date": next_workday(created_day + timedelta(days=rng.randint(20, 45))),
        "closed_date": None,
        "loss_reason": None,
        "competitor": None,
        "next_step": "安排首次拜访",
        "created_at": moments[0],
        "updated_at": moments[0],
    }
    previous = None
    for key, at in zip(steps, moments, strict=True):
        stage = deals.stages[key]
        row = {**row, "stage": stage.name, "probability": stage.probability, "updated_at": at}
        tables["opportunities"].append(row)
        tables["opportunity_stage_history"].append(
            {
                "stage_change_id": change_ids.next(),
                "opportunity_id": opp_id,
                "from_stage": previous,
                "to_stage": stage.name,
                "amount": row["amount"],
                "changed_at": at,
                "changed_by": row["owner_rep_id"],
            }
        )
        previous = stage.name
    tables["opportunities"].append({**row, "next_step": "等待客户内部决策", "updated_at": last_touch})


# --- slipping_close_date ----------------------------------------------------------------------


@register("slipping_close_date")
def inject_slipping_dates(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """The promised signing date pushed later 3-5 times, each push on its own day. Look-alike: pushed once
    or twice. Only deals with no delivered push yet are used, so the count is exactly what was injected."""
    deals = _Deals(tables)
    candidates = []
    for opp_id, versions in sorted(deals.versions.items()):
        seen = _observed_versions(versions, tl)
        if not seen or postponements(versions, tl) > 0:
            continue
        first_day = max(seen[0]["updated_at"].date(), tl.start)
        closed = versions[-1]["closed_date"] is not None
        last_day = versions[-1]["updated_at"].date() - timedelta(days=1) if closed else tl.end
        days = _workdays(first_day + timedelta(days=1), last_day)
        if len(days) >= 8:
            candidates.append((opp_id, days))
    n_defects = _count(rng, DEFECTS_PER_CLASS)
    chosen = _sample(rng, candidates, n_defects + _count(rng, LOOK_ALIKES_PER_CLASS))
    labels = []
    for n, (opp_id, days) in enumerate(chosen):
        pushes = rng.randint(3, 5) if n < n_defects else rng.randint(1, 2)
        versions = deals.versions[opp_id]
        for day in sorted(rng.sample(days, pushes)):
            _push_close_date(tables, rng, versions, day)
        count = postponements(versions, tl)
        if count >= 3:
            labels.append(Label("slipping_close_date", "opportunities", opp_id, f"postponed {count} times"))
    return labels


def _push_close_date(
    tables: dict[str, list[dict]], rng: random.Random, versions: list[dict], day: date
) -> None:
    """A new version on `day` with the promised date 1-4 weeks later than any promised so far; later
    versions never promise an earlier date than that."""
    at = work_time(rng, day)
    while any(v["updated_at"] == at for v in versions):
        at += timedelta(seconds=1)
    before = [v for v in versions if v["updated_at"] < at]
    promised = max(v["expected_close_date"] for v in before)
    new_date = next_workday(promised + timedelta(days=rng.randint(7, 30)))
    version = {**before[-1], "expected_close_date": new_date, "updated_at": at}
    for v in versions:
        if v["updated_at"] > at and v["expected_close_date"] < new_date:
            v["expected_close_date"] = new_date
    versions.append(version)
    versions.sort(key=lambda r: r["updated_at"])
    tables["opportunities"].append(version)


# --- anomalous_amount -------------------------------------------------------------------------


@register("anomalous_amount")
def inject_anomalous_amounts(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """An open or lost deal's amount typed 15-40 times its product's median (extra zeros, unit price typed
    as the total). Look-alike: a deal 4-6 times the median from a customer whose budget covers it.

    The look-alikes go in first; the anomalies then use products whose median would hardly move if a few
    more large deals arrived (amounts cluster by quantity, and a median between two clusters jumps), and
    their amounts are set against the median as it ends up with every change of this class."""
    deals = _Deals(tables)
    history = _group(tables["opportunity_stage_history"], "opportunity_id", "changed_at")
    won = deals.stages["won"].name
    pool = sorted(
        opp_id
        for opp_id, row in deals.current.items()
        if row["stage"] != won and deals.is_plain(row) and row["updated_at"].date() >= tl.start
    )
    budgets = []
    for opp_id in pool:
        row = deals.current[opp_id]
        amount = int(round(rng.uniform(*LARGE_DEAL_MULTIPLE) * deals.median[row["product_id"]], -2))
        if (deals.customers[row["customer_id"]]["budget"] or 0) >= amount:
            budgets.append((opp_id, amount))
    large = _sample(rng, budgets, _count(rng, LOOK_ALIKES_PER_CLASS))
    for opp_id, amount in large:
        _set_amount(
            deals.versions[opp_id], history.get(opp_id, []), amount, rng.choice(deals.versions[opp_id])
        )
    stable = {p for p, amounts in _amounts_by_product(deals).items() if _median_is_stable(amounts)}
    taken = {opp_id for opp_id, _ in large}
    candidates = [o for o in pool if o not in taken and deals.current[o]["product_id"] in stable]
    chosen = [
        (o, rng.uniform(*ANOMALY_MULTIPLE), rng.choice(deals.versions[o]))
        for o in _sample(rng, candidates, _count(rng, DEFECTS_PER_CLASS))
    ]
    for opp_id, _, since in chosen:  # above every ordinary amount, so the medians below are final
        _set_amount(deals.versions[opp_id], history.get(opp_id, []), ANOMALY_PLACEHOLDER, since)
    medians = {p: median(a) for p, a in _amounts_by_product(deals).items()}
    labels = []
    for opp_id, multiple, since in chosen:
        amount = int(round(multiple * medians[deals.current[opp_id]["product_id"]], -2))
        _set_amount(deals.versions[opp_id], history.get(opp_id, []), amount, since)
        labels.append(Label("anomalous_amount", "opportunities", opp_id, f"{multiple:.1f} x median"))
    return labels


def _amounts_by_product(deals: _Deals) -> dict[str, list[float]]:
    amounts: dict[str, list[float]] = defaultdict(list)
    for versions in deals.versions.values():
        amounts[versions[-1]["product_id"]].append(versions[-1]["amount"])
    return amounts


def _median_is_stable(amounts: list[float]) -> bool:
    """The median would stay within STABLE_MEDIAN_RISE if MEDIAN_SHIFT_RANKS more values landed above it."""
    ordered = sorted(amounts)
    upper = ordered[min(len(ordered) - 1, len(ordered) // 2 + MEDIAN_SHIFT_RANKS)]
    return len(ordered) >= 10 and upper <= STABLE_MEDIAN_RISE * median(ordered)


def _set_amount(versions: list[dict], changes: list[dict], amount: int, since: dict) -> None:
    """From version `since` on (where the amount was entered) the deal and its stage changes carry it."""
    for row in (*versions, *changes):
        if row.get("updated_at", row.get("changed_at")) >= since["updated_at"]:
            row["amount"] = amount


# --- overpayment ------------------------------------------------------------------------------


@register("overpayment")
def inject_overpayments(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """A fully paid invoice receives its last payment twice (entered again, 0-5 days later) or an inflated
    last payment: the payment that takes the total above the invoice is labelled. Look-alike: an invoice
    paid in two parts that add up exactly to it."""
    invoices = _current(tables["invoices"], "invoice_id")
    paid = _group(tables["payments"], "invoice_id", "payment_date")
    settled = sorted(
        inv_id
        for inv_id, payments in paid.items()
        if inv_id in invoices
        and sum(p["payment_amount"] for p in payments) == invoices[inv_id]["invoice_amount"]
        and tl.start <= payments[-1]["payment_date"] <= tl.end - timedelta(days=8)
    )
    payment_ids = _Ids(tables["payments"], "payment_id", "PAY", 8)
    chosen = _sample(rng, settled, _count(rng, DEFECTS_PER_CLASS))
    labels = []
    for inv_id in chosen:
        last = paid[inv_id][-1]
        if rng.random() < 0.6:
            day = next_workday(last["payment_date"] + timedelta(days=rng.randint(0, 5)))
            crossing = {**last, "payment_id": payment_ids.next(), "payment_date": day}
            tables["payments"].append(crossing)
            note = "duplicated payment"
        else:
            extra = int(round(invoices[inv_id]["invoice_amount"] * rng.uniform(0.05, 1.0)))
            last["payment_amount"] += max(extra, 1)
            crossing, note = last, "inflated payment"
        labels.append(Label("overpayment", "payments", crossing["payment_id"], note))
    taken = set(chosen)
    single = [i for i in settled if i not in taken and len(paid[i]) == 1]
    for inv_id in _sample(rng, single, _count(rng, LOOK_ALIKES_PER_CLASS)):
        payment = paid[inv_id][0]
        first = int(round(payment["payment_amount"] * rng.uniform(0.3, 0.7)))
        rest = payment["payment_amount"] - first
        payment["payment_amount"] = first
        day = min(next_workday(payment["payment_date"] + timedelta(days=rng.randint(1, 7))), tl.end)
        tables["payments"].append(
            {**payment, "payment_id": payment_ids.next(), "payment_date": day, "payment_amount": rest}
        )
    return labels


# --- won_without_order ------------------------------------------------------------------------


@register("won_without_order")
def inject_won_without_order(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """A won deal whose ERP order never came: the order, its invoices, payments and collection plan lines
    are removed. Look-alike: a won deal whose order is entered two days after closing (at the end of the
    window its order has not arrived yet, still within the three days the rule allows)."""
    deals = _Deals(tables)
    won = deals.stages["won"].name
    orders = _group(tables["sales_orders"], "order_id", "updated_at")
    order_of = {v[0]["opportunity_id"]: oid for oid, v in orders.items() if v[0]["opportunity_id"]}
    orders_per_opp = Counter(v[0]["opportunity_id"] for v in orders.values())
    invoices_of = _group(tables["invoices"], "order_id", "updated_at")
    paid = _group(tables["payments"], "invoice_id", "payment_date")

    def untouched(opp: dict) -> bool:
        order_id = order_of.get(opp["opportunity_id"])
        if order_id is None or any(o["customer_id"] != opp["customer_id"] for o in orders[order_id]):
            return False
        if (
            orders_per_opp[opp["opportunity_id"]] != 1
            or orders[order_id][-1]["order_amount"] != opp["amount"]
        ):
            return False  # phased orders, or a won_amount_differs_from_order label lives there
        for inv in invoices_of.get(order_id, []):
            if sum(p["payment_amount"] for p in paid.get(inv["invoice_id"], [])) > inv["invoice_amount"]:
                return False  # an overpayment label lives there
        return True

    candidates = sorted(
        opp_id
        for opp_id, row in deals.current.items()
        if row["stage"] == won
        and tl.start <= row["closed_date"] <= tl.end - timedelta(days=6)
        and untouched(row)
    )
    chosen = _sample(rng, candidates, _count(rng, DEFECTS_PER_CLASS))
    drop_orders = {order_of[o] for o in chosen}
    drop_invoices = {i["invoice_id"] for o in drop_orders for i in invoices_of.get(o, [])}
    tables["sales_orders"][:] = [r for r in tables["sales_orders"] if r["order_id"] not in drop_orders]
    tables["invoices"][:] = [r for r in tables["invoices"] if r["invoice_id"] not in drop_invoices]
    tables["payments"][:] = [r for r in tables["payments"] if r["invoice_id"] not in drop_invoices]
    tables["collection_plan"][:] = [
        r for r in tables["collection_plan"] if r["invoice_id"] not in drop_invoices
    ]
    # Look-alikes: every deal won in the last three days, and a few earlier ones, have their order entered
    # two days after closing.
    taken = set(chosen)
    others = [o for o in candidates if o not in taken]
    late = [
        opp_id
        for opp_id, row in sorted(deals.current.items())
        if row["stage"] == won and row["closed_date"] >= tl.end - timedelta(days=3) and untouched(row)
    ]
    for opp_id in late + _sample(rng, others, 8):
        _enter_order_late(rng, orders[order_of[opp_id]], invoices_of.get(order_of[opp_id], []), days=2)
    return [Label("won_without_order", "opportunities", o, f"order {order_of[o]} removed") for o in chosen]


def _enter_order_late(rng: random.Random, versions: list[dict], invoices: list[dict], days: int) -> None:
    entered = work_time(rng, versions[0]["order_date"] + timedelta(days=days))
    versions[0]["updated_at"] = entered
    for later in versions[1:]:
        if later["updated_at"] <= entered:
            later["updated_at"] = entered + timedelta(minutes=rng.randint(5, 60))
    for inv in invoices:
        if inv["updated_at"] <= entered:
            inv["updated_at"] = entered + timedelta(minutes=rng.randint(5, 90))


# --- order_without_opportunity ----------------------------------------------------------------


@register("order_without_opportunity")
def inject_orders_without_opportunity(
    tables: dict[str, list[dict]], rng: random.Random, tl: Timeline
) -> list[Label]:
    """Orders (each with its invoice) entered straight into the ERP: no CRM opportunity number, or one the
    CRM never had. Look-alike: a deal won and entered into the CRM the day after its order was booked."""
    deals = _Deals(tables)
    orders = _current(tables["sales_orders"], "order_id")
    invoices = _group(tables["invoices"], "order_id", "updated_at")
    templates = sorted(
        (
            o
            for o in orders.values()
            if o["opportunity_id"] in deals.current
            and deals.is_plain(deals.current[o["opportunity_id"]])
            and o["order_id"] in invoices
        ),
        key=lambda o: o["order_id"],
    )
    order_ids = _Ids(tables["sales_orders"], "order_id", "SO", 8)
    invoice_ids = _Ids(tables["invoices"], "invoice_id", "INV", 8)
    n_defects = _count(rng, DEFECTS_PER_CLASS)
    unknown = _never_used_ids(rng, set(deals.current), "O", 7, n_defects)
    labels = []
    for n in range(n_defects):
        template = rng.choice(templates)
        day = _window_workday(rng, tl, last=tl.end - timedelta(days=1))
        opp_ref = None if n % 2 == 0 else unknown[n]
        invoice = invoices[template["order_id"]][0]
        order = _book_order(tables, rng, tl, template, invoice, order_ids, invoice_ids, day, opp_ref)
        labels.append(
            Label(
                "order_without_opportunity",
                "sales_orders",
                order["order_id"],
                f"opportunity_id {opp_ref or 'empty'}",
            )
        )
    opp_ids = _Ids(tables["opportunities"], "opportunity_id", "O", 7)
    change_ids = _Ids(tables["opportunity_stage_history"], "stage_change_id", "SH", 8)
    won = deals.stages["won"]
    for _ in range(_count(rng, LOOK_ALIKES_PER_CLASS)):
        template = rng.choice(templates)
        day = rng.choice([d for d in _workdays(tl.start, tl.end - timedelta(days=3)) if d.weekday() < 4])
        opp = deals.current[template["opportunity_id"]]
        opp_id = opp_ids.next()
        entered = work_time(rng, day + timedelta(days=1))
        row = {
            **opp,
            "opportunity_id": opp_id,
            "lead_id": None,
            "stage": won.name,
            "amount": template["order_amount"],
            "probability": 100,
            "expected_close_date": day,
            "closed_date": day,
            "next_step": "安排实施交付",
            "created_at": work_time(rng, day),
            "updated_at": entered,
        }
        tables["opportunities"].append(row)
        tables["opportunity_stage_history"].append(
            {
                "stage_change_id": change_ids.next(),
                "opportunity_id": opp_id,
                "from_stage": None,
                "to_stage": won.name,
                "amount": row["amount"],
                "changed_at": entered,
                "changed_by": row["owner_rep_id"],
            }
        )
        invoice = invoices[template["order_id"]][0]
        _book_order(tables, rng, tl, template, invoice, order_ids, invoice_ids, day, opp_id)
    return labels


def _book_order(
    tables: dict[str, list[dict]],
    rng: random.Random,
    tl: Timeline,
    template: dict,
    template_invoice: dict,
    order_ids: _Ids,
    invoice_ids: _Ids,
    day: date,
    opportunity_id: str | None,
) -> dict:
    """A new order like `template` for `opportunity_id`, booked on `day`, fulfilled 1-6 weeks later,
    invoiced within a week."""
    booked = work_time(rng, day)
    order = {
        **template,
        "order_id": order_ids.next(),
        "order_date": day,
        "opportunity_id": opportunity_id,
        "status": "open",
        "updated_at": booked,
    }
    tables["sales_orders"].append(order)
    delivered = work_time(rng, next_workday(day + timedelta(days=rng.randint(7, 40))))
    if delivered <= tl.end_ts:
        tables["sales_orders"].append({**order, "status": "fulfilled", "updated_at": delivered})
    invoice_day = next_workday(day + timedelta(days=rng.randint(0, 6)))
    terms = template_invoice["credit_terms_days"]
    tables["invoices"].append(
        {
            "invoice_id": invoice_ids.next(),
            "order_id": order["order_id"],
            "customer_id": order["customer_id"],
            "invoice_date": invoice_day,
            "credit_terms_days": terms,
            "due_date": invoice_day + timedelta(days=terms),
            "invoice_amount": order["order_amount"],
            "updated_at": work_time(rng, invoice_day, after=booked),
        }
    )
    return order


# --- orphan_reference -------------------------------------------------------------------------


@register("orphan_reference")
def inject_orphan_references(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """ERP references to ids that never existed: an order's customer, a payment's invoice (mistyped
    numbers, records deleted in the source). Look-alike: a payment whose invoice is entered in the ERP the
    day after the money arrived. A deal's unknown customer, product or owner are classes of their own
    (unknown_customer, unknown_product, unknown_rep: defects/references.py)."""
    deals = _Deals(tables)
    n = _count(rng, DEFECTS_PER_CLASS)
    per_kind = [n // 2 + (1 if k < n % 2 else 0) for k in range(2)]
    labels = []

    orders = _group(tables["sales_orders"], "order_id", "updated_at")
    order_pool = sorted(
        oid
        for oid, v in orders.items()
        if v[0]["updated_at"].date() >= tl.start
        and v[0]["opportunity_id"] in deals.current
        and deals.is_plain(deals.current[v[0]["opportunity_id"]])
    )
    chosen = _sample(rng, order_pool, per_kind[0])
    bad = _never_used_ids(rng, set(deals.customers), "C", 6, len(chosen))
    for order_id, customer_id in zip(chosen, bad, strict=True):
        for version in orders[order_id]:
            version["customer_id"] = customer_id
        labels.append(Label("orphan_reference", "sales_orders", order_id, f"customer {customer_id}"))

    invoices = _current(tables["invoices"], "invoice_id")
    payment_pool = sorted(
        (p for p in tables["payments"] if p["invoice_id"] in invoices and p["payment_date"] >= tl.start),
        key=lambda p: p["payment_id"],
    )
    chosen_payments = _sample(rng, payment_pool, per_kind[1])
    bad = _never_used_ids(rng, set(invoices), "INV", 8, len(chosen_payments))
    for payment, invoice_id in zip(chosen_payments, bad, strict=True):
        payment["invoice_id"] = invoice_id
        labels.append(Label("orphan_reference", "payments", payment["payment_id"], f"invoice {invoice_id}"))

    # Look-alikes: the invoice of a payment arrives one day after the payment.
    taken = {p["payment_id"] for p in chosen_payments}
    first_paid: dict[str, dict] = {}
    for p in sorted(tables["payments"], key=lambda p: (p["payment_date"], p["payment_id"])):
        first_paid.setdefault(p["invoice_id"], p)
    late = sorted(
        inv_id
        for inv_id, p in first_paid.items()
        if inv_id in invoices
        and p["payment_id"] not in taken
        and tl.start < p["payment_date"] <= tl.end - timedelta(days=3)
    )
    for inv_id in _sample(rng, late, _count(rng, LOOK_ALIKES_PER_CLASS)):
        entered = work_time(rng, first_paid[inv_id]["payment_date"] + timedelta(days=1))
        for version in tables["invoices"]:
            if version["invoice_id"] == inv_id:
                version["updated_at"] = entered
    return labels
