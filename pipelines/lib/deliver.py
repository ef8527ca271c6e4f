"""`salesreview deliver`: a system's own export files, read with a source profile
(pipelines/lib/profiles.py, documented in profiles/README.md), written as a complete landing delivery.

What it writes: one contract CSV per entity of the profile's system (UTF-8, contract header order,
header-only for the entities the source does not have), then the manifest, last, with a `source`
block (profile, initial, currency, absent entities, defaulted and unmapped columns, source files).

How:
1. Check first, write nothing on a problem: every FILE must match an entity's `file` pattern, every
   entity of the profile must get a file, and every header the profile reads must be in its file
   (schema drift: a missing or renamed header is an error naming the file, the column and the YAML
   path to change; a new column nobody reads is a note).
2. Convert streaming: each file is read once, row by row (csv module; Excel through python-calamine),
   and every entity reading it converts the row and writes it at once, into a temporary folder inside
   the landing folder. Memory does not grow with the file size, with one exception: an entity derived
   from another entity's file (customers from an opportunities report) is reduced to one row per
   primary key (the last row wins), so it keeps its distinct keys and their rows in a dict. Such an
   entity has far fewer keys than the file has rows. An entity reading its own file is written as it
   comes: a key repeated in it is the source's problem, and the ingest names it.
   Excel sheets are read whole by calamine (at most Excel's 1,048,576 rows per sheet).
   `where`/`where_not` drop a source row before it is converted; `unpivot` turns one source row into
   one row per period column as it is read: neither keeps rows.
3. Publish: the manifest is computed in the temporary folder, the CSV files are moved into the landing
   folder, the manifest last, so the ingest never sees half a delivery.

A value that does not convert (a date in another format, "n/a" as an amount) is written as it was:
the ingest's row-level checks name its file, row and column. Deliver counts them per column.
"""

from __future__ import annotations

import calendar
import codecs
import csv
import dataclasses
import difflib
import fnmatch
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from pipelines.lib.landing import write_manifest
from pipelines.lib.profiles import (
    DEFAULT_NUMBERS,
    JOIN_SEPARATOR,
    UNMAPPED_ERROR,
    UNMAPPED_KEEP,
    ColumnSpec,
    EntitySpec,
    NumberSpec,
    Profile,
    cell_position,
    column_order,
)
from quality.contract import Contract, Entity, load_contract

# The csv module refuses fields over 128 KiB; the ingest, not the csv module, decides what is too long.
csv.field_size_limit(2**31 - 1)

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
# Tried after the profile's own formats: ISO and the year-first forms Chinese exports use.
FALLBACK_DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y.%m.%d"]
FALLBACK_TIMESTAMP_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
]
BOOLEAN_TEXT = {
    **dict.fromkeys(["true", "t", "yes", "y", "1", "是", "有效", "启用"], "true"),
    **dict.fromkeys(["false", "f", "no", "n", "0", "否", "无效", "停用"], "false"),
}
CENT = Decimal("0.01")
UTF8_CHECK_BLOCK = 1 << 20
MAX_HEADERS_LISTED = 30
HEADER_SEARCH_ROWS = 20  # rows looked at for the real header when the profile's headers are not found
DATE_CACHE_SIZE = 65_536  # distinct date texts remembered per column (dates repeat; memory stays bounded)
# `month: start|end` also reads a month alone: 2026-01, 2026/01, 2026年1月, 2026.01
MONTH_FORMATS = ["%Y-%m", "%Y/%m", "%Y年%m月", "%Y.%m"]


class DeliverError(ValueError):
    """Files that cannot be delivered with the profile (drift, missing files, unreadable files): one
    line per problem. Nothing was written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class NotConverted:
    """Values of one column that did not convert, written as they were."""

    count: int = 0
    example: str = ""
    reason: str = ""


@dataclass
class EntityWritten:
    name: str
    path: str  # relative to the landing folder
    rows: int = 0
    source_files: list[str] = field(default_factory=list)
    defaulted_columns: list[str] = field(default_factory=list)
    unmapped_columns: list[str] = field(default_factory=list)  # optional columns left empty
    one_row_per_key: bool = False  # derived from another entity's file, reduced by primary key
    left_out: int = 0  # source rows `where`/`where_not` left out


@dataclass
class Delivery:
    """What deliver wrote, for the command line to print."""

    system: str
    extract_date: str
    profile: str
    manifest_path: Path
    entities: dict[str, EntityWritten]
    absent_entities: list[str]
    not_converted: dict[tuple[str, str], NotConverted]
    notes: list[str]


# --- values ------------------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A CSV field or an Excel cell as text: trimmed; Excel numbers without a spurious '.0', Excel
    dates and times in the contract's ISO forms."""
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    return str(value).strip()


def ascii_fold(text: str) -> str:
    """Case-insensitive for ASCII letters only (value maps, `when`): 'closed won' = 'Closed Won'."""
    return text.lower() if text.isascii() else "".join(c.lower() if c.isascii() else c for c in text)


def parse_number(text: str, numbers: NumberSpec) -> Decimal | None:
    """'1,200.50', '¥ 3,000', '(1,200.00)', '30%' (with '%' in strip) -> Decimal; None if not a number."""
    for junk in numbers.strip or ():
        text = text.replace(junk, "")
    negative = text.startswith("(") and text.endswith(")")  # accounting negatives
    if negative:
        text = text[1:-1]
    if numbers.thousands:
        text = text.replace(numbers.thousands, "")
    if numbers.decimal and numbers.decimal != ".":
        text = text.replace(numbers.decimal, ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return -number if negative else number


def _merged_numbers(*specs: NumberSpec | None) -> NumberSpec:
    """Later specs' keys win over earlier ones (defaults < entity `numbers` < column `number`)."""
    merged = {}
    for spec in specs:
        if spec is not None:
            merged.update(spec.model_dump(exclude_none=True))
    return NumberSpec(**merged)


class ColumnConverter:
    """One contract column of one entity: where its value comes from and how it is converted."""

    def __init__(
        self,
        entity: Entity,
        entity_spec: EntitySpec,
        name: str,
        spec: ColumnSpec | None,
        key_prefix: str,
    ):
        column = entity.column(name)
        self.name, self.type = name, column.type
        self.spec = spec
        self.source = spec.source if spec else None
        self.sources = spec.sources if spec else []
        self.index: int | None = None  # position of the source header, set per file
        self.indexes: list[int | None] = []  # `from: [A, B]`: the positions of the headers joined
        self.month = spec.month if spec else None
        self.default = spec.default if spec else None
        self.map = {ascii_fold(k.strip()): v for k, v in spec.map.items()} if spec and spec.map else None
        self.unmapped = spec.unmapped if spec else UNMAPPED_KEEP
        self.when = (
            {c: {ascii_fold(v) for v in values} for c, values in (spec.when or {}).items()} if spec else {}
        )
        self.fallback = spec.fallback if spec else None
        self.key_prefix = key_prefix
        self.numbers = _merged_numbers(DEFAULT_NUMBERS, entity_spec.numbers, spec.number if spec else None)
        # the entity's unit is for amounts (decimal columns); a column's own unit applies to it alone
        self.unit = spec.unit if spec and spec.unit is not None else None
        if self.unit is None and self.type == "decimal":
            self.unit = entity_spec.unit
        date_formats = (spec.date if spec else None) or entity_spec.dates
        timestamp_formats = (spec.timestamp if spec else None) or entity_spec.timestamps
        if self.type == "date":
            self.formats = [
                *date_formats,
                *timestamp_formats,
                *FALLBACK_DATE_FORMATS,
                *FALLBACK_TIMESTAMP_FORMATS,
            ]
        else:
            self.formats = [
                *timestamp_formats,
                *date_formats,
                *FALLBACK_TIMESTAMP_FORMATS,
                *FALLBACK_DATE_FORMATS,
            ]
        if self.month:
            self.formats += MONTH_FORMATS
        self.formats = list(dict.fromkeys(self.formats))
        self._date_cache: dict[str, str | None] = {}
        self.not_converted = NotConverted()

    def _refuse(self, value: str, reason: str) -> str:
        self.not_converted.count += 1
        if not self.not_converted.example:
            self.not_converted.example, self.not_converted.reason = value, reason
        return value

    def _temporal(self, text: str) -> str:
        cached = self._date_cache.get(text, False)
        if cached is False:
            cached = None
            for fmt in self.formats:
                try:
                    moment = datetime.strptime(text, fmt)
                except ValueError:
                    continue
                if self.month:
                    day = 1 if self.month == "start" else calendar.monthrange(moment.year, moment.month)[1]
                    moment = moment.replace(day=day)
                cached = (
                    moment.date().isoformat() if self.type == "date" else moment.strftime("%Y-%m-%d %H:%M:%S")
                )
                break
            if len(self._date_cache) < DATE_CACHE_SIZE:
                self._date_cache[text] = cached
        return (
            cached
            if cached is not None
            else self._refuse(text, f"not a {self.type} in the profile's formats")
        )

    def convert_text(self, text: str) -> str:
        """A trimmed, non-empty source text (after the value map) -> the contract's text form."""
        kind = self.type
        if kind == "string":
            return text
        if kind in ("integer", "decimal"):
            number = parse_number(text, self.numbers)
            if number is None:
                return self._refuse(text, "not a number")
            if self.unit is not None and self.unit != 1:
                number *= self.unit
            if kind == "decimal":
                return format(number.quantize(CENT, rounding=ROUND_HALF_UP), "f")
            if number != number.to_integral_value():
                return self._refuse(text, "not a whole number")
            return str(int(number))
        if kind == "boolean":
            return BOOLEAN_TEXT.get(ascii_fold(text)) or self._refuse(text, "not true/false")
        return self._temporal(text)

    def value(self, cells: list, converted: dict[str, str]) -> str:
        for other, allowed in self.when.items():
            if ascii_fold(converted[other]) not in allowed:
                return ""
        index = self.index
        if self.indexes:
            parts = [cell_text(cells[i]) if i is not None and i < len(cells) else "" for i in self.indexes]
            text = JOIN_SEPARATOR.join(parts) if any(parts) else ""
        else:
            text = cell_text(cells[index]) if index is not None and index < len(cells) else ""
        if not text and self.default is not None:
            text = self.default
        if text and self.map is not None:
            mapped = self.map.get(ascii_fold(text))
            if mapped is not None:
                text = mapped
            elif self.unmapped == UNMAPPED_ERROR:
                self._refuse(text, "not in the value map (unmapped: error)")
                return text
            elif self.unmapped == UNMAPPED_KEEP:
                self._refuse(text, "not in the value map, kept as it was")
            else:
                text = self.unmapped
        if text:
            text = self.convert_text(text)
        if not text and self.fallback:
            text = converted[self.fallback]
            if text and self.type in ("date", "timestamp"):  # a date standing in for a timestamp: 00:00:00
                text = self._temporal(text)
        if text and self.key_prefix and not text.startswith(self.key_prefix):
            text = self.key_prefix + text
        return text


class EntityConverter:
    """Source rows -> contract rows for one entity of the profile."""

    def __init__(self, profile: Profile, contract: Contract, entity: Entity):
        spec = profile.entities[entity.name]
        self.entity, self.spec = entity, spec
        prefixes = {name: s.key_prefix for name, s in profile.entities.items() if s.key_prefix}
        self.columns = {
            name: ColumnConverter(
                entity, spec, name, spec.columns.get(name), self._prefix(entity, name, prefixes)
            )
            for name in entity.column_names
        }
        self.order = [self.columns[name] for name in column_order(entity, spec)]
        self.header = entity.column_names
        self.key_columns = entity.primary_key
        self.where = [(h, {ascii_fold(v.strip()) for v in values}, True) for h, values in spec.where.items()]
        self.where += [
            (h, {ascii_fold(v.strip()) for v in values}, False) for h, values in spec.where_not.items()
        ]
        self.filters: list[tuple[int | None, set[str], bool]] = []  # (position, values, keep them), per file
        self.unpivoted: list[tuple[int, str]] = []  # (position, label) of the columns unpivoted, per file
        self.width = 0  # the file's header width: the unpivot's fields come after it
        self.left_out = 0

    @staticmethod
    def _prefix(entity: Entity, column: str, prefixes: dict[str, str]) -> str:
        """key_prefix applies to an entity's primary key and to every column referencing that entity."""
        if column in entity.primary_key:
            return prefixes.get(entity.name, "")
        reference = entity.column(column).references
        return prefixes.get(reference.split(".")[0], "") if reference else ""

    def bind(self, header: list[str]) -> None:
        """Point every mapped column at its header's position in this file (the unpivot's name and value
        fields come after the file's columns)."""
        positions: dict[str, int] = {}
        for i, name in enumerate(header):
            positions.setdefault(name, i)
        self.width = len(header)
        for i, name in enumerate(self.spec.pseudo_headers):
            positions[name] = self.width + i
        for column in self.columns.values():
            column.index = positions.get(column.source) if isinstance(column.source, str) else None
            column.indexes = [positions.get(h) for h in column.sources] if len(column.sources) > 1 else []
        self.filters = [(positions.get(h), values, keep) for h, values, keep in self.where]
        self.unpivoted = self.spec.unpivot.labels(header) if self.spec.unpivot else []

    def convert(self, cells: list) -> list[str]:
        converted: dict[str, str] = {}
        for column in self.order:
            converted[column.name] = column.value(cells, converted)
        return [converted[name] for name in self.header]

    @property
    def plain(self) -> bool:
        """One contract row per source row: no filter, no unpivot."""
        return not self.filters and self.spec.unpivot is None

    def convert_all(self, cells: list) -> list[list[str]]:
        """The contract rows of one source row: none when `where`/`where_not` leave it out, one per
        non-empty unpivoted cell with `unpivot`, else one."""
        for index, values, keep in self.filters:
            text = cell_text(cells[index]) if index is not None and index < len(cells) else ""
            if (ascii_fold(text) in values) != keep:
                self.left_out += 1
                return []
        if self.spec.unpivot is None:
            return [self.convert(cells)]
        width = self.width
        base = list(cells[:width]) + [""] * (width - len(cells))
        return [
            self.convert([*base, label, cells[index]])
            for index, label in self.unpivoted
            if index < len(cells) and cell_text(cells[index])
        ]

    @property
    def defaulted_columns(self) -> list[str]:
        return [
            name for name, c in self.columns.items() if c.spec and not c.sources and c.default is not None
        ]

    @property
    def unmapped_columns(self) -> list[str]:
        return [name for name, c in self.columns.items() if c.spec is None]


# --- reading files -----------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """`encoding: auto`: a BOM says it; else UTF-8 if the whole file decodes as UTF-8 (checked in blocks,
    so memory stays flat), else GB18030 (a superset of GBK, what Chinese Excel and ERPs write)."""
    with open(path, "rb") as f:
        start = f.read(4)
        if start.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for block in iter(lambda: f.read(UTF8_CHECK_BLOCK), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


@dataclass(frozen=True)
class ReadOptions:
    """How a file is read; entities reading one file with the same options share one pass over it."""

    format: str
    sheet: str | int | None
    header_row: int
    encoding: str
    delimiter: str
    skip_footer_rows: int

    @classmethod
    def of(cls, spec: EntitySpec, path: Path, first_reader: EntitySpec | None = None) -> ReadOptions:
        """An entity reading a file another entity read first takes that entity's reading options,
        except those it sets itself: the file's layout is written once in the profile."""
        values = {key: getattr(spec, key) for key in READ_OPTION_KEYS}
        if first_reader is not None:
            values.update(
                {
                    key: getattr(first_reader, key)
                    for key in READ_OPTION_KEYS
                    if key not in spec.model_fields_set
                }
            )
        values["format"] = values["format"] or ("excel" if path.suffix.lower() in EXCEL_SUFFIXES else "csv")
        return cls(**values)


READ_OPTION_KEYS = ("format", "sheet", "header_row", "encoding", "delimiter", "skip_footer_rows")


class SourceTable:
    """One file's header and data rows (blank rows skipped, footer rows left out). Use as a context
    manager; `rows()` yields (row number in the file or sheet, 1-based, cells)."""

    def __init__(self, path: Path, options: ReadOptions):
        self.path, self.options = path, options
        self.encoding = ""
        self._close: Callable[[], None] = lambda: None
        self._raw: Iterator[tuple[int, list]] = iter(())
        self.header: list[str] = []
        self.last_row = 0
        self.leading: list[tuple[int, list]] = []  # rows up to the header, to find a misplaced one

    def __enter__(self) -> SourceTable:
        if self.options.format == "excel":
            self._open_excel()
        else:
            self._open_csv()
        for number, cells in self._raw:
            self.leading.append((number, cells))
            if number == self.options.header_row:
                self.header = [cell_text(c).lstrip("\ufeff") for c in cells]
                break
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def _open_csv(self) -> None:
        encoding = self.options.encoding
        self.encoding = detect_encoding(self.path) if encoding == "auto" else encoding
        handle = open(self.path, encoding=self.encoding, newline="")  # noqa: SIM115 - closed in __exit__
        self._close = handle.close
        reader = csv.reader(handle, delimiter=self.options.delimiter)
        self._raw = ((number, cells) for number, cells in enumerate(reader, start=1))

    def _open_excel(self) -> None:
        from python_calamine import CalamineWorkbook

        workbook = CalamineWorkbook.from_path(str(self.path))
        self._close = workbook.close
        sheet_choice = self.options.sheet
        if sheet_choice is None:
            sheet = workbook.get_sheet_by_index(0)
        elif isinstance(sheet_choice, int):
            sheet = workbook.get_sheet_by_index(sheet_choice - 1)
        else:
            sheet = workbook.get_sheet_by_name(sheet_choice)
        self.encoding = "excel"
        first_row = sheet.start[0] if sheet.start else 0  # calamine starts at the first used row
        self._raw = ((first_row + i + 1, cells) for i, cells in enumerate(sheet.iter_rows()))

    def rows(self) -> Iterator[tuple[int, list]]:
        footer = self.options.skip_footer_rows
        held: list[tuple[int, list]] = []  # the last rows, until we know they are not the footer
        for number, cells in self._raw:
            self.last_row = number
            if not any(cell_text(c) for c in cells):
                continue
            if footer:
                held.append((number, cells))
                if len(held) > footer:
                    yield held.pop(0)
            else:
                yield number, cells


def sheet_names(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    with CalamineWorkbook.from_path(str(path)) as workbook:
        return list(workbook.sheet_names)


# --- checking files against the profile ---------------------------------------------------------------


def _matches(pattern: str, file_name: str) -> bool:
    return fnmatch.fnmatchcase(file_name.lower(), pattern.lower())


def _files_by_entity(profile: Profile, files: list[Path]) -> tuple[dict[str, list[Path]], list[str]]:
    problems = []
    by_entity: dict[str, list[Path]] = {name: [] for name in profile.entities}
    for path in files:
        if not path.is_file():
            problems.append(f"{path}: no such file")
            continue
        readers = [name for name, spec in profile.entities.items() if _matches(spec.file, path.name)]
        if not readers:
            patterns = ", ".join(f"{n}: {s.file!r}" for n, s in profile.entities.items())
            problems.append(
                f"{path.name}: matches no entity's file pattern in profile {profile.name} ({patterns}); "
                "rename the file or change entities.<entity>.file"
            )
        for name in readers:
            by_entity[name].append(path)
    for name, paths in by_entity.items():
        if not paths and files:
            problems.append(
                f"no file for {name} (profile {profile.name}: entities.{name}.file is "
                f"{profile.entities[name].file!r}); give its file, or list {name} under `absent`"
            )
        paths.sort(key=lambda p: p.name)
    if not files:
        problems.append("no files given")
    return by_entity, problems


def _header_problems(
    profile: Profile, table: SourceTable, converters: list[EntityConverter]
) -> tuple[list[str], set[str]]:
    """Headers the profile reads that the file lacks (errors), and the headers it reads or ignores (for
    notes)."""
    file_name = table.path.name
    present = [h for h in table.header if h]
    wanted: dict[str, list[str]] = {}  # header -> YAML paths that read it
    accounted: set[str] = set()  # headers read without being required: ignored, unpivoted by a pattern
    problems = []
    for converter in converters:
        name, spec = converter.entity.name, converter.spec
        made = set(spec.pseudo_headers)
        for column in converter.columns.values():
            for header in column.sources:
                if header not in made:
                    wanted.setdefault(header, []).append(profile.source_yaml_path(name, column.name))
        for key in ("where", "where_not"):
            for header in getattr(spec, key):
                wanted.setdefault(header, []).append(f"entities.{name}.{key}")
        accounted.update(spec.ignore)
        if spec.unpivot is not None:
            if isinstance(spec.unpivot.columns, dict):
                for header in spec.unpivot.columns:
                    wanted.setdefault(header, []).append(f"entities.{name}.unpivot.columns")
            else:
                matched = [table.header[i] for i, _ in spec.unpivot.labels(table.header)]
                accounted.update(matched)
                if not matched:
                    problems.append(
                        f"{file_name}: no column matches '{spec.unpivot.columns}' "
                        f"(profile {profile.name}: entities.{name}.unpivot.columns)"
                    )
    missing = [h for h in wanted if h not in present]
    for header in missing:
        where = f"(profile {profile.name}: {', '.join(wanted[header])})"
        close = [h for h in present if h.casefold() == header.casefold()] or difflib.get_close_matches(
            header, present, n=1, cutoff=0.6
        )
        if close:
            problems.append(
                f'{file_name}: column "{header}" not found {where}; '
                f'the file has "{close[0]}" — a renamed header?'
            )
        else:
            shown = ", ".join(f'"{h}"' for h in present[:MAX_HEADERS_LISTED])
            more = (
                f" and {len(present) - MAX_HEADERS_LISTED} more" if len(present) > MAX_HEADERS_LISTED else ""
            )
            problems.append(
                f'{file_name}: column "{header}" not found {where}; the file\'s columns are {shown}{more}'
            )
    if missing and len(missing) * 2 >= len(wanted):
        hint = _header_row_hint(table, set(wanted), converters)
        if hint:
            problems.append(hint)
    return problems, set(wanted) | accounted


def _header_row_hint(table: SourceTable, wanted: set[str], converters: list[EntityConverter]) -> str | None:
    """Most headers missing: is the header on another row (a title above it)?"""
    rows = list(table.leading)
    for _, numbered in zip(range(HEADER_SEARCH_ROWS), table._raw, strict=False):
        rows.append(numbered)
    best, best_row = 0, 0
    for number, cells in rows:
        found = len(wanted & {cell_text(c) for c in cells})
        if found > best:
            best, best_row = found, number
    if best_row and best_row != table.options.header_row and best * 2 > len(wanted):
        entities = ", ".join(f"entities.{c.entity.name}.header_row" for c in converters)
        return (
            f"{table.path.name}: the headers are on row {best_row}, not {table.options.header_row}: "
            f"set {entities}: {best_row}"
        )
    return None


# --- the delivery --------------------------------------------------------------------------------------


def _day(text: str) -> str | None:
    """A date written year first (2026-11-22, 2026/11/22, 2026年11月22日, with or without a time) as ISO."""
    for fmt in FALLBACK_DATE_FORMATS + FALLBACK_TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def resolve_extract_date(profile: Profile, files: list[Path], given: date | None, today: date) -> str:
    if given is not None:
        return given.isoformat()
    setting = profile.spec.extract_date
    if setting == "today":
        return today.isoformat()
    if isinstance(setting, str):
        return setting
    if "from_cell" in setting:
        return _date_from_cell(profile, files, setting)
    pattern = re.compile(setting["from_file_name"])
    found = {}
    for path in files:
        match = pattern.search(path.name)
        if match:
            found[path.name] = _day(match.group(1))
            if found[path.name] is None:
                raise DeliverError(
                    [f"{path.name}: {match.group(1)!r} is not a date (profile {profile.name}: extract_date)"]
                )
    if not found:
        raise DeliverError(
            [
                f"no file name has the extract date (profile {profile.name}: extract_date.from_file_name "
                f"{pattern.pattern!r}); name the files so, or pass --date"
            ]
        )
    if len(set(found.values())) > 1:
        listed = ", ".join(f"{name}: {day}" for name, day in found.items())
        raise DeliverError([f"the files' names give different extract dates ({listed}); pass --date"])
    return next(iter(found.values()))


def _date_from_cell(profile: Profile, files: list[Path], setting: dict) -> str:
    """extract_date: {from_cell: {file, cell, sheet}, pattern}: the date in a cell (a report's title row)
    of the files matching `file`; they must agree."""
    where = setting["from_cell"]
    cell = where["cell"]
    row, column = cell_position(cell)
    pattern = re.compile(setting["pattern"]) if "pattern" in setting else None
    at = f"profile {profile.name}: extract_date.from_cell"
    matching = [path for path in files if _matches(where["file"], path.name)]
    if not matching:
        raise DeliverError(
            [
                f"no file matches {where['file']!r} ({at}.file) to read the extract date from; "
                "give it, or pass --date"
            ]
        )
    found = {}
    for path in matching:
        spec = next((s for s in profile.entities.values() if _matches(s.file, path.name)), None)
        options = ReadOptions.of(spec or EntitySpec(file=path.name), path)
        sheet = where.get("sheet", options.sheet)
        options = dataclasses.replace(options, header_row=row, skip_footer_rows=0, sheet=sheet)
        try:
            with SourceTable(path, options) as table:
                text = table.header[column] if column < len(table.header) else ""
        except Exception as error:  # noqa: BLE001 - a workbook or sheet calamine cannot open: say which
            raise DeliverError(
                [f"{path.name}: cell {cell} not readable for the extract date ({at}): {error}"]
            ) from None
        match = pattern.search(text) if pattern else None
        day = _day(match.group(1) if match else text) if match or not pattern else None
        if day is None:
            wanted = f"no date matching {pattern.pattern!r}" if pattern else "not a date"
            raise DeliverError(
                [f"{path.name}: cell {cell} is {text!r}: {wanted} ({at}); fix the profile, or pass --date"]
            )
        found[path.name] = day
    if len(set(found.values())) > 1:
        listed = ", ".join(f"{name}: {day}" for name, day in found.items())
        raise DeliverError([f"the files' cells {cell} give different extract dates ({listed}); pass --date"])
    return next(iter(found.values()))


def deliver(
    profile: Profile,
    files: list[Path],
    landing_dir: Path,
    *,
    extract_date: date | None = None,
    initial: bool = False,
    today: date | None = None,
    contract: Contract | None = None,
) -> Delivery:
    """Read FILES with the profile and write a complete delivery of its system into landing_dir.
    Raises DeliverError (nothing written) on missing files, schema drift or an existing delivery."""
    from pipelines.lib.ingest import today_in_china

    contract = contract or load_contract()
    files = [Path(f) for f in files]
    system = profile.system
    by_entity, problems = _files_by_entity(profile, files)
    if problems:
        raise DeliverError(problems)
    day = resolve_extract_date(profile, files, extract_date, today or today_in_china())
    manifest_rel = contract.manifest_path(system, day)
    if (landing_dir / manifest_rel).exists():
        raise DeliverError(
            [
                f"{landing_dir / manifest_rel}: the {system} delivery of {day} is already there; "
                "remove it first (`salesreview remove-day` if it was loaded), or pass another --date"
            ]
        )
    converters = {
        e.name: EntityConverter(profile, contract, e)
        for e in contract.entities_of(system)
        if e.name in profile.entities
    }
    # An entity reading a file an earlier entity of the profile reads too is derived from it: one row per key.
    readers_of: dict[Path, list[str]] = {}
    for name in profile.entities:
        for path in by_entity[name]:
            readers_of.setdefault(path, []).append(name)
    derived = {name for readers in readers_of.values() for name in readers[1:]}
    passes: dict[tuple[Path, ReadOptions], list[str]] = {}
    for path, readers in readers_of.items():
        first = profile.entities[readers[0]]
        for name in readers:
            options = ReadOptions.of(profile.entities[name], path, first if name != readers[0] else None)
            passes.setdefault((path, options), []).append(name)

    notes = _check_headers(profile, passes, converters)
    landing_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".deliver-{system}-{day}-", dir=landing_dir) as tmp:
        staging = Path(tmp)
        written = _write_files(
            profile, contract, system, day, staging, passes, converters, derived, by_entity
        )
        absent = profile.absent_entities(contract)
        source = {
            "profile": profile.name,
            "initial": initial,
            "currency": profile.spec.currency,
            "absent_entities": absent,
            "defaulted_columns": {n: w.defaulted_columns for n, w in written.items() if w.defaulted_columns},
            "unmapped_columns": {n: w.unmapped_columns for n, w in written.items() if w.unmapped_columns},
            "source_files": {n: w.source_files for n, w in written.items() if w.source_files},
        }
        write_manifest(staging, contract, system, day, source=source)
        notes += _filter_notes(profile, written)
        for entity_written in written.values():  # the data first ...
            target = landing_dir / entity_written.path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staging / entity_written.path, target)
        (landing_dir / manifest_rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / manifest_rel, landing_dir / manifest_rel)  # ... the manifest last
    not_converted = {
        (name, column.name): column.not_converted
        for name, converter in converters.items()
        for column in converter.columns.values()
        if column.not_converted.count
    }
    return Delivery(
        system, day, profile.name, landing_dir / manifest_rel, written, absent, not_converted, notes
    )


def _filter_notes(profile: Profile, written: dict[str, EntityWritten]) -> list[str]:
    notes = []
    for name, entity_written in written.items():
        spec = profile.entities.get(name)
        if spec is not None and (spec.where or spec.where_not):
            keys = "/".join(f"entities.{name}.{key}" for key in ("where", "where_not") if getattr(spec, key))
            notes.append(
                f"{', '.join(entity_written.source_files)}: {entity_written.left_out:,} row(s) left out of "
                f"{name} by {keys} (profile {profile.name})"
            )
    return notes


def _check_headers(
    profile: Profile,
    passes: dict[tuple[Path, ReadOptions], list[str]],
    converters: dict[str, EntityConverter],
) -> list[str]:
    """Open every file up to its header: drift is an error (raised, all at once), new columns a note."""
    problems, notes = [], []
    read: dict[Path, set[str]] = {}
    headers: dict[Path, list[str]] = {}
    for (path, options), names in passes.items():
        try:
            with SourceTable(path, options) as table:
                if not table.header:
                    problems.append(
                        f"{path.name}: no header on row {options.header_row} (the file has fewer rows)"
                    )
                    continue
                found, wanted = _header_problems(profile, table, [converters[n] for n in names])
                problems += found
                read.setdefault(path, set()).update(wanted)
                headers[path] = table.header
        except UnicodeDecodeError as error:
            problems.append(_decode_problem(profile, path, names, options, error))
        except Exception as error:  # noqa: BLE001 - calamine's errors: say which file and why
            if options.format != "excel":
                raise
            problems.append(_excel_problem(profile, path, names, options, error))
    if problems:
        raise DeliverError(problems)
    for path, header in headers.items():
        unused = [h for h in header if h and h not in read[path]]
        if unused:
            notes.append(
                f"{path.name}: column(s) not read by profile {profile.name}: "
                + ", ".join(f'"{h}"' for h in unused)
                + " (new in the export? map them under entities.<entity>.columns to use them, or list them"
                " under entities.<entity>.ignore)"
            )
    return notes


def _decode_problem(
    profile: Profile, path: Path, names: list[str], options: ReadOptions, error: UnicodeDecodeError
) -> str:
    keys = ", ".join(f"entities.{n}.encoding" for n in names)
    return (
        f"{path.name}: not readable as {error.encoding} ({error.reason}); "
        f"set {keys} in profile {profile.name} (auto, utf-8, gb18030, utf-16)"
    )


def _excel_problem(
    profile: Profile, path: Path, names: list[str], options: ReadOptions, error: Exception
) -> str:
    if options.sheet is not None:
        try:
            available = ", ".join(repr(s) for s in sheet_names(path))
        except Exception:  # noqa: BLE001 - not a workbook at all
            available = ""
        if available:
            keys = ", ".join(f"entities.{n}.sheet" for n in names)
            return (
                f"{path.name}: no sheet {options.sheet!r} (profile {profile.name}: {keys}); "
                f"the sheets are {available}"
            )
    return f"{path.name}: not a readable Excel workbook ({type(error).__name__}: {error})"


def _write_files(
    profile: Profile,
    contract: Contract,
    system: str,
    day: str,
    staging: Path,
    passes: dict[tuple[Path, ReadOptions], list[str]],
    converters: dict[str, EntityConverter],
    derived: set[str],
    by_entity: dict[str, list[Path]],
) -> dict[str, EntityWritten]:
    """Every entity's contract CSV in `staging` (same layout as the landing folder)."""
    written: dict[str, EntityWritten] = {}
    handles, writers = {}, {}
    kept: dict[str, dict[tuple, list[str]]] = {name: {} for name in derived}  # derived: key -> last row
    try:
        for entity in contract.entities_of(system):
            rel = contract.file_path(system, entity.name, day)
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            handles[entity.name] = open(staging / rel, "w", encoding="utf-8", newline="")  # noqa: SIM115
            writers[entity.name] = csv.writer(handles[entity.name], lineterminator="\n")
            writers[entity.name].writerow(entity.column_names)
            converter = converters.get(entity.name)
            written[entity.name] = EntityWritten(
                entity.name,
                rel,
                source_files=[p.name for p in by_entity.get(entity.name, [])],
                defaulted_columns=converter.defaulted_columns if converter else [],
                unmapped_columns=converter.unmapped_columns if converter else [],
                one_row_per_key=entity.name in derived,
            )
        for (path, options), names in passes.items():
            with SourceTable(path, options) as table:
                for name in names:
                    converters[name].bind(table.header)
                try:
                    _convert_rows(table, [converters[n] for n in names], writers, kept, written)
                except UnicodeDecodeError as error:  # an explicit encoding the file does not keep to
                    problem = _decode_problem(profile, path, names, options, error)
                    raise DeliverError([f"{problem}; the last row read was {table.last_row}"]) from None
        for name, rows in kept.items():
            writers[name].writerows(rows.values())
            written[name].rows = len(rows)
    finally:
        for handle in handles.values():
            handle.close()
    return written


def _convert_rows(
    table: SourceTable,
    converters: list[EntityConverter],
    writers: dict,
    kept: dict[str, dict[tuple, list[str]]],
    written: dict[str, EntityWritten],
) -> None:
    # Hot loop: plain locals, one row at a time. A plain entity converts a row into one row; one with a
    # filter or an unpivot into none, one or several (convert_all).
    plain = [
        (c.convert, writers[c.entity.name].writerow, written[c.entity.name])
        for c in converters
        if c.entity.name not in kept and c.plain
    ]
    shaped = [
        (c.convert_all, writers[c.entity.name].writerows, written[c.entity.name])
        for c in converters
        if c.entity.name not in kept and not c.plain
    ]
    reduced = []
    for c in converters:
        if c.entity.name in kept:
            positions = [c.header.index(k) for k in c.key_columns]
            convert_all = (lambda cells, convert=c.convert: (convert(cells),)) if c.plain else c.convert_all
            reduced.append((convert_all, kept[c.entity.name], positions))
    counts = [0] * len(plain)
    shaped_counts = [0] * len(shaped)
    for _, cells in table.rows():
        for i, (convert, writerow, _) in enumerate(plain):
            writerow(convert(cells))
            counts[i] += 1
        for i, (convert_all, writerows, _) in enumerate(shaped):
            rows = convert_all(cells)
            writerows(rows)
            shaped_counts[i] += len(rows)
        for convert_all, by_key, positions in reduced:
            for row in convert_all(cells):
                key = tuple(row[p] for p in positions)
                if all(key):  # a line without the derived entity's key gives no record of it
                    by_key.pop(key, None)  # re-insert: the last row wins, and its position too
                    by_key[key] = row
    for (_, _, entity_written), count in zip(plain + shaped, counts + shaped_counts, strict=True):
        entity_written.rows += count
    for c in converters:
        written[c.entity.name].left_out = c.left_out
