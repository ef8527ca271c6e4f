"""问题 Problems: what went wrong or is about to, and who has to act on it (004 §2.3, §3.3, §4.6).

Deals past their promised signing date (fct_slipped_deals: slipped when more than the tolerance late,
about to slip when 1 to tolerance days late; low-probability ones marked), overdue invoices with the
reason and whether it is ours to fix (fct_ar_overdue_invoices), the aging of the open receivables on
the as-of date (fct_ar_aging), customers who pay markedly slower than they used to
(fct_customer_payment_drift), churn warnings by the level they go to (dim_customers), lost deals by
reason and competitor, reps behind the quarter's time-elapsed plan (fct_attainment_periods), and the
records that data-quality rules of severity 'block' keep out of every figure (quality.quarantine), with
the amount they hold back: a blocking rule can take a third of a week's sales out of the pack, and the
findings say so first.

The row-level marts describe the warehouse's as-of date (what is slipped or overdue now); the lost deals
and the held-back records are placed in the pack's week by their own dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import altair as alt
import pandas as pd

from reports import i18n
from reports.components import (
    Column,
    Kpi,
    chart,
    esc,
    kpi_cards,
    money_axis_values,
    section,
    subsection,
    table,
)
from reports.context import PackContext

TOP_ROWS = 15  # long lists are cut to their largest rows (the caption says so; downloads hold the shown rows)
LOST_MIN_WEEK_DEALS = 5  # fewer lost deals in the week: lost deals are shown for the month to date
MATERIAL_SHARE = 0.10  # held-back amount worth this share of a week's figure leads the findings
WARNING_LEVELS = ("director", "manager", "rep")  # most severe first
KINDS = ("won", "order", "payment", "deal", "other")  # what a blocked record holds back
WEEK_FIGURES = ("won", "order", "payment")  # the kinds a week reports a figure of (load_week_basis)
LAG_LIGHT = {"on_track": "green", "yellow": "yellow", "red": "red", "none": "none"}

tx = i18n.Texts(
    {
        # sub-headings
        "deals_title": ("延期与风险商机", "Slipped and at-risk deals"),
        "receivables_title": ("逾期应收与账龄", "Overdue receivables and aging"),
        "customers_title": ("客户风险", "Customers at risk"),
        "lost_title": ("丢单原因", "Lost deals"),
        "reps_title": ("进度落后的销售代表", "Reps behind plan"),
        "held_back_title": ("数据质量拦截", "Records held back by data-quality rules"),
        # KPI cards
        "kpi_slipped": ("延期商机金额", "Slipped deals"),
        "kpi_overdue": ("逾期应收", "Overdue receivables"),
        "kpi_controllable": ("可控原因占比", "Controllable share"),
        "kpi_churn": ("流失预警客户", "Churn warnings"),
        "kpi_reps_behind": ("进度落后销售", "Reps behind plan"),
        "kpi_held_back": ("本周被拦截金额", "Held back this week"),
        # columns
        "risk": ("风险", "Risk"),
        "stage": ("阶段", "Stage"),
        "probability": ("成交概率", "Probability"),
        "promised": ("承诺签约日", "Promised"),
        "days_slipped": ("延期天数", "Days late"),
        "next_step": ("下一步", "Next step"),
        "invoice": ("发票号", "Invoice"),
        "due_date": ("到期日", "Due"),
        "days_late": ("逾期天数", "Days late"),
        "open_balance": ("未收金额", "Open balance"),
        "reason": ("原因", "Reason"),
        "controllability": ("可控性", "Controllable"),
        "bucket": ("账龄区间", "Aging bucket"),
        "invoices": ("发票数", "Invoices"),
        "share": ("占比", "Share"),
        "earlier_days": ("以往回款天数", "Earlier days to pay"),
        "recent_days": ("近期回款天数", "Recent days to pay"),
        "drift_days": ("变化天数", "Change (days)"),
        "recent_invoices": ("近期已结发票", "Recent paid invoices"),
        "abc": ("ABC 分类", "ABC class"),
        "warning_level": ("预警级别", "Warning level"),
        "recipient": ("预警接收人", "Goes to"),
        "churn_probability": ("流失概率", "Churn probability"),
        "decline_months": ("连续下降月数", "Months declining"),
        "last_order": ("最近下单", "Last order"),
        "window_sales": ("近 12 个月采购", "Purchases, last 12 months"),
        "level_customers": ("客户数", "Customers"),
        "loss_reason": ("丢单原因", "Loss reason"),
        "competitor": ("竞争对手", "Competitor"),
        "deals": ("商机数", "Deals"),
        "target_to_date": ("时间进度目标", "Target to date"),
        "to_date_rate": ("进度达成率", "Attainment to date"),
        "behind": ("落后幅度", "Behind plan"),
        "gap_to_date": ("进度缺口", "Gap to date"),
        "lag": ("进度预警", "Pace"),
        "rule": ("规则", "Rule"),
        "records": ("记录数", "Records"),
        "held_amount": ("涉及金额", "Amount"),
        "week_records": ("本周记录", "This week"),
        "week_amount": ("本周金额", "Amount this week"),
        "new_records": ("本周新发现", "First seen this week"),
        # cell values
        "risk_slipped": ("已延期", "Slipped"),
        "risk_due": ("刚过承诺日", "Just past due"),
        "risk_low": ("，低概率", ", low probability"),
        "controllable": ("可控", "Controllable"),
        "uncontrollable": ("不可控", "Uncontrollable"),
        "unknown": ("未登记", "Not recorded"),
        "no_reason": ("未登记原因", "No reason recorded"),
        "level_director": ("总监级", "Director"),
        "level_manager": ("经理级", "Manager"),
        "level_rep": ("销售代表级", "Rep"),
        "not_recorded": ("未填写", "Not recorded"),
        # findings (English words that agree with a count: {s} {are} {were} {hold} {carry} {pay})
        "end": ("。", "."),
        "sep": ("；", "; "),
        "list_sep": ("、", ", "),
        "held_week": (
            "数据质量规则拦截了本周 {n} 条记录，涉及 {amount}，未计入本报告各项数字：{parts}",
            "Data-quality rules held back {n} record{s} dated this week, worth {amount}, left out of "
            "every figure in this pack: {parts}",
        ),
        "held_won": ("赢单 {n} 笔 {amount}", "{n} won deal{s} worth {amount}"),
        "held_order": ("订单 {n} 笔 {amount}", "{n} order{s} worth {amount}"),
        "held_payment": ("回款 {n} 笔 {amount}", "{n} payment{s} worth {amount}"),
        "held_deal": ("其他商机 {n} 笔 {amount}", "{n} other deal{s} worth {amount}"),
        "held_other": ("其他记录 {n} 条 {amount}", "{n} other record{s} worth {amount}"),
        "share_won": ("，相当于本周成交额的 {share}", " ({share} of the week's sales)"),
        "share_order": ("，相当于本周订单额的 {share}", " ({share} of the week's orders)"),
        "share_payment": ("，相当于本周回款额的 {share}", " ({share} of the week's collections)"),
        "no_basis_won": ("，本周无已计成交额", " (the week reported no sales)"),
        "no_basis_order": ("，本周无已计订单额", " (the week reported no orders)"),
        "no_basis_payment": ("，本周无已计回款额", " (the week reported no collections)"),
        "held_total": (
            "数据质量规则目前共拦截 {n} 条记录，涉及 {amount}，均不属于本周，但不计入任何指标",
            "Data-quality rules hold back {n} record{s} worth {amount} in all, none of them from this "
            "week; they are left out of every figure",
        ),
        "slipped": (
            "{n} 笔商机已过承诺签约日仍未签约，共 {amount}，最久延期 {days_n} 天",
            "{n} deal{s} worth {amount} {are} past the promised signing date, the longest by "
            "{days_n} day{days_s}",
        ),
        "slipped_low": (
            "，其中 {n} 笔（{amount}）成交概率低",
            "; {n} of them ({amount}) {are} low-probability",
        ),
        "slipped_due": (
            "；另有 {n} 笔刚过承诺日、尚在容忍期内（{amount}）",
            "; {n} more ({amount}) {are} just past the date, within the tolerance",
        ),
        "due_only": (
            "{n} 笔商机刚过承诺签约日、尚在容忍期内（{amount}）",
            "{n} deal{s} ({amount}) {are} just past the promised signing date, within the tolerance",
        ),
        "overdue": (
            "逾期应收 {n} 笔共 {amount}，最长逾期 {days_n} 天",
            "{n} overdue invoice{s} {hold} {amount}, the oldest {days_n} day{days_s} late",
        ),
        "overdue_split": ("；按金额计，{split}", "; by amount {split}"),
        "split_controllable": ("{share} 为可控原因", "{share} for reasons we control"),
        "split_uncontrollable": ("{share} 为不可控原因", "{share} for the customer's reasons"),
        "split_unknown": ("{share} 未登记原因", "{share} with no reason recorded"),
        "overdue_drift": ("；{n} 家客户回款周期明显变长", "; {n} customer{s} now {pay} markedly slower"),
        "drift": (
            "{n} 家客户回款周期明显变长，最多的是{customer}（由 {before} 天变为 {after} 天）",
            "{n} customer{s} now {pay} markedly slower than before, most of all {customer} "
            "({before} → {after} days)",
        ),
        "churn": ("{n} 家客户触发流失预警（{levels}）", "{n} customer{s} {carry} a churn warning ({levels})"),
        "churn_level": ("{level} {n} 家", "{n} at {level} level"),
        "churn_a": ("，其中 A 类客户 {n} 家", ", {n} of them A-class"),
        "churn_top": (
            "；采购额最大的是{customer}（{rep}负责，近 12 个月 {amount}）",
            "; the largest is {customer} ({rep}, {amount} in the last 12 months)",
        ),
        "reps": (
            "季度至今 {n} 名销售代表落后时间进度（{lights}），落后最多的是{names}",
            "{n} rep{s} {are} behind the quarter's time-elapsed plan ({lights}); furthest behind: {names}",
        ),
        "reps_red": ("{n} 名红灯", "{n} red"),
        "reps_yellow": ("{n} 名黄灯", "{n} yellow"),
        "reps_name": ("{name}（落后 {share}）", "{name} ({share} behind)"),
        "lost_week": ("本周丢单 {n} 笔共 {amount}", "{n} deal{s} worth {amount} {were} lost this week"),
        "lost_month": (
            "本周仅丢单 {week_n} 笔；本月至今丢单 {n} 笔共 {amount}",
            "{week_n} deal{week_s} {week_were} lost this week; month to date {n} deal{s} worth {amount} "
            "{were} lost",
        ),
        "lost_reason": (
            "，金额最多的原因是“{reason}”（{n} 笔，{amount}）",
            ", the largest amount for '{reason}' ({n} deal{s}, {amount})",
        ),
        "lost_competitor": ("；输给{name}最多（{n} 笔）", "; we lost most often to {name} ({n} deal{s})"),
        "all_clear": (
            "本周没有延期商机、逾期应收、流失预警或被拦截的记录。",
            "No slipped deal, overdue invoice, churn warning or held-back record this week.",
        ),
        # captions
        "as_of": ("截至 {as_of}", "as of {as_of}"),
        "top": ("金额最大的 {shown} 笔（共 {total} 笔）", "the {shown} largest of {total}"),
        "top_customers": ("最重要的 {shown} 家（共 {total} 家）", "the {shown} most important of {total}"),
        "top_competitors": ("最常遇到的 {shown} 家（共 {total} 家）", "the {shown} most frequent of {total}"),
        "top_reps": ("落后最多的 {shown} 名（共 {total} 名）", "the {shown} furthest behind of {total}"),
        "deals_caption": ("已过承诺签约日的未结商机，{when}", "Open deals past their promised date, {when}"),
        "overdue_caption": ("逾期发票，{when}", "Overdue invoices, {when}"),
        "aging_caption": ("应收账龄，{when}", "Receivables by age, {when}"),
        "unapplied_note": (
            "另有未核销回款 {cash}（预收款，或找不到对应发票的回款），不计入账龄；应收净额 {net}。",
            "Besides, {cash} of unapplied cash (prepayments, or payments whose invoice is not delivered) is "
            "in no age bucket; net receivables {net}.",
        ),
        "drift_caption": (
            "回款周期明显变长的客户（信用风险信号），{when}",
            "Customers paying markedly slower than before (a credit-risk signal), {when}",
        ),
        "churn_levels_caption": (
            "流失预警：按级别（依据截至{month}的采购）",
            "Churn warnings by level (judged on purchases to {month})",
        ),
        "churn_caption": (
            "流失预警客户，按级别和采购额排序",
            "Customers with a churn warning, by level and purchases",
        ),
        "lost_reason_caption": ("丢单：按原因，{window}", "Lost deals by reason, {window}"),
        "lost_competitor_caption": ("丢单：按竞争对手，{window}", "Lost deals by competitor, {window}"),
        "window_week": ("本周（{start}至{end}）", "this week ({start} – {end})"),
        "window_month": (
            "本周丢单不足 {min} 笔，按本月至今（{start}至{end}）统计",
            "month to date ({start} – {end}): fewer than {min} lost this week",
        ),
        "reps_caption": ("季度至今落后时间进度的销售代表", "Reps behind the quarter's time-elapsed plan"),
        "held_back_caption": (
            "严重级别为「拦截」的规则：记录不进入任何指标。金额为商机、订单或回款的金额；"
            "“本周”按成交、下单或回款日期计。",
            "Rules of severity 'block': the records enter no figure. The amount is the deal's, order's "
            "or payment's; 'this week' by its closing, order or payment date.",
        ),
        "held_back_region_note": (
            "负责人不明的记录只在全公司报告中列出。",
            "Records without a known rep are listed in the company pack only.",
        ),
        "chart_aging": ("应收账龄分布", "Open receivables by age"),
        "none_slipped": ("没有已过承诺签约日的未结商机。", "No open deal is past its promised date."),
        "none_open": ("没有未收应收款。", "No receivable is open."),
        "none_overdue": ("没有逾期发票。", "No invoice is overdue."),
        "none_drift": ("没有回款周期明显变长的客户。", "No customer pays markedly slower than before."),
        "none_churn": ("没有流失预警。", "No churn warning."),
        "none_lost": ("期间内没有丢单。", "No deal was lost in this period."),
        "none_competitor": (
            "期间内的丢单未记录竞争对手。",
            "No deal lost in this period names a competitor.",
        ),
        "none_behind": ("没有落后进度的销售代表。", "No rep is behind plan."),
        "none_held_back": ("没有被拦截的记录。", "No record is held back."),
        # rules of severity 'block' (short names), CRM loss reasons and competitors (English names)
        "rule_overpayment": ("超额回款", "Overpayment"),
        "rule_won_without_order": ("赢单无订单", "Won deal without ERP order"),
        "rule_order_without_opportunity": ("订单无商机", "Order without CRM deal"),
        "rule_orphan_order_customer": ("订单客户不存在", "Order for an unknown customer"),
        "rule_orphan_payment_invoice": ("回款发票不存在", "Payment for an unknown invoice"),
        "rule_unknown_rep": ("商机负责人不存在", "Deal owned by an unknown rep"),
        "rule_unknown_product": ("商机产品不在目录中", "Deal for a product not in the catalogue"),
        "rule_unknown_customer": ("商机客户缺失或不存在", "Deal with a missing or unknown customer"),
        "rule_won_amount_differs_from_order": ("赢单金额与订单不符", "Won amount differs from the ERP order"),
        "rule_orphan_opportunity_reference": (  # before 0.3: unknown rep or product in one rule
            "商机负责人或产品不存在",
            "Deal with an unknown rep or product",
        ),
        "loss_需求变化": ("需求变化", "Changed requirements"),
        "loss_预算不足": ("预算不足", "No budget"),
        "loss_无决策": ("无决策", "No decision"),
        "loss_价格": ("价格", "Price"),
        "loss_竞争对手": ("竞争对手", "Competitor"),
        "competitor_本地服务商": ("本地服务商", "Local provider"),
    }
)


def crm_value(prefix: str, value: str | None, lang: str) -> str:
    """A CRM value (loss reason, competitor) in the pack's language: tx's word for it when there is one,
    else the value as the CRM wrote it."""
    if value is None:
        return tx("not_recorded", lang)
    key = prefix + value
    return tx(key, lang) if key in tx.texts else value


def rule_name(rule_id: str, lang: str) -> str:
    """A data-quality rule's short name (the quality_rules seed describes it at length); else its id."""
    key = "rule_" + rule_id
    return tx(key, lang) if key in tx.texts else rule_id


@dataclass
class ProblemsData:
    slipped: list[dict[str, Any]] = field(default_factory=list)  # fct_slipped_deals, days_late > 0
    overdue: list[dict[str, Any]] = field(default_factory=list)  # fct_ar_overdue_invoices
    aging: list[dict[str, Any]] = field(default_factory=list)  # fct_ar_aging, as-of date, the audience
    drifting: list[dict[str, Any]] = field(default_factory=list)  # fct_customer_payment_drift.is_drifting
    churn: list[dict[str, Any]] = field(default_factory=list)  # dim_customers with a warning level
    lost_by_reason: list[dict[str, Any]] = field(default_factory=list)
    lost_by_competitor: list[dict[str, Any]] = field(default_factory=list)
    lost_window: str = "week"  # "week" or "month" (month to date: too few lost in the week)
    lost_start: date | None = None
    lost_end: date | None = None
    lost_week_count: int = 0  # deals lost in the week itself
    reps_behind: list[dict[str, Any]] = field(default_factory=list)  # quarter rows, yellow or red
    held_back: list[dict[str, Any]] = field(default_factory=list)  # one row per blocking rule
    held_back_week: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> records, amount
    held_back_total: dict[str, Any] = field(default_factory=dict)  # records, amount (distinct records)
    week_basis: dict[str, Any] = field(default_factory=dict)  # kind -> the week's reported figure


# ---------------------------------------------------------------------------------------------- load


def _sum(rows: list[dict[str, Any]], key: str) -> Decimal:
    return sum((Decimal(str(r[key])) for r in rows if r.get(key) is not None), Decimal(0))


def _share(part: Decimal, whole: Any) -> float | None:
    return None if whole is None or not Decimal(str(whole)) else float(part / Decimal(str(whole)))


def load_slipped(ctx: PackContext) -> list[dict[str, Any]]:
    where, params = ctx.in_region("deals.region")
    return ctx.rows(
        "select deals.opportunity_id, deals.opportunity_name, deals.customer_id, customers.customer_name, "
        "deals.owner_rep_id, deals.rep_name, deals.region, deals.stage_key, deals.stage_name, "
        "stages.stage_name_en, deals.amount, deals.probability, deals.probability_band, "
        "deals.expected_close_date, deals.days_late, deals.is_slipped, deals.next_step "
        "from marts.fct_slipped_deals as deals "
        "left join marts.dim_customers as customers on deals.customer_id = customers.customer_id "
        "left join seeds.funnel_stages as stages on deals.stage_key = stages.stage_key "
        f"where {where} order by deals.amount desc nulls last, deals.days_late desc, deals.opportunity_id",
        params,
    )


def load_overdue(ctx: PackContext) -> list[dict[str, Any]]:
    where, params = ctx.in_region()
    return ctx.rows(
        "select invoice_id, customer_id, customer_name, rep_id, rep_name, region, due_date, "
        "invoice_amount, open_balance, days_late, aging_bucket_key, risk_reason, risk_reason_en, "
        "is_controllable, controllability from marts.fct_ar_overdue_invoices "
        f"where {where} order by open_balance desc, days_late desc, invoice_id",
        params,
    )


def load_aging(ctx: PackContext) -> list[dict[str, Any]]:
    where, params = ctx.unit("aging")
    return ctx.rows(
        "select aging.snapshot_date, aging.bucket_key, aging.bucket_label, buckets.bucket_label_en, "
        "aging.bucket_order, aging.open_balance, aging.invoice_count, aging.total_open_balance, "
        "aging.share_of_open_balance, aging.total_unapplied_cash, aging.total_net_open_balance "
        "from marts.fct_ar_aging as aging "
        "left join seeds.aging_buckets as buckets on aging.bucket_key = buckets.bucket_key "
        f"where aging.is_as_of_date and {where} order by aging.bucket_order",
        params,
    )


def load_drifting(ctx: PackContext) -> list[dict[str, Any]]:
    where, params = ctx.in_region("drift.region")
    return ctx.rows(
        "select drift.customer_id, drift.customer_name, drift.rep_id, reps.rep_name, drift.region, "
        "drift.earlier_avg_days_to_settle, drift.recent_avg_days_to_settle, drift.drift_days, "
        "drift.earlier_paid_invoice_count, drift.recent_paid_invoice_count "
        "from marts.fct_customer_payment_drift as drift "
        "left join marts.dim_reps as reps on drift.rep_id = reps.rep_id "
        f"where drift.is_drifting and {where} order by drift.drift_days desc, drift.customer_id",
        params,
    )


def load_churn(ctx: PackContext) -> list[dict[str, Any]]:
    where, params = ctx.in_region("customers.region")
    return ctx.rows(
        "select customers.customer_id, customers.customer_name, customers.region, customers.owner_rep_id, "
        "customers.owner_rep_name, customers.abc_class, customers.warning_level, "
        "customers.warning_recipient_rep_id, recipients.rep_name as recipient_name, "
        "customers.churn_probability, customers.decline_streak_months, customers.last_order_date, "
        "customers.window_sales_amount, customers.churn_month_start_date "
        "from marts.dim_customers as customers "
        "left join marts.dim_reps as recipients on customers.warning_recipient_rep_id = recipients.rep_id "
        f"where customers.warning_level in ('director', 'manager', 'rep') and {where} "
        "order by case customers.warning_level when 'director' then 1 when 'manager' then 2 else 3 end, "
        "customers.window_sales_amount desc nulls last, customers.churn_probability desc, "
        "customers.customer_id",
        params,
    )


def load_lost(ctx: PackContext) -> tuple[list[dict], list[dict], str, date, date, int]:
    """Lost deals (the CRM's clean opportunities, placed in a region by their owner rep) by reason and
    by competitor: of the week, or, when the week lost fewer than LOST_MIN_WEEK_DEALS, of the month
    to date (from the first day of the month the week starts in to the week's end)."""
    where, params = ctx.in_region("reps.region")
    month_start, start, end = ctx.period.start.replace(day=1), ctx.period.start, ctx.period.end
    groups = ctx.rows(
        "select deals.loss_reason, deals.competitor, deals.closed_date >= ? as in_week, "
        "count(*) as deal_count, sum(deals.amount) as amount "
        "from clean.clean_crm__opportunities as deals "
        "inner join seeds.funnel_stages as stages on deals.stage_key = stages.stage_key "
        "left join marts.dim_reps as reps on deals.owner_rep_id = reps.rep_id "
        "where stages.is_closed and not stages.is_won and deals.closed_date between ? and ? "
        f"and {where} group by all",
        [start, month_start, end, *params],
    )
    week_count = sum(g["deal_count"] for g in groups if g["in_week"])
    window = "week" if week_count >= LOST_MIN_WEEK_DEALS else "month"
    if window == "month":
        start = month_start
    chosen = [g for g in groups if g["in_week"] or window == "month"]
    return (
        _lost_totals(chosen, "loss_reason"),
        _lost_totals([g for g in chosen if g["competitor"] is not None], "competitor"),
        window,
        start,
        end,
        week_count,
    )


def _lost_totals(groups: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Lost deals per value of `key`: deals, amount and share of the amount; largest first."""
    totals: dict[Any, dict[str, Any]] = {}
    for g in groups:
        row = totals.setdefault(g[key], {key: g[key], "deal_count": 0, "amount": Decimal(0)})
        row["deal_count"] += g["deal_count"]
        row["amount"] += Decimal(str(g["amount"] or 0))
    whole = sum((r["amount"] for r in totals.values()), Decimal(0))
    for row in totals.values():
        row["amount_share"] = _share(row["amount"], whole)
    order = ("amount", "deal_count") if key == "loss_reason" else ("deal_count", "amount")
    return sorted(totals.values(), key=lambda r: (-r[order[0]], -r[order[1]], r[key] or ""))


def load_reps_behind(ctx: PackContext) -> list[dict[str, Any]]:
    where, params = ctx.in_region()
    return ctx.rows(
        "select unit_id, unit_name, team_name, region, period_label, target_to_date_amount, actual_amount, "
        "attainment_to_date_rate, behind_plan_rate, gap_to_date_amount, lag_warning "
        "from marts.fct_attainment_periods where period_type = 'quarter' and level = 'rep' "
        "and period_start_date <= ? and period_end_date >= ? and lag_warning in ('yellow', 'red') "
        f"and {where} order by behind_plan_rate desc, unit_name",
        [ctx.period.end, ctx.period.end, *params],
    )


# The amounts of the records 'block' rules keep out of the marts come from the staging models (the clean_*
# views the marts read have left these records out). The ids are passed as a list so that DuckDB filters
# the staging views' rows before it picks each record's latest version (a sub-query would not be pushed
# down: a whole scan of the deals' history, several times slower).
_BLOCKED_VALUES = {
    "opportunities": "select deals.opportunity_id as record_id, deals.amount, stages.is_closed, "
    "stages.is_won, deals.closed_date, cast(deals.created_at as date) as created_date "
    "from staging.stg_crm__opportunities as deals "
    "left join seeds.funnel_stages as stages on deals.stage_key = stages.stage_key "
    "where list_contains(?, deals.opportunity_id)",
    "sales_orders": "select order_id as record_id, order_amount as amount, status, order_date "
    "from staging.stg_erp__sales_orders where list_contains(?, order_id)",
    "payments": "select payment_id as record_id, payment_amount as amount, payment_date "
    "from staging.stg_erp__payments where list_contains(?, payment_id)",
}


def _blocked_value(entity: str, value: dict[str, Any] | None) -> tuple[str, Any, date | None]:
    """(kind, amount, its own date) of a blocked record: a won deal, another deal (open: dated by its
    creation), an order (a cancelled one is 'other'), a payment; anything else is 'other'."""
    if value is None:
        return "other", None, None
    if entity == "opportunities":
        kind = "won" if value["is_won"] else "deal"
        return kind, value["amount"], value["closed_date"] if value["is_closed"] else value["created_date"]
    if entity == "sales_orders":
        return ("other" if value["status"] == "cancelled" else "order"), value["amount"], value["order_date"]
    return "payment", value["amount"], value["payment_date"]


def load_held_back(ctx: PackContext) -> tuple[list[dict], dict[str, dict], dict[str, Any]]:
    """Records kept out of the marts by 'block' rules, placed in a region by their rep (a record whose
    rep is unknown is in no region), each with its kind, amount and date: see `held_back_summary`."""
    where, params = ctx.in_region("reps.region")
    blocked = ctx.rows(
        "select quarantine.rule_id, quarantine.entity, quarantine.record_id, quarantine.first_seen_date "
        "from quality.quarantine as quarantine "
        "left join marts.dim_reps as reps on quarantine.rep_id = reps.rep_id "
        f"where quarantine.severity = 'block' and {where} order by quarantine.rule_id, quarantine.record_id",
        params,
    )
    values: dict[tuple[str, str], dict[str, Any]] = {}
    for entity, sql in _BLOCKED_VALUES.items():
        ids = sorted({r["record_id"] for r in blocked if r["entity"] == entity})
        if ids:
            values |= {(entity, v["record_id"]): v for v in ctx.rows(sql, [ids])}
    records = []
    for r in blocked:
        kind, amount, day = _blocked_value(r["entity"], values.get((r["entity"], r["record_id"])))
        records.append({**r, "kind": kind, "amount": amount, "record_date": day or r["first_seen_date"]})
    return held_back_summary(records, ctx.period.start, ctx.period.end)


def held_back_summary(
    records: list[dict[str, Any]], start: date, end: date
) -> tuple[list[dict], dict[str, dict], dict[str, Any]]:
    """Per rule: records and amount held back now, those dated in [start, end] and those first seen in
    it (largest amount of the week first); per kind, the distinct records dated in the week; and the
    total of distinct records (a record two rules block counts once)."""
    rules: dict[str, dict[str, Any]] = {}
    for r in records:
        amount, in_week = Decimal(str(r["amount"] or 0)), start <= r["record_date"] <= end
        row = rules.setdefault(
            r["rule_id"],
            {
                "rule_id": r["rule_id"],
                "entity": r["entity"],
                "record_count": 0,
                "amount": Decimal(0),
                "week_count": 0,
                "week_amount": Decimal(0),
                "new_count": 0,
            },
        )
        row["record_count"] += 1
        row["amount"] += amount
        row["week_count"] += in_week
        row["week_amount"] += amount if in_week else Decimal(0)
        row["new_count"] += start <= r["first_seen_date"] <= end
    distinct = {(r["entity"], r["record_id"]): r for r in records}.values()
    by_kind: dict[str, dict[str, Any]] = {}
    total = {"record_count": 0, "amount": Decimal(0)}
    for r in distinct:
        amount = Decimal(str(r["amount"] or 0))
        total["record_count"] += 1
        total["amount"] += amount
        if start <= r["record_date"] <= end:
            kind = by_kind.setdefault(r["kind"], {"kind": r["kind"], "record_count": 0, "amount": Decimal(0)})
            kind["record_count"] += 1
            kind["amount"] += amount
    per_rule = sorted(rules.values(), key=lambda r: (-r["week_amount"], -r["amount"], r["rule_id"]))
    return per_rule, by_kind, total


def load_week_basis(ctx: PackContext) -> dict[str, Any]:
    """The week's reported figures the held-back amounts compare with: won sales (attainment), ERP
    orders (customer sales) and collections (all payments received)."""
    where, params = ctx.unit()
    week = ctx.period.start

    def one(sql: str) -> Any:
        rows = ctx.rows(sql + " and " + where, [week, *params])
        return rows[0]["v"] if rows else None

    return {
        "won": one(
            "select actual_amount as v from marts.fct_attainment_periods "
            "where period_type = 'week' and period_start_date = ?"
        ),
        "order": one(
            "select sales_amount as v from marts.fct_customer_sales "
            "where period_grain = 'week' and period_start_date = ?"
        ),
        "payment": one(
            "select collected_total_amount as v from marts.fct_collections_weekly where week_start_date = ?"
        ),
    }


def load(ctx: PackContext) -> ProblemsData:
    by_reason, by_competitor, window, start, end, week_count = load_lost(ctx)
    per_rule, week_by_kind, total = load_held_back(ctx)
    return ProblemsData(
        slipped=load_slipped(ctx),
        overdue=load_overdue(ctx),
        aging=load_aging(ctx),
        drifting=load_drifting(ctx),
        churn=load_churn(ctx),
        lost_by_reason=by_reason,
        lost_by_competitor=by_competitor,
        lost_window=window,
        lost_start=start,
        lost_end=end,
        lost_week_count=week_count,
        reps_behind=load_reps_behind(ctx),
        held_back=per_rule,
        held_back_week=week_by_kind,
        held_back_total=total,
        week_basis=load_week_basis(ctx),
    )


# ---------------------------------------------------------------------------------------------- findings


def _forms(n: int, prefix: str = "") -> dict[str, Any]:
    """The count and the English words that agree with it (the Chinese templates ignore them)."""
    one = n == 1
    words = {"n": n, "s": "" if one else "s", "are": "is" if one else "are", "were": "was" if one else "were"}
    words |= {"hold": "holds" if one else "hold", "carry": "carries" if one else "carry"}
    words |= {"pay": "pays" if one else "pay"}
    return {prefix + k: v for k, v in words.items()}


def _sentence(lang: str, *parts: str) -> str:
    text = "".join(parts) + tx("end", lang)
    return text[:1].upper() + text[1:]


def _held_back_sentence(data: ProblemsData, lang: str) -> tuple[str, bool] | None:
    """The held-back records dated in the week, per kind with its share of the week's reported figure;
    material when a share reaches MATERIAL_SHARE or the week reported nothing of that kind."""
    week = {k: v for k, v in data.held_back_week.items() if v["record_count"]}
    if not week:
        return None
    count = sum(v["record_count"] for v in week.values())
    amount = sum((Decimal(str(v["amount"])) for v in week.values()), Decimal(0))
    parts, material = [], False
    for kind in (k for k in KINDS if k in week):
        records, held = week[kind]["record_count"], Decimal(str(week[kind]["amount"]))
        text = tx("held_" + kind, lang, amount=i18n.money(held, lang), **_forms(records))
        if kind in WEEK_FIGURES and held > 0:
            share = _share(held, data.week_basis.get(kind))
            material = material or share is None or share >= MATERIAL_SHARE
            text += (
                tx("no_basis_" + kind, lang)
                if share is None
                else tx("share_" + kind, lang, share=i18n.rate(share))
            )
        parts.append(text)
    head = tx(
        "held_week", lang, amount=i18n.money(amount, lang), parts=tx("sep", lang).join(parts), **_forms(count)
    )
    return _sentence(lang, head), material


def _held_back_total_sentence(data: ProblemsData, lang: str) -> str | None:
    count = data.held_back_total.get("record_count") or 0
    if not count:
        return None
    amount = i18n.money(data.held_back_total["amount"], lang)
    return _sentence(lang, tx("held_total", lang, amount=amount, **_forms(count)))


def _slipped_sentence(data: ProblemsData, lang: str) -> str | None:
    slipped = [r for r in data.slipped if r["is_slipped"]]
    due = [r for r in data.slipped if not r["is_slipped"]]
    low = [r for r in slipped if r["probability_band"] == "low"]
    due_amount = i18n.money(_sum(due, "amount"), lang)
    if not slipped:
        return _sentence(lang, tx("due_only", lang, amount=due_amount, **_forms(len(due)))) if due else None
    longest = max(r["days_late"] for r in slipped)
    parts = [
        tx(
            "slipped",
            lang,
            amount=i18n.money(_sum(slipped, "amount"), lang),
            **_forms(len(slipped)),
            **_forms(longest, "days_"),
        )
    ]
    if low:
        parts.append(
            tx("slipped_low", lang, amount=i18n.money(_sum(low, "amount"), lang), **_forms(len(low)))
        )
    if due:
        parts.append(tx("slipped_due", lang, amount=due_amount, **_forms(len(due))))
    return _sentence(lang, *parts)


def _overdue_sentence(data: ProblemsData, lang: str) -> str | None:
    rows = data.overdue
    if not rows:
        return None
    total = _sum(rows, "open_balance")
    longest = max(r["days_late"] for r in rows)
    parts = [
        tx("overdue", lang, amount=i18n.money(total, lang), **_forms(len(rows)), **_forms(longest, "days_"))
    ]
    split = []
    for control in ("controllable", "uncontrollable", "unknown"):
        share = _share(_sum([r for r in rows if r["controllability"] == control], "open_balance"), total)
        if share:
            split.append(tx("split_" + control, lang, share=i18n.rate(share)))
    if split:
        parts.append(tx("overdue_split", lang, split=tx("list_sep", lang).join(split)))
    if data.drifting:
        parts.append(tx("overdue_drift", lang, **_forms(len(data.drifting))))
    return _sentence(lang, *parts)


def _drift_sentence(data: ProblemsData, lang: str) -> str | None:
    if data.overdue or not data.drifting:
        return None  # with overdue invoices, the drift is part of their sentence
    top = data.drifting[0]
    return _sentence(
        lang,
        tx(
            "drift",
            lang,
            customer=top["customer_name"],
            before=f"{top['earlier_avg_days_to_settle']:.0f}",
            after=f"{top['recent_avg_days_to_settle']:.0f}",
            **_forms(len(data.drifting)),
        ),
    )


def _churn_sentence(data: ProblemsData, lang: str) -> str | None:
    rows = data.churn
    if not rows:
        return None
    levels = []
    for level in WARNING_LEVELS:
        n = sum(r["warning_level"] == level for r in rows)
        if n:
            levels.append(tx("churn_level", lang, level=tx("level_" + level, lang).lower(), n=n))
    parts = [tx("churn", lang, levels=tx("list_sep", lang).join(levels), **_forms(len(rows)))]
    a_class = sum(r["abc_class"] == "A" for r in rows)
    if a_class:
        parts.append(tx("churn_a", lang, n=a_class))
    top = max(rows, key=lambda r: r["window_sales_amount"] or 0)
    if top["window_sales_amount"]:
        amount = i18n.money(top["window_sales_amount"], lang)
        parts.append(
            tx("churn_top", lang, customer=top["customer_name"], rep=top["owner_rep_name"], amount=amount)
        )
    return _sentence(lang, *parts)


def _reps_sentence(data: ProblemsData, lang: str) -> str | None:
    rows = data.reps_behind
    if not rows:
        return None
    lights = []
    for light in ("red", "yellow"):
        n = sum(r["lag_warning"] == light for r in rows)
        if n:
            lights.append(tx("reps_" + light, lang, n=n))
    names = [
        tx("reps_name", lang, name=r["unit_name"], share=i18n.rate(r["behind_plan_rate"])) for r in rows[:3]
    ]
    sep = tx("list_sep", lang)
    return _sentence(
        lang, tx("reps", lang, lights=sep.join(lights), names=sep.join(names), **_forms(len(rows)))
    )


def _lost_sentence(data: ProblemsData, lang: str) -> str | None:
    rows = data.lost_by_reason
    if not rows:
        return None
    count, amount = sum(r["deal_count"] for r in rows), i18n.money(_sum(rows, "amount"), lang)
    if data.lost_window == "week":
        parts = [tx("lost_week", lang, amount=amount, **_forms(count))]
    else:
        parts = [
            tx("lost_month", lang, amount=amount, **_forms(count), **_forms(data.lost_week_count, "week_"))
        ]
    top = rows[0]
    reason = crm_value("loss_", top["loss_reason"], lang)
    reason = reason.lower() if lang == "en" else reason
    parts.append(
        tx(
            "lost_reason",
            lang,
            reason=reason,
            amount=i18n.money(top["amount"], lang),
            **_forms(top["deal_count"]),
        )
    )
    if data.lost_by_competitor:
        competitor = data.lost_by_competitor[0]
        name = crm_value("competitor_", competitor["competitor"], lang)
        parts.append(tx("lost_competitor", lang, name=name, **_forms(competitor["deal_count"])))
    return _sentence(lang, *parts)


def findings(data: ProblemsData, ctx: PackContext) -> list[str]:
    """Up to three sentences, most important first: records held back from this week when they are
    material (they change every other figure of the pack); then this week's money at stake, slipped
    deals and overdue receivables, the larger amount first; then churn warnings (a monthly signal),
    reps behind plan, payment drift, lost deals and held-back records that are not material."""
    lang = ctx.lang
    first: list[str] = []
    later: list[str] = []
    held = _held_back_sentence(data, lang)
    if held:
        (first if held[1] else later).append(held[0])
    else:
        total = _held_back_total_sentence(data, lang)
        if total:
            later.append(total)
    at_stake = [
        (_slipped_sentence(data, lang), _sum([r for r in data.slipped if r["is_slipped"]], "amount")),
        (_overdue_sentence(data, lang), _sum(data.overdue, "open_balance")),
    ]
    ranked = [s for s, _ in sorted(at_stake, key=lambda pair: -pair[1]) if s]  # stable on ties
    rest = [
        _churn_sentence(data, lang),
        _reps_sentence(data, lang),
        _drift_sentence(data, lang),
        _lost_sentence(data, lang),
    ]
    sentences = first + ranked + [s for s in rest if s] + later
    return sentences[:3] or [tx("all_clear", lang)]


# ---------------------------------------------------------------------------------------------- page


def _when(ctx: PackContext) -> str:
    return tx("as_of", ctx.lang, as_of=ctx.as_of.isoformat())


def _caption(text: str, shown: int, total: int, cut_key: str, lang: str) -> str:
    """A table's caption; when the table shows only the first `shown` of `total` rows, it says so."""
    if total <= shown:
        return text
    cut = tx(cut_key, lang, shown=shown, total=total)
    return f"{text}（{cut}）" if lang == "zh-CN" else f"{text} ({cut})"


def _kpis(data: ProblemsData, ctx: PackContext) -> str:
    lang = ctx.lang
    slipped = [r for r in data.slipped if r["is_slipped"]]
    overdue_total = _sum(data.overdue, "open_balance")
    controllable = _sum([r for r in data.overdue if r["controllability"] == "controllable"], "open_balance")
    week_held = sum((Decimal(str(v["amount"])) for v in data.held_back_week.values()), Decimal(0))
    return kpi_cards(
        ctx,
        [
            Kpi("slipped_amount", tx("kpi_slipped", lang), _sum(slipped, "amount"), "money"),
            Kpi("overdue_amount", tx("kpi_overdue", lang), overdue_total, "money"),
            Kpi(
                "controllable_share",
                tx("kpi_controllable", lang),
                _share(controllable, overdue_total),
                "rate",
            ),
            Kpi("churn_warnings", tx("kpi_churn", lang), len(data.churn), "int"),
            Kpi("reps_behind", tx("kpi_reps_behind", lang), len(data.reps_behind), "int"),
            Kpi("held_back_week_amount", tx("kpi_held_back", lang), week_held, "money"),
        ],
    )


def _deals_part(data: ProblemsData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = []
    for r in data.slipped[:TOP_ROWS]:
        risk = tx("risk_slipped" if r["is_slipped"] else "risk_due", lang)
        if r["probability_band"] == "low":
            risk += tx("risk_low", lang)
        stage = (r["stage_name_en"] or r["stage_name"]) if lang == "en" else r["stage_name"]
        rows.append(
            {
                **r,
                "risk": risk,
                "stage": stage,
                "probability_rate": None if r["probability"] is None else r["probability"] / 100,
            }
        )
    columns = [
        Column("risk", tx("risk", lang)),
        Column("rep_name", i18n.t("rep", lang)),
        Column("customer_name", i18n.t("customer", lang)),
        Column("opportunity_name", i18n.t("deal", lang)),
        Column("stage", tx("stage", lang)),
        Column("amount", i18n.t("amount", lang), "money"),
        Column("probability_rate", tx("probability", lang), "rate"),
        Column("expected_close_date", tx("promised", lang), "date"),
        Column("days_late", tx("days_slipped", lang), "days"),
        Column("next_step", tx("next_step", lang)),
    ]
    caption = _caption(tx("deals_caption", lang, when=_when(ctx)), len(rows), len(data.slipped), "top", lang)
    return table(
        ctx,
        "problems_slipped_deals",
        columns,
        rows,
        caption=caption,
        row_key="opportunity_id",
        empty=tx("none_slipped", lang),
    )


def _overdue_part(data: ProblemsData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = []
    for r in data.overdue[:TOP_ROWS]:
        if r["risk_reason"] is None:
            reason = tx("no_reason", lang)
        else:
            reason = (r["risk_reason_en"] or r["risk_reason"]) if lang == "en" else r["risk_reason"]
        control = (
            r["controllability"] if r["controllability"] in ("controllable", "uncontrollable") else "unknown"
        )
        rows.append({**r, "reason": reason, "control": tx(control, lang)})
    columns = [
        Column("invoice_id", tx("invoice", lang)),
        Column("customer_name", i18n.t("customer", lang)),
        Column("rep_name", i18n.t("rep", lang)),
        Column("due_date", tx("due_date", lang), "date"),
        Column("days_late", tx("days_late", lang), "days"),
        Column("open_balance", tx("open_balance", lang), "money"),
        Column("reason", tx("reason", lang)),
        Column("control", tx("controllability", lang)),
    ]
    caption = _caption(
        tx("overdue_caption", lang, when=_when(ctx)), len(rows), len(data.overdue), "top", lang
    )
    return table(
        ctx,
        "problems_overdue_invoices",
        columns,
        rows,
        caption=caption,
        row_key="invoice_id",
        empty=tx("none_overdue", lang),
    )


def _aging_label(row: dict[str, Any], lang: str) -> str:
    return (row["bucket_label_en"] or row["bucket_label"]) if lang == "en" else row["bucket_label"]


def _aging_part(data: ProblemsData, ctx: PackContext) -> str:
    lang = ctx.lang
    if not data.aging:
        return table(ctx, "problems_aging", [], [], empty=tx("none_open", lang))
    rows = [{**r, "bucket": _aging_label(r, lang)} for r in data.aging]
    columns = [
        Column("bucket", tx("bucket", lang)),
        Column("open_balance", tx("open_balance", lang), "money"),
        Column("invoice_count", tx("invoices", lang), "int"),
        Column("share_of_open_balance", tx("share", lang), "rate"),
    ]
    return (
        _aging_chart(rows, ctx)
        + table(
            ctx,
            "problems_aging",
            columns,
            rows,
            caption=tx("aging_caption", lang, when=_when(ctx)),
            row_key="bucket_key",
        )
        + _unapplied_note(data.aging[0], lang)
    )


def _unapplied_note(aging: dict[str, Any], lang: str) -> str:
    """Prepayments and payments for invoices not delivered are cash, not a bucket: said next to the aging."""
    cash = aging.get("total_unapplied_cash") or Decimal(0)
    if cash <= 0:
        return ""
    text = tx(
        "unapplied_note",
        lang,
        cash=i18n.money(cash, lang),
        net=i18n.money(aging.get("total_net_open_balance"), lang),
    )
    return f'<p class="srw-note" data-unapplied-cash="{esc(cash)}">{esc(text)}</p>'


def _aging_chart(rows: list[dict[str, Any]], ctx: PackContext) -> str:
    """The open balance per aging bucket as horizontal bars, the overdue buckets in red."""
    ordered = sorted(rows, key=lambda r: r["bucket_order"])
    values, unit = money_axis_values([r["open_balance"] for r in ordered], ctx.lang)
    frame = pd.DataFrame(
        {
            "bucket": [r["bucket"] for r in ordered],
            "value": values,
            "overdue": [i > 0 for i in range(len(ordered))],
        }
    )
    title = tx("chart_aging", ctx.lang)
    spec = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("bucket:N", sort=None, title=None),
            x=alt.X("value:Q", title=unit, axis=alt.Axis(tickCount=4)),
            color=alt.Color("overdue:N", legend=None, scale=alt.Scale(range=["#9aa5b1", "#d1495b"])),
        )
        .properties(width=560, height=26 * len(ordered), title=title)
    )
    return chart(spec, title)


def _drift_part(data: ProblemsData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = data.drifting[:TOP_ROWS]
    columns = [
        Column("customer_name", i18n.t("customer", lang)),
        Column("rep_name", i18n.t("rep", lang)),
        Column("earlier_avg_days_to_settle", tx("earlier_days", lang), "number"),
        Column("recent_avg_days_to_settle", tx("recent_days", lang), "number"),
        Column("drift_days", tx("drift_days", lang), "number"),
        Column("recent_paid_invoice_count", tx("recent_invoices", lang), "int"),
    ]
    caption = _caption(
        tx("drift_caption", lang, when=_when(ctx)), len(rows), len(data.drifting), "top_customers", lang
    )
    return table(
        ctx,
        "problems_payment_drift",
        columns,
        rows,
        caption=caption,
        row_key="customer_id",
        empty=tx("none_drift", lang),
    )


def _churn_part(data: ProblemsData, ctx: PackContext) -> str:
    lang = ctx.lang
    if not data.churn:
        return table(ctx, "problems_churn", [], [], empty=tx("none_churn", lang))
    month = data.churn[0]["churn_month_start_date"]
    month_text = (
        (f"{month.year}年{month.month}月" if lang == "zh-CN" else month.strftime("%b %Y")) if month else ""
    )
    levels = [
        {
            "warning_level": level,
            "level": tx("level_" + level, lang),
            "customer_count": sum(r["warning_level"] == level for r in data.churn),
            "window_sales_amount": _sum(
                [r for r in data.churn if r["warning_level"] == level], "window_sales_amount"
            ),
        }
        for level in WARNING_LEVELS
    ]
    level_table = table(
        ctx,
        "problems_churn_levels",
        [
            Column("level", tx("warning_level", lang)),
            Column("customer_count", tx("level_customers", lang), "int"),
            Column("window_sales_amount", tx("window_sales", lang), "money"),
        ],
        levels,
        caption=tx("churn_levels_caption", lang, month=month_text),
        row_key="warning_level",
    )
    rows = [{**r, "level": tx("level_" + r["warning_level"], lang)} for r in data.churn[:TOP_ROWS]]
    columns = [
        Column("customer_name", i18n.t("customer", lang)),
        Column("owner_rep_name", i18n.t("rep", lang)),
        Column("abc_class", tx("abc", lang)),
        Column("level", tx("warning_level", lang)),
        Column("recipient_name", tx("recipient", lang)),
        Column("churn_probability", tx("churn_probability", lang), "rate"),
        Column("decline_streak_months", tx("decline_months", lang), "int"),
        Column("last_order_date", tx("last_order", lang), "date"),
        Column("window_sales_amount", tx("window_sales", lang), "money"),
    ]
    caption = _caption(tx("churn_caption", lang), len(rows), len(data.churn), "top_customers", lang)
    return level_table + table(
        ctx, "problems_churn_customers", columns, rows, caption=caption, row_key="customer_id"
    )


def _lost_part(data: ProblemsData, ctx: PackContext) -> str:
    lang = ctx.lang
    start, end = data.lost_start, data.lost_end
    if start is None or end is None:
        return ""
    days = {"start": i18n.day_text(start, lang), "end": i18n.day_text(end, lang), "min": LOST_MIN_WEEK_DEALS}
    window = tx("window_week" if data.lost_window == "week" else "window_month", lang, **days)
    reasons = [
        {**r, "reason": crm_value("loss_", r["loss_reason"], lang), "key": r["loss_reason"] or ""}
        for r in data.lost_by_reason
    ]
    by_reason = table(
        ctx,
        "problems_lost_reasons",
        [
            Column("reason", tx("loss_reason", lang)),
            Column("deal_count", tx("deals", lang), "int"),
            Column("amount", i18n.t("amount", lang), "money"),
            Column("amount_share", tx("share", lang), "rate"),
        ],
        reasons,
        caption=tx("lost_reason_caption", lang, window=window),
        row_key="key",
        empty=tx("none_lost", lang),
    )
    competitors = [
        {**r, "name": crm_value("competitor_", r["competitor"], lang)}
        for r in data.lost_by_competitor[:TOP_ROWS]
    ]
    caption = _caption(
        tx("lost_competitor_caption", lang, window=window),
        len(competitors),
        len(data.lost_by_competitor),
        "top_competitors",
        lang,
    )
    by_competitor = table(
        ctx,
        "problems_lost_competitors",
        [
            Column("name", tx("competitor", lang)),
            Column("deal_count", tx("deals", lang), "int"),
            Column("amount", i18n.t("amount", lang), "money"),
        ],
        competitors,
        caption=caption,
        row_key="competitor",
        empty=tx("none_competitor", lang),
    )
    return by_reason + (by_competitor if data.lost_by_reason else "")


def _reps_part(data: ProblemsData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = [
        {
            **r,
            "light": LAG_LIGHT.get(r["lag_warning"] or "none", "none"),
            "region_shown": i18n.region_name(r["region"] or "", lang),
        }
        for r in data.reps_behind[:TOP_ROWS]
    ]
    region = [] if ctx.audience.region else [Column("region_shown", i18n.t("region", lang))]
    columns = [
        Column("unit_name", i18n.t("rep", lang)),
        Column("team_name", i18n.t("team", lang)),
        *region,
        Column("target_to_date_amount", tx("target_to_date", lang), "money"),
        Column("actual_amount", i18n.t("actual", lang), "money"),
        Column("attainment_to_date_rate", tx("to_date_rate", lang), "rate"),
        Column("behind_plan_rate", tx("behind", lang), "rate"),
        Column("gap_to_date_amount", tx("gap_to_date", lang), "money"),
        Column("light", tx("lag", lang), "light"),
    ]
    label = data.reps_behind[0]["period_label"] if data.reps_behind else ""
    caption = _caption(
        f"{tx('reps_caption', lang)} {label}".strip(), len(rows), len(data.reps_behind), "top_reps", lang
    )
    return table(
        ctx,
        "problems_reps_behind",
        columns,
        rows,
        caption=caption,
        row_key="unit_id",
        empty=tx("none_behind", lang),
    )


def _held_back_part(data: ProblemsData, ctx: PackContext) -> str:
    lang = ctx.lang
    rows = [{**r, "rule": rule_name(r["rule_id"], lang)} for r in data.held_back]
    columns = [
        Column("rule", tx("rule", lang)),
        Column("record_count", tx("records", lang), "int"),
        Column("amount", tx("held_amount", lang), "money"),
        Column("week_count", tx("week_records", lang), "int"),
        Column("week_amount", tx("week_amount", lang), "money"),
        Column("new_count", tx("new_records", lang), "int"),
    ]
    caption = tx("held_back_caption", lang)
    if ctx.audience.region:
        caption += ("" if lang == "zh-CN" else " ") + tx("held_back_region_note", lang)
    return table(
        ctx,
        "problems_held_back",
        columns,
        rows,
        caption=caption,
        row_key="rule_id",
        empty=tx("none_held_back", lang),
    )


def render(ctx: PackContext) -> ProblemsData:
    data = load(ctx)
    lang = ctx.lang
    section("problems", i18n.t("problems", lang), findings(data, ctx), _kpis(data, ctx))
    subsection("problems-deals", tx("deals_title", lang), _deals_part(data, ctx))
    subsection(
        "problems-receivables",
        tx("receivables_title", lang),
        _overdue_part(data, ctx),
        _aging_part(data, ctx),
        _drift_part(data, ctx),
    )
    subsection("problems-customers", tx("customers_title", lang), _churn_part(data, ctx))
    subsection("problems-lost", tx("lost_title", lang), _lost_part(data, ctx))
    subsection("problems-reps", tx("reps_title", lang), _reps_part(data, ctx))
    subsection("problems-held-back", tx("held_back_title", lang), _held_back_part(data, ctx))
    return data
