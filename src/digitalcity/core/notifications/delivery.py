"""Sending queued notifications: claim, send, record, retry with backoff.

Two paths call `deliver`: the task scheduled when the caller's transaction commits,
and the worker's periodic `sweep_due` (so nothing is lost if the task queue was down
or a worker died). Both go through `claim`, a conditional UPDATE that lets exactly
one process take a given attempt (STYLE.md 7), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone

from digitalcity.core.models import (
    SENSITIVE_BODY_REMOVED,
    Notification,
    NotificationChannel,
    NotificationStatus,
)

from .backends import SmsSendError, get_sms_backend

logger = logging.getLogger("digitalcity.notifications")

# Waits after the 1st, 2nd, 3rd … failed attempt; the last one repeats.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
# How long a claimed row stays ours. Far above the gateway timeout, so a slow send is
# never taken over while it may still succeed; short enough that a crash costs minutes.
SENDING_LEASE = timedelta(minutes=10)
CLAIMABLE = (NotificationStatus.QUEUED, NotificationStatus.FAILED, NotificationStatus.SENDING)


def retry_delay(attempts: int) -> timedelta:
    """The wait after `attempts` failed attempts (1 → 1 min, 2 → 5 min, 3 → 30 min, …)."""
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


def max_attempts() -> int:
    return max(1, int(settings.DC_SMS_MAX_ATTEMPTS))


def claim(notification: Notification, *, now: datetime | None = None) -> bool:
    """Take the next attempt of `notification` as seen in memory; True if this process won.

    The UPDATE matches the status and attempt count we read, so of two workers that
    read the same row only one changes it; the other sees 0 rows and backs off.
    """
    now = now or timezone.now()
    if notification.status not in CLAIMABLE or notification.next_attempt_at is None:
        return False
    if notification.next_attempt_at > now:
        return False
    won = (
        Notification.objects.filter(
            pk=notification.pk,
            status=notification.status,
            attempts=notification.attempts,
        ).update(
            status=NotificationStatus.SENDING,
            attempts=notification.attempts + 1,
            next_attempt_at=now + SENDING_LEASE,
        )
        == 1
    )
    if won:
        notification.status = NotificationStatus.SENDING
        notification.attempts += 1
        notification.next_attempt_at = now + SENDING_LEASE
    return won


def _send(notification: Notification) -> str:
    """Hand the message to its channel; returns the provider's message id."""
    if notification.channel == NotificationChannel.SMS:
        result = get_sms_backend().send(
            to=notification.to, text=notification.body, client_ref=str(notification.pk)
        )
        return result.message_id
    if notification.channel == NotificationChannel.EMAIL:
        message_id = make_msgid(domain="digitalcity")
        EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.to],
            headers={"Message-ID": message_id},
        ).send(fail_silently=False)
        return message_id
    # Site messages are delivered by their own commit and never queued.
    raise SmsSendError(f"渠道 {notification.channel} 不经发送队列")


def _redacted(notification: Notification, *, done: bool) -> dict[str, str]:
    """The body update that blanks a sensitive message once no attempt will need it."""
    return {"body": str(SENSITIVE_BODY_REMOVED)} if done and notification.sensitive else {}


def deliver(*, notification_id: int, now: datetime | None = None) -> str:
    """Make one attempt at sending, if the row is due and no one else has it.

    Returns what happened ("sent", "retry", "gave-up", "skipped") for the log.
    """
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None or not claim(notification, now=now):
        return "skipped"
    try:
        message_id = _send(notification)
    except Exception as exc:  # any failure of the outside world is one failed attempt
        error = f"{type(exc).__name__}: {exc}"[:2000]
        finished = timezone.now()
        gave_up = notification.attempts >= max_attempts()
        Notification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING).update(
            status=NotificationStatus.FAILED,
            last_error=error,
            next_attempt_at=None if gave_up else finished + retry_delay(notification.attempts),
            **_redacted(notification, done=gave_up),
        )
        logger.warning(
            "通知 %s 第 %s 次发送失败%s：%s",
            notification.pk,
            notification.attempts,
            "，不再重试" if gave_up else "",
            error,
        )
        return "gave-up" if gave_up else "retry"
    Notification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING).update(
        status=NotificationStatus.SENT,
        sent_at=timezone.now(),
        next_attempt_at=None,
        provider_message_id=message_id[:100],
        last_error="",
        **_redacted(notification, done=True),
    )
    logger.info("通知 %s 已发送（%s）", notification.pk, message_id)
    return "sent"


def sweep_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Attempt every notification whose next attempt is due; returns how many were sent.

    Safe to run in several workers at once: each row is claimed before it is sent.
    """
    now = now or timezone.now()
    due = list(
        Notification.objects.filter(status__in=CLAIMABLE, next_attempt_at__lte=now)
        .filter(~Q(channel=NotificationChannel.SITE))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(deliver(notification_id=pk, now=now) == "sent" for pk in due)
