"""Every write on notifications: create (in the caller's transaction), receipts, reading.

`notify` writes the row inside the caller's transaction and schedules the send with
`transaction.on_commit`, so a rolled-back operation never texts anyone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digitalcity.core.models import Notification, NotificationChannel, NotificationStatus

logger = logging.getLogger("digitalcity.notifications")

SMS_MAX_CHARS = 500
PHONE_RE = re.compile(r"1\d{10}")


class ReceiptStatus(models.TextChoices):
    """What a gateway's delivery receipt may say (docs/api/sms-gateway.md)."""

    DELIVERED = "delivered", gettext_lazy("已送达")
    FAILED = "failed", gettext_lazy("未送达")


def _address(channel: str, recipient: Any, to: str | None) -> str:
    """The address to send to, checked for the channel's rule."""
    if channel == NotificationChannel.SITE:
        if recipient is None:
            raise ValidationError({"recipient": _("站内消息必须指定收件用户")})
        return ""
    if channel == NotificationChannel.SMS:
        address = (to if to is not None else getattr(recipient, "phone", None) or "").strip()
        if not PHONE_RE.fullmatch(address):
            raise ValidationError(
                {"to": _("手机号码「%(to)s」无效：应为 1 开头的 11 位数字") % {"to": address}}
            )
        return address
    if channel == NotificationChannel.EMAIL:
        address = (to if to is not None else getattr(recipient, "email", None) or "").strip()
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationError(
                {"to": _("电子邮件地址「%(to)s」格式不正确") % {"to": address}}
            ) from exc
        return address
    raise ValidationError({"channel": _("不支持的通知渠道：%(channel)s") % {"channel": channel}})


def _enqueue(notification_id: int) -> None:
    """After commit: hand the send to the task queue. If the queue is down the row
    stays due and the worker's sweep sends it, so a failure here is only logged."""
    from .tasks import send_notification

    try:
        send_notification.enqueue(notification_id)
    except Exception:
        logger.exception("通知 %s 未能进入任务队列，将由定时扫描发送", notification_id)


def notify(
    *,
    channel: str,
    body: str,
    recipient: Any = None,
    to: str | None = None,
    subject: str = "",
    template: str = "",
    link: str = "",
    related: models.Model | None = None,
    sensitive: bool = False,
) -> Notification:
    """Queue one message on one channel; it is sent only if the caller's transaction commits.

    `to` defaults to the recipient's phone (sms) or email (email); site messages need a
    recipient. Raises ValidationError for a bad phone number (11 digits starting with 1),
    a bad email address, an empty body, or an SMS longer than 500 characters.
    `sensitive=True` (one-time codes) blanks the body once it is sent or given up.
    """
    address = _address(channel, recipient, to)
    if not body.strip():
        raise ValidationError({"body": _("通知正文不能为空")})
    if channel == NotificationChannel.SMS and len(body) > SMS_MAX_CHARS:
        raise ValidationError(
            {
                "body": _("短信正文最多 %(max)d 个字符，当前 %(n)d 个")
                % {"max": SMS_MAX_CHARS, "n": len(body)}
            }
        )
    now = timezone.now()
    site = channel == NotificationChannel.SITE
    with transaction.atomic():
        notification = Notification.objects.create(
            recipient=recipient,
            to=address,
            channel=channel,
            template=template,
            subject=subject,
            body=body,
            link=link,
            sensitive=sensitive,
            # A site message is delivered by the commit that makes it visible.
            status=NotificationStatus.DELIVERED if site else NotificationStatus.QUEUED,
            sent_at=now if site else None,
            delivered_at=now if site else None,
            next_attempt_at=None if site else now,
            related_content_type=ContentType.objects.get_for_model(related) if related else None,
            related_object_id=str(related.pk) if related else "",
        )
        if not site:
            transaction.on_commit(partial(_enqueue, notification.pk))
    return notification


def notify_user(
    user: Any,
    *,
    body: str,
    channels: Iterable[str] = (NotificationChannel.SITE, NotificationChannel.SMS),
    subject: str = "",
    template: str = "",
    link: str = "",
    related: models.Model | None = None,
) -> list[Notification]:
    """Tell `user` on each of `channels` they can be reached on.

    A channel the user has no address for (no phone, no email) is skipped, not an error:
    the site inbox always reaches them. Returns the queued notifications.
    """
    queued: list[Notification] = []
    with transaction.atomic():
        for channel in channels:
            if channel == NotificationChannel.SMS and not getattr(user, "phone", None):
                continue
            if channel == NotificationChannel.EMAIL and not getattr(user, "email", None):
                continue
            queued.append(
                notify(
                    channel=channel,
                    recipient=user,
                    subject=subject,
                    body=body,
                    template=template,
                    link=link,
                    related=related,
                )
            )
    return queued


def record_sms_receipt(
    *, message_id: str, status: str, delivered_at: datetime | None = None
) -> Notification:
    """Apply a gateway's delivery receipt. Idempotent: a repeated receipt changes nothing.

    Raises Notification.DoesNotExist for an unknown message id and ValidationError for a
    status other than delivered/failed.
    """
    if status not in ReceiptStatus.values:
        raise ValidationError(
            {
                "status": _("回执状态「%(status)s」无效：应为 delivered 或 failed")
                % {"status": status}
            }
        )
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(
            channel=NotificationChannel.SMS, provider_message_id=message_id
        )
        if status == ReceiptStatus.DELIVERED:
            notification.status = NotificationStatus.DELIVERED
            notification.delivered_at = delivered_at or timezone.now()
        elif notification.status != NotificationStatus.DELIVERED:
            # The gateway took it but the handset never got it; resending could reach the
            # person twice if the receipt is wrong, so it stops here for staff to see.
            notification.status = NotificationStatus.FAILED
            notification.next_attempt_at = None
            notification.last_error = _("短信网关回执：未送达")
        notification.save(update_fields=["status", "delivered_at", "next_attempt_at", "last_error"])
    return notification


def mark_read(*, user: Any, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's own site messages read (all unread ones if no ids); returns how many."""
    messages = Notification.objects.filter(
        recipient=user, channel=NotificationChannel.SITE, read_at__isnull=True
    )
    if notification_ids is not None:
        messages = messages.filter(pk__in=list(notification_ids))
    with transaction.atomic():
        return messages.update(read_at=timezone.now())


def retry_now(*, notification_ids: Iterable[int]) -> int:
    """Put failed SMS/email notifications back in the queue with a fresh set of attempts
    (staff fixed the address or the gateway); returns how many. Others, and sensitive
    ones, are left alone."""
    ids = list(notification_ids)
    with transaction.atomic():
        requeued = list(
            Notification.objects.filter(pk__in=ids, status=NotificationStatus.FAILED)
            .exclude(channel=NotificationChannel.SITE)
            # A one-time code's body is gone once given up, and the code has expired.
            .exclude(sensitive=True)
            .values_list("pk", flat=True)
        )
        count = Notification.objects.filter(
            pk__in=requeued, status=NotificationStatus.FAILED
        ).update(status=NotificationStatus.QUEUED, attempts=0, next_attempt_at=timezone.now())
        for pk in requeued:
            transaction.on_commit(partial(_enqueue, pk))
    return count
