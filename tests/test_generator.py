"""The sample company generator: determinism, contract conformance, delivery semantics, invariants.

Generated runs are small (scale 0.05, 120 days) and shared per module, so the whole file runs in seconds.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pipelines.lib.landing import file_problem, list_extract_dates, read_manifest
from pipelines.sample.generator import generate
from pipelines.sample.generator.common import monday_of, next_workday, quarter_start
from pipelines.sample.generator.company import org_sizes
from pipelines.sample.generator.deliveries import format_value, snapshot_as_of, split_by_day
from pipelines.sample.generator.targets import quarter_mondays
from quality.contract import load_contract

END = date(2026, 3, 31)
DAYS = 120
START = END - timedelta(days=DAYS - 1)
CONTRACT = load_contract()


# --- helpers: read a generated landing folder back ------------------------------------------


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [dict(zip(header, row, strict=True)) for row in reader]


def days_of_window() -> list[str]:
    return [(START + timedelta(days=i)).isoformat() for i in range(DAYS)]


def deliveries(landing: Path) -> dict[str, dict[str, list[dict[str, str]]]]:
    """extract_date -> entity -> rows, oldest first."""
    out: dict[str, dict[str, list[dict[str, str]]]] = {}
    for day in days_of_window():
        out[day] = {
            e.name: read_csv(landing / CONTRACT.file_path(e.system, e.name, day))[1]
            for e in CONTRACT.entities
        }
    return out


def latest_versions(landing: Path) -> dict[str, dict[tuple, dict[str, str]]]:
    """entity -> key -> the last delivered version (later deliveries win)."""
    out: dict[str, dict[tuple, dict[str, str]]] = defaultdict(dict)
    for by_entity in deliveries(landing).values():
        for e in CONTRACT.entities:
            for row in by_entity[e.name]:
                out[e.name][tuple(row[k] for k in e.primary_key)] = row
    return out


def all_files(landing: Path) -> dict[str, bytes]:
    return {str(p.relative_to(landing)): p.read_bytes() for p in sorted(landing.rglob("*")) if p.is_file()}


def value_problems(entity, row: dict[str, str]) -> list[str]:
    problems = []
    for c in entity.columns:
        v = row[c.name]
        where = f"{entity.name}.{c.name}={v!r}"
        if v == "":
            if c.required:
                problems.append(f"{where}: required")
            continue
        try:
            if c.type == "integer":
                assert re.fullmatch(r"-?\d+", v)
                number = int(v)
            elif c.type == "decimal":
                assert re.fullmatch(r"-?\d+\.\d{2}", v)
                number = Decimal(v)
            elif c.type == "date":
                assert date.fromisoformat(v).isoformat() == v
            elif c.type == "timestamp":
                datetime.strptime(v, "%Y-%m-%d %H:%M:%S")
            elif c.type == "boolean":
                assert v in ("true", "false")
        except (AssertionError, ValueError):
            problems.append(f"{where}: not a {c.type}")
            continue
        if c.pattern and not re.fullmatch(c.pattern, v):
            problems.append(f"{where}: does not match {c.pattern}")
        allowed = c.resolved_allowed_values()
        if allowed and v not in allowed:
            problems.append(f"{where}: not one of {allowed}")
        if c.min is not None and number < c.min or c.max is not None and number > c.max:
            problems.append(f"{where}: outside [{c.min}, {c.max}]")
    return problems


# --- shared generated folders -----------------------------------------------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("small")
    return out, generate(out, scale=0.05, seed=7, end_date=END, days=DAYS)


@pytest.fixture(scope="module")
def small_latest(small) -> dict[str, dict[tuple, dict[str, str]]]:
    return latest_versions(small[0])


# --- pure helpers, values worked out by hand -----------------------------------------------------


def test_org_sizes_scale_with_the_company():
    assert org_sizes(1.0) == (40, 5, 10)
    assert org_sizes(0.05) == (2, 1, 1)
    assert org_sizes(0.1) == (4, 1, 1)


def test_calendar_helpers():
    assert monday_of(date(2026, 1, 1)) == date(2025, 12, 29)  # a Thursday
    assert next_workday(date(2026, 3, 7)) == date(2026, 3, 9)  # Saturday -> Monday
    assert next_workday(date(2026, 3, 6)) == date(2026, 3, 6)
    # the working calendar: 元旦 2026-01-01..03 off, Sunday 01-04 a make-up working day (调休上班)
    assert next_workday(date(2026, 1, 1)) == date(2026, 1, 4)
    assert next_workday(date(2025, 10, 1)) == date(2025, 10, 9)  # 国庆 + 中秋: 10-01..10-08 off
    assert quarter_start(date(2026, 11, 22)) == date(2026, 10, 1)
    mondays = quarter_mondays(date(2026, 1, 1))
    assert (mondays[0], mondays[-1], len(mondays)) == (date(2026, 1, 5), date(2026, 3, 30), 13)


def test_format_value_uses_fixed_formats():
    assert format_value(Decimal("12.5"), "decimal") == "12.50"
    assert format_value(3, "decimal") == "3.00"
    assert format_value(datetime(2026, 1, 2, 3, 4, 5), "timestamp") == "2026-01-02 03:04:05"
    assert format_value(date(2026, 1, 2), "date") == "2026-01-02"
    assert format_value(False, "boolean") == "false"
    assert format_value(None, "string") == ""


def test_split_by_day_keeps_the_days_last_version_and_folds_history_into_day_one():
    customers = CONTRACT.entity("customers")

    def row(cid: str, ts: str, tier: str) -> dict:
        return {"customer_id": cid, "updated_at": datetime.fromisoformat(ts), "tier": tier}

    rows = [
        row("C000002", "2026-01-05 15:00:00", "战略"),
        row("C000002", "2026-01-05 09:00:00", "普通"),
        row("C000001", "2025-06-01 10:00:00", "普通"),  # before the window
        row("C000003", "2026-02-01 10:00:00", "普通"),  # after it
    ]
    by_day = split_by_day(customers, rows, date(2026, 1, 1), date(2026, 1, 31))
    assert sorted(by_day) == [date(2026, 1, 1), date(2026, 1, 5)]
    assert [r["customer_id"] for r in by_day[date(2026, 1, 1)]] == ["C000001"]
    assert [r["tier"] for r in by_day[date(2026, 1, 5)]] == ["战略"]


def test_snapshot_as_of_ignores_later_versions():
    products = CONTRACT.entity("products")
    rows = [
        {"product_id": "P0002", "updated_at": datetime(2026, 1, 1, 9), "list_price": 10},
        {"product_id": "P0001", "updated_at": datetime(2026, 1, 1, 9), "list_price": 5},
        {"product_id": "P0001", "updated_at": datetime(2026, 1, 10, 9), "list_price": 6},
    ]
    assert [r["list_price"] for r in snapshot_as_of(products, rows, date(2026, 1, 9))] == [5, 10]
    assert [r["list_price"] for r in snapshot_as_of(products, rows, date(2026, 1, 10))] == [6, 10]


# --- determinism -------------------------------------------------------------------------------


def test_same_arguments_give_identical_bytes_and_another_seed_differs(small, tmp_path):
    landing, counts = small
    again = generate(tmp_path / "again", scale=0.05, seed=7, end_date=END, days=DAYS)
    assert again == counts
    assert all_files(tmp_path / "again") == all_files(landing)
    other = all_files(_other_seed(tmp_path))
    assert set(other) == set(all_files(landing))
    assert other != all_files(landing)


def _other_seed(tmp_path: Path) -> Path:
    generate(tmp_path / "other", scale=0.05, seed=8, end_date=END, days=DAYS)
    return tmp_path / "other"


# --- layout, manifests, contract conformance -----------------------------------------------------


def test_every_day_has_every_file_and_a_complete_manifest(small):
    landing, counts = small
    for system in CONTRACT.systems:
        assert list_extract_dates(landing, CONTRACT, system) == days_of_window()
        for day in days_of_window():
            manifest = read_manifest(landing, CONTRACT, system, day)
            assert not manifest.problems, manifest.problems
            assert [file_problem(landing, meta) for meta in manifest.files.values()] == [None] * len(
                manifest.files
            )
    rows_on_disk = {e.name: 0 for e in CONTRACT.entities}
    for by_entity in deliveries(landing).values():
        for name, rows in by_entity.items():
            rows_on_disk[name] += len(rows)
    assert rows_on_disk == counts


def test_small_scale_still_has_an_organisation(small, small_latest):
    reps = list(small_latest["reps"].values())
    assert {r["region"] for r in reps} and len({r["team_id"] for r in reps if r["role"] == "rep"}) >= 1
    assert 2 <= sum(r["role"] == "rep" for r in reps) <= 3
    assert 150 <= len(small_latest["customers"]) <= 600
    for r in reps:  # rep -> team manager -> region director
        manager = small_latest["reps"].get((r["manager_id"],))
        expected = {"rep": "manager", "manager": "director", "director": None}[r["role"]]
        assert (manager["role"] if manager else None) == expected


def test_every_file_follows_the_contract(small):
    landing, _ = small
    problems = []
    for path in sorted(landing.rglob("*.csv")):
        system, entity_name = path.parts[-3], path.parts[-2]
        entity = CONTRACT.entity(entity_name)
        assert entity.system == system
        header, rows = read_csv(path)
        assert header == entity.column_names, path
        keys = [tuple(r[k] for k in entity.primary_key) for r in rows]
        if len(keys) != len(set(keys)):
            problems.append(f"{path}: duplicate primary key")
        for i, row in enumerate(rows, 2):
            problems += [f"{path}:{i}: {p}" for p in value_problems(entity, row)]
    assert problems[:20] == []


def test_every_reference_resolves_in_a_delivery_on_or_before(small):
    known: dict[str, set[str]] = defaultdict(set)
    missing = []
    for day, by_entity in deliveries(small[0]).items():
        for e in CONTRACT.entities:
            for row in by_entity[e.name]:
                known[f"{e.name}.{e.primary_key[0]}"].add(row[e.primary_key[0]])
        for e in CONTRACT.entities:
            for c in (c for c in e.columns if c.references):
                missing += [
                    f"{day} {e.name}.{c.name}={r[c.name]}"
                    for r in by_entity[e.name]
                    if r[c.name] and r[c.name] not in known[c.references]
                ]
    assert missing[:20] == []


def test_snapshots_are_full_lists_and_appends_arrive_on_their_day(small):
    by_day = deliveries(small[0])
    first, last = days_of_window()[0], days_of_window()[-1]
    assert by_day[first]["reps"] == by_day[last]["reps"]
    assert len(by_day[first]["products"]) == 30
    for day, by_entity in by_day.items():
        for a in by_entity["activities"]:
            assert a["logged_at"][:10] == day and a["logged_at"] >= a["activity_at"]
        for p in by_entity["payments"]:
            assert p["payment_date"] == day or (day == first and p["payment_date"] < first)
        for h in by_entity["opportunity_stage_history"]:
            assert h["changed_at"][:10] == day or (day == first and h["changed_at"][:10] < first)


# --- business invariants --------------------------------------------------------------------------


def test_stage_history_ends_in_the_opportunitys_current_stage(small_latest):
    last_change: dict[str, dict] = {}
    for h in sorted(small_latest["opportunity_stage_history"].values(), key=lambda h: h["changed_at"]):
        last_change[h["opportunity_id"]] = h
    opps = small_latest["opportunities"]
    assert set(last_change) == {k[0] for k in opps}
    for (oid,), opp in opps.items():
        assert last_change[oid]["to_stage"] == opp["stage"]
        assert opp["probability"] == ("0" if opp["stage"] == "丢单" else opp["probability"])
        assert bool(opp["closed_date"]) == (opp["stage"] in ("签约成交", "丢单"))
        assert bool(opp["loss_reason"]) == (opp["stage"] == "丢单")


def test_each_won_opportunity_has_exactly_one_matching_order(small_latest):
    won = {k[0]: o for k, o in small_latest["opportunities"].items() if o["stage"] == "签约成交"}
    orders = list(small_latest["sales_orders"].values())
    assert won and sorted(o["opportunity_id"] for o in orders) == sorted(won)
    for order in orders:
        opp = won[order["opportunity_id"]]
        assert Decimal(order["order_amount"]) == Decimal(opp["amount"])
        assert order["order_date"] == opp["closed_date"]
        assert (order["rep_id"], order["product_id"]) == (opp["owner_rep_id"], opp["product_id"])
        assert int(order["quantity"]) * Decimal(order["unit_price"]) == Decimal(order["order_amount"])


def test_invoices_add_up_to_orders_and_payments_never_exceed_them(small_latest):
    orders = small_latest["sales_orders"]
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for inv in small_latest["invoices"].values():
        billed[inv["order_id"]] += Decimal(inv["invoice_amount"])
        terms = int(inv["credit_terms_days"])
        assert date.fromisoformat(inv["due_date"]) == date.fromisoformat(inv["invoice_date"]) + timedelta(
            terms
        )
        order_date = date.fromisoformat(orders[(inv["order_id"],)]["order_date"])
        assert 0 <= (date.fromisoformat(inv["invoice_date"]) - order_date).days <= 10
    for (oid,), order in orders.items():
        fully_billable = date.fromisoformat(order["order_date"]) <= END - timedelta(days=10)
        assert (
            billed[oid] == Decimal(order["order_amount"])
            if fully_billable
            else billed[oid] <= Decimal(order["order_amount"])
        )
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for p in sorted(small_latest["payments"].values(), key=lambda p: p["payment_date"]):
        paid[p["invoice_id"]] += Decimal(p["payment_amount"])
        assert paid[p["invoice_id"]] <= Decimal(
            small_latest["invoices"][(p["invoice_id"],)]["invoice_amount"]
        )


def test_collection_plan_lines_are_the_open_balances(small_latest):
    invoices = small_latest["invoices"]
    payments = list(small_latest["payments"].values())
    lines = list(small_latest["collection_plan"].values())
    assert lines
    for line in lines:
        monday = line["planned_week_start"]
        assert date.fromisoformat(monday).weekday() == 0
        inv = invoices[(line["invoice_id"],)]
        paid = sum(
            Decimal(p["payment_amount"])
            for p in payments
            if p["invoice_id"] == line["invoice_id"] and p["payment_date"] < monday
        )
        assert Decimal(line["planned_amount"]) == Decimal(inv["invoice_amount"]) - paid > 0
        assert inv["due_date"] <= (date.fromisoformat(monday) + timedelta(days=6)).isoformat()
        if inv["due_date"] < monday:
            assert line["risk_reason"], "an overdue line names its risk"


def test_team_and_region_targets_are_the_sums_of_their_reps_weekly_targets(small_latest):
    reps = {k[0]: r for k, r in small_latest["reps"].items()}
    targets = list(small_latest["targets"].values())
    weekly = [t for t in targets if t["target_level"] == "rep"]
    assert weekly and all(date.fromisoformat(t["period_start"]).weekday() == 0 for t in weekly)
    quarterly = [t for t in targets if t["target_level"] != "rep"]
    assert {t["target_level"] for t in quarterly} == {"team", "region"}
    for q in quarterly:
        quarter = quarter_start(date.fromisoformat(q["period_start"]))
        owner_of = (lambda r: r["team_id"]) if q["target_level"] == "team" else (lambda r: r["region"])
        parts = [
            Decimal(t["target_amount"])
            for t in weekly
            if owner_of(reps[t["owner_id"]]) == q["owner_id"]
            and quarter_start(date.fromisoformat(t["period_start"])) == quarter
        ]
        assert Decimal(q["target_amount"]) == sum(parts)
        mondays = quarter_mondays(quarter)
        assert (q["period_start"], q["period_end"]) == (
            mondays[0].isoformat(),
            (mondays[-1] + timedelta(6)).isoformat(),
        )


# --- scale ---------------------------------------------------------------------------------------


def test_size_is_linear_in_scale(small_latest, tmp_path):
    double = tmp_path / "double"
    generate(double, scale=0.1, seed=7, end_date=END, days=DAYS)
    bigger = latest_versions(double)
    for entity in ("customers", "opportunities"):
        ratio = len(bigger[entity]) / len(small_latest[entity])
        assert 1.5 <= ratio <= 2.5, (entity, ratio)
