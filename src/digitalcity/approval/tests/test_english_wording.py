"""The English item guide: counts take the plural they need, and a stored fee that is the
known constant 不收费 is shown translated."""

from __future__ import annotations

import pytest
from django.test import Client

from .factories import World

pytestmark = pytest.mark.django_db


def _english(client: Client, path: str) -> str:
    client.cookies["django_language"] = "en"
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_one_working_day_is_singular_and_twenty_are_plural(world: World, client: Client) -> None:
    world.single.promised_days = 1
    world.single.fee = "不收费"  # as older catalogs stored it
    world.single.save()
    page = _english(client, f"/approval/items/{world.single.code}/")
    assert "1 working day<" in page
    assert "1 working days" not in page
    assert "20 working days" in page  # the statutory limit
    assert "Free of charge" in page
    assert "不收费" not in page
    listing = _english(client, "/approval/")
    assert "Promised 1 working day (statutory 20 working days)" in listing


def test_a_real_fee_is_shown_as_stored(world: World, client: Client) -> None:
    world.single.fee = "工本费 10 元"
    world.single.save()
    page = _english(client, f"/approval/items/{world.single.code}/")
    assert "工本费 10 元" in page
    assert "Free of charge" not in page
