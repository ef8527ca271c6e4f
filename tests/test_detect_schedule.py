"""Rules impossible_schedule and deadline_burst on hand-made activities (quality/DEFECTS.md), through dbt:
the cities seed and city_names, the two detectors and the warn test of unknown cities are built on a small
DuckDB holding only staging.stg_crm__activities; deadline_burst is built again with the review moved.
Visits overlap by their recorded durations; for a trip, a visit is believed to have lasted half its
recorded duration (dq_schedule_duration_share 0.5).

Travel times with the default dq_travel_modes (overhead + great-circle km x factor / speed):
上海-苏州 85 km (rail 69 min), 上海-杭州 163 km (rail 92 min), 广州-佛山 19 km (road 26 min),
深圳-东莞 62 km (road 61 min), 上海-北京 1067 km (air 212 min), 广州-成都 1231 km (air 226 min).
2026-03-02 is a Monday; with the default review (Monday 10:00) the entries logged from Friday 03-06 10:00
(the review time on the last working day before it) to Monday 03-09 10:00 are before the review."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")
OTHERS_TEST = "assert_working_calendar_covers_as_of_date"  # a test of the calendar seed that needs the marts


def _at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}")


def _visits(rep: str, *visits: tuple[str, str, str, int | None]) -> list[tuple]:
    """(id, city, 'MM-DD HH:MM', duration) -> visit rows of rep, logged at 20:00 the same day."""
    return [
        (vid, "拜访", rep, _at(at), minutes, city, _at(at).replace(hour=20), _at(at).date())
        for vid, city, at, minutes in visits
    ]


def _entries(rep: str, logged: list[str], dated: list[str], kind: str = "电话") -> list[tuple]:
    """Activities of rep dated `dated[i]` and logged at `logged[i]` ('MM-DD HH:MM')."""
    return [
        (f"{rep}-{i}", kind, rep, _at(day), 10, None, _at(log), _at(log).date())
        for i, (log, day) in enumerate(zip(logged, dated, strict=True), 1)
    ]


SCHEDULE = [
    # neighbouring cities 100 and 90 minutes apart, start to start: possible (look-alikes)
    *_visits("S1", ("S1a", "广州", "03-02 09:30", 45), ("S1b", "佛山", "03-02 11:10", 40)),
    *_visits("S1", ("S1c", "深圳", "03-02 14:00", 30), ("S1d", "东莞", "03-02 15:30", 60)),
    # very distant cities 3 hours apart: impossible, both visits flagged
    *_visits("S2", ("S2a", "上海", "03-02 09:00", 60), ("S2b", "北京", "03-02 12:00", 60)),
    *_visits("S2", ("S2c", "广州", "03-03 10:00", 30), ("S2d", "成都", "03-03 13:00", 60)),
    # overlapping visits in one city written two ways: flagged; the same city written three ways back to
    # back is one city (no trip), not flagged
    *_visits("S3", ("S3a", "上海", "03-02 10:00", 90), ("S3b", "上海市", "03-02 10:30", 60)),
    *_visits("S3", ("S3c", "苏州", "03-03 09:00", 60), ("S3d", "苏州市", "03-03 10:15", 60)),
    *_visits("S3", ("S3e", "江苏省苏州市", "03-03 11:30", 30)),
    # 上海 -> 杭州 with 30 minutes between the visits: flagged
    *_visits("S4", ("S4a", "上海", "03-02 10:00", 60), ("S4b", "杭州", "03-02 11:30", 60)),
    # a city the table does not know: not judged on distance (the warn test names it)
    *_visits("S5", ("S5a", "上海", "03-02 10:00", 30), ("S5b", "某某县", "03-02 10:40", 30)),
    # the trip back is too short, the trip out is not: only the two visits of the short trip
    *_visits(
        "S6",
        ("S6a", "上海", "03-02 09:00", 30),
        ("S6b", "杭州", "03-02 14:00", 60),
        ("S6c", "上海", "03-02 15:50", 60),
    ),
    # a 3-hour meeting with two visits during it: all three flagged (the rep's own record overlaps)
    *_visits(
        "S7",
        ("S7a", "南京", "03-02 09:00", 180),
        ("S7b", "南京", "03-02 10:00", 30),
        ("S7c", "南京", "03-02 11:00", 30),
    ),
    # the next visit starts an hour into a two-hour one: both flagged
    *_visits("S8", ("S8a", "合肥", "03-02 09:00", 120), ("S8b", "合肥", "03-02 10:00", 30)),
    *_visits("S8", ("S8c", "合肥", "03-03 09:00", 122), ("S8d", "合肥", "03-03 10:00", 30)),
    # 7 visits in a day: all flagged; 6 is the limit
    *_visits("S9", *[(f"S9{i}", "无锡", f"03-02 {8 + i:02d}:00", 40) for i in range(1, 8)]),
    *_visits("S9", *[(f"S9x{i}", "无锡", f"03-03 {8 + i:02d}:00", 40) for i in range(1, 7)]),
    # a call from another city between two visits is not a visit
    *_visits("S10", ("S10a", "上海", "03-02 10:00", 60), ("S10c", "上海", "03-02 12:00", 60)),
    ("S10b", "电话", "S10", _at("03-02 11:05"), 10, "北京", _at("03-02 12:00"), _at("03-02").date()),
]
SCHEDULE_FLAGGED = {"S2a", "S2b", "S2c", "S2d", "S3a", "S3b", "S4a", "S4b", "S6b", "S6c"}
SCHEDULE_FLAGGED |= {"S7a", "S7b", "S7c", "S8a", "S8b", "S8c", "S8d"} | {f"S9{i}" for i in range(1, 8)}

FRI_AFTERNOON = ["03-06 16:00", "03-06 16:10", "03-06 16:20", "03-06 16:30", "03-06 16:40", "03-06 16:50"]
BURSTS = [
    # the textbook shape: Friday afternoon, 6 entries for Wednesday and Thursday within 50 minutes
    *_entries("B1", FRI_AFTERNOON, ["03-04 10:00"] * 3 + ["03-05 15:00"] * 3),
    # the same on Monday morning before the 10:00 review, and late on Sunday
    *_entries(
        "B2",
        [
            "03-09 08:00",
            "03-09 08:05",
            "03-09 08:12",
            "03-09 08:20",
            "03-09 08:31",
            "03-09 08:40",
            "03-09 08:44",
        ],
        [
            "03-04 10:00",
            "03-04 14:00",
            "03-05 09:00",
            "03-05 11:00",
            "03-06 10:00",
            "03-06 15:00",
            "03-06 16:00",
        ],
        kind="拜访",
    ),
    *_entries(
        "B3",
        ["03-08 22:00", "03-08 22:11", "03-08 22:23", "03-08 22:34", "03-08 22:45", "03-08 22:55"],
        ["03-05 10:00"] * 2 + ["03-06 10:00"] * 4,
    ),
    # look-alike: the day's own activities entered together at the end of Friday (not back-dated)
    *_entries(
        "B4",
        ["03-06 18:00", "03-06 18:10", "03-06 18:20", "03-06 18:30", "03-06 18:40", "03-06 18:50"],
        ["03-06 09:00", "03-06 10:00", "03-06 11:00", "03-06 13:00", "03-06 14:00", "03-06 15:00"],
    ),
    # look-alike: back from a trip, its 4 visits logged on Monday morning
    *_entries(
        "B5",
        ["03-09 08:30", "03-09 08:35", "03-09 08:40", "03-09 08:46"],
        ["03-05 10:00", "03-05 15:00", "03-06 10:00", "03-06 14:00"],
        kind="拜访",
    ),
    # 6 back-dated entries on a Tuesday evening, far from the Monday review: not flagged; flagged when the
    # review meets on Wednesdays at 14:00
    *_entries(
        "B6",
        ["03-03 20:00", "03-03 20:05", "03-03 20:10", "03-03 20:15", "03-03 20:20", "03-03 20:25"],
        ["03-02 10:00"] * 6,
    ),
    # Monday 09:10-09:50 is before a 10:00 review, after a 09:00 one
    *_entries(
        "B7",
        ["03-09 09:10", "03-09 09:20", "03-09 09:30", "03-09 09:40", "03-09 09:45", "03-09 09:50"],
        ["03-06 10:00"] * 6,
    ),
    # Friday 09:20-09:45 is before the window of a Monday 10:00 review opens (Friday 10:00), not of 09:00
    *_entries(
        "B8",
        ["03-06 09:20", "03-06 09:25", "03-06 09:30", "03-06 09:35", "03-06 09:40", "03-06 09:45"],
        ["03-05 10:00"] * 6,
    ),
    # the last afternoon before 劳动节 (Fri 05-01 to Tue 05-05): the Monday review moves to Wednesday 05-06
    # (so does May's monthly one), its window opens on Thursday 04-30 at 10:00
    *_entries(
        "B10", [f"04-30 15:{m:02d}" for m in range(0, 60, 10)], ["04-28 10:00"] * 3 + ["04-29 10:00"] * 3
    ),
    # the evening of the month's last working day (Tue 03-31), before April's monthly review
    *_entries("B11", [f"03-31 19:{m:02d}" for m in range(0, 60, 10)], ["03-30 10:00"] * 6),
    # 8 entries 15 minutes apart over a Friday evening: no 60 minutes hold 6, one sitting does
    *_entries("B12", [f"03-06 {19 + m // 60}:{m % 60:02d}" for m in range(0, 120, 15)], ["03-05 10:00"] * 8),
    # 6 entries on Saturday, split by a 31-minute pause: no 60 minutes hold more than 4, no run more than 3
    *_entries(
        "B9",
        [f"03-07 {t}" for t in ("10:00", "10:10", "10:20", "10:51", "11:01", "11:11")],
        ["03-05 10:00"] * 6,
    ),
]
B = "B{}-{}".format
BURST_DEFAULT = (
    {B(1, i) for i in range(1, 7)} | {B(2, i) for i in range(1, 8)} | {B(3, i) for i in range(1, 7)}
)
BURST_DEFAULT |= (
    {B(7, i) for i in range(1, 7)} | {B(10, i) for i in range(1, 7)} | {B(11, i) for i in range(1, 7)}
)
BURST_DEFAULT |= {B(12, i) for i in range(1, 9)}


def _dbt(args: list[str], warehouse: Path, target: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SRW_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    result = subprocess.run(
        [DBT, *args, "--profiles-dir", ".", "--target-path", str(target)],
        cwd=REPO / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("schedule")
    warehouse = root / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema staging")
    con.execute(
        "create table staging.stg_crm__activities (activity_id varchar, activity_type varchar,"
        " rep_id varchar, customer_id varchar, opportunity_id varchar, activity_at timestamp,"
        " duration_minutes integer, city varchar, intention_level varchar, summary varchar,"
        " logged_at timestamp, _source_file varchar, _row_number bigint, _extract_date date)"
    )
    con.executemany(
        "insert into staging.stg_crm__activities (activity_id, activity_type, rep_id, activity_at,"
        " duration_minutes, city, logged_at, _extract_date) values (?, ?, ?, ?, ?, ?, ?, ?)",
        SCHEDULE + BURSTS,
    )
    con.close()
    models = "cities city_names working_calendar dq_impossible_schedule dq_deadline_burst"
    models += " assert_visit_cities_are_known"
    result = _dbt(
        ["build", "-s", *models.split(), "--exclude-resource-type", "unit_test", "--exclude", OTHERS_TEST],
        warehouse,
        root / "target",
    )
    return root, warehouse, result.stdout


def _flagged(warehouse: Path, model: str) -> dict[str, tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(f"select record_id, rep_id, evidence, first_seen_date from quality.{model}").fetchall()
    con.close()
    return {r[0]: r[1:] for r in rows}


def _burst_with(built, variables: str, name: str) -> set[str]:
    root, warehouse, _ = built
    copy = root / f"{name}.duckdb"
    shutil.copyfile(warehouse, copy)
    _dbt(["run", "-s", "dq_deadline_burst", "--vars", variables], copy, root / f"target-{name}")
    return set(_flagged(copy, "dq_deadline_burst"))


def test_impossible_schedule_flags_exactly_the_impossible_visits(built):
    assert set(_flagged(built[1], "dq_impossible_schedule")) == SCHEDULE_FLAGGED


def test_impossible_schedule_evidence_names_the_other_visit_the_distance_and_the_trip(built):
    flagged = _flagged(built[1], "dq_impossible_schedule")
    assert flagged["S2a"][1] == (
        "与 S2b（北京 12:00-13:00）之间只有 120 分钟，上海→北京约 1067 公里，最快也要 212 分钟（飞机）"
        " / only 120 min between this visit and S2b, 1067 km away: the trip takes at least 212 min"
    )
    assert flagged["S4b"][1] == (
        "与 S4a（上海 10:00-11:00）之间只有 30 分钟，上海→杭州约 163 公里，最快也要 92 分钟（高铁） / only "
        "30 min between this visit and S4a, 163 km away: the trip takes at least 92 min"
    )
    # 上海市 is 上海: the evidence names the city as the table does
    assert flagged["S3b"][1] == "与 S3a（上海 10:00-11:30）时间重叠 60 分钟 / overlaps visit S3a by 60 min"
    assert flagged["S7a"][1] == (
        "与 S7b（南京 10:00-10:30）时间重叠 120 分钟 / overlaps visit S7b by 120 min; "
        "与 S7c（南京 11:00-11:30）时间重叠 60 分钟 / overlaps visit S7c by 60 min"
    )
    assert flagged["S8c"][1] == "与 S8d（合肥 10:00-10:30）时间重叠 62 分钟 / overlaps visit S8d by 62 min"
    assert flagged["S91"][1] == "当天共 7 次拜访（上限 6）/ 7 visits in one day (limit 6)"
    assert flagged["S2a"][0] == "S2" and flagged["S2a"][2] == _at("03-02").date()


def test_unknown_cities_are_counted_by_a_warn_test(built):
    stdout = built[2]
    assert "Warning in test assert_visit_cities_are_known" in stdout
    assert "Got 1 result, configured to warn if != 0" in stdout


def test_deadline_burst_before_the_default_review(built):
    flagged = _flagged(built[1], "dq_deadline_burst")
    assert set(flagged) == BURST_DEFAULT
    assert flagged["B1-1"] == (
        "B1",
        "B1 于 2026-03-06 16:00-16:50（周五）集中补录 6 条以前日期的活动，"
        "距 2026-03-09 10:00 复盘还有 65 小时，本条日期 2026-03-04 / 6 activities for earlier days logged"
        " within 50 minutes, 65 h before the review of 2026-03-09 10:00",
        _at("03-06").date(),
    )
    assert flagged["B2-7"][1].startswith("B2 于 2026-03-09 08:00-08:44（周一）集中补录 7 条以前日期的活动")


def test_moving_the_review_to_monday_0900_moves_what_is_flagged(built):
    flagged = _burst_with(built, "{dq_review_weekday: 1, dq_review_time: '09:00'}", "monday9")
    assert flagged == BURST_DEFAULT - {B(7, i) for i in range(1, 7)} | {B(8, i) for i in range(1, 7)}


def test_a_review_on_wednesdays_flags_the_tuesday_evening_sitting(built):
    flagged = _burst_with(built, "{dq_review_weekday: 3, dq_review_time: '14:00'}", "wednesday")
    # B6 (Tue 03-03 20:00) is in the window of Wednesday 03-04 14:00 (from Tuesday 14:00); the sittings
    # from Friday to Monday are before the window of Wednesday 03-11 opens;
    # B10 and B11 are in the windows of Wednesday 05-06 and 04-01 14:00
    assert flagged == {B(n, i) for n in (6, 10, 11) for i in range(1, 7)}


def test_a_city_written_any_way_is_one_city(built):
    expected = {
        "上海": "上海",
        "上海市": "上海",
        "江苏省苏州市": "苏州",
        "江苏苏州": "苏州",
        "恩施土家族苗族自治州": "恩施",
        "恩施州": "恩施",
        "锡林郭勒盟": "锡林郭勒",
        "海南藏族自治州": "海南州",
        "吉林省吉林市": "吉林",
        "襄樊": "襄阳",
    }
    con = duckdb.connect(str(built[1]), read_only=True)
    found = con.execute(
        "select city_key, city from quality.city_names where list_contains(?, city_key)", [list(expected)]
    ).fetchall()
    con.close()
    assert dict(found) == expected
