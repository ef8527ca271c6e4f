"""compare_warehouses on tiny hand-made warehouse files: what it reports, line by line."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.warehouse_diff import compare_warehouses, main

ROWS = [(1, "a", 1.275, "1.28"), (2, "b", 0.1, "0.10"), (3, "c", 2.5, "2.50")]


def make_warehouse(folder: Path, rows=ROWS, amount_type: str = "decimal(18, 2)", extra_sql: str = "") -> Path:
    """A warehouse.duckdb (the published name, same in both folders) with marts.fct_x, a view on it,
    quality.flags and an ignored schema."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create schema quality; create schema staging")
    con.execute(f"create table marts.fct_x (id integer, name varchar, share double, amount {amount_type})")
    con.executemany("insert into marts.fct_x values (?, ?, ?, ?)", rows)
    con.execute("create view marts.v_x as select * from marts.fct_x")
    con.execute("create table quality.flags (id integer, rule varchar)")
    con.execute("insert into quality.flags values (1, 'r1'), (1, 'r1')")
    con.execute("create table staging.ignored (id integer)")
    if extra_sql:
        con.execute(extra_sql)
    con.close()
    return path


def test_identical_warehouses_have_no_differences(tmp_path):
    a = make_warehouse(tmp_path / "a")
    b = make_warehouse(tmp_path / "b")
    assert compare_warehouses(a, b) == []


def test_a_double_differing_in_its_last_bit_is_a_difference(tmp_path):
    changed = math.nextafter(1.275, 0.0)  # 1.2749999999999997
    a = make_warehouse(tmp_path / "a")
    b = make_warehouse(tmp_path / "b", rows=[(1, "a", changed, "1.28"), *ROWS[1:]])
    assert compare_warehouses(a, b) == [
        "marts.fct_x: 1 row only in a, e.g. (1, 'a', 1.275, Decimal('1.28'))",
        "marts.fct_x: 1 row only in b, e.g. (1, 'a', 1.2749999999999997, Decimal('1.28'))",
    ]


def test_a_missing_row_reports_the_counts_and_the_row(tmp_path):
    a = make_warehouse(tmp_path / "a")
    b = make_warehouse(tmp_path / "b", rows=ROWS[:2])
    assert compare_warehouses(a, b) == [
        "marts.fct_x: row count 3 in a, 2 in b",
        "marts.fct_x: 1 row only in a, e.g. (3, 'c', 2.5, Decimal('2.50'))",
    ]


def test_a_duplicated_row_is_a_difference(tmp_path):
    a = make_warehouse(tmp_path / "a")
    b = make_warehouse(tmp_path / "b", rows=[*ROWS, ROWS[0]])
    assert compare_warehouses(a, b) == [
        "marts.fct_x: row count 3 in a, 4 in b",
        "marts.fct_x: 1 row only in b, e.g. (1, 'a', 1.275, Decimal('1.28'))",
    ]


def test_at_most_three_rows_are_shown_with_the_full_count(tmp_path):
    a = make_warehouse(tmp_path / "a", rows=[(i, "x", 0.5, "1") for i in range(10)])
    b = make_warehouse(tmp_path / "b", rows=[(i, "x", 0.25, "1") for i in range(10)])
    lines = compare_warehouses(a, b)
    assert lines[0] == (
        "marts.fct_x: 10 rows only in a, e.g. "
        "(0, 'x', 0.5, Decimal('1.00')); (1, 'x', 0.5, Decimal('1.00')); (2, 'x', 0.5, Decimal('1.00'))"
    )
    assert lines[1].startswith("marts.fct_x: 10 rows only in b, e.g. (0, 'x', 0.25,")
    assert len(lines) == 2


def test_a_table_present_in_one_warehouse_only(tmp_path):
    a = make_warehouse(tmp_path / "a", extra_sql="create table quality.extra (id integer)")
    b = make_warehouse(tmp_path / "b", extra_sql="create table marts.fct_new (id integer)")
    assert compare_warehouses(a, b) == ["marts.fct_new: only in b", "quality.extra: only in a"]


def test_a_type_change_is_reported_and_its_rows_are_not_compared(tmp_path):
    a = make_warehouse(tmp_path / "a")
    b = make_warehouse(tmp_path / "b", amount_type="double", rows=[(1, "a", 1.275, 1.28), *ROWS[1:]])
    assert compare_warehouses(a, b) == [
        "marts.fct_x: columns differ: amount is DECIMAL(18,2) in a, DOUBLE in b",
    ]


def test_renamed_columns_are_reported(tmp_path):
    a = make_warehouse(tmp_path / "a", extra_sql="create table marts.t (id integer, old_name varchar)")
    b = make_warehouse(tmp_path / "b", extra_sql="create table marts.t (id integer, new_name varchar)")
    assert compare_warehouses(a, b) == ["marts.t: columns differ: only in a: old_name; only in b: new_name"]


def test_views_and_other_schemas_are_not_compared(tmp_path):
    a = make_warehouse(tmp_path / "a", extra_sql="insert into staging.ignored values (1)")
    b = make_warehouse(
        tmp_path / "b",
        extra_sql="create or replace view marts.v_x as select 1 as id; "
        "create table staging.other (id integer)",
    )
    assert compare_warehouses(a, b) == []
    assert compare_warehouses(a, b, schemas=("staging",)) == [
        "staging.ignored: row count 1 in a, 0 in b",
        "staging.ignored: 1 row only in a, e.g. (1)",
        "staging.other: only in b",
    ]


def test_files_are_opened_read_only_and_left_unchanged(tmp_path):
    a = make_warehouse(tmp_path / "a")
    b = make_warehouse(tmp_path / "b")
    before = a.read_bytes(), b.read_bytes()
    compare_warehouses(a, b)
    assert (a.read_bytes(), b.read_bytes()) == before


def test_command_line_exit_code(tmp_path, capsys):
    a = make_warehouse(tmp_path / "a")
    b = make_warehouse(tmp_path / "b", rows=ROWS[:2])
    assert main([str(a), str(a)]) == 0
    assert capsys.readouterr().out.endswith("identical\n")
    assert main([str(a), str(b)]) == 1
    assert "2 difference(s) in schemas marts, quality" in capsys.readouterr().out


@pytest.mark.parametrize("schemas", [(), ("nothing",)])
def test_no_schema_selected_means_nothing_to_compare(tmp_path, schemas):
    a = make_warehouse(tmp_path / "a")
    b = make_warehouse(tmp_path / "b", rows=ROWS[:1])
    assert compare_warehouses(a, b, schemas=schemas) == []
