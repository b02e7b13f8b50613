"""One account model for citizens, legal persons, staff and administrators."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models.base import AuditedMixin

__all__ = ["AccountKind", "User"]


class AccountKind(models.TextChoices):
    CITIZEN = "citizen", _("自然人")
    LEGAL_PERSON = "legal_person", _("法人")
    STAFF = "staff", _("工作人员")
    ADMIN = "admin", _("系统管理员")


class User(AuditedMixin, AbstractUser):
    """An account. `username` is the login name; citizens may also log in by phone + SMS code.

    Citizens carry a real name and citizen ID number; legal persons carry the unified
    social credit code and legal representative; staff carry department memberships
    (core.Membership). Personal fields are masked on screen (identity.masking).
    """

    audit_exclude = ("password", "last_login")
    audit_ignore = ("last_login",)

    kind = models.CharField(
        _("账户类型"),
        max_length=16,
        choices=AccountKind.choices,
        default=AccountKind.CITIZEN,
        db_index=True,
    )
    real_name = models.CharField(_("真实姓名"), max_length=50, blank=True)
    id_number = models.CharField(
        _("公民身份号码"), max_length=18, unique=True, null=True, blank=True
    )
    phone = models.CharField(_("手机号码"), max_length=11, unique=True, null=True, blank=True)
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, null=True, blank=True
    )
    org_name = models.CharField(_("单位名称"), max_length=200, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=50, blank=True)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    must_change_password = models.BooleanField(_("须修改密码"), default=False)

    objects: ClassVar[UserManager[User]] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        permissions = [
            # identity.masking.reveal checks this; every use is audited with its reason.
            ("view_unmasked_personal_data", _("可查看未脱敏的个人信息")),
        ]

    def __str__(self) -> str:
        return self.display_name

    def set_password(self, raw_password: str | None) -> None:
        """Set the password and stamp when, which starts its maximum age (DC_PASSWORD_MAX_AGE_DAYS).

        The history row is written by PasswordHistoryValidator.password_changed when the
        user is saved, so a password set but never saved leaves no trace.
        """
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    @property
    def display_name(self) -> str:
        if self.kind == AccountKind.LEGAL_PERSON and self.org_name:
            return self.org_name
        return self.real_name or self.get_full_name() or self.username

    @property
    def is_citizen(self) -> bool:
        return self.kind == AccountKind.CITIZEN

    @property
    def is_legal_person(self) -> bool:
        return self.kind == AccountKind.LEGAL_PERSON

    @property
    def is_staff_member(self) -> bool:
        return self.kind in (AccountKind.STAFF, AccountKind.ADMIN)
