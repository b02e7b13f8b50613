"""Project-wide pytest fixtures. Personas (STYLE.md 9) come from identity's factories."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from digitalcity.identity.tests.factories import Personas, make_personas


def pytest_configure(config: pytest.Config) -> None:
    """`DC_TEST_NOW=2027-03-01T10:00+08:00 make test`: the whole run in this process
    happens at that moment (the clock ticking on) — to find tests that would fail on a
    later date because they act "now". Tests that start other processes (the worker
    killed mid-sweep) see the real clock there and may fail under it."""
    moment = os.environ.get("DC_TEST_NOW", "").strip()
    if moment:
        traveller = time_machine.travel(datetime.fromisoformat(moment), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Each test writes uploads under a throw-away folder, never the demo's var/media.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Production Argon2 costs ~1 s a hash by design; tests check behaviour, not cost, and
    # still produce and verify real "argon2$" hashes with a cheap parameter set.
    settings.PASSWORD_HASHERS = [
        "digitalcity.identity.tests.hashers.FastArgon2PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


@pytest.fixture
def personas(db: None) -> Personas:
    """Citizen, legal person, clerks of departments A and B, a supervisor and an admin."""
    return make_personas()


@pytest.fixture(autouse=True)
def _fresh_reference_caches() -> Any:
    # Each test's rows are rolled back at its end; a row cached by core.refcache would
    # outlive them and name rows the next test does not have.
    from digitalcity.core import refcache

    refcache.clear_all()
    yield
    refcache.clear_all()


#: The moment tests that act "now" run at: a Monday of the calendar years the tests seed
#: (2025–2026), so deadlines of up to 20 working days stay inside them.
FIXED_NOW = datetime(2026, 10, 26, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def in_2026() -> Any:
    """Runs the test on Mon 2026-10-26 10:00, the clock ticking on from there: whatever
    today is, its deadlines fall in the seeded years (from December 2026 on, 7 or 20
    working days from today reach 2027, whose calendar the tests do not seed — and whose
    State Council notice no package carries yet). Tests that travel further nest inside."""
    with time_machine.travel(FIXED_NOW, tick=True) as traveller:
        yield traveller
