"""The quarterly pack (季报): its sections in order, the summary first, then the plan (000 §1: the two
halves are kept apart, and this quarter's plan is the next quarter's yardstick).

1. 季度达成 Quarter results (quarter_results)
2. 应收与回款 Receivables and collections (quarter_receivables)
3. 客户 Customers (quarter_customers)
4. 销售代表评分 Rep scorecards (quarter_scorecards)
5. 季节性 Seasonality and 6. 下季度计划 Next quarter's plan (quarter_plan)
"""

from __future__ import annotations

from reports.context import PackContext
from reports.sections import (
    quarter_customers,
    quarter_plan,
    quarter_receivables,
    quarter_results,
    quarter_scorecards,
)


def render(ctx: PackContext) -> None:
    quarter_results.render(ctx)
    quarter_receivables.render(ctx)
    quarter_customers.render(ctx)
    quarter_scorecards.render(ctx)
    quarter_plan.render_seasonality(ctx)
    quarter_plan.render_plan(ctx)
