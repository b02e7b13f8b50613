"""In a real Chromium: a half-filled application can be saved as a draft (the browser's
required-field check applies to 提交申请, not to 保存草稿)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from digitalcity.web.tests.test_browser import CHROMIUM, browser  # noqa: F401 - the fixture

from ..models import Application
from .factories import World
from .test_browser import _as

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="需要 Debian 的 Chromium：/usr/bin/chromium"),
]


@pytest.mark.django_db(transaction=True)
def test_a_half_filled_application_is_saved_as_a_draft(
    live_server: Any,
    browser: Browser,  # noqa: F811 - the fixture imported above
    world: World,
) -> None:
    page = _as(
        browser, live_server.url, world.p.citizen, f"/approval/items/{world.item.code}/apply/"
    )

    page.get_by_label("经营场所名称").fill("老街面馆")  # the other required fields stay empty
    page.get_by_role("button", name="提交申请").click()
    assert not Application.objects.exists()  # the browser holds the submission back
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_text("草稿已保存")).to_be_visible()
    draft = Application.objects.get()
    assert draft.is_draft
    assert draft.form_data["shop_name"] == "老街面馆"
