"""The telephony system's call events and the SMS gateway's inbound messages.

Both arrive as signed webhooks (docs/hotline.md "Webhooks"): the body is JSON, the
headers carry `X-Hotline-Timestamp` (Unix seconds) and `X-Hotline-Signature`
= hex HMAC-SHA256(secret, timestamp + "." + body). A signature older than five
minutes is refused, so a captured request cannot be replayed later; the event ids
(`call_id` + event, the gateway's message id) make a replay inside the window harmless.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.cases.choices import CaseChannel
from digitalcity.core.models import Notification, NotificationChannel
from digitalcity.core.notifications.services import PHONE_RE, notify
from digitalcity.identity.models import User

from ..choices import CallState, RequestType
from ..conf import webhook_secret
from ..models import Call, SmsMessage, WorkOrder
from .intake import IntakeThrottled, order_intake

__all__ = [
    "SIGNATURE_MAX_AGE",
    "call_event",
    "sign_body",
    "sms_receive",
    "verify_signature",
]

SIGNATURE_MAX_AGE = 300
#: Where an SMS order starts before the center classifies it at dispatch.
SMS_CATEGORY = "990101"


def sign_body(kind: str, body: bytes, timestamp: int | None = None) -> tuple[str, str]:
    """(timestamp, signature) headers for `body` — what the simulator and a gateway send."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(webhook_secret(kind), ts.encode() + b"." + body, hashlib.sha256)
    return ts, digest.hexdigest()


def verify_signature(kind: str, body: bytes, timestamp: str, signature: str) -> None:
    """PermissionDenied unless the signature is right and fresh."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        raise PermissionDenied(_("签名时间戳无效")) from None
    if abs(time.time() - ts) > SIGNATURE_MAX_AGE:
        raise PermissionDenied(_("签名已过期（超过 5 分钟）"))
    _ts, expected = sign_body(kind, body, ts)
    if not hmac.compare_digest(expected, (signature or "").strip().lower()):
        raise PermissionDenied(_("签名不正确"))


def _parse_at(value: Any) -> datetime:
    if value in (None, ""):
        return timezone.now()
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({"at": _("时间“%(v)s”不是 ISO 8601 格式") % {"v": value}}) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def call_event(
    *, event: str, call_id: str, caller: str = "", agent: str = "", at: Any = None
) -> Call:
    """One call event: `ringing` (the console shows the caller and their past orders),
    `answered`, `ended`. `agent` is the agent's login name (工号) in the platform."""
    if event not in ("ringing", "answered", "ended"):
        raise ValidationError(
            {"event": _("事件“%(e)s”无效，应为 ringing/answered/ended") % {"e": event}}
        )
    call_id = (call_id or "").strip()
    if not call_id or len(call_id) > 64:
        raise ValidationError({"call_id": _("呼叫编号须为 1 至 64 个字符")})
    phone = "".join(ch for ch in (caller or "") if ch.isdigit())
    moment = _parse_at(at)
    agent_user = User.objects.filter(username=agent, is_active=True).first() if agent else None
    with transaction.atomic():
        call = Call.objects.select_for_update().filter(call_id=call_id).first()
        if call is None:
            if not phone:
                raise ValidationError({"caller": _("来电号码不能为空")})
            try:
                with transaction.atomic():
                    call = Call.objects.create(
                        call_id=call_id,
                        caller_phone=phone,
                        agent=agent_user,
                        agent_extension=(agent or "")[:16],
                        started_at=moment,
                    )
            except IntegrityError:
                call = Call.objects.select_for_update().get(call_id=call_id)
        if agent_user is not None and call.agent_id is None:
            call.agent = agent_user
        if event == "answered" and call.state == CallState.RINGING:
            call.state = CallState.ANSWERED
        elif event == "ended":
            call.state, call.ended_at = CallState.ENDED, call.ended_at or moment
        call.save()
    return call


def link_call(*, call: Call, order: WorkOrder) -> None:
    Call.objects.filter(pk=call.pk, order__isnull=True).update(order=order)


def sms_receive(*, gateway_id: str, from_phone: str, body: str, at: Any = None) -> SmsMessage:
    """An inbound SMS becomes an order (request type 咨询 until the center classifies it)
    and is acknowledged at once with the order number (GB/T 33358: within 3 minutes;
    the measured latency is in the figures). A redelivered message changes nothing."""
    gateway_id = (gateway_id or "").strip()
    if not gateway_id or len(gateway_id) > 64:
        raise ValidationError({"id": _("网关消息编号须为 1 至 64 个字符")})
    phone = "".join(ch for ch in (from_phone or "") if ch.isdigit())
    received = timezone.now()
    existing = SmsMessage.objects.filter(gateway_id=gateway_id).first()
    if existing is not None:
        return existing
    error = ""
    order: WorkOrder | None = None
    try:
        order = order_intake(
            channel=CaseChannel.SMS,
            request_type=RequestType.CONSULT,
            category=SMS_CATEGORY,
            description=body,
            caller_phone=phone,
            idempotency_key=f"sms:{gateway_id}",
        )
    except IntakeThrottled as throttled:
        error = "；".join(throttled.messages)
    except ValidationError as invalid:
        error = "；".join(invalid.messages)
    with transaction.atomic():
        try:
            with transaction.atomic():
                message = SmsMessage.objects.create(
                    gateway_id=gateway_id,
                    from_phone=phone[:20],
                    body=(body or "")[:2000],
                    received_at=received,
                    order=order,
                    error=error[:300],
                )
        except IntegrityError:
            return SmsMessage.objects.get(gateway_id=gateway_id)
        reply: Notification | None = None
        if PHONE_RE.fullmatch(phone) and order is not None:
            reply = notify(
                channel=NotificationChannel.SMS,
                to=phone,
                body=_("【12345】您的诉求已受理，工单号 %(n)s，可凭号码查询办理进度。")
                % {"n": order.case.number},
                related=order.case,
            )
        elif PHONE_RE.fullmatch(phone) and error and "caller_phone" not in error:
            reply = notify(
                channel=NotificationChannel.SMS,
                to=phone,
                body=_("【12345】您的短信未能受理：%(e)s") % {"e": error[:200]},
            )
        if reply is not None:
            message.reply = reply
            message.save(update_fields=["reply"])
    return message
