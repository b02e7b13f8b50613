"""Pages and API: the portal, apply, my applications, licence download and verification,
the workbench; the outsider gets 404; list pages' query counts are locked."""

from __future__ import annotations

import io
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pypdf import PdfReader

from digitalcity.identity.tests.factories import UserFactory

from ..models import Application, Licence
from ..services import (
    application_accept,
    application_apply,
    application_grant,
    review_opinion,
)
from .conftest import at
from .factories import FORM_DATA, World, case_of, pdf_bytes, uploads

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_october_2026() -> Any:
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        yield


def _granted(w: World) -> Licence:
    application = application_apply(
        item=w.item, actor=w.p.citizen, form_data=FORM_DATA, uploads=uploads()
    )
    application_accept(application=application, actor=w.window_a)
    for clerk in (w.p.clerk_a, w.p.clerk_b):
        review_opinion(application=application, actor=clerk, outcome="agree", opinion="同意")
    return application_grant(application=application, actor=w.head_a, opinion="准予")


def _single(w: World) -> Application:
    """Department A's own item: department B's clerk is the outsider."""
    return application_apply(
        item=w.single, actor=w.p.legal_person, form_data=FORM_DATA, uploads=uploads()
    )


def test_the_item_lists_and_page_are_public(
    world: World, client: Client, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(3):
        response = client.get("/approval/items/citizen/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "食品经营许可" in body
    assert "公共场所卫生许可" not in body  # legal persons only
    assert "公共场所卫生许可" in client.get("/approval/items/enterprise/").content.decode()
    page = client.get("/approval/items/SPJY-001/").content.decode()
    assert "《中华人民共和国食品安全法》第三十五条" in page
    assert "可通过数据共享获取" in page
    assert client.get("/approval/items/NOPE/").status_code == 404


def test_a_citizen_applies_online_with_uploads(world: World, client: Client) -> None:
    client.force_login(world.p.citizen)
    data: dict[str, Any] = {f"f-{k}": v for k, v in FORM_DATA.items()}
    data["file_id_card"] = SimpleUploadedFile("id.pdf", pdf_bytes("id"))
    data["file_floor_plan"] = SimpleUploadedFile("plan.pdf", pdf_bytes("plan"))
    data["action"] = "submit"
    response = client.post("/approval/items/SPJY-001/apply/", data)
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/approval/my/{application.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert application.case is not None
    assert application.case.number in page
    assert "10 个工作日" in page  # the promised limit is what the applicant sees


def test_a_bad_application_is_shown_again_with_the_messages_and_nothing_saved(
    world: World, client: Client
) -> None:
    client.force_login(world.p.citizen)
    data: dict[str, Any] = {f"f-{k}": v for k, v in FORM_DATA.items()}
    data["f-area"] = "很大"
    data["file_id_card"] = SimpleUploadedFile("id.pdf", b"<html>not a pdf</html>")
    data["action"] = "submit"
    response = client.post("/approval/items/SPJY-001/apply/", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "身份证明" in body  # the file that is not what its name claims
    assert not Application.objects.exists()


def test_a_draft_is_saved_and_resumed(world: World, client: Client) -> None:
    client.force_login(world.p.citizen)
    response = client.post(
        "/approval/items/SPJY-001/apply/", {"f-shop_name": "草稿店", "action": "draft"}
    )
    draft = Application.objects.get()
    assert response.status_code == 302
    assert draft.is_draft
    page = client.get(f"/approval/items/SPJY-001/apply/?draft={draft.pk}").content.decode()
    assert "草稿店" in page
    assert "继续填写" in client.get("/approval/my/").content.decode()


def test_the_outsider_clerk_gets_404_on_page_and_api(world: World, client: Client) -> None:
    application = _single(world)
    client.force_login(world.p.clerk_b)
    assert client.get(f"/approval/workbench/{application.pk}/").status_code == 404
    assert client.post(f"/approval/workbench/{application.pk}/accept/").status_code == 404
    assert client.get(f"/api/approval/applications/{application.pk}").status_code == 404
    assert (
        client.post(
            f"/api/approval/applications/{application.pk}/actions",
            {"action": "accept"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert str(application.pk) not in client.get("/api/approval/applications").content.decode()
    # The insider sees it.
    client.force_login(world.p.clerk_a)
    assert client.get(f"/approval/workbench/{application.pk}/").status_code == 200
    assert client.get(f"/api/approval/applications/{application.pk}").status_code == 200


def test_another_citizen_gets_404_on_someone_elses_application_and_licence(
    world: World, client: Client
) -> None:
    licence = _granted(world)
    other = UserFactory.create(username="other", real_name="王五")
    client.force_login(other)
    assert client.get(f"/approval/my/{licence.application_id}/").status_code == 404
    assert client.get(f"/approval/licences/{licence.pk}/pdf/").status_code == 404


def test_the_holder_downloads_the_licence_which_delivers_it(world: World, client: Client) -> None:
    licence = _granted(world)
    client.force_login(world.p.citizen)
    response = client.get(f"/approval/licences/{licence.pk}/pdf/")
    assert response.status_code == 200
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "食品经营许可证" in text
    assert licence.number in text
    licence.refresh_from_db()
    assert licence.delivered_at is not None
    case = case_of(licence.application)
    case.refresh_from_db()
    assert case.state == "delivered"


def test_the_public_verification_needs_the_token_and_masks_the_holder(
    world: World, client: Client
) -> None:
    licence = _granted(world)
    ok = client.get(f"/approval/verify/{licence.number}/?t={licence.verify_token}")
    body = ok.content.decode()
    assert ok.status_code == 200
    assert "核验通过" in body
    assert "张*" in body
    assert (world.p.citizen.id_number or "-") not in body
    assert client.get(f"/approval/verify/{licence.number}/?t=wrong").status_code == 404
    api = client.get(f"/api/approval/verify/{licence.number}?t={licence.verify_token}").json()
    assert api["valid"] is True
    assert api["holder"] == "张*"
    assert client.get(f"/api/approval/verify/{licence.number}?t=x").status_code == 404


def test_the_workbench_lists_the_departments_applications(
    world: World, client: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(3):
        _single(world)
    client.force_login(world.p.clerk_a)
    with django_assert_max_num_queries(12):
        response = client.get("/approval/workbench/")
    assert response.status_code == 200
    assert response.content.decode().count("公共场所卫生许可") >= 3
    client.force_login(world.p.clerk_b)
    assert "公共场所卫生许可</td>" not in client.get("/approval/workbench/").content.decode()


def test_the_workbench_takes_the_procedure_to_a_licence(world: World, client: Client) -> None:
    application = _single(world)
    client.force_login(world.window_a)
    response = client.post(
        f"/approval/workbench/{application.pk}/correction/",
        {"correction-m_floor_plan": "未标注比例"},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.correction_items[0]["name"] == "经营场所平面图"
    # Refusing without reasons shows the messages and changes nothing.
    response = client.post(f"/approval/workbench/{application.pk}/reject/", {})
    assert response.status_code == 400
    assert application.case is not None
    case_of(application).refresh_from_db()
    assert case_of(application).state == "pre_correction"


def test_the_api_lists_items_and_acts_on_applications(world: World, client: Client) -> None:
    items = client.get("/api/approval/items?kind=legal_person").json()
    assert [i["code"] for i in items] == ["GTGS-001", "SPJY-001"]
    detail = client.get("/api/approval/items/SPJY-001").json()
    assert [m["code"] for m in detail["materials"]][:2] == ["id_card", "floor_plan"]
    application = _single(world)
    client.force_login(world.window_a)
    answer = client.post(
        f"/api/approval/applications/{application.pk}/actions",
        {"action": "accept"},
        content_type="application/json",
    )
    assert answer.status_code == 200
    assert answer.json()["state"] == "reviewing"
    refused = client.post(
        f"/api/approval/applications/{application.pk}/actions",
        {"action": "refuse", "reasons": ""},
        content_type="application/json",
    )
    assert refused.status_code == 400


def test_my_applications_lists_with_a_fixed_number_of_queries(
    world: World, client: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(4):
        application_apply(
            item=world.item, actor=world.p.citizen, form_data=FORM_DATA, uploads=uploads()
        )
    client.force_login(world.p.citizen)
    with django_assert_max_num_queries(8):
        response = client.get("/approval/my/")
    assert response.content.decode().count("食品经营许可") == 4


def test_the_admin_lists_the_catalog_applications_and_licences(
    world: World, client: Client
) -> None:
    licence = _granted(world)
    client.force_login(world.p.admin)
    for path in ("item", "application", "licence"):
        response = client.get(f"/admin/approval/{path}/")
        assert response.status_code == 200, path
    body = client.get("/admin/approval/licence/").content.decode()
    assert licence.number in body
    assert "张三" not in body  # the holder is masked
    assert client.get(f"/admin/approval/item/{world.item.pk}/change/").status_code == 200


def test_window_staff_apply_on_behalf_from_the_page(world: World, client: Client) -> None:
    client.force_login(world.window_a)
    page = client.get("/approval/items/GTGS-001/apply/").content.decode()
    assert "代为申请" in page
    data: dict[str, Any] = {f"f-{k}": v for k, v in FORM_DATA.items()}
    data.update(
        {
            "a-name": world.p.legal_person.org_name,
            "a-number": world.p.legal_person.uscc,
            "file_id_card": SimpleUploadedFile("id.pdf", pdf_bytes("id")),
            "file_floor_plan": SimpleUploadedFile("plan.pdf", pdf_bytes("plan")),
            "action": "submit",
        }
    )
    response = client.post("/approval/items/GTGS-001/apply/", data)
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/approval/workbench/{application.pk}/"
    assert application.applicant == world.p.legal_person
    # A citizen's number for a legal-person item: refused with the rule, nothing saved.
    data["a-number"] = world.p.citizen.id_number
    data["file_id_card"] = SimpleUploadedFile("id.pdf", pdf_bytes("id"))
    data["file_floor_plan"] = SimpleUploadedFile("plan.pdf", pdf_bytes("plan"))
    response = client.post("/approval/items/GTGS-001/apply/", data)
    assert response.status_code == 400
    assert "申请人类型不符" in response.content.decode()
    assert Application.objects.count() == 1


def test_the_applicant_withdraws_before_acceptance(world: World, client: Client) -> None:
    application = _single(world)
    client.force_login(world.p.legal_person)
    page = client.get(f"/approval/my/{application.pk}/").content.decode()
    assert "撤回申请" in page
    response = client.post(f"/approval/my/{application.pk}/withdraw/")
    assert response.status_code == 302
    case = case_of(application)
    case.refresh_from_db()
    assert case.state == "withdrawn"
    # Department B's clerk cannot withdraw (or see) it.
    client.force_login(world.p.clerk_b)
    assert client.post(f"/approval/my/{application.pk}/withdraw/").status_code == 404


def test_materials_download_only_within_the_applications_scope(
    world: World, client: Client
) -> None:
    application = _single(world)
    stored = application.materials.get(material__code="id_card").file
    assert stored is not None
    client.force_login(world.p.clerk_a)
    response = client.get(f"/approval/files/{stored.pk}/")
    assert response.status_code == 200
    # The type checked at upload, and the browser told not to guess another.
    assert response["Content-Type"] == stored.content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]
    client.force_login(world.p.clerk_b)
    assert client.get(f"/approval/files/{stored.pk}/").status_code == 404
    client.force_login(world.p.citizen)
    assert client.get(f"/approval/files/{stored.pk}/").status_code == 404


def test_heads_and_supervisors_reach_the_supervision_page_from_the_workbench(
    world: World, client: Client
) -> None:
    link = 'href="/approval/supervision/"'
    for who in (world.head_a, world.p.supervisor):
        client.force_login(who)
        assert link in client.get("/workbench/").content.decode()
        assert client.get("/approval/supervision/").status_code == 200
    # A clerk has neither the link nor the page.
    client.force_login(world.p.clerk_a)
    assert link not in client.get("/workbench/").content.decode()
    assert client.get("/approval/supervision/").status_code == 403


def test_the_handle_page_offers_only_what_the_user_may_do(world: World, client: Client) -> None:
    """Window staff accept and correct; clerks and heads decide and pause; heads extend.
    The Art. 43 clock is not shown for an item without a preliminary review."""
    application = application_apply(
        item=world.item, actor=world.p.citizen, form_data=FORM_DATA, uploads=uploads()
    )
    application_accept(application=application, actor=world.window_a)
    for clerk in (world.p.clerk_a, world.p.clerk_b):
        review_opinion(application=application, actor=clerk, outcome="agree", opinion="同意")
    url = f"/approval/workbench/{application.pk}/"
    grant = f"/approval/workbench/{application.pk}/grant/"
    extend = f"/approval/workbench/{application.pk}/extend/"
    pause = f"/approval/workbench/{application.pk}/pause/"
    client.force_login(world.window_a)
    html = client.get(url).content.decode()
    assert grant not in html
    assert extend not in html
    assert pause not in html
    assert "初审时限" not in html
    client.force_login(world.p.clerk_a)
    html = client.get(url).content.decode()
    assert grant in html
    assert pause in html
    assert extend not in html
    client.force_login(world.p.clerk_b)  # co-department: reviews, pauses, never decides
    html = client.get(url).content.decode()
    assert grant not in html
    assert pause in html
    client.force_login(world.head_a)
    html = client.get(url).content.decode()
    assert grant in html
    assert extend in html


def test_a_citizen_is_told_up_front_that_an_enterprise_item_is_not_for_them(
    world: World, client: Client
) -> None:
    client.force_login(world.p.citizen)
    item_page = client.get(f"/approval/items/{world.single.code}/").content.decode()
    assert f"/approval/items/{world.single.code}/apply/" not in item_page
    assert "只受理法人申请" in item_page
    response = client.get(f"/approval/items/{world.single.code}/apply/")
    html = response.content.decode()
    assert "只受理法人申请，您当前登录的是自然人账户" in html
    assert 'name="action"' not in html  # no form to fill in for nothing
    response = client.post(f"/approval/items/{world.single.code}/apply/", {"action": "submit"})
    assert response.status_code == 403
    assert not Application.objects.filter(item=world.single).exists()
    # The enterprise gets the form.
    client.force_login(world.p.legal_person)
    assert (
        'name="action"'
        in client.get(f"/approval/items/{world.single.code}/apply/").content.decode()
    )
