"""The sample company as real systems export it: the input the shipped source profiles (profiles/) read.

    write_shape(shape, landing_dir, out_dir) -> written files

`landing_dir` is a contract-shaped landing folder (the generator's output). Its current state (the latest
delivery: for delta entities the latest version of every key over all days, for snapshot entities the latest
file) is written as one of three realistic exports:

- `salesforce`: a Salesforce "Opportunities with Accounts and Products" report (Opportunities.csv) and a
  Users report (Users.csv); English headers and picklist values, UTF-8 with BOM, US dates, 12-hour times
  without seconds, amounts like "1,200,000.00"; "Close Date" is the expected date while a deal is open and
  the actual close date once it is closed, as in Salesforce.
- `cn_crm`: a 纷享销客/销售易-style CRM export: 商机, 客户, 员工, 跟进记录 and 目标 as GBK CSV files with
  Chinese headers, money in 万元, dates like 2026年11月3日, the CRM's own stage and picklist words, and
  people by name (负责人, 跟进人, 直属上级), not by id.
- `cn_erp`: a 金蝶/用友-style ERP export: 销售订单, 应收单 (应收账款明细表), 收款单, 物料 and 回款计划
  as .xlsx workbooks with a title row and a unit row above the header, a 合计 line at the bottom of the
  transaction reports, real date cells, salespeople by name.

The words of each export (stage names, picklists, roles) are declared here once; the shipped profiles map
them back, and tests/test_shipped_profiles.py checks that the round trip gives the same company.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from pipelines.lib.landing import list_extract_dates
from quality.contract import Contract, load_contract

SHAPES = ("salesforce", "cn_crm", "cn_erp")

Rows = list[dict[str, str]]

# --- the words each export uses (contract value -> export value) ------------------------------

SALESFORCE_STAGES = {
    "线索获取": "Prospecting",
    "需求挖掘": "Qualification",
    "方案演示": "Proposal/Price Quote",
    "商务谈判": "Negotiation/Review",
    "签约成交": "Closed Won",
    "丢单": "Closed Lost",
}
SALESFORCE_LOSS_REASONS = {
    "价格": "Price",
    "竞争对手": "Lost to Competitor",
    "预算不足": "No Budget",
    "需求变化": "Requirements Changed",
    "无决策": "No Decision",
}
SALESFORCE_INDUSTRIES = {  # Salesforce's standard Industry picklist
    "制造业": "Manufacturing",
    "零售": "Retail",
    "医疗": "Healthcare",
    "教育": "Education",
    "金融": "Finance",
    "物流": "Transportation",
    "能源": "Energy",
    "互联网": "Technology",
    "建筑": "Construction",
    "政府及公共事业": "Government",
}
SALESFORCE_REGIONS = {
    "华东": "East China",
    "华北": "North China",
    "华南": "South China",
    "西南": "Southwest China",
    "华中": "Central China",
    "西北": "Northwest China",
    "东北": "Northeast China",
}
SALESFORCE_TIERS = {"战略": "Strategic", "重点": "Key Account", "普通": "Standard"}
SALESFORCE_SOURCES = {  # Account Source
    "展会": "Trade Show",
    "转介绍": "External Referral",
    "线上": "Web",
    "电话营销": "Phone Inquiry",
}
SALESFORCE_ROLES = {"rep": "Sales Rep", "manager": "Sales Manager", "director": "Regional Sales Director"}

CN_CRM_STAGES = {
    "线索获取": "初步接洽",
    "需求挖掘": "需求确认",
    "方案演示": "方案报价",
    "商务谈判": "商务谈判",
    "签约成交": "赢单",
    "丢单": "输单",
}
CN_CRM_LOSS_REASONS = {
    "价格": "价格过高",
    "竞争对手": "竞品胜出",
    "预算不足": "客户预算不足",
    "需求变化": "客户需求变更",
    "无决策": "项目搁置",
}
CN_CRM_TIERS = {"战略": "战略客户", "重点": "重点客户", "普通": "普通客户"}
CN_CRM_SOURCES = {"展会": "展会", "转介绍": "老客户转介绍", "线上": "网络推广", "电话营销": "电话营销"}
CN_CRM_INDUSTRIES = {"政府及公共事业": "政府/公共事业"}  # the others are written as the contract has them
CN_CRM_ROLES = {"rep": "销售代表", "manager": "销售经理", "director": "区域总监"}
CN_CRM_ACTIVITY_TYPES = {"拜访": "上门拜访", "电话": "电话沟通", "邮件": "邮件"}
CN_CRM_TARGET_LEVELS = {"rep": "人员", "team": "部门", "region": "区域"}

CN_ERP_ORDER_STATUS = {"open": "执行中", "fulfilled": "已完成", "cancelled": "已作废"}
CN_ERP_PAYMENT_METHODS = {"银行转账": "电汇", "承兑汇票": "银行承兑汇票", "支票": "支票"}
CN_ERP_DISABLED = {"true": "否", "false": "是"}  # is_active -> 禁用状态

CN_CRM_TIMESTAMP = "%Y/%m/%d %H:%M:%S"


# --- the company's current state from a landing folder ---------------------------------------


def current_state(landing_dir: Path, contract: Contract | None = None) -> tuple[str, dict[str, Rows]]:
    """The latest extract date and every entity's current rows (contract text values), sorted by key."""
    contract = contract or load_contract()
    tables: dict[str, Rows] = {}
    latest = ""
    for system in contract.systems:
        dates = list_extract_dates(landing_dir, contract, system)
        if not dates:
            raise FileNotFoundError(f"{landing_dir}: no {system} delivery (no manifest)")
        latest = max(latest, dates[-1])
        for entity in contract.entities_of(system):
            days = dates[-1:] if entity.load_mode == "snapshot" else dates
            by_key: dict[tuple[str, ...], dict[str, str]] = {}
            for day in days:  # oldest first: a later version of a key replaces the earlier one
                for row in read_csv(landing_dir / contract.file_path(system, entity.name, day)):
                    by_key[tuple(row[k] for k in entity.primary_key)] = row
            tables[entity.name] = [by_key[k] for k in sorted(by_key)]
    return latest, tables


def read_csv(path: Path, encoding: str = "utf-8") -> Rows:
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


def display_names(reps: Rows) -> dict[str, str]:
    """rep_id -> the name a Chinese system shows. People are referred to by name there, and a system does
    not let two accounts share one: a later namesake gets a number (王丹2), in id order."""
    seen: dict[str, int] = {}
    names = {}
    for rep in sorted(reps, key=lambda r: r["rep_id"]):
        n = seen[rep["rep_name"]] = seen.get(rep["rep_name"], 0) + 1
        names[rep["rep_id"]] = rep["rep_name"] if n == 1 else f"{rep['rep_name']}{n}"
    return names


# --- value formats --------------------------------------------------------------------------


def us_amount(text: str) -> str:
    return f"{Decimal(text):,.2f}" if text else ""


def wan_yuan(text: str) -> str:
    """Yuan -> 万元 with as many decimals as it takes to stay exact (at least 2): 140964.00 -> 14.0964."""
    if not text:
        return ""
    wan = (Decimal(text) / 10000).normalize()
    return f"{wan:.{max(2, -wan.as_tuple().exponent)}f}"


def _date(text: str) -> date:
    return date.fromisoformat(text)


def _timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def us_date(text: str) -> str:
    return _date(text).strftime("%m/%d/%Y") if text else ""


def us_timestamp(text: str) -> str:
    """Salesforce report times: 12-hour clock, no seconds."""
    return _timestamp(text).strftime("%m/%d/%Y %I:%M %p") if text else ""


def cn_date(text: str) -> str:
    if not text:
        return ""
    d = _date(text)
    return f"{d.year}年{d.month}月{d.day}日"


def cn_timestamp(text: str) -> str:
    return _timestamp(text).strftime(CN_CRM_TIMESTAMP) if text else ""


def percent(text: str) -> str:
    return f"{text}%" if text else ""


def mapped(words: dict[str, str]) -> Callable[[str], str]:
    return lambda text: words.get(text, text)


def write_csv(path: Path, header: list[str], rows: Iterable[list[str]], encoding: str, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n", **options)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- Salesforce -----------------------------------------------------------------------------


def write_salesforce(tables: dict[str, Rows], out_dir: Path, extract_date: str) -> list[Path]:
    """Opportunities.csv: one line per opportunity with its account and product; Users.csv: the sales users.
    Salesforce has no hire date; the Users report carries what a standard org has."""
    customers = {c["customer_id"]: c for c in tables["customers"]}
    products = {p["product_id"]: p for p in tables["products"]}
    reps = {r["rep_id"]: r for r in tables["reps"]}
    header = [
        "Opportunity Owner",
        "Owner ID",
        "Account Name",
        "Account ID",
        "Opportunity Name",
        "Opportunity ID",
        "Stage",
        "Fiscal Period",
        "Amount",
        "Probability (%)",
        "Close Date",
        "Product Code",
        "Product Name",
        "Loss Reason",
        "Main Competitor",
        "Next Step",
        "Created Date",
        "Last Modified Date",
        "Industry",
        "Billing City",
        "Sales Region",
        "Account Tier",
        "Account Source",
        "Account Owner",
        "Account Owner ID",
        "Account Created Date",
        "Account Last Modified Date",
    ]
    lines = []
    for o in tables["opportunities"]:
        c, p = customers[o["customer_id"]], products.get(o["product_id"], {})
        closed = o["stage"] in ("签约成交", "丢单")
        close = o["closed_date"] if closed else o["expected_close_date"]
        lines.append(
            [
                reps[o["owner_rep_id"]]["rep_name"],
                o["owner_rep_id"],
                c["customer_name"],
                c["customer_id"],
                o["opportunity_name"],
                o["opportunity_id"],
                SALESFORCE_STAGES[o["stage"]],
                f"Q{(_date(close).month - 1) // 3 + 1}-{close[:4]}",
                us_amount(o["amount"]),
                percent(o["probability"]),
                us_date(close),
                o["product_id"],
                p.get("product_name", ""),
                SALESFORCE_LOSS_REASONS.get(o["loss_reason"], o["loss_reason"]),
                o["competitor"],
                o["next_step"],
                us_timestamp(o["created_at"]),
                us_timestamp(o["updated_at"]),
                SALESFORCE_INDUSTRIES[c["industry"]],
                c["city"],
                SALESFORCE_REGIONS[c["region"]],
                SALESFORCE_TIERS[c["tier"]],
                SALESFORCE_SOURCES[c["channel"]],
                reps[c["owner_rep_id"]]["rep_name"],
                c["owner_rep_id"],
                us_timestamp(c["created_at"]),
                us_timestamp(c["updated_at"]),
            ]
        )
    users_header = [
        "User ID",
        "Full Name",
        "Role",
        "Manager ID",
        "Manager",
        "Department",
        "Division",
        "Mobile",
        "Active",
        "Last Login",
        "Last Modified Date",
    ]
    users = [
        [
            r["rep_id"],
            r["rep_name"],
            SALESFORCE_ROLES[r["role"]],
            r["manager_id"],
            reps[r["manager_id"]]["rep_name"] if r["manager_id"] else "",
            r["team_name"],
            SALESFORCE_REGIONS[r["region"]],
            r["mobile"],
            "0" if r["leave_date"] else "1",
            "",
            us_timestamp(r["updated_at"]),
        ]
        for r in tables["reps"]
    ]
    # Salesforce quotes every field and starts its UTF-8 files with a BOM (so that Excel reads them).
    return [
        write_csv(out_dir / "Opportunities.csv", header, lines, "utf-8-sig", quoting=csv.QUOTE_ALL),
        write_csv(out_dir / "Users.csv", users_header, users, "utf-8-sig", quoting=csv.QUOTE_ALL),
    ]


# --- Chinese CRM ----------------------------------------------------------------------------


def write_cn_crm(tables: dict[str, Rows], out_dir: Path, extract_date: str) -> list[Path]:
    names = display_names(tables["reps"])
    customers = {c["customer_id"]: c for c in tables["customers"]}
    products = {p["product_id"]: p for p in tables["products"]}
    reps = {r["rep_id"]: r for r in tables["reps"]}

    def person(rep_id: str) -> str:
        return names.get(rep_id, rep_id)

    files = []
    opp_header = [
        "商机编号",
        "商机名称",
        "客户名称",
        "客户编号",
        "销售阶段",
        "金额(万元)",
        "赢单率",
        "预计成交日期",
        "结单日期",
        "输单原因",
        "竞争对手",
        "下一步",
        "产品编码",
        "产品名称",
        "负责人",
        "所属部门",
        "创建时间",
        "最后修改时间",
    ]
    opps = [
        [
            o["opportunity_id"],
            o["opportunity_name"],
            customers[o["customer_id"]]["customer_name"],
            o["customer_id"],
            CN_CRM_STAGES[o["stage"]],
            wan_yuan(o["amount"]),
            percent(o["probability"]),
            cn_date(o["expected_close_date"]),
            cn_date(o["closed_date"]),
            CN_CRM_LOSS_REASONS.get(o["loss_reason"], o["loss_reason"]),
            o["competitor"],
            o["next_step"],
            o["product_id"],
            products.get(o["product_id"], {}).get("product_name", ""),
            person(o["owner_rep_id"]),
            reps[o["owner_rep_id"]]["team_name"],
            cn_timestamp(o["created_at"]),
            cn_timestamp(o["updated_at"]),
        ]
        for o in tables["opportunities"]
    ]
    files.append(write_csv(out_dir / "商机.csv", opp_header, opps, "gbk"))

    customer_header = [
        "客户编号",
        "客户名称",
        "客户级别",
        "客户来源",
        "所属行业",
        "所属区域",
        "城市",
        "年度预算(万元)",
        "负责人",
        "联系人",
        "联系人手机",
        "创建时间",
        "最后修改时间",
    ]
    customer_lines = [
        [
            c["customer_id"],
            c["customer_name"],
            CN_CRM_TIERS[c["tier"]],
            CN_CRM_SOURCES[c["channel"]],
            CN_CRM_INDUSTRIES.get(c["industry"], c["industry"]),
            c["region"],
            c["city"],
            wan_yuan(c["budget"]),
            person(c["owner_rep_id"]),
            c["contact_name"],
            c["contact_mobile"],
            cn_timestamp(c["created_at"]),
            cn_timestamp(c["updated_at"]),
        ]
        for c in tables["customers"]
    ]
    files.append(write_csv(out_dir / "客户.csv", customer_header, customer_lines, "gbk"))

    staff_header = [
        "工号",
        "姓名",
        "部门",
        "职位",
        "直属上级",
        "所属区域",
        "手机",
        "入职日期",
        "离职日期",
        "状态",
        "最后修改时间",
    ]
    staff = [
        [
            r["rep_id"],
            person(r["rep_id"]),
            r["team_name"],
            CN_CRM_ROLES[r["role"]],
            person(r["manager_id"]) if r["manager_id"] else "",
            r["region"],
            r["mobile"],
            cn_date(r["hire_date"]),
            cn_date(r["leave_date"]),
            "离职" if r["leave_date"] else "在职",
            cn_timestamp(r["updated_at"]),
        ]
        for r in tables["reps"]
    ]
    files.append(write_csv(out_dir / "员工.csv", staff_header, staff, "gbk"))

    activity_header = [
        "记录编号",
        "跟进方式",
        "跟进人",
        "客户名称",
        "客户编号",
        "关联商机编号",
        "跟进时间",
        "时长(分钟)",
        "拜访地点",
        "客户意向",
        "跟进内容",
        "创建时间",
    ]
    activity_lines = [
        [
            a["activity_id"],
            CN_CRM_ACTIVITY_TYPES[a["activity_type"]],
            person(a["rep_id"]),
            customers[a["customer_id"]]["customer_name"] if a["customer_id"] in customers else "",
            a["customer_id"],
            a["opportunity_id"],
            cn_timestamp(a["activity_at"]),
            a["duration_minutes"],
            a["city"],
            a["intention_level"],
            a["summary"],
            cn_timestamp(a["logged_at"]),
        ]
        for a in tables["activities"]
    ]
    files.append(write_csv(out_dir / "跟进记录.csv", activity_header, activity_lines, "gbk"))

    teams = {r["team_id"]: r["team_name"] for r in tables["reps"]}
    target_header = [
        "目标编号",
        "目标维度",
        "目标对象",
        "开始日期",
        "结束日期",
        "目标金额(万元)",
        "最后修改时间",
    ]
    owner_of = {"rep": person, "team": lambda team_id: teams.get(team_id, team_id), "region": str}
    target_lines = [
        [
            t["target_id"],
            CN_CRM_TARGET_LEVELS[t["target_level"]],
            owner_of[t["target_level"]](t["owner_id"]),
            cn_date(t["period_start"]),
            cn_date(t["period_end"]),
            wan_yuan(t["target_amount"]),
            cn_timestamp(t["updated_at"]),
        ]
        for t in tables["targets"]
    ]
    files.append(write_csv(out_dir / "目标.csv", target_header, target_lines, "gbk"))
    return files


# --- Chinese ERP ----------------------------------------------------------------------------

# Cell types of the ERP workbooks: how each contract text value becomes an Excel cell.
_CELL_FORMATS = {"date": "yyyy-mm-dd", "timestamp": "yyyy-mm-dd hh:mm:ss", "money": "#,##0.00"}


def _cell(text: str, kind: str) -> object:
    if text == "":
        return None
    if kind == "date":
        return _date(text)
    if kind == "timestamp":
        return _timestamp(text)
    if kind == "money":
        return float(Decimal(text))  # ERP amounts are numeric cells (cents survive a float)
    if kind == "int":
        return int(text)
    return text


def write_workbook(
    path: Path,
    title: str,
    subtitle: str,
    sheet: str,
    columns: list[tuple[str, str]],
    rows: list[list[str]],
    totals: list[str] | tuple[str, ...] = (),
) -> Path:
    """One ERP report: title row, a unit/date row, the header on row 3, the rows, then (with `totals`) a 合计
    line summing those columns."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([subtitle])
    ws.append([name for name, _ in columns])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    kinds = [kind for _, kind in columns]
    for row in rows:
        ws.append([_cell(text, kind) for text, kind in zip(row, kinds, strict=True)])
        for cell, kind in zip(ws[ws.max_row], kinds, strict=True):
            if kind in _CELL_FORMATS:
                cell.number_format = _CELL_FORMATS[kind]
    names = [name for name, _ in columns]
    if totals:  # transaction reports end with a total line; master data lists do not
        total_line: list[object] = ["合计"] + [None] * (len(columns) - 1)
        for name in totals:
            i = names.index(name)
            total_line[i] = float(sum(Decimal(row[i] or "0") for row in rows))
        ws.append(total_line)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def write_cn_erp(tables: dict[str, Rows], out_dir: Path, extract_date: str) -> list[Path]:
    names = display_names(tables["reps"])
    customers = {c["customer_id"]: c["customer_name"] for c in tables["customers"]}
    products = {p["product_id"]: p for p in tables["products"]}
    paid: dict[str, Decimal] = {}
    for p in tables["payments"]:
        paid[p["invoice_id"]] = paid.get(p["invoice_id"], Decimal(0)) + Decimal(p["payment_amount"])
    unit_row = f"制表日期：{extract_date}    币别：人民币    单位：元"

    def workbook(report: str, title: str, columns, rows, totals=()) -> Path:
        path = out_dir / f"{report}_{extract_date}.xlsx"
        return write_workbook(path, title, unit_row, report, columns, rows, totals)

    files = [
        workbook(
            "销售订单",
            f"销售订单执行明细表 {extract_date}",
            [
                ("单据编号", "text"),
                ("单据日期", "date"),
                ("客户编码", "text"),
                ("客户名称", "text"),
                ("销售员", "text"),
                ("物料编码", "text"),
                ("物料名称", "text"),
                ("销售数量", "int"),
                ("单价", "money"),
                ("金额", "money"),
                ("单据状态", "text"),
                ("CRM商机号", "text"),
                ("最后修改日期", "timestamp"),
            ],
            [
                [
                    o["order_id"],
                    o["order_date"],
                    o["customer_id"],
                    customers.get(o["customer_id"], ""),
                    names.get(o["rep_id"], o["rep_id"]),
                    o["product_id"],
                    products.get(o["product_id"], {}).get("product_name", ""),
                    o["quantity"],
                    o["unit_price"],
                    o["order_amount"],
                    CN_ERP_ORDER_STATUS[o["status"]],
                    o["opportunity_id"],
                    o["updated_at"],
                ]
                for o in tables["sales_orders"]
            ],
            totals=["销售数量", "金额"],
        ),
        workbook(
            "应收单",
            f"应收账款明细表 {extract_date}",
            [
                ("单据编号", "text"),
                ("业务日期", "date"),
                ("到期日", "date"),
                ("账期(天)", "int"),
                ("客户编码", "text"),
                ("客户名称", "text"),
                ("源单编号", "text"),
                ("应收金额", "money"),
                ("已收金额", "money"),
                ("未收金额", "money"),
                ("最后修改日期", "timestamp"),
            ],
            [
                [
                    i["invoice_id"],
                    i["invoice_date"],
                    i["due_date"],
                    i["credit_terms_days"],
                    i["customer_id"],
                    customers.get(i["customer_id"], ""),
                    i["order_id"],
                    i["invoice_amount"],
                    str(paid.get(i["invoice_id"], Decimal(0))),
                    str(Decimal(i["invoice_amount"]) - paid.get(i["invoice_id"], Decimal(0))),
                    i["updated_at"],
                ]
                for i in tables["invoices"]
            ],
            totals=["应收金额", "已收金额", "未收金额"],
        ),
        workbook(
            "收款单",
            f"收款单列表 {extract_date}",
            [
                ("单据编号", "text"),
                ("收款日期", "date"),
                ("客户编码", "text"),
                ("客户名称", "text"),
                ("结算方式", "text"),
                ("收款金额", "money"),
                ("源单编号", "text"),
            ],
            [
                [
                    p["payment_id"],
                    p["payment_date"],
                    p["customer_id"],
                    customers.get(p["customer_id"], ""),
                    CN_ERP_PAYMENT_METHODS[p["method"]],
                    p["payment_amount"],
                    p["invoice_id"],
                ]
                for p in tables["payments"]
            ],
            totals=["收款金额"],
        ),
        workbook(
            "物料",
            f"物料列表 {extract_date}",
            [
                ("物料编码", "text"),
                ("物料名称", "text"),
                ("物料分组", "text"),
                ("计量单位", "text"),
                ("标准售价", "money"),
                ("禁用状态", "text"),
                ("最后修改日期", "timestamp"),
            ],
            [
                [
                    p["product_id"],
                    p["product_name"],
                    p["product_line"],
                    p["unit"],
                    p["list_price"],
                    CN_ERP_DISABLED[p["is_active"]],
                    p["updated_at"],
                ]
                for p in tables["products"]
            ],
        ),
        workbook(
            "回款计划",
            f"回款计划表 {extract_date}",
            [
                ("计划编号", "text"),
                ("应收单号", "text"),
                ("客户编码", "text"),
                ("客户名称", "text"),
                ("负责人", "text"),
                ("计划回款周", "date"),
                ("计划回款金额", "money"),
                ("风险原因", "text"),
                ("最后修改日期", "timestamp"),
            ],
            [
                [
                    c["plan_id"],
                    c["invoice_id"],
                    c["customer_id"],
                    customers.get(c["customer_id"], ""),
                    names.get(c["rep_id"], c["rep_id"]),
                    c["planned_week_start"],
                    c["planned_amount"],
                    c["risk_reason"],
                    c["updated_at"],
                ]
                for c in tables["collection_plan"]
            ],
            totals=["计划回款金额"],
        ),
    ]
    return files


WRITERS: dict[str, Callable[[dict[str, Rows], Path, str], list[Path]]] = {
    "salesforce": write_salesforce,
    "cn_crm": write_cn_crm,
    "cn_erp": write_cn_erp,
}


def write_shape(shape: str, landing_dir: Path, out_dir: Path) -> list[Path]:
    """Write the landing folder's company, as of its latest delivery, as the `shape` export into out_dir."""
    if shape not in WRITERS:
        raise ValueError(f"unknown shape {shape!r}: one of {', '.join(SHAPES)}")
    extract_date, tables = current_state(Path(landing_dir))
    return WRITERS[shape](tables, Path(out_dir), extract_date)
