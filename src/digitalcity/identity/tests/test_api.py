from __future__ import annotations

import pytest
from django.test import Client

from digitalcity.core.models import Notification

from .factories import Personas

pytestmark = pytest.mark.django_db


def test_me_is_masked(personas: Personas, client: Client) -> None:
    id_number, phone = personas.citizen.id_number or "", personas.citizen.phone or ""
    client.force_login(personas.citizen)
    data = client.get("/api/identity/me").json()
    assert data["id_number"] == id_number[:6] + "********" + id_number[-4:]
    assert data["phone"] == phone[:3] + "****" + phone[-4:]
    assert data["real_name"] == "张*"


def test_me_refuses_the_anonymous(client: Client) -> None:
    assert client.get("/api/identity/me").status_code == 401


def test_sms_code_endpoint_sends_and_rate_limits(personas: Personas, client: Client) -> None:
    phone = personas.citizen.phone
    first = client.post("/api/identity/sms-code", {"phone": phone}, content_type="application/json")
    assert first.status_code == 200
    assert Notification.objects.filter(to=phone).count() == 1
    second = client.post(
        "/api/identity/sms-code", {"phone": phone}, content_type="application/json"
    )
    assert second.status_code == 400
    assert "发送过于频繁" in second.json()["detail"]


def test_sms_code_endpoint_names_the_bad_field(client: Client) -> None:
    response = client.post(
        "/api/identity/sms-code", {"phone": "12"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("手机号码：")
