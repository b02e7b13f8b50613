"""The review queue in a real browser (Playwright + Debian Chromium): a reviewer opens a
candidate, sees both sides masked with the comparison levels, and accepts the link."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from digitalcity.identity.tests.factories import PASSWORD

from ..models import SourceRecord
from .factories import City
from .test_review import make_proposal

# Playwright's sync API keeps an event loop in this thread; the fixtures' ORM calls are
# still plain synchronous code.
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


@pytest.fixture
def page() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("需要 Debian 的 Chromium（/usr/bin/chromium）")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(locale="zh-CN")
        yield context.new_page()
        browser.close()


def test_a_reviewer_accepts_a_link_in_the_browser(live_server: Any, page: Any, city: City) -> None:
    proposal = make_proposal(city)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", city.data_officer.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#password-login button[type=submit]")

    page.goto(f"{live_server.url}/registry/links/")
    page.click(f"a[href='/registry/links/{proposal.pk}/']")
    side_by_side = page.locator("table.review-side-by-side").inner_text()
    assert "章*" in side_by_side
    assert "张*" in side_by_side
    assert proposal.person.id_number not in page.content()
    assert "姓名拼音相同（同音字）" in page.locator("table.review-explanation").inner_text()

    page.fill("textarea[name=reason]", "电话核实为本人")
    page.click("button[value=accept]")

    page.wait_for_url(f"{live_server.url}/registry/links/")
    assert "已接受关联" in page.locator(".messages").inner_text()
    assert SourceRecord.objects.get(pk=proposal.record_id).person_id == proposal.person_id
