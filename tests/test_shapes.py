"""The sample company written as real exports (pipelines/sample/generator/shapes.py): encodings, headers,
units, date forms and the Excel layout the shipped profiles expect. The round trip through `deliver` is in
test_shipped_profiles.py."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.sample.generator import generate
from pipelines.sample.generator.shapes import (
    CN_CRM_STAGES,
    SALESFORCE_STAGES,
    current_state,
    display_names,
    wan_yuan,
    write_shape,
)

END = date(2026, 11, 22)


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    generate(out, scale=0.05, seed=7, end_date=END, days=5)
    return out


@pytest.fixture(scope="module")
def state(landing):
    return current_state(landing)


def _rows(path: Path, encoding: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


def test_wan_yuan_is_exact_with_at_least_two_decimals():
    assert wan_yuan("140964.00") == "14.0964"
    assert wan_yuan("189100.00") == "18.91"
    assert wan_yuan("100000.00") == "10.00"
    assert wan_yuan("1234.56") == "0.123456"
    assert wan_yuan("") == ""


def test_display_names_number_namesakes_in_id_order():
    reps = [
        {"rep_id": "R2", "rep_name": "王丹"},
        {"rep_id": "R1", "rep_name": "王丹"},
        {"rep_id": "R3", "rep_name": "李敏"},
    ]
    assert display_names(reps) == {"R1": "王丹", "R2": "王丹2", "R3": "李敏"}


def test_current_state_is_the_latest_version_of_every_key(landing, state):
    extract_date, tables = state
    assert extract_date == END.isoformat()
    opportunities = tables["opportunities"]
    assert len({o["opportunity_id"] for o in opportunities}) == len(opportunities)
    # an opportunity changed during the window is in its latest version
    last_day = {o["opportunity_id"]: o for o in _rows(landing / "crm/opportunities/2026-11-19.csv", "utf-8")}
    current = {o["opportunity_id"]: o for o in opportunities}
    assert last_day and all(current[k]["updated_at"] >= v["updated_at"] for k, v in last_day.items())
    # snapshots: the latest file
    assert tables["products"] == _rows(landing / "erp/products/2026-11-22.csv", "utf-8")


def test_salesforce_report_is_utf8_with_bom_english_and_us_formats(landing, state, tmp_path):
    _, tables = state
    files = write_shape("salesforce", landing, tmp_path)
    assert [f.name for f in files] == ["Opportunities.csv", "Users.csv"]
    raw = (tmp_path / "Opportunities.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = _rows(tmp_path / "Opportunities.csv", "utf-8-sig")
    assert len(rows) == len(tables["opportunities"])
    by_id = {o["opportunity_id"]: o for o in tables["opportunities"]}
    for row in rows:
        original = by_id[row["Opportunity ID"]]
        assert row["Stage"] == SALESFORCE_STAGES[original["stage"]]
        assert re.fullmatch(r"\d{1,3}(,\d{3})*\.\d{2}", row["Amount"])
        assert Decimal(row["Amount"].replace(",", "")) == Decimal(original["amount"])
        assert row["Probability (%)"] == f"{original['probability']}%"
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", row["Close Date"])
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2} [AP]M", row["Last Modified Date"])
        # one Close Date: the actual date once the deal is closed
        closed = original["closed_date"] or original["expected_close_date"]
        assert datetime.strptime(row["Close Date"], "%m/%d/%Y").date().isoformat() == closed
    assert any(row["Amount"].count(",") >= 1 for row in rows)
    users = _rows(tmp_path / "Users.csv", "utf-8-sig")
    assert {u["User ID"] for u in users} == {r["rep_id"] for r in tables["reps"]}


def test_cn_crm_files_are_gbk_with_chinese_headers_wan_yuan_and_chinese_dates(landing, state, tmp_path):
    _, tables = state
    files = write_shape("cn_crm", landing, tmp_path)
    assert sorted(f.name for f in files) == sorted(
        ["商机.csv", "客户.csv", "员工.csv", "跟进记录.csv", "目标.csv"]
    )
    for path in files:
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")  # really GBK, not UTF-8
        path.read_bytes().decode("gbk")
    opportunities = _rows(tmp_path / "商机.csv", "gbk")
    assert list(opportunities[0])[:4] == ["商机编号", "商机名称", "客户名称", "客户编号"]
    by_id = {o["opportunity_id"]: o for o in tables["opportunities"]}
    names = display_names(tables["reps"])
    for row in opportunities:
        original = by_id[row["商机编号"]]
        assert Decimal(row["金额(万元)"]) * 10000 == Decimal(original["amount"])
        assert row["销售阶段"] == CN_CRM_STAGES[original["stage"]]
        assert row["负责人"] == names[original["owner_rep_id"]]
        expected = date.fromisoformat(original["expected_close_date"])
        assert row["预计成交日期"] == f"{expected.year}年{expected.month}月{expected.day}日"
    staff = _rows(tmp_path / "员工.csv", "gbk")
    assert len({s["姓名"] for s in staff}) == len(staff) == len(tables["reps"])  # names are the keys
    targets = _rows(tmp_path / "目标.csv", "gbk")
    total = sum(Decimal(t["目标金额(万元)"]) for t in targets) * 10000
    assert total == sum(Decimal(t["target_amount"]) for t in tables["targets"])


def test_cn_erp_workbooks_have_a_title_row_real_dates_and_a_total_line(landing, state, tmp_path):
    from openpyxl import load_workbook

    _, tables = state
    files = write_shape("cn_erp", landing, tmp_path)
    assert {f.name for f in files} == {
        f"{report}_2026-11-22.xlsx" for report in ("销售订单", "应收单", "收款单", "物料", "回款计划")
    }
    sheet = load_workbook(tmp_path / "应收单_2026-11-22.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "应收账款明细表 2026-11-22"
    assert "单位：元" in rows[1][0]
    header = list(rows[2])
    assert header[:3] == ["单据编号", "业务日期", "到期日"]
    body, total = rows[3:-1], rows[-1]
    assert len(body) == len(tables["invoices"])
    assert isinstance(body[0][1], datetime)  # a date cell, not text
    amount = header.index("应收金额")
    assert total[0] == "合计"
    assert total[amount] == pytest.approx(
        float(sum(Decimal(i["invoice_amount"]) for i in tables["invoices"]))
    )
    unpaid = header.index("未收金额")
    assert sum(r[unpaid] for r in body) == pytest.approx(
        float(
            sum(Decimal(i["invoice_amount"]) for i in tables["invoices"])
            - sum(Decimal(p["payment_amount"]) for p in tables["payments"])
        )
    )
    products = list(load_workbook(tmp_path / "物料_2026-11-22.xlsx").active.iter_rows(values_only=True))
    assert products[-1][0] != "合计" and len(products) == 3 + len(tables["products"])


def test_generate_shape_command_writes_the_export(tmp_path, capsys):
    out = tmp_path / "export"
    args = ["generate", "--shape", "salesforce", "--scale", "0.05", "--days", "3", "--out", str(out)]
    assert main(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["Opportunities.csv", "Users.csv"]
    assert "salesforce export" in capsys.readouterr().out
    assert main([*args, "--labels", str(tmp_path / "labels.csv")]) == 2
