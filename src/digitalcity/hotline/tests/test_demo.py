"""The demo's work orders: every state, spread over recent weeks, seeded once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from digitalcity.hotline import figures
from digitalcity.hotline.demo import seed_demo_orders
from digitalcity.hotline.models import WorkOrder
from digitalcity.web import demo

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_orders_in_every_state_once():
    demo.seed_demo(citizens=0, enterprises=0)
    orders = WorkOrder.objects.select_related("case")
    states = Counter(o.case.state for o in orders)
    assert sum(states.values()) == 42
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
    now = timezone.now()
    data = figures.compute(now - timedelta(days=30), now + timedelta(minutes=1))
    assert data.total.response.total > 0
    assert data.total.satisfaction.total > 0
    assert data.points
