"""The extract contract (extracts.yml) as typed Python objects.

Everything that needs to know what an extract looks like - the generator, ingestion, the
contract checks, the dbt sources and the documentation page - reads it through this module.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CONTRACT_PATH = Path(__file__).with_name("extracts.yml")
REPO_ROOT = Path(__file__).resolve().parents[2]

COLUMN_KEYS = {
    "name",
    "type",
    "required",
    "description",
    "pattern",
    "allowed_values",
    "allowed_values_from",
    "references",
    "min",
    "max",
}
# Share of a file's rows that may break the contract and be set aside (raw_meta.rejected_rows) while
# the rest loads; above it the file is refused. extracts.yml's `defaults` and each entity may set it.
DEFAULT_MAX_REJECTED_SHARE = 0.05
COLUMN_TYPES = ("string", "integer", "decimal", "date", "timestamp", "boolean")
NUMERIC_TYPES = ("integer", "decimal")
# DuckDB type each contract type is cast to in staging.
DUCKDB_TYPES = {
    "string": "varchar",
    "integer": "integer",
    "decimal": "decimal(18, 2)",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool
    description: str
    pattern: str | None = None
    allowed_values: tuple[str, ...] | None = None
    allowed_values_from: str | None = None
    references: str | None = None
    min: float | None = None
    max: float | None = None

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]

    def resolved_allowed_values(self) -> tuple[str, ...] | None:
        """Allowed values, reading them from a seed file when declared with allowed_values_from."""
        if self.allowed_values is not None:
            return self.allowed_values
        if self.allowed_values_from is None:
            return None
        return _values_from_seed(self.allowed_values_from)


@dataclass(frozen=True)
class Entity:
    name: str
    system: str
    label_zh: str
    description: str
    load_mode: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    version_column: str | None = None
    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE
    known_from_column: str | None = None  # when a record became known (default: the version column)

    @property
    def known_from(self) -> str | None:
        """The column saying when a row became known: known_from_column, else the version column."""
        return self.known_from_column or self.version_column

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def raw_schema(self) -> str:
        return f"raw_{self.system}"

    @property
    def raw_table(self) -> str:
        return f"{self.raw_schema}.{self.name}"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.system}.{self.name} has no column {name!r}")


@dataclass(frozen=True)
class Contract:
    version: int
    landing: dict
    systems: dict[str, dict]
    entities: tuple[Entity, ...] = field(default_factory=tuple)

    def entity(self, name: str) -> Entity:
        for e in self.entities:
            if e.name == name:
                return e
        raise KeyError(f"the contract has no entity {name!r}")

    def entities_of(self, system: str) -> list[Entity]:
        return [e for e in self.entities if e.system == system]

    def file_path(self, system: str, entity: str, extract_date: str) -> str:
        return self.landing["file_pattern"].format(system=system, entity=entity, extract_date=extract_date)

    def manifest_path(self, system: str, extract_date: str) -> str:
        return self.landing["manifest_pattern"].format(system=system, extract_date=extract_date)


def _values_from_seed(spec: str) -> tuple[str, ...]:
    path, column = spec.split(":")
    with open(REPO_ROOT / path, encoding="utf-8", newline="") as f:
        return tuple(row[column] for row in csv.DictReader(f))


def _share(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ValueError(f"{where}: max_rejected_share must be a number from 0 to below 1, not {value!r}")
    return float(value)


def _parse(raw: dict) -> Contract:
    defaults = raw.get("defaults") or {}
    default_share = _share(defaults.get("max_rejected_share", DEFAULT_MAX_REJECTED_SHARE), "defaults")
    entities = []
    for e in raw["entities"]:
        columns = []
        for c in e["columns"]:
            unknown = set(c) - COLUMN_KEYS
            if unknown:
                # e.g. an unquoted comma in a flow-style description splits it into a stray key
                raise ValueError(f"{e['name']}.{c['name']}: unknown keys {sorted(unknown)}")
            if c["type"] not in COLUMN_TYPES:
                raise ValueError(f"{e['name']}.{c['name']}: unknown type {c['type']!r}")
            if (c.get("min") is not None or c.get("max") is not None) and c["type"] not in NUMERIC_TYPES:
                # min/max compare the value read as a number: only numbers have one
                raise ValueError(f"{e['name']}.{c['name']}: min/max only for {' or '.join(NUMERIC_TYPES)}")
            allowed = c.get("allowed_values")
            columns.append(
                Column(
                    name=c["name"],
                    type=c["type"],
                    required=bool(c["required"]),
                    description=c["description"],
                    pattern=c.get("pattern"),
                    allowed_values=tuple(str(v) for v in allowed) if allowed else None,
                    allowed_values_from=c.get("allowed_values_from"),
                    references=c.get("references"),
                    min=c.get("min"),
                    max=c.get("max"),
                )
            )
        entity = Entity(
            name=e["name"],
            system=e["system"],
            label_zh=e["label_zh"],
            description=e["description"],
            load_mode=e["load_mode"],
            primary_key=tuple(e["primary_key"]),
            version_column=e.get("version_column"),
            columns=tuple(columns),
            max_rejected_share=_share(e.get("max_rejected_share", default_share), e["name"]),
            known_from_column=e.get("known_from_column"),
        )
        for key in (*entity.primary_key, *([entity.version_column] if entity.version_column else [])):
            entity.column(key)  # raises on a key that is not a column
        if entity.known_from_column:
            entity.column(entity.known_from_column)
        entities.append(entity)
    return Contract(
        version=raw["version"], landing=raw["landing"], systems=raw["systems"], entities=tuple(entities)
    )


@functools.cache
def load_contract(path: Path = CONTRACT_PATH) -> Contract:
    with open(path, encoding="utf-8") as f:
        return _parse(yaml.safe_load(f))
