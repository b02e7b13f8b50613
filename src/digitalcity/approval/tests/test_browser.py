"""The whole procedure in a real Chromium: a citizen applies for a two-department item,
the window asks for one correction, the citizen corrects, both departments approve in
parallel, the lead grants, the citizen downloads the licence PDF (its text readable,
Chinese included) and its QR link verifies it. Screenshots: /tmp/approval-*.png."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from digitalcity.identity.models import User
from digitalcity.identity.tests.factories import PASSWORD
from digitalcity.web.tests.test_browser import CHROMIUM, browser  # noqa: F401 - the fixture

from ..models import Application, Licence
from .conftest import at
from .factories import World, pdf_bytes
from .test_supervision import quarter  # noqa: F401 - the fixture

SHOTS = Path("/tmp")  # noqa: S108 - a fixed place to look at the screenshots

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="需要 Debian 的 Chromium：/usr/bin/chromium"),
]


@pytest.fixture
def ticking(world: World) -> Iterator[World]:
    # A Monday in September 2026: the 45-day clocks end inside the seeded calendar.
    with time_machine.travel(at(2026, 9, 14, 9), tick=True):
        yield world


def _as(chromium: Browser, base: str, user: User, then: str) -> Page:
    page = chromium.new_context(
        viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True
    ).new_page()
    page.goto(f"{base}/accounts/login/?next={then}")
    page.get_by_label(re.compile("用户名")).fill(user.username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.locator("#password-login").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}{then}")
    return page


@pytest.mark.django_db(transaction=True)
def test_a_citizen_gets_a_two_department_licence_and_verifies_it(
    live_server: Any,
    browser: Browser,  # noqa: F811 - the fixture imported above
    ticking: World,
    tmp_path: Path,
    settings: Any,
) -> None:
    w = ticking
    base = live_server.url
    settings.SITE_URL = base
    for name in ("id", "plan", "plan2"):
        (tmp_path / f"{name}.pdf").write_bytes(pdf_bytes(name))

    # 1. The citizen applies online.
    citizen = _as(browser, base, w.p.citizen, "/approval/items/SPJY-001/")
    expect(citizen.get_by_role("heading", name="食品经营许可")).to_be_visible()
    citizen.get_by_role("link", name="在线申请").click()
    citizen.get_by_label("经营场所名称").fill("老街面馆")
    citizen.get_by_label("经营面积（平方米）").fill("86.5")
    citizen.get_by_label("经营类别").select_option("餐饮服务")
    citizen.get_by_label("身份证明").set_input_files(str(tmp_path / "id.pdf"))
    citizen.get_by_label("经营场所平面图").set_input_files(str(tmp_path / "plan.pdf"))
    citizen.screenshot(path=str(SHOTS / "approval-apply.png"), full_page=True)
    citizen.get_by_role("button", name="提交申请").click()
    expect(citizen.get_by_text("申请已提交")).to_be_visible()
    application = Application.objects.get()
    assert application.case is not None
    number = application.case.number
    expect(citizen.get_by_text(number, exact=True)).to_be_visible()

    # 2. The window asks for one correction.
    window = _as(browser, base, w.window_a, f"/approval/workbench/{application.pk}/")
    window.get_by_text("一次性告知补正").click()
    window.get_by_label("经营场所平面图").fill("平面图未标注面积和比例")
    window.get_by_role("button", name="发送补正告知").click()
    expect(window.get_by_text("已一次性告知补正")).to_be_visible()
    window.screenshot(path=str(SHOTS / "approval-correction.png"), full_page=True)

    # 3. The citizen sees what to correct and corrects it.
    citizen.goto(f"{base}/approval/my/{application.pk}/")
    expect(citizen.get_by_text("平面图未标注面积和比例").first).to_be_visible()
    citizen.get_by_label("经营场所平面图").set_input_files(str(tmp_path / "plan2.pdf"))
    citizen.get_by_role("button", name="提交补正").click()
    expect(citizen.get_by_text("补正材料已提交")).to_be_visible()

    # 4. The window accepts; both departments get their review task.
    window.reload()
    window.get_by_text("受理", exact=True).click()
    window.get_by_role("button", name="确认受理").click()
    expect(window.get_by_text("已受理")).to_be_visible()

    # 5. Both departments approve in parallel.
    for clerk in (w.p.clerk_b, w.p.clerk_a):
        reviewer = _as(browser, base, clerk, f"/approval/workbench/{application.pk}/")
        reviewer.get_by_label("审查结果").select_option(label="同意")
        reviewer.get_by_label("审查意见").fill("经审查，符合条件，同意。")
        reviewer.get_by_role("button", name="提交审查意见").click()
        expect(reviewer.get_by_text("审查意见已提交")).to_be_visible()
        reviewer.context.close()

    # 6. The lead department's head grants.
    head = _as(browser, base, w.head_a, f"/approval/workbench/{application.pk}/")
    expect(head.locator(".cs-badge-state").first).to_have_text("待决定")
    head.get_by_label("决定意见").fill("符合法定条件，准予许可。")
    head.get_by_label("许可范围").fill("餐饮服务（热食类食品制售）")
    head.get_by_role("button", name="准予许可并制证").click()
    expect(head.get_by_text("已准予许可")).to_be_visible()
    head.screenshot(path=str(SHOTS / "approval-granted.png"), full_page=True)
    licence = Licence.objects.get()

    # 7. The citizen downloads the licence; its text reads back, Chinese included.
    citizen.goto(f"{base}/approval/my/{application.pk}/")
    citizen.screenshot(path=str(SHOTS / "approval-my.png"), full_page=True)
    with citizen.expect_download() as download:
        citizen.get_by_role("link", name="下载电子证照（PDF）").click()
    data = Path(download.value.path()).read_bytes()
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "食品经营许可证" in text
    assert licence.number in text
    assert "餐饮服务（热食类食品制售）" in text
    link = re.search(r"核验地址：(\S+)", text)
    assert link is not None

    # 8. The QR code's link verifies it, publicly.
    public = browser.new_context(locale="zh-CN").new_page()
    public.goto(link.group(1))
    expect(public.get_by_text("核验通过：证照真实有效")).to_be_visible()
    expect(public.get_by_text(licence.number)).to_be_visible()
    public.screenshot(path=str(SHOTS / "approval-verify.png"), full_page=True)
    application.case.refresh_from_db()
    assert application.case.state == "delivered"  # the download delivered it


@pytest.mark.django_db(transaction=True)
def test_the_supervision_page_draws_its_chart_from_local_files(
    live_server: Any,
    browser: Browser,  # noqa: F811 - the fixture imported above
    quarter: World,  # noqa: F811 - the fixture imported above
) -> None:
    base = live_server.url
    with time_machine.travel(at(2026, 11, 2, 9), tick=True):
        page = _as(browser, base, quarter.p.supervisor, "/approval/supervision/")
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.reload()
        expect(page.locator("#stats-chart canvas")).to_have_count(1)
        grades = page.locator("section", has=page.get_by_role("heading", name="部门评分"))
        expect(grades).to_contain_text("良好")
        expect(grades).to_contain_text("得分 = 100 − 2×预警数")
        page.screenshot(path=str(SHOTS / "approval-supervision.png"), full_page=True)
    assert all(url.startswith(base) for url in requests), requests
