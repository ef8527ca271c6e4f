"""The quarterly pack (季报): quarter results, receivables, customers, rep scorecards, seasonality and
next quarter's plan.

The findings tests build each section's data by hand; the expected sentences were worked out on paper
from those numbers (e.g. target 400 万, actual 340 万 → 85.0%; last quarter 80.0% → +5.0 points; a year
ago 300 万 → +13.3%). The warehouse tests render the pack from the session's built company (a short
history: 2026-Q3 is its latest complete quarter and it has no 2025 at all) and compare what the page
shows with the marts queried directly; a copy of it with one rep and that rep's customers moved to
another region checks that a region's pack shows only its own reps and customers.
"""

from __future__ import annotations

import html
import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from reports import pack
from reports.context import Audience, PackContext, Period
from reports.sections import (
    quarter_common,
    quarter_customers,
    quarter_plan,
    quarter_receivables,
    quarter_results,
    quarter_scorecards,
    quarterly,
)

Q3 = Period.quarter(date(2026, 7, 1))
AS_OF = date(2026, 11, 22)
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
SECTIONS = (
    "quarter-results",
    "quarter-receivables",
    "quarter-customers",
    "quarter-scorecards",
    "quarter-seasonality",
    "quarter-plan",
)


def _ctx(lang: str, region: str | None = None, period: Period = Q3) -> PackContext:
    return PackContext(con=None, period=period, audience=Audience(region), lang=lang, as_of=AS_OF)


# ---------------------------------------------------------------------------------------------- periods


def test_quarter_weeks_are_the_weeks_whose_thursday_falls_in_the_quarter() -> None:
    # 2026-Q3 runs Wed 1 Jul – Wed 30 Sep: Thursdays 2 Jul … 24 Sep, i.e. the weeks of Mon 29 Jun … 21 Sep.
    assert quarter_common.week_range(Q3) == (date(2026, 6, 29), date(2026, 9, 21))
    # 2026-Q4 runs Thu 1 Oct – Thu 31 Dec: 14 Thursdays, weeks of Mon 28 Sep … Mon 28 Dec.
    assert quarter_common.week_range(Period.quarter(date(2026, 10, 1))) == (
        date(2026, 9, 28),
        date(2026, 12, 28),
    )


def test_trend_quarters_end_with_the_pack_quarter() -> None:
    labels = [q.label for q in quarter_common.quarters_back(Q3, 5)]
    assert labels == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]


def test_kpi_card_compares_with_last_quarter_and_a_year_ago() -> None:
    card = quarter_common.QuarterKpi("attainment", "达成率", 0.85, "rate", 0.80, 0.90, light="yellow")
    shown = quarter_common.kpi_cards(_ctx("zh-CN"), [card])
    assert 'data-kpi="attainment" data-value="0.85"' in shown
    assert "较上季 ▲ +5.0 个百分点" in shown
    assert "较去年同期 ▼ -5.0 个百分点" in shown
    money = quarter_common.QuarterKpi("actual", "Actual", Decimal("3400000"), "money", Decimal("3000000"))
    shown = quarter_common.kpi_cards(_ctx("en"), [money])
    assert "3.40" in shown and "CNY M" in shown and "vs last quarter ▲ +13.3%" in shown
    assert "vs a year ago" not in shown  # no figure a year ago: no comparison line


# ---------------------------------------------------------------------------------------------- results


def _attainment(target: str, actual: str, rate: float | None) -> dict:
    return {
        "target_amount": Decimal(target),
        "actual_amount": Decimal(actual),
        "gap_amount": Decimal(target) - Decimal(actual),
        "attainment_rate": rate,
        "status_light": "yellow",
        "won_deal_count": 10,
    }


def _unit(level: str, name: str, rate: float | None) -> dict:
    return {"level": level, "unit_id": name, "unit_name": name, "attainment_rate": rate}


def _results(**overrides) -> quarter_results.ResultsData:
    data = quarter_results.ResultsData(
        quarter=_attainment("4000000", "3400000", 0.85),
        previous=_attainment("3750000", "3000000", 0.80),
        year_before=_attainment("3500000", "3000000", 3000000 / 3500000),
        seasonal={
            "seasonal_index": 0.9582,
            "seasonally_adjusted_target_amount": Decimal("3900000"),
            "seasonally_adjusted_attainment_rate": 3400000 / 3900000,
        },
        regions=[_unit("region", "华东", 0.98), _unit("region", "华中", 0.671)],
        teams=[_unit("team", "华东一组", 1.05), _unit("team", "华中一组", 0.6)],
        reps=[
            _unit("rep", "张伟", 1.2),
            _unit("rep", "李娜", 0.9),
            _unit("rep", "王芳", 0.5),
            _unit("rep", "赵六", None),
        ],
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def test_results_findings_zh() -> None:
    assert quarter_results.findings(_results(), _ctx("zh-CN")) == [
        "2026-Q3 全公司达成 85.0%（目标 400.0 万元，实际 340.0 万元），较上季提升 5.0 个百分点，"
        "较去年同期增长 13.3%。",
        "经季节调整（季节指数 95.8%），目标为 390.0 万元，达成率为 87.2%。",
        "各区域中华东达成最高（98.0%），华中最低（67.1%）；3 名销售代表中 2 名未完成季度目标。",
    ]


def test_results_findings_en() -> None:
    assert quarter_results.findings(_results(), _ctx("en")) == [
        "In 2026-Q3 the company reached 85.0% of target (target CNY 4.00M, actual CNY 3.40M), "
        "up 5.0 pts on last quarter, 13.3% above the same quarter last year.",
        "Seasonally adjusted (index 95.8%), the target is CNY 3.90M and attainment 87.2%.",
        "Among regions, East China did best (98.0%) and Central China worst (67.1%); "
        "2 of 3 reps missed their quarter target.",
    ]


def test_results_findings_without_previous_quarter_or_last_year() -> None:
    data = _results(previous=None, year_before=None, seasonal=None, regions=[], teams=[], reps=[])
    assert quarter_results.findings(data, _ctx("zh-CN")) == [
        "2026-Q3 全公司达成 85.0%（目标 400.0 万元，实际 340.0 万元），无上季及去年同期数据可比。"
    ]
    assert quarter_results.findings(data, _ctx("en")) == [
        "In 2026-Q3 the company reached 85.0% of target (target CNY 4.00M, actual CNY 3.40M), "
        "no previous quarter or same quarter last year to compare with."
    ]


def test_results_findings_with_previous_quarter_only() -> None:
    data = _results(previous=_attainment("4000000", "3480000", 0.87), year_before=None, seasonal=None)
    first = quarter_results.findings(data, _ctx("zh-CN"))[0]
    assert first.endswith("较上季下降 2.0 个百分点，去年同期无可比数据。")
    first = quarter_results.findings(data, _ctx("en"))[0]
    assert first.endswith("down 2.0 pts on last quarter, no same quarter last year to compare with.")


def test_results_findings_without_target_or_without_data() -> None:
    no_target = _results(
        quarter=_attainment("0", "1328249", None),
        previous=_attainment("0", "138408", None),
        year_before=None,
        seasonal=None,
        regions=[],
        teams=[],
        reps=[],
    )
    # 1,328,249 against 138,408: +859.7%.
    assert quarter_results.findings(no_target, _ctx("zh-CN")) == [
        "2026-Q3 全公司未设目标，实际成交 132.8 万元，较上季增长 859.7%，去年同期无可比数据。"
    ]
    assert quarter_results.findings(no_target, _ctx("en")) == [
        "In 2026-Q3 the company had no target and won CNY 1.33M, 859.7% above last quarter, "
        "no same quarter last year to compare with."
    ]
    empty = _results(quarter=None)
    assert quarter_results.findings(empty, _ctx("zh-CN")) == ["2026-Q3 全公司无目标与成交记录。"]
    assert quarter_results.findings(empty, _ctx("en", "华东")) == [
        "There is no target and no won deal recorded for the East China region in 2026-Q3."
    ]


def test_results_findings_of_a_region_name_its_teams_or_its_reps() -> None:
    data = _results(regions=[])
    assert quarter_results.findings(data, _ctx("zh-CN", "华东"))[2] == (
        "各团队中华东一组达成最高（105.0%），华中一组最低（60.0%）；3 名销售代表中 2 名未完成季度目标。"
    )
    one_team = _results(regions=[], teams=[_unit("team", "华东一组", 1.05)], reps=[_unit("rep", "张伟", 1.2)])
    assert quarter_results.findings(one_team, _ctx("en", "华东"))[0].startswith(
        "In 2026-Q3 the East China region reached 85.0% of target"
    )
    assert (
        quarter_results.findings(one_team, _ctx("en", "华东"))[2] == "Every rep met the quarter target (1)."
    )


def test_findings_of_a_running_quarter_say_how_far_the_figures_go() -> None:
    q4 = Period.quarter(date(2026, 10, 1))  # 22 Nov 2026 is inside it
    data = _results(previous=None, year_before=None, seasonal=None, regions=[], teams=[], reps=[])
    assert quarter_results.findings(data, _ctx("zh-CN", period=q4))[0].startswith(
        "2026-Q4（截至 11月22日） 全公司达成"
    )
    assert quarter_results.findings(data, _ctx("en", period=q4))[0].startswith(
        "In 2026-Q4 (to 22 Nov 2026) the company"
    )


# ---------------------------------------------------------------------------------------------- receivables


def _ar(
    closing: str, overdue: str, dso: float | None, dso_change: float | None, cei: float | None, coll: str
):
    return {
        "closing_ar": Decimal(closing),
        "closing_overdue_ar": Decimal(overdue),
        "dso_days": dso,
        "dso_change_days": dso_change,
        "cei_pct": cei,
        "collections": Decimal(coll),
    }


def _receivables(**overrides) -> quarter_receivables.ReceivablesData:
    lights = ["green"] * 2 + ["yellow"] + ["red"] * 9 + ["none"]
    data = quarter_receivables.ReceivablesData(
        quarter=_ar("32000000", "12800000", 90.6, 2.6, 69.3, "29000000"),
        previous=_ar("28000000", "12000000", 88.0, 18.9, 68.0, "25000000"),
        year_before=_ar("27000000", "9000000", 68.1, 4.5, 76.9, "30000000"),
        aging=[
            {"bucket_shown": "未到期", "open_balance": Decimal("19200000"), "share_of_open_balance": 0.6},
            {
                "bucket_shown": "逾期120天以上",
                "open_balance": Decimal("9000000"),
                "share_of_open_balance": 0.28125,
            },
        ],
        customers=[{"customer_name": "上海某某有限公司", "overdue_amount": Decimal("800000")}],
        weeks=[{"status_light": light} for light in lights],
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def test_receivables_findings_zh() -> None:
    assert quarter_receivables.findings(_receivables(), _ctx("zh-CN")) == [
        "2026-Q3 季末全公司应收账款 3,200.0 万元，其中逾期 1,280.0 万元（占 40.0%）；DSO 90.6 天，"
        "较上季增加 2.6 天；CEI 69.3%，较上季提升 1.3 个百分点。",
        "本季回款 2,900.0 万元，较上季增长 16.0%，较去年同期下降 3.3%；"
        "12 个有回款计划的周中 2 周绿灯、9 周红灯。",
        "季末逾期120天以上的应收 900.0 万元，占 28.1%；逾期最多的客户是上海某某有限公司（80.0 万元）。",
    ]


def test_receivables_findings_en() -> None:
    data = _receivables()
    data.aging[-1]["bucket_shown"] = "More than 120 days overdue"
    assert quarter_receivables.findings(data, _ctx("en")) == [
        "At the end of 2026-Q3, the company had CNY 32.00M receivable, of which CNY 12.80M overdue (40.0%); "
        "DSO was 90.6 days (2.6 days more than last quarter); CEI 69.3% (up 1.3 pts on last quarter).",
        "Collections for the quarter came to CNY 29.00M, 16.0% above last quarter, 3.3% below the same "
        "quarter last year; of the 12 weeks with a collection plan, 2 were green and 9 red.",
        "More than 120 days overdue at the quarter end: CNY 9.00M, 28.1% of the balance; "
        "the customer owing most overdue is 上海某某有限公司 (CNY 800.0k).",
    ]


def test_receivables_findings_first_quarter_of_history() -> None:
    data = _receivables(
        quarter=_ar("876923", "0", 57.3, None, None, "619921"),
        previous=None,
        year_before=None,
        aging=[],
        customers=[],
        weeks=[{"status_light": "none"}] * 13,
    )
    assert quarter_receivables.findings(data, _ctx("zh-CN", "华东")) == [
        "2026-Q3 季末华东区域应收账款 87.7 万元，其中逾期 0.00 万元（占 0.0%）；DSO 57.3 天，上季无可比数据；"
        "本季无到期应收，CEI 不适用。",
        "本季回款 62.0 万元，无上季及去年同期数据可比；本季各周无回款计划。",
    ]
    assert quarter_receivables.findings(data, _ctx("en")) == [
        "At the end of 2026-Q3, the company had CNY 876.9k receivable, of which CNY 0.0k overdue (0.0%); "
        "DSO was 57.3 days (no previous quarter to compare with); CEI does not apply: nothing fell due.",
        "Collections for the quarter came to CNY 619.9k, no previous quarter or same quarter last year to "
        "compare with; no week of the quarter had a collection plan.",
    ]
    assert quarter_receivables.findings(_receivables(quarter=None), _ctx("zh-CN")) == [
        "2026-Q3 季末全公司无应收数据。"
    ]


# ---------------------------------------------------------------------------------------------- customers


def _sales(sales: str, new: str, aov: float, repeat: float) -> dict:
    return {
        "sales_amount": Decimal(sales),
        "new_customer_sales_amount": Decimal(new),
        "existing_customer_sales_amount": Decimal(sales) - Decimal(new),
        "new_customer_sales_share": float(Decimal(new) / Decimal(sales)),
        "average_order_value": aov,
        "repeat_purchase_rate": repeat,
        "order_count": 20,
    }


def _abc(
    cls: str, count: int, share: float, churned: int, at_risk: int, rep: int, manager: int, director: int
):
    return {
        "abc_class": cls,
        "customer_count": count,
        "sales_share": share,
        "churned_count": churned,
        "churn_rate": churned / count,
        "at_risk_count": at_risk,
        "rep_warning_count": rep,
        "manager_warning_count": manager,
        "director_warning_count": director,
    }


def _customers(**overrides) -> quarter_customers.CustomersData:
    data = quarter_customers.CustomersData(
        quarter=_sales("3000000", "1800000", 150000.0, 0.15),
        previous=_sales("2400000", "1200000", 120000.0, 0.17),
        year_before=_sales("2500000", "1500000", 125000.0, 0.16),
        as_of=AS_OF,
        abc=[
            _abc("A", 20, 0.8, 5, 6, 1, 2, 3),
            _abc("B", 30, 0.15, 8, 4, 2, 1, 1),
            _abc("C", 40, 0.05, 10, 0, 0, 0, 0),
        ],
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def test_customers_findings_zh() -> None:
    assert quarter_customers.findings(_customers(), _ctx("zh-CN")) == [
        "2026-Q3 全公司订单额 300.0 万元，其中新客户贡献 180.0 万元（占 60.0%），老客户 120.0 万元；"
        "客单价 15.0 万元，较上季增长 25.0%，较去年同期增长 20.0%；"
        "近12个月复购率 15.0%，较上季下降 2.0 个百分点。",
        "截至 11月22日，A 类客户 20 家，贡献近12个月销售额的 80.0%；"
        "其中已流失 5 家，高价值客户流失率 25.0%。",
        "流失预警客户 10 家（总监级 4 家、经理级 3 家、销售级 3 家）。",
    ]


def test_customers_findings_en() -> None:
    assert quarter_customers.findings(_customers(), _ctx("en")) == [
        "In 2026-Q3 the company took CNY 3.00M of orders: CNY 1.80M from new customers (60.0%) and CNY 1.20M "
        "from existing ones; the average order value was CNY 150.0k (25.0% above last quarter, 20.0% above "
        "the same quarter last year) and the 12-month repeat purchase rate 15.0% (down 2.0 pts on last "
        "quarter).",
        "As of 22 Nov 2026, 20 A-class customers bring 80.0% of the last 12 months' sales; 5 of them have "
        "churned, a high-value churn rate of 25.0%.",
        "10 customers are at risk of churning (4 director-level, 3 manager-level and 3 rep-level warnings).",
    ]


def test_customers_findings_without_orders_history_or_classes() -> None:
    data = _customers(previous=None, year_before=None)
    first = quarter_customers.findings(data, _ctx("zh-CN"))[0]
    assert "客单价 15.0 万元，无上季及去年同期数据可比；近12个月复购率 15.0%，上季无可比数据。" in first
    empty = _customers(quarter=None, abc=[])
    assert quarter_customers.findings(empty, _ctx("zh-CN", "华南")) == [
        "2026-Q3 华南区域无订单记录。",
        "截至 11月22日 近12个月无客户下单，无 ABC 分类。",
    ]
    calm = _customers(abc=[_abc("A", 20, 0.8, 0, 0, 0, 0, 0)])
    assert quarter_customers.findings(calm, _ctx("en"))[2] == "No customer is at risk of churning."


# ---------------------------------------------------------------------------------------------- scorecards


def _score(rep_id: str, name: str, score: float | None, band: str | None) -> dict:
    zh = {"excellent": "优秀", "good": "良好", "pass": "达标", "needs_improvement": "待改进"}
    return {
        "rep_id": rep_id,
        "rep_name": name,
        "composite_score": score,
        "score_band": band,
        "score_band_zh": zh.get(band),
        "weight_scheme": "004" if score is not None else None,
        "quantitative_weight": 0.6,
        "qualitative_weight": 0.4,
        "team_weight": 0.0,
    }


def _scorecards() -> quarter_scorecards.ScorecardData:
    return quarter_scorecards.ScorecardData(
        reps=[
            _score("R1", "张伟", 95.0, "excellent"),
            _score("R2", "李娜", 85.0, "good"),
            _score("R3", "王芳", 75.0, "pass"),
            _score("R4", "王五", 65.0, "needs_improvement"),
            _score("R5", "赵六", 55.0, "needs_improvement"),
            _score("R6", "孙七", None, None),
        ]
    )


def test_scorecard_findings() -> None:
    assert quarter_scorecards.findings(_scorecards(), _ctx("zh-CN")) == [
        "2026-Q3 共 5 名销售代表参与评分：优秀 1 名、良好 1 名、达标 1 名、待改进 2 名；"
        "另有 1 名缺少分项得分，未评分。",
        "最高分为张伟（95.0 分）；待改进：赵六（55.0 分）和王五（65.0 分）。",
    ]
    assert quarter_scorecards.findings(_scorecards(), _ctx("en")) == [
        "5 reps were scored for 2026-Q3: 1 excellent, 1 good, 1 pass and 2 needing improvement; "
        "1 not scored for lack of a component score.",
        "The top scorer is 张伟 (95.0); needing improvement: 赵六 (55.0) and 王五 (65.0).",
    ]
    assert quarter_scorecards.findings(quarter_scorecards.ScorecardData(), _ctx("en")) == [
        "There are no rep scorecards for 2026-Q3."
    ]
    note = quarter_scorecards.weights_note(_scorecards(), _ctx("zh-CN"))
    assert "综合得分 = 量化 60% + 质化 40%（权重方案 004）。" in note


# ---------------------------------------------------------------------------------------------- seasonality


def _index(quarter: int, index: float, source: str = "history") -> dict:
    return {
        "period_of_year": quarter,
        "period_label": f"Q{quarter}",
        "seasonal_index": index,
        "index_source": source,
        "history_first_month_date": date(2024, 4, 1),
        "history_last_month_date": date(2026, 10, 1),
    }


def test_seasonality_findings() -> None:
    data = quarter_plan.SeasonalityData(
        quarters=[_index(1, 0.7917), _index(2, 0.8569), _index(3, 0.9582), _index(4, 1.3932)]
    )
    assert quarter_plan.seasonality_findings(data, _ctx("zh-CN")) == [
        "季节指数按2024年4月至2026年10月的历史成交测算；本季（Q3）指数 95.8%，下季（Q4）139.3%："
        "下季成交通常比平均季度高 39.3%。"
    ]
    assert quarter_plan.seasonality_findings(data, _ctx("en")) == [
        "The seasonal index is computed from won deals from Apr 2024 to Oct 2026; this quarter (Q3) has an "
        "index of 95.8% and next quarter (Q4) 139.3%: next quarter usually sells 39.3% more than an "
        "average one."
    ]
    q4 = _ctx("zh-CN", period=Period.quarter(date(2026, 10, 1)))
    assert quarter_plan.seasonality_findings(data, q4)[0].endswith("下季成交通常比平均季度低 20.8%。")
    preset = quarter_plan.SeasonalityData(
        quarters=[_index(3, 0.9524, "fallback_seed"), _index(4, 1.1429, "fallback_seed")]
    )
    assert quarter_plan.seasonality_findings(preset, _ctx("zh-CN")) == [
        "历史成交不足，季节指数取预设权重；本季（Q3）指数 95.2%，下季（Q4）114.3%："
        "下季成交通常比平均季度高 14.3%。"
    ]
    assert quarter_plan.seasonality_findings(quarter_plan.SeasonalityData(), _ctx("en")) == [
        "There is no seasonal index yet."
    ]


# ---------------------------------------------------------------------------------------------- plan


def _plan(**overrides) -> quarter_plan.PlanData:
    data = quarter_plan.PlanData(
        next=Q3.next(),
        plan_quarter={
            "plan_amount": Decimal("5800000"),
            "seasonal_index": 1.2,
            "extract_target_amount": None,
        },
        target={
            "target_amount": Decimal("5000000"),
            "seasonally_adjusted_target_amount": Decimal("5500000"),
            "seasonal_index": 1.2,
        },
        plan_label="2027-Q1",  # the plan marts' next quarter, as of 22 Nov 2026
        plans=[{"level": "rep", "unit_id": "R1"}],
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def test_plan_findings_of_an_older_quarter_say_which_quarter_the_split_is_for() -> None:
    assert quarter_plan.plan_findings(_plan(), _ctx("zh-CN")) == [
        "下季度（2026-Q4）按倒推法计划 580.0 万元，季节指数 120.0%，比已设目标 500.0 万元高 16.0%。",
        "2026-Q4 全公司已设目标 500.0 万元，按季节指数调整后为 550.0 万元。",
        "按人分解的计划是 2027-Q1 的，不是 2026-Q4：计划按数据截至日（11月22日）的下一季度编制。",
    ]
    assert quarter_plan.plan_findings(_plan(), _ctx("en")) == [
        "The top-down plan for next quarter (2026-Q4) is CNY 5.80M at a seasonal index of 120.0%, "
        "16.0% above the targets set (CNY 5.00M).",
        "The targets set for the company for 2026-Q4 total CNY 5.00M; seasonally adjusted, CNY 5.50M.",
        "The rep-by-rep plan is for 2027-Q1, not 2026-Q4: plans are made for the quarter after the data's "
        "as-of date (22 Nov 2026).",
    ]


def test_plan_findings_when_the_split_is_for_the_next_quarter() -> None:
    q4 = Period.quarter(date(2026, 10, 1))
    plans = [{"level": "rep", "unit_id": f"R{i}"} for i in range(3)] + [{"level": "team", "unit_id": "T1"}]
    data = _plan(
        next=q4.next(),
        target=None,
        plans=plans,
        own_plan={"plan_amount": Decimal("5800000"), "plan_share": 1.0, "pipeline_coverage_rate": 0.35},
    )
    assert quarter_plan.plan_findings(data, _ctx("zh-CN", period=q4))[1:] == [
        "2027-Q1 全公司尚无已设目标。",
        "计划已分解到 3 名销售代表，加权管道覆盖计划的 35.0%。",
    ]
    region = _plan(
        next=q4.next(),
        target=None,
        plans=plans,
        own_plan={"plan_amount": Decimal("1200000"), "plan_share": 0.25, "pipeline_coverage_rate": None},
    )
    assert quarter_plan.plan_findings(region, _ctx("en", "华东", q4)) == [
        "Next quarter (2027-Q1) the East China region is planned at CNY 1.20M, 25.0% of the company's plan.",
        "No targets are set for the East China region for 2027-Q1 yet.",
        "The plan is split over 3 reps.",
    ]


def test_plan_findings_without_any_plan() -> None:
    data = _plan(plan_quarter=None, target=None, plan_label=None, plans=[])
    assert quarter_plan.plan_findings(data, _ctx("zh-CN")) == [
        "2026-Q4 无倒推计划。",
        "2026-Q4 全公司尚无已设目标。",
        "暂无按人分解的季度计划。",
    ]


# ---------------------------------------------------------------------------------------------- the warehouse


def _render(capsys, warehouse: Path, region: str, lang: str, tables: Path, start: str = "") -> str:
    ctx = pack.open_context(str(warehouse), "quarter", start, region, lang, str(tables))
    try:
        pack.header(ctx)
        quarterly.render(ctx)
    finally:
        ctx.con.close()
    return capsys.readouterr().out


def _section(page: str, section_id: str) -> str:
    start = page.index(f'data-section="{section_id}"')
    following = [page.find(f'data-section="{s}"', start + 1) for s in SECTIONS]
    ends = [i for i in following if i > start]
    return page[start : min(ends) if ends else len(page)]


def _kpis(part: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'data-kpi="([^"]+)" data-value="([^"]*)"', part)}


def _rows(page: str, table_id: str) -> list[str]:
    match = re.search(rf'<table class="srw-table" id="{table_id}">(.*?)</table>', page, re.S)
    if match is None:
        return []
    return [html.unescape(r) for r in re.findall(r'<tr data-row="([^"]*)"', match.group(1))]


def _findings(part: str) -> list[str]:
    match = re.search(r'<div class="srw-finding" role="note">(.*?)</div>', part, re.S)
    return [html.unescape(p) for p in re.findall(r"<p>(.*?)</p>", match.group(1))] if match else []


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def warehouse(built_company, tmp_path_factory) -> Path:
    """A read-only copy of the built company's warehouse (the pack never writes)."""
    root, _, _ = built_company
    copy = tmp_path_factory.mktemp("quarterly") / "warehouse.duckdb"
    shutil.copyfile(root / "warehouse.duckdb", copy)
    return copy


@pytest.mark.e2e
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_company_pack_shows_the_marts_figures(capsys, warehouse: Path, tmp_path: Path, lang: str) -> None:
    page = _render(capsys, warehouse, "", lang, tmp_path / "t")
    for section_id in SECTIONS:
        assert f'data-section="{section_id}"' in page
        assert _findings(_section(page, section_id)), section_id  # every section opens with findings
    assert "2026-Q3" in page  # the latest complete quarter before 19 Nov 2026

    target, actual, rate = _query(
        warehouse,
        "select target_amount, actual_amount, attainment_rate from marts.fct_attainment_periods "
        "where period_type = 'quarter' and level = 'company' and period_start_date = '2026-07-01'",
    )[0]
    results = _kpis(_section(page, "quarter-results"))
    assert Decimal(results["target"]) == target and Decimal(results["actual"]) == actual
    assert float(results["attainment"]) == pytest.approx(rate)
    # The built company's history starts in 2026: its 2026-Q2 had no target and there is no 2025-Q3.
    expected = (
        "无上季及去年同期数据可比" if lang == "zh-CN" else "no previous quarter or same quarter last year"
    )
    assert expected in _findings(_section(page, "quarter-results"))[0]

    closing_ar, dso = _query(
        warehouse,
        "select closing_ar, dso_days from marts.fct_ar_dso_cei "
        "where period_type = 'quarter' and level = 'company' and period_start_date = '2026-07-01'",
    )[0]
    receivables = _kpis(_section(page, "quarter-receivables"))
    assert Decimal(receivables["closing_ar"]) == closing_ar
    assert float(receivables["dso"]) == pytest.approx(dso)

    (sales,) = _query(
        warehouse,
        "select sales_amount from marts.fct_customer_sales "
        "where period_grain = 'quarter' and level = 'company' and period_start_date = '2026-07-01'",
    )[0]
    assert Decimal(_kpis(_section(page, "quarter-customers"))["sales"]) == sales

    scored = (
        "select rep_id from marts.fct_rep_scorecard where period_grain = 'quarter' and period_start_date = ?"
    )
    assert set(_rows(page, "quarter_scorecards")) == {r for (r,) in _query(warehouse, scored, [Q3.start])}
    attained = (
        "select unit_id from marts.fct_attainment_periods "
        "where period_type = 'quarter' and level = 'rep' and period_start_date = ?"
    )
    assert set(_rows(page, "quarter_reps")) == {r for (r,) in _query(warehouse, attained, [Q3.start])}

    (plan,) = _query(
        warehouse,
        "select plan_amount from marts.fct_plan_periods where period_type = 'quarter' "
        "and period_start_date = '2026-10-01'",
    )[0]
    assert Decimal(_kpis(_section(page, "quarter-plan"))["plan"]) == plan
    # The plan marts' next quarter is 2027-Q1 (after 19 Nov 2026): the pack says so.
    assert any("2027-Q1" in s for s in _findings(_section(page, "quarter-plan")))

    charts = re.findall(r'<figure class="srw-chart"[^>]*><svg[^>]*width="([\d.]+)"', page)
    assert 1 <= len(charts) <= 4 and all(float(w) <= 760 for w in charts)
    downloads = list((tmp_path / "t").glob("*.csv"))
    assert downloads
    for text in [page] + [p.read_text(encoding="utf-8-sig") for p in downloads]:
        assert not MOBILE.search(text)


@pytest.mark.e2e
def test_quarter_without_data_renders_and_says_so(capsys, warehouse: Path, tmp_path: Path) -> None:
    page = _render(capsys, warehouse, "", "zh-CN", tmp_path / "t", start="2025-07-01")
    assert "2025-Q3" in page
    assert _findings(_section(page, "quarter-results")) == ["2025-Q3 全公司无目标与成交记录。"]
    assert _findings(_section(page, "quarter-scorecards")) == ["2025-Q3 无销售代表评分记录。"]
    assert "2025-Q4 无倒推计划。" in _findings(_section(page, "quarter-plan"))


@pytest.fixture(scope="module")
def two_regions(warehouse: Path, tmp_path_factory) -> tuple[Path, str, set[str]]:
    """The built company (one region, 华东) with one rep and that rep's customers moved to 华南 in every
    row-level mart the pack reads: (warehouse, the rep, the customers)."""
    copy = tmp_path_factory.mktemp("two-regions") / "warehouse.duckdb"
    shutil.copyfile(warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        (rep,) = con.execute(
            "select rep_id from marts.fct_rep_scorecard where period_grain = 'quarter' "
            "and period_start_date = '2026-07-01' order by rep_id limit 1"
        ).fetchone()
        # the rep's customers, and the first customer owing at the quarter end (collected by another rep)
        moved = con.execute(
            "select customer_id from marts.dim_customers where owner_rep_id = ? union "
            "select min(unit_id) from marts.fct_ar_aging where level = 'customer' and snapshot_date = ?",
            [rep, Q3.end],
        ).fetchall()
        customers = {c for (c,) in moved if c is not None}
        for table in ("fct_attainment_periods", "fct_attainment_seasonal", "fct_plan_targets"):
            con.execute(
                f"update marts.{table} set region = '华南' where level = 'rep' and unit_id = ?", [rep]
            )
        con.execute("update marts.fct_rep_scorecard set region = '华南' where rep_id = ?", [rep])
        ids = sorted(customers)
        marks = ", ".join("?" * len(ids))
        con.execute(f"update marts.dim_customers set region = '华南' where customer_id in ({marks})", ids)
        con.execute(
            f"update marts.fct_customer_churn_monthly set region = '华南' where customer_id in ({marks})", ids
        )
        customer_rows = f"level = 'customer' and unit_id in ({marks})"
        con.execute(f"update marts.fct_ar_aging set region = '华南' where {customer_rows}", ids)
    return copy, rep, customers


@pytest.mark.e2e
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_region_pack_shows_only_its_own_reps_and_customers(
    capsys, two_regions, tmp_path: Path, lang: str
) -> None:
    warehouse, rep, moved = two_regions
    rep_tables = ("quarter_reps", "quarter_scorecards")
    customer_tables = ("quarter_customers_at_risk", "quarter_ar_customers")

    east = _render(capsys, warehouse, "华东", lang, tmp_path / "east")
    assert all(rep not in _rows(east, t) for t in rep_tables)
    assert _rows(east, "quarter_scorecards")  # the other reps are still there
    assert all(not moved & set(_rows(east, t)) for t in customer_tables)
    assert all(
        not r.endswith(f":{rep}")
        for r in _rows(east, "quarter_plan_units") + _rows(east, "quarter_plan_split")
    )

    south = _render(capsys, warehouse, "华南", lang, tmp_path / "south")
    assert set(_rows(south, "quarter_scorecards")) == {rep}
    assert set(_rows(south, "quarter_reps")) <= {rep}
    for table in customer_tables:
        assert set(_rows(south, table)) <= moved
    # 华南 has no unit rows of its own (no region row in the unit-level marts): the pack says so plainly.
    expected = "2026-Q3 华南区域无目标与成交记录。" if lang == "zh-CN" else "There is no target"
    assert _findings(_section(south, "quarter-results"))[0].startswith(expected)
    # The company's top-down plan is not shown in a region's pack.
    assert "quarter_plan_months" not in south
    for page in (east, south):
        assert not MOBILE.search(page)
