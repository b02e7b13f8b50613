"""Project-wide pytest fixtures. Personas (STYLE.md 9) come from identity's factories."""

from __future__ import annotations

from typing import Any

import pytest

from digitalcity.identity.tests.factories import Personas, make_personas


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
