"""A clock's unit chosen per case (`case_open(clock_units=…)`): a 12345 order due in
2 natural hours and another in 7 working days, on one case type, each counting its pause
and its extension in its own unit.

2026 calendar: National Day 10-01..07 off; Sat 10-10 a make-up working day; no holiday
from 10-12 to 10-30.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from digitalcity.cases.choices import ClockState, ClockUnit
from digitalcity.cases.declare import CaseType, ClockSpec, State, Transition, register, unregister
from digitalcity.cases.models import Case, Clock
from digitalcity.cases.services import case_open, case_transition, clock_extend

from .conftest import at

ORDER = CaseType(
    code="test.order",
    prefix="TO",
    name="工单测试",
    states=[
        State("handling", "办理中", initial=True),
        State("waiting", "待补充", pauses=("deadline",)),
        State("done", "办结", final=True),
    ],
    transitions=[
        Transition("suspend", "挂起", source=("handling",), target="waiting"),
        Transition("resume", "恢复", source=("waiting",), target="handling"),
        Transition("finish", "办结", source=("handling",), target="done"),
    ],
    clocks=[ClockSpec("deadline", "办理时限", unit=ClockUnit.WORKDAYS, limit=7, prompt_before=1)],
    starts_on_open=("deadline",),
    allow_anonymous=True,
)


@pytest.fixture
def order_type():
    register(ORDER)
    yield
    unregister(ORDER.code)


def _open(w, **kwargs):
    return case_open(
        type_code="test.order",
        subject="燃气泄漏",
        actor=w.p.clerk_a,
        department=w.p.department_a,
        applicant_name="市民丙",
        channel="phone",
        **kwargs,
    )


def _move(w, case: Case, transition: str) -> Case:
    return case_transition(case=case, transition=transition, actor=w.p.clerk_a)


def _deadline(case: Case) -> Clock:
    return Clock.objects.get(case=case, code="deadline")


def test_an_order_due_in_two_natural_hours_pauses_and_extends_in_hours(world, order_type):
    w = world
    # National Day 22:00 + 2 natural hours: holidays and nights count.
    with time_machine.travel(at(2026, 10, 1, 22), tick=False):
        case = _open(
            w,
            clock_limits={"deadline": 2},
            clock_units={"deadline": ClockUnit.CALENDAR_HOURS},
        )
    clock = _deadline(case)
    assert (clock.unit, clock.due_at, clock.prompt_at) == (
        ClockUnit.CALENDAR_HOURS,
        at(2026, 10, 2, 0),
        at(2026, 10, 1, 23),  # prompt_before=1 is read as one hour
    )
    with time_machine.travel(at(2026, 10, 1, 23, 30), tick=False):
        case = _move(w, case, "suspend")
    assert (_deadline(case).state, _deadline(case).used) == (ClockState.PAUSED, Decimal("1.5"))
    # Resumed at 08:00 next morning: half an hour left.
    with time_machine.travel(at(2026, 10, 2, 8), tick=False):
        case = _move(w, case, "resume")
        assert _deadline(case).due_at == at(2026, 10, 2, 8, 30)
        clock_extend(clock=_deadline(case), amount=3, reason="需联系燃气公司", approved_by=w.head_a)
    assert _deadline(case).due_at == at(2026, 10, 2, 11, 30)


def test_an_order_due_in_seven_working_days_pauses_and_extends_in_days(world, order_type):
    w = world
    # Mon 10-12 + 7 working days: 10-13..16 (4), 10-19..21 (7) → end of Wed 10-21.
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = _open(w, clock_units={"deadline": ClockUnit.WORKDAYS})
    assert _deadline(case).due_at == at(2026, 10, 21, 23, 59, 59)
    # Suspended Thu 10-15: 10-13, 10-14, 10-15 used; resumed Tue 10-20: 4 left from 10-20.
    with time_machine.travel(at(2026, 10, 15, 16), tick=False):
        case = _move(w, case, "suspend")
    assert _deadline(case).used == 3
    with time_machine.travel(at(2026, 10, 20, 9), tick=False):
        case = _move(w, case, "resume")
        assert _deadline(case).due_at == at(2026, 10, 26, 23, 59, 59)
        clock_extend(clock=_deadline(case), amount=2, reason="需现场核实", approved_by=w.head_a)
    assert _deadline(case).due_at == at(2026, 10, 28, 23, 59, 59)


def test_without_clock_units_the_declared_unit_counts(world, order_type):
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = _open(world)
    assert _deadline(case).unit == ClockUnit.WORKDAYS


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ({"legal": ClockUnit.WORKDAYS}, "未在类型中声明"),
        ({"deadline": "fortnights"}, "计时单位“fortnights”无效"),
    ],
)
def test_an_unknown_clock_or_unit_is_refused_and_nothing_is_opened(
    world, order_type, units, message
):
    with pytest.raises(ValidationError) as refused:
        _open(world, clock_units=units)
    assert message in str(refused.value.message_dict["clock_units"])
    assert not Case.objects.filter(type_code="test.order").exists()
