"""The demo seeds about ten real items and applications in several states, idempotently."""

from __future__ import annotations

import pytest
import time_machine

from digitalcity.web import demo as web_demo

from ..demo import ITEMS, seed_approval
from ..models import Application, Item, Licence
from .conftest import at

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_the_catalog_and_applications_once() -> None:
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        web_demo.seed_demo(citizens=0, enterprises=0)
        assert Item.objects.count() == len(ITEMS) >= 10
        states = sorted(a.case.state for a in Application.objects.select_related("case") if a.case)
        assert states == sorted(
            ["submitted", "reviewing", "correction", "deciding", "granted", "reviewing"]
        )
        assert Licence.objects.filter(number__startswith="GT-2026-").exists()
        assert seed_approval() == 0  # idempotent
        assert Application.objects.count() == 6
    food = Item.objects.get(code="SPJY-001")
    assert "食品安全法》第三十五条" in food.legal_basis
    assert food.is_joint
