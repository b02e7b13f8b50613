"""The legal-entity golden record, keyed by the unified social credit code."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import OrganizationStatus, TaxStatus
from .history import VersionBase, bulk_fk

__all__ = ["Organization", "OrganizationVersion"]


class Organization(models.Model):
    """One legal entity. Written only by registry.golden (as Person)."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    org_code = models.CharField(_("组织机构代码"), max_length=9, blank=True, db_index=True)
    name = models.CharField(_("名称"), max_length=200, blank=True, db_index=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=50, blank=True)
    registered_address = models.CharField(_("住所"), max_length=200, blank=True)
    division = models.ForeignKey(
        "core.Division",
        verbose_name=_("登记区划"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(
        _("登记状态"),
        max_length=12,
        choices=OrganizationStatus.choices,
        default=OrganizationStatus.ACTIVE,
    )
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    tax_status = models.CharField(
        _("纳税状态"), max_length=12, choices=TaxStatus.choices, blank=True
    )
    version = models.PositiveIntegerField(_("版本"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("法人")
        verbose_name_plural = _("法人")
        ordering = ["uscc"]

    def __str__(self) -> str:
        return self.uscc


class OrganizationVersion(VersionBase):
    organization = bulk_fk(
        "registry.Organization", _("法人"), on_delete=models.CASCADE, related_name="versions"
    )

    class Meta:
        verbose_name = _("法人历史版本")
        verbose_name_plural = _("法人历史版本")
        ordering = ["organization", "version"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "version"], name="registry_uniq_ov"),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(valid_to__isnull=True),
                name="registry_one_open_ov",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} v{self.version}"
