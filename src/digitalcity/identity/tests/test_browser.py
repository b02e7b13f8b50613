"""Real-browser checks (Playwright + Debian Chromium): lockout message and the reveal flow."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from digitalcity.core.models import Notification

from .factories import PASSWORD, make_personas

# Playwright's sync API keeps an event loop in this thread; Django's ORM calls made by
# the test itself (factories) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("需要 Debian 的 Chromium（/usr/bin/chromium）")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def login(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#password-login button[type=submit]")


def test_the_browser_shows_the_lock_after_repeated_wrong_passwords(
    live_server: Any, page: Any
) -> None:
    make_personas()
    for _ in range(settings.DC_LOGIN_MAX_FAILURES):
        login(page, live_server.url, "citizen", "wrong-Password1")
        assert page.locator(".login-alert").is_visible()
    login(page, live_server.url, "citizen", PASSWORD)
    alert = page.locator(".login-alert").inner_text()
    assert "账户已被锁定" in alert
    assert "自动解除" in alert
    assert page.url.startswith(f"{live_server.url}/accounts/login/")


def test_the_profile_masks_the_id_and_reveals_it_after_a_reason(
    live_server: Any, page: Any
) -> None:
    id_number = make_personas().citizen.id_number or "-"
    login(page, live_server.url, "citizen", PASSWORD)
    page.goto(f"{live_server.url}/accounts/me/")
    masked = f"{id_number[:6]}********{id_number[-4:]}"
    box = page.locator("#reveal-id_number")
    assert box.locator(".masked").inner_text() == masked
    assert id_number not in page.content()

    box.get_by_text("显示完整信息").click()
    reason = page.locator("input[name=reason]")
    reason.wait_for()
    assert id_number not in page.content()
    reason.fill("本人核对身份信息")
    page.locator(".reveal-form button[type=submit]").click()
    page.locator(".unmasked").wait_for()
    assert page.locator(".unmasked").inner_text() == id_number
    # htmx swapped the value in place: the viewer never left the account page.
    assert page.url == f"{live_server.url}/accounts/me/"


def test_the_browser_logs_in_with_a_texted_code(live_server: Any, page: Any) -> None:
    phone = make_personas().citizen.phone or "-"
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("tab", name="短信验证码登录").click()
    page.fill("input[name=phone]", phone)
    page.get_by_role("button", name="获取验证码").click()
    page.locator("#sms-status .login-info").wait_for()
    body = Notification.objects.filter(to=phone).latest("pk").body
    match = re.search(r"验证码为 (\d{6})", body)
    assert match, body
    page.fill("input[name=code]", match.group(1))
    page.locator("#sms-login button.btn:not(.btn-light)").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "您好" in page.locator(".portal-topbar").inner_text()


def test_the_login_page_offers_both_tabs(live_server: Any, page: Any, tmp_path: Path) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.get_by_role("tab", name="密码登录").is_visible()
    assert page.get_by_role("tab", name="短信验证码登录").is_visible()
    page.screenshot(path=str(tmp_path / "identity-login.png"), full_page=True)
    assert (tmp_path / "identity-login.png").stat().st_size > 0
