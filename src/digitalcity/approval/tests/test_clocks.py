"""Clock scenarios against hand-checked dates (2026 calendar from chinesecalendar):
Mid-autumn Fri 09-25 off; National Day Thu 10-01 – Wed 10-07 off; Sun 09-20 and
Sat 10-10 are make-up working days; no other holiday until 2026-12-31."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from digitalcity.cases.choices import ClockState
from digitalcity.cases.models import Clock, Event

from ..jobs import deemed_acceptances, run_deadlines
from ..models import Application
from ..services import (
    application_accept,
    application_apply,
    application_extend,
    application_pause,
    application_resume,
)
from .conftest import at
from .factories import FORM_DATA, World, case_of, uploads

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _day(clock: Clock) -> str:
    assert clock.due_at is not None
    return clock.due_at.astimezone(SH).strftime("%Y-%m-%d %H:%M:%S")


def _clock(application: Application, code: str) -> Clock:
    return Clock.objects.get(case=application.case, task__isnull=True, code=code)


def test_a_hearing_pause_and_an_extension_move_the_legal_limit_to_hand_checked_dates(
    world: World,
) -> None:
    w = world
    # Joint item: legal 45 working days (+15 once), promised 10.
    with time_machine.travel(at(2026, 9, 7, 10), tick=False):  # Monday
        application = application_apply(
            item=w.item, actor=w.p.citizen, form_data=FORM_DATA, uploads=uploads()
        )
        application_accept(application=application, actor=w.window_a)
    # 45 working days after Mon 09-07: 09-11 (4), 09-18 (9), Sunday 09-20 make-up (10),
    # 09-24 (14), 09-30 (17), 10-08..09 (19), Saturday 10-10 make-up (20), 10-16 (25),
    # then 5 a week: 10-23 (30), 10-30 (35), 11-06 (40), 11-13 (45).
    assert _day(_clock(application, "legal")) == "2026-11-13 23:59:59"
    with time_machine.travel(at(2026, 9, 10, 10), tick=False):  # Thursday
        application_pause(
            application=application, actor=w.p.clerk_a, kind="hearing", reason="申请人要求听证"
        )
    legal = _clock(application, "legal")
    assert legal.state == ClockState.PAUSED
    assert legal.used == 3  # 09-08, 09-09, 09-10: the pause day counts, the start day not
    # Art. 45: every running clock pauses, the departments' stage clocks too.
    running = Clock.objects.filter(case=application.case, code__in=("legal", "promised", "stage"))
    assert {c.state for c in running} == {ClockState.PAUSED}
    assert running.count() == 4
    paused = Event.objects.get(case=application.case, transition="pause_hearing")
    assert paused.public  # the applicant is told
    with time_machine.travel(at(2026, 9, 28, 9), tick=False):  # Monday, hearing over
        application_resume(application=application, actor=w.p.clerk_a, reason="听证结束")
    # 42 left from Mon 09-28 (its own day not counted): 09-30 (2), 10-09 (4), 10-10 (5),
    # 10-16 (10), 10-23 (15), … 11-27 (40), 11-30, 12-01 (42).
    assert _day(_clock(application, "legal")) == "2026-12-01 23:59:59"
    # The promised limit: 7 left from 09-28: 09-29, 09-30, 10-08, 10-09, 10-10, 10-12, 10-13.
    assert _day(_clock(application, "promised")) == "2026-10-13 23:59:59"
    with time_machine.travel(at(2026, 10, 13, 9), tick=False):
        with pytest.raises(PermissionDenied):  # a clerk cannot approve an extension
            application_extend(application=application, actor=w.p.clerk_a, reason="情况复杂")
        application_extend(application=application, actor=w.head_a, reason="需现场核查")
    # +15 (joint): 57 left from 09-28: 12-04 (45), 12-11 (50), 12-18 (55), 12-21, 12-22.
    legal = _clock(application, "legal")
    assert legal.extended == 15
    assert _day(legal) == "2026-12-22 23:59:59"
    assert Event.objects.get(case=application.case, kind="clock_extended").public
    with (
        time_machine.travel(at(2026, 10, 14, 9), tick=False),
        pytest.raises(ValidationError) as info,  # Art. 42: once
    ):
        application_extend(application=application, actor=w.head_a, reason="再延")
    assert "最多延期 1 次" in str(info.value)


def test_the_single_department_extension_is_ten_days(world: World) -> None:
    w = world
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):  # Monday
        application = application_apply(
            item=w.single,
            actor=w.p.legal_person,
            form_data=FORM_DATA,
            uploads=uploads(),
        )
        application_accept(application=application, actor=w.window_a)
        # 20 working days after Mon 11-02: 11-06 (4), 11-13 (9), 11-20 (14), 11-27 (19), 11-30.
        assert _day(_clock(application, "legal")) == "2026-11-30 23:59:59"
        application_extend(application=application, actor=w.head_a, reason="需专家论证")
    # +10: 12-07 (25), 12-14 (30).
    assert _day(_clock(application, "legal")) == "2026-12-14 23:59:59"


def test_art_32_no_correction_notice_in_five_days_means_accepted(world: World) -> None:
    w = world
    with time_machine.travel(at(2026, 9, 18, 10), tick=False):  # Friday
        application = application_apply(
            item=w.item, actor=w.p.citizen, form_data=FORM_DATA, uploads=uploads()
        )
    # 5 working days after Fri 09-18: Sun 09-20 (make-up), 09-21, 22, 23, 24.
    assert _day(_clock(application, "acceptance")) == "2026-09-24 23:59:59"
    with time_machine.travel(at(2026, 9, 24, 20), tick=False):
        assert deemed_acceptances(now=at(2026, 9, 24, 20)) == 0
    with time_machine.travel(at(2026, 9, 25, 1), tick=False):
        assert run_deadlines() == 1
    case_of(application).refresh_from_db()
    assert case_of(application).state == "reviewing"
    event = Event.objects.get(case=application.case, transition="deemed_accept")
    assert "第三十二条" in event.reason
    assert event.public
    assert case_of(application).tasks.count() == 2
    assert event.actor_id is None
    assert event.actor_label == "系统"
    # Accepted from receipt (Fri 09-18 10:00), not from the job's run: 45 working days
    # after 09-18: Sunday 09-20 (1), 09-24 (5), 09-30 (8), 10-09 (10), Saturday 10-10 (11),
    # 10-16 (16), 10-23 (21), … 11-20 (41), 11-23..26 (45).
    assert _day(_clock(application, "legal")) == "2026-11-26 23:59:59"
    # Idempotent: a second run (or a second worker) changes nothing.
    with time_machine.travel(at(2026, 9, 25, 2), tick=False):
        assert run_deadlines() == 0
    assert Event.objects.filter(case=application.case, transition="deemed_accept").count() == 1


def test_a_deemed_acceptance_gives_review_tasks_the_items_stage_limit(world: World) -> None:
    w = world
    w.item.review_days = 8
    w.item.save()
    with time_machine.travel(at(2026, 9, 18, 10), tick=False):  # Friday
        application = application_apply(
            item=w.item, actor=w.p.citizen, form_data=FORM_DATA, uploads=uploads()
        )
    with time_machine.travel(at(2026, 9, 25, 1), tick=False):  # Mid-autumn, a day off
        assert run_deadlines() == 1
    stages = Clock.objects.filter(case=application.case, code="stage")
    assert stages.count() == 2
    assert {c.limit for c in stages} == {8}
    # 8 working days from the sweep (Fri 09-25, off): 09-28, 29, 30, 10-08, 09,
    # Saturday 10-10 (make-up), 10-12, 10-13.
    assert {_day(c) for c in stages} == {"2026-10-13 23:59:59"}


def test_a_correction_notice_in_time_prevents_the_deemed_acceptance(world: World) -> None:
    from ..services import application_ask_correction

    w = world
    with time_machine.travel(at(2026, 9, 18, 10), tick=False):
        application = application_apply(
            item=w.item, actor=w.p.citizen, form_data=FORM_DATA, uploads=uploads()
        )
    with time_machine.travel(at(2026, 9, 22, 10), tick=False):
        application_ask_correction(
            application=application,
            actor=w.window_a,
            items=[{"material": "id_card", "problem": "已过期"}],
        )
    with time_machine.travel(at(2026, 9, 28, 9), tick=False):
        assert run_deadlines() == 0
    case_of(application).refresh_from_db()
    assert case_of(application).state == "pre_correction"


def test_art_50_a_renewal_undecided_at_expiry_is_deemed_granted(world: World) -> None:
    import datetime

    from ..services import application_grant, review_opinion

    w = world
    with time_machine.travel(at(2026, 9, 7, 10), tick=False):
        # The single-department item (20 days): the renewal's clocks end within 2026.
        first = application_apply(
            item=w.single, actor=w.p.legal_person, form_data=FORM_DATA, uploads=uploads()
        )
        application_accept(application=first, actor=w.window_a)
        review_opinion(application=first, actor=w.p.clerk_a, outcome="agree", opinion="同意")
        licence = application_grant(application=first, actor=w.head_a, opinion="准予")
    # A licence about to expire (set directly: the scenario needs one issued years ago).
    licence.valid_until = datetime.date(2026, 11, 30)
    licence.save()
    with time_machine.travel(at(2026, 10, 30, 10), tick=False):  # 31 days before expiry
        renewal = application_apply(
            item=w.single,
            actor=w.p.legal_person,
            form_data=FORM_DATA,
            reuse=["id_card", "floor_plan"],
            renews=licence,
        )
        application_accept(application=renewal, actor=w.window_a)
    with time_machine.travel(at(2026, 11, 30, 22), tick=False):
        assert run_deadlines() == 0  # not expired yet
    with time_machine.travel(at(2026, 12, 1, 1), tick=False):
        assert run_deadlines() == 1
    licence.refresh_from_db()
    assert licence.deemed_renewal
    assert licence.valid_until == datetime.date(2030, 11, 30)
    case_of(renewal).refresh_from_db()
    assert case_of(renewal).state == "delivered"
    assert "第五十条" in Event.objects.get(case=renewal.case, transition="deemed_renew").reason


def test_a_renewal_is_taken_only_from_90_to_30_days_before_expiry(
    world: World, client: Client
) -> None:
    """Art. 50: at least 30 days before expiry; the window opens 90 days before (city rule).
    Expiry 2026-11-30: the window is 2026-09-01 to 2026-10-31 (calendar days, inclusive)."""
    import datetime

    from ..services import application_grant, review_opinion

    w = world
    with time_machine.travel(at(2026, 8, 3, 10), tick=False):
        first = application_apply(
            item=w.item, actor=w.p.citizen, form_data=FORM_DATA, uploads=uploads()
        )
        application_accept(application=first, actor=w.window_a)
        for clerk in (w.p.clerk_a, w.p.clerk_b):
            review_opinion(application=first, actor=clerk, outcome="agree", opinion="同意")
        licence = application_grant(application=first, actor=w.head_a, opinion="准予")
    licence.valid_until = datetime.date(2026, 11, 30)
    licence.save()
    client.force_login(w.p.citizen)
    page = f"/approval/my/{first.pk}/"
    renew = f"?renews={licence.pk}"

    def attempt() -> None:
        application_apply(
            item=w.item,
            actor=w.p.citizen,
            form_data=FORM_DATA,
            reuse=["id_card", "floor_plan"],
            renews=licence,
        )

    with time_machine.travel(at(2026, 8, 31, 10), tick=False):  # 91 days before: too early
        with pytest.raises(ValidationError) as info:
            attempt()
        assert "2026-09-01 起可申请延续" in str(info.value)
        html = client.get(page).content.decode()
        assert renew not in html
        assert "2026-09-01 起可申请延续" in html
    with time_machine.travel(at(2026, 11, 1, 10), tick=False):  # 29 days before: too late
        with pytest.raises(ValidationError) as info:
            attempt()
        assert "第五十条" in str(info.value)
        assert "最迟应于 2026-10-31 申请" in str(info.value)
        html = client.get(page).content.decode()
        assert renew not in html
        assert "最迟应于 2026-10-31 申请" in html
        # The apply page says so before anything is typed in.
        assert (
            "最迟应于 2026-10-31"
            in client.get(f"/approval/items/{w.item.code}/apply/{renew}").content.decode()
        )
    assert Application.objects.filter(renews=licence).count() == 0
    with time_machine.travel(at(2026, 10, 31, 10), tick=False):  # the last day
        assert renew in client.get(page).content.decode()
        attempt()
        # One renewal at a time: the button gives way to the pending application.
        html = client.get(page).content.decode()
        assert renew not in html
        assert "已有办理中的延续申请" in html
        with pytest.raises(ValidationError) as info:
            attempt()
        assert "已有办理中的延续申请" in str(info.value)
    assert Application.objects.filter(renews=licence).count() == 1
