"""The population golden record: the person, provenance per field, versions, events."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from digitalcity.core.ids import Sex

from ..choices import (
    EventKind,
    InsuranceStatus,
    MaritalStatus,
    PersonStatus,
)
from .history import VersionBase, bulk_fk

__all__ = ["Person", "PersonVersion", "PopulationEvent"]


class Person(models.Model):
    """One person, keyed by the 18-digit citizen ID number.

    Written only by registry.golden from the source records by the FieldRules; every
    change is a PersonVersion. Field names here are the names FieldRules use.
    """

    id_number = models.CharField(_("公民身份号码"), max_length=18, unique=True)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    name_pinyin = models.CharField(_("姓名拼音"), max_length=200, blank=True, db_index=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    registered_address = models.CharField(_("户籍地址"), max_length=200, blank=True)
    division = models.ForeignKey(
        "core.Division",
        verbose_name=_("户籍所在区划"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    marital_status = models.CharField(
        _("婚姻状况"), max_length=12, choices=MaritalStatus.choices, blank=True
    )
    education = models.CharField(_("学历"), max_length=30, blank=True)
    insurance_status = models.CharField(
        _("参保状态"), max_length=12, choices=InsuranceStatus.choices, blank=True
    )
    death_date = models.DateField(_("死亡日期"), null=True, blank=True)
    status = models.CharField(
        _("人口状态"), max_length=12, choices=PersonStatus.choices, default=PersonStatus.LIVING
    )
    version = models.PositiveIntegerField(_("版本"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("人口")
        verbose_name_plural = _("人口")
        ordering = ["id_number"]
        indexes = [
            models.Index(fields=["name", "birth_date"], name="registry_person_name_birth"),
            models.Index(fields=["birth_date"], name="registry_person_birth"),
        ]
        permissions = [("query_registry", _("可查询基础数据库"))]

    def __str__(self) -> str:
        return self.id_number


class PersonVersion(VersionBase):
    person = bulk_fk(
        "registry.Person", _("人口"), on_delete=models.CASCADE, related_name="versions"
    )

    class Meta:
        verbose_name = _("人口历史版本")
        verbose_name_plural = _("人口历史版本")
        ordering = ["person", "version"]
        constraints = [
            models.UniqueConstraint(fields=["person", "version"], name="registry_uniq_pv"),
            models.UniqueConstraint(
                fields=["person"], condition=Q(valid_to__isnull=True), name="registry_one_open_pv"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} v{self.version}"


class PopulationEvent(models.Model):
    """A change in the population derived from a golden-record change (出生、死亡、迁移、更名)."""

    person = bulk_fk(
        "registry.Person", _("人口"), on_delete=models.CASCADE, related_name="events", index=True
    )
    kind = models.CharField(_("事件"), max_length=16, choices=EventKind.choices)
    date = models.DateField(_("日期"))
    details = models.JSONField(_("详情"), default=dict)
    batch = bulk_fk(
        "registry.ImportBatch", _("批次"), on_delete=models.PROTECT, null=True, blank=True
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("人口变动事件")
        verbose_name_plural = _("人口变动事件")
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["kind", "date"], name="registry_event_kind_date")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.kind} {self.date}"
