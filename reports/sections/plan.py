"""计划 Plan: the week after the pack's week, for the pack's audience (倒推法, 002; 004 §2.5).

- next week's target decomposed down to the reps (fct_plan_targets, next_week): the rep rows add up to
  the total to the cent (the mart guarantees it), and the total shown is the mart's company or region row;
- the key deals expected to close, with owner and next step (fct_plan_key_deals);
- the collections due, with the rep who collects them (fct_collections_due_next_period, week);
- the selling effort by ABC class (fct_resource_allocation: A 40% / B 30% / C 20% / potential 10%).

The plan marts are computed relative to the warehouse's as-of date. A pack of an older week therefore
shows the plan of another week: the section names the week the plan is for (the marts' period_label).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reports import i18n
from reports.components import Column, Kpi, kpi_cards, section, table
from reports.context import PackContext, Period

KEY_DEALS_SHOWN = 10
ACCOUNT_NAMES_SHOWN = 2  # at most this many customer names per rep (the mart lists every one)
SEGMENTS = ("A", "B", "C", "potential")

tx = i18n.Texts(
    {
        "next_target": ("下周目标", "Target next week"),
        "weighted_pipeline": ("加权管道", "Weighted pipeline"),
        "coverage": ("管道覆盖（倍）", "Pipeline coverage (×)"),
        "deals_expected": ("预计签约商机", "Deals expected to close"),
        "collections_due": ("应收回款", "Collections due"),
        "invoices_due": ("应收发票数", "Invoices due"),
        "plan_share": ("占全公司", "Share of company"),
        "open_deals": ("预计签约单数", "Deals due"),
        "total": ("合计", "Total"),
        "reps_title": ("目标分解到销售代表：{label}", "The target by rep: {label}"),
        "deals_title": ("重点商机：{label}", "Key deals: {label}"),
        "deals_title_top": (
            "重点商机：{label}（共 {count} 笔，按加权金额列出前 {shown} 笔）",
            "Key deals: {label} (the {shown} largest by weighted amount of {count})",
        ),
        "collections_title": ("应收回款计划：{label}", "Collections due: {label}"),
        "segments_title": ("资源分配（ABC 分类）：{label}", "Selling effort by customer class: {label}"),
        "allocation_title": ("各销售代表计划拜访次数：{label}", "Planned visits by rep: {label}"),
        "owner": ("负责人", "Owner"),
        "stage": ("阶段", "Stage"),
        "probability": ("赢单概率 (%)", "Probability (%)"),
        "weighted": ("加权金额", "Weighted"),
        "close_date": ("预计签约日", "Expected close"),
        "next_step": ("下一步", "Next step"),
        "invoice": ("发票", "Invoice"),
        "due_date": ("到期日", "Due"),
        "due_category": ("类别", "Category"),
        "due_in_period": ("本期到期", "Falls due"),
        "overdue": ("已逾期", "Overdue"),
        "days_overdue": ("逾期天数", "Days overdue"),
        "open_balance": ("未收金额", "Open balance"),
        "risk_reason": ("风险原因", "Risk"),
        "segment": ("客户分类", "Class"),
        "segment_A": ("A 类", "A"),
        "segment_B": ("B 类", "B"),
        "segment_C": ("C 类", "C"),
        "segment_potential": ("潜力客户", "Potential"),
        "configured_share": ("资源比例", "Share of effort"),
        "planned_visits": ("计划拜访", "Planned visits"),
        "visits_of": ("{segment}拜访", "{segment} visits"),
        "customers": ("客户数", "Customers"),
        "window_sales": ("近12个月销售额", "Sales, last 12 months"),
        "capacity": ("周拜访能力", "Visits a week"),
        "key_accounts": ("A 类重点客户", "Key A accounts"),
        "more_accounts": ("{names} 等 {count} 家", "{names} and {more} more"),
        "no_plan": ("仓库中尚无下周的目标分解。", "The warehouse holds no plan for next week yet."),
        "no_deals": ("下周没有预计签约的商机。", "No deal is expected to close next week."),
        "no_collections": ("下周没有应收回款。", "No collection is due next week."),
        "no_allocation": ("尚无资源分配。", "No selling-effort plan yet."),
    }
)


@dataclass
class PlanData:
    total: dict[str, Any] | None  # the audience's row of fct_plan_targets (company or region), next week
    reps: list[dict[str, Any]] = field(default_factory=list)  # its rep rows, largest plan first
    deals: list[dict[str, Any]] = field(default_factory=list)  # every next-week key deal, by deal_rank
    collections: list[dict[str, Any]] = field(default_factory=list)  # overdue first, then largest
    segments: list[dict[str, Any]] = field(default_factory=list)  # per segment, summed over the reps
    allocation: list[dict[str, Any]] = field(default_factory=list)  # per rep, the segments side by side

    @property
    def key_deals(self) -> list[dict[str, Any]]:
        return self.deals[:KEY_DEALS_SHOWN]


_TARGET_COLUMNS = (
    "period_start_date, period_end_date, period_label, level, unit_id, unit_name, region, team_id, "
    "team_name, plan_amount, plan_share, weighted_pipeline_amount, open_deal_count, pipeline_coverage_rate"
)


def load(ctx: PackContext) -> PlanData:
    unit_where, unit_params = ctx.unit()
    region_where, region_params = ctx.in_region()
    total = ctx.rows(
        f"select {_TARGET_COLUMNS} from marts.fct_plan_targets where plan_horizon = 'next_week' and "
        + unit_where,
        unit_params,
    )
    reps = ctx.rows(
        f"select {_TARGET_COLUMNS} from marts.fct_plan_targets "
        f"where plan_horizon = 'next_week' and level = 'rep' and {region_where} "
        "order by plan_amount desc, unit_name, unit_id",
        region_params,
    )
    deals = ctx.rows(
        "select period_start_date, period_label, deal_rank, opportunity_name, owner_rep_name, team_name, "
        "region, stage_name, amount, probability, weighted_amount, expected_close_date, next_step "
        f"from marts.fct_plan_key_deals where plan_horizon = 'next_week' and {region_where} "
        "order by deal_rank",
        region_params,
    )
    collections = ctx.rows(
        "select period_start_date, period_label, invoice_id, customer_name, rep_name, region, due_date, "
        "open_balance, due_category, days_overdue_at_plan_start, risk_reason "
        f"from marts.fct_collections_due_next_period where period_type = 'week' and {region_where} "
        "order by due_category = 'overdue' desc, open_balance desc, invoice_id",
        region_params,
    )
    segments = ctx.rows(
        "select segment, any_value(plan_week_start_date) as plan_week_start_date, "
        "max(configured_share) as configured_share, "
        # planned visits carry 2 decimals: summed as decimals, the total does not depend on row order
        "cast(sum(cast(planned_visits as decimal(18, 2))) as double) as planned_visits, "
        "sum(customer_count) as customer_count, sum(window_sales_amount) as window_sales_amount "
        f"from marts.fct_resource_allocation where {region_where} group by segment",
        region_params,
    )
    segments.sort(key=lambda s: SEGMENTS.index(s["segment"]) if s["segment"] in SEGMENTS else len(SEGMENTS))
    per_segment = ctx.rows(
        "select plan_week_start_date, rep_id, rep_name, team_name, region, segment, "
        "capacity_visits_per_week, planned_visits, customer_count, "
        f"customer_names[1:{ACCOUNT_NAMES_SHOWN}] as first_names "
        f"from marts.fct_resource_allocation where {region_where} order by team_name, rep_name, rep_id",
        region_params,
    )
    return PlanData(
        total=(total or [None])[0],
        reps=reps,
        deals=deals,
        collections=collections,
        segments=segments,
        allocation=_by_rep(per_segment),
    )


def _by_rep(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per rep with each segment's planned visits and the first few key A accounts."""
    reps: dict[str, dict[str, Any]] = {}
    for row in rows:
        rep = reps.setdefault(
            row["rep_id"],
            {
                "rep_id": row["rep_id"],
                "rep_name": row["rep_name"],
                "team_name": row["team_name"],
                "region": row["region"],
                "plan_week_start_date": row["plan_week_start_date"],
                "capacity_visits_per_week": row["capacity_visits_per_week"],
                "a_names": [],
                "a_count": 0,
            },
        )
        rep[f"visits_{row['segment']}"] = row["planned_visits"]
        if row["segment"] == "A":
            rep["a_names"], rep["a_count"] = list(row["first_names"] or []), row["customer_count"] or 0
    return list(reps.values())


# ---------------------------------------------------------------------------------------------- findings


def _as_of_text(ctx: PackContext) -> str:
    return i18n.day_text(ctx.as_of, ctx.lang) + (f" {ctx.as_of.year}" if ctx.lang == "en" else "")


def _when(row: dict[str, Any], ctx: PackContext) -> str:
    """下周 / next week when the mart's period is the week after the pack's, else its label."""
    if row["period_start_date"] == ctx.period.next().start:
        return "下周" if ctx.lang == "zh-CN" else "next week"
    return f"{row['period_label']} " if ctx.lang == "zh-CN" else f"in {row['period_label']}"


def _times(value: float) -> str:
    return f"{float(value):.1f}"


def _target_sentence(data: PlanData, ctx: PackContext) -> str:
    lang, total = ctx.lang, data.total
    if total is None:
        return tx("no_plan", lang)
    label, money, n = total["period_label"], i18n.money(total["plan_amount"], lang), len(data.reps)
    coverage = total["pipeline_coverage_rate"]
    is_next = total["period_start_date"] == ctx.period.next().start
    if lang == "zh-CN":
        if is_next:
            text = f"下周（{label}）目标 {money}，已分解到 {n} 名销售代表"
        else:
            text = (
                f"计划周为 {label}（按 {_as_of_text(ctx)} 的数据生成，不是本期之后的 "
                f"{ctx.period.next().label}）：目标 {money}，已分解到 {n} 名销售代表"
            )
        if coverage is not None:
            text += f"；加权管道覆盖 {_times(coverage)} 倍"
        return text + "。"
    reps = "1 rep" if n == 1 else f"{n} reps"
    if is_next:
        text = f"Next week ({label}) the target is {money}, split across {reps}"
    else:
        text = (
            f"The plan is for {label} (made on the data of {_as_of_text(ctx)}, not the week after this "
            f"pack, {ctx.period.next().label}): the target is {money}, split across {reps}"
        )
    if coverage is not None:
        text += f"; the weighted pipeline covers it {_times(coverage)} times"
    return text + "."


def _deals_sentence(data: PlanData, ctx: PackContext) -> str:
    lang, shown, count = ctx.lang, data.key_deals, len(data.deals)
    if not shown:
        return tx("no_deals", lang)
    when = _when(shown[0], ctx)
    amount = i18n.money(sum((d["amount"] or Decimal(0) for d in shown), Decimal(0)), lang)
    weighted = i18n.money(sum((d["weighted_amount"] or Decimal(0) for d in shown), Decimal(0)), lang)
    top, n = shown[0], len(shown)
    top_money = i18n.money(top["amount"], lang)
    if lang == "zh-CN":
        step = f"，下一步：{top['next_step']}" if top["next_step"] else ""
        lead = f"{top['opportunity_name']}（{top['owner_rep_name']}，{top_money}{step}）"
        if count > n:
            return (
                f"{when}预计签约商机 {count} 笔；重点推进前 {n} 笔，合计 {amount}（加权 {weighted}），"
                f"首位是{lead}。"
            )
        return f"{when}预计签约商机 {n} 笔，合计 {amount}（加权 {weighted}），首位是{lead}。"
    step = f", next step: {top['next_step']}" if top["next_step"] else ""
    lead = f"{top['opportunity_name']} ({top['owner_rep_name']}, {top_money}{step})"
    if count > n:
        return (
            f"{count} deals are expected to close {when}; the {n} key deals total {amount} "
            f"({weighted} weighted), led by {lead}."
        )
    if n == 1:
        return f"1 deal is expected to close {when}, {amount} ({weighted} weighted): {lead}."
    return f"{n} deals are expected to close {when}, {amount} in total ({weighted} weighted), led by {lead}."


def _collections_sentence(data: PlanData, ctx: PackContext) -> str:
    lang, rows = ctx.lang, data.collections
    if not rows:
        return tx("no_collections", lang)
    when = _when(rows[0], ctx)
    total = i18n.money(sum((r["open_balance"] or Decimal(0) for r in rows), Decimal(0)), lang)
    overdue = [r for r in rows if r["due_category"] == "overdue"]
    overdue_money = i18n.money(sum((r["open_balance"] or Decimal(0) for r in overdue), Decimal(0)), lang)
    n, k = len(rows), len(overdue)
    if lang == "zh-CN":
        text = f"{when}应收回款 {n} 笔共 {total}"
        if overdue:
            text += f"，其中已逾期 {k} 笔 {overdue_money}"
        return text + "。"
    text = (
        f"1 invoice ({total}) is due for collection {when}"
        if n == 1
        else (f"{n} invoices ({total}) are due for collection {when}")
    )
    if overdue and n == 1:
        text += ", already overdue"
    elif overdue:
        text += f", of which {k} ({overdue_money}) {'is' if k == 1 else 'are'} already overdue"
    return text + "."


def findings(data: PlanData, ctx: PackContext) -> list[str]:
    """下周（2026-W48）目标 399.0 万元，已分解到 41 名销售代表；加权管道覆盖 1.6 倍。
    下周预计签约商机 62 笔；重点推进前 10 笔，合计 …，首位是…（…）。下周应收回款 62 笔共 955.6 万元，…"""
    if data.total is None and not data.deals and not data.collections:
        return [tx("no_plan", ctx.lang)]
    return [_target_sentence(data, ctx), _deals_sentence(data, ctx), _collections_sentence(data, ctx)]


# ---------------------------------------------------------------------------------------------- page


def _kpis(data: PlanData, ctx: PackContext) -> str:
    lang, total = ctx.lang, data.total or {}
    if not total and not data.deals and not data.collections:
        return ""
    due = sum((r["open_balance"] or Decimal(0) for r in data.collections), Decimal(0))
    return kpi_cards(
        ctx,
        [
            Kpi("plan_target", tx("next_target", lang), total.get("plan_amount"), "money"),
            Kpi(
                "plan_pipeline", tx("weighted_pipeline", lang), total.get("weighted_pipeline_amount"), "money"
            ),
            Kpi("plan_coverage", tx("coverage", lang), total.get("pipeline_coverage_rate"), "number"),
            Kpi("plan_deals", tx("deals_expected", lang), len(data.deals), "int"),
            Kpi("plan_collections", tx("collections_due", lang), due, "money"),
            Kpi("plan_invoices", tx("invoices_due", lang), len(data.collections), "int"),
        ],
    )


def _region_column(ctx: PackContext) -> list[Column]:
    return [] if ctx.audience.region else [Column("region_shown", i18n.t("region", ctx.lang))]


def _shown_region(row: dict[str, Any], ctx: PackContext) -> dict[str, Any]:
    return {**row, "region_shown": i18n.region_name(row.get("region") or "", ctx.lang)}


def _reps_table(data: PlanData, ctx: PackContext) -> str:
    lang = ctx.lang
    if data.total is None:
        return ""
    rows = [_shown_region(r, ctx) for r in data.reps]
    rows.append({**data.total, "unit_id": "total", "unit_name": tx("total", lang), "team_name": ""})
    columns = [
        Column("unit_name", i18n.t("rep", lang)),
        Column("team_name", i18n.t("team", lang)),
        *_region_column(ctx),
        Column("plan_amount", tx("next_target", lang), "money"),
        *([] if ctx.audience.region else [Column("plan_share", tx("plan_share", lang), "rate")]),
        Column("weighted_pipeline_amount", tx("weighted_pipeline", lang), "money"),
        Column("open_deal_count", tx("open_deals", lang), "int"),
        Column("pipeline_coverage_rate", tx("coverage", lang), "number"),
    ]
    caption = tx("reps_title", lang, label=data.total["period_label"])
    return table(ctx, "plan_reps", columns, rows, caption=caption, row_key="unit_id")


def _deals_table(data: PlanData, ctx: PackContext) -> str:
    lang, shown = ctx.lang, data.key_deals
    if not shown:
        return table(ctx, "plan_key_deals", [], [], empty=tx("no_deals", lang))
    rows = [{**_shown_region(d, ctx), "position": i} for i, d in enumerate(shown, start=1)]
    columns = [
        Column("position", i18n.t("rank", lang), "int"),
        Column("opportunity_name", i18n.t("deal", lang)),
        Column("owner_rep_name", tx("owner", lang)),
        *_region_column(ctx),
        Column("stage_name", tx("stage", lang)),
        Column("amount", i18n.t("amount", lang), "money"),
        Column("probability", tx("probability", lang), "int"),
        Column("weighted_amount", tx("weighted", lang), "money"),
        Column("expected_close_date", tx("close_date", lang), "date"),
        Column("next_step", tx("next_step", lang)),
    ]
    label = shown[0]["period_label"]
    caption = (
        tx("deals_title_top", lang, label=label, count=len(data.deals), shown=len(shown))
        if len(data.deals) > len(shown)
        else tx("deals_title", lang, label=label)
    )
    return table(ctx, "plan_key_deals", columns, rows, caption=caption, row_key="position")


def _collections_table(data: PlanData, ctx: PackContext) -> str:
    lang = ctx.lang
    if not data.collections:
        return table(ctx, "plan_collections", [], [], empty=tx("no_collections", lang))
    rows = [
        {
            **_shown_region(r, ctx),
            "category": tx(r["due_category"], lang),
            "days_overdue": r["days_overdue_at_plan_start"]
            if (r["days_overdue_at_plan_start"] or 0) > 0
            else None,
        }
        for r in data.collections
    ]
    columns = [
        Column("invoice_id", tx("invoice", lang)),
        Column("customer_name", i18n.t("customer", lang)),
        Column("rep_name", tx("owner", lang)),
        *_region_column(ctx),
        Column("due_date", tx("due_date", lang), "date"),
        Column("category", tx("due_category", lang)),
        Column("days_overdue", tx("days_overdue", lang), "days"),
        Column("open_balance", tx("open_balance", lang), "money"),
        Column("risk_reason", tx("risk_reason", lang)),
    ]
    caption = tx("collections_title", lang, label=data.collections[0]["period_label"])
    return table(ctx, "plan_collections", columns, rows, caption=caption, row_key="invoice_id")


def _accounts_text(rep: dict[str, Any], lang: str) -> str:
    names, count = rep["a_names"], rep["a_count"]
    if not names:
        return ""
    listed = "、".join(names) if lang == "zh-CN" else ", ".join(names)
    if count <= len(names):
        return listed
    return tx("more_accounts", lang, names=listed, count=count, more=count - len(names))


def _allocation_tables(data: PlanData, ctx: PackContext) -> str:
    lang = ctx.lang
    if not data.allocation:
        return table(ctx, "plan_allocation", [], [], empty=tx("no_allocation", lang))
    start = data.allocation[0]["plan_week_start_date"]
    label = Period.week(start).label if start else ""
    segments = [{**s, "segment_name": tx("segment_" + s["segment"], lang)} for s in data.segments]
    segment_table = table(
        ctx,
        "plan_allocation_segments",
        [
            Column("segment_name", tx("segment", lang)),
            Column("configured_share", tx("configured_share", lang), "rate"),
            Column("planned_visits", tx("planned_visits", lang), "number"),
            Column("customer_count", tx("customers", lang), "int"),
            Column("window_sales_amount", tx("window_sales", lang), "money"),
        ],
        segments,
        caption=tx("segments_title", lang, label=label),
        row_key="segment",
    )
    reps = [{**_shown_region(r, ctx), "accounts": _accounts_text(r, lang)} for r in data.allocation]
    visit_columns = [
        Column(f"visits_{s}", tx("visits_of", lang, segment=tx("segment_" + s, lang)), "number")
        for s in SEGMENTS
    ]
    rep_table = table(
        ctx,
        "plan_allocation_reps",
        [
            Column("rep_name", i18n.t("rep", lang)),
            Column("team_name", i18n.t("team", lang)),
            *_region_column(ctx),
            Column("capacity_visits_per_week", tx("capacity", lang), "number"),
            *visit_columns,
            Column("accounts", tx("key_accounts", lang)),
        ],
        reps,
        caption=tx("allocation_title", lang, label=label),
        row_key="rep_id",
    )
    return segment_table + rep_table


def render(ctx: PackContext) -> PlanData:
    data = load(ctx)
    section(
        "plan",
        i18n.t("plan", ctx.lang),
        findings(data, ctx),
        _kpis(data, ctx),
        _reps_table(data, ctx),
        _deals_table(data, ctx),
        _collections_table(data, ctx),
        _allocation_tables(data, ctx),
    )
    return data
