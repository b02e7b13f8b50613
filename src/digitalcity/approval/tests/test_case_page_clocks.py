"""The generic case page (cases app) shows only the clocks that apply to the case: an
approval accepted without a county preliminary review has no 初审时限; one with it has."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client

from digitalcity.core.models import MembershipRole
from digitalcity.identity.models import AccountKind
from digitalcity.identity.tests.factories import DepartmentFactory, MembershipFactory, UserFactory

from ..models import Application
from ..services import application_accept, application_apply
from .conftest import at
from .factories import FORM_DATA, World, case_of, uploads

pytestmark = pytest.mark.django_db


def _accepted(w: World) -> Application:
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):  # Monday
        application = application_apply(
            item=w.single, actor=w.p.legal_person, form_data=FORM_DATA, uploads=uploads()
        )
        application_accept(application=application, actor=w.window_a)
    return application


def _clock_labels(client: Client, w: World, application: Application) -> str:
    with time_machine.travel(at(2026, 11, 3, 10), tick=False):
        client.force_login(w.window_a)
        response = client.get(f"/workbench/cases/{case_of(application).number}/")
    assert response.status_code == 200
    page = response.content.decode()
    start = page.index('id="clocks-title"')
    return page[start : page.index("</section>", start)]


def test_an_approval_without_preliminary_review_shows_no_preliminary_clock(
    world: World, client: Client
) -> None:
    application = _accepted(world)
    # The engine keeps a row for every clock of the type, the unused one included.
    assert case_of(application).clocks.filter(code="preliminary", task=None).exists()
    clocks = _clock_labels(client, world, application)
    assert "法定时限" in clocks
    assert "承诺时限" in clocks
    assert "送达时限" in clocks  # not started yet, but granting starts it
    assert "初审时限" not in clocks
    assert "受理时限" in clocks  # stopped at acceptance: shown as ended


def test_an_approval_with_preliminary_review_shows_its_clock(world: World, client: Client) -> None:
    county = DepartmentFactory.create(name="丙县局", code="county-c")
    clerk = UserFactory.create(
        username="county_c", real_name="孙丙", kind=AccountKind.STAFF, id_number=None
    )
    MembershipFactory.create(user=clerk, department=county, role=MembershipRole.CLERK)
    world.single.preliminary_department = county
    world.single.save()
    clocks = _clock_labels(client, world, _accepted(world))
    assert "初审时限" in clocks
    assert "法定时限" in clocks  # starts when the county reports up
