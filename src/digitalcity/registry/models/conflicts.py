"""The cross-check queue: a non-authoritative source disagrees with a golden value."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import ConflictState, Entity

__all__ = ["Conflict"]


class Conflict(models.Model):
    """One disagreement, in the queue of the department responsible for the field.

    At most one open conflict per (subject, field, other source): a source that changes
    its mind again updates the open conflict instead of queueing another.
    """

    entity = models.CharField(_("数据对象"), max_length=16, choices=Entity.choices)
    person = models.ForeignKey(
        "registry.Person",
        verbose_name=_("人口"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="conflicts",
    )
    organization = models.ForeignKey(
        "registry.Organization",
        verbose_name=_("法人"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="conflicts",
    )
    field = models.CharField(_("字段"), max_length=40)
    golden_value = models.TextField(_("标准值"), blank=True)
    other_value = models.TextField(_("不一致的值"), blank=True)
    other_source = models.ForeignKey(
        "registry.Source",
        verbose_name=_("不一致的来源"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    other_record = models.ForeignKey(
        "registry.SourceRecord",
        verbose_name=_("不一致的记录"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    golden_record = models.ForeignKey(
        "registry.SourceRecord",
        verbose_name=_("标准值所依据的记录"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("责任部门"),
        on_delete=models.PROTECT,
        related_name="registry_conflicts",
    )
    state = models.CharField(
        _("状态"), max_length=12, choices=ConflictState.choices, default=ConflictState.OPEN
    )
    resolution_value = models.TextField(_("更正后的值"), blank=True)
    reason = models.TextField(_("处理理由"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("数据冲突")
        verbose_name_plural = _("数据冲突")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["department", "state"], name="registry_conflict_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "field", "other_source"],
                condition=Q(state="open", person__isnull=False),
                name="registry_one_open_person_conflict",
            ),
            models.UniqueConstraint(
                fields=["organization", "field", "other_source"],
                condition=Q(state="open", organization__isnull=False),
                name="registry_one_open_org_conflict",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity}:{self.person_id or self.organization_id}.{self.field}"
