"""Unmasking personal data: refused without right or reason, audited with them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from digitalcity.core.models import AuditAction, AuditEntry
from digitalcity.identity.masking import reveal

from .factories import Personas

pytestmark = pytest.mark.django_db


def test_a_clerk_without_the_permission_is_refused(personas: Personas) -> None:
    with pytest.raises(PermissionDenied, match="没有查看完整个人信息的权限"):
        reveal(user=personas.clerk_a, obj=personas.citizen, field="id_number", reason="核对身份")
    assert not AuditEntry.objects.filter(action="view_unmasked").exists()


def test_a_reason_is_required_even_with_the_right(personas: Personas) -> None:
    with pytest.raises(PermissionDenied, match="必须填写查看事由"):
        reveal(user=personas.admin, obj=personas.citizen, field="id_number", reason="  ")


def test_only_personal_fields_can_be_revealed(personas: Personas) -> None:
    with pytest.raises(PermissionDenied):
        reveal(user=personas.admin, obj=personas.citizen, field="password", reason="好奇")


def test_the_permission_reveals_and_the_reason_is_audited(personas: Personas) -> None:
    personas.clerk_a.user_permissions.add(
        Permission.objects.get(codename="view_unmasked_personal_data")
    )
    id_number = personas.citizen.id_number
    clerk = type(personas.clerk_a).objects.get(pk=personas.clerk_a.pk)  # fresh permission cache
    value = reveal(user=clerk, obj=personas.citizen, field="id_number", reason="核对办件申请人身份")
    assert value == id_number
    entry = AuditEntry.objects.get(action="view_unmasked")
    assert entry.object_id == str(personas.citizen.pk)
    assert entry.reason == "id_number：核对办件申请人身份"


def test_a_person_may_see_their_own_data_with_a_reason(personas: Personas) -> None:
    assert (
        reveal(user=personas.citizen, obj=personas.citizen, field="phone", reason="核对")
        == personas.citizen.phone
    )


def test_the_profile_shows_masked_values_and_reveals_after_a_reason(
    personas: Personas, client: Client
) -> None:
    citizen = personas.citizen
    id_number = citizen.id_number or "-"
    client.force_login(citizen)
    page = client.get(reverse("identity:profile")).content.decode()
    assert id_number not in page
    assert f"{id_number[:6]}********{id_number[-4:]}" in page
    url = reverse("identity:reveal", args=["id_number"])
    refused = client.post(url, {"reason": ""})
    assert id_number not in refused.content.decode()
    assert "查看事由：必须填写" in refused.content.decode()
    shown = client.post(url, {"reason": "本人核对"}, HTTP_HX_REQUEST="true")
    assert id_number in shown.content.decode()
    assert AuditEntry.objects.filter(action="view_unmasked", reason="id_number：本人核对").exists()


def test_the_outsider_cannot_reveal_another_persons_data_by_url(
    personas: Personas, client: Client
) -> None:
    id_number = personas.citizen.id_number or "-"
    client.force_login(personas.clerk_b)
    url = reverse("identity:reveal_user", args=[personas.citizen.pk, "id_number"])
    response = client.post(url, {"reason": "看看"})
    assert response.status_code == 403
    assert id_number not in response.content.decode()


def test_opening_a_user_in_the_admin_is_logged_as_an_unmasked_view(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.admin)
    url = reverse("admin:identity_user_change", args=[personas.citizen.pk])
    response = client.get(url)
    assert response.status_code == 200
    id_number = personas.citizen.id_number
    assert id_number is not None
    assert id_number in response.content.decode()
    entry = AuditEntry.objects.filter(action=AuditAction.VIEW_UNMASKED).latest("seq")
    assert entry.object_id == str(personas.citizen.pk)
    assert "系统管理" in entry.reason
