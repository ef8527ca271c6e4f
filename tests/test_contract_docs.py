"""The documents generated from the extract contract stay in sync with it and cover all of it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pipelines.lib import contract_docs
from quality.contract import load_contract

REPO_ROOT = Path(__file__).resolve().parents[1]
STAGING_DIR = REPO_ROOT / "dbt_project" / "models" / "staging"


@pytest.fixture(scope="module")
def contract():
    return load_contract()


def test_committed_files_equal_the_rendered_ones(contract):
    for path, text in contract_docs.rendered_files(REPO_ROOT, contract).items():
        assert path.exists(), f"{path} is missing: run `salesreview contract-docs`"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `salesreview contract-docs`"


def test_write_all_writes_the_three_files(tmp_path, contract):
    written = contract_docs.write_all(tmp_path, contract)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "dbt_project/models/staging/crm/_crm__sources.yml",
        "dbt_project/models/staging/erp/_erp__sources.yml",
        "quality/contract/README.md",
    ]


@pytest.mark.parametrize("system", ["crm", "erp"])
def test_sources_list_every_table_and_column_with_lineage(contract, system):
    parsed = yaml.safe_load(contract_docs.render_dbt_sources(contract, system))
    (source,) = parsed["sources"]
    assert (source["name"], source["schema"]) == (system, f"raw_{system}")
    tables = {t["name"]: t for t in source["tables"]}
    assert list(tables) == [e.name for e in contract.entities_of(system)]
    for entity in contract.entities_of(system):
        table = tables[entity.name]
        assert table["config"]["meta"]["load_mode"] == entity.load_mode
        columns = [c["name"] for c in table["columns"]]
        assert columns == [
            *entity.column_names,
            "_source_file",
            "_file_sha256",
            "_extract_date",
            "_row_number",
            "_loaded_at",
        ]
        assert all(c["description"] for c in table["columns"]), f"{entity.name}: a column has no description"


def test_sources_carry_the_column_rules_as_meta(contract):
    parsed = yaml.safe_load(contract_docs.render_dbt_sources(contract, "crm"))
    opportunities = next(t for t in parsed["sources"][0]["tables"] if t["name"] == "opportunities")
    probability = next(c for c in opportunities["columns"] if c["name"] == "probability")
    assert probability["config"]["meta"] == {
        "contract_type": "integer",
        "required": True,
        "min": 0,
        "max": 100,
    }


def test_unknown_system_is_refused(contract):
    with pytest.raises(KeyError, match="no system 'crmx'"):
        contract_docs.render_dbt_sources(contract, "crmx")


def test_markdown_has_a_section_and_a_row_per_entity_and_column(contract):
    page = contract_docs.render_markdown(contract)
    for entity in contract.entities:
        assert f"### {entity.system}.{entity.name} ({entity.label_zh})" in page
        for column in entity.columns:
            assert f"| `{column.name}` | {column.type} |" in page, f"{entity.name}.{column.name} missing"
    assert "## When is a delivery complete?" in page
    assert "- **snapshot**:" in page and "- **delta**:" in page


def test_markdown_rows_show_rules(contract):
    page = contract_docs.render_markdown(contract)
    # integer with min 0 and max 100, required, no key
    assert "| `probability` | integer | yes |  | 0 ≤ value ≤ 100 |  |" in page
    # the stage's allowed values come from the funnel_stages seed
    stage_values = "`线索获取`, `需求挖掘`, `方案演示`, `商务谈判`, `签约成交`, `丢单`"
    seed = "(from `dbt_project/seeds/funnel_stages.csv:stage_name`)"
    assert f"| `stage` | string | yes |  | {stage_values} {seed} |  |" in page
    # a primary key: any non-empty text (the source's own ids); a pattern where the contract has one
    assert "| `rep_id` | string | yes | PK |  |  |" in page
    assert "| `mobile` | string | no |  | pattern `^1[3-9][0-9]{9}$` |  |" in page


def test_every_entity_has_a_documented_staging_model_reading_it_the_contract_way(contract):
    """Each stg model reads its source with the entity's load mode and key (the contract decides)."""
    for system in contract.systems:
        documented = {
            m["name"]
            for m in yaml.safe_load((STAGING_DIR / system / f"_{system}__models.yml").read_text("utf-8"))[
                "models"
            ]
        }
        for entity in contract.entities_of(system):
            model = f"stg_{system}__{entity.name}"
            assert model in documented, f"{model} is not described in _{system}__models.yml"
            sql = (STAGING_DIR / system / f"{model}.sql").read_text(encoding="utf-8")
            call = re.search(r"current_extract_rows\((.*?)\)\s*}}", sql, re.S)
            assert call, f"{model}.sql does not read its source through current_extract_rows"
            args = call.group(1)
            assert f"source('{system}', '{entity.name}')" in args
            assert f"load_mode='{entity.load_mode}'" in args, model
            keys = ", ".join(f"'{k}'" for k in entity.primary_key)
            assert f"primary_key=[{keys}]" in args, model
            if entity.load_mode == "delta" and entity.version_column:
                assert f"version_column='{entity.version_column}'" in args, model
