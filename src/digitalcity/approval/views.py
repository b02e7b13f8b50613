"""Pages of the approval service: the portal (items, apply, my applications, licence
download, public verification) and the workbench (queue, case handling, licences,
supervision, catalog).

Thin views (STYLE.md 5): fetch through `queries` (outside scope: 404), call one service,
redirect or re-render with the service's messages. PermissionDenied becomes the 403 page.
"""

from __future__ import annotations

import datetime
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_GET, require_POST

from digitalcity.cases.declare import get_type
from digitalcity.cases.queries import case_detail
from digitalcity.core.files import can_download, file_response
from digitalcity.core.imports import ImportRefused, error_report_xlsx
from digitalcity.core.models import Membership, MembershipRole, StoredFile
from digitalcity.identity.models import AccountKind, User
from digitalcity.identity.permissions import has_role, is_admin, is_supervisor

from . import queries, services
from . import supervision as sv
from .catalog import export_catalog, import_catalog
from .choices import ApplicantKind, LicenceStatus
from .forms import (
    CatalogImportForm,
    CorrectionRequestForm,
    DecisionForm,
    OnBehalfForm,
    OpinionForm,
    PauseForm,
    PeriodForm,
    ReasonForm,
    RefusalForm,
    ReviewForm,
    RevokeForm,
    add_errors,
)
from .formspec import build_form
from .models import Application, Item, ItemMaterial, Licence
from .pdf import licence_pdf
from .workflow import PAUSE_STATES, TYPE_CODE

PAGE_SIZE = 20


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required ran first
    return user


def _staff(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_staff_member:
        raise PermissionDenied(_("工作台仅对政府工作人员开放。"))
    return user


# --- portal -----------------------------------------------------------------------


def _item_list(request: HttpRequest, kind: str | None, title: str) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:50]
    items = list(queries.items_for(kind, q))
    return render(
        request,
        "approval/items.html",
        {"items": items, "title": title, "kind": kind or "", "q": q},
    )


def portal_index(request: HttpRequest) -> HttpResponse:
    return _item_list(request, None, _("办事服务 · 行政许可事项"))


def citizen_items(request: HttpRequest) -> HttpResponse:
    return _item_list(request, ApplicantKind.CITIZEN, _("个人办事"))


def enterprise_items(request: HttpRequest) -> HttpResponse:
    return _item_list(request, ApplicantKind.LEGAL_PERSON, _("法人办事"))


def _item(code: str) -> Item:
    item = (
        Item.objects.filter(code=code, is_active=True)
        .select_related("lead_department", "preliminary_department")
        .annotate(co_count=Count("co_departments"))
        .first()
    )
    if item is None:
        raise Http404(_("事项不存在或已停用"))
    return item


def item_page(request: HttpRequest, code: str) -> HttpResponse:
    item = _item(code)
    refusal = (
        services.applicant_refusal(item, request.user) if request.user.is_authenticated else ""
    )
    return render(
        request,
        "approval/item.html",
        {
            "item": item,
            "refusal": refusal,
            "materials": list(item.materials.all()),
            "co_departments": list(item.co_departments.all()),
            "fields": item.form_spec,
        },
    )


@require_GET
def material_template(request: HttpRequest, code: str, material: str) -> FileResponse:
    """The 样表 of a material of a published (active) item, for anyone: citizens read the
    item guide before they sign in. Only these files are public; every other stored file
    goes through core's signed-in download and its access rules."""
    row = (
        ItemMaterial.objects.filter(
            item__code=code,
            item__is_active=True,
            code=material,
            template__purpose=services.TEMPLATE_PURPOSE,
        )
        .select_related("template")
        .first()
    )
    if row is None or row.template is None:
        raise Http404(_("样表不存在或事项已停用"))
    return file_response(row.template)


def _uploads(request: HttpRequest, item: Item) -> dict[str, Any]:
    return {
        m.code: request.FILES[f"file_{m.code}"]
        for m in item.materials.all()
        if f"file_{m.code}" in request.FILES
    }


@login_required
def apply(request: HttpRequest, code: str) -> HttpResponse:
    """The application form with uploads; "保存草稿" or "提交申请"."""
    user = _user(request)
    item = _item(code)
    staff = user.kind in (AccountKind.STAFF, AccountKind.ADMIN)
    draft: Application | None = None
    if request.GET.get("draft") or request.POST.get("draft"):
        draft = queries.get_application_for_user(
            user, request.GET.get("draft") or request.POST.get("draft")
        )
        if not draft.is_draft or draft.created_by_id != user.pk:
            raise Http404(_("草稿不存在"))
    renews: Licence | None = None
    errors: list[str] = []
    if refusal := services.applicant_refusal(item, user):
        # A citizen on an enterprise item (or the reverse): say so before any typing.
        return render(
            request,
            "approval/apply.html",
            {"item": item, "errors": [refusal], "blocked": True},
            status=403 if request.method == "POST" else 200,
        )
    if request.GET.get("renews") or request.POST.get("renews"):
        renews = queries.get_licence_for_user(
            user, request.GET.get("renews") or request.POST.get("renews")
        )
        if request.method != "POST" and (blocker := services.renewal_blocker(renews)):
            errors.append(blocker)  # told up front; the service refuses a submission too
    form = build_form(item.form_spec, request.POST or None, prefix="f")
    if draft is not None and not request.POST:
        form = build_form(item.form_spec, None, prefix="f")
        form.initial = dict(draft.form_data)
    behalf = OnBehalfForm(request.POST or None, prefix="a") if staff else None
    failed = False
    if request.method == "POST":
        raw = {name: request.POST.get(f"f-{name}", "") for name in form.fields}
        on_behalf = None
        if behalf is not None:
            on_behalf = {k: request.POST.get(f"a-{k}", "") for k in ("name", "number", "phone")}
        reuse = [m.code for m in item.materials.all() if request.POST.get(f"reuse_{m.code}")]
        try:
            if request.POST.get("action") == "draft":
                saved = services.application_save_draft(
                    item=item,
                    actor=user,
                    form_data=raw,
                    uploads=_uploads(request, item),
                    reuse=reuse,
                    on_behalf=on_behalf,
                    application=draft,
                    renews=renews,
                )
                messages.success(request, _("草稿已保存"))
                return redirect(reverse("approval:apply", args=[item.code]) + f"?draft={saved.pk}")
            if draft is not None:
                saved = services.application_save_draft(
                    item=item,
                    actor=user,
                    form_data=raw,
                    uploads=_uploads(request, item),
                    reuse=reuse,
                    on_behalf=on_behalf,
                    application=draft,
                    renews=renews,
                )
                saved = services.application_submit(application=saved, actor=user)
            else:
                saved = services.application_apply(
                    item=item,
                    actor=user,
                    form_data=raw,
                    uploads=_uploads(request, item),
                    reuse=reuse,
                    on_behalf=on_behalf,
                    renews=renews,
                )
        except ValidationError as error:
            form.is_valid()  # the form's own field errors, shown in place
            errors = _outside(form, error)
            failed = True
        else:
            assert saved.case is not None  # noqa: S101 - submitted
            messages.success(request, _("申请已提交，办件编号 %(n)s") % {"n": saved.case.number})
            if staff:
                return redirect("approval:handle", pk=saved.pk)
            return redirect("approval:my_application", pk=saved.pk)
    materials = []
    have = {m.material_id: m for m in draft.materials.all()} if draft else {}
    probe = Application(applicant_number=_number_of(user)) if not staff else None
    for material in item.materials.all():
        earlier = services.reusable_material(probe, material.code) if probe else None
        materials.append({"m": material, "have": have.get(material.pk), "earlier": earlier})
    return render(
        request,
        "approval/apply.html",
        {
            "item": item,
            "form": form,
            "behalf": behalf,
            "materials": materials,
            "draft": draft,
            "errors": errors,
            "renews": renews,
        },
        status=400 if failed else 200,
    )


def _outside(form: Any, error: ValidationError) -> list[str]:
    """The service's messages the form does not already show next to a field."""
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    return [
        message
        for name, messages in error.message_dict.items()
        if name not in form.fields or name not in form.errors
        for message in messages
    ]


def _number_of(user: User) -> str:
    return (user.id_number or "") if user.kind == AccountKind.CITIZEN else (user.uscc or "")


@login_required
def my_applications(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    rows = (
        (Application.objects.filter(created_by=user) | Application.objects.filter(applicant=user))
        .select_related("item", "case", "licence")
        .order_by("-created_at", "-id")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    ct = get_type(TYPE_CODE)
    entries = [
        {"a": a, "state": ct.state(a.case.state).label if a.case else _("草稿")}
        for a in page.object_list
    ]
    return render(request, "approval/my_applications.html", {"page": page, "entries": entries})


def _own(user: User, pk: int) -> Application:
    application = queries.get_application_for_user(user, pk)
    if user.pk not in (application.applicant_id, application.created_by_id):
        raise Http404(_("申请不存在或无权访问"))
    return application


@login_required
def my_application(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    application = _own(user, pk)
    return _render_mine(request, application)


def _render_mine(
    request: HttpRequest, application: Application, status: int = 200, errors: Any = None
) -> HttpResponse:
    detail = case_detail(application.case, public_only=True) if application.case else None
    ct = get_type(TYPE_CODE)
    clocks = (
        [c for c in detail.clocks if c.clock.task_id is None and c.clock.code == "promised"]
        if detail
        else []
    )
    licence = Licence.objects.filter(application=application).first() or application.renews
    # Art. 50: the renew button only inside the window; otherwise the holder is told why.
    renewal = ""
    if (
        licence is not None
        and licence.valid_until is not None
        and licence.status == LicenceStatus.VALID
        and licence.holder_id == request.user.pk
    ):
        renewal = services.renewal_blocker(licence) or "open"
    return render(
        request,
        "approval/my_application.html",
        {
            "a": application,
            "detail": detail,
            "state": ct.state(application.case.state).label if application.case else _("草稿"),
            "timeline": _timeline(ct, detail.timeline if detail else []),
            "promised": clocks[0] if clocks else None,
            "licence": licence,
            "renewal": renewal,
            "errors": errors or [],
            "can_withdraw": application.case is not None
            and application.case.state in ("submitted", "pre_correction", "correction")
            and application.applicant_id == request.user.pk,
            "correcting": application.case is not None
            and application.case.state in ("pre_correction", "correction"),
        },
        status=status,
    )


#: Clock bookkeeping the timeline leaves out (pauses, resumptions and extensions stay).
_QUIET = ("clock_started", "clock_stopped")


def _timeline(ct: Any, events: Any, applicant_id: int | None = None) -> list[dict[str, Any]]:
    """Timeline rows; the applicant's own steps say 申请人, never the name (DESIGN.md:
    personal data is masked on screen), as on the generic case page."""
    return [
        {
            "e": e,
            "label": _event_label(ct, e),
            "items": e.data.get("items") if isinstance(e.data.get("items"), list) else None,
            "who": _("申请人")
            if e.actor_id is not None and e.actor_id == applicant_id
            else e.actor_label or _("系统"),
        }
        for e in events
        if e.kind not in _QUIET
    ]


def _event_label(ct: Any, event: Any) -> str:
    if event.transition:
        try:
            return str(ct.transition(event.transition).label)
        except KeyError:
            return event.transition
    return str(event.get_kind_display())


@login_required
@require_POST
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    application = _own(user, pk)
    item = application.item
    form_data = None
    if any(not c.get("material") for c in application.correction_items):
        form_data = {f["name"]: request.POST.get(f"f-{f['name']}", "") for f in item.form_spec}
    try:
        services.application_correct(
            application=application,
            actor=user,
            uploads=_uploads(request, item),
            form_data=form_data,
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        return _render_mine(request, application, status=400, errors=error.messages)
    messages.success(request, _("补正材料已提交"))
    return redirect("approval:my_application", pk=application.pk)


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    application = _own(user, pk)
    try:
        services.application_withdraw(application=application, actor=user)
    except ValidationError as error:
        return _render_mine(request, application, status=400, errors=error.messages)
    messages.success(request, _("申请已撤回"))
    return redirect("approval:my_application", pk=application.pk)


@login_required
def licence_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The licence PDF; the holder's first download delivers it (Art. 44, 电子送达)."""
    user = _user(request)
    licence = queries.get_licence_for_user(user, pk)
    if licence.holder_id == user.pk and licence.delivered_at is None:
        services.licence_deliver(licence=licence, actor=user, channel="online")
    response = HttpResponse(licence_pdf(licence), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{licence.number}.pdf"'
    return response


def verify(request: HttpRequest, number: str) -> HttpResponse:
    """Public verification from the QR code: number and token must match; masked holder."""
    token = request.GET.get("t", "")
    licence = Licence.objects.filter(number=number).select_related("item", "department").first()
    if licence is None or not token or token != licence.verify_token:
        return render(
            request, "approval/verify.html", {"licence": None, "number": number}, status=404
        )
    today = timezone.localdate()
    return render(
        request,
        "approval/verify.html",
        {
            "licence": licence,
            "holder": queries.mask_holder_name(licence.holder_name, licence.holder_number),
            "holder_number": queries.mask_holder_number(licence.holder_number),
            "valid": licence.is_valid_on(today),
            "expired": licence.status == LicenceStatus.VALID and not licence.is_valid_on(today),
        },
    )


@login_required
def material_file(request: HttpRequest, pk: int) -> FileResponse:
    user = _user(request)
    stored = StoredFile.objects.filter(pk=pk, purpose=services.MATERIAL_PURPOSE).first()
    if stored is None or not can_download(user, stored):
        raise Http404(_("文件不存在或无权访问"))
    return file_response(stored)


# --- workbench ------------------------------------------------------------------


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    state = request.GET.get("state", "")
    rows = (
        queries.applications_for_user(user)
        .filter(case__isnull=False)
        .select_related("case__department")
        .order_by("-submitted_at", "-id")
    )
    ct = get_type(TYPE_CODE)
    if state and state in {s.code for s in ct.states}:
        rows = rows.filter(case__state=state)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    entries = [
        {"a": a, "state": ct.state(a.case.state).label if a.case else ""} for a in page.object_list
    ]
    items = (
        queries.items_for().filter(lead_department__memberships__user=user).distinct()
        if not is_admin(user)
        else queries.items_for()
    )
    return render(
        request,
        "approval/workbench.html",
        {
            "page": page,
            "entries": entries,
            "state": state,
            "states": [(s.code, s.label) for s in ct.states],
            "apply_items": list(items),
        },
    )


def _handle_context(user: User, application: Application) -> dict[str, Any]:
    assert application.case is not None  # noqa: S101
    detail = case_detail(application.case)
    ct = get_type(TYPE_CODE)
    state = application.case.state
    lead = application.item.lead_department_id in services.handler_departments(user) or is_admin(
        user
    )
    my_task = next(
        (
            t
            for t in detail.tasks
            if t.state in ("open", "claimed")
            and t.department_id in services.handler_departments(user)
        ),
        None,
    )
    # Offer only what the engine lets this user do (window staff accept and correct;
    # clerks and heads pause, decide; heads extend), not forms that end in a refusal.
    roles = set(
        Membership.objects.filter(
            user=user, is_active=True, department__is_active=True
        ).values_list("department_id", "role")
    )
    involved = {t.department_id for t in detail.tasks} | {application.item.lead_department_id}
    admin = is_admin(user)
    decider = admin or any(
        d in involved and r in (MembershipRole.CLERK, MembershipRole.HEAD) for d, r in roles
    )
    lead_decider = admin or any(
        d == application.item.lead_department_id
        and r in (MembershipRole.CLERK, MembershipRole.HEAD)
        for d, r in roles
    )
    head = admin or any(d in involved and r == MembershipRole.HEAD for d, r in roles)
    preliminary = application.item.preliminary_department_id is not None
    return {
        "a": application,
        "detail": detail,
        "state": ct.state(state).label,
        "timeline": _timeline(ct, detail.timeline, application.case.applicant_id),
        # The Art. 43 clock only for items with a preliminary review.
        "case_clocks": [
            c
            for c in detail.clocks
            if c.clock.task_id is None and (preliminary or c.clock.code != "preliminary")
        ],
        "stage_clocks": {c.clock.task_id: c for c in detail.clocks if c.clock.task_id},
        "materials": {m.material_id: m for m in application.materials.all()},
        "can_accept": lead and state == "submitted",
        "can_correct": (lead and state == "submitted")
        or (
            state == "reviewing"
            and bool(services.handler_departments(user) & {t.department_id for t in detail.tasks})
        ),
        "can_review": my_task is not None and state == "reviewing",
        "can_preliminary": my_task is not None and state == "preliminary",
        "can_pause": decider and state in ("reviewing", "deciding"),
        "can_resume": decider and state in PAUSE_STATES,
        "can_extend": head
        and state not in ("submitted", "pre_correction", "preliminary")
        and not application.case.closed_at
        and state != "granted",
        "can_decide": lead_decider and state == "deciding",
        "can_deliver": state == "granted",
        "is_lead": lead,
    }


_FORMS: dict[str, Any] = {
    "accept": OpinionForm,
    "review": ReviewForm,
    "preliminary": ReviewForm,
    "pause": PauseForm,
    "resume": ReasonForm,
    "extend": ReasonForm,
    "grant": DecisionForm,
    "refuse": RefusalForm,
    "reject": RefusalForm,
}


@login_required
def handle(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    application = queries.get_application_for_user(user, pk)
    if application.case is None:
        raise Http404(_("草稿不在工作台办理"))
    return _render_handle(request, user, application)


def _render_handle(
    request: HttpRequest,
    user: User,
    application: Application,
    bound: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _handle_context(user, application)
    forms_ = {name: cls(prefix=name) for name, cls in _FORMS.items()}
    forms_["correction"] = CorrectionRequestForm(application=application, prefix="correction")
    forms_.update(bound or {})
    context["forms"] = forms_
    return render(request, "approval/handle.html", context, status=status)


@login_required
@require_POST
def act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _staff(request)
    application = queries.get_application_for_user(user, pk)
    if application.case is None or action not in (*_FORMS, "correction", "deliver"):
        raise Http404(_("没有这个操作"))
    if action == "correction":
        form: Any = CorrectionRequestForm(
            request.POST, application=application, prefix="correction"
        )
    elif action == "deliver":
        form = ReasonForm({"deliver-reason": "-"}, prefix="deliver")
    else:
        form = _FORMS[action](request.POST, prefix=action)
    if form.is_valid():
        data = form.cleaned_data
        try:
            done = _do(action, application, user, form, data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("approval:handle", pk=application.pk)
    return _render_handle(
        request, user, queries.get_application_for_user(user, pk), {action: form}, status=400
    )


def _do(action: str, a: Application, user: User, form: Any, data: dict[str, Any]) -> str:
    if action == "accept":
        services.application_accept(application=a, actor=user, opinion=data["opinion"])
        return _("已受理")
    if action == "correction":
        services.application_ask_correction(application=a, actor=user, items=form.items())
        return _("已一次性告知补正")
    if action == "reject":
        services.application_reject(
            application=a, actor=user, reasons=data["reasons"], legal_basis=data["legal_basis"]
        )
        return _("已作出不予受理决定")
    if action == "review":
        services.review_opinion(
            application=a, actor=user, outcome=data["outcome"], opinion=data["opinion"]
        )
        return _("审查意见已提交")
    if action == "preliminary":
        services.preliminary_opinion(
            application=a, actor=user, outcome=data["outcome"], opinion=data["opinion"]
        )
        return _("初审意见已提交，已报送审查")
    if action == "pause":
        services.application_pause(
            application=a, actor=user, kind=data["kind"], reason=data["reason"]
        )
        return _("已暂停计时")
    if action == "resume":
        services.application_resume(application=a, actor=user, reason=data["reason"])
        return _("已恢复计时")
    if action == "extend":
        services.application_extend(application=a, actor=user, reason=data["reason"])
        return _("已延长法定时限")
    if action == "grant":
        licence = services.application_grant(
            application=a, actor=user, opinion=data["opinion"], scope=data["scope"]
        )
        return _("已准予许可，证号 %(n)s") % {"n": licence.number}
    if action == "refuse":
        services.application_refuse(
            application=a, actor=user, reasons=data["reasons"], legal_basis=data["legal_basis"]
        )
        return _("已作出不予许可决定")
    delivered = Licence.objects.filter(application=a).first() or a.renews
    if delivered is None:
        raise ValidationError(_("没有待送达的证照"))
    services.licence_deliver(licence=delivered, actor=user, channel="window")
    return _("已送达")


@login_required
def licence_search(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    q = request.GET.get("q", "")[:50]
    page = Paginator(queries.licences_for_staff(user, q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "approval/licences.html",
        {"page": page, "q": q, "revoke": RevokeForm(prefix="revoke")},
    )


@login_required
@require_POST
def licence_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _staff(request)
    licence = queries.licences_for_staff(user).filter(pk=pk).first()
    if licence is None:
        raise Http404(_("证照不存在或无权访问"))
    form = RevokeForm(request.POST, prefix="revoke")
    if form.is_valid():
        try:
            services.licence_revoke(licence=licence, actor=user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, pgettext("分句", "；").join(error.messages))
        else:
            messages.success(request, _("证照 %(n)s 已撤销") % {"n": licence.number})
    else:
        messages.error(request, _("撤销须写明理由和法律依据"))
    return redirect(reverse("approval:licences") + f"?q={licence.number}")


# --- supervision -------------------------------------------------------------------


def _supervisor_or_head(request: HttpRequest) -> User:
    user = _staff(request)
    if not (is_supervisor(user) or has_role(user, MembershipRole.HEAD)):
        raise PermissionDenied(_("审批监察页面仅对监察督办人员、部门负责人和系统管理员开放。"))
    return user


def _period(request: HttpRequest) -> tuple[datetime.date, datetime.date, str, PeriodForm]:
    form = PeriodForm(request.GET or None)
    start, end = sv.quarter(timezone.localdate())
    by = "department"
    if form.is_valid():
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
        by = form.cleaned_data["by"] or by
    if end <= start:
        end = start + datetime.timedelta(days=1)
    if not form.is_bound:
        form = PeriodForm(initial={"start": start, "end": end, "by": by})
    return start, end, by, form


@login_required
def supervision(request: HttpRequest) -> HttpResponse:
    _supervisor_or_head(request)
    start, end, by, form = _period(request)
    rows = sv.statistics(start, end, by=by)
    found = sv.findings(start, end)
    chart = {
        "labels": [r.label for r in rows],
        "on_time": [round((r.on_time_rate or 0) * 100, 1) for r in rows],
        "online": [round((r.online_rate or 0) * 100, 1) for r in rows],
        "early": [round((r.early_rate or 0) * 100, 1) for r in rows],
    }
    levels = {"warning": 0, "yellow": 0, "red": 0}
    for f in found:
        levels[f.level] += 1
    return render(
        request,
        "approval/supervision.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "rows": rows,
            "total": sv.totals(rows),
            "findings": found[-100:][::-1],
            "levels": levels,
            "grades": sv.grades(start, end),
            "formula": sv.GRADE_FORMULA,
            "chart": chart,
            "by": by,
        },
    )


@login_required
def supervision_export(request: HttpRequest) -> HttpResponse:
    _supervisor_or_head(request)
    start, end, by, _form = _period(request)
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101
    sheet.title = _("审批统计")
    sheet.append([_("统计期间"), f"{start} — {end}"])
    header = [
        _("部门/区划"),
        _("事项数"),
        _("网上可办率"),
        _("零跑动率"),
        _("最多跑一次率"),
        _("平均压缩比"),
        _("办结数"),
        _("全程网办率"),
        _("即办率"),
        _("按时办结率"),
        _("提前办结率"),
    ]
    sheet.append(header)
    rows = sv.statistics(start, end, by=by)
    for r in [*rows, sv.totals(rows)]:
        sheet.append(
            [
                r.label,
                r.items,
                r.online_rate,
                r.zero_visit_rate,
                r.one_visit_rate,
                r.compression,
                r.decided,
                r.fully_online_rate,
                r.on_the_spot_rate,
                r.on_time_rate,
                r.early_rate,
            ]
        )
    grades_sheet = book.create_sheet(_("部门评分"))
    grades_sheet.append(
        [_("部门"), _("申请数"), _("预警"), _("黄牌"), _("红牌"), _("得分"), _("等级")]
    )
    for g in sv.grades(start, end):
        grades_sheet.append(
            [g.department.name, g.applications, g.warnings, g.yellow, g.red, g.score, g.grade]
        )
    grades_sheet.append([str(sv.GRADE_FORMULA)])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="approval-{start}-{end}.xlsx"'
    return response


# --- catalog -------------------------------------------------------------------------


@login_required
def catalog(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    form = CatalogImportForm(request.POST or None, request.FILES or None)
    errors: list[Any] = []
    if request.method == "POST":
        if not is_admin(user):
            raise PermissionDenied(_("只有系统管理员可以导入事项清单"))
        if form.is_valid():
            try:
                count = import_catalog(form.cleaned_data["file"].read())
            except ImportRefused as refused:
                if request.POST.get("report"):
                    response = HttpResponse(
                        error_report_xlsx(refused.row_errors),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    )
                    response["Content-Disposition"] = 'attachment; filename="catalog-errors.xlsx"'
                    return response
                errors = [str(e) for e in refused.row_errors]
            else:
                messages.success(
                    request,
                    ngettext("已导入 %(n)d 个事项", "已导入 %(n)d 个事项", count) % {"n": count},
                )
                return redirect("approval:catalog")
    items = queries.items_for()
    return render(
        request,
        "approval/catalog.html",
        {"form": form, "errors": errors, "items": items, "can_import": is_admin(user)},
        status=400 if errors else 200,
    )


@login_required
def catalog_export(request: HttpRequest) -> HttpResponse:
    _staff(request)
    response = HttpResponse(
        export_catalog(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="approval-items.xlsx"'
    return response
