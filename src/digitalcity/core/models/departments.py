"""Departments (部门), their positions, and staff memberships."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .base import ActiveMixin, AuditedMixin, TimestampedMixin

__all__ = ["Department", "DepartmentKind", "Membership", "MembershipRole", "Position"]


class DepartmentKind(models.TextChoices):
    BUREAU = "bureau", _("委办局")
    CENTER = "center", _("中心")
    GOVERNMENT = "government", _("区县/乡镇（街道）政府")
    COMMUNITY = "community", _("社区（村）")
    OTHER = "other", _("其他")


class MembershipRole(models.TextChoices):
    """What a person may do in a department; object scope comes from the department."""

    CLERK = "clerk", _("承办人员")
    WINDOW = "window", _("窗口人员")
    HEAD = "head", _("负责人")
    SUPERVISOR = "supervisor", _("监察督办")
    DATA_OFFICER = "data_officer", _("数据管理员")
    ADMIN = "admin", _("系统管理员")


class Department(AuditedMixin, TimestampedMixin, ActiveMixin, models.Model):
    name = models.CharField(_("部门名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    code = models.SlugField(_("部门代码"), max_length=40, unique=True)
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, null=True, blank=True
    )
    kind = models.CharField(_("部门类型"), max_length=16, choices=DepartmentKind.choices)
    division = models.ForeignKey(
        "core.Division",
        verbose_name=_("所属行政区划"),
        on_delete=models.PROTECT,
        related_name="departments",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    address = models.CharField(_("办公地址"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["division__code", "code"]

    def __str__(self) -> str:
        return self.name


class Position(AuditedMixin, TimestampedMixin, models.Model):
    """A post in a department (科长, 窗口受理员 …)."""

    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="positions"
    )
    title = models.CharField(_("岗位名称"), max_length=60)
    is_head = models.BooleanField(_("负责人岗位"), default=False)

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        constraints = [
            models.UniqueConstraint(fields=["department", "title"], name="uniq_position_title")
        ]

    def __str__(self) -> str:
        return f"{self.department.name} · {self.title}"


class Membership(AuditedMixin, TimestampedMixin, ActiveMixin, models.Model):
    """A person's membership of a department with a role; one person may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人员"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.CASCADE, related_name="memberships"
    )
    position = models.ForeignKey(
        Position, verbose_name=_("岗位"), null=True, blank=True, on_delete=models.SET_NULL
    )
    role = models.CharField(_("角色"), max_length=16, choices=MembershipRole.choices)

    class Meta:
        verbose_name = _("部门成员")
        verbose_name_plural = _("部门成员")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department", "role"], name="uniq_membership_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.department}（{self.get_role_display()}）"
