"""What the user's source systems deliver, as the latest delivery on or before the pack's as-of date says:
entities the source does not have at all, columns it lacks (defaulted by its source profile, see
profiles/README.md) and the currency of its amounts. A section that needs an absent entity says "not in
your source" instead of showing zeros, and amounts carry the declared currency.

Contract-shaped deliveries without a `source` block in their manifest have everything, in CNY.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from quality.contract import load_contract

SOURCES_TABLE = "raw_meta.delivery_sources"
DEFAULT_CURRENCY = "CNY"

# The contract entities each pack section reads; when one is absent from the source the section shows a
# note instead of its figures. Sections not listed use only entities every source has (opportunities).
SECTION_NEEDS: dict[str, tuple[str, ...]] = {
    "targets": ("targets",),
    "results-funnel": ("opportunity_stage_history",),
    "results-collections": ("collection_plan",),
    "results-activities": ("activities",),
    "results-satisfaction": ("feedback",),
    "problems-receivables": ("invoices",),
    "quarter-receivables": ("invoices",),
}


@dataclass(frozen=True)
class SystemSource:
    system: str
    extract_date: date
    profile: str | None
    initial: bool
    currency: str | None
    absent_entities: tuple[str, ...]
    defaulted_columns: dict[str, list[str]]


@dataclass(frozen=True)
class SourceCoverage:
    systems: dict[str, SystemSource] = field(default_factory=dict)

    @property
    def absent(self) -> set[str]:
        return {e for s in self.systems.values() for e in s.absent_entities}

    @property
    def currency(self) -> str:
        """The declared currency; CNY when none is declared. Sources that disagree are reported by
        `currency_conflict` (the packs then name every currency instead of converting)."""
        declared = sorted({s.currency for s in self.systems.values() if s.currency})
        return declared[0] if len(declared) == 1 else DEFAULT_CURRENCY

    @property
    def currency_conflict(self) -> list[str]:
        declared = sorted({s.currency for s in self.systems.values() if s.currency})
        return declared if len(declared) > 1 else []

    @property
    def from_profiles(self) -> bool:
        return any(s.profile for s in self.systems.values())

    def missing_for(self, section_id: str) -> list[str]:
        """The entities a section needs that the source does not have (contract order)."""
        return [e for e in SECTION_NEEDS.get(section_id, ()) if e in self.absent]


def load(con: duckdb.DuckDBPyConnection, as_of: date) -> SourceCoverage:
    """The latest delivery of each system on or before `as_of`, else its first load of history (an older
    warehouse has no such table)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() "
        "where schema_name = 'raw_meta' and table_name = 'delivery_sources'"
    ).fetchone()[0]
    if not exists:
        return SourceCoverage()
    cursor = con.execute(
        f"""
        select system, extract_date, profile, initial, currency,
               cast(absent_entities as varchar) as absent_entities,
               cast(defaulted_columns as varchar) as defaulted_columns
        from {SOURCES_TABLE}
        where extract_date <= ? or initial
        -- the latest delivery by the as-of date; before a first load of history, that delivery (its
        -- rows count from their own dates)
        qualify row_number() over (
            partition by system
            order by
                extract_date <= ? desc,
                case when extract_date <= ? then extract_date end desc,
                extract_date
        ) = 1
        """,
        [as_of, as_of, as_of],
    )
    names = [d[0] for d in cursor.description]
    systems = {}
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        systems[row["system"]] = SystemSource(
            system=row["system"],
            extract_date=row["extract_date"],
            profile=row["profile"],
            initial=bool(row["initial"]),
            currency=(row["currency"] or "").strip().upper() or None,
            absent_entities=tuple(_names(row["absent_entities"])),
            defaulted_columns={k: list(v) for k, v in (_json(row["defaulted_columns"]) or {}).items()},
        )
    return SourceCoverage(systems)


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _names(text: str | None) -> Iterable[str]:
    """A list stored as JSON text or as a DuckDB list ('[a, b]')."""
    parsed = _json(text)
    if isinstance(parsed, list):
        return [str(v) for v in parsed]
    if text and text.startswith("[") and text.endswith("]"):
        return [v.strip().strip("'\"") for v in text[1:-1].split(",") if v.strip()]
    return []


def entity_label(entity: str, lang: str) -> str:
    """An entity as a reader knows it: 跟进记录 / activities."""
    found = next((e for e in load_contract().entities if e.name == entity), None)
    if found is None or lang != "zh-CN":
        return entity.replace("_", " ")
    return found.label_zh


# The pack being rendered: its coverage and language (set by reports.pack.open_context), so that
# components.section can put the note in place of any section that needs an absent entity.
_current: ContextVar[tuple[SourceCoverage, str]] = ContextVar(
    "source_coverage", default=(SourceCoverage(), "en")
)


def use(coverage: SourceCoverage, lang: str) -> None:
    _current.set((coverage, lang))


def current() -> tuple[SourceCoverage, str]:
    return _current.get()


def not_in_source_text(entities: Iterable[str], lang: str) -> str:
    names = [entity_label(e, lang) for e in entities]
    if lang == "zh-CN":
        return f"不在你的数据源中：源系统的导出没有{'、'.join(names)}，所以这里没有数字，而不是零。"
    return (
        f"Not in your source: the export of the source system has no {', '.join(names)}, "
        "so there are no figures here (not zeros)."
    )
