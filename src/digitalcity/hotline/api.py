"""REST endpoints under /api/hotline/: the telephony and SMS webhooks (signed, no login),
and the staff's reads of orders (session auth, scoped: a department clerk gets 404 for
another department's order)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from .queries import display_name, display_phone, get_order_for_user, orders_for_user
from .services.channels import call_event, sms_receive, verify_signature
from .status import order_status

router = Router(tags=["12345热线"])


class CallOut(Schema):
    call_id: str
    state: str
    caller_history: int


class SmsOut(Schema):
    id: str
    order: str | None
    error: str


class OrderOut(Schema):
    id: int
    number: str
    state: str
    state_label: str
    request_type: str
    urgency: str
    category: str
    description: str
    caller_name: str
    caller_phone: str
    address: str
    department: str
    expected_at: datetime | None
    status_notes: str
    created_at: datetime


def _signed_json(request: HttpRequest, kind: str) -> dict[str, Any]:
    verify_signature(
        kind,
        request.body,
        request.headers.get("X-Hotline-Timestamp", ""),
        request.headers.get("X-Hotline-Signature", ""),
    )
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationError({"body": "请求体不是有效的 JSON"}) from None
    if not isinstance(data, dict):
        raise ValidationError({"body": "请求体应为 JSON 对象"})
    return data


def _error(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "；".join(f"{field}：{'，'.join(msgs)}" for field, msgs in exc.message_dict.items())
    return "；".join(exc.messages)


@router.post(
    "/telephony/events",
    response=CallOut,
    auth=None,
    summary="话务系统来电事件（签名）",
)
def telephony_event(request: HttpRequest) -> Any:
    try:
        data = _signed_json(request, "telephony")
        call = call_event(
            event=str(data.get("event", "")),
            call_id=str(data.get("call_id", "")),
            caller=str(data.get("caller", "")),
            agent=str(data.get("agent", "")),
            at=data.get("at"),
        )
    except PermissionDenied as denied:
        raise HttpError(403, str(denied)) from denied
    except ValidationError as invalid:
        raise HttpError(400, _error(invalid)) from invalid
    from .models import WorkOrder

    history = WorkOrder.objects.filter(caller_phone=call.caller_phone).count()
    return {"call_id": call.call_id, "state": call.state, "caller_history": history}


@router.post(
    "/sms/inbound",
    response=SmsOut,
    auth=None,
    summary="短信网关上行短信（签名）",
)
def sms_inbound(request: HttpRequest) -> Any:
    try:
        data = _signed_json(request, "sms")
        message = sms_receive(
            gateway_id=str(data.get("id", "")),
            from_phone=str(data.get("from", "")),
            body=str(data.get("body", "")),
            at=data.get("at"),
        )
    except PermissionDenied as denied:
        raise HttpError(403, str(denied)) from denied
    except ValidationError as invalid:
        raise HttpError(400, _error(invalid)) from invalid
    return {
        "id": message.gateway_id,
        "order": message.order.case.number if message.order is not None else None,
        "error": message.error,
    }


def _out(order: Any, viewer: Any) -> dict[str, Any]:
    status = order_status(order)
    return {
        "id": order.pk,
        "number": order.case.number,
        "state": status.state,
        "state_label": status.state_label,
        "request_type": order.request_type,
        "urgency": order.urgency,
        "category": order.category.code,
        "description": order.description,
        "caller_name": display_name(order, viewer),
        "caller_phone": display_phone(order, viewer),
        "address": order.address,
        "department": status.department,
        "expected_at": status.expected_at,
        "status_notes": status.notes,
        "created_at": order.created_at,
    }


@router.get("/orders", response=list[OrderOut], auth=django_auth, summary="我可见的工单")
def list_orders(request: HttpRequest, limit: int = 50, offset: int = 0) -> Any:
    limit = max(1, min(limit, 200))
    orders = (
        orders_for_user(request.user)
        .prefetch_related("case__clocks")
        .order_by("-created_at", "-id")[offset : offset + limit]
    )
    return [_out(order, request.user) for order in orders]


@router.get("/orders/{ref}", response=OrderOut, auth=django_auth, summary="工单详情")
def order_detail(request: HttpRequest, ref: str) -> Any:
    try:
        order = get_order_for_user(request.user, ref)
    except Http404 as missing:
        raise HttpError(404, "工单不存在或无权访问") from missing
    return _out(order, request.user)
