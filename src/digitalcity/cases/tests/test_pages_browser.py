"""The case pages in a real Chromium: a clerk works a task from the queue; screenshots of
the queue, the case page and the supervision desk go to /tmp/cases-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect

from digitalcity.cases.choices import RatingValue, TaskState
from digitalcity.cases.models import Case, Task
from digitalcity.cases.services import rating_submit, urge_issue
from digitalcity.cases.sweep import sweep
from digitalcity.identity.tests.factories import PASSWORD
from digitalcity.web.tests.test_browser import CHROMIUM, browser  # noqa: F401 - the fixture

from .conftest import at
from .factories import World
from .test_pages import OPENED, _a_only, _accepted, _closed

SCREENSHOTS = Path("/tmp")  # noqa: S108 - a fixed place to look at the screenshots

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="需要 Debian 的 Chromium：/usr/bin/chromium"),
]


@pytest.fixture
def busy_world(world: World) -> Iterator[World]:
    """Cases in several states, two overdue with cards, one near due, one urged; the test
    then runs on Thursday 2026-11-19 09:00 with the clock ticking."""
    with time_machine.travel(OPENED, tick=False):
        late = _accepted(world, subject="餐饮服务食品经营许可（新办）")
        _a_only(world)  # a second late case, led and handled by A alone
        done = _a_only(world)
    with time_machine.travel(at(2026, 10, 16, 10), tick=False):
        _closed(world, done)
        rating_submit(case=done, actor=world.p.citizen, value=RatingValue.SATISFIED)
    with time_machine.travel(at(2026, 11, 5, 10), tick=False):
        _accepted(world, subject="户外广告设置许可")
    with time_machine.travel(at(2026, 11, 19, 8), tick=False):
        sweep()
        urge_issue(case=late, actor=world.p.supervisor, note="已超期，请三日内办结并说明原因")
    with time_machine.travel(at(2026, 11, 19, 9), tick=True):
        yield world


def _page(chromium: Browser) -> Page:
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    return context.new_page()


def _log_in(page: Page, base: str, username: str, then: str) -> None:
    page.goto(f"{base}/accounts/login/?next={then}")
    page.get_by_label(re.compile("用户名")).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.locator("#password-login").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}{then}")


@pytest.mark.django_db(transaction=True)
def test_a_clerk_works_a_task_from_the_queue(
    live_server: Any,
    browser: Browser,  # noqa: F811 - the fixture imported above
    busy_world: World,
) -> None:
    w = busy_world
    base = live_server.url
    page = _page(browser)
    _log_in(page, base, w.p.clerk_a.username, "/workbench/")
    expect(page.get_by_role("heading", name="我的待办", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="业务模块").get_by_role("link", name="我的待办").click()
    page.wait_for_url(f"{base}/workbench/cases/queue/")
    expect(page.locator(".cs-badge-yellow").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "cases-queue.png"), full_page=True)

    # Filtering by state swaps the table in place (htmx) and keeps the URL shareable.
    page.get_by_label("办件状态").select_option("reviewing")
    page.wait_for_url(re.compile(r"state=reviewing"))
    expect(page.locator("#queue-table")).to_contain_text("餐饮服务食品经营许可（新办）")

    page.get_by_role("link", name="餐饮服务食品经营许可（新办）").click()
    case = Case.objects.get(subject="餐饮服务食品经营许可（新办）")
    page.wait_for_url(f"{base}/workbench/cases/{case.number}/")
    expect(page.get_by_role("heading", name="餐饮服务食品经营许可（新办）")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "cases-case.png"), full_page=True)

    task = Task.objects.get(case=case, department=w.p.department_a)
    card = page.locator(f"#task-{task.pk}")
    card.get_by_role("button", name="签收办理").click()
    expect(page.get_by_text("已签收任务，任务由您锁定办理")).to_be_visible()
    card = page.locator(f"#task-{task.pk}")
    card.get_by_text("办结任务").click()
    card.get_by_role("button", name="提交办理意见").click()
    expect(card.get_by_role("alert")).to_contain_text("办理意见不能为空")
    card.get_by_label("办理结果").select_option(label="同意")
    card.get_by_label("办理意见").fill("经审查，符合条件，同意。")
    card.get_by_role("button", name="提交办理意见").click()
    expect(page.get_by_text("任务已办结")).to_be_visible()
    task.refresh_from_db()
    assert task.state == TaskState.COMPLETED
    assert task.opinion == "经审查，符合条件，同意。"
    page.screenshot(path=str(SCREENSHOTS / "cases-case-after.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_the_supervision_desk_draws_its_trend_and_lists_the_late(
    live_server: Any,
    browser: Browser,  # noqa: F811 - the fixture imported above
    busy_world: World,
) -> None:
    base = live_server.url
    page = _page(browser)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    _log_in(page, base, busy_world.p.supervisor.username, "/workbench/supervision/")
    expect(page.get_by_role("heading", name="超期办件")).to_be_visible()
    expect(page.locator("#trend-chart canvas")).to_have_count(1)
    overdue = page.locator("section", has=page.get_by_role("heading", name="超期办件"))
    expect(overdue).to_contain_text("餐饮服务食品经营许可（新办）")
    cards = page.locator("section", has=page.get_by_role("heading", name="黄牌与红牌"))
    expect(cards).to_contain_text("红牌")
    page.screenshot(path=str(SCREENSHOTS / "cases-supervision.png"), full_page=True)
    assert all(url.startswith(base) for url in requests), requests


@pytest.mark.django_db(transaction=True)
def test_the_citizen_follows_their_cases(
    live_server: Any,
    browser: Browser,  # noqa: F811 - the fixture imported above
    busy_world: World,
) -> None:
    base = live_server.url
    page = _page(browser)
    _log_in(page, base, busy_world.p.citizen.username, "/my/cases/")
    expect(page.get_by_role("heading", name="我的办件")).to_be_visible()
    expect(page.get_by_text("餐饮服务食品经营许可（新办）")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "cases-my.png"), full_page=True)
