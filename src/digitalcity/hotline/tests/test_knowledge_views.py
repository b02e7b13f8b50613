"""Knowledge base pages: outsiders refused (404), maintain → review → publish through
the pages, the console's htmx search and answering from it, the import page."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook

from digitalcity.hotline import knowledge as kb
from digitalcity.hotline.choices import OrderState, RequestType
from digitalcity.hotline.models import KnowledgeCategory, KnowledgeEntry, KnowledgeState

from .factories import make_order


@pytest.fixture
def housing(db):
    return KnowledgeCategory.objects.create(code="housing", name="住房保障")


@pytest.fixture
def published(hw, housing):
    entry = kb.entry_create(
        actor=hw.p.clerk_a,
        category=housing,
        owner_department=hw.p.department_a,
        title="住房公积金提取需要哪些材料？",
        body="购买自住住房提取住房公积金，需携带身份证、购房合同和付款凭证。",
    )
    version = entry.versions.get()
    kb.version_submit(version=version, actor=hw.p.clerk_a)
    kb.version_review(version=version, actor=hw.head_a, approve=True)
    return entry


def test_every_page_refuses_a_citizen_with_404(client, hw, published):
    client.force_login(hw.p.citizen)
    pk = published.pk
    gets = [
        reverse("hotline:knowledge_list"),
        reverse("hotline:knowledge_new"),
        reverse("hotline:knowledge_import"),
        reverse("hotline:knowledge_template"),
        reverse("hotline:knowledge_search") + "?q=公积金",
        reverse("hotline:knowledge_detail", args=[pk]),
        reverse("hotline:knowledge_edit", args=[pk]),
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("hotline:knowledge_action", args=[pk, "withdraw"])).status_code == 404
    )
    assert client.post(reverse("hotline:knowledge_answer"), {"entry": pk}).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, hw):
    response = client.get(reverse("hotline:knowledge_list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_another_departments_draft_is_a_404_but_its_published_entry_is_readable(
    client, hw, housing, published
):
    entry = kb.entry_create(
        actor=hw.p.clerk_a,
        category=housing,
        owner_department=hw.p.department_a,
        title="草稿",
        body="草稿内容",
    )
    client.force_login(hw.p.clerk_b)
    assert client.get(reverse("hotline:knowledge_detail", args=[entry.pk])).status_code == 404
    page = client.get(reverse("hotline:knowledge_detail", args=[published.pk]))
    assert page.status_code == 200
    assert "购房合同" in page.content.decode()
    # …but may not edit or withdraw it.
    assert client.get(reverse("hotline:knowledge_edit", args=[published.pk])).status_code == 404
    client.post(reverse("hotline:knowledge_action", args=[published.pk, "withdraw"]), {"note": "x"})
    published.refresh_from_db()
    assert published.published is not None


def test_write_submit_review_and_publish_through_the_pages(client, hw, housing):
    client.force_login(hw.p.clerk_a)
    response = client.post(
        reverse("hotline:knowledge_new"),
        {
            "category": housing.pk,
            "owner_department": hw.p.department_a.pk,
            "title": "新生儿如何办理医保",
            "body": "出生后三个月内到社区服务中心办理参保登记。",
            "keywords": "医保 新生儿",
            "valid_from": "",
            "valid_until": "",
        },
    )
    entry = KnowledgeEntry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("hotline:knowledge_detail", args=[entry.pk])
    client.post(reverse("hotline:knowledge_action", args=[entry.pk, "submit"]))
    assert entry.versions.get().state == KnowledgeState.REVIEW
    # The author sees no review buttons and cannot publish by posting anyway.
    page = client.get(reverse("hotline:knowledge_detail", args=[entry.pk])).content.decode()
    assert "审核通过" not in page
    client.post(reverse("hotline:knowledge_action", args=[entry.pk, "approve"]))
    assert entry.versions.get().state == KnowledgeState.REVIEW

    client.force_login(hw.head_a)
    listing = client.get(reverse("hotline:knowledge_list")).content.decode()
    assert "待我审核" in listing
    client.post(reverse("hotline:knowledge_action", args=[entry.pk, "approve"]))
    assert entry.versions.get().state == KnowledgeState.PUBLISHED
    page = client.get(reverse("hotline:knowledge_detail", args=[entry.pk])).content.decode()
    assert "撤回原因" in page
    client.post(
        reverse("hotline:knowledge_action", args=[entry.pk, "withdraw"]), {"note": "政策调整"}
    )
    assert entry.versions.get().state == KnowledgeState.WITHDRAWN


def test_a_bad_form_shows_the_field_errors(client, hw, housing):
    client.force_login(hw.p.clerk_a)
    response = client.post(
        reverse("hotline:knowledge_new"),
        {
            "category": housing.pk,
            "owner_department": hw.p.department_a.pk,
            "title": "标题",
            "body": "正文",
            "valid_from": "2026-05-01",
            "valid_until": "2026-04-01",
        },
    )
    assert response.status_code == 200
    assert "失效日期不能早于生效日期" in response.content.decode()
    assert KnowledgeEntry.objects.count() == 0


def test_the_console_search_returns_highlighted_hits_and_answers_an_order(client, hw, published):
    order = make_order(hw, request_type=RequestType.CONSULT, description="公积金提取要什么材料")
    client.force_login(hw.agent)
    url = reverse("hotline:knowledge_search")
    results = client.get(url, {"q": "公积金提取材料", "order": order.case.number}).content.decode()
    assert "<mark>公积金</mark>" in results
    assert order.case.number in results  # the answer button names the order

    response = client.post(
        reverse("hotline:knowledge_answer"), {"order": order.case.number, "entry": published.pk}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    order.case.refresh_from_db()
    assert order.case.state == OrderState.ANSWERED


def test_a_department_clerk_cannot_answer_orders_from_the_kb(client, hw, published):
    order = make_order(hw, request_type=RequestType.CONSULT)
    client.force_login(hw.p.clerk_a)
    results = client.get(
        reverse("hotline:knowledge_search"), {"q": "公积金", "order": order.case.number}
    ).content.decode()
    assert "以此答复" not in results
    response = client.post(
        reverse("hotline:knowledge_answer"), {"order": order.case.number, "entry": published.pk}
    )
    assert response.status_code == 404
    order.case.refresh_from_db()
    assert order.case.state == OrderState.RECEIVED


def test_the_import_page_reports_row_errors_and_imports_a_good_file(client, hw, housing):
    client.force_login(hw.p.clerk_a)

    def upload(rows):
        book = Workbook()
        for row in rows:
            book.active.append(row)
        out = io.BytesIO()
        book.save(out)
        out.name = "kb.xlsx"
        out.seek(0)
        return client.post(reverse("hotline:knowledge_import"), {"file": out})

    header = ["标题", "答复口径", "知识分类", "责任部门"]
    bad = upload([header, ["", "正文", "housing", "dept-a"]])
    assert bad.status_code == 200
    page = bad.content.decode()
    assert "未导入任何数据" in page
    assert "<td>2</td><td>标题</td><td>标题不能为空</td>" in page
    assert KnowledgeEntry.objects.count() == 0
    good = upload([header, ["租房提取", "按月提取", "housing", "dept-a"]])
    assert good.status_code == 302
    assert KnowledgeEntry.objects.count() == 1
    template = client.get(reverse("hotline:knowledge_template"))
    assert template["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_list_page_query_count_is_locked(client, hw, housing, django_assert_max_num_queries):
    for i in range(12):
        kb.entry_create(
            actor=hw.p.clerk_a,
            category=housing,
            owner_department=hw.p.department_a,
            title=f"条目{i}",
            body="内容",
        )
    client.force_login(hw.p.clerk_a)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("hotline:knowledge_list"))
    assert response.content.decode().count("条目") >= 12
