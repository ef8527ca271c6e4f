"""Source profiles are checked before anything is read: every problem at once, each naming the profile
file and the YAML path to change."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pipelines.lib.profiles import PROFILES_DIR, ProfileError, load_profile

VALID = """
system: erp
entities:
  products:
    file: "Products*.csv"
    columns:
      product_id: Code
      product_name: Name
      product_line: {default: 软件}
      list_price: {from: Price, unit: 10000}
      unit: {default: 套}
      is_active: {from: Active, map: {Yes: "true", No: "false"}}
      updated_at: Changed
absent: [sales_orders]
"""


def write(tmp_path: Path, text: str, name: str = "p.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ProfileError) as raised:
        load_profile(path)
    return raised.value.problems


def test_a_valid_profile_is_read_with_short_forms_and_yes_no_as_text(tmp_path):
    profile = load_profile(write(tmp_path, VALID, "erp_products.yml"))
    assert (profile.name, profile.system) == ("erp_products", "erp")  # the name defaults to the file's stem
    products = profile.entities["products"]
    assert products.columns["product_id"].source == "Code"
    # YAML 1.1 would read Yes/No as booleans; in a value map they are the source's text
    assert products.columns["is_active"].map == {"Yes": "true", "No": "false"}
    assert profile.source_yaml_path("products", "product_id") == "entities.products.columns.product_id"
    assert profile.source_yaml_path("products", "list_price") == "entities.products.columns.list_price.from"


def test_unknown_key_names_the_file_the_path_and_the_likely_key(tmp_path):
    path = write(tmp_path, VALID.replace("{from: Price, unit: 10000}", "{from: Price, unti: 10000}"))
    assert problems_of(path) == [
        f"{path}: entities.products.columns.list_price: unknown key 'unti' (did you mean 'unit'?)"
    ]


def test_unknown_entity_level_key_and_bad_values_are_all_reported(tmp_path):
    text = VALID.replace(
        'file: "Products*.csv"', 'file: "Products*.csv"\n    header_rows: 2\n    encoding: big6'
    )
    problems = problems_of(write(tmp_path, text))
    assert sorted(p.split(": ", 1)[1] for p in problems) == [
        "entities.products.encoding: unknown encoding 'big6' "
        "(use one of auto, utf-8, utf-8-sig, gbk, gb18030, utf-16)",
        "entities.products: unknown key 'header_rows' (did you mean 'header_row'?)",
    ]


def test_system_must_be_crm_or_erp(tmp_path):
    (problem,) = problems_of(write(tmp_path, VALID.replace("system: erp", "system: sap")))
    assert problem.endswith("system: 'sap' is not a system of the contract (crm or erp)")


def test_unknown_entity_and_column_with_suggestions(tmp_path):
    text = VALID.replace("  products:", "  product:").replace("absent: [sales_orders]", "absent: [invoice]")
    problems = problems_of(write(tmp_path, text))
    assert [p.split(": ", 1)[1] for p in problems] == [
        "absent: unknown entity 'invoice' (did you mean 'invoices'?)",
        "entities.product: unknown entity 'product' (did you mean 'products'?)",
    ]
    unknown, unmapped = problems_of(write(tmp_path, VALID.replace("list_price:", "list_prices:")))
    assert unknown.endswith(
        "entities.products.columns.list_prices: products has no column 'list_prices' "
        "(did you mean 'list_price'?)"
    )
    assert unmapped.endswith("neither mapped (from) nor defaulted (default): list_price")


def test_a_required_column_neither_mapped_nor_defaulted(tmp_path):
    (problem,) = problems_of(write(tmp_path, VALID.replace("      unit: {default: 套}\n", "")))
    assert problem == (
        f"{tmp_path / 'p.yml'}: entities.products.columns: required column(s) of products neither mapped "
        "(from) nor defaulted (default): unit"
    )


def test_an_entity_of_the_other_system_is_refused(tmp_path):
    text = VALID + "  reps:\n    file: Users.csv\n"
    text = text.replace("absent: [sales_orders]\n  reps:", "absent: [sales_orders]\nentities_x:\n  reps:")
    text = VALID.replace("absent: [sales_orders]", "absent: [sales_orders, reps]")
    (problem,) = problems_of(write(tmp_path, text))
    assert problem.endswith("absent: reps is an crm entity; this profile is erp")


def test_when_and_fallback_must_name_other_columns_of_the_entity(tmp_path):
    text = VALID.replace("updated_at: Changed", "updated_at: {from: Changed, fallback: created_at}")
    (problem,) = problems_of(write(tmp_path, text))
    assert problem.endswith(
        "entities.products.columns.updated_at.fallback: 'created_at' is not another column of products"
    )


def test_number_options_on_a_text_column_are_refused(tmp_path):
    (problem,) = problems_of(
        write(tmp_path, VALID.replace("product_name: Name", "product_name: {from: Name, unit: 2}"))
    )
    assert problem.endswith("number/unit apply to integer and decimal columns; product_name is string")


def test_profiles_are_found_by_name_in_the_profiles_folder():
    with pytest.raises(ProfileError, match=r"no profile 'no_such_profile' in profiles/"):
        load_profile("no_such_profile")
    assert PROFILES_DIR.name == "profiles"


WIDE = """
system: crm
extract_date: {from_cell: {file: "目标*.xlsx", cell: a1}, pattern: '(\\d{4}-\\d{2}-\\d{2})'}
entities:
  targets:
    file: "目标*.xlsx"
    ignore: [部门, 全年目标]
    where: {状态: 有效}
    where_not: {姓名: [合计, 测试]}
    unpivot:
      columns: '(\\d{1,2})月目标'
      label: '2026-\\1'
      into: {name: 月份, value: 目标}
    columns:
      target_id: [姓名, 月份]
      target_level: {default: rep}
      owner_id: 姓名
      period_start: {from: 月份, month: start}
      period_end: {from: 月份, month: end}
      target_amount: 目标
      updated_at: {default: "2026-01-05 00:00:00"}
"""


def test_ignore_where_unpivot_joined_from_month_and_extract_date_from_a_cell_are_read(tmp_path):
    profile = load_profile(write(tmp_path, WIDE))
    targets = profile.entities["targets"]
    assert targets.ignore == ["部门", "全年目标"]
    assert (targets.where, targets.where_not) == ({"状态": ["有效"]}, {"姓名": ["合计", "测试"]})
    assert targets.pseudo_headers == ("月份", "目标")
    assert targets.unpivot.labels(["姓名", "1月目标", "部门", "12月目标", "全年目标"]) == [
        (1, "2026-1"),
        (3, "2026-12"),
    ]
    assert targets.columns["target_id"].sources == ["姓名", "月份"]
    assert targets.columns["period_end"].month == "end"
    assert profile.spec.extract_date == {
        "from_cell": {"file": "目标*.xlsx", "cell": "A1"},
        "pattern": "(\\d{4}-\\d{2}-\\d{2})",
    }


@pytest.mark.parametrize(
    "old, new, problem",
    [
        (
            "ignore: [部门, 全年目标]",
            "ignore: [部门, 姓名]",
            "entities.targets.ignore: '姓名' is read by entities.targets.columns.target_id; "
            "ignore it or read it",
        ),
        (
            "ignore: [部门, 全年目标]",
            "ignore: [部门, 3月目标]",
            "entities.targets.ignore: '3月目标' is unpivoted (unpivot.columns); ignore it or read it",
        ),
        (
            "where_not: {姓名: [合计, 测试]}",
            "where_not: {姓名: []}",
            "entities.targets.where_not: '姓名': give the values to match, e.g. {姓名: [value, ...]} "
            "(got {'姓名': []})",
        ),
        (
            "where: {状态: 有效}",
            "where: {月份: '2026-1'}",
            "entities.targets.where: '月份' is made by the unpivot; where reads the file's own headers",
        ),
        (
            "label: '2026-\\1'",
            "label: '2026-\\2'",
            "entities.targets.unpivot.label: not a template for '(\\d{1,2})月目标': "
            "invalid group reference 2 at position 6",
        ),
        (
            "columns: '(\\d{1,2})月目标'",
            "columns: '(\\d{1,2}月目标'",
            "entities.targets.unpivot.columns: columns is not a regular expression: missing ), unterminated "
            "subpattern at position 0 (got '(\\\\d{1,2}月目标')",
        ),
        (
            "into: {name: 月份, value: 目标}",
            "into: {name: 月份, values: 目标}",
            (
                "entities.targets.unpivot.into: 'value' is missing",
                "entities.targets.unpivot.into: unknown key 'values' (did you mean 'value'?)",
            ),
        ),
        (
            "into: {name: 月份, value: 目标}",
            "into: {name: 月份, value: 月份}",
            "entities.targets.unpivot.into: name and value need two different field names",
        ),
        (
            "target_amount: 目标",
            "target_amount: 金额",
            "entities.targets.unpivot.into: no column reads '目标' (map it, e.g. `column: {from: 目标}`)",
        ),
        (
            "period_end: {from: 月份, month: end}",
            "period_end: {from: 月份, month: last}",
            "entities.targets.columns.period_end.month: month is start or end (the first or last day of the "
            "value's month), not 'last'",
        ),
        (
            "owner_id: 姓名",
            "owner_id: {from: 姓名, month: start}",
            "entities.targets.columns.owner_id.month: month applies to date columns; owner_id is string",
        ),
        (
            "cell: a1}",
            "cell: 1A}",
            "extract_date: from_cell.cell is a cell like A1 (column letters, row number), not '1A' (got "
            "{'from_cell': {'file': '目标*.xlsx', 'cell': '1A'}, 'pattern': '(\\\\d{4}-\\\\d{2}-\\\\d{2})'})",
        ),
        (
            "pattern: '(\\d{4}-\\d{2}-\\d{2})'",
            "pattern: '\\d{4}-\\d{2}-\\d{2}'",
            "extract_date: pattern needs one (group) around the date: '\\\\d{4}-\\\\d{2}-\\\\d{2}' (got "
            "{'from_cell': {'file': '目标*.xlsx', 'cell': 'a1'}, 'pattern': '\\\\d{4}-\\\\d{2}-\\\\d{2}'})",
        ),
    ],
)
def test_ignore_where_unpivot_and_from_cell_mistakes_are_named(tmp_path, old, new, problem):
    assert old in WIDE
    problems = problems_of(write(tmp_path, WIDE.replace(old, new)))
    assert problems == [
        f"{tmp_path / 'p.yml'}: {p}" for p in (problem if isinstance(problem, tuple) else [problem])
    ]


def test_a_label_goes_with_a_pattern_not_a_mapping(tmp_path):
    text = WIDE.replace("columns: '(\\d{1,2})月目标'", "columns: {1月目标: 2026-01}")
    (found,) = problems_of(write(tmp_path, text))
    assert found.endswith(
        "entities.targets.unpivot.label: label goes with a pattern; a mapping gives each label itself"
    )
    profile = load_profile(write(tmp_path, text.replace("      label: '2026-\\1'\n", "")))
    assert profile.entities["targets"].unpivot.labels(["姓名", "1月目标", "2月目标"]) == [(1, "2026-01")]
