"""The realistic defect shapes (pipelines/sample/defects/shapes_*.py, quality/DEFECTS.md "Realistic shapes"):
each shape's records exist in the injected tables with the property the shape claims, checked against the
world (the chinese-calendar package, city distances, pinyin), not against the detectors."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from pypinyin import lazy_pinyin

from pipelines.sample.defects import DEFECT, LOOK_ALIKE, inject_defects
from pipelines.sample.defects.shapes_common import (
    CITY_COORDINATES,
    NEIGHBOUR_MINUTES,
    distance_km,
    is_makeup_working_day,
    is_public_holiday_weekday,
    is_working_day,
)
from pipelines.sample.defects.shapes_customers import FILLER_NUMBERS, _near, sound_alikes
from pipelines.sample.generator.simulate import make_timeline, simulate

END = date(2026, 11, 22)
TIMELINE = make_timeline(END, 180)
SEED = 1

SHAPES = {  # class -> (defect shapes, look-alike shapes)
    "missing_activity_day": ({"makeup_day_missing", "token_backfill"}, {"holiday_not_missing"}),
    "impossible_schedule": (
        {"distant_city", "same_city_overlap"},
        {"neighbouring_city", "city_suffix", "back_to_back"},
    ),
    "deadline_burst": (
        {"monday_before_review", "sunday_night", "pre_holiday", "month_end", "spread_evening"},
        {"makeup_day_same_day", "trip_batch_midweek"},
    ),
    "duplicate_customer": (
        {"fullwidth_brackets", "homophone_typo", "near_homophone_typo", "abbreviation"},
        {"group_subsidiary", "homophone_other_company"},
    ),
    "shared_phone": (
        {"rep_own_mobile", "colleague_mobile", "filler_number", "edited_in_later"},
        {"group_switchboard", "contact_changed_jobs"},
    ),
    "stage_jump": ({"click_through"}, {"same_day_two_stages"}),
    "anomalous_amount": ({"over_budget", "wan_unit_slip"}, {"bulk_cheap_product"}),
    "zombie_opportunity": ({"cosmetic_touch", "token_activity"}, set()),
    "order_without_opportunity": (
        {"other_customer_opportunity", "reused_old_opportunity", "cites_lost_opportunity"},
        set(),
    ),
}


@pytest.fixture(scope="module")
def injected():
    tables = simulate(SEED, 0.1, TIMELINE)
    labels = inject_defects(tables, SEED, TIMELINE)
    by_shape = defaultdict(list)
    for label in labels:
        by_shape[(label.defect_class, label.shape)].append(label)
    return tables, labels, by_shape


def _current(rows, key, order="updated_at"):
    out = {}
    for row in sorted(rows, key=lambda r: r[order]):
        out[row[key]] = row
    return out


def _versions(rows, key, order="updated_at"):
    out = defaultdict(list)
    for row in sorted(rows, key=lambda r: r[order]):
        out[row[key]].append(row)
    return out


# --- facts the shapes rest on -------------------------------------------------------------------


def test_the_working_calendar_knows_2026s_holidays_and_make_up_days():
    assert is_makeup_working_day(date(2026, 10, 10))  # Saturday worked for 国庆
    assert is_makeup_working_day(date(2026, 9, 20))  # Sunday worked for 国庆
    assert is_public_holiday_weekday(date(2026, 10, 1)) and is_public_holiday_weekday(date(2026, 10, 7))
    assert is_public_holiday_weekday(date(2026, 6, 19))  # 端午, a Friday
    assert is_working_day(date(2026, 10, 9)) and not is_working_day(date(2026, 10, 3))
    assert not is_makeup_working_day(date(2026, 10, 17))  # an ordinary Saturday


def test_city_distances_are_the_real_ones():
    assert 1000 < distance_km("上海", "北京") < 1120  # 1,068 km as the crow flies
    assert 1050 < distance_km("济南", "福州") < 1250
    assert distance_km("广州", "佛山") < 30 and distance_km("苏州", "无锡") < 40
    assert all(distance_km(*sorted(pair)) < 130 for pair in NEIGHBOUR_MINUTES)
    assert set().union(*NEIGHBOUR_MINUTES) <= set(CITY_COORDINATES)


def test_sound_alikes_share_the_syllable_or_a_confusable_one():
    same, near = sound_alikes("信")
    assert "新" in same and "鑫" in same and "兴" not in same
    assert "兴" in near and "星" in near
    assert _near("jin", "jing") and _near("zhi", "zi") and not _near("jin", "jun")


# --- every shape is there, labelled, in about the wanted number ---------------------------------


def test_every_shape_is_injected_about_five_to_fifteen_times(injected):
    _, _, by_shape = injected
    for cls, (defects, look_alikes) in SHAPES.items():
        for shape in defects | look_alikes:
            labels = by_shape[(cls, shape)]
            kinds = {label.kind for label in labels}
            assert kinds == ({DEFECT} if shape in defects else {LOOK_ALIKE}), (cls, shape, kinds)
            cases = len({label.note for label in labels}) if cls == "deadline_burst" else len(labels)
            least = (
                4 if cls != "deadline_burst" else 2 if shape in defects else 1
            )  # 2 make-up days a half-year
            assert least <= cases <= 40, (cls, shape, cases)


def test_injection_is_deterministic_per_seed(injected):
    _, labels, _ = injected
    again = simulate(SEED, 0.1, TIMELINE)
    assert inject_defects(again, SEED, TIMELINE) == labels
    other = simulate(2, 0.1, TIMELINE)
    assert inject_defects(other, 2, TIMELINE) != labels


def test_labelled_records_exist_and_ids_are_unique(injected):
    tables, labels, _ = injected
    ids = {
        "activities": Counter(a["activity_id"] for a in tables["activities"]),
        "customers": set(_current(tables["customers"], "customer_id")),
        "opportunities": set(_current(tables["opportunities"], "opportunity_id")),
        "sales_orders": set(_current(tables["sales_orders"], "order_id")),
    }
    assert max(ids["activities"].values()) == 1
    for label in labels:
        if label.entity in ids:
            assert label.record_id in ids[label.entity], label
    mobiles = {c["contact_mobile"] for c in tables["customers"]}
    assert all(re.fullmatch("1[3-9][0-9]{9}", m) for m in mobiles if m)  # the contract's pattern


# --- missing_activity_day ----------------------------------------------------------------------


def test_missing_days_are_real_working_days_and_holidays_are_days_off(injected):
    tables, labels, by_shape = injected
    by_day = defaultdict(list)
    for a in tables["activities"]:
        by_day[(a["rep_id"], a["activity_at"].date())].append(a)

    def rep_day(label):
        rep_id, day = label.record_id.split(":")
        return rep_id, date.fromisoformat(day)

    for label in by_shape[("missing_activity_day", "")]:  # the textbook's too: never on 国庆
        assert chinese_calendar.is_workday(rep_day(label)[1]), label
    for label in by_shape[("missing_activity_day", "makeup_day_missing")]:
        rep_id, day = rep_day(label)
        assert day.weekday() >= 5 and chinese_calendar.is_workday(day)
        assert not by_day[(rep_id, day)]
        assert any(k[1] == day and k[0] != rep_id and v for k, v in by_day.items())  # colleagues worked
    for label in by_shape[("missing_activity_day", "holiday_not_missing")]:
        rep_id, day = rep_day(label)
        assert day.weekday() < 5 and not chinese_calendar.is_workday(day)
        assert not by_day[(rep_id, day)]
    for label in by_shape[("missing_activity_day", "token_backfill")]:
        (only,) = by_day[rep_day(label)]
        assert timedelta(hours=40) <= only["logged_at"] - only["activity_at"] <= timedelta(hours=72)


# --- impossible_schedule -------------------------------------------------------------------------


def _pairs(tables, by_shape, shape):
    activities = {a["activity_id"]: a for a in tables["activities"]}
    pairs = defaultdict(list)
    for label in by_shape[("impossible_schedule", shape)]:
        a = activities[label.record_id]
        pairs[(a["rep_id"], a["activity_at"].date(), label.note)].append(a)
    out = [sorted(p, key=lambda a: a["activity_at"]) for p in pairs.values()]
    assert out and all(len(p) == 2 and {a["activity_type"] for a in p} == {"拜访"} for p in out)
    return out


def test_distant_visits_are_800_km_and_two_to_three_hours_apart(injected):
    tables, _, by_shape = injected
    for first, second in _pairs(tables, by_shape, "distant_city"):
        assert distance_km(first["city"], second["city"]) > 800
        assert timedelta(hours=2) <= second["activity_at"] - first["activity_at"] <= timedelta(hours=3)


def test_overlapping_visits_are_in_one_city_and_overlap(injected):
    tables, _, by_shape = injected
    for first, second in _pairs(tables, by_shape, "same_city_overlap"):
        assert first["city"] == second["city"] and first["customer_id"] != second["customer_id"]
        assert second["activity_at"] < first["activity_at"] + timedelta(minutes=first["duration_minutes"])


def test_look_alike_schedules_leave_time_for_the_trip(injected):
    tables, _, by_shape = injected
    for first, second in _pairs(tables, by_shape, "neighbouring_city"):
        travel = NEIGHBOUR_MINUTES[frozenset({first["city"], second["city"]})]
        gap = (second["activity_at"] - first["activity_at"]).total_seconds() / 60
        assert 90 <= gap <= 111 and first["duration_minutes"] + travel <= gap
    for first, second in _pairs(tables, by_shape, "city_suffix"):
        assert {first["city"] + "市", second["city"] + "市"} & {first["city"], second["city"]}
        assert first["activity_at"] + timedelta(minutes=first["duration_minutes"]) < second["activity_at"]
    for first, second in _pairs(tables, by_shape, "back_to_back"):
        assert first["city"] == second["city"]
        end = first["activity_at"] + timedelta(minutes=first["duration_minutes"])
        assert end + timedelta(minutes=10) <= second["activity_at"] <= end + timedelta(minutes=26)


# --- deadline_burst ----------------------------------------------------------------------------------


def test_bursts_are_where_the_shape_says(injected):
    tables, _, by_shape = injected
    activities = {a["activity_id"]: a for a in tables["activities"]}

    def bursts(shape):
        out = defaultdict(list)
        for label in by_shape[("deadline_burst", shape)]:
            out[label.note].append(activities[label.record_id])
        return list(out.values())

    for shape in SHAPES["deadline_burst"][0]:
        for burst in bursts(shape):
            logged = sorted(a["logged_at"] for a in burst)
            assert len(burst) >= 6
            assert all(timedelta(0) < a["logged_at"] - a["activity_at"] < timedelta(hours=71) for a in burst)
            assert all(chinese_calendar.is_workday(a["activity_at"].date()) for a in burst)
            first = logged[0]
            if shape == "monday_before_review":
                assert first.weekday() == 0 and first.hour < 9 and logged[-1] - first < timedelta(hours=1)
            elif shape == "sunday_night":
                assert first.weekday() == 6 and first.hour >= 20
            elif shape == "pre_holiday":
                days_off = [first.date() + timedelta(days=k) for k in (1, 2, 3)]
                assert not any(chinese_calendar.is_workday(d) for d in days_off)
            elif shape == "month_end":
                nxt = first.date() + timedelta(days=1)
                while not chinese_calendar.is_workday(nxt):
                    nxt += timedelta(days=1)
                assert nxt.month != first.month
            else:  # spread_evening: never two entries within 8 minutes, over more than an hour
                gaps = [b - a for a, b in zip(logged, logged[1:], strict=False)]
                assert min(gaps) >= timedelta(minutes=8) and logged[-1] - first > timedelta(hours=1)
    for burst in bursts("makeup_day_same_day"):
        assert all(is_makeup_working_day(a["logged_at"].date()) for a in burst)
        assert all(a["activity_at"].date() == a["logged_at"].date() for a in burst)
    for burst in bursts("trip_batch_midweek"):
        assert all(a["logged_at"].weekday() in (2, 3) for a in burst)


# --- duplicate_customer ------------------------------------------------------------------------------


def _original_and_copy(tables, label):
    current = _current(tables["customers"], "customer_id")
    original_id = re.search(r"C[0-9]{6}", label.note).group(0)
    return current[original_id], current[label.record_id]


def _one_character_apart(a: str, b: str) -> tuple[str, str]:
    assert len(a) == len(b)
    (diff,) = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return diff


def test_duplicates_are_the_same_company_typed_another_way(injected):
    tables, _, by_shape = injected
    for label in by_shape[("duplicate_customer", "fullwidth_brackets")]:
        original, copy = _original_and_copy(tables, label)
        assert original["customer_name"] != copy["customer_name"]
        assert unicodedata.normalize("NFKC", original["customer_name"]) == unicodedata.normalize(
            "NFKC", copy["customer_name"]
        )
        assert f"({original['city']})" in unicodedata.normalize("NFKC", copy["customer_name"])
    for shape in ("homophone_typo", "near_homophone_typo"):
        for label in by_shape[("duplicate_customer", shape)]:
            original, copy = _original_and_copy(tables, label)
            typed, heard = _one_character_apart(original["customer_name"], copy["customer_name"])
            a, b = lazy_pinyin(typed)[0], lazy_pinyin(heard)[0]
            assert a == b if shape == "homophone_typo" else _near(a, b)
            assert copy["contact_name"] == original["contact_name"]  # from the same business card
    for label in by_shape[("duplicate_customer", "abbreviation")]:
        original, copy = _original_and_copy(tables, label)
        assert len(copy["customer_name"]) < len(original["customer_name"])
        assert not copy["customer_name"].endswith("有限公司")
        assert copy["customer_name"][:2] in original["customer_name"]
    for label in by_shape[("duplicate_customer", "group_subsidiary")]:
        if label.note.startswith("of "):  # the ones duplicate_customer adds; shared_phone's share the number
            parent, sub = _original_and_copy(tables, label)
            assert sub["city"] != parent["city"] and sub["contact_mobile"] != parent["contact_mobile"]
    for label in by_shape[("duplicate_customer", "homophone_other_company")]:
        other, company = _original_and_copy(tables, label)
        assert (
            company["industry"] != other["industry"] and company["contact_mobile"] != other["contact_mobile"]
        )


# --- shared_phone -------------------------------------------------------------------------------------


def test_shared_numbers_come_from_where_the_shape_says(injected):
    tables, _, by_shape = injected
    current = _current(tables["customers"], "customer_id")
    versions = _versions(tables["customers"], "customer_id")
    reps = {r["rep_id"]: r for r in tables["reps"]}
    rep_mobiles = {r["mobile"]: r["rep_id"] for r in tables["reps"]}
    for label in by_shape[("shared_phone", "rep_own_mobile")]:
        c = current[label.record_id]
        assert c["contact_mobile"] == reps[c["owner_rep_id"]]["mobile"]
    for label in by_shape[("shared_phone", "colleague_mobile")]:
        c = current[label.record_id]
        assert rep_mobiles[c["contact_mobile"]] != c["owner_rep_id"]
    for label in by_shape[("shared_phone", "filler_number")]:
        assert current[label.record_id]["contact_mobile"] in FILLER_NUMBERS
    now = Counter(c["contact_mobile"] for c in current.values())
    for label in by_shape[("shared_phone", "edited_in_later")]:
        vs = versions[label.record_id]
        assert vs[0]["contact_mobile"] != vs[-1]["contact_mobile"] and now[vs[-1]["contact_mobile"]] >= 2
    for label in by_shape[("shared_phone", "contact_changed_jobs")]:
        number = current[label.record_id]["contact_mobile"]
        holders = [cid for cid, vs in versions.items() if any(v["contact_mobile"] == number for v in vs)]
        assert len(holders) == 2 and now[number] == 1  # the old company's current record has a new one
    subsidiaries = {label.record_id for label in by_shape[("duplicate_customer", "group_subsidiary")]}
    for label in by_shape[("shared_phone", "group_switchboard")]:
        sub = current[label.record_id]
        assert now[sub["contact_mobile"]] >= 2 and sub["customer_name"].endswith("销售有限公司")
        assert label.record_id in subsidiaries  # a look-alike of both classes


# --- deals ---------------------------------------------------------------------------------------------


def test_click_through_stages_are_all_there_within_minutes_of_the_win(injected):
    tables, _, by_shape = injected
    history = _versions(tables["opportunity_stage_history"], "opportunity_id", "changed_at")
    for label in by_shape[("stage_jump", "click_through")]:
        changes = history[label.record_id]
        assert [c["from_stage"] for c in changes][1:] == [c["to_stage"] for c in changes][:-1]
        assert len(changes) == 5 and changes[-1]["to_stage"] == "签约成交"
        assert changes[-1]["changed_at"] - changes[1]["changed_at"] <= timedelta(minutes=20)
    for label in by_shape[("stage_jump", "same_day_two_stages")]:
        changes = history[label.record_id]
        demo, negotiation = changes[2], changes[3]
        assert demo["changed_at"].date() == negotiation["changed_at"].date()
        assert timedelta(hours=2) <= negotiation["changed_at"] - demo["changed_at"] <= timedelta(hours=4)


def test_amount_shapes_read_against_budget_units_and_products(injected):
    tables, _, by_shape = injected
    deals = _current(tables["opportunities"], "opportunity_id")
    customers = _current(tables["customers"], "customer_id")
    products = {p["product_id"]: p for p in tables["products"]}
    for label in by_shape[("anomalous_amount", "over_budget")]:
        deal = deals[label.record_id]
        assert deal["amount"] >= 7.9 * customers[deal["customer_id"]]["budget"]
    for label in by_shape[("anomalous_amount", "wan_unit_slip")]:
        assert deals[label.record_id]["amount"] < 10_000  # 万元 typed as yuan (a deal under 1 亿)
    for label in by_shape[("anomalous_amount", "bulk_cheap_product")]:
        deal = deals[label.record_id]
        assert deal["amount"] <= customers[deal["customer_id"]]["budget"]
        assert products[deal["product_id"]]["list_price"] <= 30_000
        assert deal["amount"] >= 30 * 0.8 * products[deal["product_id"]]["list_price"]


def test_zombies_have_not_moved_for_months_yet_look_touched(injected):
    tables, _, by_shape = injected
    versions = _versions(tables["opportunities"], "opportunity_id")
    history = _versions(tables["opportunity_stage_history"], "opportunity_id", "changed_at")
    linked = defaultdict(list)
    for a in tables["activities"]:
        linked[a["opportunity_id"]].append(a["activity_at"])
    end = datetime.combine(END, datetime.min.time())
    for shape in ("cosmetic_touch", "token_activity"):
        for label in by_shape[("zombie_opportunity", shape)]:
            vs, changes = versions[label.record_id], history[label.record_id]
            assert end - changes[-1]["changed_at"] > timedelta(days=115)
            assert vs[-1]["expected_close_date"] < END - timedelta(days=60)
            assert vs[-1]["closed_date"] is None
            if shape == "cosmetic_touch":
                later = [v for v in vs if v["updated_at"] > changes[-1]["changed_at"] + timedelta(days=20)]
                assert later and {v["stage"] for v in later} == {vs[-1]["stage"]}
                assert len({v["next_step"] for v in later}) >= 2
            else:
                assert linked[label.record_id] and end - max(linked[label.record_id]) < timedelta(days=60)


def test_orders_cite_a_deal_that_is_not_theirs(injected):
    tables, _, by_shape = injected
    orders = _current(tables["sales_orders"], "order_id")
    deals = _current(tables["opportunities"], "opportunity_id")
    orders_of = defaultdict(list)
    for o in orders.values():
        orders_of[o["opportunity_id"]].append(o)
    for label in by_shape[("order_without_opportunity", "other_customer_opportunity")]:
        order = orders[label.record_id]
        assert deals[order["opportunity_id"]]["customer_id"] != order["customer_id"]
    for label in by_shape[("order_without_opportunity", "reused_old_opportunity")]:
        order = orders[label.record_id]
        deal = deals[order["opportunity_id"]]
        assert deal["stage"] == "签约成交" and (order["order_date"] - deal["closed_date"]).days >= 60
        assert any(o["order_date"] < order["order_date"] for o in orders_of[order["opportunity_id"]])
    for label in by_shape[("order_without_opportunity", "cites_lost_opportunity")]:
        assert deals[orders[label.record_id]["opportunity_id"]]["stage"] == "丢单"


def test_no_record_is_both_a_defect_and_a_look_alike_of_one_class(injected):
    _, labels, by_shape = injected
    kinds = defaultdict(set)
    for label in labels:
        kinds[(label.defect_class, label.entity, label.record_id)].add(label.kind)
    assert all(len(k) == 1 for k in kinds.values())
    # a won deal cited by a foreign order is named for the class whose rule it would fool
    foreign = by_shape[("won_amount_differs_from_order", "foreign_order_cites_deal")]
    assert foreign and all(label.kind == LOOK_ALIKE for label in foreign)


def test_a_company_up_to_the_last_day_the_calendar_knows_gets_its_defects(tmp_path):
    # `make run` generates up to today: some shapes look a few days past the window's end, into a year
    # chinese-calendar does not know yet (it raised NotImplementedError for 2027)
    from pipelines.sample.defects import read_labels
    from pipelines.sample.generator import generate

    last_known = date(max(chinese_calendar.constants.holidays).year, 12, 31)
    labels = tmp_path / "labels.csv"
    generate(tmp_path / "landing", scale=0.05, seed=3, end_date=last_known, days=120, labels_path=labels)
    shapes = {(label.defect_class, label.shape) for label in read_labels(labels)}
    assert ("zombie_opportunity", "token_activity") in shapes and len(shapes) > 30
