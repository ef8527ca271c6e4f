"""The shipped source profiles (profiles/*.yml) read the exports they are written for.

A small company is generated as contract-shaped deliveries, written as each real export
(pipelines/sample/generator/shapes.py), delivered back with the shipped profile (`salesreview deliver`),
and the
delivered files must hold the company's current state for every column the export carries; the columns it
cannot carry are empty or defaulted and said so in the manifest. Then the warehouse's raw tables, loaded
from the original and from the delivered landing, give the same won amounts and open receivables.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.lib.deliver import deliver
from pipelines.lib.ingest import ingest_system
from pipelines.lib.profiles import load_profile
from pipelines.sample.generator import generate
from pipelines.sample.generator.shapes import current_state, display_names, write_shape
from quality.contract import load_contract

END = date(2026, 11, 22)
CONTRACT = load_contract()
PROFILES = {"salesforce": "salesforce_opportunities", "cn_crm": "cn_crm_gbk", "cn_erp": "cn_erp_receivables"}
SYSTEMS = {"salesforce": "crm", "cn_crm": "crm", "cn_erp": "erp"}
CLOSED_STAGES = ("签约成交", "丢单")

# Per shape: columns the export does not carry -> the value every delivered row has ("" = empty).
NOT_CARRIED = {
    "salesforce": {
        "opportunities": {"lead_id": ""},
        "customers": {"budget": "", "contact_name": "", "contact_mobile": ""},
        "reps": {"hire_date": "2020-01-01", "leave_date": ""},
    },
    "cn_crm": {"opportunities": {"lead_id": ""}},
    "cn_erp": {},
}
ABSENT = {
    "salesforce": {"leads", "opportunity_stage_history", "activities", "targets", "feedback"},
    "cn_crm": {"leads", "opportunity_stage_history", "feedback"},
    "cn_erp": set(),
}


@pytest.fixture(scope="module")
def company(tmp_path_factory) -> tuple[Path, dict[str, list[dict[str, str]]]]:
    landing = tmp_path_factory.mktemp("original")
    generate(landing, scale=0.1, seed=5, end_date=END, days=4)
    extract_date, tables = current_state(landing)
    assert extract_date == END.isoformat()
    return landing, tables


@pytest.fixture(scope="module")
def delivered(company, tmp_path_factory) -> dict[str, Path]:
    """shape -> a landing folder holding the shape's export delivered with its shipped profile."""
    original, _ = company
    landings = {}
    for shape, profile in PROFILES.items():
        export = tmp_path_factory.mktemp(f"{shape}_export")
        files = write_shape(shape, original, export)
        landing = tmp_path_factory.mktemp(f"{shape}_landing")
        delivery = deliver(load_profile(profile), files, landing, extract_date=END, initial=True, today=END)
        # every value converted and every picklist value mapped: the profile fits its export
        assert not delivery.not_converted, (shape, delivery.not_converted)
        landings[shape] = landing
    return landings


# --- what each export carries, in the delivered form --------------------------------------------------


def _minute(text: str) -> str:
    """Salesforce report times have no seconds."""
    return text[:16] + ":00" if text else text


def _rename(rows: list[dict], columns: tuple[str, ...], names: dict[str, str]) -> None:
    for row in rows:
        for column in columns:
            if row[column]:
                row[column] = names.get(row[column], row[column])


def expected(shape: str, tables: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    """The current state as the shape's delivery should give it back: keys the export replaces by names
    renamed, rows the export cannot hold left out, values it rounds rounded."""
    tables = {entity: [dict(row) for row in rows] for entity, rows in tables.items()}
    teams = {r["team_id"]: r["team_name"] for r in tables["reps"]}
    for rep in tables["reps"]:
        rep["team_id"] = rep["team_name"]  # no team ids in any of the exports: the team's name is its key
    if shape == "salesforce":
        with_deals = {o["customer_id"] for o in tables["opportunities"]}
        tables["customers"] = [c for c in tables["customers"] if c["customer_id"] in with_deals]
        for o in tables["opportunities"]:
            if o["stage"] in CLOSED_STAGES:  # one Close Date: the actual date once closed
                o["expected_close_date"] = o["closed_date"]
        for entity, column in [
            ("opportunities", "created_at"),
            ("opportunities", "updated_at"),
            ("customers", "created_at"),
            ("customers", "updated_at"),
            ("reps", "updated_at"),
        ]:
            for row in tables[entity]:
                row[column] = _minute(row[column])
    else:  # Chinese systems refer to people by name
        names = display_names(tables["reps"])
        _rename(tables["reps"], ("rep_id", "rep_name", "manager_id"), names)
        _rename(tables["opportunities"], ("owner_rep_id",), names)
        _rename(tables["customers"], ("owner_rep_id",), names)
        _rename(tables["activities"], ("rep_id",), names)
        _rename(tables["sales_orders"], ("rep_id",), names)
        _rename(tables["collection_plan"], ("rep_id",), names)
        for t in tables["targets"]:
            t["owner_id"] = {"rep": names, "team": teams}.get(t["target_level"], {}).get(
                t["owner_id"], t["owner_id"]
            )
    for entity, defaults in NOT_CARRIED[shape].items():
        for row in tables[entity]:
            row.update(defaults)
    return tables


def normalised(entity_name: str, rows: list[dict[str, str]]) -> set[tuple]:
    """Rows as comparable values: decimals and integers as numbers, the rest as text."""
    entity = CONTRACT.entity(entity_name)

    def value(text: str, column_type: str) -> object:
        if text in ("", None):
            return None
        if column_type == "decimal":
            return Decimal(text).quantize(Decimal("0.01"))
        if column_type == "integer":
            return int(Decimal(text))
        return text

    return {tuple(value(row[c.name], c.type) for c in entity.columns) for row in rows}


def read_delivery(landing: Path, system: str) -> tuple[dict[str, list[dict[str, str]]], dict]:
    manifest = json.loads((landing / CONTRACT.manifest_path(system, END.isoformat())).read_text("utf-8"))
    tables = {}
    for entity in CONTRACT.entities_of(system):
        with open(landing / manifest["files"][entity.name]["path"], encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            assert reader.fieldnames == entity.column_names, entity.name
            tables[entity.name] = list(reader)
    return tables, manifest


# --- the round trip -------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", list(PROFILES))
def test_the_delivery_holds_the_company_the_export_carries(shape, company, delivered):
    _, tables = company
    system = SYSTEMS[shape]
    got, manifest = read_delivery(delivered[shape], system)
    want = expected(shape, tables)
    assert manifest["source"]["profile"] == PROFILES[shape]
    assert manifest["source"]["initial"] is True
    assert set(manifest["source"]["absent_entities"]) == ABSENT[shape]
    for entity in CONTRACT.entities_of(system):
        if entity.name in ABSENT[shape]:
            assert got[entity.name] == [], f"{shape}: {entity.name} is absent: header only"
            continue
        assert want[entity.name], f"{shape}: the test company has no {entity.name}"
        missing = normalised(entity.name, want[entity.name]) - normalised(entity.name, got[entity.name])
        extra = normalised(entity.name, got[entity.name]) - normalised(entity.name, want[entity.name])
        assert not missing and not extra, (
            f"{shape}: {entity.name}: {len(missing)} rows not delivered as they were, "
            f"e.g. {sorted(missing)[:2]}; "
            f"{len(extra)} rows delivered differently, e.g. {sorted(extra)[:2]}"
        )
        assert len(got[entity.name]) == len(want[entity.name])


@pytest.mark.parametrize("shape", list(PROFILES))
def test_columns_the_export_lacks_are_defaulted_and_declared(shape, delivered):
    got, manifest = read_delivery(delivered[shape], SYSTEMS[shape])
    # a value for every row (`default`), or empty: an optional column the profile does not map
    declared = {
        kind: {(e, c) for e, columns in manifest["source"].get(kind, {}).items() for c in columns}
        for kind in ("defaulted_columns", "unmapped_columns")
    }
    for entity, defaults in NOT_CARRIED[shape].items():
        for column, default in defaults.items():
            assert {row[column] for row in got[entity]} == {default}, (entity, column)
            kind = "defaulted_columns" if default else "unmapped_columns"
            assert (entity, column) in declared[kind], f"{shape}: {entity}.{column} not in {kind}"
    not_carried = {(e, c) for e, defaults in NOT_CARRIED[shape].items() for c in defaults}
    carried = (declared["defaulted_columns"] | declared["unmapped_columns"]) - not_carried
    assert not carried, f"{shape}: declared as not in the source but the export carries them: {carried}"


# --- the same figures in the warehouse ------------------------------------------------------------------


def _load(landing: Path, system: str, root: Path) -> duckdb.DuckDBPyConnection:
    root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(root / f"{system}.duckdb"))
    ingest_system(con, CONTRACT, system, landing, root / "archive", today=END)
    return con


def _current(entity: str) -> str:
    """The entity's raw rows in their latest version (the raw tables keep every delivery's)."""
    table = CONTRACT.entity(entity)
    latest = f"row_number() over (partition by {', '.join(table.primary_key)} order by _extract_date desc)"
    return f"(select * from {table.raw_table} qualify {latest} = 1)"


def test_warehouse_figures_are_the_same_from_the_export(company, delivered, tmp_path):
    """Won amount per month (CRM, from the Salesforce report) and open receivables per customer (ERP,
    from the 金蝶-style workbooks), from the raw tables loaded from either landing folder."""
    original, _ = company
    won_per_month = f"""
        select strftime(cast(closed_date as date), '%Y-%m') as month, sum(cast(amount as decimal(18, 2)))
        from {_current("opportunities")} where stage = '签约成交' group by all order by month"""
    open_receivables = f"""
        select i.customer_id, sum(cast(i.invoice_amount as decimal(18, 2))) - coalesce(sum(p.paid), 0)
        from {_current("invoices")} as i
        left join (
            select invoice_id, sum(cast(payment_amount as decimal(18, 2))) as paid
            from {_current("payments")} group by all
        ) as p using (invoice_id)
        group by all having sum(cast(i.invoice_amount as decimal(18, 2))) <> coalesce(sum(p.paid), 0)
        order by all"""
    for system, shape, query in [("crm", "salesforce", won_per_month), ("erp", "cn_erp", open_receivables)]:
        before = _load(original, system, tmp_path / "original").execute(query).fetchall()
        after = _load(delivered[shape], system, tmp_path / shape).execute(query).fetchall()
        assert before, f"the test company has no figures for {query}"
        assert after == before, shape


def test_exported_timestamps_parse_as_the_profile_says(company, delivered):
    """A spot check that the Salesforce delivery's times are the report's, not shifted (12-hour clock)."""
    _, tables = company
    got, _ = read_delivery(delivered["salesforce"], "crm")
    afternoon = [o for o in tables["opportunities"] if datetime.fromisoformat(o["updated_at"]).hour >= 13]
    assert afternoon
    by_id = {o["opportunity_id"]: o for o in got["opportunities"]}
    for o in afternoon[:20]:
        assert by_id[o["opportunity_id"]]["updated_at"] == _minute(o["updated_at"])


def test_deliver_command_dates_the_erp_delivery_from_the_file_names(company, tmp_path, capsys):
    """As an operator runs it: no --date, the 金蝶-style file names carry the extract date."""
    original, _ = company
    files = write_shape("cn_erp", original, tmp_path / "export")
    landing = tmp_path / "landing"
    assert (
        main(["deliver", "--profile", "cn_erp_receivables", "--landing", str(landing), *map(str, files)]) == 0
    )
    assert (landing / CONTRACT.manifest_path("erp", END.isoformat())).is_file()
    assert "2026-11-22" in capsys.readouterr().out
