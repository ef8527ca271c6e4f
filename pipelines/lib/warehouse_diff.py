"""Compare two warehouse files table by table: is a rebuild on the same extracts identical?

A night rebuilt from the same extracts must not change anything (README, "Running it nightly").
`compare_warehouses` says where two builds differ, one readable line per difference. Values are
compared exactly (SQL `EXCEPT ALL`): a double that differs in its last bit is a difference.

    python -m pipelines.lib.warehouse_diff first/warehouse.duckdb second/warehouse.duckdb
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

DEFAULT_SCHEMAS = ("marts", "quality")
# differing rows shown per table and side
SAMPLE_ROWS = 3


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


def compare_warehouses(a: Path, b: Path, schemas: Iterable[str] = DEFAULT_SCHEMAS) -> list[str]:
    """One human-readable line per difference between the base tables of two warehouse files.

    Both files are opened read-only. Reported: a table present in one file only, different column
    names, order or types, different row counts, and the rows present in one file only (compared as
    multisets with `EXCEPT ALL`, both ways; the count and the first 3 such rows). Values must be equal
    exactly: a double differing in its last bit counts (SQL equality, so only 0.0 and -0.0, and NaNs,
    compare equal). Views are not compared (they are recomputed from the tables). An empty list means
    the two warehouses hold the same tables with the same rows.
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
            if tables_a[key] != tables_b[key]:
                lines.append(f"{name}: columns differ: {_describe_columns(tables_a[key], tables_b[key])}")
                continue
            qualified = {
                "a": f"wa.{_quote(key[0])}.{_quote(key[1])}",
                "b": f"wb.{_quote(key[0])}.{_quote(key[1])}",
            }
            lines.extend(_compare_rows(con, name, qualified))
        return lines
    finally:
        con.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2:
        print("usage: python -m pipelines.lib.warehouse_diff A.duckdb B.duckdb [schema ...]", file=sys.stderr)
        return 2
    a, b, schemas = Path(args[0]), Path(args[1]), tuple(args[2:]) or DEFAULT_SCHEMAS
    lines = compare_warehouses(a, b, schemas)
    print(f"a = {a}\nb = {b}")
    for line in lines:
        print(line)
    print(f"{len(lines)} difference(s) in schemas {', '.join(schemas)}" if lines else "identical")
    return 1 if lines else 0


if __name__ == "__main__":
    raise SystemExit(main())
