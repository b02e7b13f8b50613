"""The workbench's warning that next year's holiday arrangement is not in the calendar yet.

Without a year's calendar rows every deadline reaching into it raises CalendarMissingError
(docs/decisions/0005): a 12345 order taken in late December, or an approval accepted today
whose 45-working-day limit ends in January, is refused. The State Council publishes the
notice around November; the information office imports it (docs/operations.md "The
calendar each November"). Administrators and data officers see the warning on their
workbench while there is still time; the dates themselves are never guessed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from digitalcity.core.models import CalendarYear, CalendarYearStatus, MembershipRole
from digitalcity.identity.permissions import is_admin

#: How far ahead the workbench looks. The longest statutory clock of the platform is an
#: approval's (Art. 42: 45 working days, extended by 15): about three calendar months.
#: `digitalcity calendar check` (monitoring) fails later, 60 days ahead.
HORIZON_DAYS = 100

_ROLES = (MembershipRole.ADMIN, MembershipRole.DATA_OFFICER)


@dataclass(frozen=True)
class CalendarNotice:
    year: int
    missing: bool  # False: the year is there but marked 暂定 (provisional)
    days_left: int  # days from today to 1 January of the year
    import_url: str | None  # the admin's import page, for those who may open it
    estimated: bool  # DC_CALENDAR_ALLOW_ESTIMATE: such deadlines are guessed, not refused


def sees_calendar_notice(user: Any, memberships: list[Any]) -> bool:
    """Administrators (of the platform or of a department) and data officers."""
    return is_admin(user) or any(m.role in _ROLES for m in memberships)


def calendar_notices(user: Any, today: date) -> list[CalendarNotice]:
    """The years within HORIZON_DAYS of `today` that are missing or provisional (one query)."""
    horizon = today + timedelta(days=HORIZON_DAYS)
    years = range(today.year, horizon.year + 1)
    status = dict(CalendarYear.objects.filter(year__in=years).values_list("year", "status"))
    may_import = user.is_staff and user.has_perms(
        ["core.add_calendaryear", "core.change_calendaryear"]
    )
    url = _import_url() if may_import else None
    return [
        CalendarNotice(
            year=year,
            missing=year not in status,
            days_left=max((date(year, 1, 1) - today).days, 0),
            import_url=url,
            estimated=settings.DC_CALENDAR_ALLOW_ESTIMATE,
        )
        for year in years
        if status.get(year, CalendarYearStatus.PROVISIONAL) == CalendarYearStatus.PROVISIONAL
    ]


def _import_url() -> str | None:
    try:
        return reverse("admin:core_calendaryear_import")
    except NoReverseMatch:
        return None
