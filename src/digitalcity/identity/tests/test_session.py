"""Idle timeout, absolute lifetime and the forced password change."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from digitalcity.core.models import AuditEntry
from digitalcity.identity.models import User

from .factories import PASSWORD, Personas

pytestmark = pytest.mark.django_db

PROFILE = reverse("identity:profile")


def login(client: Client, username: str = "citizen") -> None:
    response = client.post(
        reverse("identity:login"), {"tab": "password", "username": username, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_an_idle_session_ends_with_a_chinese_message(personas: Personas, client: Client) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        login(client)
        assert client.get(PROFILE).status_code == 200
        traveller.shift(datetime.timedelta(minutes=settings.DC_SESSION_IDLE_MINUTES + 1))
        response = client.get(PROFILE, follow=True)
    assert response.redirect_chain[0][0].startswith(reverse("identity:login") + "?timeout=1")
    assert "会话已超时，请重新登录" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="logout", reason="会话空闲超时").exists()


def test_activity_keeps_a_session_alive(personas: Personas, client: Client) -> None:
    idle = datetime.timedelta(minutes=settings.DC_SESSION_IDLE_MINUTES)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        login(client)
        for _ in range(3):
            traveller.shift(idle - datetime.timedelta(minutes=2))
            assert client.get(PROFILE).status_code == 200


def test_a_session_ends_after_its_absolute_lifetime_despite_activity(
    personas: Personas, client: Client
) -> None:
    step = datetime.timedelta(minutes=settings.DC_SESSION_IDLE_MINUTES - 1)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        login(client)
        elapsed = datetime.timedelta()
        while elapsed <= datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE):
            traveller.shift(step)
            elapsed += step
            response = client.get(PROFILE)
        assert response.status_code == 302
    assert AuditEntry.objects.filter(action="logout", reason="会话超过最长有效期").exists()


def test_api_calls_get_401_after_the_idle_timeout(personas: Personas, client: Client) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        login(client)
        traveller.shift(datetime.timedelta(minutes=settings.DC_SESSION_IDLE_MINUTES + 1))
        response = client.get("/api/identity/me")
    assert response.status_code == 401


def test_an_admin_created_account_must_change_its_password_first(
    personas: Personas, client: Client
) -> None:
    User.objects.filter(pk=personas.citizen.pk).update(must_change_password=True)
    response = client.post(
        reverse("identity:login"), {"tab": "password", "username": "citizen", "password": PASSWORD}
    )
    assert response["Location"] == reverse("identity:password_change")
    assert client.get(PROFILE)["Location"] == reverse("identity:password_change")
    page = client.get(reverse("identity:password_change")).content.decode()
    assert "请先设置自己的密码" in page
    response = client.post(
        reverse("identity:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Brand#New2026pw",
            "new_password2": "Brand#New2026pw",
        },
    )
    assert response.status_code == 302
    assert client.get(PROFILE).status_code == 200
    personas.citizen.refresh_from_db()
    assert not personas.citizen.must_change_password


def test_an_expired_password_forces_the_change_page(personas: Personas, client: Client) -> None:
    old = timezone.now() - datetime.timedelta(days=settings.DC_PASSWORD_MAX_AGE_DAYS + 1)
    User.objects.filter(pk=personas.citizen.pk).update(password_changed_at=old)
    login(client)
    response = client.get(PROFILE)
    assert response["Location"] == reverse("identity:password_change")
    assert "密码已超过有效期" in client.get(reverse("identity:password_change")).content.decode()


def test_the_admin_add_form_marks_the_account_for_a_password_change(
    personas: Personas, client: Client
) -> None:
    client.force_login(personas.admin)
    response = client.post(
        reverse("admin:identity_user_add"),
        {
            "username": "newclerk",
            "kind": "staff",
            "usable_password": "true",
            "password1": "Initial#2026pw",
            "password2": "Initial#2026pw",
            "real_name": "",
            "id_number": "",
            "phone": "",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(username="newclerk").must_change_password


def test_an_admin_password_reset_forces_a_change_at_next_login(
    personas: Personas, client: Client
) -> None:
    client.force_login(personas.admin)
    url = reverse("admin:auth_user_password_change", args=[personas.citizen.pk])
    response = client.post(
        url,
        {"usable_password": "true", "password1": "Reset#2026pw", "password2": "Reset#2026pw"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    personas.citizen.refresh_from_db()
    assert personas.citizen.must_change_password
