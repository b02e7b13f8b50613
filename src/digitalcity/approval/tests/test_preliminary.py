"""Art. 43 lower-level preliminary review (下级初审): an item with a preliminary (county)
department goes there first after acceptance, with its own 20-working-day clock; the
deciding level's legal and promised clocks start when the county reports up. Dates are
hand-checked against the 2026 calendar (see test_clocks.py's header)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from digitalcity.cases.choices import ClockState
from digitalcity.cases.models import Clock, Event
from digitalcity.core.models import MembershipRole
from digitalcity.identity.models import AccountKind, User
from digitalcity.identity.tests.factories import DepartmentFactory, MembershipFactory, UserFactory

from ..jobs import run_deadlines
from ..models import Application
from ..services import application_accept, application_apply, preliminary_opinion, review_opinion
from ..supervision import findings
from .conftest import at
from .factories import FORM_DATA, World, case_of, uploads

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _due(application: Application, code: str) -> str:
    clock = Clock.objects.get(case=application.case, task__isnull=True, code=code)
    assert clock.due_at is not None
    return clock.due_at.astimezone(SH).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def county(world: World) -> User:
    """Department C (a county bureau) does the preliminary review of the single item."""
    department = DepartmentFactory.create(name="丙县局", code="county-c")
    clerk = UserFactory.create(
        username="county_c", real_name="孙丙", kind=AccountKind.STAFF, id_number=None
    )
    MembershipFactory.create(user=clerk, department=department, role=MembershipRole.CLERK)
    world.single.preliminary_department = department
    world.single.review_days = 8  # not the type's default 5: the item's own stage limit
    world.single.save()
    return clerk


def _apply(w: World) -> Application:
    return application_apply(
        item=w.single, actor=w.p.legal_person, form_data=FORM_DATA, uploads=uploads()
    )


def test_the_county_reviews_first_within_20_days_then_the_city_clocks_start(
    world: World, county: User
) -> None:
    w = world
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):  # Monday
        application = _apply(w)
        application_accept(application=application, actor=w.window_a)
    case = case_of(application)
    case.refresh_from_db()
    assert case.state == "preliminary"
    # 20 working days after Mon 11-02: 11-06 (4), 11-13 (9), 11-20 (14), 11-27 (19), 11-30.
    assert _due(application, "preliminary") == "2026-11-30 23:59:59"
    # The deciding level's clocks have not started; only the county has a task.
    legal = Clock.objects.get(case=case, task__isnull=True, code="legal")
    assert legal.state != ClockState.RUNNING
    assert legal.due_at is None
    tasks = list(case.tasks.all())
    assert [(t.spec, t.department_id) for t in tasks] == [
        ("preliminary_review", w.single.preliminary_department_id)
    ]
    with time_machine.travel(at(2026, 11, 25, 10), tick=False):  # Wednesday
        with pytest.raises(PermissionDenied):  # the city reviews only after the county
            preliminary_opinion(
                application=application, actor=w.p.clerk_a, outcome="agree", opinion="同意"
            )
        with pytest.raises(PermissionDenied):
            review_opinion(application=application, actor=w.p.clerk_a, outcome="agree", opinion="x")
        with pytest.raises(ValidationError):  # an opinion is required
            preliminary_opinion(application=application, actor=county, outcome="agree", opinion="")
        preliminary_opinion(
            application=application, actor=county, outcome="agree", opinion="经初审，符合条件"
        )
    case.refresh_from_db()
    assert case.state == "reviewing"
    prelim = Clock.objects.get(case=case, task__isnull=True, code="preliminary")
    assert prelim.state == ClockState.STOPPED
    assert prelim.used == 17  # 11-03 … 11-25: 4 + 5 + 5 + 3 working days
    # The city's own limits from Wed 11-25: legal 20 → 11-27 (2), 12-04 (7), 12-11 (12),
    # 12-18 (17), 12-21, 22, 23 (20); promised 10 → 12-04 (7), 12-07, 08, 09 (10).
    assert _due(application, "legal") == "2026-12-23 23:59:59"
    assert _due(application, "promised") == "2026-12-09 23:59:59"
    review = case.tasks.get(spec="review")
    assert review.department_id == w.single.lead_department_id
    # The item's stage limit (8): 11-26, 27, 30, 12-01, 02, 03, 04, 07.
    stage = Clock.objects.get(task=review, code="stage")
    assert stage.limit == 8
    assert stage.due_at is not None
    assert stage.due_at.astimezone(SH).strftime("%Y-%m-%d") == "2026-12-07"
    event = Event.objects.get(case=case, transition="preliminary_done")
    assert event.public
    assert "经初审，符合条件" in event.reason
    with pytest.raises(ValidationError):  # once only
        preliminary_opinion(application=application, actor=county, outcome="agree", opinion="再")


def test_a_deemed_acceptance_also_goes_to_the_county_first(world: World, county: User) -> None:
    w = world
    with time_machine.travel(at(2026, 9, 18, 10), tick=False):  # Friday
        application = _apply(w)
    with time_machine.travel(at(2026, 9, 25, 1), tick=False):
        assert run_deadlines() == 1
    case = case_of(application)
    case.refresh_from_db()
    assert case.state == "preliminary"
    assert Event.objects.get(case=case, transition="deemed_accept_preliminary").actor_id is None
    # From receipt (Fri 09-18): Sun 09-20 make-up (1), 09-24 (5), 09-30 (8), 10-09 (10),
    # Sat 10-10 make-up (11), 10-16 (16), 10-19, 20, 21, 22 (20).
    assert _due(application, "preliminary") == "2026-10-22 23:59:59"


def test_an_overdue_preliminary_review_is_the_countys_card(world: World, county: User) -> None:
    import datetime

    from digitalcity.cases.sweep import sweep

    w = world
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        application = _apply(w)
        application_accept(application=application, actor=w.window_a)
    with time_machine.travel(at(2026, 12, 1, 9), tick=False):  # the day after 11-30
        sweep()
    cards = [
        f
        for f in findings(datetime.date(2026, 10, 1), datetime.date(2027, 1, 1))
        if f.rule == "下级初审超时"
    ]
    assert cards
    assert {f.department_id for f in cards} == {w.single.preliminary_department_id}
    assert {f.level for f in cards} >= {"yellow"}
    assert case_of(application).number in {f.number for f in cards}


def test_the_county_clerk_acts_on_the_page_and_the_outsider_gets_404(
    world: World, county: User, client: Client
) -> None:
    w = world
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        application = _apply(w)
        application_accept(application=application, actor=w.window_a)
        client.force_login(w.p.clerk_b)
        assert client.get(f"/approval/workbench/{application.pk}/").status_code == 404
        client.force_login(county)
        page = client.get(f"/approval/workbench/{application.pk}/")
        assert page.status_code == 200
        assert "下级初审意见" in page.content.decode()
        response = client.post(
            f"/approval/workbench/{application.pk}/preliminary/",
            {"preliminary-outcome": "agree", "preliminary-opinion": "符合条件，同意报送"},
        )
        assert response.status_code == 302
    case = case_of(application)
    case.refresh_from_db()
    assert case.state == "reviewing"
    assert "丙县局" in client.get(f"/approval/items/{w.single.code}/").content.decode()
