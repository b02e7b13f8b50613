"""The approval procedure through its services: apply, correct, accept, parallel review,
grant, licence; and bad input refused with nothing changed."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader

from digitalcity.cases.choices import TaskOutcome, TaskState
from digitalcity.cases.models import Case, Event, Task
from digitalcity.cases.services import case_transition

from ..choices import ApplicantKind, LicenceStatus
from ..models import Application, ApplicationMaterial, Licence
from ..pdf import licence_pdf
from ..services import (
    application_accept,
    application_apply,
    application_ask_correction,
    application_correct,
    application_grant,
    application_refuse,
    application_save_draft,
    application_submit,
    licence_deliver,
    licence_revoke,
    review_opinion,
)
from .conftest import at
from .factories import FORM_DATA, World, case_of, pdf_upload, uploads

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_september_2026() -> object:
    # The joint items' 45-day clocks must end inside the years whose calendar is seeded.
    with time_machine.travel(at(2026, 9, 7, 10), tick=False):
        yield


def _apply(w: World) -> Application:
    return application_apply(item=w.item, actor=w.p.citizen, form_data=FORM_DATA, uploads=uploads())


def test_the_whole_procedure_ends_in_a_licence_with_readable_chinese(world: World) -> None:
    w = world
    with time_machine.travel(at(2026, 9, 14, 9), tick=False):
        application = _apply(w)
        case = application.case
        assert case is not None
        assert case.number.startswith("SP-2026-")
        assert case.state == "submitted"
        # Shared material: no upload needed, marked as obtained by sharing.
        assert application.materials.get(material__code="business_licence").shared
        application_ask_correction(
            application=application,
            actor=w.window_a,
            items=[{"material": "floor_plan", "problem": "平面图未标注面积"}],
        )
        case.refresh_from_db()
        assert case.state == "pre_correction"
        application_correct(
            application=application,
            actor=w.p.citizen,
            uploads={"floor_plan": pdf_upload("平面图2.pdf", "plan v2")},
        )
        application_accept(application=application, actor=w.window_a)
        case.refresh_from_db()
        assert case.state == "reviewing"
        tasks = list(Task.objects.filter(case=case).order_by("department_id"))
        assert {t.department_id for t in tasks} == {w.p.department_a.pk, w.p.department_b.pk}
    with time_machine.travel(at(2026, 9, 16, 9), tick=False):
        review_opinion(
            application=application, actor=w.p.clerk_b, outcome=TaskOutcome.AGREE, opinion="同意"
        )
        case.refresh_from_db()
        assert case.state == "reviewing"  # A's opinion is not in yet
        review_opinion(
            application=application, actor=w.p.clerk_a, outcome=TaskOutcome.AGREE, opinion="同意"
        )
        case.refresh_from_db()
        assert case.state == "deciding"
        licence = application_grant(
            application=application, actor=w.head_a, opinion="准予许可", scope="餐饮服务（热食类）"
        )
    assert licence.number == "SPJY-2026-000001"
    assert licence.valid_until is not None
    assert licence.valid_until.isoformat() == "2031-09-15"
    text = PdfReader(io.BytesIO(licence_pdf(licence))).pages[0].extract_text()
    assert "食品经营许可证" in text
    assert "SPJY-2026-000001" in text
    assert "张三" in text
    assert "甲局" in text
    case.refresh_from_db()
    assert case.state == "granted"
    licence_deliver(licence=licence, actor=w.p.citizen)
    case.refresh_from_db()
    assert case.state == "delivered"
    assert case.closed_at is not None


def test_a_correction_lists_every_item_at_once_and_the_applicant_sees_it(world: World) -> None:
    w = world
    application = _apply(w)
    application_ask_correction(
        application=application,
        actor=w.window_a,
        items=[
            {"material": "floor_plan", "problem": "未标注面积"},
            {"material": "id_card", "problem": "复印件不清晰"},
        ],
    )
    event = Event.objects.get(case=application.case, transition="ask_correction_pre")
    assert event.public
    assert [i["name"] for i in event.data["items"]] == ["经营场所平面图", "身份证明"]
    # Correcting only one of the two listed materials is refused; nothing changes.
    with pytest.raises(ValidationError) as info:
        application_correct(
            application=application, actor=w.p.citizen, uploads={"floor_plan": pdf_upload()}
        )
    assert "身份证明" in str(info.value)
    assert Case.objects.get(pk=case_of(application).pk).state == "pre_correction"


def test_missing_required_material_is_refused_naming_it_and_nothing_is_written(
    world: World,
) -> None:
    w = world
    with pytest.raises(ValidationError) as info:
        application_apply(
            item=w.item,
            actor=w.p.citizen,
            form_data=FORM_DATA,
            uploads={"id_card": pdf_upload()},
        )
    assert "经营场所平面图" in str(info.value)
    assert not Application.objects.exists()
    assert not Case.objects.exists()


def test_a_form_field_of_the_wrong_kind_is_refused_with_its_label(world: World) -> None:
    w = world
    with pytest.raises(ValidationError) as info:
        application_apply(
            item=w.item,
            actor=w.p.citizen,
            form_data={**FORM_DATA, "area": "八十六", "category": "烧烤"},
            uploads=uploads(),
        )
    errors = info.value.message_dict
    assert "经营面积（平方米）" in errors["area"][0]
    assert "经营类别" in errors["category"][0]
    assert not Application.objects.exists()


def test_a_file_that_is_not_what_its_name_claims_is_refused(world: World) -> None:
    w = world
    fake = SimpleUploadedFile("平面图.pdf", b"MZ\x90\x00" + b"\x00" * 200)
    with pytest.raises(ValidationError) as info:
        application_apply(
            item=w.item,
            actor=w.p.citizen,
            form_data=FORM_DATA,
            uploads={"id_card": pdf_upload(), "floor_plan": fake},
        )
    assert "经营场所平面图" in str(info.value)
    assert "pdf" in str(info.value)
    assert not Application.objects.exists()


def test_an_applicant_kind_that_does_not_match_the_item_is_refused(world: World) -> None:
    w = world
    with pytest.raises(ValidationError) as info:
        application_apply(item=w.single, actor=w.p.citizen, form_data=FORM_DATA, uploads=uploads())
    assert "申请人类型不符" in str(info.value)
    assert not Application.objects.exists()


def test_window_staff_apply_on_behalf_and_the_kind_follows_the_number(world: World) -> None:
    w = world
    application = application_apply(
        item=w.single,
        actor=w.window_a,
        form_data=FORM_DATA,
        uploads=uploads(),
        on_behalf={"name": w.p.legal_person.org_name, "number": w.p.legal_person.uscc or ""},
    )
    assert application.applicant_kind == ApplicantKind.LEGAL_PERSON
    assert application.applicant == w.p.legal_person  # linked: they see it in 我的办件
    assert application.case is not None
    assert application.case.channel == "window"
    # Staff of another department may not apply for department A's item.
    with pytest.raises(PermissionDenied):
        application_apply(
            item=w.single,
            actor=w.p.clerk_b,
            form_data=FORM_DATA,
            uploads=uploads(),
            on_behalf={"name": "某公司", "number": w.p.legal_person.uscc or ""},
        )


def test_a_draft_keeps_partial_data_and_reuses_earlier_uploads(world: World) -> None:
    w = world
    first = _apply(w)
    draft = application_save_draft(
        item=w.item, actor=w.p.citizen, form_data={"shop_name": "二号店"}, reuse=["id_card"]
    )
    assert draft.is_draft
    assert draft.form_data == {"shop_name": "二号店"}
    reused = draft.materials.get(material__code="id_card")
    assert reused.file_id == first.materials.get(material__code="id_card").file_id
    with pytest.raises(ValidationError) as info:
        application_submit(application=draft, actor=w.p.citizen)
    assert set(info.value.message_dict) >= {"area", "category", "floor_plan"}
    draft.refresh_from_db()
    assert draft.is_draft


def test_an_action_without_the_right_is_refused_and_nothing_changes(world: World) -> None:
    w = world
    application = _apply(w)
    # Department B's clerk may not accept department A's application.
    with pytest.raises(PermissionDenied):
        application_accept(application=application, actor=w.p.clerk_b)
    # The generic case page cannot take the business transitions around the service.
    with pytest.raises(ValidationError) as info:
        case_transition(
            case=case_of(application), transition="accept", actor=w.window_a, input={"opinion": "x"}
        )
    assert "审批工作台" in str(info.value)
    assert Case.objects.get(pk=case_of(application).pk).state == "submitted"


def test_a_refusal_without_reasons_is_impossible_and_with_them_tells_the_remedy(
    world: World,
) -> None:
    w = world
    application = _apply(w)
    application_accept(application=application, actor=w.window_a)
    for clerk in (w.p.clerk_a, w.p.clerk_b):
        review_opinion(application=application, actor=clerk, outcome="disagree", opinion="不符合")
    with pytest.raises(ValidationError) as info:
        application_refuse(application=application, actor=w.head_a, reasons=" ", legal_basis="")
    assert set(info.value.message_dict) == {"reasons", "legal_basis"}
    assert Case.objects.get(pk=case_of(application).pk).state == "deciding"
    application_refuse(
        application=application,
        actor=w.head_a,
        reasons="经营场所与污染源距离不足",
        legal_basis="《食品经营许可和备案管理办法》",
    )
    event = Event.objects.get(case=application.case, transition="refuse")
    assert "行政复议" in event.reason
    assert "行政诉讼" in event.reason
    assert not Licence.objects.exists()


def test_a_licence_is_revoked_only_by_the_issuing_head(world: World) -> None:
    w = world
    application = _apply(w)
    application_accept(application=application, actor=w.window_a)
    for clerk in (w.p.clerk_a, w.p.clerk_b):
        review_opinion(application=application, actor=clerk, outcome="agree", opinion="同意")
    licence = application_grant(application=application, actor=w.head_a, opinion="准予")
    with pytest.raises(PermissionDenied):
        licence_revoke(licence=licence, actor=w.head_b, reason="x", legal_basis="y")
    licence_revoke(
        licence=licence,
        actor=w.head_a,
        reason="以欺骗手段取得",
        legal_basis="《行政许可法》第六十九条",
    )
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.REVOKED


def test_the_parallel_tasks_have_their_own_stage_clocks(world: World) -> None:
    w = world
    with time_machine.travel(at(2026, 9, 14, 9), tick=False):
        application = _apply(w)
        application_accept(application=application, actor=w.window_a)
    tasks = Task.objects.filter(case=application.case)
    assert all(t.state == TaskState.OPEN for t in tasks)
    stage = [t.clocks.get(code="stage") for t in tasks]
    # 5 working days from Mon 09-14: 15, 16, 17, 18, 20 (Sunday 09-20 is a make-up workday).
    assert {timezone.localdate(c.due_at).isoformat() for c in stage if c.due_at} == {"2026-09-20"}
    assert ApplicationMaterial.objects.filter(application=application).count() == 3


def test_the_accept_hook_point_lets_another_service_refuse_with_its_message(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digitalcity.cases import hooks

    from ..workflow import ACCEPT_POINT, TYPE_CODE

    def blacklisted(**_kwargs: object) -> ValidationError:
        return ValidationError("申请人在严重失信主体名单内，不予受理")

    # As the credit service will: hooks.register_check("approval.licence", "accept", …).
    monkeypatch.setitem(hooks._checks, (TYPE_CODE, ACCEPT_POINT), [blacklisted])
    application = _apply(world)
    with pytest.raises(ValidationError) as info:
        application_accept(application=application, actor=world.window_a)
    assert "严重失信" in str(info.value)
    assert Case.objects.get(pk=case_of(application).pk).state == "submitted"
    assert not Task.objects.filter(case=case_of(application)).exists()


def test_the_case_carries_the_lead_departments_division(world: World) -> None:
    application = _apply(world)
    assert case_of(application).division_id == world.p.department_a.division_id
