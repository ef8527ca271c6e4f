"""The ingest's SQL contract checks (quality/contract_sql.py) against the Great Expectations suite
(quality/expectations.py), the reference: on a batch with every kind of bad value in every column of
every entity, both must find exactly the same failures (same rows, columns, values and messages).
This is what keeps the SQL from drifting from the GX semantics.
"""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from quality.contract import Column, Entity, load_contract
from quality.contract_sql import contract_rules, python_regex_as_re2, value_problems_query
from quality.expectations import build_suite, validate_frame

CONTRACT = load_contract()

# Values that each break some rule, or nearly do, tried in every column: blanks (Unicode whitespace
# too), signs and exponents, thousands separators, bounds and values just past them, impossible dates
# and times, a line feed where Python's `$` still matches, booleans in another case, digits that are
# not ASCII, the contract's own allowed values with a space.
TRICKY = (
    None,
    "",
    " ",
    "   ",
    "\t",
    "\u3000",
    "\xa0",
    "\u2028",
    "\n",
    "x",
    " x",
    "x ",
    "x\ny",
    "+5",
    "-5",
    "5",
    "6",
    "5\n",
    "5\n\n",
    "5 ",
    " 5",
    "\n5",
    "+0",
    "-0",
    "0",
    "0.0",
    "-0.00",
    "-0.01",
    "0.5",
    ".5",
    "5.",
    "1",
    "0.99",
    "1e5",
    "1E5",
    "1,200.00",
    "¥300",
    "100",
    "100.0",
    "100.00000000000001",
    "100.01",
    "101",
    "365",
    "366",
    "1440",
    "1441",
    "123456789",
    "1234567890",
    "-123456789",
    "1234567890123456",
    "1234567890123456.78",
    "12345678901234567",
    "٣",
    "５",
    "１３８１２３４５６７８",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "None",
    "null",
    "true",
    "false",
    "True",
    "TRUE",
    " true",
    "true\n",
    "13812345678",
    "12812345678",
    "1381234567",
    "138123456789",
    "13812345678\n",
    " 13812345678",
    "+8613812345678",
    "2024-01-01",
    "2024-02-29",
    "2023-02-29",
    "2024-02-30",
    "2024-04-31",
    "2024-13-01",
    "2024-00-10",
    "2024-01-00",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "2024-1-01",
    "24-01-01",
    " 2024-01-01",
    "2024-01-01 ",
    "2024-01-01\n",
    "2024/01/01",
    "２０２４-01-01",
    "2024-01-01 12:00:00",
    "2024-01-01 00:00:00",
    "2024-01-01 23:59:59",
    "2024-01-01 24:00:00",
    "2024-01-01 25:00:00",
    "2024-01-01 23:60:00",
    "2024-01-01 23:59:60",
    "2024-01-01 9:00:00",
    "2024-01-01T12:00:00",
    "2024-01-01  12:00:00",
    "2024-01-01 12:00:00\n",
    "2024-01-01 12:00:00.5",
    "2024-02-30 10:00:00",
    "O'Brien",
    "华东",
    "华东 ",
    " 华东",
    "x" * 300,
)


def _valid(column: Column) -> str | None:
    """A value that meets the column's rules, so a row's failures come from the value changed."""
    allowed = column.resolved_allowed_values()
    if allowed:
        return allowed[0]
    if column.pattern == "^1[3-9][0-9]{9}$":
        return "13812345678"
    if column.type == "boolean":
        return "true"
    if column.type in ("integer", "decimal"):
        return str(int(column.min if column.min is not None else 1))
    return {"date": "2024-01-02", "timestamp": "2024-01-02 09:00:00"}.get(column.type, "v1")


def _candidates(column: Column) -> list[str | None]:
    allowed = column.resolved_allowed_values() or ()
    return [*TRICKY, *allowed, *(f"{v} " for v in allowed), *(v.upper() for v in allowed)]


def _stage_bad_batch(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Temp table `staged` as ingest stages a file: contract columns as text, _path, _row_number. One
    valid row, then one row per (column, tricky value), over two files."""
    valid = [_valid(c) for c in entity.columns]
    rows = [valid]
    for index, column in enumerate(entity.columns):
        for value in _candidates(column):
            rows.append([*valid[:index], value, *valid[index + 1 :]])
    columns = ", ".join(f'"{c}" varchar' for c in entity.column_names)
    con.execute(f"create or replace temp table staged ({columns}, _path varchar, _row_number bigint)")
    half = len(rows) // 2
    con.executemany(
        f"insert into staged values ({', '.join('?' * (len(entity.columns) + 2))})",
        [
            [*row, "a.csv" if n < half else "b.csv", n + 1 if n < half else n - half + 1]
            for n, row in enumerate(rows)
        ],
    )


@pytest.mark.parametrize("entity", CONTRACT.entities, ids=lambda e: f"{e.system}.{e.name}")
def test_sql_finds_exactly_what_the_gx_suite_finds(entity: Entity):
    with duckdb.connect() as con:
        _stage_bad_batch(con, entity)
        # GX gets what ingest used to hand it: the staged rows as a pandas frame.
        frame = con.execute("select * from staged order by _path, _row_number").df()
        reference = validate_frame(entity, frame)
        sql = con.execute(
            f"select * from ({value_problems_query(entity, 'staged')}) "
            "order by _path, _row_number, column_index"
        ).fetchall()
    expected = [
        (f.path, f.row_number, f.column, f.column_index, f.value, f.problem, f.detail)
        for f in reference.failures
    ]
    assert len(expected) > len(entity.columns)  # the batch breaks rules in every column
    assert sql == expected
    assert reference.expectations == len(contract_rules(entity))


def test_every_entity_has_as_many_rules_as_its_suite_has_expectations():
    for entity in CONTRACT.entities:
        assert len(contract_rules(entity)) == len(build_suite(entity).expectations)


def test_python_dollar_becomes_end_or_final_line_feed_outside_classes():
    assert python_regex_as_re2("^1[3-9][0-9]{9}$") == r"^1[3-9][0-9]{9}(?:\n?$)"
    assert python_regex_as_re2(r"^[$]\$a$") == r"^[$]\$a(?:\n?$)"
    assert python_regex_as_re2(r"[]$]$") == r"[]$](?:\n?$)"


def test_the_nightly_path_does_not_import_great_expectations():
    code = (
        "import sys; import pipelines.definitions, pipelines.lib.ingest, pipelines.cli; "
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
