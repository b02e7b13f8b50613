"""core notification endpoints: the SMS gateway's delivery receipts and the user's inbox."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer, django_auth

from digitalcity.core.models import Notification, NotificationChannel
from digitalcity.core.notifications import services

router = Router(tags=["notifications"])


class GatewayToken(HttpBearer):
    """The gateway proves itself with the same bearer token we send it."""

    def authenticate(self, request: HttpRequest, token: str) -> bool | None:
        expected = settings.DC_SMS_GATEWAY_TOKEN
        if expected and hmac.compare_digest(token.encode(), expected.encode()):
            return True
        return None


class ReceiptIn(Schema):
    message_id: str
    status: str
    delivered_at: datetime | None = None


class ReceiptOut(Schema):
    message_id: str
    status: str


class InboxMessage(Schema):
    id: int
    subject: str
    body: str
    link: str
    created_at: datetime
    read_at: datetime | None


class InboxOut(Schema):
    unread: int
    messages: list[InboxMessage]


class MarkReadIn(Schema):
    ids: list[int] | None = None


class MarkReadOut(Schema):
    marked: int


def _field_errors(exc: ValidationError) -> str:
    return "；".join(str(m) for messages in exc.message_dict.values() for m in messages)


@router.post("/sms-receipts", auth=GatewayToken(), response=ReceiptOut, url_name="core_sms_receipt")
def sms_receipt(request: HttpRequest, payload: ReceiptIn) -> Any:
    """Delivery receipt from the SMS gateway (docs/api/sms-gateway.md)."""
    try:
        notification = services.record_sms_receipt(
            message_id=payload.message_id,
            status=payload.status,
            delivered_at=payload.delivered_at,
        )
    except Notification.DoesNotExist as exc:
        raise HttpError(404, _("未知的短信编号：%(id)s") % {"id": payload.message_id}) from exc
    except ValidationError as exc:
        raise HttpError(422, _field_errors(exc)) from exc
    return {"message_id": notification.provider_message_id, "status": notification.status}


@router.get("/inbox", auth=django_auth, response=InboxOut, url_name="core_inbox")
def inbox(request: HttpRequest, unread_only: bool = False, limit: int = 50) -> Any:
    """The logged-in user's site messages, newest first."""
    mine = Notification.objects.filter(
        recipient_id=request.user.pk, channel=NotificationChannel.SITE
    )
    unread = mine.filter(read_at__isnull=True)
    shown = unread if unread_only else mine
    return {"unread": unread.count(), "messages": list(shown[: max(1, min(limit, 200))])}


@router.post("/inbox/mark-read", auth=django_auth, response=MarkReadOut, url_name="core_inbox_read")
def inbox_mark_read(request: HttpRequest, payload: MarkReadIn) -> Any:
    """Mark the listed (or all) of the user's own site messages read."""
    return {"marked": services.mark_read(user=request.user, notification_ids=payload.ids)}
