"""The audit log: append-only rows, each carrying the hash of the one before (a hash chain).

Editing, deleting or inserting a row breaks the chain where it happened, and
`digitalcity audit verify` reports it. Rows are written only by
`digitalcity.core.audit.services.record` (and the signal handlers that call it).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["AuditAction", "AuditChainHead", "AuditEntry", "AuditLogImmutableError"]


class AuditLogImmutableError(Exception):
    """Raised on any attempt to change or delete an audit row through the ORM."""


class AuditAction(models.TextChoices):
    CREATE = "create", _("新增")
    UPDATE = "update", _("修改")
    DELETE = "delete", _("删除")
    VIEW_UNMASKED = "view_unmasked", _("查看未脱敏信息")
    LOGIN = "login", _("登录")
    LOGIN_FAILED = "login_failed", _("登录失败")
    LOGOUT = "logout", _("退出登录")
    EXPORT = "export", _("导出")
    CUSTOM = "custom", _("其他操作")


class AuditEntry(models.Model):
    """One audit row. Every column except `actor` and `hash` is covered by `hash`.

    `actor` is a convenience link that becomes NULL when the account is deleted, so it
    stays outside the hash; `actor_pk` and `actor_label` keep who it was, inside it.
    """

    seq = models.PositiveBigIntegerField(_("序号"), unique=True, editable=False)
    occurred_at = models.DateTimeField(_("发生时间"), db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    actor_pk = models.PositiveBigIntegerField(_("操作人账户编号"), null=True, editable=False)
    actor_label = models.CharField(_("操作人"), max_length=200, blank=True, editable=False)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True, db_index=True)
    # Text, not GenericIPAddressField: a malformed X-Real-IP must not make auditing fail.
    ip = models.CharField(_("IP 地址"), max_length=45, blank=True, editable=False)
    action = models.CharField(
        _("操作"), max_length=32, choices=AuditAction.choices, db_index=True, editable=False
    )
    content_type = models.ForeignKey(
        ContentType,
        verbose_name=_("对象类型"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True, editable=False)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True, editable=False)
    before = models.JSONField(_("修改前"), null=True, blank=True, editable=False)
    after = models.JSONField(_("修改后"), null=True, blank=True, editable=False)
    extra = models.JSONField(_("附加信息"), null=True, blank=True, editable=False)
    reason = models.TextField(_("事由"), blank=True, editable=False)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, editable=False)
    hash = models.CharField(_("哈希"), max_length=64, unique=True, editable=False)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.get_action_display()} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogImmutableError(_("审计日志只能追加，不能修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogImmutableError(_("审计日志只能追加，不能删除。"))


class AuditChainHead(models.Model):
    """The single row (pk 1) naming the chain's last position and hash.

    Appends lock this row, so two transactions never take the same `seq` or fork the
    chain; `verify` compares it with the last row, which is how a deleted tail shows.
    """

    last_seq = models.PositiveBigIntegerField(_("最后序号"), default=0)
    last_hash = models.CharField(_("最后哈希"), max_length=64)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"
