"""The knowledge base in a real Chromium: a department clerk writes an entry, its head
publishes it, and an agent answers a consultation from it on the order page (the htmx
search). Screenshots: /tmp/hotline-kb-*.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from digitalcity.hotline.choices import OrderState, RequestType
from digitalcity.hotline.models import KnowledgeCategory, WorkOrder
from digitalcity.identity.tests.factories import PASSWORD
from digitalcity.web.tests.test_browser import CHROMIUM, browser  # noqa: F401 - the fixture

from .factories import HotlineWorld, make_order

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


@pytest.mark.django_db(transaction=True)
def test_write_review_publish_and_answer_a_consultation_from_the_kb(
    live_server: Any,
    browser: Browser,  # noqa: F811 - the fixture imported above
    hw: HotlineWorld,
) -> None:
    from digitalcity.hotline.categories import seed_categories

    seed_categories()  # a transactional test starts without the migration's tree
    KnowledgeCategory.objects.create(code="social", name="社会保障与医保")
    base = live_server.url

    clerk = _log_in(browser, base, "clerk_a", "/workbench/hotline/knowledge/new/")
    clerk.get_by_label("知识分类").select_option(label="社会保障与医保")
    clerk.get_by_label("责任部门").select_option(label=hw.p.department_a.name)
    clerk.get_by_label("标题（问题）").fill("新生儿如何办理城乡居民医保？")
    clerk.get_by_label("答复口径").fill(
        "新生儿出生后 90 日内办理参保登记并缴费的，自出生之日起享受医保待遇。"
        "凭出生医学证明和户口簿到社区服务中心办理。"
    )
    clerk.get_by_label("关键词").fill("新生儿 医保 参保")
    clerk.get_by_role("button", name="保存草稿").click()
    expect(clerk.locator(".messages")).to_contain_text("已保存为草稿")
    clerk.get_by_role("button", name=re.compile("提交第 1 版审核")).click()
    expect(clerk.locator(".messages")).to_contain_text("已提交审核")
    # The author cannot publish their own text.
    expect(clerk.get_by_role("button", name=re.compile("审核通过"))).to_have_count(0)
    clerk.screenshot(path=str(SHOTS / "hotline-kb-1-submitted.png"), full_page=True)

    head = _log_in(browser, base, "head_a", "/workbench/hotline/knowledge/")
    expect(head.get_by_text("待我审核")).to_be_visible()
    head.get_by_role("link", name=re.compile("ZS-")).first.click()
    head.get_by_role("button", name=re.compile("审核通过并发布第 1 版")).click()
    expect(head.locator(".messages")).to_contain_text("已发布")
    head.screenshot(path=str(SHOTS / "hotline-kb-2-published.png"), full_page=True)

    order = make_order(hw, request_type=RequestType.CONSULT, description="孩子刚出生，医保怎么办？")
    agent = _log_in(browser, base, "agent", f"/workbench/hotline/orders/{order.case.number}/")
    agent.get_by_label("检索知识库").fill("新生儿医保怎么办理")
    result = agent.locator("#kb-results .kb-hit").first
    expect(result).to_contain_text("新生儿如何办理城乡居民医保")
    expect(result.locator("mark").first).to_be_visible()
    agent.screenshot(path=str(SHOTS / "hotline-kb-3-search.png"), full_page=True)
    result.get_by_role("button", name=re.compile("以此答复并办结工单")).click()
    expect(agent.locator(".messages")).to_contain_text("已依据知识")
    agent.screenshot(path=str(SHOTS / "hotline-kb-4-answered.png"), full_page=True)

    order = WorkOrder.objects.select_related("case").get(pk=order.pk)
    assert order.case.state == OrderState.ANSWERED
    assert order.reply.startswith("新生儿出生后 90 日内")
