"""A source without some entities, with defaulted columns and in another currency: the packs say "not in
your source" where a section needs what the source lacks (no zeros), name the defaulted fields and show
amounts in the declared currency. The deliveries' `source` blocks are what `salesreview deliver` records
(raw_meta.delivery_sources)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.ingest import ensure_ingest_tables
from quality.contract import load_contract
from reports import renderer
from reports.source_coverage import SECTION_NEEDS

REPORTS = Path(__file__).resolve().parents[1] / "reports"


@pytest.fixture(scope="module")
def warehouse(built_company, tmp_path_factory) -> Path:
    root, _, _ = built_company
    path = tmp_path_factory.mktemp("coverage") / "warehouse.duckdb"
    shutil.copyfile(root / "warehouse.duckdb", path)
    con = duckdb.connect(str(path))
    (as_of,) = con.execute("select as_of_date from marts.warehouse_as_of").fetchone()
    ensure_ingest_tables(con, load_contract())
    con.execute("delete from raw_meta.delivery_sources")
    rows = [
        # an older CRM delivery said nothing was absent: only the latest on or before the as-of counts
        ("crm", "2026-10-01", "salesforce_opportunities", True, "USD", [], {}),
        ("crm", as_of.isoformat(), "salesforce_opportunities", False, "usd",
         ["activities", "feedback", "targets"], {"opportunities": ["product_id"]}),
        ("erp", as_of.isoformat(), "cn_erp_receivables", False, "USD", ["collection_plan"], {}),
    ]  # fmt: skip
    for system, day, profile, initial, currency, absent, defaulted in rows:
        con.execute(
            "insert into raw_meta.delivery_sources (system, extract_date, profile, initial, currency, "
            "absent_entities, defaulted_columns, loaded_at) values (?, ?, ?, ?, ?, ?, ?, now())",
            [system, day, profile, initial, currency, absent, json.dumps(defaulted)],
        )
    con.close()
    return path


def _pack(warehouse: Path, lang: str) -> str:
    parameters = {
        "warehouse": str(warehouse),
        "period_start": "",
        "region": "",
        "lang": lang,
        "tables_dir": "",
    }
    _, markdown = renderer.execute(REPORTS / "weekly_pack.qmd", parameters)
    return markdown


def _section(markdown: str, section_id: str) -> str:
    match = re.search(rf'data-section="{section_id}">(.*?)</div>', markdown, re.S)
    assert match, section_id
    return match.group(1)


def test_sections_needing_what_the_source_lacks_say_so_instead_of_showing_zeros(warehouse) -> None:
    zh, en = _pack(warehouse, "zh-CN"), _pack(warehouse, "en")
    for section_id, needs in (
        ("targets", "targets"),
        ("results-activities", "activities"),
        ("results-satisfaction", "feedback"),
        ("results-collections", "collection_plan"),
    ):
        assert SECTION_NEEDS[section_id] == (needs,)
        body = _section(en, section_id)
        assert f'data-missing="{needs}"' in body
        assert "Not in your source: the export of the source system has no" in body
        assert "<table" not in body and "srw-kpi" not in body, "no figures, not even zeros"
    assert "不在你的数据源中：源系统的导出没有销售目标" in _section(zh, "targets")
    assert "源系统的导出没有销售活动" in _section(zh, "results-activities")
    # sections whose entities are delivered keep their figures
    assert "<table" in _section(en, "results-deals") and "data-missing" not in _section(en, "problems")
    # the results finding no longer mentions a collection plan the source does not have
    results_findings = _section(en, "results").split("</p>")[0]
    assert "collection" not in results_findings.lower()


def test_the_header_names_the_profiles_what_is_missing_and_the_currency(warehouse) -> None:
    en = _pack(warehouse, "en")
    source = re.search(r'<p class="srw-source">(.*?)</p>', en).group(1)
    assert source == (
        "Source CRM: salesforce_opportunities; ERP: cn_erp_receivables. "
        "Not in your source: activities, collection plan, feedback, targets. "
        "Defaulted by the profile: opportunities.product_id. Amounts in USD"
    )
    zh = _pack(warehouse, "zh-CN")
    assert (
        "源系统没有：销售活动、回款计划、客户反馈、销售目标。由映射配置填默认值的字段：商机的product_id。金额币种：USD"
        in zh
    )


def test_amounts_carry_the_declared_currency(warehouse) -> None:
    en, zh = _pack(warehouse, "en"), _pack(warehouse, "zh-CN")
    assert "CNY" not in en
    assert re.search(r"USD \d[\d,.]*[kM]", en), "a sentence amount in USD"
    assert "(USD k)" in en or "(USD M)" in en, "a table column's unit"
    assert "万元" not in zh and "万美元" in zh
