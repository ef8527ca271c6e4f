"""Labelled defects on the deal and ERP side (pipelines/sample/defects/deals_erp.py, quality/DEFECTS.md).

The detectors themselves are dbt models with unit tests next to them
(dbt_project/models/quality/detectors/_detectors_deals__models.yml); their precision and recall are measured
by `salesreview evaluate-detection`. Here: the clean simulation trips none of these rules, and every injected
defect is what its label says, in rows the contract accepts, the same for a seed every time.
"""

from __future__ import annotations

import copy
import re
from collections import Counter, defaultdict
from datetime import timedelta
from statistics import median

import pytest

from pipelines.sample.defects import LOOK_ALIKE, inject_defects
from pipelines.sample.defects.deals_erp import postponements
from pipelines.sample.generator import DEFAULT_END_DATE
from pipelines.sample.generator.simulate import make_timeline, simulate

CLASSES = [
    "anomalous_amount",
    "order_without_opportunity",
    "orphan_reference",
    "overpayment",
    "slipping_close_date",
    "stage_jump",
    "unknown_customer",
    "unknown_product",
    "unknown_rep",
    "won_amount_differs_from_order",
    "won_without_order",
    "zombie_opportunity",
]
REFERENCE_CLASSES = ["unknown_customer", "unknown_product", "unknown_rep", "won_amount_differs_from_order"]
TIMELINE = make_timeline(DEFAULT_END_DATE, 365)
STAGE_ORDER = {"线索获取": 1, "需求挖掘": 2, "方案演示": 3, "商务谈判": 4, "签约成交": 5}


@pytest.fixture(scope="module")
def clean():
    return simulate(1, 0.2, TIMELINE)


@pytest.fixture(scope="module")
def injected(clean):
    tables = copy.deepcopy(clean)
    labels = inject_defects(tables, 1, TIMELINE, CLASSES)
    return tables, labels


def delivered(rows: list[dict], column: str) -> list[dict]:
    return [
        r for r in rows if (r[column].date() if hasattr(r[column], "date") else r[column]) <= TIMELINE.end
    ]


def current(rows: list[dict], key: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in sorted(delivered(rows, "updated_at"), key=lambda r: r["updated_at"]):
        out[r[key]] = r
    return out


def versions(rows: list[dict], key: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return out


def product_medians(opportunities: dict[str, dict]) -> dict[str, float]:
    amounts: dict[str, list] = defaultdict(list)
    for r in opportunities.values():
        amounts[r["product_id"]].append(r["amount"])
    return {p: median(a) for p, a in amounts.items()}


def by_class(labels) -> dict[str, set[str]]:
    """Labelled textbook defects per class (look-alikes and the realistic shapes, tests/test_defect_shapes.py,
    left out)."""
    out: dict[str, set[str]] = defaultdict(set)
    for label in labels:
        if label.is_defect and not label.shape:
            out[label.defect_class].add(label.record_id)
    return out


# --- the clean simulation trips none of these rules ---------------------------------------------


def test_clean_deals_are_postponed_at_most_twice_and_stay_within_ten_times_their_product_median(clean):
    for opp_versions in versions(clean["opportunities"], "opportunity_id").values():
        assert postponements(opp_versions, TIMELINE) <= 2
    opportunities = current(clean["opportunities"], "opportunity_id")
    medians = product_medians(opportunities)
    assert max(r["amount"] / medians[r["product_id"]] for r in opportunities.values()) <= 8


def test_clean_deals_move_at_most_two_stages_at_once_and_none_is_idle(clean):
    for change in clean["opportunity_stage_history"]:
        if change["from_stage"] in STAGE_ORDER and change["to_stage"] in STAGE_ORDER:
            assert STAGE_ORDER[change["to_stage"]] - STAGE_ORDER[change["from_stage"]] <= 2
    for opp in current(clean["opportunities"], "opportunity_id").values():
        if opp["closed_date"] is None:
            assert (TIMELINE.end - opp["updated_at"].date()).days <= 90


def test_clean_orders_and_won_deals_match_one_to_one(clean):
    opportunities = current(clean["opportunities"], "opportunity_id")
    ordered = {o["opportunity_id"] for o in clean["sales_orders"]}
    won = {o for o, r in opportunities.items() if r["stage"] == "签约成交"}
    assert won == ordered


# --- every injected defect is what its label says -----------------------------------------------


def test_each_class_has_at_least_twenty_labels_and_injection_is_deterministic(clean, injected):
    _, labels = injected
    counts = Counter(label.defect_class for label in labels if label.is_defect)
    assert {c: counts[c] for c in CLASSES} == {c: max(counts[c], 20) for c in CLASSES}
    look_alikes = Counter(
        label.defect_class for label in labels if label.kind == LOOK_ALIKE and not label.shape
    )
    assert set(look_alikes) == set(REFERENCE_CLASSES)
    assert min(look_alikes.values()) >= 18
    again = copy.deepcopy(clean)
    assert inject_defects(again, 1, TIMELINE, CLASSES) == labels


def test_injected_deal_defects_break_their_rule(injected):
    tables, labels = injected
    labelled = by_class(labels)
    opportunities = current(tables["opportunities"], "opportunity_id")
    history = versions(tables["opportunity_stage_history"], "opportunity_id")
    opp_versions = versions(tables["opportunities"], "opportunity_id")
    for opp_id in labelled["stage_jump"]:
        rises = [
            STAGE_ORDER[h["to_stage"]] - STAGE_ORDER[h["from_stage"]]
            for h in history[opp_id]
            if h["from_stage"] in STAGE_ORDER and h["to_stage"] in STAGE_ORDER
        ]
        assert max(rises) >= 3, opp_id
    for opp_id in labelled["slipping_close_date"]:
        assert 3 <= postponements(opp_versions[opp_id], TIMELINE) <= 5, opp_id
    for opp_id in labelled["zombie_opportunity"]:
        last = max(h["changed_at"] for h in history[opp_id])
        assert opportunities[opp_id]["closed_date"] is None
        assert 98 <= (TIMELINE.end - max(last, opportunities[opp_id]["updated_at"]).date()).days <= 300
    medians = product_medians(opportunities)
    for opp_id in labelled["anomalous_amount"]:
        row = opportunities[opp_id]
        assert row["amount"] > 14 * medians[row["product_id"]], opp_id


def test_injected_erp_defects_break_their_rule(injected):
    tables, labels = injected
    labelled = by_class(labels)
    opportunities = current(tables["opportunities"], "opportunity_id")
    orders = current(tables["sales_orders"], "order_id")
    ordered = {o["opportunity_id"] for o in orders.values()}
    for opp_id in labelled["won_without_order"]:
        row = opportunities[opp_id]
        assert row["stage"] == "签约成交" and opp_id not in ordered
        assert (TIMELINE.end - row["closed_date"]).days > 3
    for order_id in labelled["order_without_opportunity"]:
        assert orders[order_id]["opportunity_id"] not in opportunities
    invoices = current(tables["invoices"], "invoice_id")
    paid: dict[str, list[dict]] = defaultdict(list)
    for p in sorted(
        delivered(tables["payments"], "payment_date"), key=lambda p: (p["payment_date"], p["payment_id"])
    ):
        paid[p["invoice_id"]].append(p)
    crossing = set()
    for invoice_id, payments in paid.items():
        total = 0
        for p in payments:
            total += p["payment_amount"]
            if invoice_id in invoices and total > invoices[invoice_id]["invoice_amount"]:
                crossing.add(p["payment_id"])
    assert crossing == labelled["overpayment"]


def test_orphan_references_point_at_ids_that_never_existed_in_the_samples_id_format(injected):
    tables, labels = injected
    known = {
        "customer_id": {c["customer_id"] for c in tables["customers"]},
        "invoice_id": {i["invoice_id"] for i in tables["invoices"]},
    }
    # a made-up id looks like a real one
    pattern = {"customer_id": r"C[0-9]{6}", "invoice_id": r"INV[0-9]{8}"}
    checks = {
        "sales_orders": (current(tables["sales_orders"], "order_id"), "customer_id"),
        "payments": ({p["payment_id"]: p for p in tables["payments"]}, "invoice_id"),
    }
    entities = Counter()
    for label in labels:
        if label.defect_class != "orphan_reference":
            continue
        rows, column = checks[label.entity]  # the deal's references are classes of their own
        assert rows[label.record_id][column] not in known[column], label
        assert re.fullmatch(pattern[column], rows[label.record_id][column]), label
        entities[label.entity] += 1
    assert min(entities[e] for e in checks) >= 10


# --- the deal's references (pipelines/sample/defects/references.py) ------------------------------


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein (optimal string alignment), as the unknown_product rule's suggestion uses."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def reference_labels(labels, defect_class: str):
    return [label for label in labels if label.defect_class == defect_class and not label.shape]


def case_of(label) -> str:
    return label.note.split(":")[0].split(" ")[0]


def test_unknown_customer_labels_have_no_delivered_customer_and_look_alikes_are_resolved(injected):
    tables, labels = injected
    opportunities = current(tables["opportunities"], "opportunity_id")
    delivered_customers = set(current(tables["customers"], "customer_id"))
    cases = Counter()
    for label in reference_labels(labels, "unknown_customer"):
        row = opportunities[label.record_id]
        cases[case_of(label)] += 1
        assert (row["customer_id"] in delivered_customers) is (label.kind == LOOK_ALIKE), label
        if case_of(label).startswith("new_account"):  # the account is created three days after the deal
            created = next(c for c in tables["customers"] if c["customer_id"] == row["customer_id"])
            assert created["created_at"].date() == row["created_at"].date() + timedelta(days=3), label
        if case_of(label) == "left_empty":
            assert row["customer_id"] is None
    assert set(cases) == {
        "new_account_pending",
        "left_empty",
        "mistyped_id",
        "new_account_arrived",
        "filled_in_later",
    }


def test_unknown_product_typos_are_one_edit_from_the_product_the_rep_meant(injected):
    tables, labels = injected
    opportunities = current(tables["opportunities"], "opportunity_id")
    catalogue = {p["product_id"]: p for p in tables["products"]}
    cases = Counter()
    for label in reference_labels(labels, "unknown_product"):
        row, case = opportunities[label.record_id], case_of(label)
        cases[case] += 1
        if label.kind == LOOK_ALIKE:  # a catalogue product, delivered by the end
            assert catalogue[row["product_id"]]["updated_at"] <= TIMELINE.end_ts, label
            continue
        typed, meant = row["product_id"], label.note.split(" for ")[1].split(" ")[0]
        assert typed not in catalogue and typed == label.note.split(": ")[1].split(" for ")[0], label
        product = catalogue[meant]
        distance = min(
            edit_distance(typed.upper(), product["product_id"].upper()),
            edit_distance(typed.upper(), product["product_name"].upper()),
        )
        assert (distance == 1) if case != "far" else (distance >= 2), label
    assert {"homophone", "swapped", "dropped_char", "letter_o", "dropped_zero", "far"} <= set(cases)
    assert cases["retired_product"] >= 8 and cases["new_product"] >= 8


def test_unknown_rep_labels_name_nobody_in_the_reps_list(injected):
    tables, labels = injected
    opportunities = current(tables["opportunities"], "opportunity_id")
    reps = {r["rep_id"]: r for r in tables["reps"]}
    opp_versions = versions(tables["opportunities"], "opportunity_id")
    cases = Counter()
    for label in reference_labels(labels, "unknown_rep"):
        row, case = opportunities[label.record_id], case_of(label)
        cases[case] += 1
        assert (row["owner_rep_id"] in reps) is (label.kind == LOOK_ALIKE), label
        if case == "departed_kept":
            assert reps[row["owner_rep_id"]]["leave_date"] < TIMELINE.start and row["stage"] == "丢单"
        if case == "reassigned":  # first saved under the deleted rep
            assert opp_versions[label.record_id][0]["owner_rep_id"] not in reps
        if case == "admin_import":
            typed = row["owner_rep_id"]  # r0012 (lower case) or R012 (a zero lost) for a real rep
            assert typed.upper() in reps or typed.replace("R", "R0") in reps, label
        if row["closed_date"] is None:  # an orphaned open deal is not also a zombie
            assert (TIMELINE.end - row["updated_at"].date()).days <= 90
    assert set(cases) == {"departed_deleted", "admin_import", "departed_kept", "reassigned"}


def test_won_amount_labels_differ_from_their_orders_and_look_alikes_add_up(injected):
    tables, labels = injected
    opportunities = current(tables["opportunities"], "opportunity_id")
    ordered: dict[str, int] = defaultdict(int)
    order_count: Counter = Counter()
    for order in current(tables["sales_orders"], "order_id").values():
        if order["opportunity_id"] and order["status"] != "cancelled":
            ordered[order["opportunity_id"]] += order["order_amount"]
            order_count[order["opportunity_id"]] += 1
    invoices = current(tables["invoices"], "invoice_id").values()
    cases = Counter()
    for label in reference_labels(labels, "won_amount_differs_from_order"):
        row, case = opportunities[label.record_id], case_of(label)
        cases[case] += 1
        assert row["stage"] == "签约成交", label
        if label.kind == LOOK_ALIKE and label.record_id not in ordered:
            continue  # won_without_order later took its order away: a label of that class now
        assert (row["amount"] != ordered[label.record_id]) is label.is_defect, label
        if case == "two_phases" or case == "prepayment":
            assert order_count[label.record_id] == 2
        if case == "credit_note":
            order_ids = {
                o["order_id"] for o in tables["sales_orders"] if o["opportunity_id"] == row["opportunity_id"]
            }
            assert any(i["invoice_amount"] < 0 and i["order_id"] in order_ids for i in invoices), label
    assert {"erp_discount", "crm_digits_swapped", "two_phases", "credit_note", "prepayment"} <= set(cases)


def test_look_alikes_are_present_and_unlabelled(injected):
    tables, labels = injected
    labelled = by_class(labels)
    opp_versions = versions(tables["opportunities"], "opportunity_id")
    once_or_twice = [
        o
        for o, v in opp_versions.items()
        if postponements(v, TIMELINE) in (1, 2) and o not in labelled["slipping_close_date"]
    ]
    assert len(once_or_twice) >= 20
    opportunities = current(tables["opportunities"], "opportunity_id")
    quiet = [
        o
        for o, r in opportunities.items()
        if r["closed_date"] is None and 58 <= (TIMELINE.end - r["updated_at"].date()).days <= 80
    ]
    assert len(quiet) >= 20
    medians = product_medians(opportunities)
    large = [o for o, r in opportunities.items() if 3.5 <= r["amount"] / medians[r["product_id"]] <= 6.5]
    assert len(large) >= 15
    split_exactly = [
        i
        for i, payments in versions(tables["payments"], "invoice_id").items()
        if len(payments) == 2
        and i in {inv["invoice_id"] for inv in tables["invoices"]}
        and sum(p["payment_amount"] for p in payments)
        == next(inv["invoice_amount"] for inv in tables["invoices"] if inv["invoice_id"] == i)
    ]
    assert len(split_exactly) >= 20
    first_versions = {o: v[0] for o, v in versions(tables["sales_orders"], "order_id").items()}
    entered_late = [
        o for o, v in first_versions.items() if (v["updated_at"].date() - v["order_date"]).days == 2
    ]
    assert len(entered_late) >= 8
