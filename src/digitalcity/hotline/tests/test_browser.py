"""The issue's scenario in a real Chromium: an agent takes a call, dispatches, the
department signs and replies, the call-back records dissatisfaction, the order is
reworked and closed, and the three rates move. Screenshots: /tmp/hotline-*.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from digitalcity.hotline.models import WorkOrder
from digitalcity.hotline.services.channels import call_event
from digitalcity.identity.tests.factories import PASSWORD
from digitalcity.web.tests.test_browser import CHROMIUM, browser  # noqa: F401 - the fixture

from .factories import HotlineWorld

SHOTS = Path("/tmp")  # noqa: S108 - a fixed place to look at the screenshots

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="需要 Debian 的 Chromium：/usr/bin/chromium"),
]


def _log_in(chromium: Browser, base: str, username: str, then: str) -> Page:
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/accounts/login/?next={then}")
    page.get_by_label(re.compile("用户名")).fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.locator("#password-login").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}{then}")
    return page


def _kpis(page: Page, base: str) -> tuple[str, str, str]:
    page.goto(f"{base}/workbench/hotline/figures/")
    return (
        page.locator("#kpi-response").inner_text(),
        page.locator("#kpi-resolution").inner_text(),
        page.locator("#kpi-satisfaction").inner_text(),
    )


def _sign_and_reply(page: Page, base: str, number: str, reply: str) -> None:
    page.goto(f"{base}/workbench/hotline/orders/{number}/")
    page.locator('button[data-action="sign"]').click()
    expect(page.locator(".messages")).to_contain_text("已签收")
    page.get_by_label("办理结果（答复诉求人）").fill(reply)
    page.locator('button[data-action="reply"]').click()
    expect(page.locator("#order-state")).to_have_text("已办结")


def _call_back(page: Page, base: str, number: str, solved: str, value: str) -> None:
    page.goto(f"{base}/workbench/hotline/orders/{number}/")
    page.get_by_label("问题是否解决").select_option(label=solved)
    page.get_by_label("满意度").select_option(label=value)
    page.locator('button[data-action="callback"]').click()
    expect(page.locator(".messages")).to_contain_text("回访已记录")


@pytest.mark.django_db(transaction=True)
def test_an_order_from_call_to_rework_and_the_three_rates(
    live_server: Any,
    browser: Browser,  # noqa: F811 - the fixture imported above
    hw: HotlineWorld,
) -> None:
    base = live_server.url
    agent = _log_in(browser, base, "agent", "/workbench/hotline/console/")
    call_event(event="ringing", call_id="B-1", caller="13812345678", agent="agent")
    # The console polls: the ringing call appears without a reload.
    expect(agent.locator("#call-panel .phone")).to_have_text("13812345678", timeout=8000)
    agent.get_by_role("button", name="填入受理单").click()
    agent.get_by_label("诉求人姓名").fill("张三")
    agent.get_by_label("诉求类型").select_option(label="投诉")
    agent.get_by_label("诉求分类").select_option(value="040101")
    agent.get_by_label("诉求内容").fill("小区旁工地夜间施工噪声扰民，凌晨两点仍在作业")
    agent.get_by_label("事发地址").fill("人民路 1 号")
    agent.screenshot(path=str(SHOTS / "hotline-console.png"), full_page=True)
    agent.get_by_role("button", name="受理", exact=True).click()
    agent.wait_for_url(re.compile(r".*/workbench/hotline/orders/GD-.*"))
    number = WorkOrder.objects.get().case.number
    agent.get_by_label("主办部门").select_option(label="甲局")
    agent.screenshot(path=str(SHOTS / "hotline-dispatch.png"), full_page=True)
    agent.locator('button[data-action="dispatch"]').click()
    expect(agent.locator("#order-state")).to_have_text("已派单")

    clerk = _log_in(browser, base, "clerk_a", "/workbench/hotline/")
    expect(clerk.get_by_role("link", name=number)).to_be_visible()
    _sign_and_reply(clerk, base, number, "已责令工地夜间停工")

    _call_back(agent, base, number, "未解决", "不满意")
    expect(agent.locator("#order-state")).to_have_text("已派单")  # reworked, dispatched again
    assert _kpis(agent, base) == ("100.0%", "0.0%", "0.0%")
    agent.screenshot(path=str(SHOTS / "hotline-figures-before.png"), full_page=True)

    _sign_and_reply(clerk, base, number, "已查处并罚款，夜间不再施工")
    _call_back(agent, base, number, "已解决", "满意")
    agent.goto(f"{base}/workbench/hotline/orders/{number}/")
    agent.locator('button[data-action="archive"]').click()
    expect(agent.locator("#order-state")).to_have_text("已归档")
    agent.screenshot(path=str(SHOTS / "hotline-order.png"), full_page=True)
    assert _kpis(agent, base) == ("100.0%", "100.0%", "100.0%")
    agent.screenshot(path=str(SHOTS / "hotline-figures.png"), full_page=True)
