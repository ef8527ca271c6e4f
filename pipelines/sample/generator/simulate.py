"""Build the whole company history as in-memory tables (entity name -> rows of Python values).

Later steps (labelled defect injection, then deliveries.write_deliveries) work on these tables,
so nothing here knows about files.
"""

from __future__ import annotations

from datetime import date, timedelta

from pipelines.sample.generator import activities, company, erp, feedback, pipeline, targets
from pipelines.sample.generator.common import Timeline

WARMUP_DAYS = 270  # simulated before the window so that the funnel and receivables are full on day one


def make_timeline(end_date: date, days: int) -> Timeline:
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    start = end_date - timedelta(days=days - 1)
    return Timeline(sim_start=start - timedelta(days=WARMUP_DAYS), start=start, end=end_date)


def simulate(seed: int, scale: float, timeline: Timeline) -> dict[str, list[dict]]:
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    reps = company.build_reps(seed, scale, timeline)
    the_company = company.Company(reps, company.build_products(), [])
    the_company.customers = company.build_customers(seed, reps, timeline)
    deals = pipeline.build_pipeline(seed, the_company, timeline)
    won = pipeline.won_opportunities(deals.opportunities)
    company.add_tier_upgrades(
        the_company.customers, [(o.won_at, o.customer.customer_id, o.amount) for o in won]
    )
    books = erp.build_erp(seed, won, timeline)
    first_orders = [o for o in books.orders if o["status"] == "open"]
    by_id = {c.customer_id: c for c in the_company.customers}
    return {
        "reps": company.rep_rows(reps),
        "customers": company.customer_rows(the_company.customers, timeline),
        "leads": pipeline.lead_rows(deals.leads, timeline),
        "opportunities": pipeline.opportunity_rows(deals.opportunities),
        "opportunity_stage_history": pipeline.stage_history_rows(deals.opportunities),
        "activities": activities.build_activities(seed, the_company, deals.opportunities, timeline),
        "targets": targets.build_targets(seed, the_company, won, timeline),
        "feedback": feedback.build_feedback(seed, first_orders, by_id, timeline),
        "products": company.product_rows(the_company.products, timeline),
        "sales_orders": books.orders,
        "invoices": erp.invoice_rows(books.invoices),
        "payments": books.payments,
        "collection_plan": books.collection_plan,
    }
