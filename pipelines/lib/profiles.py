"""Source profiles: how one system's own export files (a CRM report, an ERP ledger) become a
contract-shaped landing delivery. The format is documented for users in profiles/README.md.

A profile is YAML. It is read in two steps, and every problem of both steps is reported at once,
each naming the profile file and the YAML path to change:
1. the shape (pydantic models below): known keys, right types;
2. against the contract (quality/contract/extracts.yml): the system, its entities and columns, every
   required column mapped or defaulted, `when`/`fallback` naming columns of the same entity.
"""

from __future__ import annotations

import codecs
import difflib
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from quality.contract import Contract, Entity, load_contract

PROFILES_DIR = Path(__file__).resolve().parents[2] / "profiles"

ENCODINGS = ("auto", "utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16")
UNMAPPED_KEEP, UNMAPPED_ERROR = "keep", "error"
NUMERIC_TYPES = ("integer", "decimal")
MONTH_ENDS = ("start", "end")
JOIN_SEPARATOR = "-"  # `from: [A, B]`: the fields' values joined by this
TEMPORAL_TYPES = ("date", "timestamp")


class ProfileError(ValueError):
    """A profile that cannot be used: one line per problem, each naming the file and the YAML path."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# --- YAML: only true/false are booleans --------------------------------------------------------------


class _ProfileLoader(yaml.SafeLoader):
    """YAML 1.1 reads Yes/No/On/Off as booleans, which would turn a value map {Yes: 是, No: 否} into
    {True: ..., False: ...}: here they stay text, as a user writing a value map means them."""


_ProfileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ProfileLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _text(value: Any) -> str | None:
    """A scalar YAML value as the text it stands for (numbers and dates as written, booleans lower)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _formats(value: Any) -> Any:
    """One strptime format or a list of them (tried in order)."""
    return [value] if isinstance(value, str) else value


def _value_lists(value: Any) -> Any:
    """{key: value or [values]} -> {key: [texts]} (`when`, `where`, `where_not`)."""
    if isinstance(value, dict):
        return {_text(k): [_text(x) for x in (v if isinstance(v, list) else [v])] for k, v in value.items()}
    return value


def _one_group_pattern(pattern: Any, key: str) -> str:
    """A regular expression with exactly one (group): the date in a file name or a cell."""
    pattern = str(pattern)
    try:
        groups = re.compile(pattern).groups
    except re.error as error:
        raise ValueError(f"{key} is not a regular expression: {error}") from None
    if groups != 1:
        raise ValueError(f"{key} needs one (group) around the date: {pattern!r}")
    return pattern


# --- the shape ---------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, coerce_numbers_to_str=True)


class NumberSpec(_Strict):
    """How numbers are written in the source; unset keys come from the entity's `numbers`."""

    thousands: str | None = None
    decimal: str | None = None
    strip: list[str] | None = None


DEFAULT_NUMBERS = NumberSpec(thousands=",", decimal=".", strip=["¥", "￥", "$", " ", "\u00a0"])


class ColumnSpec(_Strict):
    source: str | list[str] | None = Field(default=None, alias="from")
    default: str | None = None
    map: dict[str, str] | None = None
    unmapped: str = UNMAPPED_KEEP
    date: list[str] | None = None
    timestamp: list[str] | None = None
    number: NumberSpec | None = None
    unit: Decimal | None = None
    when: dict[str, list[str]] | None = None
    fallback: str | None = None
    month: str | None = None

    @field_validator("source", mode="before")
    @classmethod
    def _source_text(cls, value: Any) -> Any:
        if isinstance(value, list):
            if not value:
                raise ValueError("`from` is a source header or a non-empty list of them")
            return [_text(x) for x in value]
        return _text(value)

    @property
    def sources(self) -> list[str]:
        """The source headers read (one, several joined, or none)."""
        if self.source is None:
            return []
        return [self.source] if isinstance(self.source, str) else list(self.source)

    @field_validator("month")
    @classmethod
    def _month_end(cls, value: str | None) -> str | None:
        if value is not None and value not in MONTH_ENDS:
            raise ValueError(
                f"month is start or end (the first or last day of the value's month), not {value!r}"
            )
        return value

    @field_validator("default", "unmapped", mode="before")
    @classmethod
    def _scalar_text(cls, value: Any) -> Any:
        return _text(value)

    @field_validator("map", mode="before")
    @classmethod
    def _map_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {_text(k): _text(v) or "" for k, v in value.items()}
        return value

    @field_validator("when", mode="before")
    @classmethod
    def _when_lists(cls, value: Any) -> Any:
        return _value_lists(value)

    @field_validator("date", "timestamp", mode="before")
    @classmethod
    def _format_list(cls, value: Any) -> Any:
        return _formats(value)


class UnpivotInto(_Strict):
    name: str
    value: str

    @field_validator("name", "value", mode="before")
    @classmethod
    def _field_text(cls, value: Any) -> Any:
        return _text(value)


class UnpivotSpec(_Strict):
    """A wide sheet, one column per period: each of `columns` becomes a row of its own, with two new
    fields the entity's columns read like headers: `into.name` (the column's label) and `into.value`
    (its cell)."""

    columns: dict[str, str] | str
    label: str | None = None
    into: UnpivotInto

    @field_validator("columns", mode="before")
    @classmethod
    def _columns(cls, value: Any) -> Any:
        if isinstance(value, dict):
            if not value:
                raise ValueError("columns lists the headers to unpivot: {header: label, ...} or a pattern")
            return {_text(k): _text(v) or "" for k, v in value.items()}
        if isinstance(value, str):
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"columns is not a regular expression: {error}") from None
        return value

    @field_validator("label", mode="before")
    @classmethod
    def _label_text(cls, value: Any) -> Any:
        return _text(value)

    @property
    def pattern(self) -> re.Pattern | None:
        return re.compile(self.columns) if isinstance(self.columns, str) else None

    def labels(self, header: list[str]) -> list[tuple[int, str]]:
        """(position, label) of the file's headers to unpivot, in the file's order."""
        found = []
        pattern = self.pattern
        for i, name in enumerate(header):
            if pattern is None:
                if name in self.columns:
                    found.append((i, self.columns[name]))
            elif match := pattern.fullmatch(name):
                template = self.label or (r"\1" if pattern.groups else r"\g<0>")
                found.append((i, match.expand(template)))
        return found


class EntitySpec(_Strict):
    file: str
    format: str | None = None
    sheet: str | int | None = None
    header_row: int = Field(default=1, ge=1)
    encoding: str = "auto"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    skip_footer_rows: int = Field(default=0, ge=0)
    dates: list[str] = []
    timestamps: list[str] = []
    numbers: NumberSpec = NumberSpec()
    unit: Decimal = Decimal(1)
    key_prefix: str = ""
    ignore: list[str] = []
    where: dict[str, list[str]] = {}
    where_not: dict[str, list[str]] = {}
    unpivot: UnpivotSpec | None = None
    columns: dict[str, ColumnSpec] = {}

    @field_validator("columns", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        # `opportunity_id: Opportunity ID` is short for `opportunity_id: {from: Opportunity ID}`
        if isinstance(value, dict):
            return {k: {"from": v} if not isinstance(v, dict) else v for k, v in value.items()}
        return value

    @field_validator("ignore", mode="before")
    @classmethod
    def _ignore_texts(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        return [_text(x) for x in value] if isinstance(value, list) else value

    @field_validator("where", "where_not", mode="before")
    @classmethod
    def _filter_lists(cls, value: Any) -> Any:
        value = _value_lists(value)
        if isinstance(value, dict):
            for header, values in value.items():
                if not values:
                    raise ValueError(f"{header!r}: give the values to match, e.g. {{{header}: [value, ...]}}")
        return value

    @property
    def pseudo_headers(self) -> tuple[str, ...]:
        """Fields the entity's columns read that are not in the file: the unpivot's name and value."""
        return (self.unpivot.into.name, self.unpivot.into.value) if self.unpivot else ()

    @field_validator("dates", "timestamps", mode="before")
    @classmethod
    def _format_list(cls, value: Any) -> Any:
        return _formats(value)

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        if value is not None and value not in ("csv", "excel"):
            raise ValueError(f"format is csv or excel, not {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        if value.lower() == "auto":
            return "auto"
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r} (use one of {', '.join(ENCODINGS)})") from None
        return value.lower()


class ProfileSpec(_Strict):
    name: str | None = None
    description: str = ""
    system: str
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    extract_date: Any = "today"
    entities: dict[str, EntitySpec] = {}
    absent: list[str] = []

    @field_validator("extract_date", mode="before")
    @classmethod
    def _extract_date(cls, value: Any) -> Any:
        if isinstance(value, date):
            return value.isoformat()
        if value == "today":
            return value
        if isinstance(value, dict) and set(value) == {"from_file_name"}:
            return {"from_file_name": _one_group_pattern(value["from_file_name"], "from_file_name")}
        if isinstance(value, dict) and "from_cell" in value:
            return _from_cell(value)
        if isinstance(value, str):
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        raise ValueError(
            "extract_date is `today`, `{from_file_name: '<regex with one group>'}`, "
            "`{from_cell: {file: '<pattern>', cell: A1}, pattern: '<regex with one group>'}` or a date"
        )


CELL = re.compile(r"^([A-Z]{1,3})([1-9][0-9]*)$")


def cell_position(cell: str) -> tuple[int, int]:
    """'A1' -> (row 1, column index 0); 'AB12' -> (12, 27)."""
    letters, row = CELL.match(cell).groups()
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - ord("A") + 1
    return int(row), column - 1


def _from_cell(value: dict) -> dict:
    """extract_date: {from_cell: {file, cell, sheet?}, pattern?}: checked, normalised."""
    unknown = set(value) - {"from_cell", "pattern"}
    if unknown:
        raise ValueError(f"extract_date with from_cell takes from_cell and pattern, not {sorted(unknown)}")
    where = value["from_cell"]
    if (
        not isinstance(where, dict)
        or not {"file", "cell"} <= set(where)
        or set(where) - {"file", "cell", "sheet"}
    ):
        raise ValueError("from_cell is {file: '<file name pattern>', cell: A1} (and optionally sheet)")
    file, cell = _text(where["file"]) or "", (_text(where["cell"]) or "").strip().upper()
    if not file.strip():
        raise ValueError("from_cell.file is a file name pattern, e.g. '应收单*.xlsx'")
    if not CELL.match(cell):
        raise ValueError(f"from_cell.cell is a cell like A1 (column letters, row number), not {cell!r}")
    sheet = where.get("sheet")
    checked: dict[str, Any] = {"from_cell": {"file": file, "cell": cell}}
    if sheet is not None:
        checked["from_cell"]["sheet"] = sheet if isinstance(sheet, int) else _text(sheet)
    if value.get("pattern") is not None:
        checked["pattern"] = _one_group_pattern(value["pattern"], "pattern")
    return checked


def _model_at(loc: tuple) -> type[BaseModel]:
    """Which model a pydantic error location points into: entities.E.columns.C.number.x -> NumberSpec."""
    if len(loc) >= 2 and loc[0] == "entities":
        if len(loc) >= 4 and loc[2] == "columns":
            return NumberSpec if len(loc) >= 6 and loc[4] == "number" else ColumnSpec
        if len(loc) >= 4 and loc[2] == "unpivot":
            return UnpivotInto if len(loc) >= 5 and loc[3] == "into" else UnpivotSpec
        return NumberSpec if len(loc) >= 4 and loc[2] == "numbers" else EntitySpec
    return ProfileSpec


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _shape_problems(error: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for e in error.errors():
        loc = tuple(str(part) for part in e["loc"])
        if e["type"] == "extra_forbidden":
            key = loc[-1]
            keys = _keys_of(_model_at(loc))
            problems.append((".".join(loc[:-1]), f"unknown key {key!r}{_did_you_mean(key, keys)}"))
        elif e["type"] == "missing":
            problems.append((".".join(loc[:-1]), f"{loc[-1]!r} is missing"))
        else:
            message = e["msg"].removeprefix("Value error, ")
            shown = repr(e["input"])
            problems.append((".".join(loc), message if shown in message else f"{message} (got {shown})"))
    return problems


# --- the validated profile ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """A profile checked against the contract. `spec` is the YAML as read; `yaml_path` names the YAML
    path of a column's source header in messages (`...columns.amount.from` or `...columns.amount`)."""

    name: str
    path: Path
    spec: ProfileSpec
    system: str
    short_form_columns: frozenset[tuple[str, str]]  # (entity, column) written `column: Header`

    @property
    def entities(self) -> dict[str, EntitySpec]:
        return self.spec.entities

    def absent_entities(self, contract: Contract) -> list[str]:
        """Entities of the system the profile does not deliver (declared absent or not mentioned)."""
        return [e.name for e in contract.entities_of(self.system) if e.name not in self.spec.entities]

    def source_yaml_path(self, entity: str, column: str) -> str:
        path = f"entities.{entity}.columns.{column}"
        return path if (entity, column) in self.short_form_columns else f"{path}.from"


def display_path(path: Path) -> str:
    """profiles/x.yml for the repo's profiles, else the path as given."""
    try:
        return path.resolve().relative_to(PROFILES_DIR.parent).as_posix()
    except ValueError:
        return str(path)


def resolve_profile_path(name_or_path: str) -> Path:
    """A path to a YAML file, or the name of a profile in <repo>/profiles."""
    as_path = Path(name_or_path)
    if as_path.suffix in (".yml", ".yaml") or as_path.exists() or len(as_path.parts) > 1:
        if not as_path.is_file():
            raise ProfileError([f"{name_or_path}: no such profile file"])
        return as_path
    candidate = PROFILES_DIR / f"{name_or_path}.yml"
    if not candidate.is_file():
        known = sorted(p.stem for p in PROFILES_DIR.glob("*.yml"))
        raise ProfileError(
            [
                f"no profile {name_or_path!r} in {display_path(PROFILES_DIR)}/"
                f"{_did_you_mean(name_or_path, known)}; known: {', '.join(known) or 'none'}"
            ]
        )
    return candidate


def load_profile(name_or_path: str | Path, contract: Contract | None = None) -> Profile:
    """Read and check a profile; raises ProfileError listing every problem."""
    contract = contract or load_contract()
    path = resolve_profile_path(str(name_or_path))
    shown = display_path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_ProfileLoader)  # noqa: S506 - a SafeLoader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ProfileError([f"{shown}: not readable YAML ({error})"]) from None
    if not isinstance(raw, dict):
        raise ProfileError([f"{shown}: a profile is a YAML mapping (name, system, entities, ...)"])
    try:
        spec = ProfileSpec.model_validate(raw)
    except ValidationError as error:
        raise ProfileError([f"{shown}: {where}: {what}" for where, what in _shape_problems(error)]) from None
    problems = _contract_problems(spec, contract)
    if problems:
        raise ProfileError([f"{shown}: {where}: {what}" for where, what in problems])
    short_form = frozenset(
        (entity, column)
        for entity, entity_raw in (raw.get("entities") or {}).items()
        for column, column_raw in ((entity_raw or {}).get("columns") or {}).items()
        if not isinstance(column_raw, dict)
    )
    return Profile(spec.name or path.stem, path, spec, spec.system, short_form)


def _contract_problems(spec: ProfileSpec, contract: Contract) -> list[tuple[str, str]]:
    if spec.system not in contract.systems:
        return [
            ("system", f"{spec.system!r} is not a system of the contract ({' or '.join(contract.systems)})")
        ]
    problems: list[tuple[str, str]] = []
    known = {e.name: e for e in contract.entities}
    for name in spec.absent:
        if name not in known:
            problems.append(("absent", f"unknown entity {name!r}{_did_you_mean(name, known)}"))
        elif known[name].system != spec.system:
            problems.append(
                ("absent", f"{name} is an {known[name].system} entity; this profile is {spec.system}")
            )
        elif name in spec.entities:
            problems.append(("absent", f"{name} is listed under entities too: it is delivered or absent"))
    for name, entity_spec in spec.entities.items():
        where = f"entities.{name}"
        if name not in known:
            problems.append((where, f"unknown entity {name!r}{_did_you_mean(name, known)}"))
        elif known[name].system != spec.system:
            problems.append(
                (
                    where,
                    f"{name} is an {known[name].system} entity; "
                    f"a profile delivers one system ({spec.system})",
                )
            )
        else:
            problems += _entity_problems(where, known[name], entity_spec)
    return problems


def _entity_problems(where: str, entity: Entity, spec: EntitySpec) -> list[tuple[str, str]]:
    problems = []
    if not spec.file.strip():
        problems.append((f"{where}.file", "a file name pattern is needed, e.g. 'Opportunities*.csv'"))
    names = entity.column_names
    for column, column_spec in spec.columns.items():
        at = f"{where}.columns.{column}"
        if column not in names:
            problems.append((at, f"{entity.name} has no column {column!r}{_did_you_mean(column, names)}"))
            continue
        contract_type = entity.column(column).type
        if column_spec.source is None and column_spec.default is None:
            problems.append((at, "give `from` (a source header) or `default` (a value for every row)"))
        if (
            column_spec.number is not None or column_spec.unit is not None
        ) and contract_type not in NUMERIC_TYPES:
            problems.append(
                (at, f"number/unit apply to integer and decimal columns; {column} is {contract_type}")
            )
        if column_spec.month is not None and contract_type != "date":
            problems.append((f"{at}.month", f"month applies to date columns; {column} is {contract_type}"))
        if (column_spec.date or column_spec.timestamp) and contract_type not in TEMPORAL_TYPES:
            problems.append(
                (
                    at,
                    f"date/timestamp formats apply to date and timestamp columns; {column} is "
                    f"{contract_type}",
                )
            )
        for key, other in [
            ("fallback", column_spec.fallback),
            *[("when", c) for c in column_spec.when or {}],
        ]:
            if other is not None and (other not in names or other == column):
                problems.append(
                    (
                        f"{at}.{key}",
                        f"{other!r} is not another column of {entity.name}"
                        + _did_you_mean(other, [n for n in names if n != column]),
                    )
                )
    problems += _reading_problems(where, spec)
    unmapped = [c.name for c in entity.columns if c.required and c.name not in spec.columns]
    if unmapped:
        problems.append(
            (
                f"{where}.columns",
                f"required column(s) of {entity.name} neither mapped (from) nor defaulted (default): "
                + ", ".join(unmapped),
            )
        )
    if not problems and column_order(entity, spec) is None:
        problems.append((f"{where}.columns", "`when`/`fallback` refer to each other in a circle"))
    return problems


def _reading_problems(where: str, spec: EntitySpec) -> list[tuple[str, str]]:
    """`ignore`, `where`/`where_not` and `unpivot` against each other and the columns."""
    problems = []
    pseudo = spec.pseudo_headers
    read_by = {}  # header -> the YAML path reading it
    for column, column_spec in spec.columns.items():
        for header in column_spec.sources:
            read_by.setdefault(header, f"{where}.columns.{column}")
    for key in ("where", "where_not"):
        for header in getattr(spec, key):
            read_by.setdefault(header, f"{where}.{key}")
            if header in pseudo:
                problems.append(
                    (
                        f"{where}.{key}",
                        f"{header!r} is made by the unpivot; {key} reads the file's own headers",
                    )
                )
    unpivot = spec.unpivot
    if unpivot is not None:
        if unpivot.into.name == unpivot.into.value:
            problems.append((f"{where}.unpivot.into", "name and value need two different field names"))
        if isinstance(unpivot.columns, dict):
            for header in unpivot.columns:
                read_by.setdefault(header, f"{where}.unpivot.columns")
            if unpivot.label is not None:
                problems.append(
                    (f"{where}.unpivot.label", "label goes with a pattern; a mapping gives each label itself")
                )
        elif unpivot.label is not None:
            try:
                unpivot.pattern.sub(unpivot.label, "")
            except (re.error, IndexError) as error:
                problems.append(
                    (f"{where}.unpivot.label", f"not a template for '{unpivot.columns}': {error}")
                )
        for field_name in pseudo:
            if not any(field_name in c.sources for c in spec.columns.values()):
                problems.append(
                    (
                        f"{where}.unpivot.into",
                        f"no column reads {field_name!r} (map it, e.g. `column: {{from: {field_name}}}`)",
                    )
                )
    for header in spec.ignore:
        if header in read_by:
            problems.append(
                (f"{where}.ignore", f"{header!r} is read by {read_by[header]}; ignore it or read it")
            )
        elif unpivot is not None and unpivot.pattern is not None and unpivot.pattern.fullmatch(header):
            problems.append(
                (f"{where}.ignore", f"{header!r} is unpivoted (unpivot.columns); ignore it or read it")
            )
    return problems


def column_order(entity: Entity, spec: EntitySpec) -> list[str] | None:
    """Contract columns in an order where every column comes after the ones its `when` and
    `fallback` read (None when they refer to each other in a circle)."""
    pending = {
        name: {*(c.when or {}), *([c.fallback] if c.fallback else [])} & set(entity.column_names)
        for name, c in ((n, spec.columns.get(n)) for n in entity.column_names)
        if c is not None
    }
    order = [name for name in entity.column_names if name not in pending]
    while pending:
        ready = [name for name, needs in pending.items() if not (needs & set(pending))]
        if not ready:
            return None
        for name in ready:
            order.append(name)
            del pending[name]
    return order
