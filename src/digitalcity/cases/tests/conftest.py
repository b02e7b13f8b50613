"""Fixtures of the case-engine tests: the calendar (2025–2026 seeded, 2027 missing, as on
2026-11-21) and a world of personas with three departments."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from digitalcity.core.calendar_import import seed_from_chinesecalendar
from digitalcity.identity.tests.factories import Personas

from .factories import World, make_world

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH)


@pytest.fixture
def seeded_calendar(db: Any) -> None:
    seed_from_chinesecalendar(years=[2025, 2026])


@pytest.fixture
def world(personas: Personas, seeded_calendar: None) -> World:
    return make_world(personas)
