"""Administrative divisions (行政区划): GB/T 2260 codes plus the 9/12-digit extensions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import AuditedMixin, TimestampedMixin

__all__ = ["Division", "DivisionLevel", "DivisionSource"]


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", _("省级")
    CITY = "city", _("地级")
    COUNTY = "county", _("县级")
    TOWNSHIP = "township", _("乡级")
    COMMUNITY = "community", _("村级（社区）")


class DivisionSource(models.TextChoices):
    GBT2260 = "gbt2260", _("GB/T 2260（民政部）")
    NBS = "nbs", _("统计用区划代码（国家统计局）")
    LOCAL = "local", _("本地维护")


class Division(AuditedMixin, TimestampedMixin, models.Model):
    """One division. `code` is 6 digits (province/city/county), 9 (township) or 12 (community).

    A division that was abolished keeps its row with `valid_until` set: ID numbers issued
    before then still carry its code (STANDARDS.md §1.1).
    """

    code = models.CharField(_("区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("级别"), max_length=16, choices=DivisionLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    source = models.CharField(
        _("数据来源"), max_length=16, choices=DivisionSource.choices, default=DivisionSource.GBT2260
    )
    valid_from = models.PositiveSmallIntegerField(_("启用年份"), null=True, blank=True)
    valid_until = models.PositiveSmallIntegerField(_("撤销年份"), null=True, blank=True)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def is_current(self) -> bool:
        return self.valid_until is None
