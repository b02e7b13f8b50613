"""Working days and working hours (工作日 / 工作时) from the platform's calendar rows.

Every deadline in the platform comes from here, never from ``timedelta(days=n)``.

Rules
-----
1. A date is a *working day* if it is a make-up workday (调休上班) row, or a Monday–Friday
   that is not a holiday row (STANDARDS.md §7.1). Rows live in `CalendarDay`; a year is
   *covered* only if it has a `CalendarYear` row (seeded from chinesecalendar, imported
   from the State Council notice, or entered by staff).
2. ``add_workdays(start, n)``: the n-th working day *after* ``start``; ``start`` never
   counts, even when it is itself a working day; ``n == 0`` returns ``start``. This is not
   ``chinese_calendar.find_workday``, which counts a holiday start's next working day as
   day 0 and so gives one day more.
3. ``workdays_between(a, b)``: the number of working days in the half-open interval
   ``(a, b]``; ``-workdays_between(b, a)`` when ``b < a``. Hence
   ``add_workdays(a, n) == b`` implies ``workdays_between(a, b) == n``.
4. Working hours run over ``settings.DC_OFFICE_HOURS`` ("09:00-12:00,13:30-17:30") on
   working days, in ``settings.TIME_ZONE``. Spans are half-open ``[09:00, 12:00)``.
   ``add_workhours(start, h)`` returns the moment at which ``h`` office hours have
   elapsed since ``start``; a start outside office hours begins at the next office
   moment, so ``add_workhours(start, 0)`` is that moment. ``workhours_between(a, b)``
   is the office time inside ``[a, b]`` in hours (negative if ``b < a``). Aware
   datetimes only; results are in ``settings.TIME_ZONE``. Assumes a zone without
   daylight saving (China has none since 1991).

Missing years and estimates
---------------------------
Two families with the same arguments:

* ``is_workday``, ``add_workdays``, ``workdays_between``, ``add_workhours``,
  ``workhours_between`` return plain values and are *strict*: a date in a year without
  a calendar raises `CalendarMissingError` whatever the settings, because a plain value
  cannot say it is a guess.
* ``is_workday_ex``, ``add_workdays_ex``, ``workdays_between_ex``, ``add_workhours_ex``,
  ``workhours_between_ex``, ``day_info`` return a `CalendarResult` (``value``,
  ``estimated``, ``years_estimated``). With ``settings.DC_CALENDAR_ALLOW_ESTIMATE`` (or
  ``allow_estimate=True``) a missing year is computed on weekends alone and the result
  carries ``estimated=True`` and the years guessed; otherwise they raise too. Callers
  that can show or store the flag (the case engine's clocks, the API) use these.

Database use
------------
Each call reads the rows it needs in one query (the years it touches, loaded together;
a further query only when stepping into a year not yet loaded). Nothing is cached in
the process, so an admin's edit is seen by every process at once. A caller doing many
computations in one request or one worker batch wraps them in ``with cached():`` to
share one snapshot for the block's duration; never hold a snapshot longer.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Generic, Literal, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.core.models import CalendarDay, CalendarDayKind, CalendarYear

__all__ = [
    "MAX_WORKDAYS",
    "CalendarMissingError",
    "CalendarResult",
    "DayInfo",
    "add_workdays",
    "add_workdays_ex",
    "add_workhours",
    "add_workhours_ex",
    "cached",
    "day_info",
    "is_workday",
    "is_workday_ex",
    "missing_years",
    "office_hours",
    "workdays_between",
    "workdays_between_ex",
    "workdays_in_year",
    "workhours_between",
    "workhours_between_ex",
]

T = TypeVar("T")

#: Upper bound on ``n`` for add_workdays (about 20 years): larger values are input errors.
MAX_WORKDAYS = 5000
_ONE_DAY = timedelta(days=1)
_MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)


class CalendarMissingError(ValidationError):
    """A date falls in a year that has no calendar rows yet. ``year`` names the year."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            _(
                "%(year)s 年的工作日历尚未导入，无法计算工作日。请系统管理员在"
                "“系统管理 › 基础平台 › 工作日历年度 › 导入节假日通知”中导入"
                "国务院办公厅关于 %(year)s 年部分节假日安排的通知。"
            )
            % {"year": year},
            code="calendar_missing",
        )


@dataclass(frozen=True)
class CalendarResult(Generic[T]):
    """A computed value; ``estimated`` is true if any year it touched had no calendar."""

    value: T
    estimated: bool = False
    years_estimated: tuple[int, ...] = ()


@dataclass(frozen=True)
class DayInfo:
    date: date
    is_workday: bool
    kind: Literal["workday", "weekend", "holiday", "makeup_workday"]
    holiday_name: str


# --- Rows -----------------------------------------------------------------


class _Snapshot:
    """The calendar rows of the years loaded so far, for one call or one `cached()` block."""

    def __init__(self) -> None:
        self._covered: dict[int, bool] = {}
        self._days: dict[date, tuple[str, str]] = {}

    def load(self, years: Iterable[int]) -> None:
        wanted = {y for y in years if y not in self._covered}
        if not wanted:
            return
        # The notice for year y+1 may declare late-December dates of year y, so its rows
        # come along; one LEFT JOIN query returns every year's row and its days.
        fetch = sorted(wanted | {y + 1 for y in wanted})
        # Plain SQL: every service call computing a deadline runs this, and the ORM's
        # query building cost several times the query itself (bench/cases_flow.py).
        year_table, day_table = CalendarYear._meta.db_table, CalendarDay._meta.db_table
        sql = (
            f"SELECT y.year, d.date, d.kind, d.holiday_name FROM {year_table} y"  # noqa: S608
            f" LEFT OUTER JOIN {day_table} d ON d.calendar_year_id = y.id"
            f" WHERE y.year IN ({', '.join(['%s'] * len(fetch))})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, fetch)
            rows = cursor.fetchall()
        found: set[int] = set()
        for year, day, kind, name in rows:
            found.add(year)
            if day is not None:
                if isinstance(day, str):  # SQLite without declared-type conversion
                    day = date.fromisoformat(day)
                self._days[day] = (kind, name)
        for year in wanted:
            self._covered[year] = year in found

    def covered(self, year: int) -> bool:
        found = self._covered.get(year)  # asked once per day counted: skip load()'s set
        if found is None:
            self.load((year,))
            found = self._covered[year]
        return found

    def entry(self, day: date) -> tuple[str, str] | None:
        return self._days.get(day)


_active: contextvars.ContextVar[_Snapshot | None] = contextvars.ContextVar(
    "digitalcity_calendar_snapshot", default=None
)


@contextmanager
def cached() -> Iterator[None]:
    """Share one snapshot of the calendar rows among all calls inside the block.

    For one request or one worker batch only: edits made by others during the block are
    not seen until it ends. Nested blocks reuse the outer snapshot.
    """
    if _active.get() is not None:
        yield
        return
    token = _active.set(_Snapshot())
    try:
        yield
    finally:
        _active.reset(token)


class _Calc:
    """One computation: the snapshot it reads and the years it had to estimate."""

    def __init__(self, allow_estimate: bool | None) -> None:
        self.snapshot = _active.get() or _Snapshot()
        self.allow_estimate = (
            settings.DC_CALENDAR_ALLOW_ESTIMATE if allow_estimate is None else allow_estimate
        )
        self.estimated: set[int] = set()

    def preload(self, first: date, last: date) -> None:
        self.snapshot.load(range(first.year, last.year + 1))

    def check_year(self, year: int) -> None:
        if self.snapshot.covered(year):
            return
        if not self.allow_estimate:
            raise CalendarMissingError(year)
        self.estimated.add(year)

    def info(self, day: date) -> DayInfo:
        self.check_year(day.year)
        entry = self.snapshot.entry(day)
        if entry is not None:
            kind, name = entry
            if kind == CalendarDayKind.MAKEUP_WORKDAY:
                return DayInfo(day, True, "makeup_workday", name)
            return DayInfo(day, False, "holiday", name)
        if day.weekday() < 5:
            return DayInfo(day, True, "workday", "")
        return DayInfo(day, False, "weekend", "")

    def is_workday(self, day: date) -> bool:
        # info()'s rule without building a DayInfo: deadlines ask this once per day counted.
        self.check_year(day.year)
        entry = self.snapshot.entry(day)
        if entry is not None:
            return entry[0] == CalendarDayKind.MAKEUP_WORKDAY
        return day.weekday() < 5

    def result(self, value: T) -> CalendarResult[T]:
        years = tuple(sorted(self.estimated))
        return CalendarResult(value=value, estimated=bool(years), years_estimated=years)


def missing_years(years: Iterable[int]) -> list[int]:
    """The years among ``years`` that have no calendar (one query)."""
    wanted = set(years)
    have = set(CalendarYear.objects.filter(year__in=wanted).values_list("year", flat=True))
    return sorted(wanted - have)


# --- Working days ---------------------------------------------------------


def day_info(d: date, *, allow_estimate: bool | None = None) -> CalendarResult[DayInfo]:
    """What kind of day ``d`` is (workday, weekend, holiday, makeup_workday) and its name."""
    calc = _Calc(allow_estimate)
    return calc.result(calc.info(d))


def is_workday_ex(d: date, *, allow_estimate: bool | None = None) -> CalendarResult[bool]:
    calc = _Calc(allow_estimate)
    return calc.result(calc.is_workday(d))


def is_workday(d: date) -> bool:
    """Whether ``d`` is a working day; raises `CalendarMissingError` for an uncovered year."""
    return is_workday_ex(d, allow_estimate=False).value


def add_workdays_ex(
    start: date, n: int, *, allow_estimate: bool | None = None
) -> CalendarResult[date]:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0 or n > MAX_WORKDAYS:
        raise ValidationError(
            _("工作日数 n 必须是 0 到 %(max)s 之间的整数，收到 %(n)r")
            % {"max": MAX_WORKDAYS, "n": n},
            code="invalid_workdays",
        )
    calc = _Calc(allow_estimate)
    if n == 0:
        return calc.result(start)
    calc.preload(start, start + timedelta(days=366))
    cur, counted = start, 0
    while counted < n:
        cur += _ONE_DAY
        if calc.is_workday(cur):
            counted += 1
    return calc.result(cur)


def add_workdays(start: date, n: int) -> date:
    """The n-th working day after ``start`` (``start`` never counts; ``n == 0`` → ``start``)."""
    return add_workdays_ex(start, n, allow_estimate=False).value


def workdays_between_ex(
    a: date, b: date, *, allow_estimate: bool | None = None
) -> CalendarResult[int]:
    calc = _Calc(allow_estimate)
    sign, lo, hi = (1, a, b) if a <= b else (-1, b, a)
    calc.preload(lo, hi)
    count, cur = 0, lo
    while cur < hi:
        cur += _ONE_DAY
        if calc.is_workday(cur):
            count += 1
    return calc.result(sign * count)


def workdays_between(a: date, b: date) -> int:
    """Working days in ``(a, b]``; negative when ``b < a``; 0 when equal."""
    return workdays_between_ex(a, b, allow_estimate=False).value


def workdays_in_year(year: int) -> int:
    """The number of working days in ``year`` (strict: raises for an uncovered year)."""
    return workdays_between(date(year - 1, 12, 31), date(year, 12, 31))


# --- Working hours --------------------------------------------------------

_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def office_hours() -> tuple[tuple[time, time], ...]:
    """``settings.DC_OFFICE_HOURS`` parsed into ordered, non-overlapping (start, end) spans."""
    raw = settings.DC_OFFICE_HOURS
    spans: list[tuple[time, time]] = []
    for part in str(raw).split(","):
        match = _SPAN.match(part)
        try:
            if match is None:
                raise ValueError(part)
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            span = (time(h1, m1), time(h2, m2))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"DC_OFFICE_HOURS 的值 {raw!r} 无效：应为逗号分隔的 HH:MM-HH:MM 时段，"
                f"如 09:00-12:00,13:30-17:30"
            ) from exc
        if span[0] >= span[1] or (spans and span[0] < spans[-1][1]):
            raise ImproperlyConfigured(
                f"DC_OFFICE_HOURS 的值 {raw!r} 无效："
                "每个时段须开始早于结束，且按时间先后排列、互不重叠"
            )
        spans.append(span)
    return tuple(spans)


def _hours_to_timedelta(hours: float | Decimal | int) -> timedelta:
    try:
        value = Decimal(str(hours)) if isinstance(hours, float) else Decimal(hours)
    except (InvalidOperation, TypeError, ValueError):
        value = Decimal("NaN")
    if not value.is_finite() or value < 0 or value > MAX_WORKDAYS * 24:
        raise ValidationError(
            _("工作时数 hours 必须是 0 到 %(max)s 之间的数，收到 %(hours)r")
            % {"max": MAX_WORKDAYS * 24, "hours": hours},
            code="invalid_workhours",
        )
    micro = (value * _MICROSECONDS_PER_HOUR).to_integral_value(rounding=ROUND_HALF_EVEN)
    return timedelta(microseconds=int(micro))


def _local(moment: datetime, name: str) -> datetime:
    if timezone.is_naive(moment):
        raise ValueError(f"{name} 必须是带时区的 datetime（aware），收到无时区的 {moment!r}")
    return timezone.localtime(moment, timezone.get_default_timezone())


def _office_spans(day: date) -> Iterator[tuple[datetime, datetime]]:
    tz = timezone.get_default_timezone()
    for begin, end in office_hours():
        yield datetime.combine(day, begin, tzinfo=tz), datetime.combine(day, end, tzinfo=tz)


def add_workhours_ex(
    start: datetime, hours: float | Decimal | int, *, allow_estimate: bool | None = None
) -> CalendarResult[datetime]:
    remaining = _hours_to_timedelta(hours)
    cursor = _local(start, "start")
    calc = _Calc(allow_estimate)
    calc.preload(cursor.date(), cursor.date() + timedelta(days=366))
    day = cursor.date()
    while True:
        if calc.is_workday(day):
            for span_start, span_end in _office_spans(day):
                if span_end <= cursor:
                    continue
                begin = max(cursor, span_start)
                available = span_end - begin
                if remaining <= available:
                    return calc.result(begin + remaining)
                remaining -= available
        day += _ONE_DAY
        cursor = datetime.combine(day, time.min, tzinfo=cursor.tzinfo)


def add_workhours(start: datetime, hours: float | Decimal | int) -> datetime:
    """The moment ``hours`` office hours after ``start`` (see the module docstring, rule 4)."""
    return add_workhours_ex(start, hours, allow_estimate=False).value


def workhours_between_ex(
    a: datetime, b: datetime, *, allow_estimate: bool | None = None
) -> CalendarResult[float]:
    lo, hi = _local(a, "a"), _local(b, "b")
    sign = 1
    if hi < lo:
        sign, lo, hi = -1, hi, lo
    calc = _Calc(allow_estimate)
    calc.preload(lo.date(), hi.date())
    total = timedelta(0)
    day = lo.date()
    while day <= hi.date():
        if calc.is_workday(day):
            for span_start, span_end in _office_spans(day):
                overlap = min(span_end, hi) - max(span_start, lo)
                if overlap > timedelta(0):
                    total += overlap
        day += _ONE_DAY
    return calc.result(sign * total.total_seconds() / 3600)


def workhours_between(a: datetime, b: datetime) -> float:
    """Office hours inside ``[a, b]``; negative when ``b < a``."""
    return workhours_between_ex(a, b, allow_estimate=False).value
