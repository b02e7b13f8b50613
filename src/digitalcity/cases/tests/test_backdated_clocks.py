"""`case_transition(clock_start_at=…)`: a limit the law counts from receipt starts as of the
application even when acceptance comes later (e.g. acceptance deemed after 5 days).

2026: no holiday from 10-12 to 11-30.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from digitalcity.cases.choices import ClockState, EventKind, SignalStage
from digitalcity.cases.models import Clock, Event
from digitalcity.cases.services import case_transition

from .conftest import at
from .factories import open_example_case


def _accept(w, case, **kwargs):
    return case_transition(
        case=case,
        transition="accept",
        actor=w.p.clerk_a,
        input={"opinion": "材料齐全，予以受理"},
        **kwargs,
    )


def _legal(case):
    return Clock.objects.get(case=case, task=None, code="legal")


def test_the_legal_clock_counts_from_the_application(world):
    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):  # Mon: applied
        case = open_example_case(w)
    with time_machine.travel(at(2026, 10, 19, 10), tick=False):  # Mon a week later: accepted
        case = _accept(w, case, clock_start_at=case.opened_at)
    clock = _legal(case)
    # 20 working days after 10-12: 10-13..16 (4), 10-19..23 (9), 10-26..30 (14),
    # 11-02..06 (19), 11-09 (20); prompt one day before; red 5 days after (11-16).
    assert (clock.state, clock.started_at, clock.due_at, clock.prompt_at, clock.red_at) == (
        ClockState.RUNNING,
        at(2026, 10, 12, 10),
        at(2026, 11, 9, 23, 59, 59),
        at(2026, 11, 6, 23, 59, 59),
        at(2026, 11, 16, 23, 59, 59),
    )
    started = Event.objects.get(case=case, kind=EventKind.CLOCK_STARTED, task=None)
    assert started.at == at(2026, 10, 19, 10)  # the event is when it happened
    assert datetime.fromisoformat(started.data["started_at"]) == at(2026, 10, 12, 10)
    # The review tasks created by the same transition start their clocks now.
    task_clock = Clock.objects.filter(case=case, task__isnull=False).first()
    assert task_clock is not None
    assert task_clock.started_at == at(2026, 10, 19, 10)


def test_a_moment_already_passed_is_signalled_by_the_next_sweep(world):
    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = open_example_case(w)
    with time_machine.travel(at(2026, 11, 20, 10), tick=False):
        case = _accept(w, case, clock_start_at=case.opened_at)
    clock = _legal(case)
    assert clock.signal_stage == SignalStage.NONE
    assert clock.next_signal_at == clock.prompt_at
    assert clock.next_signal_at is not None
    assert clock.next_signal_at < at(2026, 11, 20, 10)


@pytest.mark.parametrize(
    "moment",
    [
        lambda case: case.opened_at - timedelta(minutes=1),
        lambda case: at(2026, 10, 20, 10),  # after now
        lambda case: datetime(2026, 10, 13, 10),  # noqa: DTZ001 - the naive moment refused
    ],
)
def test_a_start_outside_opening_to_now_is_refused_and_nothing_changes(world, moment):
    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = open_example_case(w)
    with (
        time_machine.travel(at(2026, 10, 19, 10), tick=False),
        pytest.raises(ValidationError) as refused,
    ):
        _accept(w, case, clock_start_at=moment(case))
    assert "clock_start_at" in refused.value.message_dict
    case.refresh_from_db()
    assert case.state == "submitted"
    assert _legal(case).state == ClockState.PENDING
