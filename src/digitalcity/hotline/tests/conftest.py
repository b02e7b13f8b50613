"""Fixtures of the hotline tests: the calendar (2025–2026 seeded) and the hotline world."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from digitalcity.core.calendar_import import seed_from_chinesecalendar
from digitalcity.identity.tests.factories import Personas

from .factories import HotlineWorld, make_hotline_world

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


@pytest.fixture(autouse=True)
def _hotline_tests_run_in_2026(in_2026: Any) -> None:
    # Every hotline test opens orders "now" (7 working days, 24 working hours): the root
    # conftest's fixed day keeps them in the seeded calendar years.
    pass


@pytest.fixture
def seeded_calendar(db: Any) -> None:
    seed_from_chinesecalendar(years=[2025, 2026])


@pytest.fixture
def hw(personas: Personas, seeded_calendar: None) -> HotlineWorld:
    return make_hotline_world(personas)
