"""The approval workbench names the applicant: an enterprise by its (public) name, a person
masked, on the list and on the handling page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ..services import application_apply
from .factories import FORM_DATA, World, uploads

pytestmark = pytest.mark.django_db


def test_an_enterprise_is_named_and_a_person_is_masked(
    world: World, client: Client, in_2026: Any
) -> None:
    person = application_apply(
        item=world.item, actor=world.p.citizen, form_data=FORM_DATA, uploads=uploads()
    )
    enterprise = application_apply(
        item=world.item, actor=world.p.legal_person, form_data=FORM_DATA, uploads=uploads()
    )
    client.force_login(world.window_a)
    listing = client.get("/approval/workbench/").content.decode()
    assert "示范市某某科技有限公司" in listing
    assert "张*" in listing
    assert "张三" not in listing
    page = client.get(f"/approval/workbench/{enterprise.pk}/").content.decode()
    assert "示范市某某科技有限公司" in page
    page = client.get(f"/approval/workbench/{person.pk}/").content.decode()
    assert "张三" not in page
