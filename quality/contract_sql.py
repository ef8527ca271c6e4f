"""The extract contract's value rules, and the DuckDB SQL that checks them at ingest.

`contract_rules` lists, for one entity and from quality/contract/extracts.yml only, every rule a value
must meet, in the order the contract checks them (only the first failing rule of a value is reported):

1. required       -> the value is not missing (an empty or blank value is missing)
2. type           -> integer, decimal, date, timestamp: a regex on the text; dates and timestamps must
                     also be real ones (2024-02-30 and 25:00:00 fail); booleans: true or false
3. allowed values -> one of the contract's values (stage names come from the seed)
4. pattern        -> the column's regex (e.g. mobile numbers ^1[3-9][0-9]{9}$)
5. min / max      -> the value read as a number

A missing value breaks only `required`; every other rule skips it. Two implementations check these
rules and must agree exactly (tests/test_contract_sql.py compares them on a batch of every kind of bad
value): `value_problems_query`, one SQL statement over the staged rows, which is what ingest runs
(no data leaves DuckDB, so memory stays within DuckDB's limit whatever the file's size), and the Great
Expectations suite of quality/expectations.py, the reference. The SQL reproduces GX's pandas
semantics: a regex matches anywhere in the value (`re.search`), and `$` also matches before a final
line feed as in Python; dates and timestamps parse as Python's `strptime` does; blank is Python's
`str.strip() == ""` (Unicode whitespace); min/max compare the value as a float, messages format
the bound like Python's `:g`.

The one rule that needs a whole file, the primary key unique within a file, is `duplicate_key_query`.
"""

from __future__ import annotations

from dataclasses import dataclass

from quality.contract import Column, Entity

PATH_COLUMN = "_path"  # the file a row came from
ROW_COLUMN = "_row_number"  # 1 = first data row after the header

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
MISSING = "required value is missing"

# What Python's str.isspace() calls whitespace (str.strip() removes it), as an RE2 class: RE2's \s is
# ASCII only.
_PYTHON_WHITESPACE = r"[\t\n\x0B\x0C\r\x1C-\x1F\x85\pZ]"


@dataclass(frozen=True)
class Rule:
    """One rule of the contract for one column. kind: not_null, regex, strftime, in_set or between;
    `rank` orders the rules of a column (the first failing one is reported); `problem` is the message
    (for between, the message depends on the value: `range_problem`)."""

    column: Column
    column_index: int
    rank: int
    kind: str
    problem: str
    regex: str | None = None
    strftime_format: str | None = None
    value_set: tuple[str, ...] | None = None


def contract_rules(entity: Entity) -> list[Rule]:
    """The entity's rules, column by column, each column's in rank order."""
    rules = []
    for index, column in enumerate(entity.columns):
        if column.required:
            rules.append(Rule(column, index, 0, "not_null", MISSING))
        if column.type in TYPE_RULES:
            regex, strftime_format, label = TYPE_RULES[column.type]
            problem = f"is not {label}"
            rules.append(Rule(column, index, 1, "regex", problem, regex=regex))
            if strftime_format:
                rules.append(Rule(column, index, 2, "strftime", problem, strftime_format=strftime_format))
        elif column.type == "boolean":
            rules.append(
                Rule(column, index, 1, "in_set", "is not a boolean (true or false)", value_set=BOOLEAN_VALUES)
            )
        allowed = column.resolved_allowed_values()
        if allowed:
            problem = "is not one of the allowed values: " + ", ".join(allowed)
            rules.append(Rule(column, index, 3, "in_set", problem, value_set=tuple(allowed)))
        if column.pattern:
            problem = f"does not match the pattern {column.pattern}"
            rules.append(Rule(column, index, 4, "regex", problem, regex=column.pattern))
        if column.min is not None or column.max is not None:
            rules.append(Rule(column, index, 5, "between", "out of range"))
    return rules


def range_problem(column: Column, number: float) -> str:
    """The message for a number outside the column's min/max."""
    if column.min is not None and number < column.min:
        return below_minimum(column)
    return above_maximum(column)


def below_minimum(column: Column) -> str:
    return f"is below the minimum {column.min:g}"


def above_maximum(column: Column) -> str:
    return f"is above the maximum {column.max:g}"


# --------------------------------------------------------------------------- SQL


def value_problems_query(entity: Entity, rows: str) -> str:
    """SQL over `rows` (a table or a parenthesized query with the contract columns as text, `_path` and
    `_row_number`) giving the first failing rule of every value that breaks the contract, as a
    Failure's fields: _path, _row_number, column_name, column_index, value (NULL when missing), problem,
    detail (always NULL). The same failures as the GX suite (`quality.expectations.validate_frame`)."""
    by_column: dict[int, list[Rule]] = {}
    for rule in contract_rules(entity):
        by_column.setdefault(rule.column_index, []).append(rule)
    selects = []
    for index, column_rules in by_column.items():
        column = column_rules[0].column
        value = _ident(column.name)
        blank = f"regexp_full_match({value}, '{_PYTHON_WHITESPACE}*')"
        cases = [f"when {value} is null or {blank} then " + (_text(MISSING) if column.required else "null")]
        for rule in column_rules:
            cases += _failing_cases(rule, value)
        selects.append(
            f"select {PATH_COLUMN}, {ROW_COLUMN}, {_text(column.name)} as column_name, "
            f"{index} as column_index, case when {blank} then null else {value} end as value, "
            f"case {' '.join(cases)} end as problem, null::varchar as detail from {rows}"
        )
    if not selects:
        return (
            f"select {PATH_COLUMN}, {ROW_COLUMN}, null::varchar as column_name, null::integer as "
            "column_index, null::varchar as value, null::varchar as problem, null::varchar as detail "
            f"from {rows} where false"
        )
    return "select * from (" + " union all ".join(selects) + ") where problem is not null"


def _failing_cases(rule: Rule, value: str) -> list[str]:
    """CASE branches that name the rule's problem when a (present) value breaks it."""
    if rule.kind == "not_null":
        return []  # the blank branch
    if rule.kind == "regex":
        regex = _text(python_regex_as_re2(rule.regex))
        return [f"when not regexp_matches({value}, {regex}) then {_text(rule.problem)}"]
    if rule.kind == "strftime":
        # Python's strptime: a real date or time (DuckDB's try_strptime agrees on these formats), from
        # year 1, and nothing after it (not even the final line feed the regex lets through).
        return [
            f"when ends_with({value}, chr(10)) or not coalesce(try_strptime({value}, "
            f"{_text(rule.strftime_format)}) >= timestamp '0001-01-01', false) then {_text(rule.problem)}"
        ]
    if rule.kind == "in_set":
        values = ", ".join(_text(v) for v in rule.value_set)
        return [f"when {value} not in ({values}) then {_text(rule.problem)}"]
    if rule.kind == "between":
        column = rule.column
        number = f"try_cast({value} as double)"
        cases = []
        if column.min is not None:
            cases.append(f"when {number} < {float(column.min)!r} then {_text(below_minimum(column))}")
        if column.max is not None:
            cases.append(f"when {number} > {float(column.max)!r} then {_text(above_maximum(column))}")
        return cases
    raise ValueError(f"unknown rule kind {rule.kind!r}")


def python_regex_as_re2(regex: str) -> str:
    """The regex for DuckDB (RE2) with Python's meaning: outside a character class, `$` matches at the
    end or before a final line feed. The rest of the contract's patterns mean the same in both."""
    out, i, in_class = [], 0, False
    while i < len(regex):
        char = regex[i]
        if char == "\\":
            out.append(regex[i : i + 2])
            i += 2
            continue
        if in_class:
            # "]" right after "[" or "[^" is a literal
            if char == "]" and not (out[-1] == "[" or (out[-1] == "^" and out[-2] == "[")):
                in_class = False
        elif char == "[":
            in_class = True
        elif char == "$":
            char = r"(?:\n?$)"
        out.append(char)
        i += 1
    return "".join(out)


def duplicate_key_query(entity: Entity, rows: str) -> str:
    """SQL over `rows` (a table or a parenthesized query with the contract columns as text, `_path` and
    `_row_number`) giving every repeat of a primary key within a file, as a Failure's fields: _path,
    _row_number, column_name, column_index, value, problem, detail. The first occurrence is not a
    problem, each later one points at it. A key with a missing (blank) part is left to `required`."""
    keys = [_ident(c) for c in entity.primary_key]
    not_blank = " and ".join(f"not coalesce(regexp_full_match({k}, '\\s*'), true)" for k in keys)
    partition = ", ".join(["_path", *keys])
    return f"""
        select _path, _row_number, {_text(", ".join(entity.primary_key))} as column_name,
               -1 as column_index, concat_ws(', ', {", ".join(keys)}) as value,
               {_text(DUPLICATE_KEY)} as problem, 'first seen in row ' || first_row as detail
        from (
            select _path, _row_number, {", ".join(keys)},
                   min(_row_number) over (partition by {partition}) as first_row
            from {rows}
            where {not_blank}
        )
        where _row_number > first_row
    """


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
