"""Great Expectations suites built from the extract contract, run on each entity's new files at ingest.

One suite per contract entity (`build_suite`), derived from quality/contract/extracts.yml and nothing
else. For every column, in this order (only the first failing rule of a value is reported):

1. required      -> expect_column_values_to_not_be_null
2. type          -> expect_column_values_to_match_regex (integer, decimal, date, timestamp), plus
                    expect_column_values_to_match_strftime_format for dates and timestamps (so that
                    2024-02-30 fails), expect_column_values_to_be_in_set for booleans
3. allowed values-> expect_column_values_to_be_in_set (stage names come from the seed through
                    Column.resolved_allowed_values())
4. pattern       -> expect_column_values_to_match_regex (e.g. mobile numbers ^1[3-9][0-9]{9}$)
5. min / max     -> expect_column_values_to_be_between on the value read as a number

Every rule of the suite looks at one row at a time, so ingestion runs it on batches of a bounded size
(memory does not grow with the file). The one rule that needs a whole file, the primary key unique
within a file, is SQL over the staged rows instead (`duplicate_key_query`), with the same messages.

Raw values are text, so a batch is a pandas frame of strings; an empty or blank value is missing
(GX's map expectations skip missing values, so only "required" looks at them). `validate_frame` runs
the suite on one batch of an entity's new rows (columns `_path` and `_row_number` say where each row
came from) through GX's pandas path (ephemeral context, dataframe asset, validation definition,
result_format COMPLETE) and turns the unexpected rows into `Failure`s. Ingestion
(pipelines/lib/ingest.py) sets the failing rows aside or, when too many rows of a file fail, refuses
the file with the ExtractContractError message.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from quality.contract import Column, Entity

PATH_COLUMN = "_path"  # the file a row came from
ROW_COLUMN = "_row_number"  # 1 = first data row after the header
NUMBER_PREFIX = "__number__"  # helper column: the value read as a number, for min / max

# Contract type -> (regex on the text, strftime format or None, how the message names the type).
# Integers fit DuckDB's integer (at most 9 digits here); decimals fit decimal(18, 2) (at most 16
# digits before the point), which is what staging casts them to.
TYPE_RULES: dict[str, tuple[str, str | None, str]] = {
    "integer": (r"^[+-]?[0-9]{1,9}$", None, "an integer"),
    "decimal": (
        r"^[+-]?[0-9]{1,16}(?:\.[0-9]+)?$",
        None,
        "a decimal number (digits, optional '.', no thousands separator or currency sign)",
    ),
    "date": (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "%Y-%m-%d", "a date YYYY-MM-DD"),
    "timestamp": (
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$",
        "%Y-%m-%d %H:%M:%S",
        "a timestamp YYYY-MM-DD HH:MM:SS",
    ),
}
BOOLEAN_VALUES = ("true", "false")

DUPLICATE_KEY = "duplicate primary key"


@dataclass(frozen=True)
class Failure:
    """One value (or one duplicated key) that breaks the contract."""

    path: str
    row_number: int
    column: str  # for a duplicate key: the key's columns, joined with ", "
    column_index: int  # position in the contract (-1: the primary key), orders the message
    value: str | None
    problem: str
    detail: str | None = None


@dataclass(frozen=True)
class SuiteResult:
    """What one validation of one batch found."""

    success: bool
    rows: int
    expectations: int
    failures: list[Failure]


# --------------------------------------------------------------------------- the suite


def _meta(column: Column | None, index: int, rank: int, problem: str) -> dict:
    return {
        "column": column.name if column else None,
        "column_index": index,
        "rank": rank,
        "problem": problem,
    }


def build_suite(entity: Entity):
    """The entity's expectation suite, from the contract. Each expectation's `meta` says which contract
    column and rule it checks and the message for a failing value."""
    import great_expectations as gx

    _context()  # GX objects need an active context
    ge = gx.expectations
    expectations = []
    for index, column in enumerate(entity.columns):
        name = column.name
        if column.required:
            expectations.append(
                ge.ExpectColumnValuesToNotBeNull(
                    column=name, meta=_meta(column, index, 0, "required value is missing")
                )
            )
        if column.type in TYPE_RULES:
            regex, strftime_format, label = TYPE_RULES[column.type]
            problem = f"is not {label}"
            expectations.append(
                ge.ExpectColumnValuesToMatchRegex(
                    column=name, regex=regex, meta=_meta(column, index, 1, problem)
                )
            )
            if strftime_format:
                expectations.append(
                    ge.ExpectColumnValuesToMatchStrftimeFormat(
                        column=name, strftime_format=strftime_format, meta=_meta(column, index, 2, problem)
                    )
                )
        elif column.type == "boolean":
            expectations.append(
                ge.ExpectColumnValuesToBeInSet(
                    column=name,
                    value_set=list(BOOLEAN_VALUES),
                    meta=_meta(column, index, 1, "is not a boolean (true or false)"),
                )
            )
        allowed = column.resolved_allowed_values()
        if allowed:
            expectations.append(
                ge.ExpectColumnValuesToBeInSet(
                    column=name,
                    value_set=list(allowed),
                    meta=_meta(column, index, 3, "is not one of the allowed values: " + ", ".join(allowed)),
                )
            )
        if column.pattern:
            expectations.append(
                ge.ExpectColumnValuesToMatchRegex(
                    column=name,
                    regex=column.pattern,
                    meta=_meta(column, index, 4, f"does not match the pattern {column.pattern}"),
                )
            )
        if column.min is not None or column.max is not None:
            expectations.append(
                ge.ExpectColumnValuesToBeBetween(
                    column=NUMBER_PREFIX + name,
                    min_value=column.min,
                    max_value=column.max,
                    meta=_meta(column, index, 5, "out of range"),  # message from the value, see below
                )
            )
    # Given to the constructor, not added one by one: add_expectation on a suite named like one the
    # context saved (_validation_definition's) would write into that saved suite.
    return gx.ExpectationSuite(name=f"{entity.system}.{entity.name}", expectations=expectations)


# --------------------------------------------------------------------------- running it


@functools.cache
def _context():
    """One ephemeral GX context per process, progress bars off, with a pandas data source."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.data_sources.add_pandas("ingest")
    return context


@functools.cache
def _validation_definition(entity: Entity):
    """The entity's suite on a whole-dataframe batch of the `ingest` pandas data source (built once)."""
    import great_expectations as gx

    context = _context()
    name = f"{entity.system}.{entity.name}"
    batch = (
        context.data_sources.get("ingest")
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("new files")
    )
    suite = context.suites.add(build_suite(entity))
    return context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))


def prepare_frame(entity: Entity, frame: pd.DataFrame) -> pd.DataFrame:
    """The batch GX sees: blank values as missing, plus a numeric helper column per min/max column."""
    out = {}
    for column in entity.columns:
        values = frame[column.name].astype("str")
        values = values.mask(values.str.strip() == "")
        out[column.name] = values
        if column.min is not None or column.max is not None:
            out[NUMBER_PREFIX + column.name] = pd.to_numeric(values, errors="coerce")
    out[PATH_COLUMN] = frame[PATH_COLUMN].astype("str")
    out[ROW_COLUMN] = frame[ROW_COLUMN].astype("int64")
    return pd.DataFrame(out).reset_index(drop=True)


def validate_frame(entity: Entity, frame: pd.DataFrame) -> SuiteResult:
    """Run the entity's suite on one batch (contract columns as text, `_path`, `_row_number`)."""
    batch = prepare_frame(entity, frame)
    if batch.empty:
        return SuiteResult(success=True, rows=0, expectations=0, failures=[])
    result = _validation_definition(entity).run(
        batch_parameters={"dataframe": batch}, result_format={"result_format": "COMPLETE"}
    )
    paths = batch[PATH_COLUMN].to_numpy()
    rows = batch[ROW_COLUMN].to_numpy()
    # (row position, column index) -> (rank, failure): only the first failing rule of a value is kept.
    first: dict[tuple[int, int], tuple[int, Failure]] = {}
    for evaluation in result.results:
        meta = evaluation.expectation_config.meta
        if evaluation.exception_info and evaluation.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"Great Expectations could not evaluate {evaluation.expectation_config.type} on "
                f"{entity.raw_table}.{meta['column']}: {evaluation.exception_info.get('exception_message')}"
            )
        if evaluation.success:
            continue
        positions = evaluation.result.get("unexpected_index_list") or []
        column = entity.column(meta["column"])
        for position in positions:
            value = batch.at[position, column.name]
            value = None if pd.isna(value) else str(value)
            failure = Failure(
                path=str(paths[position]),
                row_number=int(rows[position]),
                column=column.name,
                column_index=meta["column_index"],
                value=value,
                problem=_range_problem(column, batch.at[position, NUMBER_PREFIX + column.name])
                if meta["problem"] == "out of range"
                else meta["problem"],
            )
            key = (position, meta["column_index"])
            if key not in first or meta["rank"] < first[key][0]:
                first[key] = (meta["rank"], failure)
    failures = [f for _, f in first.values()]
    failures.sort(key=lambda f: (f.path, f.row_number, f.column_index))
    return SuiteResult(
        success=bool(result.success),
        rows=len(batch),
        expectations=len(result.results),
        failures=failures,
    )


def _range_problem(column: Column, number: float) -> str:
    if column.min is not None and number < column.min:
        return f"is below the minimum {column.min:g}"
    return f"is above the maximum {column.max:g}"


def duplicate_key_query(entity: Entity, rows: str) -> str:
    """SQL over `rows` (a table or a parenthesized query with the contract columns as text, `_path` and
    `_row_number`) giving every repeat of a primary key within a file, as a Failure's fields: _path,
    _row_number, column_name, column_index, value, problem, detail. The first occurrence is not a
    problem, each later one points at it. A key with a missing (blank) part is left to `required`."""
    keys = [_sql_ident(c) for c in entity.primary_key]
    not_blank = " and ".join(f"not coalesce(regexp_full_match({k}, '\\s*'), true)" for k in keys)
    partition = ", ".join(["_path", *keys])
    return f"""
        select _path, _row_number, {_sql_text(", ".join(entity.primary_key))} as column_name,
               -1 as column_index, concat_ws(', ', {", ".join(keys)}) as value,
               {_sql_text(DUPLICATE_KEY)} as problem, 'first seen in row ' || first_row as detail
        from (
            select _path, _row_number, {", ".join(keys)},
                   min(_row_number) over (partition by {partition}) as first_row
            from {rows}
            where {not_blank}
        )
        where _row_number > first_row
    """


def _sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
