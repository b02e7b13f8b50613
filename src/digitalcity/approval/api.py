"""Approval REST endpoints (django-ninja), mounted under /api/approval/. docs/approval.md "API".

Items and licence verification are public; applications need a session and answer 404
to anyone outside the application's scope (queries.get_application_for_user). Refusals:
403 with the reason; bad input: 400 with the messages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from digitalcity.cases.declare import get_type
from digitalcity.identity.masking import mask_name

from . import queries, services
from .models import Application, Item, Licence
from .workflow import TYPE_CODE

router = Router(tags=["approval"])
T = TypeVar("T")


class MaterialOut(Schema):
    code: str
    name: str
    required: bool
    shared: bool


class ItemOut(Schema):
    code: str
    name: str
    legal_basis: str
    lead_department: str
    applicant_kind: str
    kind: str
    legal_days: int
    promised_days: int
    visits: int
    online: bool
    fee: str
    result_name: str


class ItemDetailOut(ItemOut):
    co_departments: list[str]
    materials: list[MaterialOut]
    form_spec: list[dict[str, Any]]


class ApplicationOut(Schema):
    id: int
    item: str
    number: str | None
    state: str
    state_label: str
    applicant_name: str
    channel: str
    submitted_at: datetime | None
    licence_number: str | None


class ActionIn(Schema):
    """`action`: accept | correction | review | grant | refuse | reject | extend."""

    action: str
    opinion: str = ""
    outcome: str = ""
    reasons: str = ""
    legal_basis: str = ""
    scope: str = ""
    items: list[dict[str, str]] = []


class VerifyOut(Schema):
    number: str
    valid: bool
    status: str
    result_name: str
    holder: str
    holder_number: str
    scope: str
    department: str
    issued_on: date
    valid_until: date | None


def _call(func: Callable[[], T]) -> T:
    try:
        return func()
    except PermissionDenied as exc:
        raise HttpError(403, str(exc) or _("无权执行此操作")) from exc
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from exc


def _item_out(item: Item) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "legal_basis": item.legal_basis,
        "lead_department": item.lead_department.name,
        "applicant_kind": item.applicant_kind,
        "kind": item.kind,
        "legal_days": item.legal_days,
        "promised_days": item.promised_days,
        "visits": item.visits,
        "online": item.online,
        "fee": item.fee,
        "result_name": item.result_name,
    }


def _application_out(a: Application, user: Any) -> dict[str, Any]:
    ct = get_type(TYPE_CODE)
    licence = getattr(a, "licence", None) if hasattr(a, "licence") else None
    own = user.pk in (a.applicant_id, a.created_by_id)
    return {
        "id": a.pk,
        "item": a.item.code,
        "number": a.case.number if a.case else None,
        "state": a.case.state if a.case else "draft",
        "state_label": str(ct.state(a.case.state).label) if a.case else _("草稿"),
        "applicant_name": a.applicant_name if own else mask_name(a.applicant_name),
        "channel": a.channel,
        "submitted_at": a.submitted_at,
        "licence_number": licence.number if licence else None,
    }


@router.get("/items", response=list[ItemOut])
def items(request: HttpRequest, kind: str = "", q: str = "") -> list[dict[str, Any]]:
    return [_item_out(i) for i in queries.items_for(kind or None, q[:50])]


@router.get("/items/{code}", response=ItemDetailOut)
def item(request: HttpRequest, code: str) -> dict[str, Any]:
    found = Item.objects.filter(code=code, is_active=True).select_related("lead_department").first()
    if found is None:
        raise HttpError(404, _("事项不存在或已停用"))
    return {
        **_item_out(found),
        "co_departments": [d.name for d in found.co_departments.all()],
        "materials": [
            {"code": m.code, "name": m.name, "required": m.required, "shared": m.shared}
            for m in found.materials.all()
        ],
        "form_spec": found.form_spec,
    }


@router.get("/applications", response=list[ApplicationOut], auth=django_auth)
def applications(request: HttpRequest, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    rows = (
        queries.applications_for_user(request.user)
        .select_related("licence")
        .order_by("-created_at", "-id")[offset : offset + min(limit, 200)]
    )
    return [_application_out(a, request.user) for a in rows]


@router.get("/applications/{pk}", response=ApplicationOut, auth=django_auth)
def application(request: HttpRequest, pk: int) -> dict[str, Any]:
    return _application_out(queries.get_application_for_user(request.user, pk), request.user)


@router.post("/applications/{pk}/actions", response=ApplicationOut, auth=django_auth)
def act(request: HttpRequest, pk: int, payload: ActionIn) -> dict[str, Any]:
    a = queries.get_application_for_user(request.user, pk)
    user = request.user
    calls: dict[str, Callable[[], Any]] = {
        "accept": lambda: services.application_accept(
            application=a, actor=user, opinion=payload.opinion
        ),
        "correction": lambda: services.application_ask_correction(
            application=a, actor=user, items=payload.items
        ),
        "review": lambda: services.review_opinion(
            application=a, actor=user, outcome=payload.outcome, opinion=payload.opinion
        ),
        "grant": lambda: services.application_grant(
            application=a, actor=user, opinion=payload.opinion, scope=payload.scope
        ),
        "refuse": lambda: services.application_refuse(
            application=a, actor=user, reasons=payload.reasons, legal_basis=payload.legal_basis
        ),
        "reject": lambda: services.application_reject(
            application=a, actor=user, reasons=payload.reasons, legal_basis=payload.legal_basis
        ),
        "extend": lambda: services.application_extend(
            application=a, actor=user, reason=payload.opinion
        ),
    }
    if payload.action not in calls:
        raise HttpError(
            400,
            _("操作“%(a)s”无效，可选：%(all)s") % {"a": payload.action, "all": "、".join(calls)},
        )
    _call(calls[payload.action])
    return _application_out(queries.get_application_for_user(user, pk), user)


@router.get("/verify/{number}", response=VerifyOut)
def verify(request: HttpRequest, number: str, t: str = "") -> dict[str, Any]:
    """Public: the licence only with the token from its QR code; holder data masked."""
    licence = Licence.objects.filter(number=number).select_related("item", "department").first()
    if licence is None or not t or t != licence.verify_token:
        raise HttpError(404, _("未找到该证照或核验码不符"))
    return {
        "number": licence.number,
        "valid": licence.is_valid_on(timezone.localdate()),
        "status": licence.status,
        "result_name": licence.item.result_name,
        "holder": queries.mask_holder_name(licence.holder_name, licence.holder_number),
        "holder_number": queries.mask_holder_number(licence.holder_number),
        "scope": licence.scope,
        "department": licence.department.name,
        "issued_on": licence.issued_on,
        "valid_until": licence.valid_until,
    }
