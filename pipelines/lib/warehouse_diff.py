"""Compare two warehouse files table by table: is a rebuild on the same extracts identical? Do two
engines' builds hold the same figures?

A night rebuilt from the same extracts must not change anything (README, "Running it nightly").
`compare_warehouses` says where two builds differ, one readable line per difference. Values are
compared exactly (SQL `EXCEPT ALL`): a double that differs in its last bit is a difference.

Two engines (DuckDB, Spark: README "When one machine is not enough") type and add up differently, so
`--engines` compares by value: rows are paired after sorting both sides by every column, money (DECIMAL
in a) must agree to the cent, other numbers (DOUBLE in a: rates, shares, scores) to 1e-9 (relative above
1), everything else exactly; column types may differ.

    python -m pipelines.lib.warehouse_diff first/warehouse.duckdb second/warehouse.duckdb
    python -m pipelines.lib.warehouse_diff --engines duckdb/warehouse.duckdb spark/warehouse.duckdb
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

DEFAULT_SCHEMAS = ("marts", "quality")
# differing rows shown per table and side
SAMPLE_ROWS = 3
# --engines
MONEY_TOLERANCE = 0.005  # to the cent
RATE_TOLERANCE = 1e-9


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _base_tables(
    con: duckdb.DuckDBPyConnection, catalog: str, schemas: Sequence[str]
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, table) -> [(column, type), ...] in column order, base tables only (no views)."""
    rows = con.execute(
        """
        select c.schema_name, c.table_name, c.column_name, c.data_type
        from duckdb_columns() c
        join duckdb_tables() t
            on t.database_name = c.database_name
            and t.schema_name = c.schema_name
            and t.table_name = c.table_name
        where c.database_name = ? and list_contains(?, c.schema_name)
        order by c.schema_name, c.table_name, c.column_index
        """,
        [catalog, list(schemas)],
    ).fetchall()
    tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in rows:
        tables.setdefault((schema, table), []).append((column, data_type))
    return tables


def _describe_columns(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> str:
    a_map, b_map = dict(a), dict(b)
    parts = []
    only_a = [c for c, _ in a if c not in b_map]
    only_b = [c for c, _ in b if c not in a_map]
    if only_a:
        parts.append("only in a: " + ", ".join(only_a))
    if only_b:
        parts.append("only in b: " + ", ".join(only_b))
    for column, a_type in a:
        if column in b_map and b_map[column] != a_type:
            parts.append(f"{column} is {a_type} in a, {b_map[column]} in b")
    if not parts:
        parts.append("column order differs: a (" + ", ".join(c for c, _ in a) + ")")
    return "; ".join(parts)


def _format_row(row: tuple) -> str:
    # repr shows a float with all the digits that tell it apart (1.275 vs 1.2749999999999997)
    return "(" + ", ".join(repr(v) for v in row) + ")"


def _compare_rows(con: duckdb.DuckDBPyConnection, name: str, qualified: dict[str, str]) -> list[str]:
    lines = []
    count_a = con.execute(f"select count(*) from {qualified['a']}").fetchone()[0]
    count_b = con.execute(f"select count(*) from {qualified['b']}").fetchone()[0]
    if count_a != count_b:
        lines.append(f"{name}: row count {count_a} in a, {count_b} in b")
    for side, other in (("a", "b"), ("b", "a")):
        only = f"(select * from {qualified[side]} except all select * from {qualified[other]})"
        n = con.execute(f"select count(*) from {only}").fetchone()[0]
        if n:
            sample = con.execute(f"select * from {only} order by all limit {SAMPLE_ROWS}").fetchall()
            noun = "row" if n == 1 else "rows"
            lines.append(
                f"{name}: {n} {noun} only in {side}, e.g. " + "; ".join(_format_row(r) for r in sample)
            )
    return lines


def _value_kind(data_type: str) -> str:
    if data_type.upper().startswith("DECIMAL"):
        return "money"
    if data_type.upper() in ("DOUBLE", "FLOAT", "REAL"):
        return "rate"
    return "exact"


def _compare_values(
    con: duckdb.DuckDBPyConnection, name: str, columns: list[tuple[str, str]], qualified: dict[str, str]
) -> list[str]:
    """--engines: rows paired in the order of every column (numbers rounded for the sort only, so rows
    that differ by float noise still pair up), then each column within its tolerance."""
    count_a = con.execute(f"select count(*) from {qualified['a']}").fetchone()[0]
    count_b = con.execute(f"select count(*) from {qualified['b']}").fetchone()[0]
    if count_a != count_b:
        return [f"{name}: row count {count_a} in a, {count_b} in b"]
    kinds = [(column, _value_kind(data_type)) for column, data_type in columns]
    sort_key = {
        "money": "round(cast({} as double), 2)",
        "rate": "round(cast({} as double), 6)",
        "exact": "{}",
    }
    order = ", ".join(sort_key[kind].format(_quote(column)) + " nulls first" for column, kind in kinds)
    listed = ", ".join(_quote(column) for column, _ in kinds)
    paired = (
        f"(select {listed}, row_number() over (order by {order}) as _row from {qualified['a']}) as a"
        f" join (select {listed}, row_number() over (order by {order}) as _row from {qualified['b']}) as b"
        " using (_row)"
    )
    differs = []
    for column, kind in kinds:
        x, y = f"a.{_quote(column)}", f"b.{_quote(column)}"
        if kind == "money":
            within = f"abs(cast({x} as double) - cast({y} as double)) < {MONEY_TOLERANCE}"
        elif kind == "rate":
            within = f"abs({x} - cast({y} as double)) <= {RATE_TOLERANCE} * greatest(1, abs({x}))"
        else:
            within = f"{x} = {y}"
        differs.append((column, x, y, f"not (({x} is null and {y} is null) or coalesce({within}, false))"))
    counts = con.execute(
        "select " + ", ".join(f"count(*) filter (where {test})" for *_, test in differs) + f" from {paired}"
    ).fetchone()
    lines = []
    for (column, x, y, test), n in zip(differs, counts, strict=True):
        if n:
            sample = con.execute(f"select {x}, {y} from {paired} where {test} limit {SAMPLE_ROWS}")
            noun = "row differs" if n == 1 else "rows differ"
            lines.append(
                f"{name}: {column} {n} {noun}, e.g. "
                + "; ".join(f"{x!r} vs {y!r}" for x, y in sample.fetchall())
            )
    return lines


def compare_warehouses(
    a: Path, b: Path, schemas: Iterable[str] = DEFAULT_SCHEMAS, *, engines: bool = False
) -> list[str]:
    """One human-readable line per difference between the base tables of two warehouse files.

    Both files are opened read-only. Reported: a table present in one file only, different column
    names, order or types, different row counts, and the rows present in one file only (compared as
    multisets with `EXCEPT ALL`, both ways; the count and the first 3 such rows). Values must be equal
    exactly: a double differing in its last bit counts (SQL equality, so only 0.0 and -0.0, and NaNs,
    compare equal). Views are not compared (they are recomputed from the tables). An empty list means
    the two warehouses hold the same tables with the same rows.

    engines=True: two engines' builds (module docstring): same column names, values within tolerance.
    """
    schemas = tuple(schemas)
    con = duckdb.connect(":memory:")
    try:
        # Distinct aliases: copies of a warehouse keep the file name warehouse.duckdb, which would
        # otherwise be the catalog name of both.
        con.execute(f"attach {_sql_literal(str(a))} as wa (read_only)")
        con.execute(f"attach {_sql_literal(str(b))} as wb (read_only)")
        tables_a = _base_tables(con, "wa", schemas)
        tables_b = _base_tables(con, "wb", schemas)
        lines = []
        for key in sorted(tables_a.keys() | tables_b.keys()):
            name = f"{key[0]}.{key[1]}"
            if key not in tables_b:
                lines.append(f"{name}: only in a")
                continue
            if key not in tables_a:
                lines.append(f"{name}: only in b")
                continue
            names_a, names_b = ([c for c, _ in tables[key]] for tables in (tables_a, tables_b))
            if (names_a != names_b) if engines else (tables_a[key] != tables_b[key]):
                lines.append(f"{name}: columns differ: {_describe_columns(tables_a[key], tables_b[key])}")
                continue
            qualified = {
                "a": f"wa.{_quote(key[0])}.{_quote(key[1])}",
                "b": f"wb.{_quote(key[0])}.{_quote(key[1])}",
            }
            if engines:
                lines.extend(_compare_values(con, name, tables_a[key], qualified))
            else:
                lines.extend(_compare_rows(con, name, qualified))
        return lines
    finally:
        con.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    engines = "--engines" in args
    args = [arg for arg in args if arg != "--engines"]
    if len(args) < 2:
        print(
            "usage: python -m pipelines.lib.warehouse_diff [--engines] A.duckdb B.duckdb [schema ...]",
            file=sys.stderr,
        )
        return 2
    a, b, schemas = Path(args[0]), Path(args[1]), tuple(args[2:]) or DEFAULT_SCHEMAS
    lines = compare_warehouses(a, b, schemas, engines=engines)
    print(f"a = {a}\nb = {b}")
    for line in lines:
        print(line)
    print(f"{len(lines)} difference(s) in schemas {', '.join(schemas)}" if lines else "identical")
    return 1 if lines else 0


if __name__ == "__main__":
    raise SystemExit(main())
