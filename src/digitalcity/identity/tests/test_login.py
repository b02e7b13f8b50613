"""Password and SMS-code login, lockout per account and per address, unlock, audit."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from digitalcity.core.models import AuditEntry, Notification
from digitalcity.identity import lockout
from digitalcity.identity.models import LockScope, LoginLock, SmsLoginCode, User
from digitalcity.identity.sms import request_login_code

from .factories import PASSWORD, Personas, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("identity:login")


def password_login(client: Client, username: str, password: str, *, ip: str = "127.0.0.1") -> Any:
    data = {"tab": "password", "username": username, "password": password}
    return client.post(LOGIN, data, REMOTE_ADDR=ip)


def sms_login(client: Client, phone: str, code: str) -> Any:
    return client.post(LOGIN, {"tab": "sms", "phone": phone, "code": code})


def phone_of(user: User) -> str:
    assert user.phone
    return user.phone


def last_code_sent_to(phone: str) -> str:
    body = Notification.objects.filter(to=phone).latest("pk").body
    match = re.search(r"验证码为 (\d{6})", body)
    assert match, body
    return match.group(1)


def signed_in_as(client: Client) -> int | None:
    return client.session.get("_auth_user_id") and int(client.session["_auth_user_id"])


@pytest.mark.parametrize("login_name", ["username", "phone", "id_number"])
def test_it_logs_in_by_username_phone_or_id_number(
    personas: Personas, client: Client, login_name: str
) -> None:
    citizen = personas.citizen
    response = password_login(client, getattr(citizen, login_name), PASSWORD)
    assert response.status_code == 302
    assert signed_in_as(client) == citizen.pk
    assert AuditEntry.objects.filter(action="login", object_id=str(citizen.pk)).exists()


def test_it_accepts_a_lower_case_x_in_the_id_number(client: Client) -> None:
    user = UserFactory.create(id_number="11010119900307447X")
    password_login(client, "11010119900307447x", PASSWORD)
    assert signed_in_as(client) == user.pk


def test_it_refuses_a_wrong_password_in_chinese_and_audits_it(
    personas: Personas, client: Client
) -> None:
    response = password_login(client, "citizen", "wrong-Password1")
    assert response.status_code == 200
    assert "登录名或密码错误" in response.content.decode()
    assert signed_in_as(client) is None
    failed = AuditEntry.objects.get(action="login_failed")
    assert failed.object_id == str(personas.citizen.pk)
    assert "密码错误" in failed.reason


def test_it_stores_the_password_with_argon2(personas: Personas) -> None:
    assert personas.citizen.password.startswith("argon2")


def test_it_logs_in_with_a_texted_code_once(personas: Personas, client: Client) -> None:
    phone = phone_of(personas.citizen)
    response = client.post(reverse("identity:sms_code"), {"phone": phone})
    assert response.status_code == 200
    code = last_code_sent_to(phone)
    stored = SmsLoginCode.objects.get(phone=phone)
    assert code not in stored.code_hash

    sms_login(client, phone, code)
    assert signed_in_as(client) == personas.citizen.pk

    other = Client()
    response = sms_login(other, phone, code)
    assert "验证码错误或已失效" in response.content.decode()
    assert signed_in_as(other) is None


def test_a_code_expires_after_its_ttl(personas: Personas, client: Client) -> None:
    phone = phone_of(personas.citizen)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        request_login_code(phone=phone)
        code = last_code_sent_to(phone)
        traveller.shift(datetime.timedelta(seconds=settings.DC_SMS_CODE_TTL_SECONDS + 1))
        sms_login(client, phone, code)
    assert signed_in_as(client) is None


def test_it_sends_one_code_per_minute_and_a_daily_cap(
    personas: Personas, client: Client, settings: object
) -> None:
    settings.DC_SMS_CODES_PER_DAY = 3  # type: ignore[attr-defined]
    phone = phone_of(personas.citizen)
    url = reverse("identity:sms_code")
    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    with time_machine.travel(start, tick=False) as traveller:
        assert client.post(url, {"phone": phone}).status_code == 200
        again = client.post(url, {"phone": phone})
        assert again.status_code == 400
        assert "发送过于频繁" in again.content.decode()
        for _ in range(2):
            traveller.shift(datetime.timedelta(seconds=61))
            assert client.post(url, {"phone": phone}).status_code == 200
        traveller.shift(datetime.timedelta(seconds=61))
        capped = client.post(url, {"phone": phone})
        assert capped.status_code == 400
        assert "今日验证码发送次数已达上限" in capped.content.decode()
        traveller.shift(datetime.timedelta(days=1))
        assert client.post(url, {"phone": phone}).status_code == 200
    assert Notification.objects.filter(to=phone).count() == 4


def test_it_answers_alike_for_an_unknown_phone_but_texts_nobody(client: Client) -> None:
    response = client.post(reverse("identity:sms_code"), {"phone": "13900000000"})
    assert response.status_code == 200
    assert "如该手机号已注册" in response.content.decode()
    assert not Notification.objects.filter(to="13900000000").exists()


def test_it_refuses_a_malformed_phone_naming_the_field(client: Client) -> None:
    response = client.post(reverse("identity:sms_code"), {"phone": "2381234"})
    assert response.status_code == 400
    assert "手机号码：应为以 1 开头的 11 位数字" in response.content.decode()


def test_it_locks_the_account_after_max_failures_and_says_until_when(
    personas: Personas, client: Client
) -> None:
    limit = settings.DC_LOGIN_MAX_FAILURES
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        for _ in range(limit):
            password_login(client, "citizen", "wrong-Password1")
        lock = LoginLock.objects.get(scope=LockScope.ACCOUNT)
        assert lock.user == personas.citizen
        response = password_login(client, "citizen", PASSWORD)
        page = response.content.decode()
        until = timezone.localtime(
            start + datetime.timedelta(minutes=settings.DC_LOGIN_LOCKOUT_MINUTES)
        )
        assert f"将于 {until:%Y-%m-%d %H:%M} 自动解除" in page
        assert signed_in_as(client) is None
        # The SMS tab is refused too: the lock is on the account, not the method.
        request_login_code(phone=phone_of(personas.citizen))
        phone = phone_of(personas.citizen)
        sms_login(client, phone, last_code_sent_to(phone))
        assert signed_in_as(client) is None

        traveller.shift(datetime.timedelta(minutes=settings.DC_LOGIN_LOCKOUT_MINUTES, seconds=1))
        password_login(client, "citizen", PASSWORD)
        assert signed_in_as(client) == personas.citizen.pk
    assert AuditEntry.objects.filter(action="custom", reason__contains="登录锁定").exists()


def test_wrong_sms_codes_count_towards_the_lock(personas: Personas, client: Client) -> None:
    phone = phone_of(personas.citizen)
    for _ in range(settings.DC_LOGIN_MAX_FAILURES):
        sms_login(client, phone, "000000")
    assert lockout.active_lock(user=personas.citizen, ip="") is not None


def test_failures_outside_the_window_do_not_lock(personas: Personas, client: Client) -> None:
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(settings.DC_LOGIN_MAX_FAILURES - 1):
            password_login(client, "citizen", "wrong-Password1")
        traveller.shift(datetime.timedelta(minutes=settings.DC_LOGIN_FAILURE_WINDOW_MINUTES + 1))
        password_login(client, "citizen", "wrong-Password1")
    assert not LoginLock.objects.exists()


def test_a_success_restarts_the_account_count(personas: Personas, client: Client) -> None:
    for _ in range(settings.DC_LOGIN_MAX_FAILURES - 1):
        password_login(client, "citizen", "wrong-Password1")
    password_login(client, "citizen", PASSWORD)
    password_login(Client(), "citizen", "wrong-Password1")
    assert not LoginLock.objects.filter(scope=LockScope.ACCOUNT).exists()


def test_an_admin_can_lift_a_lock(personas: Personas, client: Client) -> None:
    for _ in range(settings.DC_LOGIN_MAX_FAILURES):
        password_login(client, "citizen", "wrong-Password1")
    admin = Client()
    admin.force_login(personas.admin)
    response = admin.post(
        reverse("admin:identity_user_changelist"),
        {"action": "unlock_accounts", "_selected_action": [personas.citizen.pk]},
    )
    assert response.status_code == 302
    assert lockout.active_lock(user=personas.citizen, ip="") is None
    password_login(client, "citizen", PASSWORD)
    assert signed_in_as(client) == personas.citizen.pk
    assert AuditEntry.objects.filter(action="custom", reason__contains="解除登录锁定").exists()


def test_it_locks_a_source_address_trying_many_accounts(
    personas: Personas, client: Client, settings: object
) -> None:
    settings.DC_LOGIN_IP_MAX_FAILURES = 4  # type: ignore[attr-defined]
    for name in ["nobody1", "nobody2", "nobody3", "nobody4"]:
        password_login(client, name, "wrong-Password1", ip="10.0.0.9")
    lock = LoginLock.objects.get(scope=LockScope.IP)
    assert lock.ip == "10.0.0.9"
    refused = password_login(client, "citizen", PASSWORD, ip="10.0.0.9")
    assert "来自该地址的登录失败次数过多" in refused.content.decode()
    assert signed_in_as(client) is None
    # The account itself is not locked: from another address it logs in.
    password_login(client, "citizen", PASSWORD, ip="10.0.0.10")
    assert signed_in_as(client) == personas.citizen.pk


def test_an_inactive_account_cannot_log_in(personas: Personas, client: Client) -> None:
    User.objects.filter(pk=personas.citizen.pk).update(is_active=False)
    password_login(client, "citizen", PASSWORD)
    assert signed_in_as(client) is None


def test_logout_is_audited(personas: Personas, client: Client) -> None:
    password_login(client, "citizen", PASSWORD)
    client.post(reverse("identity:logout"))
    assert signed_in_as(client) is None
    assert AuditEntry.objects.filter(action="logout", object_id=str(personas.citizen.pk)).exists()


def test_it_only_redirects_to_local_next_urls(personas: Personas, client: Client) -> None:
    response = client.post(
        LOGIN,
        {
            "tab": "password",
            "username": "citizen",
            "password": PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)


def test_the_admin_login_page_is_behind_the_same_lockout(
    personas: Personas, client: Client
) -> None:
    for _ in range(settings.DC_LOGIN_MAX_FAILURES):
        client.post(reverse("admin:login"), {"username": "admin", "password": "wrong-Password1"})
    assert lockout.active_lock(user=personas.admin, ip="") is not None
    client.post(reverse("admin:login"), {"username": "admin", "password": PASSWORD})
    assert signed_in_as(client) is None
