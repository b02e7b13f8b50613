"""Real-browser check (Playwright + Debian Chromium): the batch page polls its progress."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from ..choices import BatchFormat, BatchStatus
from ..models import ImportBatch
from .factories import make_city

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.slow]

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


def test_the_batch_page_follows_the_import_until_it_is_loaded(live_server: Any, page: Any) -> None:
    city = make_city()
    batch = ImportBatch.objects.create(
        source=city.sources["police"],
        file_sha256="0" * 64,
        format=BatchFormat.CSV,
        data_date=timezone.localdate(),
        status=BatchStatus.LOADING,
        progress=60,
    )
    # Signed in by a session made here: the page under test is the batch page, not login.
    client = Client()
    client.force_login(city.police_clerk)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/registry/batches/{batch.pk}/")
    assert "入库中" in page.locator("#batch-progress").inner_text()
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=BatchStatus.LOADED, progress=100, message="共 1 行：新增 1，变更 0，未变 0"
    )
    # htmx polls every 2 s and swaps the block in place; polling stops once loaded.
    page.locator("#batch-progress .reg-status-loaded").wait_for(timeout=10_000)
    assert "新增 1" in page.locator("#batch-progress").inner_text()
    assert page.locator("#batch-progress[hx-get]").count() == 0
    # Close the browser's connections now: a live-server thread keeps its database
    # session until its HTTP connection closes.
    page.context.close()
