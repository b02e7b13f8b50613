"""Notifications: one row per message on one channel (SMS, email, in-site inbox).

The in-site inbox is the same table (channel `site`, with `read_at`): a site message is
a notification whose delivery is the commit itself, so a second table would only copy
these columns. Rows are written in the caller's transaction and sent after it commits
(`digitalcity.core.notifications.services`).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["SENSITIVE_BODY_REMOVED", "Notification", "NotificationChannel", "NotificationStatus"]

SENSITIVE_BODY_REMOVED = _("（正文含一次性验证码等敏感内容，发送后已删除）")


class NotificationChannel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")
    SITE = "site", _("站内消息")


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    DELIVERED = "delivered", _("已送达")


class Notification(models.Model):
    """One message to one address on one channel.

    Sending state machine: queued → sending → sent (→ delivered on a gateway receipt), or
    sending → failed with `next_attempt_at` set for a retry; failed with
    `next_attempt_at` empty means the attempts are used up. While `sending`,
    `next_attempt_at` is the lease: a worker that died mid-send leaves the row to be
    reclaimed by the sweep once the lease has passed.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("收件用户"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    to = models.CharField(_("收件地址"), max_length=254, blank=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=NotificationChannel.choices)
    template = models.CharField(_("模板"), max_length=100, blank=True)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("正文"))
    # Bodies holding a secret (a login code) are blanked once sent or given up, so the
    # table and its admin never become a store of live codes.
    sensitive = models.BooleanField(_("含敏感内容"), default=False)
    link = models.CharField(_("链接"), max_length=500, blank=True)
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.QUEUED,
    )
    attempts = models.PositiveIntegerField(_("已尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True, db_index=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    provider_message_id = models.CharField(
        _("网关消息编号"), max_length=100, blank=True, db_index=True
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    related_content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("关联对象类型"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    related_object_id = models.CharField(_("关联对象编号"), max_length=64, blank=True)
    related = GenericForeignKey("related_content_type", "related_object_id")

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "channel", "read_at"], name="core_notif_inbox_idx"),
            models.Index(
                fields=["related_content_type", "related_object_id"], name="core_notif_related_idx"
            ),
        ]

    def __str__(self) -> str:
        target = self.to or self.recipient_id
        about = self.subject or ("" if self.sensitive else self.body[:20])
        return f"{self.get_channel_display()} → {target}: {about}"
