"""Weekly quotas per rep, and team and region quarterly targets that add up exactly.

Targets are calibrated on the simulated wins so that the company lands around 92% attainment:
half of a rep's quota follows the rep's own results, half the company average, so strong reps
end green, weak reps and the lagging region red.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from pipelines.sample.generator.common import Timeline, next_quarter_start, quarter_start, rng_for
from pipelines.sample.generator.company import Company, Rep
from pipelines.sample.generator.pipeline import Opportunity

COMPANY_ATTAINMENT = 0.92
Q4_UPLIFT = 1.2
GROWTH = 0.2  # targets rise with the business over the simulated period
WARMUP_IGNORED_DAYS = 60  # the pipeline is still filling up at the start of the simulation


def seasonal_factor(monday: date, timeline: Timeline) -> float:
    return (Q4_UPLIFT if monday.month >= 10 else 1.0) * (1 + GROWTH * timeline.fraction(monday))


def quarter_mondays(q_start: date) -> list[date]:
    """Mondays that fall in the quarter starting at q_start (a week belongs to its Monday's quarter)."""
    monday = q_start + timedelta(days=(7 - q_start.weekday()) % 7)
    mondays = []
    while monday < next_quarter_start(q_start):
        mondays.append(monday)
        monday += timedelta(days=7)
    return mondays


def weekly_bases(company: Company, won: list[Opportunity], timeline: Timeline, seed: int) -> dict[str, float]:
    """Per rep: target per week before seasonality."""
    rng = rng_for(seed, "targets")
    calibration = [
        m
        for m in timeline.weeks()
        if m >= timeline.sim_start + timedelta(days=WARMUP_IGNORED_DAYS)
        and m + timedelta(days=6) <= timeline.end
    ]
    first, last = (calibration[0], calibration[-1] + timedelta(days=6)) if calibration else (None, None)
    factor_sum = sum(seasonal_factor(m, timeline) for m in calibration) or 1.0
    won_by_rep: dict[str, int] = defaultdict(int)
    for o in won:
        if first and first <= o.won_at.date() <= last:
            won_by_rep[o.owner.rep_id] += o.amount
    reps = company.quota_reps
    mean = sum(won_by_rep[r.rep_id] for r in reps) / len(reps)
    if mean <= 0:
        mean = 30_000 * factor_sum  # nothing won yet (a tiny window): a plausible default
    return {
        r.rep_id: (0.5 * won_by_rep[r.rep_id] + 0.5 * mean)
        / COMPANY_ATTAINMENT
        / factor_sum
        * rng.uniform(0.92, 1.08)
        for r in reps
    }


def build_targets(seed: int, company: Company, won: list[Opportunity], timeline: Timeline) -> list[dict]:
    rng = rng_for(seed, "target-weeks")
    bases = weekly_bases(company, won, timeline, seed)
    reps = company.quota_reps
    rows: list[dict] = []
    q = quarter_start(timeline.start)
    while q <= timeline.end:
        delivered = max(q, timeline.start)
        stamp = datetime.combine(delivered, time(8, 0)) + timedelta(minutes=rng.randrange(90))
        mondays = quarter_mondays(q)
        period = {
            "period_start": mondays[0],
            "period_end": mondays[-1] + timedelta(days=6),
            "updated_at": stamp,
        }
        team_sum: dict[str, int] = defaultdict(int)
        region_sum: dict[str, int] = defaultdict(int)
        for rep in reps:
            for m in mondays:
                amount = _round_hundred(
                    bases[rep.rep_id] * seasonal_factor(m, timeline) * rng.uniform(0.95, 1.05)
                )
                rows.append(_row(rows, "rep", rep.rep_id, m, m + timedelta(days=6), amount, stamp))
                team_sum[rep.team_id] += amount
                region_sum[rep.region] += amount
        for team_id in _ordered(reps, lambda r: r.team_id):
            rows.append(_row(rows, "team", team_id, **period, amount=team_sum[team_id]))
        for region in _ordered(reps, lambda r: r.region):
            rows.append(_row(rows, "region", region, **period, amount=region_sum[region]))
        q = next_quarter_start(q)
    return rows


def _round_hundred(x: float) -> int:
    return int(round(x / 100)) * 100


def _ordered(reps: list[Rep], key) -> list[str]:
    return list(dict.fromkeys(key(r) for r in reps))


def _row(
    rows: list[dict],
    level: str,
    owner: str,
    period_start: date,
    period_end: date,
    amount: int,
    updated_at: datetime,
) -> dict:
    return {
        "target_id": f"T{len(rows) + 1:07d}",
        "target_level": level,
        "owner_id": owner,
        "period_start": period_start,
        "period_end": period_end,
        "target_amount": amount,
        "updated_at": updated_at,
    }
