"""The order clock counts in the unit its rule is stated in (ADR 0015): natural hours for
特急 / 紧急, working days otherwise — also while paused (a 退单 under review), extended
and restarted by a rework. Every moment below is checked by hand against the calendar.

2026 calendar: National Day 10-01..07 off, Sat 10-10 a make-up working day; no holiday in
November (Mon 11-02, Mon 11-09, Mon 11-16, Mon 11-23).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from digitalcity.cases.choices import ClockState, ClockUnit, ReturnReason
from digitalcity.cases.models import Clock
from digitalcity.hotline.choices import DeadlineUnit, OrderState, RequestType, Urgency
from digitalcity.hotline.models import DeadlineRule
from digitalcity.hotline.services import (
    order_callback,
    order_decide_extension,
    order_dispatch,
    order_reply,
    order_request_extension,
    order_return,
    order_review_return,
    order_sign,
)
from digitalcity.hotline.status import order_status

from .conftest import at
from .factories import make_order


def _clock(order) -> Clock:
    return Clock.objects.get(case=order.case, task=None, code="deadline")


def _state(order) -> str:
    order.case.refresh_from_db()
    return order.case.state


def _signed(hw, order):
    order_dispatch(order=order, actor=hw.agent, lead=hw.p.department_a)
    order_sign(order=order, actor=hw.p.clerk_a)


def test_seven_working_days_across_a_pause_an_extension_and_a_rework(hw):
    # Mon 11-02 09:00 + 7 working days: 11-03 … 11-06 (4), 11-09 … 11-11 (7) → end of Wed 11-11.
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        order = make_order(hw, request_type=RequestType.HELP)
        clock = _clock(order)
        assert (clock.unit, clock.limit) == (ClockUnit.WORKDAYS, 7)
        assert clock.due_at == at(2026, 11, 11, 23, 59, 59)
        # A prompt one working day before, the red card one working day after.
        assert clock.prompt_at == at(2026, 11, 10, 23, 59, 59)
        assert clock.red_at == at(2026, 11, 12, 23, 59, 59)
        _signed(hw, order)

    # Wed 11-04 15:00 the department returns it: 11-03 and 11-04 used, the clock pauses
    # while the center reviews (over the weekend).
    with time_machine.travel(at(2026, 11, 4, 15, 0), tick=False):
        order_return(order=order, actor=hw.p.clerk_a, reason_code=ReturnReason.OTHER, reason="难")
    clock = _clock(order)
    assert (_state(order), clock.state, clock.used) == (
        OrderState.RETURNED,
        ClockState.PAUSED,
        Decimal(2),
    )
    assert clock.due_at is None
    assert order_status(order).expected_at is None
    assert "暂停计时" in order_status(order).notes

    # Mon 11-09 10:00 the center rejects the return: 5 working days left from 11-09:
    # 11-10, 11-11, 11-12, 11-13, 11-16 → end of Mon 11-16.
    with time_machine.travel(at(2026, 11, 9, 10, 0), tick=False):
        order_review_return(order=order, actor=hw.agent, approve=False, note="属你局职责")
    assert _state(order) == OrderState.HANDLING
    assert _clock(order).due_at == at(2026, 11, 16, 23, 59, 59)

    # Tue 11-10: 2 more working days, asked and approved in the rule's unit → Wed 11-18.
    with time_machine.travel(at(2026, 11, 10, 11, 0), tick=False):
        with pytest.raises(ValidationError) as wrong_unit:
            order_request_extension(
                order=order,
                actor=hw.p.clerk_a,
                amount=48,
                unit=DeadlineUnit.CALENDAR_HOURS,
                reason="需检测",
            )
        assert "工作日" in wrong_unit.value.message_dict["unit"][0]
        request = order_request_extension(
            order=order, actor=hw.p.clerk_a, amount=2, reason="需第三方检测"
        )
        assert request.unit == DeadlineUnit.WORKDAYS
        order_decide_extension(request=request, actor=hw.center_head, approve=True, note="同意")
    clock = _clock(order)
    assert (clock.extended, clock.due_at) == (2, at(2026, 11, 18, 23, 59, 59))

    # Replied Wed 11-11 in time; the call-back on Thu 11-12 is dissatisfied: rework with
    # the rule's full limit from then, the extension gone: 11-13 (1), 11-16 … 11-20 (6),
    # 11-23 (7) → end of Mon 11-23.
    with time_machine.travel(at(2026, 11, 11, 16, 0), tick=False):
        order_reply(order=order, actor=hw.p.clerk_a, reply="已处理")
    clock = _clock(order)
    # Used: 11-03, 11-04 before the pause, 11-10, 11-11 after it.
    assert (clock.state, clock.used) == (ClockState.STOPPED, Decimal(4))
    with time_machine.travel(at(2026, 11, 12, 10, 0), tick=False):
        order_callback(order=order, actor=hw.agent, solved=False, value="dissatisfied")
    clock = _clock(order)
    assert _state(order) == OrderState.DISPATCHED
    # The engine numbers a clock's runs from 0: run 1 is the restart.
    assert (clock.state, clock.run, clock.limit, clock.extended, clock.unit) == (
        ClockState.RUNNING,
        1,
        7,
        0,
        ClockUnit.WORKDAYS,
    )
    assert clock.due_at == at(2026, 11, 23, 23, 59, 59)


def test_two_natural_hours_across_midnight_a_pause_an_extension_and_a_rework(hw):
    # 特急 on Sat 10-03 (a holiday) 23:30: 2 natural hours → Sun 10-04 01:30.
    with time_machine.travel(at(2026, 10, 3, 23, 30), tick=False):
        order = make_order(hw, request_type=RequestType.HELP, urgency=Urgency.CRITICAL)
    clock = _clock(order)
    assert (clock.unit, clock.limit) == (ClockUnit.CALENDAR_HOURS, 2)
    assert (clock.prompt_at, clock.due_at, clock.red_at) == (
        at(2026, 10, 4, 0, 30),
        at(2026, 10, 4, 1, 30),
        at(2026, 10, 4, 2, 30),
    )
    with time_machine.travel(at(2026, 10, 3, 23, 40), tick=False):
        _signed(hw, order)

    # Returned at 00:30 (one hour used); the center rejects it at 08:00 → one hour left.
    with time_machine.travel(at(2026, 10, 4, 0, 30), tick=False):
        order_return(order=order, actor=hw.p.clerk_a, reason_code=ReturnReason.OTHER, reason="夜")
    assert (_clock(order).state, _clock(order).used) == (ClockState.PAUSED, Decimal(1))
    with time_machine.travel(at(2026, 10, 4, 8, 0), tick=False):
        order_review_return(order=order, actor=hw.agent, approve=False, note="请立即处置")
    assert _clock(order).due_at == at(2026, 10, 4, 9, 0)

    # 3 more hours, in hours: due 12:00. A request in working days is refused.
    with time_machine.travel(at(2026, 10, 4, 8, 10), tick=False):
        with pytest.raises(ValidationError) as wrong_unit:
            order_request_extension(
                order=order, actor=hw.p.clerk_a, amount=1, unit=DeadlineUnit.WORKDAYS, reason="x"
            )
        assert "小时" in wrong_unit.value.message_dict["unit"][0]
        request = order_request_extension(
            order=order, actor=hw.p.clerk_a, amount=3, reason="燃气公司抢修中"
        )
        order_decide_extension(request=request, actor=hw.center_head, approve=True)
    assert _clock(order).due_at == at(2026, 10, 4, 12, 0)

    # Replied 10:00, dissatisfied at 10:30: the full 2 hours again → 12:30.
    with time_machine.travel(at(2026, 10, 4, 10, 0), tick=False):
        order_reply(order=order, actor=hw.p.clerk_a, reply="已关阀")
    with time_machine.travel(at(2026, 10, 4, 10, 30), tick=False):
        order_callback(order=order, actor=hw.agent, solved=False, value="dissatisfied")
    clock = _clock(order)
    assert (clock.run, clock.extended, clock.due_at) == (1, 0, at(2026, 10, 4, 12, 30))


def test_an_extension_beyond_thirty_units_of_the_rule_is_refused(hw):
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        order = make_order(hw, request_type=RequestType.HELP)
        _signed(hw, order)
        with pytest.raises(ValidationError) as refused:
            order_request_extension(order=order, actor=hw.p.clerk_a, amount=31, reason="久")
    assert "1 至 30" in refused.value.message_dict["amount"][0]


def test_a_rule_in_working_days_edited_as_data_counts_in_working_days(hw):
    DeadlineRule.objects.filter(request_type="", urgency="").update(
        amount=2, unit=DeadlineUnit.WORKDAYS
    )
    # Fri 11-20 10:00 + 2 working days: Mon 11-23, Tue 11-24 → end of Tue 11-24.
    with time_machine.travel(at(2026, 11, 20, 10, 0), tick=False):
        order = make_order(hw, request_type=RequestType.HELP)
    assert (_clock(order).unit, _clock(order).due_at) == (
        ClockUnit.WORKDAYS,
        at(2026, 11, 24, 23, 59, 59),
    )
