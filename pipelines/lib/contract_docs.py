"""Documents generated from the extract contract: the dbt sources and the readable contract page.

The contract (quality/contract/extracts.yml) is declared once; these renderers turn it into
- dbt_project/models/staging/<system>/_<system>__sources.yml (dbt sources over the raw tables), and
- quality/contract/README.md (the page analysts and the export owners read).
They are pure functions of the contract, so a test can check the committed files are up to date.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pipelines.lib.warehouse import LINEAGE_COLUMNS
from quality.contract import Column, Contract, Entity, load_contract

GENERATED_NOTICE = "Generated from quality/contract/extracts.yml by `salesreview contract-docs`. Do not edit."

# Why each lineage column is there, for both the dbt sources and the contract page.
LINEAGE_DESCRIPTIONS = {
    "_source_file": "Landing file the row came from, relative to the landing folder.",
    "_file_sha256": "SHA-256 of that file, as listed in the delivery manifest.",
    "_extract_date": "Extract date of the delivery (the file name's date).",
    "_row_number": "Data row number in the file (1 = first row after the header).",
    "_loaded_at": "When ingestion loaded the row into the warehouse.",
}

LOAD_MODE_TEXT = {
    "snapshot": (
        "Each file is the full list as of its extract date; the latest extract replaces earlier ones."
    ),
    "delta": (
        "Each file holds the rows created or changed since the previous extract, so one key can "
        "appear in many files; the latest extract wins (then the version column, then the row number)."
    ),
}


def sources_path(repo_root: Path, system: str) -> Path:
    return repo_root / "dbt_project" / "models" / "staging" / system / f"_{system}__sources.yml"


def markdown_path(repo_root: Path) -> Path:
    return repo_root / "quality" / "contract" / "README.md"


def _column_meta(column: Column) -> dict:
    meta: dict = {"contract_type": column.type, "required": column.required}
    for key in ("pattern", "references", "min", "max", "allowed_values_from"):
        value = getattr(column, key)
        if value is not None:
            meta[key] = value
    if column.allowed_values is not None:
        meta["allowed_values"] = list(column.allowed_values)
    return meta


def _source_table(entity: Entity) -> dict:
    table_meta: dict = {
        "label_zh": entity.label_zh,
        "load_mode": entity.load_mode,
        "primary_key": list(entity.primary_key),
    }
    if entity.version_column:
        table_meta["version_column"] = entity.version_column
    if entity.known_from:  # read by the as-of build for a first load of history (current_extract_rows.sql)
        table_meta["known_from_column"] = entity.known_from
    columns = [
        {
            "name": c.name,
            "description": c.description,
            # Raw tables keep every contract column as text; staging casts to the contract type.
            "data_type": "varchar",
            "config": {"meta": _column_meta(c)},
        }
        for c in entity.columns
    ]
    columns += [
        {"name": name, "description": LINEAGE_DESCRIPTIONS[name], "data_type": data_type}
        for name, data_type in LINEAGE_COLUMNS.items()
    ]
    return {
        "name": entity.name,
        "description": f"{entity.label_zh}: {entity.description}",
        "config": {"meta": table_meta},
        "columns": columns,
    }


def render_dbt_sources(contract: Contract, system: str) -> str:
    """The dbt sources file for one system (source `crm`/`erp` over schema `raw_crm`/`raw_erp`)."""
    if system not in contract.systems:
        raise KeyError(f"the contract has no system {system!r} (known: {', '.join(contract.systems)})")
    source = {
        "name": system,
        "description": contract.systems[system]["description"].strip()
        + " Raw rows exactly as delivered (all text), with lineage columns added by ingestion.",
        "schema": f"raw_{system}",
        "tables": [_source_table(e) for e in contract.entities_of(system)],
    }
    body = yaml.safe_dump({"version": 2, "sources": [source]}, allow_unicode=True, sort_keys=False, width=100)
    return f"# {GENERATED_NOTICE}\n{body}"


def _rule_text(column: Column) -> str:
    """Allowed values / pattern / range of a column, as one table cell."""
    parts = []
    values = column.resolved_allowed_values()
    if values is not None:
        parts.append(", ".join(f"`{v}`" for v in values))
        if column.allowed_values_from:
            parts.append(f"(from `{column.allowed_values_from}`)")
    if column.pattern:
        parts.append(f"pattern `{column.pattern}`")
    if column.min is not None or column.max is not None:
        low = "" if column.min is None else f"{column.min:g} ≤ "
        high = "" if column.max is None else f" ≤ {column.max:g}"
        parts.append(f"{low}value{high}")
    return " ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _entity_section(entity: Entity) -> list[str]:
    lines = [
        f"### {entity.system}.{entity.name} ({entity.label_zh})",
        "",
        entity.description,
        "",
        f"- File: `{entity.system}/{entity.name}/<extract_date>.csv`; raw table `{entity.raw_table}`",
        f"- Load mode: **{entity.load_mode}**; primary key: `{', '.join(entity.primary_key)}`"
        + (f"; version column: `{entity.version_column}`" if entity.version_column else ""),
        f"- Rows that break the contract are set aside in `raw_meta.rejected_rows` and the rest loads, up to "
        f"{entity.max_rejected_share * 100:g}% of a file's rows (`max_rejected_share`); more refuse the file"
        if entity.max_rejected_share
        else "- A row that breaks the contract refuses the file (`max_rejected_share: 0`)",
        "",
        "| Column | Type | Required | Key | Allowed values / pattern / range | References | Description |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in entity.columns:
        key = "PK" if c.name in entity.primary_key else ""
        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{c.name}`",
                    c.type,
                    "yes" if c.required else "no",
                    key,
                    _cell(_rule_text(c)),
                    f"`{c.references}`" if c.references else "",
                    _cell(c.description),
                ]
            )
            + " |"
        )
    lines.append("")
    return lines


def _manifest_section(contract: Contract) -> list[str]:
    """The manifest format, for systems that deliver contract-shaped files themselves."""
    system = next(iter(contract.systems))
    day = "2026-11-22"
    files = ",\n".join(
        f'  "{e.name}": {{"path": "{contract.file_path(system, e.name, day)}", "rows": 120, '
        '"sha256": "9f2c…"}'
        for e in contract.entities_of(system)[:2]
    )
    pattern = contract.landing["manifest_pattern"]
    return [
        "## Manifest",
        "",
        f"One JSON file (UTF-8) per delivery, `<landing>/{pattern}`, written after the data files:",
        "",
        "```json",
        "{",
        f' "system": "{system}",',
        f' "extract_date": "{day}",',
        ' "files": {',
        files + ",",
        "  …",
        " }",
        "}",
        "```",
        "",
        "- `system` and `extract_date` (`YYYY-MM-DD`, the extract's date in Asia/Shanghai) are those of the",
        "  manifest's own path.",
        "- `files` has one entry for **every** entity of the system (a header-only file when nothing",
        "  changed or the source does not have the entity): `path` relative to the landing folder,",
        "  `rows` the number of data rows (CSV records after the header: a quoted line break does not",
        "  start a row), `sha256` the file's SHA-256 in lowercase hex.",
        "- `source` (optional) says how `salesreview deliver` made the files from a system's own export",
        "  (profiles/README.md): `profile`, `initial` (true for a first load of history: freshness demands",
        "  daily deliveries from its date on, and an as-of build before it counts each of its rows as known",
        "  from the entity's known-from column), `currency`, `absent_entities`, `defaulted_columns`,",
        "  `unmapped_columns` and `source_files`. A system that writes contract-shaped files itself leaves",
        "  it out.",
        "",
        "A day without changes is still delivered, with its manifest: header-only files for delta entities",
        "and the full list again for snapshot entities.",
        "",
    ]


def render_markdown(contract: Contract) -> str:
    """The contract page (quality/contract/README.md): layout, completeness, load modes, entities."""
    landing = contract.landing
    lines = [
        "# The extract contract",
        "",
        f"<!-- {GENERATED_NOTICE} -->",
        "",
        "Every CRM and ERP extract the warehouse accepts. Ingestion, the contract checks, the dbt",
        "sources and this page all come from `quality/contract/extracts.yml`: change that file, then",
        "run `salesreview contract-docs`.",
        "",
        "## Landing layout",
        "",
        f"- Data files: `<landing>/{landing['file_pattern']}`, one file per entity per extract date "
        "(header only when there are no rows).",
        f"- Delivery manifest: `<landing>/{landing['manifest_pattern']}`.",
        f"- Encoding `{landing['encoding']}`, delimiter `{landing['delimiter']}`, header row, dates "
        f"`{landing['date_format']}`, timestamps `{landing['timestamp_format']}` (local time Asia/Shanghai).",
        "- Booleans are `true` / `false`; money is yuan with 2 decimals; an empty field means no value.",
        "",
        "Systems:",
        "",
    ]
    for name, system in contract.systems.items():
        lines.append(f"- `{name}`: {system['description'].strip()}")
    lines += [
        "",
        "## When is a delivery complete?",
        "",
        "A delivery is one system's files for one extract date. The exporter writes the CSV files first",
        "and the manifest last. The manifest lists, for every entity of the system, the file's path, its",
        "number of data rows and its SHA-256. A delivery is complete when the manifest exists and every",
        "file it lists is present with that row count and SHA-256; ingestion never reads a delivery",
        "whose manifest is missing or does not match (a partial or changed upload).",
        "",
    ]
    lines += _manifest_section(contract)
    lines += [
        "## Load modes",
        "",
    ]
    for mode, text in LOAD_MODE_TEXT.items():
        lines.append(f"- **{mode}**: {text}")
    lines += [
        "",
        "The primary key is unique within one file. In the warehouse every raw table "
        "(`raw_<system>.<entity>`) keeps each contract column as text and adds lineage columns:",
        "",
        "| Column | Type | Description |",
        "|---|---|---|",
    ]
    for name, data_type in LINEAGE_COLUMNS.items():
        lines.append(f"| `{name}` | {data_type} | {LINEAGE_DESCRIPTIONS[name]} |")
    lines += ["", "## Entities", ""]
    for entity in contract.entities:
        lines.append(
            f"- [{entity.system}.{entity.name}](#{entity.system}{entity.name}-{entity.label_zh}) "
            f"({entity.label_zh}, {entity.load_mode})"
        )
    lines.append("")
    for entity in contract.entities:
        lines += _entity_section(entity)
    return "\n".join(lines).rstrip("\n") + "\n"


def rendered_files(repo_root: Path, contract: Contract) -> dict[Path, str]:
    """Every generated file and its content."""
    files = {
        sources_path(repo_root, system): render_dbt_sources(contract, system) for system in contract.systems
    }
    files[markdown_path(repo_root)] = render_markdown(contract)
    return files


def write_all(repo_root: Path, contract: Contract | None = None) -> list[Path]:
    """Write the dbt sources of every system and the contract page. Returns the paths written."""
    contract = contract or load_contract()
    written = []
    for path, text in rendered_files(repo_root, contract).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
