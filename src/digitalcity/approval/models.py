"""The approval service's data: the item catalog, applications and licences.

An `Application` is the service's side of one `cases.Case` (one-to-one, set when the
draft is submitted); the workflow, clocks and timeline live on the case.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models.base import ActiveMixin, AuditedMixin, TimestampedMixin

from .choices import ApplicantKind, ItemKind, LicenceStatus, ResultKind, Visits

__all__ = ["Application", "ApplicationMaterial", "Item", "ItemMaterial", "Licence"]

_USER = settings.AUTH_USER_MODEL


def _division_levels_default() -> list[str]:
    return ["city"]


def _new_token() -> str:
    return secrets.token_urlsafe(12)


class Item(AuditedMixin, TimestampedMixin, ActiveMixin, models.Model):
    """One licensing item of the catalog (事项清单)."""

    code = models.CharField(
        _("事项编码"),
        max_length=40,
        unique=True,
        validators=[RegexValidator(r"^[A-Za-z0-9_.-]+$", _("事项编码只能含字母、数字、. _ -"))],
    )
    name = models.CharField(_("事项名称"), max_length=100)
    legal_basis = models.TextField(_("设定依据"))
    lead_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("牵头部门"),
        on_delete=models.PROTECT,
        related_name="approval_items",
    )
    co_departments = models.ManyToManyField(
        "core.Department", verbose_name=_("协办部门"), blank=True, related_name="+"
    )
    preliminary_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("下级初审部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_(
            "依法须先经下级机关审查后报上级决定的事项（《行政许可法》第四十三条）："
            "受理后先由该（县级）部门在 20 个工作日内初审，再进入本级审查"
        ),
    )
    applicant_kind = models.CharField(
        _("申请人类型"), max_length=16, choices=ApplicantKind.choices, default=ApplicantKind.ANY
    )
    kind = models.CharField(
        _("办件类型"), max_length=16, choices=ItemKind.choices, default=ItemKind.PROMISED
    )
    legal_days = models.PositiveSmallIntegerField(
        _("法定时限（工作日）"), validators=[MinValueValidator(1)]
    )
    promised_days = models.PositiveSmallIntegerField(
        _("承诺时限（工作日）"), validators=[MinValueValidator(1)]
    )
    review_days = models.PositiveSmallIntegerField(
        _("部门审查时限（工作日）"), default=5, validators=[MinValueValidator(1)]
    )
    result_kind = models.CharField(
        _("办理结果"), max_length=16, choices=ResultKind.choices, default=ResultKind.LICENCE
    )
    result_name = models.CharField(_("结果名称"), max_length=100, help_text=_("如：食品经营许可证"))
    validity_years = models.PositiveSmallIntegerField(
        _("有效期（年）"), null=True, blank=True, help_text=_("空：长期有效")
    )
    licence_prefix = models.CharField(
        _("证号前缀"),
        max_length=6,
        default="XK",
        validators=[RegexValidator(r"^[A-Z]{2,6}$", _("证号前缀须为 2 至 6 位大写字母"))],
    )
    fee = models.CharField(
        _("收费"), max_length=200, default="", blank=True, help_text=_("留空为不收费")
    )
    visits = models.PositiveSmallIntegerField(
        _("到现场次数"), choices=Visits.choices, default=Visits.ZERO
    )
    online = models.BooleanField(_("网上可办"), default=True)
    division_levels = models.JSONField(
        _("办理层级"), default=_division_levels_default, help_text=_("行政区划层级代码列表")
    )
    form_spec = models.JSONField(_("申请表字段"), default=list, blank=True)

    class Meta:
        verbose_name = _("审批事项")
        verbose_name_plural = _("审批事项")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        from .formspec import validate_spec

        errors: dict[str, Any] = {}
        if self.legal_days and self.promised_days and self.promised_days > self.legal_days:
            errors["promised_days"] = _("承诺时限不能超过法定时限（%(n)d 个工作日）") % {
                "n": self.legal_days
            }
        try:
            validate_spec(self.form_spec)
        except ValidationError as exc:
            errors["form_spec"] = exc.messages
        from .formspec import validate_levels

        try:
            validate_levels(self.division_levels)
        except ValidationError as exc:
            errors["division_levels"] = exc.messages
        if self.preliminary_department_id and (
            self.preliminary_department_id == self.lead_department_id
        ):
            errors["preliminary_department"] = _("下级初审部门不能是牵头部门本身")
        if errors:
            raise ValidationError(errors)

    @property
    def extension_days(self) -> int:
        """Art. 42: 10 working days for one department, 15 for joint handling."""
        return 15 if self.is_joint else 10

    @property
    def is_joint(self) -> bool:
        # Set by queries that annotate it; else one query.
        cached = getattr(self, "co_count", None)
        if cached is None:
            cached = self.co_departments.count()
        return bool(cached)


class ItemMaterial(models.Model):
    item = models.ForeignKey(
        Item, verbose_name=_("事项"), on_delete=models.CASCADE, related_name="materials"
    )
    code = models.SlugField(
        _("材料代码"), max_length=40, help_text=_("同一代码的材料可在其他事项中复用")
    )
    name = models.CharField(_("材料名称"), max_length=200)
    required = models.BooleanField(_("必需"), default=True)
    shared = models.BooleanField(
        _("可共享获取"), default=False, help_text=_("可通过数据共享获取，申请人无需上传")
    )
    template = models.ForeignKey(
        "core.StoredFile",
        verbose_name=_("样表"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["item", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "code"], name="approval_material_uniq")
        ]

    def __str__(self) -> str:
        return self.name


class Application(TimestampedMixin, models.Model):
    """An application for an item: a draft until submitted, then the data of its case."""

    item = models.ForeignKey(
        Item, verbose_name=_("事项"), on_delete=models.PROTECT, related_name="applications"
    )
    case = models.OneToOneField(
        "cases.Case",
        verbose_name=_("办件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval",
    )
    applicant = models.ForeignKey(
        _USER,
        verbose_name=_("申请人账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_applications",
    )
    applicant_kind = models.CharField(_("申请人类型"), max_length=16, choices=ApplicantKind.choices)
    applicant_name = models.CharField(_("申请人"), max_length=100)
    applicant_number = models.CharField(
        _("证件号码"), max_length=18, help_text=_("身份证号码或统一社会信用代码")
    )
    applicant_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    created_by = models.ForeignKey(
        _USER, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("渠道"), max_length=16)
    form_data = models.JSONField(_("申请表"), default=dict, blank=True)
    renews = models.ForeignKey(
        "Licence",
        verbose_name=_("延续的证照"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewals",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True, db_index=True)
    # Where an Art. 45 pause came from, so resuming goes back to the same stage.
    paused_from = models.CharField(_("暂停前状态"), max_length=40, blank=True)
    correction_items = models.JSONField(_("补正内容"), default=list, blank=True)

    class Meta:
        verbose_name = _("审批申请")
        verbose_name_plural = _("审批申请")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        number = self.case.number if self.case is not None else _("草稿")
        return f"{number} {self.item.name}"

    @property
    def is_draft(self) -> bool:
        return self.case_id is None


class ApplicationMaterial(models.Model):
    application = models.ForeignKey(
        Application, verbose_name=_("申请"), on_delete=models.CASCADE, related_name="materials"
    )
    material = models.ForeignKey(
        ItemMaterial, verbose_name=_("材料"), on_delete=models.PROTECT, related_name="+"
    )
    file = models.ForeignKey(
        "core.StoredFile",
        verbose_name=_("文件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Obtained by data sharing instead of an upload.
    shared = models.BooleanField(_("共享获取"), default=False)
    added_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("已交材料")
        verbose_name_plural = _("已交材料")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "material"], name="approval_appmaterial_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.material_id}"


class Licence(AuditedMixin, TimestampedMixin, models.Model):
    """A licence (or decision letter) issued on a granted application."""

    number = models.CharField(_("证号"), max_length=32, unique=True)
    item = models.ForeignKey(
        Item, verbose_name=_("事项"), on_delete=models.PROTECT, related_name="licences"
    )
    application = models.OneToOneField(
        Application, verbose_name=_("申请"), on_delete=models.PROTECT, related_name="licence"
    )
    holder = models.ForeignKey(
        _USER,
        verbose_name=_("持证人账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_licences",
    )
    holder_name = models.CharField(_("持证人"), max_length=100)
    holder_number = models.CharField(_("持证人证件号码"), max_length=18)
    scope = models.TextField(_("许可范围"))
    department = models.ForeignKey(
        "core.Department", verbose_name=_("发证部门"), on_delete=models.PROTECT, related_name="+"
    )
    issued_on = models.DateField(_("发证日期"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True, db_index=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=LicenceStatus.choices, default=LicenceStatus.VALID
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_reason = models.TextField(_("撤销理由"), blank=True)
    renewed_at = models.DateTimeField(_("最近延续时间"), null=True, blank=True)
    # Art. 50: renewed because no decision came before expiry.
    deemed_renewal = models.BooleanField(_("视为准予延续"), default=False)
    # Put in the QR link: the public page shows the licence only with it, so numbers
    # cannot be enumerated. Not a secret of value: it shows masked data only.
    verify_token = models.CharField(max_length=32, default=_new_token, editable=False)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    audit_exclude = ("verify_token",)

    class Meta:
        verbose_name = _("证照")
        verbose_name_plural = _("证照")
        ordering = ["-issued_on", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.holder_name}"

    def is_valid_on(self, day: Any) -> bool:
        if self.status != LicenceStatus.VALID:
            return False
        return self.valid_until is None or day <= self.valid_until
