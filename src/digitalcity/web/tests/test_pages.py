from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from digitalcity.identity.tests.factories import Personas


def _modules(html: str) -> list[str]:
    """The workbench module labels in menu order."""
    nav = html.split('<ul class="wb-nav">', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<li>(?:<a [^>]*>|<span [^>]*>)([^<]+?)\s*(?:</a>|<span)", nav)


def test_portal_home_renders_the_city_and_navigation_for_anyone(client: Client, db: None) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "示范市" in html
    assert "数字城市政务平台" in html
    for label in ("首页", "办事服务", "政务公开", "12345热线", "互动交流", "主办单位"):
        assert label in html
    assert "各业务系统上线后在此显示" in html
    assert "/static/vendor/htmx/htmx.min.js" in html
    assert "cdn" not in html.lower()


def test_portal_home_offers_login_to_the_anonymous_and_a_name_to_the_logged_in(
    client: Client, personas: Personas
) -> None:
    assert reverse("identity:login") in client.get("/").content.decode()
    client.force_login(personas.citizen)
    html = client.get("/").content.decode()
    assert "张三" in html
    assert reverse("web:workbench") not in html  # citizens have no workbench link


def test_workbench_sends_the_anonymous_to_the_login_page(client: Client, db: None) -> None:
    response = client.get(reverse("web:workbench"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("identity:login"))


@pytest.mark.parametrize("who", ["citizen", "legal_person"])
def test_workbench_refuses_citizens_and_enterprises_with_a_chinese_403_page(
    client: Client, personas: Personas, who: str
) -> None:
    client.force_login(getattr(personas, who))
    response = client.get(reverse("web:workbench"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "无权访问" in html
    assert "工作台仅对政府工作人员开放" in html


def test_workbench_shows_a_clerk_their_name_department_and_empty_task_list(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.clerk_a)
    response = client.get(reverse("web:workbench"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "王甲" in html
    assert "甲局" in html
    assert "暂无待办" in html
    assert _modules(html) == ["我的待办", "审批", "12345工单"]
    assert reverse("admin:index") not in html


def test_workbench_modules_follow_the_role(client: Client, personas: Personas) -> None:
    client.force_login(personas.supervisor)
    html = client.get(reverse("web:workbench")).content.decode()
    assert _modules(html) == ["我的待办", "督办", "电子监察"]


def test_workbench_links_the_admin_to_system_management(client: Client, personas: Personas) -> None:
    client.force_login(personas.admin)
    html = client.get(reverse("web:workbench")).content.decode()
    assert f'href="{reverse("admin:index")}"' in html
    assert _modules(html) == [
        "我的待办", "审批", "12345工单", "督办", "电子监察", "数据交换", "基础数据", "系统管理"
    ]  # fmt: skip


def test_a_missing_page_gets_the_chinese_404(client: Client, db: None) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_the_500_page_renders_without_a_request_context() -> None:
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "服务器暂时出错" in html


@pytest.mark.parametrize(
    "path",
    [
        "vendor/htmx/htmx.min.js",
        "vendor/echarts/echarts.min.js",
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/leaflet.css",
        "web/site.css",
    ],
)
def test_static_files_resolve_locally(path: str) -> None:
    assert finders.find(path) is not None


def test_the_language_switch_changes_the_language(client: Client, db: None) -> None:
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.cookies["django_language"].value == "en"
    assert '<html lang="en">' in client.get("/").content.decode()


def test_the_workbench_runs_the_same_queries_however_many_memberships(
    client: Client, personas: Personas
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from digitalcity.core.models import Membership, MembershipRole

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("web:workbench")).status_code == 200
        return len(queries)

    client.force_login(personas.clerk_a)
    one = count()
    for role in (MembershipRole.HEAD, MembershipRole.DATA_OFFICER):
        Membership.objects.create(
            user=personas.clerk_a, department=personas.department_b, role=role
        )
    assert count() == one


@pytest.mark.parametrize(
    ("include", "path"),
    [
        ("web/includes/echarts.html", "/static/vendor/echarts/echarts.min.js"),
        ("web/includes/leaflet.html", "/static/vendor/leaflet/leaflet.js"),
        ("web/includes/leaflet.html", "/static/vendor/leaflet/leaflet.css"),
    ],
)
def test_chart_and_map_pages_load_their_libraries_from_our_server(include: str, path: str) -> None:
    from django.template.loader import render_to_string

    assert path in render_to_string(include)
