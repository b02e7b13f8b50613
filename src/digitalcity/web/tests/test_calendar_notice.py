"""The workbench warns administrators and data officers, in time, that next year's holiday
arrangement is not imported (every deadline reaching into it would be refused)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from digitalcity.core.calendar import CalendarMissingError, add_workdays
from digitalcity.core.calendar_import import seed_from_chinesecalendar
from digitalcity.core.models import CalendarYear, CalendarYearStatus, Membership, MembershipRole
from digitalcity.identity.tests.factories import Personas

SH = ZoneInfo("Asia/Shanghai")
TODAY = datetime(2026, 11, 22, 10, 0, tzinfo=SH)
TITLE = "2027 年节假日安排未导入"


@pytest.fixture
def only_2026(db: None) -> None:
    CalendarYear.objects.filter(year__gt=2026).delete()
    seed_from_chinesecalendar(years=[2026])


def _workbench(client: Client, user, when: datetime = TODAY) -> str:
    with time_machine.travel(when, tick=False):
        client.force_login(user)
        response = client.get(reverse("web:workbench"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_admin_is_warned_with_the_way_to_import(
    client: Client, personas: Personas, only_2026: None
) -> None:
    # What the warning is about: a deadline in 2027 cannot be computed at all.
    with pytest.raises(CalendarMissingError):
        add_workdays(TODAY.date(), 45)
    html = _workbench(client, personas.admin)
    assert TITLE in html
    assert "距 2027 年 1 月 1 日还有 40 天" in html
    assert "现在就会被拒绝" in html
    assert f'href="{reverse("admin:core_calendaryear_import")}"' in html
    assert "digitalcity calendar import 2027.xlsx --year 2027" in html


def test_a_data_officer_is_warned_but_a_clerk_is_not(
    client: Client, personas: Personas, only_2026: None
) -> None:
    assert TITLE not in _workbench(client, personas.clerk_a)
    Membership.objects.create(
        user=personas.clerk_b, department=personas.department_b, role=MembershipRole.DATA_OFFICER
    )
    html = _workbench(client, personas.clerk_b)
    assert TITLE in html
    # No admin rights: the steps are named, the admin page is not linked.
    assert reverse("admin:core_calendaryear_import") not in html


def test_no_warning_while_next_year_is_far_off(
    client: Client, personas: Personas, only_2026: None
) -> None:
    summer = datetime(2026, 8, 1, 10, 0, tzinfo=SH)  # 1 January is 153 days away
    assert TITLE not in _workbench(client, personas.admin, summer)
    early_october = datetime(2026, 10, 1, 10, 0, tzinfo=SH)  # 92 days away: within reach
    assert TITLE in _workbench(client, personas.admin, early_october)


def test_a_provisional_year_is_flagged_and_an_official_one_is_not(
    client: Client, personas: Personas, only_2026: None
) -> None:
    year = CalendarYear.objects.create(year=2027, status=CalendarYearStatus.PROVISIONAL)
    html = _workbench(client, personas.admin)
    assert TITLE not in html
    assert "2027 年节假日安排为暂定" in html
    year.status = CalendarYearStatus.OFFICIAL
    year.save()
    html = _workbench(client, personas.admin)
    assert "2027 年节假日安排" not in html


def test_with_estimates_allowed_the_warning_says_deadlines_are_guessed(
    client: Client, personas: Personas, only_2026: None, settings
) -> None:
    settings.DC_CALENDAR_ALLOW_ESTIMATE = True
    html = _workbench(client, personas.admin)
    assert TITLE in html
    assert "只按周末估算" in html
    assert "现在就会被拒绝" not in html
