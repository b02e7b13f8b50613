"""Ratings by account, one-time SMS link and call-back; dissatisfaction reopens once."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from digitalcity.cases.choices import ClockState, EventKind, RatingValue, RatingVia
from digitalcity.cases.models import Clock, Event, RatingLink
from digitalcity.cases.services import (
    case_transition,
    hash_token,
    rating_link_issue,
    rating_submit,
    task_complete,
)
from digitalcity.core.models import Notification

from .conftest import at
from .factories import open_example_case


def _closed(w, **kwargs):
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = case_transition(
            case=open_example_case(w, **kwargs),
            transition="accept",
            actor=w.p.clerk_a,
            input={"opinion": "受理"},
        )
        for task, clerk in zip(
            case.tasks.order_by("department__code"),
            [w.p.clerk_a, w.p.clerk_b, w.clerk_c],
            strict=False,
        ):
            task_complete(task=task, actor=clerk, opinion="同意")
        return case_transition(
            case=case, transition="decide", actor=w.p.clerk_a, input={"opinion": "准予"}
        )


def test_the_applicant_rates_a_closed_case_once_per_round(world):
    w = world
    case = _closed(w)
    rating = rating_submit(case=case, actor=w.p.citizen, value=RatingValue.SATISFIED, text="很快")
    assert rating.via == RatingVia.ACCOUNT
    assert rating.round == 1
    with pytest.raises(ValidationError, match="已评价"):
        rating_submit(case=case, actor=w.p.citizen, value=RatingValue.SATISFIED)


def test_an_open_case_or_a_stranger_cannot_rate(world):
    w = world
    open_case = open_example_case(w)
    with pytest.raises(ValidationError, match="办结后"):
        rating_submit(case=open_case, actor=w.p.citizen, value=RatingValue.SATISFIED)
    with pytest.raises(PermissionDenied):
        rating_submit(case=_closed(w), actor=w.p.legal_person, value=RatingValue.SATISFIED)


def test_a_one_time_link_is_texted_hashed_and_used_once(world):
    w = world
    case = _closed(w)
    link, token = rating_link_issue(case=case, actor=w.p.clerk_a)
    assert link.token_hash == hash_token(token)
    assert token not in link.token_hash
    sms = Notification.objects.get(channel="sms", to=w.p.citizen.phone)
    assert token in sms.body
    assert sms.sensitive
    rating = rating_submit(token=token, value=RatingValue.BASICALLY, text="还行")
    assert rating.via == RatingVia.LINK
    assert rating.by is None
    assert RatingLink.objects.get(pk=link.pk).used_at is not None
    with pytest.raises(ValidationError, match="已使用"):
        rating_submit(token=token, value=RatingValue.SATISFIED)
    with pytest.raises(ValidationError, match="无效"):
        rating_submit(token="forged", value=RatingValue.SATISFIED)


def test_an_expired_link_is_refused(world):
    w = world
    case = _closed(w)
    with time_machine.travel(at(2026, 10, 13, 10), tick=False):
        _link, token = rating_link_issue(case=case, actor=w.p.clerk_a)
    with (
        time_machine.travel(at(2026, 10, 21, 10), tick=False),
        pytest.raises(ValidationError, match="过期"),
    ):
        rating_submit(token=token, value=RatingValue.SATISFIED)


def test_dissatisfaction_reopens_the_case_once(world):
    w = world
    case = _closed(w)
    with time_machine.travel(at(2026, 10, 14, 10), tick=False):
        rating_submit(case=case, actor=w.p.citizen, value=RatingValue.DISSATISFIED, text="没解决")
    case.refresh_from_db()
    assert case.state == "deciding"
    assert case.closed_at is None
    assert case.round == 2
    assert Event.objects.filter(case=case, kind=EventKind.REOPENED, public=True).exists()
    clock = Clock.objects.get(case=case, task=None, code="legal")
    assert clock.state == ClockState.RUNNING
    assert clock.run == 1
    assert clock.used == 0
    with time_machine.travel(at(2026, 10, 15, 10), tick=False):
        case = case_transition(
            case=case, transition="decide", actor=w.p.clerk_a, input={"opinion": "重办"}
        )
    rating_submit(case=case, actor=w.p.citizen, value=RatingValue.DISSATISFIED, text="仍不满意")
    case.refresh_from_db()
    assert case.state == "closed"
    assert case.round == 2


def test_a_call_back_records_the_rating_for_the_applicant(world):
    w = world
    case = _closed(
        w, actor=w.p.clerk_a, applicant=None, applicant_name="李四", applicant_phone="13900000009"
    )
    rating = rating_submit(case=case, actor=w.p.clerk_a, value=RatingValue.SATISFIED)
    assert rating.via == RatingVia.PHONE
    assert rating.by == w.p.clerk_a
