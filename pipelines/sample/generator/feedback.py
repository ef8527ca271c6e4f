"""Customer satisfaction feedback, given some weeks after an order."""

from __future__ import annotations

from datetime import timedelta

from pipelines.sample.generator.common import Timeline, rng_for, weighted
from pipelines.sample.generator.company import Customer

FEEDBACK_SHARE = 0.3  # of orders
SATISFACTION = {"5": 30, "4": 35, "3": 22, "2": 9, "1": 4}
CATEGORIES = {"产品": 45, "服务": 35, "价格": 20}
COMMENTS = {
    ("产品", "good"): ["系统运行稳定，功能满足需求", "设备质量可靠", "上线后效率明显提升"],
    ("产品", "neutral"): ["功能基本满足，部分报表需优化", "操作界面有待改进"],
    ("产品", "bad"): ["系统偶有故障，影响生产", "部分功能与合同约定不符"],
    ("服务", "good"): ["实施团队专业，响应及时", "培训到位"],
    ("服务", "neutral"): ["响应速度一般", "售后沟通还可以"],
    ("服务", "bad"): ["问题处理太慢", "实施人员更换频繁"],
    ("价格", "good"): ["性价比高"],
    ("价格", "neutral"): ["价格偏高，但可以接受"],
    ("价格", "bad"): ["价格明显高于同类产品", "续费价格上涨过快"],
}


def build_feedback(
    seed: int, orders: list[dict], customers: dict[str, Customer], timeline: Timeline
) -> list[dict]:
    """orders: the first version of every order."""
    rng = rng_for(seed, "feedback")
    drafts = []
    for order in orders:
        if rng.random() >= FEEDBACK_SHARE:
            continue
        customer = customers[order["customer_id"]]
        day = order["order_date"] + timedelta(days=rng.randrange(15, 61))
        score = int(weighted(rng, SATISFACTION))
        category = weighted(rng, CATEGORIES)
        mood = "good" if score >= 4 else "neutral" if score == 3 else "bad"
        if day <= timeline.end:
            drafts.append(
                {
                    "customer_id": customer.customer_id,
                    "rep_id": customer.owner.rep_id if rng.random() < 0.9 else None,
                    "feedback_date": day,
                    "satisfaction": score,
                    "category": category,
                    "comment": rng.choice(COMMENTS[(category, mood)]) if rng.random() < 0.7 else None,
                }
            )
    drafts.sort(key=lambda d: (d["feedback_date"], d["customer_id"]))
    return [{"feedback_id": f"F{i:07d}", **d} for i, d in enumerate(drafts, 1)]
