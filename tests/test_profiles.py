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
