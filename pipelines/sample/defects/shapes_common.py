"""Facts the realistic-shape injectors share: the mainland China working calendar, where the sample
company's cities are and how long it really takes to get from one to another, and how many cases a
shape gets.

The facts are written from the world, not from the detectors: holidays and make-up working days (调休)
come from the `chinese-calendar` package (the State Council's yearly notices); the coordinates are the
city centres; the travel times are door to door (customer to customer) by the fastest usual means
(metro, high-speed rail, car) on a working day.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import chinese_calendar

from pipelines.sample.generator.common import Timeline

# --- the working calendar -----------------------------------------------------------------------


def is_working_day(d: date) -> bool:
    """A mainland China working day: Monday-Friday unless a public holiday, plus make-up days (调休).
    A year the package does not know yet (the State Council publishes each November): Monday-Friday."""
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return d.weekday() < 5


def is_public_holiday_weekday(d: date) -> bool:
    """Monday-Friday, yet a day off (春节, 国庆, 端午 ...)."""
    return d.weekday() < 5 and not is_working_day(d)


def is_makeup_working_day(d: date) -> bool:
    """Saturday or Sunday that is a working day (调休 补班)."""
    return d.weekday() >= 5 and is_working_day(d)


def holiday_name(d: date) -> str:
    try:
        return chinese_calendar.get_holiday_detail(d)[1] or ""
    except NotImplementedError:
        return ""


def window_days(timeline: Timeline, margin_start: int = 0, margin_end: int = 0) -> list[date]:
    first, last = timeline.start + timedelta(days=margin_start), timeline.end - timedelta(days=margin_end)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def working_days(timeline: Timeline, margin_start: int = 0, margin_end: int = 0) -> list[date]:
    return [d for d in window_days(timeline, margin_start, margin_end) if is_working_day(d)]


def previous_working_day(d: date) -> date:
    d -= timedelta(days=1)
    while not is_working_day(d):
        d -= timedelta(days=1)
    return d


# --- cities ---------------------------------------------------------------------------------------

CITY_COORDINATES = {  # city centre, (latitude, longitude)
    "上海": (31.23, 121.47),
    "杭州": (30.27, 120.15),
    "南京": (32.06, 118.80),
    "苏州": (31.30, 120.59),
    "宁波": (29.87, 121.55),
    "合肥": (31.82, 117.23),
    "济南": (36.65, 117.12),
    "青岛": (36.07, 120.38),
    "福州": (26.07, 119.30),
    "无锡": (31.49, 120.31),
    "北京": (39.90, 116.41),
    "天津": (39.13, 117.20),
    "石家庄": (38.04, 114.51),
    "太原": (37.87, 112.55),
    "呼和浩特": (40.84, 111.75),
    "唐山": (39.63, 118.18),
    "保定": (38.87, 115.46),
    "广州": (23.13, 113.26),
    "深圳": (22.54, 114.06),
    "东莞": (23.02, 113.75),
    "佛山": (23.02, 113.12),
    "南宁": (22.82, 108.37),
    "海口": (20.04, 110.34),
    "珠海": (22.27, 113.58),
    "成都": (30.57, 104.07),
    "重庆": (29.56, 106.55),
    "昆明": (25.04, 102.71),
    "贵阳": (26.65, 106.63),
    "绵阳": (31.47, 104.68),
    "武汉": (30.59, 114.31),
    "长沙": (28.23, 112.94),
    "郑州": (34.75, 113.63),
    "南昌": (28.68, 115.86),
    "宜昌": (30.69, 111.29),
    "洛阳": (34.62, 112.45),
}

# Neighbouring cities a rep really drives or takes the metro / high-speed rail between within the hour:
# door-to-door minutes on a working day (customer to customer, including getting to and from stations).
NEIGHBOUR_MINUTES = {
    frozenset({"广州", "佛山"}): 45,  # Guangfo metro, or 30 km by car
    frozenset({"苏州", "无锡"}): 45,  # 45 km, high-speed rail 15 min
    frozenset({"深圳", "东莞"}): 55,  # 60 km by car / rail
    frozenset({"上海", "苏州"}): 60,  # high-speed rail 25 min plus stations
    frozenset({"广州", "东莞"}): 60,
    frozenset({"北京", "天津"}): 60,  # 北京南-天津 30 min plus stations
}

# No trip between cities this far apart fits in three hours door to door: a flight alone is about two
# hours, with an hour to the airport and an hour from it, and high-speed rail takes 5+ hours.
FAR_APART_KM = 800


def distance_km(a: str, b: str) -> float:
    """Great-circle distance between two city centres."""
    (lat1, lon1), (lat2, lon2) = CITY_COORDINATES[a], CITY_COORDINATES[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


# --- how many cases -------------------------------------------------------------------------------


def cases_per_shape(tables: dict[str, list[dict]], per_rep: float = 1.5, floor: int = 6) -> int:
    """About 6-15 at --scale 0.1 (4 quota reps), growing with the company."""
    reps = sum(1 for r in tables["reps"] if r["role"] == "rep")
    return max(floor, round(per_rep * reps))
