"""The ERP side: one order per won deal, invoices, payments and the weekly collection plan."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from pipelines.sample.generator.common import (
    Timeline,
    is_workday,
    monday_of,
    next_workday,
    rng_for,
    weighted,
    work_time,
)
from pipelines.sample.generator.company import Customer
from pipelines.sample.generator.pipeline import Opportunity

METHODS = {"银行转账": 80, "承兑汇票": 15, "支票": 5}
HANDED_TO_LEGAL_AFTER_DAYS = 90  # so far overdue that it leaves the weekly plan (legal / bad debt)
SPLIT_INVOICE_FROM = 500_000  # large orders are often billed as deposit + balance
DEPOSIT_SHARE = 0.3
# Why an overdue collection is at risk, by how the customer pays. Controllable reasons (our own
# process): 发票信息错误, 验收未完成, 催收未跟进; the others are the customer's.
RISK_REASONS = {
    "never": {"客户资金紧张": 50, "合同条款争议": 30, "验收未完成": 20},
    "late": {
        "客户内部审批延迟": 30,
        "客户资金紧张": 20,
        "发票信息错误": 15,
        "验收未完成": 15,
        "催收未跟进": 20,
    },
    "drift": {"客户资金紧张": 40, "客户内部审批延迟": 40, "催收未跟进": 20},
    "other": {"催收未跟进": 35, "发票信息错误": 25, "客户内部审批延迟": 25, "验收未完成": 15},
}


@dataclass
class Invoice:
    invoice_id: str
    order: dict
    customer: Customer
    invoiced_at: datetime
    terms: int
    amount: int
    risk_reason: str
    at_risk: bool  # a slow payer's invoice is flagged already in the week it falls due
    payments: list[dict] = field(default_factory=list)

    @property
    def invoice_date(self) -> date:
        return self.invoiced_at.date()

    @property
    def due_date(self) -> date:
        return self.invoice_date + timedelta(days=self.terms)

    def paid_before(self, d: date) -> int:
        return sum(p["payment_amount"] for p in self.payments if p["payment_date"] < d)

    @property
    def settled_on(self) -> date | None:
        """The day the last part was paid, None while anything is open."""
        if sum(p["payment_amount"] for p in self.payments) < self.amount:
            return None
        return max(p["payment_date"] for p in self.payments)


@dataclass
class Erp:
    orders: list[dict]  # every version of every order
    invoices: list[Invoice]
    payments: list[dict]
    collection_plan: list[dict]


def build_erp(seed: int, won: list[Opportunity], timeline: Timeline) -> Erp:
    rng = rng_for(seed, "erp")
    orders, first_versions = _orders(rng, won, timeline)
    invoices = _invoices(rng, first_versions, won, timeline)
    payments = _payments(rng_for(seed, "payments"), invoices, timeline)
    plan = _collection_plan(rng_for(seed, "collection-plan"), invoices, timeline)
    return Erp(orders, invoices, payments, plan)


def _orders(rng: random.Random, won: list[Opportunity], tl: Timeline) -> tuple[list[dict], list[dict]]:
    """Exactly one order per won deal, booked the day it was won, for exactly the deal's amount."""
    versions, firsts = [], []
    for i, opp in enumerate(sorted(won, key=lambda o: (o.won_at, o.opportunity_id)), 1):
        booked = min(
            opp.won_at + timedelta(minutes=rng.randrange(30, 180)), datetime.combine(opp.won_at, time(23, 0))
        )
        order = {
            "order_id": f"SO{i:08d}",
            "order_date": opp.won_at.date(),
            "customer_id": opp.customer.customer_id,
            "opportunity_id": opp.opportunity_id,
            "rep_id": opp.owner.rep_id,
            "product_id": opp.product.product_id,
            "quantity": opp.quantity,
            "unit_price": opp.unit_price,
            "order_amount": opp.amount,
            "status": "open",
            "updated_at": booked,
        }
        versions.append(order)
        firsts.append(order)
        delivered = work_time(rng, next_workday(order["order_date"] + timedelta(days=rng.randrange(7, 41))))
        if delivered <= tl.end_ts:
            versions.append({**order, "status": "fulfilled", "updated_at": delivered})
    return versions, firsts


def _invoice_day(rng: random.Random, order_date: date, lo: int, hi: int) -> date:
    """A working day lo..hi days after the order (the order day itself is a working day)."""
    options = [order_date + timedelta(days=k) for k in range(lo, hi + 1)]
    return rng.choice([d for d in options if is_workday(d)] or [order_date])


def _invoices(rng: random.Random, orders: list[dict], won: list[Opportunity], tl: Timeline) -> list[Invoice]:
    customers = {o.customer.customer_id: o.customer for o in won}
    drafts = []
    for order in orders:
        customer = customers[order["customer_id"]]
        amount = order["order_amount"]
        if amount >= SPLIT_INVOICE_FROM and rng.random() < 0.6:
            deposit = int(round(amount * DEPOSIT_SHARE))
            parts = [
                (deposit, _invoice_day(rng, order["order_date"], 0, 3)),
                (amount - deposit, _invoice_day(rng, order["order_date"], 4, 10)),
            ]
        else:
            parts = [(amount, _invoice_day(rng, order["order_date"], 0, 10))]
        for part, day in parts:
            ts = work_time(rng, day, after=order["updated_at"] if day == order["order_date"] else None)
            reasons = RISK_REASONS.get(customer.pay_behaviour, RISK_REASONS["other"])
            at_risk = customer.pay_behaviour in ("never", "late", "drift") and rng.random() < 0.5
            drafts.append((order, customer, ts, customer.credit_terms, part, weighted(rng, reasons), at_risk))
    drafts = [d for d in drafts if d[2] <= tl.end_ts]
    drafts.sort(key=lambda d: (d[2], d[0]["order_id"]))
    return [Invoice(f"INV{i:08d}", *d) for i, d in enumerate(drafts, 1)]


def _payments(rng: random.Random, invoices: list[Invoice], tl: Timeline) -> list[dict]:
    drafts = []
    for inv in invoices:
        behaviour = inv.customer.pay_behaviour
        due = inv.due_date
        if behaviour == "never":
            continue
        if behaviour == "drift":  # the cycle slides from ~30 to ~60 days over the simulated period
            cycle = 30 + 30 * tl.fraction(inv.invoice_date) + rng.uniform(-4, 4)
            parts = [(inv.amount, inv.invoice_date + timedelta(days=round(cycle)))]
        elif behaviour == "late":  # 10-90 days late, mostly 2-4 weeks
            parts = [(inv.amount, due + timedelta(days=round(min(90.0, 10 + rng.expovariate(1 / 18)))))]
        elif behaviour == "ontime" and rng.random() < 0.08:  # even good payers slip now and then
            parts = [(inv.amount, due + timedelta(days=rng.randrange(3, 21)))]
        elif behaviour == "split":
            first = int(round(inv.amount * rng.uniform(0.4, 0.7)))
            first_day = due + timedelta(days=rng.randrange(-5, 6))
            parts = [
                (first, first_day),
                (inv.amount - first, first_day + timedelta(days=rng.randrange(15, 46))),
            ]
        else:  # good payers pay around the due date (rarely early in B2B), so mostly in the planned week
            parts = [(inv.amount, due + timedelta(days=rng.randrange(-3, 4)))]
        previous = inv.invoice_date
        for amount, day in parts:
            day = next_workday(max(day, previous + timedelta(days=1)))
            previous = day
            if day <= tl.end:
                drafts.append((day, inv, amount, weighted(rng, METHODS)))
    drafts.sort(key=lambda d: (d[0], d[1].invoice_id))
    rows = []
    for i, (day, inv, amount, method) in enumerate(drafts, 1):
        row = {
            "payment_id": f"PAY{i:08d}",
            "invoice_id": inv.invoice_id,
            "customer_id": inv.order["customer_id"],
            "payment_date": day,
            "payment_amount": amount,
            "method": method,
        }
        inv.payments.append(row)
        rows.append(row)
    return rows


def _collection_plan(rng: random.Random, invoices: list[Invoice], tl: Timeline) -> list[dict]:
    """Every Monday: one line per open invoice that falls due that week or is overdue."""
    by_due = sorted(invoices, key=lambda inv: (inv.due_date, inv.invoice_id))
    settled = {inv.invoice_id: inv.settled_on for inv in by_due}
    rows, active, taken = [], [], 0
    monday = monday_of(tl.start)
    while monday <= tl.end:
        week_end = monday + timedelta(days=6)
        stamp = datetime.combine(monday, time(8, 0)) + timedelta(
            minutes=rng.randrange(60), seconds=rng.randrange(60)
        )
        while taken < len(by_due) and by_due[taken].due_date <= week_end:
            active.append(by_due[taken])
            taken += 1
        # Settled invoices never reopen, so they leave the working list for good.
        active = [
            inv for inv in active if settled[inv.invoice_id] is None or settled[inv.invoice_id] >= monday
        ]
        for inv in active:
            open_amount = inv.amount - inv.paid_before(monday)
            if open_amount <= 0 or inv.invoice_date >= monday:
                continue
            if (monday - inv.due_date).days > HANDED_TO_LEGAL_AFTER_DAYS:
                continue
            at_risk = inv.due_date < monday or inv.at_risk
            rows.append(
                {
                    "invoice_id": inv.invoice_id,
                    "customer_id": inv.order["customer_id"],
                    "rep_id": inv.customer.owner.rep_id,
                    "planned_week_start": monday,
                    "planned_amount": open_amount,
                    "risk_reason": inv.risk_reason if at_risk else None,
                    "updated_at": stamp,
                }
            )
        monday += timedelta(days=7)
    return [{"plan_id": f"CP{i:08d}", **row} for i, row in enumerate(rows, 1)]


def invoice_rows(invoices: list[Invoice]) -> list[dict]:
    return [
        {
            "invoice_id": inv.invoice_id,
            "order_id": inv.order["order_id"],
            "customer_id": inv.order["customer_id"],
            "invoice_date": inv.invoice_date,
            "credit_terms_days": inv.terms,
            "due_date": inv.due_date,
            "invoice_amount": inv.amount,
            "updated_at": inv.invoiced_at,
        }
        for inv in invoices
    ]
