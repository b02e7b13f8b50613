"""Login security records: attempts, locks, one-time SMS codes and password history.

Rows here are the state of GB/T 22239-2019 level-3 controls (身份鉴别: 登录失败处理,
鉴别信息复杂度与定期更换); the services in `identity.lockout`, `identity.sms` and
`identity.passwords` are the only writers.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "LockScope",
    "LoginAttempt",
    "LoginLock",
    "LoginMethod",
    "PasswordHistory",
    "SmsLoginCode",
]


class LoginMethod(models.TextChoices):
    PASSWORD = "password", _("密码登录")
    SMS = "sms", _("短信验证码登录")


class LockScope(models.TextChoices):
    ACCOUNT = "account", _("账户")
    IP = "ip", _("来源地址")


class LoginAttempt(models.Model):
    """One login attempt, kept so failures inside the window can be counted per account and IP."""

    created_at = models.DateTimeField(_("时间"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="login_attempts",
    )
    identifier = models.CharField(_("登录名"), max_length=64, blank=True)
    ip = models.CharField(_("来源地址"), max_length=45, blank=True, db_index=True)
    method = models.CharField(_("方式"), max_length=16, choices=LoginMethod.choices)
    succeeded = models.BooleanField(_("成功"), default=False)

    class Meta:
        verbose_name = _("登录记录")
        verbose_name_plural = _("登录记录")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "succeeded", "created_at"])]

    def __str__(self) -> str:
        return f"{self.identifier or '-'} @ {self.ip} {self.created_at:%Y-%m-%d %H:%M:%S}"


class LoginLock(models.Model):
    """A lock on one account or one source address; active while `locked_until` is ahead
    and no administrator has lifted it."""

    scope = models.CharField(_("锁定对象"), max_length=16, choices=LockScope.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账户"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="login_locks",
    )
    ip = models.CharField(_("来源地址"), max_length=45, blank=True)
    locked_at = models.DateTimeField(_("锁定时间"))
    locked_until = models.DateTimeField(_("解锁时间"), db_index=True)
    unlocked_at = models.DateTimeField(_("提前解锁时间"), null=True, blank=True)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("解锁人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("登录锁定")
        verbose_name_plural = _("登录锁定")
        ordering = ["-locked_at"]
        indexes = [
            models.Index(fields=["user", "locked_until"]),
            models.Index(fields=["ip", "locked_until"]),
        ]

    def __str__(self) -> str:
        target = self.user if self.scope == LockScope.ACCOUNT else self.ip
        return f"{self.get_scope_display()} {target} → {self.locked_until:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self) -> datetime.datetime:
        """When the lock stopped or will stop counting: the early unlock if there was one."""
        return self.unlocked_at or self.locked_until


class SmsLoginCode(models.Model):
    """A one-time login code sent by SMS. Only a keyed hash of the code is stored."""

    phone = models.CharField(_("手机号码"), max_length=11, db_index=True)
    code_hash = models.CharField(_("验证码摘要"), max_length=64)
    created_at = models.DateTimeField(_("发送时间"), db_index=True)
    expires_at = models.DateTimeField(_("失效时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    ip = models.CharField(_("来源地址"), max_length=45, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.phone} {self.created_at:%Y-%m-%d %H:%M:%S}"


class PasswordHistory(models.Model):
    """The hash of a password a user once had, so recent ones cannot be reused."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账户"),
        on_delete=models.CASCADE,
        related_name="password_history",
    )
    password_hash = models.CharField(_("密码摘要"), max_length=256)
    created_at = models.DateTimeField(_("设置时间"), db_index=True)

    class Meta:
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d}"
