"""The company itself: regions, teams and reps, the product catalogue, the customer base."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from faker import Faker

from pipelines.sample.generator.common import Timeline, next_workday, poisson, rng_for, weighted, work_time

REGIONS = {  # region -> (code used in team ids, cities of the region)
    "华东": ("HD", ["上海", "杭州", "南京", "苏州", "宁波", "合肥", "济南", "青岛", "福州", "无锡"]),
    "华北": ("HB", ["北京", "天津", "石家庄", "太原", "呼和浩特", "唐山", "保定"]),
    "华南": ("HN", ["广州", "深圳", "东莞", "佛山", "南宁", "海口", "珠海"]),
    "西南": ("XN", ["成都", "重庆", "昆明", "贵阳", "绵阳"]),
    "华中": ("HZ", ["武汉", "长沙", "郑州", "南昌", "宜昌", "洛阳"]),
}
LAGGING_REGION = "西南"  # wins less than the others: the packs must show one region behind plan
TEAM_NUMERALS = "一二三四五六七八九十"

INDUSTRIES = {  # industry -> (weight, words that make a plausible company name)
    "制造业": (28, ["机械", "精密制造", "电子", "汽车零部件", "新材料", "装备", "模具"]),
    "零售": (8, ["商贸", "连锁", "百货", "供应链"]),
    "医疗": (8, ["医疗器械", "生物医药", "健康"]),
    "教育": (5, ["教育科技", "职业培训"]),
    "金融": (6, ["融资租赁", "金融服务", "保险经纪"]),
    "物流": (10, ["物流", "仓储", "运输"]),
    "能源": (9, ["能源", "电力", "新能源", "燃气"]),
    "互联网": (10, ["网络科技", "数字科技", "云计算"]),
    "建筑": (9, ["建设工程", "建材", "工程设计"]),
    "政府及公共事业": (7, ["水务", "公用事业", "城市建设投资"]),
}
NAME_SUFFIXES = {"有限公司": 6, "股份有限公司": 2, "集团有限公司": 1}
TIERS = {"战略": 5, "重点": 20, "普通": 75}
CHANNELS = {"展会": 25, "转介绍": 30, "线上": 30, "电话营销": 15}
# How a customer pays its invoices (see erp.py). "drift" (the cycle slides from ~30 to ~60 days) is
# given to some of the biggest buyers, so that enough invoices show the trend.
PAY_BEHAVIOURS = {"ontime": 72, "late": 14, "split": 12, "never": 2}
DRIFTING_SHARE_OF_TOP = 0.5  # of the top 5% accounts by buying frequency
CREDIT_TERMS = {30: 35, 45: 25, 60: 30, 90: 10}

PRODUCT_LINES = {  # line -> (unit, [(product name, list price in yuan)])
    "ERP软件": (
        "套",
        [
            ("企业版ERP", 680000),
            ("标准版ERP", 260000),
            ("财务管理模块", 120000),
            ("供应链管理模块", 150000),
            ("生产制造模块", 180000),
            ("人力资源模块", 90000),
        ],
    ),
    "工业自动化设备": (
        "台",
        [
            ("PLC控制器", 28000),
            ("六轴工业机器人", 320000),
            ("伺服驱动器", 12000),
            ("机器视觉检测系统", 150000),
            ("智能传感器套件", 8000),
            ("AGV搬运小车", 160000),
        ],
    ),
    "数据与云服务": (
        "年",
        [
            ("私有云平台", 300000),
            ("数据中台", 450000),
            ("BI分析平台", 120000),
            ("数据备份服务", 40000),
            ("物联网平台", 200000),
            ("MES云服务", 160000),
        ],
    ),
    "网络与安全": (
        "台",
        [
            ("下一代防火墙", 85000),
            ("核心交换机", 120000),
            ("无线AP套装", 15000),
            ("安全审计系统", 98000),
            ("终端安全软件", 30000),
            ("堡垒机", 60000),
        ],
    ),
    "实施与运维服务": (
        "人天",
        [
            ("实施服务", 3000),
            ("年度运维服务", 2500),
            ("定制开发", 3500),
            ("培训服务", 2000),
            ("驻场支持", 2800),
            ("咨询服务", 5000),
        ],
    ),
}


@dataclass
class Rep:
    rep_id: str
    name: str
    role: str  # rep / manager / director
    team_id: str
    team_name: str
    region: str
    manager_id: str | None
    mobile: str
    hire_date: date
    # Behaviour (not exported): how well, how busily and how honestly the rep works.
    win_factor: float = 1.0
    pipeline_rate: float = 1.0
    optimism: int = 0  # points added to the stage probability
    diligence: float = 1.0  # share of the usual activity volume the rep logs


@dataclass
class Product:
    product_id: str
    name: str
    line: str
    list_price: int  # yuan
    unit: str
    is_active: bool


@dataclass
class Customer:
    customer_id: str
    name: str
    industry: str
    region: str
    city: str
    tier: str
    channel: str
    budget: int  # yuan
    owner: Rep
    contact_name: str
    contact_mobile: str
    created_at: datetime
    weight: float  # how often the account buys (not exported)
    pay_behaviour: str
    credit_terms: int
    changes: list[tuple[datetime, dict]] = field(default_factory=list)  # later CRM edits


@dataclass
class Company:
    reps: list[Rep]
    products: list[Product]
    customers: list[Customer]

    @property
    def quota_reps(self) -> list[Rep]:
        return [r for r in self.reps if r.role == "rep"]


def mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def org_sizes(scale: float) -> tuple[int, int, int]:
    """(quota reps, regions, teams): 40 reps in 5 regions and 10 teams at scale 1, at least 2 reps."""
    n_reps = max(2, round(40 * scale))
    n_regions = min(len(REGIONS), max(1, round(n_reps / 8)))
    n_teams = max(n_regions, round(n_reps / 4))
    return n_reps, n_regions, n_teams


def build_reps(seed: int, scale: float, timeline: Timeline) -> list[Rep]:
    rng = rng_for(seed, "reps")
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    n_reps, n_regions, n_teams = org_sizes(scale)
    regions = list(REGIONS)[:n_regions]
    teams_per_region = [n_teams // n_regions + (i < n_teams % n_regions) for i in range(n_regions)]
    teams = [(region, k) for region, n in zip(regions, teams_per_region, strict=True) for k in range(n)]
    reps_per_team = [n_reps // n_teams + (i < n_reps % n_teams) for i in range(n_teams)]

    def hire(years_min: float, years_max: float) -> date:
        return timeline.sim_start - timedelta(days=rng.randrange(int(365 * years_min), int(365 * years_max)))

    people: list[Rep] = []

    def add(role: str, team_id: str, team_name: str, region: str, manager: Rep | None, hired: date) -> Rep:
        rep = Rep(
            f"R{len(people) + 1:04d}",
            fake.name(),
            role,
            team_id,
            team_name,
            region,
            manager.rep_id if manager else None,
            mobile(rng),
            hired,
        )
        people.append(rep)
        return rep

    for region in regions:
        code = REGIONS[region][0]
        director = add("director", f"{code}00", f"{region}大区", region, None, hire(4, 10))
        for (team_region, k), size in zip(teams, reps_per_team, strict=True):
            if team_region != region:
                continue
            team_id, team_name = f"{code}{k + 1:02d}", f"{region}{TEAM_NUMERALS[k % 10]}组"
            manager = add("manager", team_id, team_name, region, director, hire(3, 8))
            for _ in range(size):
                rep = add("rep", team_id, team_name, region, manager, hire(0.3, 6))
                rep.win_factor = rng.uniform(0.8, 1.2) * (0.6 if region == LAGGING_REGION else 1.0)
                rep.pipeline_rate = rng.uniform(0.8, 1.2)
                rep.optimism = rng.choice([0, 0, 0, 5, 10, 15])
                rep.diligence = rng.uniform(0.65, 1.1)
    return people


def build_products() -> list[Product]:
    products = []
    for line, (unit, items) in PRODUCT_LINES.items():
        for name, price in items:
            products.append(Product(f"P{len(products) + 1:04d}", name, line, price, unit, True))
    products[-1].is_active = False  # a retired offering: still in the master, no longer sold
    return products


class _Names:
    """Unique company names: city + faker prefix + industry word + legal suffix."""

    def __init__(self, seed: int):
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(seed + 1)
        self.rng = rng_for(seed, "customer-names")
        self.used: set[str] = set()

    def make(self, city: str, industry: str) -> str:
        """Unique up to the legal suffix within a city: two accounts named 上海X有限公司 and
        上海X股份有限公司 would be the same company entered twice (a duplicate, quality/DEFECTS.md)."""
        words = INDUSTRIES[industry][1]
        for attempt in range(50):
            prefix = self.fake.company_prefix() + (self.fake.company_prefix() if attempt > 5 else "")
            core = f"{city}{prefix}{self.rng.choice(words)}"
            suffix = weighted(self.rng, NAME_SUFFIXES)
            if core not in self.used:
                self.used.add(core)
                return f"{core}{suffix}"
        raise RuntimeError("could not find a unique customer name")  # pragma: no cover


def build_customers(seed: int, reps: list[Rep], timeline: Timeline) -> list[Customer]:
    """Accounts that existed before the simulation plus new ones arriving every week."""
    rng = rng_for(seed, "customers")
    fake = Faker("zh_CN")
    fake.seed_instance(seed + 2)
    names = _Names(seed)
    quota = [r for r in reps if r.role == "rep"]
    pending: list[tuple[datetime, Rep]] = []
    for rep in quota:  # the existing base: about 90 accounts per rep, first contact up to 3 years back
        for _ in range(90):
            day = timeline.sim_start - timedelta(days=rng.randrange(1, 3 * 365))
            pending.append((work_time(rng, day), rep))
    for monday in timeline.weeks():  # new accounts, a mild growth trend
        rate = 0.25 * len(quota) * (1 + 0.3 * timeline.fraction(monday))
        for _ in range(poisson(rng, rate)):
            day = next_workday(monday + timedelta(days=rng.randrange(5)))  # not on a public holiday
            if day <= timeline.end:
                pending.append((work_time(rng, day), rng.choice(quota)))
    pending.sort(key=lambda p: (p[0], p[1].rep_id))

    customers = []
    for created_at, owner in pending:
        industry = weighted(rng, {k: v[0] for k, v in INDUSTRIES.items()})
        tier = weighted(rng, TIERS)
        tier_budget = {"战略": 3.0, "重点": 1.6, "普通": 1.0}[tier]
        budget = int(round(rng.lognormvariate(math.log(130_000), 0.8) * tier_budget, -3))
        behaviour = weighted(rng, PAY_BEHAVIOURS)
        city = rng.choice(REGIONS[owner.region][1])
        customers.append(
            Customer(
                customer_id=f"C{len(customers) + 1:06d}",
                name=names.make(city, industry),
                industry=industry,
                region=owner.region,
                city=city,
                tier=tier,
                channel=weighted(rng, CHANNELS),
                budget=max(budget, 5000),
                owner=owner,
                contact_name=fake.name(),
                contact_mobile=mobile(rng),
                created_at=created_at,
                weight=rng.lognormvariate(0, 1.0) * {"战略": 4, "重点": 2, "普通": 1}[tier],
                pay_behaviour=behaviour,
                credit_terms=int(weighted(rng, {str(k): v for k, v in CREDIT_TERMS.items()})),
            )
        )
    _assign_drifting_payers(rng, customers)
    _add_contact_changes(rng, fake, customers, timeline)
    return customers


def _assign_drifting_payers(rng: random.Random, customers: list[Customer]) -> None:
    top = sorted(customers, key=lambda c: (-c.weight, c.customer_id))[: max(1, len(customers) // 20)]
    for c in top:
        if rng.random() < DRIFTING_SHARE_OF_TOP:
            c.pay_behaviour, c.credit_terms = "drift", 30


def _add_contact_changes(
    rng: random.Random, fake: Faker, customers: list[Customer], timeline: Timeline
) -> None:
    """About one account in ten changes its main contact each year."""
    years = (timeline.end - timeline.sim_start).days / 365
    for c in customers:
        if rng.random() < 0.1 * years:
            first = max(c.created_at.date(), timeline.sim_start) + timedelta(days=1)
            if first >= timeline.end:
                continue
            day = first + timedelta(days=rng.randrange((timeline.end - first).days + 1))
            c.changes.append(
                (work_time(rng, day), {"contact_name": fake.name(), "contact_mobile": mobile(rng)})
            )


def customer_rows(customers: list[Customer], timeline: Timeline) -> list[dict]:
    """Every version of every account (one row per change), up to the end of the window."""
    rows = []
    for c in customers:
        row = {
            "customer_id": c.customer_id,
            "customer_name": c.name,
            "industry": c.industry,
            "region": c.region,
            "city": c.city,
            "tier": c.tier,
            "channel": c.channel,
            "budget": c.budget,
            "owner_rep_id": c.owner.rep_id,
            "contact_name": c.contact_name,
            "contact_mobile": c.contact_mobile,
            "created_at": c.created_at,
            "updated_at": c.created_at,
        }
        rows.append(row)
        for ts, change in sorted(c.changes, key=lambda ch: ch[0]):
            if ts <= timeline.end_ts and ts > row["updated_at"]:
                row = {**row, **change, "updated_at": ts}
                rows.append(row)
    return rows


def rep_rows(reps: list[Rep]) -> list[dict]:
    return [
        {
            "rep_id": r.rep_id,
            "rep_name": r.name,
            "role": r.role,
            "team_id": r.team_id,
            "team_name": r.team_name,
            "region": r.region,
            "manager_id": r.manager_id,
            "mobile": r.mobile,
            "hire_date": r.hire_date,
            "leave_date": None,
            "updated_at": datetime.combine(r.hire_date, datetime.min.time()).replace(hour=9),
        }
        for r in reps
    ]


def product_rows(products: list[Product], timeline: Timeline) -> list[dict]:
    updated = datetime.combine(timeline.sim_start - timedelta(days=30), datetime.min.time()).replace(hour=10)
    return [
        {
            "product_id": p.product_id,
            "product_name": p.name,
            "product_line": p.line,
            "list_price": p.list_price,
            "unit": p.unit,
            "is_active": p.is_active,
            "updated_at": updated,
        }
        for p in products
    ]


def add_tier_upgrades(customers: list[Customer], wins: list[tuple[datetime, str, int]]) -> None:
    """Accounts that have bought a lot are promoted (重点 from 100万, 战略 from 300万), the next day.

    wins: (won_at, customer_id, amount)."""
    by_id = {c.customer_id: c for c in customers}
    total: dict[str, int] = {}
    tier = {c.customer_id: c.tier for c in customers}
    for won_at, customer_id, amount in sorted(wins):
        total[customer_id] = total.get(customer_id, 0) + amount
        new = (
            "战略"
            if total[customer_id] >= 3_000_000
            else "重点"
            if total[customer_id] >= 1_000_000
            else "普通"
        )
        rank = {"普通": 0, "重点": 1, "战略": 2}
        if rank[new] > rank[tier[customer_id]]:
            tier[customer_id] = new
            when = won_at + timedelta(days=1)
            by_id[customer_id].changes.append((when.replace(hour=10), {"tier": new}))
