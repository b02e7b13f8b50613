"""Urge orders (督办): a supervisor's order with its own working-day deadline."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from digitalcity.cases.choices import EventKind, UrgeState
from digitalcity.cases.models import Event
from digitalcity.cases.services import urge_answer, urge_issue
from digitalcity.core.models import Notification

from .conftest import at
from .factories import open_example_case


def test_a_supervisor_urges_a_department_which_answers(world):
    w = world
    case = open_example_case(w)
    # Issued Wed 2026-09-30 with 3 working days: National Day off, 10-08, 10-09, 10-10 (Sat
    # make-up) → answer due by the end of 10-10.
    with time_machine.travel(at(2026, 9, 30, 10), tick=False):
        urge = urge_issue(case=case, actor=w.p.supervisor, note="群众反映迟迟未受理，请加快")
    assert urge.due_at == at(2026, 10, 10, 23, 59, 59)
    assert urge.department == w.p.department_a
    assert Notification.objects.filter(recipient=w.head_a, body__contains="督办").exists()
    assert Event.objects.filter(case=case, kind=EventKind.URGE).exists()
    with pytest.raises(PermissionDenied):
        urge_answer(urge=urge, actor=w.p.clerk_b, answer="不归我们")
    urge_answer(urge=urge, actor=w.p.clerk_a, answer="已于当日受理")
    assert urge.state == UrgeState.ANSWERED
    assert Notification.objects.filter(recipient=w.p.supervisor, body__contains="回复").exists()
    with pytest.raises(ValidationError):
        urge_answer(urge=urge, actor=w.p.clerk_a, answer="再答一次")


def test_only_a_supervisor_urges_and_only_an_involved_department(world):
    w = world
    case = open_example_case(w, co_departments=[])
    with pytest.raises(PermissionDenied):
        urge_issue(case=case, actor=w.p.clerk_a, note="催一下")
    with pytest.raises(ValidationError, match="涉及的部门"):
        urge_issue(case=case, actor=w.p.supervisor, note="催一下", department=w.p.department_b)
