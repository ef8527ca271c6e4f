"""The Chinese working calendar (pipelines/lib/working_calendar.py, seed working_calendar): what
`salesreview refresh-calendar` writes, how hand-edited rows survive it, how a date is judged, and that the
sample company's reps rest on public holidays and work on make-up days (调休). The SQL rule's rep-days are
checked by the dbt unit tests of dq_missing_activity_day (国庆 2025, 春节 2026)."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import pytest

from pipelines.cli import main
from pipelines.lib import working_calendar as wc
from pipelines.lib.working_calendar import CalendarDay, WorkingCalendar, read_seed, refresh_seed
from pipelines.sample.generator.simulate import make_timeline, simulate


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    path = tmp_path_factory.mktemp("calendar") / "working_calendar.csv"
    result = refresh_seed(path)
    return result, {(d.calendar_date, d.region): d for d in read_seed(path)}


def _kind(days, iso: str) -> tuple[bool, str, str]:
    d = days[(date.fromisoformat(iso), "CN")]
    return d.is_working_day, d.day_kind, d.holiday_name_zh


def test_refresh_writes_the_2025_holidays_and_make_up_days(refreshed):
    result, days = refreshed
    assert 2025 in result.years and 2026 in result.years
    assert result.kept_rows == 0
    # the State Council's notice for 2025 (国办发明电〔2024〕12号)
    assert _kind(days, "2025-01-01") == (False, "public_holiday", "元旦")
    assert _kind(days, "2025-01-26") == (True, "makeup_workday", "春节")  # a Sunday worked
    assert [_kind(days, f"2025-01-{d}")[1] for d in (28, 29, 30, 31)] == ["public_holiday"] * 4
    assert _kind(days, "2025-02-04") == (False, "public_holiday", "春节")  # a Tuesday off
    assert _kind(days, "2025-02-05") == (True, "workday", "")
    assert _kind(days, "2025-05-01") == (False, "public_holiday", "劳动节")
    assert _kind(days, "2025-09-28") == (True, "makeup_workday", "国庆节")  # Sunday before 国庆
    assert all(_kind(days, f"2025-10-0{d}")[0] is False for d in range(1, 9))  # 10-01 .. 10-08 off
    assert _kind(days, "2025-10-06") == (False, "public_holiday", "中秋")
    assert _kind(days, "2025-10-09") == (True, "workday", "")
    assert _kind(days, "2025-10-11") == (True, "makeup_workday", "国庆节")  # a Saturday worked
    assert _kind(days, "2025-10-12") == (False, "weekend", "")
    assert days[(date(2025, 10, 1), "CN")].holiday_name_en == "National Day"
    # one row per date of each covered year
    assert sum(1 for d, _ in days if d.year == 2025) == 365
    assert sum(1 for d, _ in days if d.year == 2024) == 366


def test_the_committed_seed_is_what_refresh_writes():
    """The seed in the repository is the package's calendar for the years it covers: refresh was run (and
    nobody edited a package row without changing its source). A newer package may know more years."""
    committed = [d for d in read_seed() if d.source == wc.LIBRARY_SOURCE]
    years = set(wc.covered_years(committed))
    assert {2024, 2025, 2026} <= years
    assert committed == [d for d in wc.library_days() if d.calendar_date.year in years]


def test_refresh_keeps_hand_edited_rows_and_restores_package_rows(tmp_path):
    path = tmp_path / "working_calendar.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=wc.COLUMNS)
        writer.writeheader()
        # a company's own day off (kept), a package row edited in place (restored), a regional day
        writer.writerow(
            CalendarDay(date(2025, 10, 9), "CN", False, "public_holiday", "公司年会", "", "manual").as_row()
        )
        writer.writerow(CalendarDay(date(2025, 10, 10), "CN", False, "public_holiday", "改错了").as_row())
        writer.writerow(
            CalendarDay(date(2025, 3, 3), "华南", False, "public_holiday", "三月三", "", "manual").as_row()
        )
    result = refresh_seed(path)
    days = {(d.calendar_date, d.region): d for d in read_seed(path)}
    assert result.kept_rows == 2
    assert days[(date(2025, 10, 9), "CN")].holiday_name_zh == "公司年会"
    assert days[(date(2025, 10, 9), "CN")].is_working_day is False
    assert days[(date(2025, 10, 10), "CN")] == CalendarDay(date(2025, 10, 10), "CN", True, "workday")
    assert days[(date(2025, 3, 3), "华南")].source == "manual"
    assert len(days) == result.library_rows + 2
    assert result.library_rows == len(wc.library_days()) - 1  # the package's 2025-10-09 gave way


def test_the_command_rewrites_the_seed_and_names_the_years(tmp_path, monkeypatch, capsys):
    path = tmp_path / "working_calendar.csv"
    monkeypatch.setattr(wc, "SEED_PATH", path)
    assert main(["refresh-calendar"]) == 0
    out = capsys.readouterr().out
    assert f"working calendar for 2004-{wc.library_days()[-1].calendar_date.year}" in out
    assert read_seed(path)[0].calendar_date == date(2004, 1, 1)


def test_a_date_is_judged_by_region_then_mainland_then_monday_to_friday():
    cal = WorkingCalendar(
        [
            CalendarDay(date(2025, 9, 28), "CN", True, "makeup_workday", "国庆节"),
            CalendarDay(date(2025, 10, 1), "CN", False, "public_holiday", "国庆节"),
            CalendarDay(date(2025, 10, 9), "CN", True, "workday"),
            CalendarDay(date(2025, 10, 9), "华南", False, "public_holiday", "公司假日", "", "manual"),
        ]
    )
    assert cal.is_working_day(date(2025, 9, 28))  # a Sunday
    assert not cal.is_working_day(date(2025, 10, 1))  # a Wednesday
    assert cal.is_working_day(date(2025, 10, 9)) and cal.is_working_day(date(2025, 10, 9), "华东")
    assert not cal.is_working_day(date(2025, 10, 9), "华南")
    # beyond the calendar: Monday to Friday
    assert not cal.covers(date(2030, 1, 1))
    assert cal.is_working_day(date(2030, 1, 1)) and not cal.is_working_day(date(2030, 1, 5))
    assert cal.next_working_day(date(2025, 9, 27)) == date(2025, 9, 28)
    assert cal.next_working_day(date(2025, 10, 1)) == date(2025, 10, 2)  # 10-02 is beyond: a Thursday


def test_the_sample_reps_rest_on_public_holidays_and_work_on_make_up_days():
    """国庆 2026: Sunday 09-20 and Saturday 10-10 are worked, 10-01 .. 10-07 are not."""
    timeline = make_timeline(date(2026, 10, 20), 45)
    tables = simulate(3, 0.1, timeline)
    quota = [r["rep_id"] for r in tables["reps"] if r["role"] == "rep"]
    active = {(a["rep_id"], a["activity_at"].date()) for a in tables["activities"]}
    holidays = [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]
    assert not any((rep, d) in active for rep in quota for d in holidays)
    for make_up in (date(2026, 9, 20), date(2026, 10, 10)):
        assert all((rep, make_up) in active for rep in quota)
    assert not any((rep, date(2026, 10, 11)) in active for rep in quota)  # an ordinary Sunday
    assert all((rep, date(2026, 10, 9)) in active for rep in quota)  # the Friday after
