"""`salesreview deliver`: a system's own export files, read with a source profile, become a complete
contract-shaped landing delivery (profiles/README.md). Small hand-made profiles and files; the expected
CSV text is worked out by hand."""

from __future__ import annotations

import json
import textwrap
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from pipelines.cli import main
from pipelines.lib.deliver import DeliverError, NotConverted, deliver
from pipelines.lib.profiles import load_profile
from quality.contract import load_contract

DAY = "2026-11-22"

CRM_PROFILE = """
name: crm_test
system: crm
currency: CNY
extract_date: {from_file_name: '(\\d{4}-\\d{2}-\\d{2})'}
entities:
  opportunities:
    file: "Opportunities*.csv"
    skip_footer_rows: 1
    dates: "%m/%d/%Y"
    timestamps: "%m/%d/%Y %I:%M %p"
    columns:
      opportunity_id: Opportunity ID
      opportunity_name: Opportunity Name
      customer_id: Account Name
      owner_rep_id: Owner
      product_id: {default: UNSPECIFIED}
      stage: {from: Stage, map: {Prospecting: 线索获取, Closed Won: 签约成交, Closed Lost: 丢单}}
      amount: Amount
      probability: {from: "Probability (%)", number: {strip: ["%"]}}
      expected_close_date: Close Date
      closed_date: {from: Close Date, when: {stage: [签约成交, 丢单]}}
      created_at: Created Date
      updated_at: {from: Last Modified Date, fallback: created_at}
  customers:
    file: "Opportunities*.csv"
    timestamps: "%m/%d/%Y %I:%M %p"
    key_prefix: "C-"
    columns:
      customer_id: Account Name
      customer_name: Account Name
      industry: {from: Industry, map: {manufacturing: 制造业, RETAIL: 零售}}
      region: {default: 华东}
      city: {default: 上海}
      tier: {default: 普通}
      channel: {default: 线上}
      owner_rep_id: Owner
      created_at: Created Date
      updated_at: {from: Last Modified Date, fallback: created_at}
absent: [leads, feedback]
"""

OPPORTUNITIES_CSV = """\
Opportunity ID,Opportunity Name,Account Name,Owner,Stage,Amount,Probability (%),Close Date,Created Date,\
Last Modified Date,Industry
006A,Big deal,Acme,Wang,Closed Won,"$1,200.50",100%,11/3/2026,10/1/2026 9:05 AM,11/3/2026 5:30 PM,\
Manufacturing
006B,Small deal,Beta,Li,Prospecting,300,10%,12/20/2026,11/2/2026 2:00 PM,,Retail
006C,Other deal,Acme,Wang,Negotiation,n/a,50%,12/1/2026,11/5/2026 8:00 AM,11/6/2026 8:00 AM,Retail
Total,,,,,,,,,,
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def profile_from(tmp_path: Path, text: str, name: str = "profile.yml"):
    return load_profile(write(tmp_path / name, textwrap.dedent(text)))


def landed(landing: Path, system: str, entity: str) -> str:
    return (landing / system / entity / f"{DAY}.csv").read_text(encoding="utf-8")


@pytest.fixture
def crm_delivery(tmp_path):
    profile = profile_from(tmp_path, CRM_PROFILE)
    export = write(tmp_path / "in" / f"Opportunities {DAY}.csv", OPPORTUNITIES_CSV)
    landing = tmp_path / "landing"
    return deliver(profile, [export], landing), landing


def test_gbk_export_with_chinese_headers_wan_yuan_and_chinese_dates(tmp_path):
    profile = profile_from(
        tmp_path,
        """
        system: erp
        extract_date: 2026-11-22
        entities:
          sales_orders:
            file: "销售订单*.csv"
            dates: "%Y年%m月%d日"
            timestamps: "%Y年%m月%d日 %H:%M"
            unit: 10000              # 万元 -> 元
            columns:
              order_id: 订单号
              order_date: 下单日期
              customer_id: 客户名称
              opportunity_id: 商机编号
              rep_id: 销售员
              product_id: 产品编码
              quantity: 数量
              unit_price: 单价(万元)
              order_amount: 金额(万元)
              status: {from: 状态, map: {已发货: fulfilled, 未发货: open, 已取消: cancelled}}
              updated_at: {from: 修改时间, fallback: order_date}
        """,
    )
    export = write(
        tmp_path / "销售订单.csv",
        "订单号,下单日期,客户名称,商机编号,销售员,产品编码,数量,单价(万元),金额(万元),状态,修改时间\r\n"
        "SO-001,2026年11月3日,上海华东机械有限公司,,张伟,P01,2,1.25,2.5,已发货,2026年11月3日 14:05\r\n"
        'SO-002,2026年11月4日,北京华北零售,OPP-9,李娜,P02,1,"1,200.5",1200.5,未发货,\r\n',
        encoding="gbk",
    )
    landing = tmp_path / "landing"
    result = deliver(profile, [export], landing)  # encoding auto: not UTF-8, so GB18030 (a superset of GBK)
    assert landed(landing, "erp", "sales_orders") == (
        "order_id,order_date,customer_id,opportunity_id,rep_id,product_id,quantity,unit_price,order_amount,"
        "status,updated_at\n"
        "SO-001,2026-11-03,上海华东机械有限公司,,张伟,P01,2,12500.00,25000.00,fulfilled,2026-11-03 14:05:00\n"
        "SO-002,2026-11-04,北京华北零售,OPP-9,李娜,P02,1,12005000.00,12005000.00,open,2026-11-04 00:00:00\n"
    )
    assert result.not_converted == {}
    assert result.absent_entities == ["products", "invoices", "payments", "collection_plan"]


def test_crm_report_gives_opportunities_and_one_row_per_customer(crm_delivery):
    result, landing = crm_delivery
    assert landed(landing, "crm", "opportunities") == (
        "opportunity_id,opportunity_name,lead_id,customer_id,owner_rep_id,product_id,stage,amount,probability,"
        "expected_close_date,closed_date,loss_reason,competitor,next_step,created_at,updated_at\n"
        "006A,Big deal,,C-Acme,Wang,UNSPECIFIED,签约成交,1200.50,100,2026-11-03,2026-11-03,,,,"
        "2026-10-01 09:05:00,2026-11-03 17:30:00\n"
        "006B,Small deal,,C-Beta,Li,UNSPECIFIED,线索获取,300.00,10,2026-12-20,,,,,"
        "2026-11-02 14:00:00,2026-11-02 14:00:00\n"
        "006C,Other deal,,C-Acme,Wang,UNSPECIFIED,Negotiation,n/a,50,2026-12-01,,,,,"
        "2026-11-05 08:00:00,2026-11-06 08:00:00\n"
    )
    # derived from the same lines: Acme twice, the last line wins; key_prefix on the key and the references
    assert landed(landing, "crm", "customers") == (
        "customer_id,customer_name,industry,region,city,tier,channel,budget,owner_rep_id,contact_name,"
        "contact_mobile,created_at,updated_at\n"
        "C-Beta,Beta,零售,华东,上海,普通,线上,,Li,,,2026-11-02 14:00:00,2026-11-02 14:00:00\n"
        "C-Acme,Acme,零售,华东,上海,普通,线上,,Wang,,,2026-11-05 08:00:00,2026-11-06 08:00:00\n"
    )
    assert (result.entities["opportunities"].rows, result.entities["customers"].rows) == (3, 2)
    assert (
        result.entities["customers"].one_row_per_key and not result.entities["opportunities"].one_row_per_key
    )


def test_values_that_do_not_convert_are_written_as_they_were_and_counted(crm_delivery):
    result, _ = crm_delivery
    assert result.not_converted == {
        ("opportunities", "stage"): NotConverted(1, "Negotiation", "not in the value map, kept as it was"),
        ("opportunities", "amount"): NotConverted(1, "n/a", "not a number"),
    }


def test_manifest_last_with_the_source_block_and_header_only_absent_entities(crm_delivery):
    result, landing = crm_delivery
    manifest = json.loads((landing / "crm" / "_manifests" / f"{DAY}.json").read_text(encoding="utf-8"))
    assert manifest["source"] == {
        "profile": "crm_test",
        "initial": False,
        "currency": "CNY",
        # declared absent (leads, feedback) or not in the profile at all: header-only files
        "absent_entities": [
            "reps",
            "leads",
            "opportunity_stage_history",
            "activities",
            "targets",
            "feedback",
        ],
        "defaulted_columns": {
            "customers": ["region", "city", "tier", "channel"],
            "opportunities": ["product_id"],
        },
        "unmapped_columns": {
            "customers": ["budget", "contact_name", "contact_mobile"],
            "opportunities": ["lead_id", "loss_reason", "competitor", "next_step"],
        },
        "source_files": {
            "customers": [f"Opportunities {DAY}.csv"],
            "opportunities": [f"Opportunities {DAY}.csv"],
        },
    }
    assert {entity: meta["rows"] for entity, meta in manifest["files"].items()} == {
        "reps": 0,
        "customers": 2,
        "leads": 0,
        "opportunities": 3,
        "opportunity_stage_history": 0,
        "activities": 0,
        "targets": 0,
        "feedback": 0,
    }
    contract = load_contract()
    for entity in ("reps", "leads", "feedback"):
        header = ",".join(contract.entity(entity).column_names) + "\n"
        assert landed(landing, "crm", entity) == header
    # nothing but the delivery is left in the landing folder (the temporary folder is gone)
    assert sorted(p.name for p in landing.iterdir()) == ["crm"]
    assert result.manifest_path == landing / "crm" / "_manifests" / f"{DAY}.json"


def test_excel_sheet_with_a_title_row_above_the_header(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "说明"
    workbook.active.append(["产品见下一页"])
    sheet = workbook.create_sheet("商品")
    sheet.append(["产品清单 2026年11月"])
    sheet.append([])
    sheet.append(["编码", "名称", "产品线", "单价", "状态", "更新时间"])
    sheet.append([1001, "销售云", "软件", 12800.5, "在售", datetime(2026, 11, 3, 14, 5)])
    sheet.append(["P-2", "数据云", "软件", "3,000", "停售", date(2026, 11, 4)])
    workbook.save(tmp_path / "产品.xlsx")
    text = """
        system: erp
        entities:
          products:
            file: "*.xlsx"
            sheet: 商品
            header_row: 3
            columns:
              product_id: 编码
              product_name: 名称
              product_line: 产品线
              list_price: 单价
              unit: {default: 套}
              is_active: {from: 状态, map: {在售: "true", 停售: "false"}}
              updated_at: 更新时间
        """
    landing = tmp_path / "landing"
    deliver(profile_from(tmp_path, text), [tmp_path / "产品.xlsx"], landing, extract_date=date(2026, 11, 22))
    assert landed(landing, "erp", "products") == (
        "product_id,product_name,product_line,list_price,unit,is_active,updated_at\n"
        "1001,销售云,软件,12800.50,套,true,2026-11-03 14:05:00\n"  # an Excel number 1001 is the id 1001
        "P-2,数据云,软件,3000.00,套,false,2026-11-04 00:00:00\n"
    )
    # without header_row the title row is taken for the header: the error says where the header is
    with pytest.raises(DeliverError) as raised:
        deliver(
            profile_from(tmp_path, text.replace("header_row: 3", "header_row: 1")),
            [tmp_path / "产品.xlsx"],
            tmp_path / "other",
            extract_date=date(2026, 11, 22),
        )
    assert raised.value.problems[-1] == (
        "产品.xlsx: the headers are on row 3, not 1: set entities.products.header_row: 3"
    )


def test_unmapped_values_error_or_a_default_value(tmp_path):
    text = """
        system: crm
        entities:
          reps:
            file: "Users.csv"
            columns:
              rep_id: ID
              rep_name: Name
              role: {from: Role, map: {Sales Rep: rep, Manager: manager}, unmapped: error}
              team_id: Team
              team_name: Team
              region: {from: Region, map: {East: 华东}, unmapped: 华北}
              hire_date: {default: 2020-01-01}
              updated_at: {default: "2026-11-22 00:00:00"}
        """
    users = write(
        tmp_path / "Users.csv",
        "ID,Name,Role,Team,Region\nU1,王芳,sales rep,T1,East\nU2,李强,Intern,T1,West\n",
    )
    landing = tmp_path / "landing"
    result = deliver(profile_from(tmp_path, text), [users], landing, extract_date=date(2026, 11, 22))
    assert landed(landing, "crm", "reps").splitlines()[1:] == [
        "U1,王芳,rep,T1,T1,华东,,,2020-01-01,,2026-11-22 00:00:00",  # maps ignore ASCII case
        "U2,李强,Intern,T1,T1,华北,,,2020-01-01,,2026-11-22 00:00:00",  # 'Intern' refused by the ingest
    ]
    assert result.not_converted == {
        ("reps", "role"): NotConverted(1, "Intern", "not in the value map (unmapped: error)")
    }
    assert result.entities["reps"].defaulted_columns == ["hire_date", "updated_at"]


def test_renamed_and_missing_headers_are_errors_naming_file_column_and_profile_entry(tmp_path):
    profile = profile_from(tmp_path, CRM_PROFILE)
    drifted = OPPORTUNITIES_CSV.replace("Close Date", "Close date").replace(",Owner,", ",Rep,")
    export = write(tmp_path / f"Opportunities {DAY}.csv", drifted)
    landing = tmp_path / "landing"
    with pytest.raises(DeliverError) as raised:
        deliver(profile, [export], landing)
    assert raised.value.problems == [
        f'Opportunities {DAY}.csv: column "Owner" not found (profile crm_test: '
        "entities.opportunities.columns.owner_rep_id, entities.customers.columns.owner_rep_id); the file's "
        'columns are "Opportunity ID", "Opportunity Name", "Account Name", "Rep", "Stage", "Amount", '
        '"Probability (%)", "Close date", "Created Date", "Last Modified Date", "Industry"',
        f'Opportunities {DAY}.csv: column "Close Date" not found (profile crm_test: '
        "entities.opportunities.columns.expected_close_date, "
        "entities.opportunities.columns.closed_date.from); "
        'the file has "Close date" — a renamed header?',
    ]
    assert not landing.exists()  # nothing written


def test_a_new_column_in_the_export_is_a_note(tmp_path):
    profile = profile_from(tmp_path, CRM_PROFILE)
    lines = OPPORTUNITIES_CSV.splitlines()
    widened = "\n".join([lines[0] + ",Region"] + [line + ",East" for line in lines[1:]]) + "\n"
    result = deliver(profile, [write(tmp_path / f"Opportunities {DAY}.csv", widened)], tmp_path / "landing")
    assert result.notes == [
        f'Opportunities {DAY}.csv: column(s) not read by profile crm_test: "Region" '
        "(new in the export? map them under entities.<entity>.columns to use them, or list them under "
        "entities.<entity>.ignore)"
    ]


def test_files_must_match_the_profile_and_every_entity_needs_one(tmp_path):
    profile = profile_from(tmp_path, CRM_PROFILE)
    stray = write(tmp_path / "Accounts.csv", "x\n")
    with pytest.raises(DeliverError) as raised:
        deliver(profile, [stray], tmp_path / "landing")
    first, *others = raised.value.problems
    assert first.startswith("Accounts.csv: matches no entity's file pattern in profile crm_test")
    assert others[0] == (
        "no file for opportunities (profile crm_test: entities.opportunities.file is 'Opportunities*.csv'); "
        "give its file, or list opportunities under `absent`"
    )


def test_extract_date_from_the_file_name_the_date_option_wins_and_a_delivered_day_is_refused(tmp_path):
    profile = profile_from(tmp_path, CRM_PROFILE)
    export = write(tmp_path / f"Opportunities {DAY}.csv", OPPORTUNITIES_CSV)
    landing = tmp_path / "landing"
    assert deliver(profile, [export], landing).extract_date == DAY
    assert deliver(profile, [export], landing, extract_date=date(2026, 11, 21)).extract_date == "2026-11-21"
    with pytest.raises(DeliverError, match="the crm delivery of 2026-11-22 is already there"):
        deliver(profile, [export], landing)


@pytest.mark.parametrize(
    "encoding, prefix",
    [("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("gb18030", b"")],
    ids=["utf-8 with BOM", "utf-16", "gb18030"],
)
def test_encoding_auto(tmp_path, encoding, prefix):
    profile = profile_from(tmp_path, CRM_PROFILE)
    export = tmp_path / f"Opportunities {DAY}.csv"
    export.write_bytes(prefix + OPPORTUNITIES_CSV.replace("Big deal", "大单").encode(encoding))
    landing = tmp_path / "landing"
    deliver(profile, [export], landing)
    assert landed(landing, "crm", "opportunities").splitlines()[1].startswith("006A,大单,,C-Acme,")


def test_cli_prints_what_was_written_and_exits_2_on_drift(tmp_path, capsys):
    profile = write(tmp_path / "crm_test.yml", textwrap.dedent(CRM_PROFILE))
    export = write(tmp_path / f"Opportunities {DAY}.csv", OPPORTUNITIES_CSV)
    landing = tmp_path / "landing"
    args = ["deliver", "--profile", str(profile), "--landing", str(landing), "--initial", str(export)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"crm first load of history (--initial) {DAY} with profile crm_test" in out
    assert "opportunities                        3 rows from Opportunities 2026-11-22.csv" in out
    assert "defaulted (not in the source): region, city, tier, channel" in out
    assert "header only (not in the source): reps, leads, opportunity_stage_history, activities" in out
    assert "opportunities.amount: 1, e.g. 'n/a': not a number" in out
    manifest = json.loads((landing / "crm" / "_manifests" / f"{DAY}.json").read_text(encoding="utf-8"))
    assert manifest["source"]["initial"] is True

    write(export, OPPORTUNITIES_CSV.replace("Close Date", "Close date"))
    assert main([*args[:-2], "--date", "2026-11-23", str(export)]) == 2
    captured = capsys.readouterr()
    assert 'column "Close Date" not found' in captured.err and "Traceback" not in captured.err
    assert not (landing / "crm" / "_manifests" / "2026-11-23.json").exists()


def test_ignored_columns_are_no_note_and_an_ignored_header_may_be_missing(tmp_path):
    lines = OPPORTUNITIES_CSV.splitlines()
    widened = (
        "\n".join([lines[0] + ",Region,Fiscal Period"] + [line + ",East,Q4" for line in lines[1:]]) + "\n"
    )
    export = write(tmp_path / f"Opportunities {DAY}.csv", widened)
    # one entity ignores Region, the other Fiscal Period; "Old Field" is not in the file: fine
    text = CRM_PROFILE.replace(
        "    skip_footer_rows: 1\n", '    skip_footer_rows: 1\n    ignore: [Region, "Old Field"]\n'
    ).replace('    key_prefix: "C-"\n', '    key_prefix: "C-"\n    ignore: Fiscal Period\n')
    result = deliver(profile_from(tmp_path, text), [export], tmp_path / "landing")
    assert result.notes == []
    # only the columns neither mapped nor ignored are in the note
    result = deliver(
        profile_from(tmp_path, text.replace("    ignore: Fiscal Period\n", "")), [export], tmp_path / "other"
    )
    assert result.notes == [
        f'Opportunities {DAY}.csv: column(s) not read by profile crm_test: "Fiscal Period" '
        "(new in the export? map them under entities.<entity>.columns to use them, or list them under "
        "entities.<entity>.ignore)"
    ]


USERS_PROFILE = """
    system: crm
    entities:
      reps:
        file: "Users*.csv"
        where: {Type: [sales]}
        where_not: {Name: [test user, 测试]}
        columns:
          rep_id: ID
          rep_name: Name
          role: {default: rep}
          team_id: Team
          team_name: Team
          region: {default: 华东}
          hire_date: {default: 2020-01-01}
          updated_at: {default: "2026-11-22 00:00:00"}
    """
USERS_CSV = (
    "ID,Name,Type,Team\n"
    "U1,王芳,Sales,T1\n"  # kept: 'Sales' = 'sales' (ASCII case-insensitive)
    "U2,Test User,sales,T1\n"  # left out by where_not (case-insensitive)
    "U3,李强,Support,T2\n"  # left out by where: not a sales user
    "U4,测试 , SALES ,T2\n"  # left out by where_not: values are trimmed
    "U5,赵敏,,T2\n"  # left out by where: empty is not 'sales'
    "U6,陈晨, sales,T3\n"  # kept
)


def test_where_keeps_and_where_not_drops_rows_and_deliver_says_how_many(tmp_path, capsys):
    users = write(tmp_path / "Users.csv", USERS_CSV)
    landing = tmp_path / "landing"
    result = deliver(profile_from(tmp_path, USERS_PROFILE), [users], landing, extract_date=date(2026, 11, 22))
    assert [line.split(",")[:2] for line in landed(landing, "crm", "reps").splitlines()[1:]] == [
        ["U1", "王芳"],
        ["U6", "陈晨"],
    ]
    assert (result.entities["reps"].rows, result.entities["reps"].left_out) == (2, 4)
    # Type is read by the filter: no "not read" note for it
    assert result.notes == [
        "Users.csv: 4 row(s) left out of reps by entities.reps.where/entities.reps.where_not "
        "(profile profile)"
    ]
    # a filter's header is checked like a mapped one
    write(users, USERS_CSV.replace("Type", "Kind"))
    with pytest.raises(DeliverError) as raised:
        deliver(
            profile_from(tmp_path, USERS_PROFILE),
            [users],
            tmp_path / "other",
            extract_date=date(2026, 11, 22),
        )
    assert raised.value.problems[0].startswith(
        'Users.csv: column "Type" not found (profile profile: entities.reps.where); '
        'the file\'s columns are "ID"'
    )
    # the command line prints the note
    profile = write(tmp_path / "users.yml", textwrap.dedent(USERS_PROFILE))
    write(users, USERS_CSV)
    args = [
        "deliver",
        "--profile",
        str(profile),
        "--landing",
        str(tmp_path / "cli"),
        "--date",
        DAY,
        str(users),
    ]
    assert main(args) == 0
    assert "note: Users.csv: 4 row(s) left out of reps by entities.reps.where" in capsys.readouterr().out


TARGETS_PROFILE = """
    system: crm
    entities:
      targets:
        file: "个人目标*.xlsx"
        header_row: 2
        where_not: {姓名: [合计]}
        ignore: [全年目标]
        unpivot:
          columns: '(\\d{1,2})月目标'
          label: '2026-\\1'            # the year is not in the header
          into: {name: 月份, value: 目标}
        columns:
          target_id: [姓名, 月份]       # one id per person and month
          target_level: {default: rep}
          owner_id: 姓名
          period_start: {from: 月份, month: start}
          period_end: {from: 月份, month: end}
          target_amount: 目标
          updated_at: {default: "2026-01-05 00:00:00"}
    """


def wide_targets(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["2026年度个人销售目标（元）"])
    sheet.append(["姓名", "部门", "1月目标", "2月目标", "12月目标", "全年目标"])
    sheet.append(["王芳", "华东一部", 100000, 120000.5, 90000, 310000.5])
    sheet.append(["李强", "华东一部", 80000, None, "1,000", 81000])  # no February target: no row
    sheet.append(["合计", "", 180000, 120000.5, 91000, 391000.5])
    workbook.save(path)
    return path


def test_unpivot_a_wide_target_sheet_into_one_row_per_person_and_month(tmp_path):
    book = wide_targets(tmp_path / "个人目标.xlsx")
    text = TARGETS_PROFILE
    landing = tmp_path / "landing"
    result = deliver(profile_from(tmp_path, text), [book], landing, extract_date=date(2026, 11, 22))
    assert landed(landing, "crm", "targets") == (
        "target_id,target_level,owner_id,period_start,period_end,target_amount,updated_at\n"
        "王芳-2026-1,rep,王芳,2026-01-01,2026-01-31,100000.00,2026-01-05 00:00:00\n"
        "王芳-2026-2,rep,王芳,2026-02-01,2026-02-28,120000.50,2026-01-05 00:00:00\n"
        "王芳-2026-12,rep,王芳,2026-12-01,2026-12-31,90000.00,2026-01-05 00:00:00\n"
        "李强-2026-1,rep,李强,2026-01-01,2026-01-31,80000.00,2026-01-05 00:00:00\n"
        "李强-2026-12,rep,李强,2026-12-01,2026-12-31,1000.00,2026-01-05 00:00:00\n"
    )
    assert (result.entities["targets"].rows, result.entities["targets"].left_out) == (5, 1)
    assert result.not_converted == {}
    # 部门 is neither read nor ignored; the unpivoted months and the ignored 全年目标 are accounted for
    assert result.notes[0] == (
        '个人目标.xlsx: column(s) not read by profile profile: "部门" (new in the export? map them under '
        "entities.<entity>.columns to use them, or list them under entities.<entity>.ignore)"
    )


def test_unpivot_with_a_mapping_of_headers_to_labels(tmp_path):
    book = wide_targets(tmp_path / "个人目标.xlsx")
    text = TARGETS_PROFILE.replace(
        "          columns: '(\\d{1,2})月目标'\n"
        "          label: '2026-\\1'            # the year is not in the header\n",
        '          columns: {"1月目标": 2026-01, "12月目标": 2026年12月}\n',
    ).replace("ignore: [全年目标]", "ignore: [全年目标, 2月目标, 部门]")
    landing = tmp_path / "landing"
    result = deliver(profile_from(tmp_path, text), [book], landing, extract_date=date(2026, 11, 22))
    assert landed(landing, "crm", "targets").splitlines()[1:] == [
        "王芳-2026-01,rep,王芳,2026-01-01,2026-01-31,100000.00,2026-01-05 00:00:00",
        "王芳-2026年12月,rep,王芳,2026-12-01,2026-12-31,90000.00,2026-01-05 00:00:00",
        "李强-2026-01,rep,李强,2026-01-01,2026-01-31,80000.00,2026-01-05 00:00:00",
        "李强-2026年12月,rep,李强,2026-12-01,2026-12-31,1000.00,2026-01-05 00:00:00",
    ]
    assert result.notes == [
        "个人目标.xlsx: 1 row(s) left out of targets by entities.targets.where_not (profile profile)"
    ]
    # a header of the mapping missing from the file is drift; a pattern matching nothing too
    with pytest.raises(DeliverError) as raised:
        deliver(
            profile_from(tmp_path, text.replace('"12月目标"', '"13月目标"')),
            [book],
            tmp_path / "other",
            extract_date=date(2026, 11, 22),
        )
    assert raised.value.problems == [
        '个人目标.xlsx: column "13月目标" not found (profile profile: entities.targets.unpivot.columns); '
        'the file has "1月目标" — a renamed header?'
    ]
    with pytest.raises(DeliverError) as raised:
        deliver(
            profile_from(tmp_path, TARGETS_PROFILE.replace("月目标'", "月份目标'")),
            [book],
            tmp_path / "other",
            extract_date=date(2026, 11, 22),
        )
    assert raised.value.problems == [
        "个人目标.xlsx: no column matches '(\\d{1,2})月份目标' "
        "(profile profile: entities.targets.unpivot.columns)"
    ]


def erp_report(path: Path, title: object) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([title])
    sheet.append(["单位：元"])
    sheet.append(["编码", "名称", "产品线", "单价", "计量单位", "状态", "更新时间"])
    sheet.append(["P1", "销售云", "软件", 100, "套", "在售", datetime(2026, 11, 3, 14, 5)])
    workbook.save(path)
    return path


ERP_PRODUCTS = """
    system: erp
    extract_date: {from_cell: {file: "物料*.xlsx", cell: A1}, pattern: '(\\d{4}-\\d{2}-\\d{2})'}
    entities:
      products:
        file: "物料*.xlsx"
        header_row: 3
        columns:
          product_id: 编码
          product_name: 名称
          product_line: 产品线
          list_price: 单价
          unit: 计量单位
          is_active: {from: 状态, map: {在售: "true"}}
          updated_at: 更新时间
    """


def test_extract_date_from_a_cell_of_the_title_row(tmp_path):
    report = erp_report(tmp_path / "物料.xlsx", "物料清单 2026-11-22")
    landing = tmp_path / "landing"
    assert deliver(profile_from(tmp_path, ERP_PRODUCTS), [report], landing).extract_date == DAY
    # without a pattern the cell itself is the date: a date cell, or a date text written year first
    no_pattern = ERP_PRODUCTS.replace(", pattern: '(\\d{4}-\\d{2}-\\d{2})'", "")
    assert "pattern" not in no_pattern
    for title, day in [(date(2026, 11, 20), "2026-11-20"), ("2026年11月21日", "2026-11-21")]:
        report = erp_report(tmp_path / "物料.xlsx", title)
        result = deliver(profile_from(tmp_path, no_pattern), [report], tmp_path / f"l{day}")
        assert result.extract_date == day
    # a title without the date says which file, cell and text
    report = erp_report(tmp_path / "物料.xlsx", "物料清单")
    with pytest.raises(DeliverError) as raised:
        deliver(profile_from(tmp_path, ERP_PRODUCTS), [report], tmp_path / "other")
    assert raised.value.problems == [
        "物料.xlsx: cell A1 is '物料清单': no date matching '(\\\\d{4}-\\\\d{2}-\\\\d{2})' "
        "(profile profile: extract_date.from_cell); fix the profile, or pass --date"
    ]
    # --date still wins
    result = deliver(
        profile_from(tmp_path, ERP_PRODUCTS), [report], tmp_path / "dated", extract_date=date(2026, 11, 19)
    )
    assert result.extract_date == "2026-11-19"


def test_extract_date_from_a_csv_cell_and_files_that_disagree(tmp_path):
    text = USERS_PROFILE.replace(
        "    system: crm\n",
        "    system: crm\n"
        "    extract_date: {from_cell: {file: 'Users*.csv', cell: B1}, pattern: '截至(.+)'}\n",
    ).replace("        where: {Type: [sales]}\n", "        header_row: 2\n        where: {Type: [sales]}\n")
    first = write(tmp_path / "Users 1.csv", "用户列表,截至2026/11/22\n" + USERS_CSV)
    result = deliver(profile_from(tmp_path, text), [first], tmp_path / "landing")
    assert (result.extract_date, result.entities["reps"].rows) == (DAY, 2)
    second = write(tmp_path / "Users 2.csv", "用户列表,截至2026/11/21\n" + USERS_CSV)
    with pytest.raises(DeliverError) as raised:
        deliver(profile_from(tmp_path, text), [first, second], tmp_path / "other")
    assert raised.value.problems == [
        "the files' cells B1 give different extract dates "
        "(Users 1.csv: 2026-11-22, Users 2.csv: 2026-11-21); pass --date"
    ]
