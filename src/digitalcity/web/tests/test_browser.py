"""The portal and the workbench in a real Chromium (Debian's, never a downloaded one)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from digitalcity.identity.tests.factories import PASSWORD, Personas

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path("/tmp")  # noqa: S108 — a fixed place to look at the screenshots

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="需要 Debian 的 Chromium：/usr/bin/chromium"),
]


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made
    # afterwards by fixtures and the live server are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def _page(browser: Browser, width: int = 1366) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    return context.new_page()


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/?next=/workbench/")
    page.get_by_label(re.compile("用户名")).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.locator("#password-login").get_by_role("button", name="登录").click()


@pytest.mark.django_db(transaction=True)
def test_the_portal_home_loads_htmx_from_our_own_server(
    live_server: object, browser: Browser
) -> None:
    page = _page(browser)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(live_server.url + "/")  # type: ignore[attr-defined]
    expect(page.get_by_role("link", name=re.compile("示范市"))).to_be_visible()
    expect(page.get_by_role("navigation", name="主导航")).to_contain_text("12345热线")
    assert page.evaluate("typeof window.htmx") == "object"
    page.screenshot(path=str(SCREENSHOTS / "portal.png"), full_page=True)
    base = live_server.url  # type: ignore[attr-defined]
    assert all(url.startswith(base) for url in requests), requests


@pytest.mark.django_db(transaction=True)
def test_a_clerk_logs_in_and_reaches_the_workbench(
    live_server: object, browser: Browser, personas: Personas
) -> None:
    page = _page(browser)
    base = live_server.url  # type: ignore[attr-defined]
    _log_in(page, base, personas.clerk_a.username)
    page.wait_for_url(f"{base}/workbench/")
    expect(page.get_by_role("heading", name="我的待办", exact=True)).to_be_visible()
    expect(page.get_by_text("暂无待办", exact=True)).to_be_visible()
    expect(page.locator(".wb-top")).to_contain_text("甲局")
    assert page.evaluate("typeof window.htmx") == "object"
    page.screenshot(path=str(SCREENSHOTS / "workbench.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_a_citizen_who_logs_in_is_refused_the_workbench(
    live_server: object, browser: Browser, personas: Personas
) -> None:
    page = _page(browser, width=420)
    base = live_server.url  # type: ignore[attr-defined]
    _log_in(page, base, personas.citizen.username)
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="无权访问")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "forbidden-mobile.png"), full_page=True)
