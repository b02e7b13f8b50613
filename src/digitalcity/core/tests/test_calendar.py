"""Working-day and working-hour arithmetic against STANDARDS.md §7.1 and the package data."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from digitalcity.core import calendar
from digitalcity.core.calendar import (
    CalendarMissingError,
    add_workdays,
    add_workdays_ex,
    add_workhours,
    add_workhours_ex,
    cached,
    day_info,
    is_workday,
    is_workday_ex,
    workdays_between,
    workdays_between_ex,
    workdays_in_year,
    workhours_between,
    workhours_between_ex,
)
from digitalcity.core.calendar_import import seed_from_chinesecalendar
from digitalcity.core.models import CalendarDay, CalendarDayKind, CalendarSource, CalendarYear

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def seeded(db):
    """2024–2026 from the package; 2027 has no calendar (as on 2026-11-21)."""
    seed_from_chinesecalendar(years=[2024, 2025, 2026])


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


# --- STANDARDS.md §7.1 vectors -------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 26),
        date(2025, 2, 8),
        date(2025, 10, 11),
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ],
)
def test_makeup_weekend_days_are_workdays(seeded, day):
    assert day.weekday() >= 5
    assert is_workday(day) is True
    assert day_info(day).value.kind == "makeup_workday"


@pytest.mark.parametrize(
    ("day", "name"),
    [(date(2025, 10, 1), "国庆节"), (date(2025, 10, 6), "中秋节"), (date(2026, 1, 1), "元旦")],
)
def test_holidays_are_not_workdays_and_carry_their_chinese_name(seeded, day, name):
    info = day_info(day).value
    assert (info.is_workday, info.kind, info.holiday_name) == (False, "holiday", name)


def test_the_2026_spring_festival_is_nine_days_off(seeded):
    days = [date(2026, 2, 15) + timedelta(days=i) for i in range(9)]
    assert [is_workday(d) for d in days] == [False] * 9
    assert is_workday(date(2026, 2, 24)) is True


def test_the_2026_makeup_workdays_and_in_lieu_days_are_exactly_the_listed_ones(seeded):
    year = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    makeup = [d for d in year if d.weekday() >= 5 and is_workday(d)]
    assert makeup == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    for in_lieu in ["2026-01-02", "2026-02-20", "2026-02-23", "2026-05-05", "2026-10-06"]:
        d = date.fromisoformat(in_lieu)
        assert d.weekday() < 5
        assert is_workday(d) is False
    assert is_workday(date(2026, 10, 7)) is False


@pytest.mark.parametrize("year", [2025, 2026])
def test_there_are_248_working_days_in_2025_and_2026(seeded, year):
    assert workdays_in_year(year) == 248


def test_every_day_agrees_with_the_package(seeded):
    day = date(2024, 1, 1)
    while day.year <= 2026:
        assert is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 2, 12), 5, date(2026, 2, 26)),
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2025, 9, 30), 1, date(2025, 10, 9)),
        (date(2025, 9, 26), 5, date(2025, 10, 10)),
        (date(2026, 4, 30), 3, date(2026, 5, 8)),
        (date(2025, 12, 31), 1, date(2026, 1, 4)),
        # The start never counts, even when it is a working day.
        (date(2026, 3, 2), 1, date(2026, 3, 3)),
        (date(2026, 3, 6), 1, date(2026, 3, 9)),
    ],
)
def test_add_workdays_matches_the_table(seeded, start, n, expected):
    assert add_workdays(start, n) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2025, 10, 1), 1, date(2025, 10, 9)),
        (date(2025, 10, 4), 2, date(2025, 10, 10)),
        (date(2026, 2, 15), 1, date(2026, 2, 24)),
        (date(2026, 5, 2), 3, date(2026, 5, 8)),
    ],
)
def test_a_request_received_on_a_holiday_counts_from_the_next_working_day(
    seeded, start, n, expected
):
    assert add_workdays(start, n) == expected
    # chinese_calendar.find_workday counts the next working day as day 0: one day more.
    assert chinese_calendar.find_workday(n, start) > expected


@pytest.mark.parametrize("start", [date(2026, 3, 2), date(2026, 10, 3), date(2026, 2, 14)])
def test_adding_zero_workdays_returns_the_start(seeded, start):
    assert add_workdays(start, 0) == start


@pytest.mark.parametrize("n", [-1, 1.5, True, calendar.MAX_WORKDAYS + 1])
def test_it_rejects_a_bad_number_of_workdays(seeded, n):
    with pytest.raises(ValidationError, match="工作日数 n"):
        add_workdays(date(2026, 3, 2), n)


def test_workdays_between_is_the_inverse_of_add_workdays(seeded):
    rng = random.Random(20261121)
    first = date(2024, 1, 1)
    for _ in range(400):
        a = first + timedelta(days=rng.randrange(0, 700))
        n = rng.randrange(0, 40)
        b = add_workdays(a, n)
        assert workdays_between(a, b) == n, (a, n, b)
        assert workdays_between(b, a) == -n
        assert is_workday(b) or n == 0


def test_workdays_between_counts_the_half_open_interval(seeded):
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(500)]
    rng = random.Random(7)
    for _ in range(200):
        a, b = sorted(rng.sample(days, 2))
        brute = sum(1 for d in days if a < d <= b and chinese_calendar.is_workday(d))
        assert workdays_between(a, b) == brute
    assert workdays_between(date(2026, 3, 2), date(2026, 3, 2)) == 0
    # (Fri, Mon]: Saturday and Sunday do not count, Monday does.
    assert workdays_between(date(2026, 3, 6), date(2026, 3, 9)) == 1


# --- Working hours --------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (at(2026, 3, 2, 9), 3, at(2026, 3, 2, 12)),
        (at(2026, 3, 2, 11), 2, at(2026, 3, 2, 14, 30)),  # across lunch
        (at(2026, 3, 2, 12, 30), 0.5, at(2026, 3, 2, 14)),  # starts in lunch
        (at(2026, 3, 2, 17), 1, at(2026, 3, 3, 9, 30)),  # across the evening
        (at(2026, 3, 2, 20), 0, at(2026, 3, 3, 9)),  # outside hours: next office moment
        (at(2026, 3, 2, 12), 0, at(2026, 3, 2, 13, 30)),  # spans are half-open
        (at(2026, 3, 6, 17), 1, at(2026, 3, 9, 9, 30)),  # across the weekend
        (at(2026, 9, 30, 17), 1, at(2026, 10, 8, 9, 30)),  # across National Day
        (at(2026, 2, 13, 17), 1, at(2026, 2, 14, 9, 30)),  # into a makeup Saturday
        (at(2026, 3, 2, 9), 14, at(2026, 3, 3, 17, 30)),  # two full days
        (at(2026, 3, 2, 9), Decimal("7.25"), at(2026, 3, 3, 9, 15)),
    ],
)
def test_add_workhours_runs_over_office_hours_on_working_days(seeded, start, hours, expected):
    assert add_workhours(start, hours) == expected


def test_add_workhours_accepts_any_aware_zone_and_answers_in_the_city_zone(seeded):
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    result = add_workhours(start, 1)
    assert result == at(2026, 3, 2, 10)
    assert result.utcoffset() == timedelta(hours=8)


def test_add_workhours_refuses_naive_datetimes_and_negative_hours(seeded):
    with pytest.raises(ValueError, match="带时区"):
        add_workhours(datetime(2026, 3, 2, 9), 1)  # noqa: DTZ001
    with pytest.raises(ValidationError, match="工作时数"):
        add_workhours(at(2026, 3, 2, 9), -1)
    with pytest.raises(ValidationError, match="工作时数"):
        add_workhours(at(2026, 3, 2, 9), float("nan"))


def test_workhours_between_counts_only_office_time(seeded):
    assert workhours_between(at(2026, 3, 2, 0), at(2026, 3, 3, 0)) == 7.0
    assert workhours_between(at(2026, 3, 2, 11), at(2026, 3, 2, 14)) == 1.5
    assert workhours_between(at(2026, 3, 6, 17), at(2026, 3, 9, 10)) == 1.5
    assert workhours_between(at(2026, 10, 1, 0), at(2026, 10, 8, 0)) == 0.0
    assert workhours_between(at(2026, 3, 3, 0), at(2026, 3, 2, 0)) == -7.0


def test_workhours_between_is_the_inverse_of_add_workhours(seeded):
    rng = random.Random(11)
    for _ in range(200):
        start = at(2025, 1, 1) + timedelta(minutes=rng.randrange(0, 600 * 24 * 60, 15))
        hours = rng.randrange(0, 200) / 4
        end = add_workhours(start, hours)
        assert workhours_between(start, end) == pytest.approx(hours)


def test_it_follows_the_configured_office_hours(seeded, settings):
    settings.DC_OFFICE_HOURS = "08:30-12:00, 14:00-18:00"
    assert add_workhours(at(2026, 3, 2, 11), 2) == at(2026, 3, 2, 15)
    assert workhours_between(at(2026, 3, 2, 0), at(2026, 3, 3, 0)) == 7.5


@pytest.mark.parametrize("value", ["9-12", "09:00-12:00,11:00-17:00", "12:00-09:00", "25:00-26:00"])
def test_a_malformed_office_hours_setting_is_a_configuration_error(seeded, settings, value):
    settings.DC_OFFICE_HOURS = value
    with pytest.raises(ImproperlyConfigured, match="DC_OFFICE_HOURS"):
        add_workhours(at(2026, 3, 2, 9), 1)


# --- A year without a calendar -------------------------------------------


def test_a_deadline_in_a_year_without_a_calendar_is_an_explicit_error(seeded):
    with pytest.raises(CalendarMissingError) as caught:
        add_workdays(date(2026, 12, 31), 1)
    assert caught.value.year == 2027
    message = caught.value.messages[0]
    assert "2027 年的工作日历尚未导入" in message
    assert "国务院办公厅" in message
    assert isinstance(caught.value, ValidationError)


@pytest.mark.parametrize(
    "call",
    [
        lambda: is_workday(date(2027, 1, 4)),
        lambda: workdays_between(date(2026, 12, 1), date(2027, 1, 10)),
        lambda: add_workhours(at(2026, 12, 31, 17), 1),
        lambda: workhours_between(at(2026, 12, 31, 9), at(2027, 1, 5, 9)),
    ],
)
def test_every_function_refuses_a_missing_year(seeded, call):
    with pytest.raises(CalendarMissingError, match="2027"):
        call()


def test_within_covered_years_nothing_is_flagged(seeded, settings):
    settings.DC_CALENDAR_ALLOW_ESTIMATE = True
    result = add_workdays_ex(date(2026, 12, 1), 5)
    assert (result.value, result.estimated, result.years_estimated) == (
        date(2026, 12, 8),
        False,
        (),
    )


def test_estimate_mode_flags_the_estimate_and_names_the_year(seeded, settings):
    settings.DC_CALENDAR_ALLOW_ESTIMATE = True
    result = add_workdays_ex(date(2026, 12, 31), 2)
    # 2027-01-01 (Fri) and 01-04 (Mon) on weekends alone: New Year's Day is not known yet.
    assert result.value == date(2027, 1, 4)
    assert result.estimated is True
    assert result.years_estimated == (2027,)
    assert is_workday_ex(date(2027, 1, 1)).estimated is True
    assert workdays_between_ex(date(2026, 12, 30), date(2027, 1, 4)).value == 3
    assert add_workhours_ex(at(2026, 12, 31, 17), 1).years_estimated == (2027,)
    assert workhours_between_ex(at(2027, 1, 4), at(2027, 1, 5)).value == 7.0


def test_the_plain_functions_stay_strict_even_when_estimates_are_allowed(seeded, settings):
    settings.DC_CALENDAR_ALLOW_ESTIMATE = True
    with pytest.raises(CalendarMissingError):
        add_workdays(date(2026, 12, 31), 1)
    with pytest.raises(CalendarMissingError):
        add_workdays_ex(date(2026, 12, 31), 1, allow_estimate=False)


def test_estimates_need_the_setting(seeded, settings):
    settings.DC_CALENDAR_ALLOW_ESTIMATE = False
    with pytest.raises(CalendarMissingError):
        add_workdays_ex(date(2026, 12, 31), 1)
    assert add_workdays_ex(date(2026, 12, 31), 1, allow_estimate=True).estimated is True


def test_a_year_row_without_days_counts_as_covered(seeded):
    CalendarYear.objects.create(year=2027, source=CalendarSource.MANUAL)
    assert add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 1)


# --- Staff edits and late-December dates ----------------------------------


def test_a_staff_edit_changes_the_result_at_once(seeded):
    assert add_workdays(date(2026, 3, 2), 1) == date(2026, 3, 3)
    CalendarDay.objects.create(
        calendar_year=CalendarYear.objects.get(year=2026),
        date=date(2026, 3, 3),
        kind=CalendarDayKind.HOLIDAY,
        holiday_name="临时放假",
    )
    assert is_workday(date(2026, 3, 3)) is False
    assert add_workdays(date(2026, 3, 2), 1) == date(2026, 3, 4)
    CalendarDay.objects.filter(date=date(2026, 2, 14)).delete()
    assert is_workday(date(2026, 2, 14)) is False


def test_a_late_december_date_declared_by_next_years_notice_counts(seeded):
    y2027 = CalendarYear.objects.create(year=2027, source=CalendarSource.NOTICE)
    CalendarDay.objects.create(
        calendar_year=y2027,
        date=date(2026, 12, 31),
        kind=CalendarDayKind.HOLIDAY,
        holiday_name="元旦",
    )
    assert is_workday(date(2026, 12, 31)) is False
    assert add_workdays(date(2026, 12, 30), 1) == date(2027, 1, 1)


def test_a_calendar_day_must_lie_in_its_year_and_makeup_days_on_weekends(seeded):
    y2026 = CalendarYear.objects.get(year=2026)
    with pytest.raises(ValidationError) as caught:
        CalendarDay(
            calendar_year=y2026, date=date(2025, 6, 2), kind=CalendarDayKind.MAKEUP_WORKDAY
        ).full_clean()
    assert set(caught.value.message_dict) == {"date", "kind"}
    with pytest.raises(ValidationError, match="节日名称"):
        CalendarDay(calendar_year=y2026, date=date(2026, 3, 3), kind="holiday").full_clean()


# --- Database use ---------------------------------------------------------


def test_one_query_per_call_within_a_year(seeded, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert add_workdays(date(2026, 2, 12), 5) == date(2026, 2, 26)
    with django_assert_num_queries(1):
        assert workdays_between(date(2024, 1, 1), date(2026, 12, 31)) > 700
    with django_assert_num_queries(1):
        add_workhours(at(2026, 3, 2, 9), 30)


def test_a_cached_block_shares_one_snapshot(seeded, django_assert_num_queries):
    with django_assert_num_queries(1), cached():
        for day in range(1, 29):
            add_workdays(date(2026, 2, day), 3)
            is_workday(date(2026, 2, day))
    # Outside the block an edit is seen again.
    CalendarDay.objects.filter(date=date(2026, 2, 14)).delete()
    assert is_workday(date(2026, 2, 14)) is False
