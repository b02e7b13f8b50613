"""Fixtures of the approval tests: the calendar (2025–2026 from chinesecalendar) and a
world of personas, two departments and two items."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from digitalcity.core.calendar_import import seed_from_chinesecalendar
from digitalcity.identity.tests.factories import Personas

from .factories import World, make_world

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture(autouse=True)
def _approval_hooks() -> None:
    # Another app's tests may clear the hook registry (cases/tests/test_hooks.py does):
    # put back what approval registers at start-up.
    from ..workflow import register_hooks

    register_hooks()


@pytest.fixture
def seeded_calendar(db: Any) -> None:
    seed_from_chinesecalendar(years=[2025, 2026])


@pytest.fixture
def world(personas: Personas, seeded_calendar: None) -> World:
    return make_world(personas)
