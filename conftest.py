"""Project-wide pytest fixtures: personas (STYLE.md 9) live in the apps' tests/factories.py."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Each test writes uploads under a throw-away folder, never the demo's var/media.
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")  # type: ignore[attr-defined]
