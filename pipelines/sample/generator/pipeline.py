"""Leads, opportunities and their stage history.

Each opportunity is simulated on its own, event by event (created, stage changes, promised date
pushed, amount renegotiated, won or lost). Every event yields a full version of the opportunity
row; events after the end of the window are dropped, so open deals stay open.
Money is whole yuan (int) throughout the simulation.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pipelines.sample.generator.common import (
    Stage,
    Timeline,
    creation_season,
    load_stages,
    next_workday,
    poisson,
    rng_for,
    weighted,
    work_time,
)
from pipelines.sample.generator.company import Company, Customer, Product, Rep

OPEN_STAGES = ("lead", "discovery", "demo", "negotiation")
CONVERSION = {"lead": 0.60, "discovery": 0.55, "demo": 0.60, "negotiation": 0.55}  # to the next stage
MEAN_DAYS = {"lead": 4, "discovery": 7, "demo": 7, "negotiation": 8}  # days spent in the stage
SKIP_DEMO = 0.22  # share of deals that go from discovery straight to negotiation (4-step path)
LEAD_CONVERSION = 0.75
# A rep pushes a deal's promised signing date at most twice; a third push is the slipping_close_date defect
# (quality/DEFECTS.md), injected with a label, never simulated.
MAX_POSTPONEMENTS = 2
# A product is offered to a deal only if the deal's target size is at most MAX_DEAL_MULTIPLE times the
# product's typical deal (its list price, at least TYPICAL_DEAL_FLOOR for products sold in quantity): big
# budgets buy bigger products, not 40 times the usual quantity of a small one (an amount above 10 times the
# product's median is the anomalous_amount defect, quality/DEFECTS.md).
MAX_DEAL_MULTIPLE = 5
TYPICAL_DEAL_FLOOR = 50_000
DEALS_PER_WEEK = 3.0  # new deals per rep per week on accounts he already has
Q4_CLOSING_BOOST = 1.05  # year-end budgets: negotiations in Q4 are won a little more often
NEXT_STEPS = {
    "lead": ["安排首次拜访", "电话确认需求", "发送公司介绍资料"],
    "discovery": ["需求调研会", "确认预算与决策人", "提交需求确认书"],
    "demo": ["安排产品演示", "提交技术方案", "组织客户参观样板工程"],
    "negotiation": ["提交正式报价", "合同条款确认", "走客户采购审批流程"],
    "won": ["安排实施交付", "签订合同并安排开票"],
}
EARLY_LOSS = {"需求变化": 35, "预算不足": 30, "无决策": 25, "价格": 5, "竞争对手": 5}
LATE_LOSS = {"价格": 35, "竞争对手": 35, "预算不足": 10, "需求变化": 10, "无决策": 10}
COMPETITORS = {
    "ERP软件": ["用友", "金蝶", "鼎捷", "SAP"],
    "工业自动化设备": ["西门子", "汇川技术", "施耐德电气", "发那科"],
    "数据与云服务": ["阿里云", "华为云", "腾讯云", "帆软"],
    "网络与安全": ["华为", "新华三", "深信服", "奇安信"],
    "实施与运维服务": ["本地服务商", "用友", "金蝶"],
}


@dataclass
class Lead:
    customer: Customer
    channel: str
    created_at: datetime
    lead_id: str = ""
    qualified_at: datetime | None = None
    converted_at: datetime | None = None  # when an opportunity was created from it
    disqualified_at: datetime | None = None
    opportunity: Opportunity | None = None


@dataclass
class Opportunity:
    customer: Customer
    owner: Rep
    created_at: datetime
    lead: Lead | None
    opportunity_id: str = ""
    product: Product | None = None
    quantity: int = 1
    unit_price: int = 0
    versions: list[dict] = field(default_factory=list)  # full rows, oldest first
    history: list[dict] = field(default_factory=list)  # stage changes (ids assigned later)
    won_at: datetime | None = None

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price

    @property
    def closed_at(self) -> datetime | None:
        last = self.versions[-1] if self.versions else None
        return last["updated_at"] if last and last["closed_date"] else None


@dataclass
class Pipeline:
    leads: list[Lead]
    opportunities: list[Opportunity]


def build_pipeline(seed: int, company: Company, timeline: Timeline) -> Pipeline:
    rng = rng_for(seed, "pipeline")
    leads, opportunities = _originate(rng, company, timeline)
    leads.sort(key=lambda ld: (ld.created_at, ld.customer.customer_id))
    for i, lead in enumerate(leads, 1):
        lead.lead_id = f"L{i:07d}"
    opportunities.sort(key=lambda o: (o.created_at, o.customer.customer_id))
    stages = load_stages()
    sim_rng = rng_for(seed, "opportunities")
    active = [p for p in company.products if p.is_active]
    for i, opp in enumerate(opportunities, 1):
        opp.opportunity_id = f"O{i:07d}"
        _simulate(sim_rng, opp, active, stages, timeline)
    return Pipeline(leads, opportunities)


# --- where deals come from ------------------------------------------------------------------


def _originate(
    rng: random.Random, company: Company, timeline: Timeline
) -> tuple[list[Lead], list[Opportunity]]:
    leads: list[Lead] = []
    opps: list[Opportunity] = []

    def convert(lead: Lead, at: datetime) -> None:
        if rng.random() < LEAD_CONVERSION:
            lead.converted_at = at
            lead.opportunity = Opportunity(lead.customer, lead.customer.owner, at, lead)
            opps.append(lead.opportunity)
        else:
            lead.disqualified_at = at
        if (at - lead.created_at).days >= 1 and rng.random() < 0.7:
            lead.qualified_at = lead.created_at + (at - lead.created_at) / 2

    # A new account's first contact is a lead, captured when the account is created.
    for c in company.customers:
        if c.created_at.date() >= timeline.sim_start:
            lead = Lead(c, c.channel, c.created_at)
            leads.append(lead)
            day = next_workday(c.created_at.date() + timedelta(days=rng.randrange(2, 11)))
            convert(lead, work_time(rng, day, after=c.created_at))

    # Every week each rep opens deals on accounts he already has (repeat business, old prospects).
    by_owner: dict[str, list[Customer]] = {}
    for c in company.customers:  # customers are sorted by created_at
        by_owner.setdefault(c.owner.rep_id, []).append(c)
    for rep in company.quota_reps:
        accounts = by_owner.get(rep.rep_id, [])
        created = [c.created_at for c in accounts]
        cumulative = list(_cumsum(c.weight for c in accounts))
        for monday in timeline.weeks():
            known = bisect.bisect_left(created, datetime.combine(monday, datetime.min.time()))
            if not known:
                continue
            rate = (
                DEALS_PER_WEEK
                * rep.pipeline_rate
                * creation_season(monday)
                * (1 + 0.25 * timeline.fraction(monday))
            )
            for _ in range(poisson(rng, rate)):
                customer = accounts[bisect.bisect_right(cumulative, rng.random() * cumulative[known - 1])]
                # opened on a working day: a holiday's share moves to the first day back (working calendar)
                at = work_time(rng, next_workday(monday + timedelta(days=rng.randrange(5))))
                if rng.random() < 0.7:  # most deals start as a lead (the rest are opened directly)
                    lead_at = at - timedelta(days=rng.randrange(1, 11), minutes=rng.randrange(600))
                    if lead_at <= customer.created_at:
                        lead_at = customer.created_at + timedelta(minutes=rng.randrange(30, 120))
                    lead = Lead(
                        customer,
                        weighted(rng, {"转介绍": 40, "线上": 25, "展会": 20, "电话营销": 15}),
                        lead_at,
                    )
                    leads.append(lead)
                    convert(lead, at)
                else:
                    opps.append(Opportunity(customer, rep, at, None))
    return leads, opps


def _cumsum(values) -> Iterator[float]:
    total = 0.0
    for v in values:
        total += v
        yield total


# --- one deal's life --------------------------------------------------------------------------


def _pick_product(rng: random.Random, products: list[Product], target: float) -> Product:
    def fits(p: Product) -> bool:
        return target <= MAX_DEAL_MULTIPLE * max(p.list_price, TYPICAL_DEAL_FLOOR)

    fitting = {id(p) for p in products if fits(p)} or {id(max(products, key=lambda p: p.list_price))}
    # membership by identity: `p in a_list` compared dataclasses field by field (products x products per deal)
    weights = [(1.0 if p.list_price <= 1.5 * target else 0.1) if id(p) in fitting else 0.0 for p in products]
    return rng.choices(products, weights=weights)[0]


def _simulate(
    rng: random.Random, opp: Opportunity, products: list[Product], stages: dict[str, Stage], tl: Timeline
):
    customer, rep = opp.customer, opp.owner
    target = min(max(customer.budget * rng.lognormvariate(-0.4, 0.5), 20_000), 3_000_000)
    opp.product = product = _pick_product(rng, products, target)
    opp.quantity = max(1, round(target / product.list_price))
    opp.unit_price = int(round(product.list_price * rng.uniform(0.85, 1.0)))
    size = (opp.amount / 150_000) ** 0.15  # big deals take a little longer
    step = max(0.8, min(1.1, rep.win_factor**0.25))  # per-step effect of the rep's skill

    def remaining(stage: str) -> float:
        keys = OPEN_STAGES[OPEN_STAGES.index(stage) :]
        return sum(MEAN_DAYS[k] for k in keys) * size

    short = customer.name.removeprefix(customer.city)[:4]
    row = {
        "opportunity_id": opp.opportunity_id,
        "opportunity_name": f"{short}-{product.name}项目",
        "lead_id": opp.lead.lead_id if opp.lead else None,
        "customer_id": customer.customer_id,
        "owner_rep_id": rep.rep_id,
        "product_id": product.product_id,
        "stage": stages["lead"].name,
        "amount": opp.amount,
        "probability": _probability(stages["lead"], rep),
        # Reps promise optimistic dates: many deals will slip.
        "expected_close_date": next_workday(
            opp.created_at.date() + timedelta(days=round(remaining("lead") * rng.uniform(0.6, 1.15)))
        ),
        "closed_date": None,
        "loss_reason": None,
        "competitor": None,
        "next_step": rng.choice(NEXT_STEPS["lead"]),
        "created_at": opp.created_at,
        "updated_at": opp.created_at,
    }
    stage, t = "lead", opp.created_at
    postponed = 0  # times the promised date was pushed

    def emit(ts: datetime, changes: dict, new_stage: str | None = None) -> None:
        nonlocal row
        if ts > tl.end_ts:
            return
        if new_stage is not None or not opp.versions:
            opp.history.append(
                {
                    "opportunity_id": opp.opportunity_id,
                    "from_stage": row["stage"] if opp.versions else None,
                    "to_stage": stages[new_stage or "lead"].name,
                    "amount": changes.get("amount", row["amount"]),
                    "changed_at": ts,
                    "changed_by": rep.rep_id,
                }
            )
        row = {**row, **changes, "updated_at": ts}
        opp.versions.append(row)

    emit(t, {})
    while stage in OPEN_STAGES:
        boost = Q4_CLOSING_BOOST if stage == "negotiation" and t.month >= 10 else 1.0
        advance = rng.random() < min(0.95, CONVERSION[stage] * step * boost)
        nxt = OPEN_STAGES[OPEN_STAGES.index(stage) + 1] if stage != "negotiation" else "won"
        if advance and stage == "discovery" and rng.random() < SKIP_DEMO:
            nxt = "negotiation"
        days = MEAN_DAYS[stage] * size * rng.lognormvariate(-0.12, 0.5) * (1.0 if advance else 1.4)
        if nxt == "negotiation" and stage == "discovery":
            days *= 0.8  # a customer who skips the demo is in a hurry
        when = work_time(rng, next_workday(t.date() + timedelta(days=max(1, round(days)))), after=t)
        t, pushes = _slips(
            rng,
            row["expected_close_date"],
            t,
            when,
            remaining(stage) * 0.5,
            emit,
            MAX_POSTPONEMENTS - postponed,
        )
        postponed += pushes
        if when <= t:
            when = t + timedelta(minutes=rng.randrange(10, 120))
        if not advance:
            reasons = EARLY_LOSS if stage in ("lead", "discovery") else LATE_LOSS
            reason = weighted(rng, reasons)
            rival_share = {"竞争对手": 1.0, "价格": 0.4}.get(reason, 0.1)
            competitor = rng.choice(COMPETITORS[product.line]) if rng.random() < rival_share else None
            emit(
                when,
                {
                    "stage": stages["lost"].name,
                    "probability": 0,
                    "closed_date": when.date(),
                    "loss_reason": reason,
                    "competitor": competitor,
                    "next_step": None,
                },
                "lost",
            )
            return
        changes: dict = {"next_step": rng.choice(NEXT_STEPS[nxt])}
        if nxt == "discovery" and rng.random() < 0.2:  # scope clarified
            opp.quantity = max(1, round(opp.quantity * rng.uniform(0.7, 1.4)))
        if nxt == "negotiation" and rng.random() < 0.4:  # discount conceded
            opp.unit_price = max(1, int(round(opp.unit_price * rng.uniform(0.88, 0.97))))
        changes["amount"] = opp.amount
        if nxt == "won":
            opp.won_at = when if when <= tl.end_ts else None
            changes.update({"stage": stages["won"].name, "probability": 100, "closed_date": when.date()})
        else:
            changes.update({"stage": stages[nxt].name, "probability": _probability(stages[nxt], rep)})
            if row["expected_close_date"] < when.date() + timedelta(days=round(remaining(nxt) * 0.5)):
                # the rep re-promises at the stage change, optimistically again
                if postponed < MAX_POSTPONEMENTS and rng.random() < 0.3:
                    postponed += 1
                    changes["expected_close_date"] = next_workday(
                        when.date() + timedelta(days=round(remaining(nxt) * rng.uniform(0.5, 1.0)) + 1)
                    )
        emit(when, changes, nxt)
        stage, t = nxt, when


def _slips(
    rng: random.Random,
    promised: date,
    t: datetime,
    until: datetime,
    rest: float,
    emit: Callable,
    allowed: int,
) -> tuple[datetime, int]:
    """While a deal waits in a stage past its promised date, the rep often pushes the date (at most
    `allowed` more times).

    Returns the time of the last push (or t) and the number of pushes."""
    current, pushes = promised, 0
    while current + timedelta(days=3) < until.date():
        if pushes >= allowed or rng.random() >= 0.45:
            break  # left stale: the packs flag it as slipped
        day = next_workday(current + timedelta(days=rng.randrange(1, 4)))
        ts = work_time(rng, day, after=t)
        if ts >= until:
            break
        current = next_workday(
            day + timedelta(days=round(rest * rng.uniform(0.3, 1.0)) + rng.randrange(1, 8))
        )
        emit(ts, {"expected_close_date": current})
        t, pushes = ts, pushes + 1
    return t, pushes


def _probability(stage: Stage, rep: Rep) -> int:
    return min(95, stage.probability + rep.optimism)


# --- table rows -------------------------------------------------------------------------------


def lead_rows(leads: list[Lead], timeline: Timeline) -> list[dict]:
    rows = []
    for lead in leads:
        base = {
            "lead_id": lead.lead_id,
            "customer_id": lead.customer.customer_id,
            "rep_id": lead.customer.owner.rep_id,
            "channel": lead.channel,
            "status": "new",
            "opportunity_id": None,
            "created_at": lead.created_at,
            "updated_at": lead.created_at,
        }
        steps = [(lead.created_at, {})]
        if lead.qualified_at:
            steps.append((lead.qualified_at, {"status": "qualified"}))
        if lead.converted_at:
            steps.append(
                (
                    lead.converted_at,
                    {"status": "converted", "opportunity_id": lead.opportunity.opportunity_id},
                )
            )
        if lead.disqualified_at:
            steps.append((lead.disqualified_at, {"status": "disqualified"}))
        for ts, change in steps:
            if ts <= timeline.end_ts:
                base = {**base, **change, "updated_at": ts}
                rows.append(base)
    return rows


def opportunity_rows(opps: list[Opportunity]) -> list[dict]:
    return [v for o in opps for v in o.versions]


def stage_history_rows(opps: list[Opportunity]) -> list[dict]:
    changes = sorted(
        (h for o in opps for h in o.history), key=lambda h: (h["changed_at"], h["opportunity_id"])
    )
    return [{"stage_change_id": f"SH{i:08d}", **h} for i, h in enumerate(changes, 1)]


def won_opportunities(opps: list[Opportunity]) -> list[Opportunity]:
    return [o for o in opps if o.won_at is not None]
