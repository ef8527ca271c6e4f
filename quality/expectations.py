"""Great Expectations suites built from the extract contract: the reference for the ingest's SQL checks.

One suite per contract entity (`build_suite`), one expectation per rule of quality/contract_sql.py's
`contract_rules` (derived from quality/contract/extracts.yml and nothing else), in this order per
column (only the first failing rule of a value is reported):

1. required      -> expect_column_values_to_not_be_null
2. type          -> expect_column_values_to_match_regex (integer, decimal, date, timestamp), plus
                    expect_column_values_to_match_strftime_format for dates and timestamps (so that
                    2024-02-30 fails), expect_column_values_to_be_in_set for booleans
3. allowed values-> expect_column_values_to_be_in_set (stage names come from the seed through
                    Column.resolved_allowed_values())
4. pattern       -> expect_column_values_to_match_regex (e.g. mobile numbers ^1[3-9][0-9]{9}$)
5. min / max     -> expect_column_values_to_be_between on the value read as a number

Ingest does not run GX: it checks the same rules with one DuckDB statement over the staged rows
(`quality.contract_sql.value_problems_query`; GX on pandas batches was half of the ingest's CPU and
most of its memory). GX stays as the reference implementation of the rules' meaning:
tests/test_contract_sql.py runs both on a batch of every kind of bad value and requires the same
failures, so the SQL cannot drift from these semantics.

Raw values are text, so a batch is a pandas frame of strings; an empty or blank value is missing
(GX's map expectations skip missing values, so only "required" looks at them). `validate_frame` runs
the suite on one batch of an entity's rows (columns `_path` and `_row_number` say where each row
came from) through GX's pandas path (ephemeral context, dataframe asset, validation definition,
result_format COMPLETE) and turns the unexpected rows into `Failure`s. great_expectations is imported
only when a suite is built, never by the nightly build.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd

from quality.contract import Entity
from quality.contract_sql import (  # noqa: F401 - part of this module's interface
    BOOLEAN_VALUES,
    DUPLICATE_KEY,
    PATH_COLUMN,
    ROW_COLUMN,
    TYPE_RULES,
    Rule,
    contract_rules,
    duplicate_key_query,
    range_problem,
    value_problems_query,
)

NUMBER_PREFIX = "__number__"  # helper column: the value read as a number, for min / max


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


def _meta(rule: Rule) -> dict:
    return {
        "column": rule.column.name,
        "column_index": rule.column_index,
        "rank": rule.rank,
        "problem": rule.problem,
    }


def build_suite(entity: Entity):
    """The entity's expectation suite, from the contract's rules. Each expectation's `meta` says which
    contract column and rule it checks and the message for a failing value."""
    import great_expectations as gx

    _context()  # GX objects need an active context
    ge = gx.expectations
    expectations = []
    for rule in contract_rules(entity):
        name, meta = rule.column.name, _meta(rule)
        if rule.kind == "not_null":
            expectations.append(ge.ExpectColumnValuesToNotBeNull(column=name, meta=meta))
        elif rule.kind == "regex":
            expectations.append(ge.ExpectColumnValuesToMatchRegex(column=name, regex=rule.regex, meta=meta))
        elif rule.kind == "strftime":
            expectations.append(
                ge.ExpectColumnValuesToMatchStrftimeFormat(
                    column=name, strftime_format=rule.strftime_format, meta=meta
                )
            )
        elif rule.kind == "in_set":
            expectations.append(
                ge.ExpectColumnValuesToBeInSet(column=name, value_set=list(rule.value_set), meta=meta)
            )
        elif rule.kind == "between":
            expectations.append(
                ge.ExpectColumnValuesToBeBetween(
                    column=NUMBER_PREFIX + name,
                    min_value=rule.column.min,
                    max_value=rule.column.max,
                    meta=meta,  # message from the value: range_problem
                )
            )
        else:
            raise ValueError(f"unknown rule kind {rule.kind!r}")
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
                problem=range_problem(column, batch.at[position, NUMBER_PREFIX + column.name])
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
