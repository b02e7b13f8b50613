"""The demo's work orders: every state, spread over recent weeks, seeded once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from digitalcity.cases.choices import ClockState, ClockUnit
from digitalcity.cases.clocks import end_of_day
from digitalcity.cases.models import Clock, Event
from digitalcity.core import calendar
from digitalcity.hotline import figures
from digitalcity.hotline.demo import seed_demo_orders
from digitalcity.hotline.models import WorkOrder
from digitalcity.web import demo

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_orders_in_every_state_once():
    demo.seed_demo(citizens=0, enterprises=0)
    orders = WorkOrder.objects.select_related("case")
    states = Counter(o.case.state for o in orders)
    assert sum(states.values()) == 44  # 42 stories and the demo citizen's two
    assert {
        "received",
        "dispatched",
        "handling",
        "returned",
        "replied",
        "answered",
        "merged",
        "archived",
    } <= set(states)
    oldest = min(o.created_at for o in orders)
    assert oldest < timezone.now() - timedelta(days=14)
    assert seed_demo_orders() == 0
    _assert_plausible_moments(orders)
    now = timezone.now()
    data = figures.compute(now - timedelta(days=30), now + timedelta(minutes=1))
    assert data.total.response.total > 0
    assert data.total.satisfaction.total > 0
    assert data.points


def _in_office_hours(moment) -> bool:
    local = timezone.localtime(moment)
    return calendar.is_workday(local.date()) and any(
        begin <= local.time() < end for begin, end in calendar.office_hours()
    )


def _assert_plausible_moments(orders) -> None:
    """Taken within office hours on working days; every event in the past; the running
    first-run clocks due exactly where the rule puts them from the moment of intake."""
    now = timezone.now()
    assert all(_in_office_hours(o.created_at) for o in orders)
    assert not Event.objects.filter(at__gt=now).exists()
    checked = 0
    for clock in Clock.objects.filter(
        case__type_code="hotline.order",
        task=None,
        code="deadline",
        state=ClockState.RUNNING,
        run=0,
        extended=0,
        used=0,
    ).select_related("case__hotline_order"):
        taken = clock.case.hotline_order.created_at
        assert clock.started_at == clock.case.opened_at == taken
        if clock.unit == ClockUnit.WORKDAYS:
            expected = end_of_day(calendar.add_workdays(timezone.localdate(taken), clock.limit))
        else:
            expected = taken + timedelta(hours=clock.limit)
        assert clock.due_at == expected
        checked += 1
    assert checked >= 10
    # A signing done "a day and a half later" is late against its working-hours clock.
    late = Clock.objects.filter(
        case__type_code="hotline.order", code="sign", state=ClockState.STOPPED
    )
    assert any(c.used > c.limit for c in late)
    assert any(c.used <= c.limit for c in late)
