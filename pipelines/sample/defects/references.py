"""Labelled reference defects of the CRM deal, written from what reps and clerks do, not from the rules
(quality/DEFECTS.md): unknown_customer, unknown_product, unknown_rep, won_amount_differs_from_order.

Every record injected here is labelled on the opportunity: kind DEFECT (the rule must flag it as of the
last delivery day) or LOOK_ALIKE (a legitimate case the rule must leave alone). Each label's note says
what happened, `<case>: <detail>`, so the evaluation can say which cases were missed or wrongly flagged.

Fabricated deals are open and were last touched within 60 days of the end (no zombie), start at the lead
stage (no stage jump) and keep their promised date (no slipping); ERP documents are whole yuan.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from pipelines.sample.defects import DEFECT, LOOK_ALIKE, Label, register
from pipelines.sample.defects.deals_erp import (
    DEFECTS_PER_CLASS,
    LOOK_ALIKES_PER_CLASS,
    _book_order,
    _count,
    _current,
    _Deals,
    _group,
    _Ids,
    _sample,
    _workdays,
)
from pipelines.sample.generator.common import Timeline, next_workday, work_time
from pipelines.sample.generator.company import mobile

# A pinyin input method offers the character that sounds the same: 模快 for 模块, 系铳 for 系统.
HOMOPHONES = {
    "块": "快", "统": "通", "理": "里", "器": "气", "制": "治", "务": "物", "台": "抬", "源": "原",
    "服": "福", "份": "分", "联": "连", "墙": "强", "换": "唤", "审": "申", "计": "记", "控": "空",
    "训": "讯", "询": "讯", "维": "为", "视": "事", "检": "减", "测": "侧", "装": "状", "核": "合",
}  # fmt: skip
NEW_NAME_CHARS = "瑞丰澜川启衡锦拓睿远翔宸嘉朗泓璟骏峻沐钧"
NEW_NAME_WORDS = ("科技", "实业", "机电", "精工", "智造", "贸易")
ADMIN_ID_MANGLING = ("lower_case", "lost_zero")


def _label(cls: str, opp_id: str, note: str, kind: str = DEFECT) -> Label:
    return Label(cls, "opportunities", opp_id, note, kind)


def _templates(deals: _Deals) -> list[dict]:
    """Ordinary deals of the simulation (converted from a lead, known references, plain amount) whose
    rep carries a quota: the pattern for fabricated deals."""
    return sorted(
        (
            r
            for r in deals.current.values()
            if r["lead_id"] and deals.is_plain(r) and r["owner_rep_id"] in deals.quota_reps
        ),
        key=lambda r: r["opportunity_id"],
    )


def _open_deal(
    tables: dict[str, list[dict]],
    rng: random.Random,
    deals: _Deals,
    template: dict,
    opp_id: str,
    created: datetime,
    change_ids: _Ids,
    tl: Timeline,
    fields: dict | None = None,
    later: dict | None = None,
) -> None:
    """A new deal like `template` (with `fields` changed) created at `created` at the lead stage, moved to
    needs discovery 1-6 working days later with `later` applied (a reassignment, a customer filled in).
    Versions after the end of the window are kept: they are simply not delivered yet."""
    lead, discovery = deals.stages["lead"], deals.stages["discovery"]
    product = deals.products.get(template["product_id"])
    row = {
        **template,
        "opportunity_id": opp_id,
        "opportunity_name": f"{template['opportunity_name'].split('-')[0]}-"
        f"{product['product_name'] if product else '新'}项目",
        "lead_id": None,
        "stage": lead.name,
        "probability": lead.probability,
        "expected_close_date": next_workday(created.date() + timedelta(days=rng.randint(30, 60))),
        "closed_date": None,
        "loss_reason": None,
        "competitor": None,
        "next_step": "安排首次拜访",
        "created_at": created,
        "updated_at": created,
        **(fields or {}),
    }
    moved = work_time(rng, next_workday(created.date() + timedelta(days=rng.randint(1, 6))), after=created)
    second = {
        **row,
        "stage": discovery.name,
        "probability": discovery.probability,
        "next_step": "需求调研",
        "updated_at": moved,
        **(later or {}),
    }
    tables["opportunities"] += [row, second]
    for at, before, after, by in ((created, None, row, row), (moved, row["stage"], second, second)):
        tables["opportunity_stage_history"].append(
            {
                "stage_change_id": change_ids.next(),
                "opportunity_id": opp_id,
                "from_stage": before,
                "to_stage": after["stage"],
                "amount": after["amount"],
                "changed_at": at,
                "changed_by": by["owner_rep_id"],
            }
        )


def _recent_moment(rng: random.Random, tl: Timeline, days_before_end: tuple[int, int]) -> datetime:
    first, last = (tl.end - timedelta(days=d) for d in reversed(days_before_end))
    first, last = max(first, tl.start), max(last, tl.start)  # a short window: as early as it goes
    days = _workdays(first, last) or [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return work_time(rng, rng.choice(days))


# --- unknown_customer --------------------------------------------------------------------------


@register("unknown_customer")
def inject_unknown_customers(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """Deals with no known customer, as reps make them:
    - new_account_pending (defect): a deal for a brand-new company entered in the last two days; the account
      is created in the CRM three days after the deal, so it has not arrived by the last delivery;
    - left_empty (defect): a prospect the rep never created an account for, customer left empty;
    - mistyped_id (defect): the rep typed the account number with two digits swapped (C001234 -> C001324).
    Look-alikes: new_account_arrived (the same new-company deal entered earlier: its account arrived three
    days later and resolves it) and filled_in_later (saved without a customer, filled in on the next edit)."""
    deals = _Deals(tables)
    templates = _templates(deals)
    opp_ids = _Ids(tables["opportunities"], "opportunity_id", "O", 7)
    change_ids = _Ids(tables["opportunity_stage_history"], "stage_change_id", "SH", 8)
    customer_ids = _Ids(tables["customers"], "customer_id", "C", 6)
    names = _NewNames(rng, [c["customer_name"] for c in tables["customers"]])
    labels = []
    n_defects, n_alikes = _count(rng, DEFECTS_PER_CLASS), _count(rng, LOOK_ALIKES_PER_CLASS)
    for n in range(n_defects + n_alikes):
        template, opp_id = rng.choice(templates), opp_ids.next()
        case = (
            ("new_account_pending", "left_empty", "mistyped_id")[n % 3]
            if n < n_defects
            else ("new_account_arrived", "filled_in_later")[n % 2]
        )
        fields: dict = {}
        later: dict = {}
        if case in ("new_account_pending", "new_account_arrived"):
            created = _recent_moment(rng, tl, (0, 2) if case == "new_account_pending" else (10, 55))
            customer = _new_customer(rng, deals, template, customer_ids.next(), names.make(template))
            customer["created_at"] = customer["updated_at"] = work_time(
                rng, created.date() + timedelta(days=3)
            )
            tables["customers"].append(customer)
            fields = {"customer_id": customer["customer_id"]}
            detail = f"{customer['customer_id']} created {customer['created_at']:%Y-%m-%d}"
        elif case == "left_empty":
            created = _recent_moment(rng, tl, (2, 55))
            fields, later, detail = {"customer_id": None}, {"customer_id": None}, "customer_id empty"
        elif case == "mistyped_id":
            created = _recent_moment(rng, tl, (2, 55))
            typed = _swapped_digits(rng, template["customer_id"], set(deals.customers))
            fields, later = {"customer_id": typed}, {"customer_id": typed}
            detail = f"{typed} typed for {template['customer_id']}"
        else:  # filled_in_later
            created = _recent_moment(rng, tl, (10, 55))
            fields, later = {"customer_id": None}, {"customer_id": template["customer_id"]}
            detail = f"customer {template['customer_id']} filled in on the next edit"
        _open_deal(tables, rng, deals, template, opp_id, created, change_ids, tl, fields, later)
        labels.append(
            _label("unknown_customer", opp_id, f"{case}: {detail}", DEFECT if n < n_defects else LOOK_ALIKE)
        )
    return labels


class _NewNames:
    """Names of companies new to the CRM: a city, two characters no account's name has, a trade word."""

    def __init__(self, rng: random.Random, existing: list[str]):
        self.rng, self.existing = rng, existing

    def make(self, template: dict) -> str:
        for _ in range(200):
            core = "".join(self.rng.sample(NEW_NAME_CHARS, 2)) + self.rng.choice(NEW_NAME_WORDS)
            if not any(core[:2] in name for name in self.existing):
                self.existing.append(core)
                return core
        raise RuntimeError("no new customer name left")  # pragma: no cover


def _new_customer(rng: random.Random, deals: _Deals, template: dict, customer_id: str, core: str) -> dict:
    model = deals.customers[template["customer_id"]]
    return {
        **model,
        "customer_id": customer_id,
        "customer_name": f"{model['city']}{core}有限公司",
        "tier": "普通",
        "channel": "转介绍",
        "owner_rep_id": template["owner_rep_id"],
        "contact_mobile": mobile(rng),
    }


def _swapped_digits(rng: random.Random, customer_id: str, known: set[str]) -> str:
    digits = customer_id[1:]
    options = [i for i in range(len(digits) - 1) if digits[i] != digits[i + 1]]
    for i in rng.sample(options, len(options)):
        typed = f"C{digits[:i]}{digits[i + 1]}{digits[i]}{digits[i + 2 :]}"
        if typed not in known:
            return typed
    return f"C{int(digits) + 900000:06d}"[:7]  # pragma: no cover - every swap names an account


# --- unknown_product ---------------------------------------------------------------------------


@register("unknown_product")
def inject_unknown_products(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """The rep keys the product by hand instead of picking it:
    - one edit away (defect): the name with a pinyin homophone (供应链管理模快), two letters swapped
      (企业版EPR) or a character left out (人力资源模), or the code with the letter O for a zero (PO012)
      or a zero left out (P012);
    - far (defect): the name written another way (企业版ＥＲＰ in full-width letters, 数据中台软件).
    Note `<case>: <typed> for <product_id> <product_name>`.
    Look-alikes: retired_product (a deal for the product no longer sold, still in the catalogue) and
    new_product (a product launched in the window: the deal is entered the day before its catalogue row)."""
    deals = _Deals(tables)
    templates = _templates(deals)
    opp_ids = _Ids(tables["opportunities"], "opportunity_id", "O", 7)
    change_ids = _Ids(tables["opportunity_stage_history"], "stage_change_id", "SH", 8)
    catalogue = sorted(deals.products.values(), key=lambda p: p["product_id"])
    known = {p["product_id"] for p in catalogue}
    labels = []
    for n in range(_count(rng, DEFECTS_PER_CLASS)):
        template = rng.choice(templates)
        product = deals.products[template["product_id"]]
        case, typed = _mistyped_product(rng, product, n, known)
        opp_id = opp_ids.next()
        fields = {"product_id": typed}
        created = _recent_moment(rng, tl, (1, 55))
        _open_deal(tables, rng, deals, template, opp_id, created, change_ids, tl, fields, fields)
        note = f"{case}: {typed} for {product['product_id']} {product['product_name']}"
        labels.append(_label("unknown_product", opp_id, note))
    retired = [p for p in catalogue if not p["is_active"]]
    launched = _launch_products(tables, rng, tl, catalogue)
    for n in range(_count(rng, LOOK_ALIKES_PER_CLASS)):
        template, opp_id = rng.choice(templates), opp_ids.next()
        if n % 2 == 0 and retired:
            product, created = retired[0], _recent_moment(rng, tl, (2, 55))
            case = "retired_product"
        else:
            product = launched[n % len(launched)]
            catalogued = product["updated_at"]
            created = work_time(rng, catalogued.date() - timedelta(days=1))
            case = f"new_product catalogued {catalogued:%Y-%m-%d}"
        # priced like the product, so its median is an ordinary one, and within what the customer can
        # spend (anomalous_amount)
        units = rng.randint(1, 3)
        budget = deals.customers[template["customer_id"]].get("budget") or 0
        while units > 1 and product["list_price"] * units > 2 * budget:
            units -= 1
        fields = {"product_id": product["product_id"], "amount": product["list_price"] * units}
        _open_deal(tables, rng, deals, template, opp_id, created, change_ids, tl, fields, fields)
        labels.append(_label("unknown_product", opp_id, f"{case}: {product['product_id']}", LOOK_ALIKE))
    return labels


def _mistyped_product(rng: random.Random, product: dict, n: int, known: set[str]) -> tuple[str, str]:
    name, code = product["product_name"], product["product_id"]
    kinds = ["homophone", "swapped", "dropped_char", "letter_o", "dropped_zero", "far"]
    for kind in kinds[n % len(kinds) :] + kinds:
        typed = None
        if kind == "homophone":
            spots = [i for i, ch in enumerate(name) if ch in HOMOPHONES]
            if spots:
                i = rng.choice(spots)
                typed = name[:i] + HOMOPHONES[name[i]] + name[i + 1 :]
        elif kind == "swapped":
            spots = [i for i in range(len(name) - 1) if name[i] != name[i + 1]]
            i = rng.choice(spots)
            typed = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        elif kind == "dropped_char" and len(name) >= 4:
            i = rng.randrange(1, len(name))
            typed = name[:i] + name[i + 1 :]
        elif kind == "letter_o":
            zeros = [i for i, ch in enumerate(code) if ch == "0"]
            i = rng.choice(zeros)
            typed = code[:i] + "O" + code[i + 1 :]
        elif kind == "dropped_zero":
            typed = code.replace("0", "", 1)
        elif kind == "far":
            if any("A" <= ch <= "Z" for ch in name):
                typed = "".join(chr(ord(ch) + 0xFEE0) if "A" <= ch <= "Z" else ch for ch in name)
            else:
                typed = name + "软件"
        if typed and typed not in known:
            return kind, typed
    raise RuntimeError(f"no typo for {code}")  # pragma: no cover


def _launch_products(
    tables: dict[str, list[dict]], rng: random.Random, tl: Timeline, catalogue: list[dict]
) -> list[dict]:
    """Two products added to the catalogue in the window (their rows first delivered on launch day)."""
    ids = _Ids(catalogue, "product_id", "P", 4)
    launched = []
    for name, model in (("边缘计算网关", catalogue[6]), ("数字孪生平台", catalogue[14])):
        day = rng.choice(_workdays(tl.end - timedelta(days=50), tl.end - timedelta(days=5)))
        product = {**model, "product_id": ids.next(), "product_name": name, "is_active": True}
        product["updated_at"] = work_time(rng, day)
        tables["products"].append(product)
        launched.append(product)
    return launched


# --- unknown_rep -------------------------------------------------------------------------------


@register("unknown_rep")
def inject_unknown_reps(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline) -> list[Label]:
    """Deals whose owner is nobody in the reps list:
    - departed_deleted (defect): a rep who left 20-80 days ago and whose CRM user was deleted; the open
      deals he was working on still name him;
    - admin_import (defect): an administrator reassigned deals with a spreadsheet import that mangled the
      rep number (r0012 in lower case; R012, a zero lost).
    Look-alikes: departed_kept (a rep who left before the window, user kept with a leave date, owning his
    lost deals) and reassigned (a deleted rep's deal handed to a current rep on the next edit)."""
    deals = _Deals(tables)
    templates = _templates(deals)
    opp_ids = _Ids(tables["opportunities"], "opportunity_id", "O", 7)
    change_ids = _Ids(tables["opportunity_stage_history"], "stage_change_id", "SH", 8)
    rep_ids = _Ids(tables["reps"], "rep_id", "R", 4)
    deleted = [rep_ids.next() for _ in range(2)]
    left_on = {r: tl.end - timedelta(days=rng.randint(20, 70)) for r in deleted}
    labels = []
    n_defects = _count(rng, DEFECTS_PER_CLASS)
    for n in range(n_defects):
        template, opp_id = rng.choice(templates), opp_ids.next()
        if n % 3 < 2:
            rep = deleted[n % 2]
            since = (tl.end - left_on[rep]).days
            created = _recent_moment(rng, tl, (since + 9, since + 12))  # last edited before he left
            fields = {"owner_rep_id": rep}
            later = fields
            note = f"departed_deleted: {rep} left {left_on[rep]}"
        else:
            created = _recent_moment(rng, tl, (3, 55))
            owner = template["owner_rep_id"]
            typed = owner.lower() if n % 2 else owner.replace("0", "", 1)
            fields, later = {}, {"owner_rep_id": typed}
            note = f"admin_import: {typed} for {owner}"
        _open_deal(tables, rng, deals, template, opp_id, created, change_ids, tl, fields, later)
        labels.append(_label("unknown_rep", opp_id, note))
    kept = _former_rep(tables, rng, tl, deals, rep_ids.next())
    lost = deals.stages["lost"]
    for n in range(_count(rng, LOOK_ALIKES_PER_CLASS)):
        template, opp_id = rng.choice(templates), opp_ids.next()
        if n % 2 == 0:
            closed = tl.start - timedelta(days=rng.randint(5, 60))
            row = {
                **template,
                "opportunity_id": opp_id,
                "lead_id": None,
                "owner_rep_id": kept["rep_id"],
                "stage": lost.name,
                "probability": 0,
                "closed_date": closed,
                "loss_reason": "价格",
                "created_at": work_time(rng, closed - timedelta(days=rng.randint(20, 60))),
                "updated_at": work_time(rng, closed),
            }
            tables["opportunities"].append(row)
            note = f"departed_kept: {kept['rep_id']} left {kept['leave_date']}"
        else:
            rep = deleted[n % 4 // 2]
            created = _recent_moment(rng, tl, (5, 55))
            fields, later = {"owner_rep_id": rep}, {"owner_rep_id": template["owner_rep_id"]}
            _open_deal(tables, rng, deals, template, opp_id, created, change_ids, tl, fields, later)
            note = f"reassigned: from {rep} to {template['owner_rep_id']}"
        labels.append(_label("unknown_rep", opp_id, note, LOOK_ALIKE))
    return labels


def _former_rep(tables: dict[str, list[dict]], rng: random.Random, tl: Timeline, deals: _Deals, rep_id: str):
    """A quota rep who left before the window; his CRM user is kept (reps list, with the leave date)."""
    model = next(r for r in sorted(tables["reps"], key=lambda r: r["rep_id"]) if r["role"] == "rep")
    left = tl.start - timedelta(days=rng.randint(1, 4))
    hired = left - timedelta(days=rng.randint(400, 900))
    row = {
        **model,
        "rep_id": rep_id,
        "rep_name": model["rep_name"][0] + "离职",
        "mobile": mobile(rng),
        "hire_date": hired,
        "leave_date": left,
        "updated_at": datetime.combine(left, datetime.min.time()).replace(hour=18),
    }
    tables["reps"].append(row)
    return row


# --- won_amount_differs_from_order -------------------------------------------------------------


@register("won_amount_differs_from_order")
def inject_won_amount_differences(
    tables: dict[str, list[dict]], rng: random.Random, tl: Timeline
) -> list[Label]:
    """Won deals whose CRM amount is not what the ERP booked:
    - erp_discount (defect): the order clerk keyed the discount agreed at signing (3-15%) into the ERP
      order; the rep never updated the CRM deal, which still shows the quoted amount;
    - crm_digits_swapped (defect): at closing the rep typed the amount with two digits swapped.
    Look-alikes: two_phases (a deal delivered and invoiced in two phases: two orders that add up to it),
    credit_note (a unit returned after invoicing: a negative invoice, the order unchanged) and prepayment
    (a deposit paid the day the order is booked, before its invoice)."""
    deals = _Deals(tables)
    won = deals.stages["won"].name
    orders = _group(tables["sales_orders"], "order_id", "updated_at")
    orders_of = _group(
        (v[0] for v in orders.values() if v[0]["opportunity_id"]), "opportunity_id", "order_id"
    )
    invoices_of = _group(tables["invoices"], "order_id", "updated_at")
    paid = _group(tables["payments"], "invoice_id", "payment_date")
    history = _group(tables["opportunity_stage_history"], "opportunity_id", "changed_at")

    def ordinary(opp_id: str, row: dict) -> bool:
        placed = orders_of.get(opp_id, [])
        if len(placed) != 1 or not deals.is_plain(row) or row["stage"] != won:
            return False
        versions = orders[placed[0]["order_id"]]
        invoices = invoices_of.get(placed[0]["order_id"], [])
        return (
            all(
                o["customer_id"] == row["customer_id"] and o["order_amount"] == row["amount"]
                for o in versions
            )
            and bool(invoices)
            and all(
                sum(p["payment_amount"] for p in paid.get(i["invoice_id"], [])) <= i["invoice_amount"]
                for i in invoices
            )
            and tl.start <= row["closed_date"] <= tl.end - timedelta(days=8)
        )

    pool = sorted(o for o, row in deals.current.items() if ordinary(o, row))
    n_defects, n_alikes = _count(rng, DEFECTS_PER_CLASS), _count(rng, LOOK_ALIKES_PER_CLASS)
    chosen = _sample(rng, pool, n_defects + n_alikes // 3)
    labels = []
    for n, opp_id in enumerate(chosen[:n_defects]):
        order = orders_of[opp_id][0]
        versions, changes = deals.versions[opp_id], history.get(opp_id, [])
        if n % 3 < 2 or _swap_two_digits(rng, int(order["order_amount"])) is None:
            discount = rng.uniform(0.03, 0.15)
            quoted = int(round(order["order_amount"] / (1 - discount), -2))
            for row in (*versions, *changes):
                row["amount"] = quoted
            note = f"erp_discount: CRM {quoted}, order {order['order_amount']} ({discount:.0%} off)"
        else:
            typed = _swap_two_digits(rng, int(order["order_amount"]))
            for row in versions:
                if row["stage"] == won:
                    row["amount"] = typed
            for row in changes:
                if row["to_stage"] == won:
                    row["amount"] = typed
            note = f"crm_digits_swapped: CRM {typed}, order {order['order_amount']}"
        labels.append(_label("won_amount_differs_from_order", opp_id, note))
    invoice_ids = _Ids(tables["invoices"], "invoice_id", "INV", 8)
    for opp_id in chosen[n_defects:]:
        invoice = invoices_of[orders_of[opp_id][0]["order_id"]][-1]
        credit = -max(1, int(round(invoice["invoice_amount"] * rng.uniform(0.05, 0.15))))
        day = min(next_workday(invoice["invoice_date"] + timedelta(days=rng.randint(10, 30))), tl.end)
        tables["invoices"].append(
            {
                **invoice,
                "invoice_id": invoice_ids.next(),
                "invoice_date": day,
                "credit_terms_days": 0,
                "due_date": day,
                "invoice_amount": credit,
                "updated_at": work_time(rng, day),
            }
        )
        labels.append(_label("won_amount_differs_from_order", opp_id, f"credit_note: {credit}", LOOK_ALIKE))
    labels += _phased_deals(tables, rng, tl, deals, n_alikes - len(chosen[n_defects:]), invoice_ids)
    return labels


def _swap_two_digits(rng: random.Random, amount: int) -> int | None:
    digits = str(amount)
    spots = [i for i in range(len(digits) - 1) if digits[i] != digits[i + 1] and (i > 0 or digits[1] != "0")]
    if not spots:
        return None
    i = rng.choice(spots)
    return int(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :])


def _phased_deals(
    tables: dict[str, list[dict]], rng: random.Random, tl: Timeline, deals: _Deals, n: int, invoice_ids: _Ids
) -> list[Label]:
    """Won deals delivered in two phases: two orders (units split, same price), each invoiced; every
    third one's customer pays a deposit on the first order the day it is booked, before the invoice."""
    orders = _current(tables["sales_orders"], "order_id")
    invoices = _group(tables["invoices"], "order_id", "updated_at")
    templates = sorted(
        (
            o
            for o in orders.values()
            if o["quantity"] >= 2
            and o["order_id"] in invoices
            and o["opportunity_id"] in deals.current
            and deals.is_plain(deals.current[o["opportunity_id"]])
            and o["customer_id"] in deals.customers  # not an order orphan_reference gave a made-up customer
        ),
        key=lambda o: o["order_id"],
    )
    opp_ids = _Ids(tables["opportunities"], "opportunity_id", "O", 7)
    change_ids = _Ids(tables["opportunity_stage_history"], "stage_change_id", "SH", 8)
    order_ids = _Ids(tables["sales_orders"], "order_id", "SO", 8)
    payment_ids = _Ids(tables["payments"], "payment_id", "PAY", 8)
    won = deals.stages["won"]
    labels = []
    for k in range(n if templates else 0):
        template = rng.choice(templates)
        first = template["quantity"] // 2
        day = rng.choice(_workdays(tl.start, max(tl.start, tl.end - timedelta(days=50))) or [tl.start])
        second_day = next_workday(day + timedelta(days=rng.randint(14, 40)))
        amount = template["quantity"] * template["unit_price"]
        opp_id = opp_ids.next()
        entered = work_time(rng, day)
        opp = deals.current[template["opportunity_id"]]
        row = {
            **opp,
            "opportunity_id": opp_id,
            "lead_id": None,
            "stage": won.name,
            "amount": amount,
            "probability": 100,
            "expected_close_date": day,
            "closed_date": day,
            "next_step": "分两期交付",
            "created_at": entered,
            "updated_at": entered,
        }
        tables["opportunities"].append(row)
        tables["opportunity_stage_history"].append(
            {
                "stage_change_id": change_ids.next(),
                "opportunity_id": opp_id,
                "from_stage": None,
                "to_stage": won.name,
                "amount": amount,
                "changed_at": entered,
                "changed_by": row["owner_rep_id"],
            }
        )
        template_invoice = invoices[template["order_id"]][0]
        for units, on in ((first, day), (template["quantity"] - first, second_day)):
            phase = {**template, "quantity": units, "order_amount": units * template["unit_price"]}
            _book_order(tables, rng, tl, phase, template_invoice, order_ids, invoice_ids, on, opp_id)
        note = f"two_phases: {first} + {template['quantity'] - first} units"
        if k % 3 == 0:
            invoice = tables["invoices"][-2]  # the first phase's
            deposit = int(round(invoice["invoice_amount"] * 0.3))
            tables["payments"].append(
                {
                    "payment_id": payment_ids.next(),
                    "invoice_id": invoice["invoice_id"],
                    "customer_id": invoice["customer_id"],
                    "payment_date": day,
                    "payment_amount": deposit,
                    "method": "银行转账",
                }
            )
            note = f"prepayment: deposit {deposit} on {day}, invoice {invoice['invoice_date']}; {note}"
        labels.append(_label("won_amount_differs_from_order", opp_id, note, LOOK_ALIKE))
    return labels
