"""Clock arithmetic: due, prompt and red moments from the core calendar (docs/cases.md).

Only `digitalcity.core.calendar` is used, through its ``*_ex`` functions, so a year
without calendar rows raises `CalendarMissingError` (a Chinese ValidationError) unless
``DC_CALENDAR_ALLOW_ESTIMATE`` is on, in which case the clock is flagged ``estimated``.

Rules (units are the clock's own):

1. ``remaining = limit + extended - used``; ``used`` counts earlier running segments.
2. Working days: the moment ``n`` units after a segment start ``s`` is the end
   (23:59:59 local) of ``add_workdays(date(s), n)``: the start day never counts. A pause
   on day ``p`` adds ``workdays_between(date(s), p)`` — the working days in ``(s, p]`` —
   so a pause on the start day costs nothing, the pause day itself counts, and the day
   of resumption does not.
3. Working hours: ``add_workhours(s, n)``; a pause adds ``workhours_between(s, p)``.
4. Calendar days (the law counts natural days): end of ``date(s) + n days``; a pause
   adds ``(date(p) - date(s)).days``. Calendar hours: ``s + n hours``; a pause adds the
   hours elapsed.
5. ``due = moment(s, remaining)``; ``prompt = moment(s, remaining - prompt_before)``
   (at ``s`` itself if no more than ``prompt_before`` remain; none if prompt_before is 0);
   ``red = moment(s, remaining + red_after)`` (none without red_after). When nothing
   remains at all the clock is due at ``s``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from digitalcity.core import calendar

from .choices import ClockUnit, SignalStage
from .models import Clock

__all__ = [
    "STAGE_ORDER",
    "Moments",
    "consumed",
    "end_of_day",
    "moment_after",
    "moments",
    "next_signal",
    "remaining",
    "settle_stage",
]

STAGE_ORDER = (SignalStage.NONE, SignalStage.PROMPTED, SignalStage.YELLOW, SignalStage.RED)
_LAST_SECOND = time(23, 59, 59)


def end_of_day(day: date) -> datetime:
    """The last second of `day` in the platform's time zone: a day-counted limit's due moment."""
    return datetime.combine(day, _LAST_SECOND, tzinfo=timezone.get_default_timezone())


def _local_date(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def moment_after(unit: str, start: datetime, amount: Decimal | int) -> tuple[datetime, bool]:
    """The moment `amount` units after `start`, and whether the calendar was estimated."""
    if amount <= 0:
        return start, False
    if unit == ClockUnit.WORKHOURS:
        hours = calendar.add_workhours_ex(start, Decimal(amount))
        return hours.value, hours.estimated
    if unit == ClockUnit.CALENDAR_HOURS:
        # Round-the-clock hours are plain elapsed time: no calendar is involved.
        return start + timedelta(seconds=float(Decimal(amount) * 3600)), False
    whole = int(Decimal(amount).to_integral_value(rounding="ROUND_CEILING"))
    if unit == ClockUnit.CALENDAR_DAYS:
        return end_of_day(_local_date(start) + timedelta(days=whole)), False
    days = calendar.add_workdays_ex(_local_date(start), whole)
    return end_of_day(days.value), days.estimated


def consumed(
    unit: str, start: datetime, end: datetime, *, allow_estimate: bool | None = None
) -> tuple[Decimal, bool]:
    """Units used between `start` and `end` (rules 2–4), and whether estimated.

    `allow_estimate=None` follows DC_CALENDAR_ALLOW_ESTIMATE; reads for display pass True
    so a page never fails on a year without calendar data (the figure is flagged instead).
    """
    if end <= start:
        return Decimal(0), False
    if unit == ClockUnit.WORKHOURS:
        hours = calendar.workhours_between_ex(start, end, allow_estimate=allow_estimate)
        return Decimal(str(round(hours.value, 4))), hours.estimated
    if unit == ClockUnit.CALENDAR_DAYS:
        return Decimal((_local_date(end) - _local_date(start)).days), False
    if unit == ClockUnit.CALENDAR_HOURS:
        return Decimal(str(round((end - start).total_seconds() / 3600, 4))), False
    days = calendar.workdays_between_ex(
        _local_date(start), _local_date(end), allow_estimate=allow_estimate
    )
    return Decimal(days.value), days.estimated


def remaining(clock: Clock) -> Decimal:
    return Decimal(clock.limit + clock.extended) - Decimal(clock.used)


@dataclass(frozen=True)
class Moments:
    prompt_at: datetime | None
    due_at: datetime
    red_at: datetime | None
    estimated: bool


def moments(clock: Clock) -> Moments:
    """Prompt, due and red moments of a running clock (rule 5)."""
    assert clock.segment_started_at is not None  # noqa: S101 - only running clocks get here
    start = clock.segment_started_at
    left = remaining(clock)
    due_at, estimated = moment_after(clock.unit, start, left)
    prompt_at: datetime | None = None
    if clock.prompt_before > 0:
        prompt_at, est = moment_after(clock.unit, start, left - clock.prompt_before)
        estimated = estimated or est
    red_at: datetime | None = None
    if clock.red_after is not None:
        red_at, est = moment_after(clock.unit, start, max(left, Decimal(0)) + clock.red_after)
        estimated = estimated or est
        red_at = max(red_at, due_at)
    return Moments(prompt_at=prompt_at, due_at=due_at, red_at=red_at, estimated=estimated)


def _moment_of(stage: str, clock: Clock) -> datetime | None:
    return {
        SignalStage.PROMPTED: clock.prompt_at,
        SignalStage.YELLOW: clock.due_at,
        SignalStage.RED: clock.red_at,
    }.get(SignalStage(stage))


def next_signal(clock: Clock) -> datetime | None:
    """The moment of the first stage after `clock.signal_stage` that has a moment."""
    index = STAGE_ORDER.index(SignalStage(clock.signal_stage))
    for stage in STAGE_ORDER[index + 1 :]:
        moment = _moment_of(stage, clock)
        if moment is not None:
            return moment
    return None


def settle_stage(clock: Clock, now: datetime) -> None:
    """After the moments moved: lower the stage to what has really been reached, so an
    extension re-arms the cards, but never raise it (only the worker raises a stage, with
    a signal); then point `next_signal_at` at the next stage."""
    reached = SignalStage.NONE
    for stage in STAGE_ORDER[1:]:
        moment = _moment_of(stage, clock)
        if moment is not None and moment <= now:
            reached = stage
    current = STAGE_ORDER.index(SignalStage(clock.signal_stage))
    clock.signal_stage = STAGE_ORDER[min(current, STAGE_ORDER.index(reached))]
    clock.next_signal_at = next_signal(clock)
