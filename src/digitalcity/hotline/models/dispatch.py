"""The dispatch catalogue (派单目录): category × division → lead and co-handling departments.

Versioned: a version is a set of rows with a valid-from moment; editing makes a new
version (services/catalogue.py), so an order can always be explained by the rows in
force when it was dispatched.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models.base import AuditedMixin, TimestampedMixin

__all__ = ["CatalogueRule", "CatalogueVersion"]


class CatalogueVersion(AuditedMixin, TimestampedMixin, models.Model):
    number = models.PositiveIntegerField(_("版本号"), unique=True)
    valid_from = models.DateTimeField(_("生效时间"), db_index=True)
    note = models.CharField(_("修订说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修订人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("派单目录版本")
        verbose_name_plural = _("派单目录版本")
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number}"


class CatalogueRule(models.Model):
    """One row: orders of `category` (or any of its sub-categories) in `division` (or
    below it; blank = anywhere) go to `lead`, with `co_handlers`."""

    version = models.ForeignKey(
        CatalogueVersion, verbose_name=_("版本"), on_delete=models.CASCADE, related_name="rules"
    )
    category = models.ForeignKey(
        "hotline.Category", verbose_name=_("诉求分类"), on_delete=models.PROTECT, related_name="+"
    )
    division = models.ForeignKey(
        "core.Division",
        verbose_name=_("区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lead = models.ForeignKey(
        "core.Department", verbose_name=_("主办部门"), on_delete=models.PROTECT, related_name="+"
    )
    co_handlers = models.ManyToManyField(
        "core.Department", verbose_name=_("协办部门"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("派单目录条目")
        verbose_name_plural = _("派单目录条目")
        ordering = ["version", "category__code", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "category", "division"], name="hotline_catalogue_row_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category_id}@{self.division_id}→{self.lead_id}"
