"""Customer and activity defects (quality/DEFECTS.md): the clean simulation breaks none of the six rules,
the injectors label enough valid records, and the Python name normaliser agrees with the dbt macro's
hand-worked cases (the dbt unit tests in models/quality/detectors check the SQL)."""

from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from pipelines.sample.defects import inject_defects
from pipelines.sample.defects.customers_activities import normalize_company_name
from pipelines.sample.generator.common import is_workday
from pipelines.sample.generator.simulate import make_timeline, simulate

REPO = Path(__file__).resolve().parents[1]
END = date(2026, 11, 22)
TIMELINE = make_timeline(END, 365)
CLASSES = [
    "deadline_burst",
    "duplicate_customer",
    "impossible_schedule",
    "late_logging",
    "missing_activity_day",
    "shared_phone",
]


@pytest.fixture(scope="module")
def clean() -> dict[str, list[dict]]:
    return simulate(5, 0.2, TIMELINE)


@pytest.fixture(scope="module")
def injected() -> tuple[dict[str, list[dict]], list]:
    tables = simulate(5, 0.2, TIMELINE)
    return tables, inject_defects(tables, 5, TIMELINE, CLASSES)


def _current(rows: list[dict], key: str) -> dict[str, dict]:
    out = {}
    for row in sorted(rows, key=lambda r: r["updated_at"]):
        out[row[key]] = row
    return out


def test_clean_visits_are_feasible_and_logged_in_time(clean):
    visits = defaultdict(list)
    for a in clean["activities"]:
        assert (a["logged_at"] - a["activity_at"]).total_seconds() <= 72 * 3600
        if a["activity_type"] == "拜访":
            visits[(a["rep_id"], a["activity_at"].date())].append(a)
    places = {r["city"]: (float(r["latitude"]), float(r["longitude"])) for r in _cities()}
    for day in visits.values():
        assert len(day) <= 6
        day.sort(key=lambda v: v["activity_at"])
        for i, a in enumerate(day):
            for b in day[i + 1 :]:
                gap = (b["activity_at"] - a["activity_at"]).total_seconds() / 60 - a["duration_minutes"]
                assert gap >= 0  # one meeting at a time
                if a["city"] != b["city"]:
                    # rule impossible_schedule's high-speed rail: 45 min + km x 1.2 / 250 km/h
                    assert gap >= 45 + _km(places[a["city"]], places[b["city"]]) * 1.2 / 250 * 60


def _cities() -> list[dict]:
    with open(REPO / "dbt_project" / "seeds" / "cities.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def test_clean_quota_reps_log_something_every_working_day(clean):
    active = {(a["rep_id"], a["activity_at"].date()) for a in clean["activities"]}
    days = [TIMELINE.start + timedelta(days=i) for i in range((TIMELINE.end - TIMELINE.start).days - 2)]
    for rep in (r for r in clean["reps"] if r["role"] == "rep"):  # 调休 weekend days too, no holiday
        assert all((rep["rep_id"], d) in active for d in days if is_workday(d))
    assert all(is_workday(a["activity_at"].date()) for a in clean["activities"])  # none on a holiday


def test_clean_customers_have_distinct_names_and_phones(clean):
    customers = _current(clean["customers"], "customer_id").values()
    names = Counter((c["city"], normalize_company_name(c["customer_name"], c["city"])) for c in customers)
    assert max(names.values()) == 1
    assert max(Counter(c["contact_mobile"] for c in customers).values()) < 3


def test_injected_labels_are_enough_and_point_at_valid_records(injected):
    tables, labels = injected
    by_class = Counter(label.defect_class for label in labels)
    assert all(by_class[c] >= 20 for c in CLASSES), by_class
    activities = {a["activity_id"]: a for a in tables["activities"]}
    customers = _current(tables["customers"], "customer_id")
    assert len(activities) == len(tables["activities"])  # ids unique
    assert all(re.fullmatch(r"A[0-9]{8}", i) for i in activities)  # the sample's id formats
    assert all(re.fullmatch(r"C[0-9]{6}", i) for i in customers)
    reps = {r["rep_id"] for r in tables["reps"]}
    assert {a["rep_id"] for a in activities.values()} <= reps
    assert {a["customer_id"] for a in activities.values()} <= set(customers)
    active = {(a["rep_id"], a["activity_at"].date().isoformat()) for a in activities.values()}
    for label in labels:
        if label.entity == "activities":
            assert label.record_id in activities
        elif label.entity == "customers":
            assert label.record_id in customers
        elif not label.shape:  # the textbook's; make-up days and backfills: tests/test_defect_shapes.py
            rep_id, day = label.record_id.split(":")
            assert label.entity == "rep_days" and (rep_id, day) not in active
            assert date.fromisoformat(day).weekday() < 5


@pytest.mark.parametrize(
    ("name", "city", "expected"),
    [
        ("上海华信科技有限公司", "上海", "华信科技"),
        ("上海市华信科技股份有限公司", "上海", "华信科技"),
        ("华信科技有限公司", "上海", "华信科技"),
        ("浙江省杭州华信科技有限责任公司", "杭州", "华信科技"),
        ("上海　ＡＢＣ 数字科技集团有限公司", "上海", "abc数字科技"),
        ("上海华鑫科技有限公司", "上海", "华鑫科技"),  # one character apart: another company
    ],
)
def test_name_normaliser_matches_the_dbt_macro_cases(name, city, expected):
    assert normalize_company_name(name, city) == expected
