"""One more day for a company already in a landing folder, without generating it again.

    add_next_day(landing_dir, seed=None) -> the new extract date

Writes the delivery of the day after the newest one in the folder, both systems, exactly as `generate`
writes a day (one file per entity, then the manifests with rows and SHA-256). Its content follows the
generator's rules, applied to the state the recent deliveries show:

- snapshot lists (reps, products) are repeated as of the last delivery;
- CRM: new accounts with their first lead, new leads and deals on known accounts, open leads
  converted (a new opportunity) or disqualified, open deals moving a stage, renegotiated, won or lost (with
  their stage history), the quota reps' visits, calls and emails (at least one a working day), targets of
  the new quarter on its first day, feedback on orders of some weeks ago;
- ERP: an order for every deal won that day, orders fulfilled, invoices (deposit + balance for large
  orders), payments around the due date (later for some), the collection plan on Mondays.

Only what the new day needs is read: the last delivery's snapshot files, the deliveries of the last
`CRM_WINDOW_DAYS` (open leads and deals, the reps' accounts) and `ERP_WINDOW_DAYS` (open orders and
invoices), the customers (their names and cities), and as many files back as it takes to find each
entity's highest identifier (new keys continue after it). The cost does not grow with the number of days
delivered beyond the customer list. Same folder and seed -> the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import re
import statistics
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from faker import Faker

from pipelines.lib.landing import list_extract_dates, write_manifest
from pipelines.sample.generator.activities import (
    DURATION,
    INTENTION_BY_STAGE,
    INTENTION_SHARE,
    MAX_VISITS_PER_DAY,
    SUMMARIES,
    WEEKLY,
    _visit_fits,
)
from pipelines.sample.generator.common import (
    creation_season,
    is_workday,
    load_stages,
    next_workday,
    poisson,
    quarter_start,
    rng_for,
    weighted,
    work_time,
)
from pipelines.sample.generator.company import (
    CHANNELS,
    CREDIT_TERMS,
    INDUSTRIES,
    NAME_SUFFIXES,
    REGIONS,
    TIERS,
    mobile,
)
from pipelines.sample.generator.deliveries import _lines, _write_bytes, _write_csv
from pipelines.sample.generator.erp import (
    DEPOSIT_SHARE,
    HANDED_TO_LEGAL_AFTER_DAYS,
    METHODS,
    RISK_REASONS,
    SPLIT_INVOICE_FROM,
)
from pipelines.sample.generator.feedback import CATEGORIES, COMMENTS, FEEDBACK_SHARE, SATISFACTION
from pipelines.sample.generator.pipeline import (
    COMPETITORS,
    CONVERSION,
    DEALS_PER_WEEK,
    EARLY_LOSS,
    LATE_LOSS,
    LEAD_CONVERSION,
    MAX_DEAL_MULTIPLE,
    MEAN_DAYS,
    NEXT_STEPS,
    OPEN_STAGES,
    SKIP_DEMO,
    TYPICAL_DEAL_FLOOR,
)
from pipelines.sample.generator.targets import GROWTH, Q4_UPLIFT, quarter_mondays
from quality.contract import Contract, Entity, load_contract

CRM_WINDOW_DAYS = 60  # open leads and deals, the accounts each rep works on
ERP_WINDOW_DAYS = 200  # open orders and invoices (due up to 90 days after the invoice, then up to 90 overdue)
# Per entity, the column identifiers are handed out in the order of (the generator sorts by it, then
# numbers): the highest identifier is in the file of the newest value of this column, so the search
# for it stops there (see _max_ids).
ID_ORDER = {
    "customers": "created_at",
    "leads": "created_at",
    "opportunities": "created_at",
    "opportunity_stage_history": "changed_at",
    "activities": "activity_at",
    "targets": "updated_at",
    "feedback": "feedback_date",
    "sales_orders": "order_date",
    "invoices": "invoice_date",
    "payments": "payment_date",
    "collection_plan": "planned_week_start",
}
DEFAULT_IDS = {  # (prefix, digits) when an entity has no rows yet
    "customers": ("C", 6),
    "leads": ("L", 7),
    "opportunities": ("O", 7),
    "opportunity_stage_history": ("SH", 8),
    "activities": ("A", 8),
    "targets": ("T", 7),
    "feedback": ("F", 7),
    "sales_orders": ("SO", 8),
    "invoices": ("INV", 8),
    "payments": ("PAY", 8),
    "collection_plan": ("CP", 8),
}
LEAD_DECISION_DAYS = 6  # an open lead is converted or disqualified after about this many working days
NEW_ACCOUNTS_PER_REP_WEEK = 0.25 * 1.3  # as the generator's arrival rate at the end of its period
REPEAT_LEAD_SHARE = 0.7  # of new deals on known accounts, those that start as a lead
STAGE_MOVE = (
    1.2  # an open deal's chance of a stage event a working day: 1 / (STAGE_MOVE * mean days in stage)
)
RENEGOTIATE = 0.02  # an open deal's chance a working day of a new amount without a stage change
LATE_LOG = 0.15  # share of activities logged the next morning (yesterday's, delivered today)


def add_next_day(landing_dir: Path, seed: int | None = None) -> date:
    """Write the delivery of the day after the newest delivery in `landing_dir` (both systems: every
    entity's file, then the manifests) and return its date. `seed` varies the day's content; by default it
    is drawn from the date alone, so the same folder gives the same files."""
    landing_dir = Path(landing_dir)
    contract = load_contract()
    dates = sorted({d for s in contract.systems for d in list_extract_dates(landing_dir, contract, s)})
    if not dates:
        raise ValueError(f"{landing_dir}: no delivery with a manifest; generate the company first")
    history = _History(landing_dir, contract, [date.fromisoformat(d) for d in dates])
    day = history.dates[-1] + timedelta(days=1)
    rng = rng_for(0 if seed is None else seed, f"next-day:{day.isoformat()}")
    tables = _Day(rng, day, history).simulate()
    _write_day(landing_dir, contract, day, tables, history)
    return day


# --- reading the landing folder ---------------------------------------------------------------


class _History:
    """Reads delivered files on demand (each at most once)."""

    def __init__(self, landing: Path, contract: Contract, dates: list[date]):
        self.landing, self.contract, self.dates = landing, contract, dates
        self._files: dict[tuple[str, date], list[dict[str, str]]] = {}

    def path(self, entity: str, day: date) -> Path:
        e = self.contract.entity(entity)
        return self.landing / self.contract.file_path(e.system, e.name, day.isoformat())

    def rows(self, entity: str, day: date) -> list[dict[str, str]]:
        if (entity, day) not in self._files:
            path = self.path(entity, day)
            if path.exists():
                with open(path, encoding="utf-8", newline="") as f:
                    self._files[(entity, day)] = list(csv.DictReader(f))
            else:
                self._files[(entity, day)] = []
        return self._files[(entity, day)]

    def since(self, entity: str, first: date) -> list[dict[str, str]]:
        """Rows of every delivery from `first` on, oldest first."""
        return [r for d in self.dates if d >= first for r in self.rows(entity, d)]

    def latest(self, entity: str, first: date) -> dict[str, dict[str, str]]:
        """Key -> the newest version delivered from `first` on (the key is the first primary-key column)."""
        key = self.contract.entity(entity).primary_key[0]
        return {r[key]: r for r in self.since(entity, first)}

    def max_ids(self) -> dict[str, tuple[str, int, int, list[dict[str, str]]]]:
        """Entity -> (prefix, digits, highest number, rows of the file it was found in)."""
        out = {}
        for entity, order in ID_ORDER.items():
            key = self.contract.entity(entity).primary_key[0]
            best: tuple[int, str, int, date, list] | None = None  # number, prefix, digits, its order day
            for d in reversed(self.dates):
                rows = self.rows(entity, d)
                for r in rows:
                    m = re.fullmatch(r"(\D*)(\d+)", r[key])
                    if m and (best is None or int(m.group(2)) > best[0]):
                        try:
                            ordered = _day(r[order])
                        except ValueError:  # not a date (a defect): as late as its delivery
                            ordered = d
                        best = (int(m.group(2)), m.group(1), len(m.group(2)), ordered, rows)
                # files before d hold only rows ordered before d: none can be higher
                if best is not None and best[3] >= d:
                    break
            if best is None:
                prefix, digits = DEFAULT_IDS[entity]
                out[entity] = (prefix, digits, 0, [])
            else:
                out[entity] = (best[1], best[2], best[0], best[4])
        return out


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _money(value: str) -> Decimal:
    return Decimal(value or "0")


def _whole(amount: Decimal | int) -> int | Decimal:
    return int(amount) if amount == int(amount) else amount


class _Ids:
    def __init__(self, prefix: str, digits: int, last: int):
        self.prefix, self.digits, self.last = prefix, digits, last

    def next(self) -> str:
        self.last += 1
        return f"{self.prefix}{self.last:0{self.digits}d}"


# --- the day ----------------------------------------------------------------------------------


class _Day:
    def __init__(self, rng, day: date, history: _History):
        self.rng, self.day, self.h = rng, day, history
        self.workday = is_workday(day)  # the working calendar: holidays off, 调休 weekend days worked
        self.stages = load_stages()
        self.stage_key = {s.name: s.key for s in self.stages.values()}
        last = history.dates[-1]
        self.reps = history.rows("reps", last)
        self.quota = [
            r
            for r in self.reps
            if r["role"] == "rep" and not r["leave_date"] and date.fromisoformat(r["hire_date"]) <= day
        ]
        self.products = {p["product_id"]: p for p in history.rows("products", last)}
        self.active = [p for p in self.products.values() if p["is_active"] == "true"]
        max_ids = history.max_ids()
        self.ids = {e: _Ids(*v[:3]) for e, v in max_ids.items()}
        self._last_target_rows = max_ids["targets"][3]  # the latest quarter's targets
        crm_from = day - timedelta(days=CRM_WINDOW_DAYS)
        self.erp_from = day - timedelta(days=ERP_WINDOW_DAYS)
        # every account delivered (names, cities, owners); later versions win
        self.customers = history.latest("customers", history.dates[0])
        self.accounts: dict[str, list[str]] = defaultdict(list)  # rep -> customer ids, oldest first
        for cid, c in sorted(self.customers.items()):
            self.accounts[c["owner_rep_id"]].append(cid)
        self.opps = history.latest("opportunities", crm_from)
        self.leads = history.latest("leads", crm_from)
        self.optimism = self._optimism()
        self.out: dict[str, list[dict]] = defaultdict(list)
        self.won: list[
            dict
        ] = []  # deals won today: {opportunity, quantity, unit_price, order_amount, won_at}

    def simulate(self) -> dict[str, list[dict]]:
        self._new_accounts()
        self._leads_decided()
        self._new_deals()
        self._deals_move()
        self._activities()
        self._orders()
        self._invoices()
        self._payments()
        self._collection_plan()
        self._feedback()
        self._targets()
        changes = sorted(
            self.out["opportunity_stage_history"], key=lambda h: (h["changed_at"], h["opportunity_id"])
        )
        self.out["opportunity_stage_history"] = [
            {"stage_change_id": self.ids["opportunity_stage_history"].next(), **h} for h in changes
        ]
        return self.out

    def at(self, after: datetime | None = None) -> datetime:
        return work_time(self.rng, self.day, after=after)

    # --- CRM ---

    def _optimism(self) -> dict[str, int]:
        """Points a rep adds to the stage probability, as the rep's open deals show."""
        seen: dict[str, list[int]] = defaultdict(list)
        for o in self.opps.values():
            key = self.stage_key.get(o["stage"])
            if key in OPEN_STAGES:
                seen[o["owner_rep_id"]].append(int(o["probability"]) - self.stages[key].probability)
        return {rep: max(0, round(statistics.median(v))) for rep, v in seen.items()}

    def _probability(self, key: str, rep: str) -> int:
        return min(95, self.stages[key].probability + self.optimism.get(rep, 0))

    def _new_accounts(self) -> None:
        if not self.workday or not self.quota:
            return
        fake = Faker("zh_CN")
        fake.seed_instance(self.rng.randrange(2**32))
        used = {c["customer_name"] for c in self.customers.values()}
        for _ in range(poisson(self.rng, NEW_ACCOUNTS_PER_REP_WEEK * len(self.quota) / 5)):
            owner = self.rng.choice(self.quota)
            region = owner["region"] if owner["region"] in REGIONS else next(iter(REGIONS))
            city = self.rng.choice(REGIONS[region][1])
            industry = weighted(self.rng, {k: v[0] for k, v in INDUSTRIES.items()})
            for attempt in range(50):
                prefix = fake.company_prefix() + (fake.company_prefix() if attempt > 5 else "")
                name = f"{city}{prefix}{self.rng.choice(INDUSTRIES[industry][1])}"
                name += weighted(self.rng, NAME_SUFFIXES)
                if name not in used:
                    break
            used.add(name)
            tier = weighted(self.rng, TIERS)
            budget = self.rng.lognormvariate(11.8, 0.8) * {"战略": 3.0, "重点": 1.6, "普通": 1.0}[tier]
            created = self.at()
            row = {
                "customer_id": self.ids["customers"].next(),
                "customer_name": name,
                "industry": industry,
                "region": owner["region"],
                "city": city,
                "tier": tier,
                "channel": weighted(self.rng, CHANNELS),
                "budget": max(int(round(budget, -3)), 5000),
                "owner_rep_id": owner["rep_id"],
                "contact_name": fake.name(),
                "contact_mobile": mobile(self.rng),
                "created_at": created,
                "updated_at": created,
            }
            self.out["customers"].append(row)
            self.customers[row["customer_id"]] = row  # worked on from tomorrow (its lead is today's contact)
            self._new_lead(row["customer_id"], owner["rep_id"], row["channel"], created)

    def _new_lead(self, customer_id: str, rep_id: str, channel: str, at: datetime) -> None:
        self.out["leads"].append(
            {
                "lead_id": self.ids["leads"].next(),
                "customer_id": customer_id,
                "rep_id": rep_id,
                "channel": channel,
                "status": "new",
                "opportunity_id": None,
                "created_at": at,
                "updated_at": at,
            }
        )

    def _leads_decided(self) -> None:
        """Open leads are converted (a new deal) or disqualified; some are qualified first."""
        if not self.workday:
            return
        for lead in self.leads.values():
            if lead["status"] not in ("new", "qualified") or _day(lead["updated_at"]) >= self.day:
                continue
            if lead["customer_id"] not in self.customers:
                continue
            at = self.at(after=_ts(lead["updated_at"]))
            if self.rng.random() < 1 / LEAD_DECISION_DAYS:
                if self.rng.random() < LEAD_CONVERSION:
                    opp_id = self._new_deal(lead["customer_id"], lead["rep_id"], at, lead["lead_id"])
                    self.out["leads"].append(
                        {**lead, "status": "converted", "opportunity_id": opp_id, "updated_at": at}
                    )
                else:
                    self.out["leads"].append({**lead, "status": "disqualified", "updated_at": at})
            elif lead["status"] == "new" and self.rng.random() < 0.1:
                self.out["leads"].append({**lead, "status": "qualified", "updated_at": at})

    def _new_deals(self) -> None:
        """Each rep opens deals on accounts he has: most start as a lead, the others directly."""
        if not self.workday:
            return
        for rep in self.quota:
            accounts = self.accounts.get(rep["rep_id"], [])
            if not accounts:
                continue
            for _ in range(poisson(self.rng, DEALS_PER_WEEK * creation_season(self.day) / 5)):
                customer = self.rng.choice(accounts)
                at = self.at()
                if self.rng.random() < REPEAT_LEAD_SHARE:
                    channel = weighted(self.rng, {"转介绍": 40, "线上": 25, "展会": 20, "电话营销": 15})
                    self._new_lead(customer, rep["rep_id"], channel, at)
                else:
                    self._new_deal(customer, rep["rep_id"], at, None)

    def _pick_product(self, target: float) -> dict:
        def price(p: dict) -> float:
            return float(p["list_price"])

        fitting = [p for p in self.active if target <= MAX_DEAL_MULTIPLE * max(price(p), TYPICAL_DEAL_FLOOR)]
        fitting = fitting or [max(self.active, key=price)]
        weights = [1.0 if price(p) <= 1.5 * target else 0.1 for p in fitting]
        return self.rng.choices(fitting, weights=weights)[0]

    def _new_deal(self, customer_id: str, rep_id: str, at: datetime, lead_id: str | None) -> str:
        customer = self.customers[customer_id]
        budget = float(customer.get("budget") or 130_000)
        target = min(max(budget * self.rng.lognormvariate(-0.4, 0.5), 20_000), 3_000_000)
        product = self._pick_product(target)
        quantity = max(1, round(target / float(product["list_price"])))
        amount = quantity * int(round(float(product["list_price"]) * self.rng.uniform(0.85, 1.0)))
        size = (amount / 150_000) ** 0.15
        promised = sum(MEAN_DAYS.values()) * size * self.rng.uniform(0.6, 1.15)
        short = customer["customer_name"].removeprefix(customer["city"])[:4]
        opp_id = self.ids["opportunities"].next()
        row = {
            "opportunity_id": opp_id,
            "opportunity_name": f"{short}-{product['product_name']}项目",
            "lead_id": lead_id,
            "customer_id": customer_id,
            "owner_rep_id": rep_id,
            "product_id": product["product_id"],
            "stage": self.stages["lead"].name,
            "amount": amount,
            "probability": self._probability("lead", rep_id),
            "expected_close_date": next_workday(at.date() + timedelta(days=round(promised))),
            "closed_date": None,
            "loss_reason": None,
            "competitor": None,
            "next_step": self.rng.choice(NEXT_STEPS["lead"]),
            "created_at": at,
            "updated_at": at,
        }
        self.out["opportunities"].append(row)
        self._stage_change(opp_id, None, self.stages["lead"].name, amount, at, rep_id)
        return opp_id

    def _stage_change(self, opp_id, from_stage, to_stage, amount, at: datetime, rep_id: str) -> None:
        self.out["opportunity_stage_history"].append(
            {
                "opportunity_id": opp_id,
                "from_stage": from_stage,
                "to_stage": to_stage,
                "amount": amount,
                "changed_at": at,
                "changed_by": rep_id,
            }
        )

    def _deals_move(self) -> None:
        """Open deals (changed in the window) advance a stage, are won or lost, or renegotiated."""
        if not self.workday:
            return
        for opp in self.opps.values():
            stage = self.stage_key.get(opp["stage"])
            if stage not in OPEN_STAGES or _day(opp["updated_at"]) >= self.day:
                continue
            if opp["customer_id"] not in self.customers or opp["product_id"] not in self.products:
                continue  # a deal without a known account or product (a defect) is left as it is
            rep = opp["owner_rep_id"]
            amount = _money(opp["amount"])
            at = self.at(after=_ts(opp["updated_at"]))
            if self.rng.random() < 1 / (STAGE_MOVE * MEAN_DAYS[stage]):
                if self.rng.random() >= CONVERSION[stage]:
                    reason = weighted(self.rng, EARLY_LOSS if stage in ("lead", "discovery") else LATE_LOSS)
                    product = self.products.get(opp["product_id"])
                    rivals = COMPETITORS.get(product["product_line"], []) if product else []
                    share = {"竞争对手": 1.0, "价格": 0.4}.get(reason, 0.1)
                    competitor = self.rng.choice(rivals) if rivals and self.rng.random() < share else None
                    changes = {
                        "stage": self.stages["lost"].name,
                        "probability": 0,
                        "closed_date": self.day,
                        "loss_reason": reason,
                        "competitor": competitor,
                        "next_step": None,
                    }
                    nxt = "lost"
                else:
                    nxt = OPEN_STAGES[OPEN_STAGES.index(stage) + 1] if stage != "negotiation" else "won"
                    if stage == "discovery" and self.rng.random() < SKIP_DEMO:
                        nxt = "negotiation"
                    if nxt == "discovery" and self.rng.random() < 0.2:  # scope clarified
                        amount = Decimal(int(round(float(amount) * self.rng.uniform(0.7, 1.4))))
                    if nxt == "negotiation" and self.rng.random() < 0.4:  # discount conceded
                        amount = Decimal(int(round(float(amount) * self.rng.uniform(0.88, 0.97))))
                    changes = {"next_step": self.rng.choice(NEXT_STEPS[nxt]), "amount": _whole(amount)}
                    if nxt == "won":
                        order = self._order_lines(opp, amount)
                        changes.update(
                            amount=order["order_amount"],
                            stage=self.stages["won"].name,
                            probability=100,
                            closed_date=self.day,
                        )
                        self.won.append({**order, "won_at": at})
                    else:
                        changes.update(stage=self.stages[nxt].name, probability=self._probability(nxt, rep))
                version = {**opp, **changes, "updated_at": at}
                self.out["opportunities"].append(version)
                self._stage_change(
                    opp["opportunity_id"], opp["stage"], version["stage"], version["amount"], at, rep
                )
            elif self.rng.random() < RENEGOTIATE:
                new = int(round(float(amount) * self.rng.uniform(0.9, 1.1)))
                self.out["opportunities"].append({**opp, "amount": max(new, 1), "updated_at": at})

    def _order_lines(self, opp: dict, amount: Decimal) -> dict:
        """Quantity and unit price of a won deal's order: quantity x unit price is the final amount."""
        product = self.products.get(opp["product_id"])
        price = float(product["list_price"]) if product else float(amount)
        quantity = max(1, round(float(amount) / price))
        unit_price = max(1, int(round(float(amount) / quantity)))
        return {
            "opportunity": opp,
            "quantity": quantity,
            "unit_price": unit_price,
            "order_amount": quantity * unit_price,
        }

    def _activities(self) -> None:
        drafts: list[dict] = []
        yesterday = self.day - timedelta(days=1)
        open_deals: dict[str, list[dict]] = defaultdict(list)
        for o in self.opps.values():
            if self.stage_key.get(o["stage"]) in OPEN_STAGES and o["customer_id"] in self.customers:
                open_deals[o["owner_rep_id"]].append(o)
        for rep in self.quota:
            accounts = self.accounts.get(rep["rep_id"], [])
            if not accounts:
                continue
            days = [self.day] if self.workday else []
            if is_workday(yesterday):
                days.append(yesterday)  # a few of yesterday's, logged this morning
            for when in days:
                for kind, (lo, hi) in WEEKLY.items():
                    mean = (lo + hi) / 2 / 5 * (LATE_LOG if when == yesterday else 1 - LATE_LOG)
                    if when == yesterday and kind == "拜访":
                        continue  # yesterday's visits are planned and delivered already
                    for _ in range(poisson(self.rng, mean)):
                        drafts.append(self._activity(kind, rep, when, accounts, open_deals[rep["rep_id"]]))
            if self.workday and not any(
                d["rep_id"] == rep["rep_id"]
                and d["opportunity_id"] is None
                and d["activity_at"].date() == self.day
                for d in drafts
            ):  # account upkeep: at least one call or email a working day
                drafts.append(
                    self._activity("电话" if self.rng.random() < 0.8 else "邮件", rep, self.day, accounts, [])
                )
        self._plan_visits(drafts)
        drafts.sort(key=lambda d: (d["activity_at"], d["rep_id"], d["customer_id"]))
        self.out["activities"] = [{"activity_id": self.ids["activities"].next(), **d} for d in drafts]

    def _activity(self, kind: str, rep: dict, when: date, accounts: list[str], deals: list[dict]) -> dict:
        deal = self.rng.choice(deals) if deals and self.rng.random() < 0.65 else None
        customer = self.customers[deal["customer_id"]] if deal else self.customers[self.rng.choice(accounts)]
        at = work_time(self.rng, when)
        duration = self.rng.randint(*DURATION[kind]) if kind in DURATION else None
        if when < self.day:
            logged = datetime.combine(self.day, time(8, 30)) + timedelta(minutes=self.rng.randrange(150))
        else:
            logged = min(
                at + timedelta(minutes=(duration or 5) + self.rng.randrange(10, 240)),
                datetime.combine(self.day, time(23, 30)),
            )
        intention = None
        if self.rng.random() < INTENTION_SHARE[kind]:
            stage = self.stage_key.get(deal["stage"], "lead") if deal else "lead"
            intention = weighted(self.rng, INTENTION_BY_STAGE.get(stage, INTENTION_BY_STAGE["lead"]))
        product = self.products.get(deal["product_id"]) if deal else None
        return {
            "activity_type": kind,
            "rep_id": rep["rep_id"],
            "customer_id": customer["customer_id"],
            "opportunity_id": deal["opportunity_id"] if deal else None,
            "activity_at": at,
            "duration_minutes": duration,
            "city": customer["city"] if kind == "拜访" else None,
            "intention_level": intention,
            "summary": self.rng.choice(SUMMARIES[kind]).format(
                p=product["product_name"] if product else "产品"
            ),
            "logged_at": logged,
        }

    def _plan_visits(self, drafts: list[dict]) -> None:
        """At most MAX_VISITS_PER_DAY visits a rep and day, and time to travel between cities: a visit that
        does not fit becomes a call (as the generator plans a day)."""
        kept: dict[tuple[str, date], list[dict]] = defaultdict(list)
        for d in sorted(drafts, key=lambda d: (d["activity_at"], d["rep_id"], d["customer_id"])):
            if d["activity_type"] != "拜访":
                continue
            visits = kept[(d["rep_id"], d["activity_at"].date())]
            if len(visits) < MAX_VISITS_PER_DAY and _visit_fits(
                visits, d["city"], d["activity_at"], d["duration_minutes"]
            ):
                visits.append(d)
            else:
                d["activity_type"], d["city"] = "电话", None
                d["duration_minutes"] = self.rng.randint(*DURATION["电话"])
                d["summary"] = self.rng.choice(SUMMARIES["电话"]).format(p="产品")

    # --- ERP ---

    def _orders(self) -> None:
        for won in sorted(self.won, key=lambda w: (w["won_at"], w["opportunity"]["opportunity_id"])):
            opp, won_at = won["opportunity"], won["won_at"]
            booked = min(
                won_at + timedelta(minutes=self.rng.randrange(30, 180)),
                datetime.combine(self.day, time(23, 0)),
            )
            self.out["sales_orders"].append(
                {
                    "order_id": self.ids["sales_orders"].next(),
                    "order_date": self.day,
                    "customer_id": opp["customer_id"],
                    "opportunity_id": opp["opportunity_id"],
                    "rep_id": opp["owner_rep_id"],
                    "product_id": opp["product_id"],
                    "quantity": won["quantity"],
                    "unit_price": won["unit_price"],
                    "order_amount": won["order_amount"],
                    "status": "open",
                    "updated_at": booked,
                }
            )
        if not self.workday:
            return
        for order in self.h.latest("sales_orders", self.day - timedelta(days=45)).values():
            age = (self.day - date.fromisoformat(order["order_date"])).days
            if order["status"] == "open" and age >= 7 and self.rng.random() < 1 / max(1, 41 - age):
                self.out["sales_orders"].append({**order, "status": "fulfilled", "updated_at": self.at()})

    def _invoices(self) -> None:
        if not self.workday:
            return
        invoices = self.h.latest("invoices", self.erp_from)
        self.invoiced: dict[str, Decimal] = defaultdict(Decimal)
        terms: dict[str, int] = {}
        for inv in invoices.values():
            self.invoiced[inv["order_id"]] += _money(inv["invoice_amount"])
            terms[inv["customer_id"]] = int(inv["credit_terms_days"])
        recent = list(self.h.latest("sales_orders", self.day - timedelta(days=12)).values())
        recent += [
            o for o in self.out["sales_orders"] if o["status"] == "open" and o["order_date"] == self.day
        ]
        for order in recent:
            order_date = order["order_date"]
            order_date = order_date if isinstance(order_date, date) else date.fromisoformat(order_date)
            age = (self.day - order_date).days
            total = Decimal(order["order_amount"])
            left = total - self.invoiced[order["order_id"]]
            if left <= 0 or age > 10 or self.rng.random() >= 1 / max(1, 11 - age):
                continue
            part = left
            if left == total and total >= SPLIT_INVOICE_FROM and self.rng.random() < 0.6:
                part = Decimal(int(round(float(total) * DEPOSIT_SHARE)))
            self.invoiced[order["order_id"]] += part
            days = terms.get(order["customer_id"]) or int(
                weighted(self.rng, {str(k): v for k, v in CREDIT_TERMS.items()})
            )
            terms[order["customer_id"]] = days
            booked = order["updated_at"]
            booked = booked if isinstance(booked, datetime) else _ts(booked)
            self.out["invoices"].append(
                {
                    "order_id": order["order_id"],
                    "customer_id": order["customer_id"],
                    "invoice_date": self.day,
                    "credit_terms_days": days,
                    "due_date": self.day + timedelta(days=days),
                    "invoice_amount": _whole(part),
                    "updated_at": self.at(after=booked if booked.date() == self.day else None),
                }
            )
        self.out["invoices"].sort(key=lambda r: (r["updated_at"], r["order_id"]))
        for row in self.out["invoices"]:
            row["invoice_id"] = self.ids["invoices"].next()

    def _open_invoices(self, before: date) -> list[tuple[dict, Decimal]]:
        """Invoices of the ERP window with what was still open before `before`, by due date."""
        paid: dict[str, Decimal] = defaultdict(Decimal)
        for p in self.h.since("payments", self.erp_from):
            if date.fromisoformat(p["payment_date"]) < before:
                paid[p["invoice_id"]] += _money(p["payment_amount"])
        out = []
        for inv in self.h.latest("invoices", self.erp_from).values():
            left = _money(inv["invoice_amount"]) - paid[inv["invoice_id"]]
            if left > 0:
                out.append((inv, left))
        return sorted(out, key=lambda x: (x[0]["due_date"], x[0]["invoice_id"]))

    def _payments(self) -> None:
        if not self.workday:
            return
        rows = []
        for inv, left in self._open_invoices(self.day):
            late = (self.day - date.fromisoformat(inv["due_date"])).days
            if late < -3:
                continue
            chance = 0.3 if late <= 3 else 0.08
            if self.rng.random() >= chance:
                continue
            amount = left
            if self.rng.random() < 0.1 and left >= 2:  # part now, the rest later
                amount = Decimal(int(left * Decimal("0.5")))
            rows.append(
                {
                    "invoice_id": inv["invoice_id"],
                    "customer_id": inv["customer_id"],
                    "payment_date": self.day,
                    "payment_amount": _whole(amount),
                    "method": weighted(self.rng, METHODS),
                }
            )
        rows.sort(key=lambda r: r["invoice_id"])
        self.out["payments"] = [{"payment_id": self.ids["payments"].next(), **r} for r in rows]

    def _collection_plan(self) -> None:
        """On Mondays: a line per open invoice that falls due this week or is overdue (up to 90 days)."""
        monday = self.day
        if monday.weekday() != 0:
            return
        previous = {r["invoice_id"]: r for r in self.h.since("collection_plan", monday - timedelta(days=7))}
        owners = {cid: c["owner_rep_id"] for cid, c in self.customers.items()}
        stamp = datetime.combine(monday, time(8, 0)) + timedelta(
            minutes=self.rng.randrange(60), seconds=self.rng.randrange(60)
        )
        for inv, left in self._open_invoices(monday):
            due = date.fromisoformat(inv["due_date"])
            if due > monday + timedelta(days=6) or date.fromisoformat(inv["invoice_date"]) >= monday:
                continue
            if (monday - due).days > HANDED_TO_LEGAL_AFTER_DAYS:
                continue
            reason = None
            if due < monday:
                before = previous.get(inv["invoice_id"])
                reason = (before or {}).get("risk_reason") or weighted(self.rng, RISK_REASONS["other"])
            self.out["collection_plan"].append(
                {
                    "plan_id": self.ids["collection_plan"].next(),
                    "invoice_id": inv["invoice_id"],
                    "customer_id": inv["customer_id"],
                    "rep_id": owners.get(inv["customer_id"], ""),
                    "planned_week_start": monday,
                    "planned_amount": _whole(left),
                    "risk_reason": reason,
                    "updated_at": stamp,
                }
            )
        self.out["collection_plan"] = [r for r in self.out["collection_plan"] if r["rep_id"]]

    def _feedback(self) -> None:
        """About FEEDBACK_SHARE of orders get feedback 15 to 60 days after the order."""
        first = self.day - timedelta(days=60)
        for order in self.h.since("sales_orders", first):
            if order["status"] != "open":
                continue  # the first version of each order
            age = (self.day - date.fromisoformat(order["order_date"])).days
            if not 15 <= age <= 60 or self.rng.random() >= FEEDBACK_SHARE / 46:
                continue
            if order["customer_id"] not in self.customers:
                continue
            score = int(weighted(self.rng, SATISFACTION))
            category = weighted(self.rng, CATEGORIES)
            mood = "good" if score >= 4 else "neutral" if score == 3 else "bad"
            self.out["feedback"].append(
                {
                    "customer_id": order["customer_id"],
                    "rep_id": order["rep_id"] if self.rng.random() < 0.9 else None,
                    "feedback_date": self.day,
                    "satisfaction": score,
                    "category": category,
                    "comment": self.rng.choice(COMMENTS[(category, mood)])
                    if self.rng.random() < 0.7
                    else None,
                }
            )
        self.out["feedback"].sort(key=lambda r: r["customer_id"])
        self.out["feedback"] = [
            {"feedback_id": self.ids["feedback"].next(), **r} for r in self.out["feedback"]
        ]

    def _targets(self) -> None:
        """On a quarter's first day, the quarter's targets: each rep's weekly targets from the last quarter's
        (with growth and the year-end uplift), the teams' and regions' as their sums."""
        if self.day != quarter_start(self.day):
            return
        last = [r for r in self._last_target_rows if r["target_level"] == "rep"]
        weekly: dict[str, list[Decimal]] = defaultdict(list)
        for r in last:
            weekly[r["owner_id"]].append(_money(r["target_amount"]))
        if not weekly:
            return
        mean = statistics.mean(float(sum(v) / len(v)) for v in weekly.values())
        season = Q4_UPLIFT if self.day.month == 10 else 1 / Q4_UPLIFT if self.day.month == 1 else 1.0
        stamp = datetime.combine(self.day, time(8, 0)) + timedelta(minutes=self.rng.randrange(90))
        mondays = quarter_mondays(self.day)
        team_sum: dict[str, int] = defaultdict(int)
        region_sum: dict[str, int] = defaultdict(int)
        rows = []

        def row(level: str, owner: str, first: date, end: date, amount: int) -> None:
            rows.append(
                {
                    "target_id": self.ids["targets"].next(),
                    "target_level": level,
                    "owner_id": owner,
                    "period_start": first,
                    "period_end": end,
                    "target_amount": amount,
                    "updated_at": stamp,
                }
            )

        for rep in self.quota:
            amounts = weekly.get(rep["rep_id"])
            base = float(sum(amounts) / len(amounts)) if amounts else mean
            for m in mondays:
                amount = (
                    int(round(base * season * (1 + GROWTH / 8) * self.rng.uniform(0.95, 1.05) / 100)) * 100
                )
                row("rep", rep["rep_id"], m, m + timedelta(days=6), amount)
                team_sum[rep["team_id"]] += amount
                region_sum[rep["region"]] += amount
        period = (mondays[0], mondays[-1] + timedelta(days=6))
        for team in dict.fromkeys(r["team_id"] for r in self.quota):
            row("team", team, *period, team_sum[team])
        for region in dict.fromkeys(r["region"] for r in self.quota):
            row("region", region, *period, region_sum[region])
        self.out["targets"] = rows


# --- writing the delivery ---------------------------------------------------------------------


def _write_day(
    landing: Path, contract: Contract, day: date, tables: dict[str, list[dict]], h: _History
) -> None:
    """Every entity's file for `day`, then the manifests (the delivery is complete only then)."""
    last = h.dates[-1]
    known: dict[str, dict[str, tuple[int, str]]] = defaultdict(dict)
    for entity in contract.entities:
        path = landing / contract.file_path(entity.system, entity.name, day.isoformat())
        if entity.load_mode == "snapshot":  # the full list, as of the last delivery
            data = h.path(entity.name, last).read_bytes()
            _write_bytes(path, data)
            known[entity.system][entity.name] = (
                len(h.rows(entity.name, last)),
                hashlib.sha256(data).hexdigest(),
            )
        else:
            rows = _one_version_per_key(entity, tables.get(entity.name, []))
            names = entity.column_names
            known[entity.system][entity.name] = _write_csv(
                path, names, _lines(rows, names, [c.type for c in entity.columns])
            )
    for system in contract.systems:
        write_manifest(landing, contract, system, day.isoformat(), known=known[system])


def _one_version_per_key(entity: Entity, rows: list[dict]) -> list[dict]:
    """The day's last version of each key, sorted by key (as the generator writes a day)."""
    latest: dict[tuple, dict] = {}
    for r in rows:
        latest[tuple(str(r[k]) for k in entity.primary_key)] = r
    return [latest[k] for k in sorted(latest)]
