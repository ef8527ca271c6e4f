"""Do two engines' builds of a table hold the same figures? Rows are matched after sorting both sides by
every column; then money (DECIMAL on the DuckDB side) must agree to the cent, other numbers (DOUBLE:
rates, shares, scores) to 1e-9 (relative above 1), everything else exactly. Used by the Spark equality
test and by anyone moving a deployment to Spark (`salesreview compare-engines`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

MONEY_TOLERANCE = 0.005  # to the cent
RATE_TOLERANCE = 1e-9


@dataclass
class TableComparison:
    table: str
    rows: tuple[int, int]  # (reference, other)
    problems: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.problems


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _kind(data_type: str) -> str:
    t = data_type.upper()
    if t.startswith("DECIMAL"):
        return "money"
    if t in ("DOUBLE", "FLOAT", "REAL"):
        return "rate"
    return "exact"


def _sort_key(column: str, kind: str) -> str:
    # numbers rounded for the sort only, so rows differing by float noise still pair up
    if kind == "money":
        return f"round(cast({column} as double), 2)"
    if kind == "rate":
        return f"round({column}, 6)"
    return column


def compare_relations(
    con: duckdb.DuckDBPyConnection, table: str, reference: str, other: str, examples: int = 3
) -> TableComparison:
    """Compare relation `other` (any DuckDB relation expression, e.g. read_parquet(...)) with `reference`."""
    ref_cols = con.execute(f"describe select * from {reference}").fetchall()
    other_cols = {
        name.lower(): data_type
        for name, data_type, *_ in con.execute(f"describe select * from {other}").fetchall()
    }
    ref_rows = con.execute(f"select count(*) from {reference}").fetchone()[0]
    other_rows = con.execute(f"select count(*) from {other}").fetchone()[0]
    result = TableComparison(table, (ref_rows, other_rows))
    missing = [name for name, *_ in ref_cols if name.lower() not in other_cols]
    extra = sorted(set(other_cols) - {name.lower() for name, *_ in ref_cols})
    if missing:
        result.problems.append(f"columns missing: {', '.join(missing)}")
    if extra:
        result.problems.append(f"columns not in the reference: {', '.join(extra)}")
    if ref_rows != other_rows:
        result.problems.append(f"{ref_rows} rows, {other_rows} in the other build")
    columns = [(name, _kind(data_type)) for name, data_type, *_ in ref_cols if name.lower() in other_cols]
    if not columns or result.problems:
        return result
    order = ", ".join(f"{_sort_key(_quote(name), kind)} nulls first" for name, kind in columns)
    select = ", ".join(_quote(name) for name, _ in columns)
    differs = []
    for name, kind in columns:
        a, b = f"a.{_quote(name)}", f"b.{_quote(name)}"
        if kind == "money":
            test = f"abs(cast({a} as double) - cast({b} as double)) < {MONEY_TOLERANCE}"
        elif kind == "rate":
            test = f"abs({a} - cast({b} as double)) <= {RATE_TOLERANCE} * greatest(1, abs({a}))"
        else:
            test = f"{a} = {b}"
        differs.append((name, f"not (({a} is null and {b} is null) or coalesce({test}, false))"))
    counts = con.execute(
        f"""
        with a as (select {select}, row_number() over (order by {order}) as _rn from {reference}),
             b as (select {select}, row_number() over (order by {order}) as _rn from {other})
        select {", ".join(f"count(*) filter (where {condition})" for _, condition in differs)}
        from a join b using (_rn)
        """
    ).fetchone()
    for (name, condition), count in zip(differs, counts, strict=True):
        if count:
            sample = con.execute(
                f"""
                with a as (select {select}, row_number() over (order by {order}) as _rn from {reference}),
                     b as (select {select}, row_number() over (order by {order}) as _rn from {other})
                select a.{_quote(name)}, b.{_quote(name)} from a join b using (_rn) where {condition}
                limit {examples}
                """
            ).fetchall()
            result.problems.append(
                f"{name}: {count} rows differ, e.g. " + "; ".join(f"{x!r} vs {y!r}" for x, y in sample)
            )
    return result


def compare_with_parquet(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, folder: Path
) -> TableComparison:
    """The warehouse's schema.table against the Parquet table Spark wrote in `folder`."""
    return compare_relations(
        con, f"{schema}.{table}", f"{schema}.{table}", f"read_parquet('{folder}/*.parquet')"
    )
