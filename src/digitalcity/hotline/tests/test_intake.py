"""Intake: validation, deadlines per type × urgency, idempotency and flooding."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import ValidationError

from digitalcity.cases.choices import CaseChannel, ClockState
from digitalcity.cases.models import Case, Clock
from digitalcity.hotline.choices import DeadlineUnit, OrderState, RequestType, Urgency
from digitalcity.hotline.models import Category, DeadlineRule, WorkOrder
from digitalcity.hotline.services import IntakeThrottled
from digitalcity.hotline.status import order_status

from .conftest import at
from .factories import make_order


def _deadline(order):
    return Clock.objects.get(case=order.case, task=None, code="deadline")


def test_a_phone_order_opens_a_case_led_by_the_center_with_its_clock_running(hw):
    order = make_order(hw)
    assert order.case.type_code == "hotline.order"
    assert order.case.number.startswith("GD-")
    assert order.case.department == hw.center
    assert order.case.state == OrderState.RECEIVED
    assert order.received_by == hw.agent
    assert _deadline(order).state == ClockState.RUNNING
    status = order_status(order)
    assert status.open311_status == "open"
    assert status.expected_at == _deadline(order).due_at


@pytest.mark.parametrize(
    ("request_type", "urgency", "start", "due"),
    [
        # 特急 (danger to life or property): 2 natural hours, at night and on a holiday too.
        (RequestType.HELP, Urgency.CRITICAL, at(2026, 10, 3, 23, 30), at(2026, 10, 4, 1, 30)),
        # 紧急 (water, power, gas, heating): 24 natural hours.
        (RequestType.HELP, Urgency.URGENT, at(2026, 11, 20, 16, 0), at(2026, 11, 21, 16, 0)),
        # 一般: 7 working days after Wed 2026-09-30 — 10-01..07 National Day off, 10-08 Thu 1,
        # 10-09 Fri 2, 10-10 Sat make-up 3, 10-12 Mon 4, 10-13 5, 10-14 6, 10-15 Thu 7;
        # the clock counts working days: the end of that day.
        (
            RequestType.HELP,
            Urgency.NORMAL,
            at(2026, 9, 30, 10, 20),
            at(2026, 10, 15, 23, 59, 59),
        ),
        # 投诉 (complex): 15 working days after Mon 2026-11-02: 11-03 … 11-23 Mon is the 15th.
        (
            RequestType.COMPLAINT,
            Urgency.NORMAL,
            at(2026, 11, 2, 9, 0),
            at(2026, 11, 23, 23, 59, 59),
        ),
    ],
)
def test_deadlines_follow_type_and_urgency(hw, request_type, urgency, start, due):
    with time_machine.travel(start, tick=False):
        order = make_order(hw, request_type=request_type, urgency=urgency)
    assert _deadline(order).due_at == due


def test_an_edited_rule_changes_the_deadline_of_new_orders(hw):
    DeadlineRule.objects.filter(request_type="", urgency="").update(
        amount=3, unit=DeadlineUnit.CALENDAR_HOURS
    )
    with time_machine.travel(at(2026, 11, 20, 10, 0), tick=False):
        order = make_order(hw, request_type=RequestType.HELP)
    assert _deadline(order).due_at == at(2026, 11, 20, 13, 0)
    assert (order.deadline_amount, order.deadline_unit) == (3, DeadlineUnit.CALENDAR_HOURS)


def test_rules_and_categories_edited_after_an_order_apply_to_the_next_one(hw):
    # The intake caches reference rows per process (core.refcache, ADR 0019); an edit
    # saved in this process is seen by the very next order.
    with time_machine.travel(at(2026, 11, 20, 10, 0), tick=False):
        make_order(hw, request_type=RequestType.HELP)
        rule = DeadlineRule.objects.get(request_type="", urgency="")
        rule.amount, rule.unit = 5, DeadlineUnit.CALENDAR_HOURS
        rule.save()
        order = make_order(hw, request_type=RequestType.HELP)
    assert _deadline(order).due_at == at(2026, 11, 20, 15, 0)
    category = Category.objects.get(code="040101")
    category.is_active = False
    category.save()
    with pytest.raises(ValidationError) as caught:
        make_order(hw)
    assert "category" in caught.value.message_dict


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"description": "   "}, "description"),
        ({"description": "长" * 2001}, "description"),
        ({"category": "123456"}, "category"),
        ({"lat": 39.9, "lon": 116.4}, "lat"),
        ({"lat": 35.5, "lon": None}, "lat"),
        ({"request_type": "gossip"}, "request_type"),
        ({"anonymous": True}, "anonymous"),  # a complaint needs a caller
        ({"caller_name": "", "caller_phone": ""}, "caller_name"),
        ({"division": "999999"}, "division"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(hw, overrides, field):
    with pytest.raises(ValidationError) as caught:
        make_order(hw, **overrides)
    assert field in caught.value.message_dict
    assert caught.value.message_dict[field][0]
    assert not WorkOrder.objects.exists()
    assert not Case.objects.filter(type_code="hotline.order").exists()


def test_coordinates_inside_the_city_are_kept(hw):
    order = make_order(hw, lat="35.5", lon="112.9")
    assert (order.lat, order.lon) == (35.5, 112.9)


def test_an_anonymous_tip_off_keeps_no_name_and_is_confidential(hw):
    order = make_order(hw, request_type=RequestType.REPORT, anonymous=True, caller_name="李四")
    assert order.caller_name == ""
    assert order.is_confidential
    assert order.case.is_confidential


def test_a_repeated_idempotency_key_returns_the_first_order(hw):
    first = make_order(hw, channel=CaseChannel.OPEN311, actor=None, idempotency_key="k-1")
    again = make_order(
        hw, channel=CaseChannel.OPEN311, actor=None, idempotency_key="k-1", description="不同"
    )
    assert again.pk == first.pk
    assert WorkOrder.objects.count() == 1


def test_flooding_from_one_number_is_throttled_but_not_on_the_agents_phone(hw, settings):
    settings.DC_HOTLINE_FLOOD_LIMIT = 3
    for _ in range(3):
        make_order(hw, channel=CaseChannel.SMS, actor=None)
    with pytest.raises(IntakeThrottled) as caught:
        make_order(hw, channel=CaseChannel.SMS, actor=None)
    assert caught.value.retry_after == 600
    assert WorkOrder.objects.count() == 3
    make_order(hw, channel=CaseChannel.PHONE)  # the agent on the line decides
    assert WorkOrder.objects.count() == 4
    # The refusal names every order of the number in the window, not just the limit.
    with pytest.raises(IntakeThrottled) as caught:
        make_order(hw, channel=CaseChannel.SMS, actor=None)
    assert "已提交 4 件" in caught.value.message_dict["caller_phone"][0]


def test_a_citizens_web_order_is_theirs(hw):
    order = make_order(hw, channel=CaseChannel.ONLINE, actor=hw.p.citizen, caller_name="")
    assert order.caller == hw.p.citizen
    assert order.case.applicant == hw.p.citizen
    assert order.caller_name == hw.p.citizen.real_name


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_with_one_key_make_one_order(personas, seeded_calendar):
    from django.db import connection, connections

    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    import threading

    from .factories import make_hotline_world

    world = make_hotline_world(personas)
    barrier = threading.Barrier(6)
    numbers: list[str] = []

    def submit() -> None:
        try:
            barrier.wait()
            order = make_order(
                world, channel=CaseChannel.OPEN311, actor=None, idempotency_key="race-key"
            )
            numbers.append(order.case.number)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(numbers) == 6
    assert len(set(numbers)) == 1
    assert WorkOrder.objects.count() == 1
