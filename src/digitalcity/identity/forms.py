"""Forms of the identity pages: the two login tabs, password change, reveal reason."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from digitalcity.core.middleware import client_ip

from . import lockout
from .backends import find_user
from .models import User
from .sms import CODE_LENGTH, PHONE_RE

__all__ = ["LoginForm", "PasswordChangeForm", "PasswordLoginForm", "RevealForm", "SmsLoginForm"]


class LoginForm(forms.Form):
    """Authenticates through the backends; on failure says why in Chinese, including when a
    lock lifts. `get_user()` returns the account after `is_valid()`."""

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user_cache: User | None = None
        super().__init__(*args, **kwargs)

    credential_fields: tuple[str, ...] = ()
    failure_message: Any = ""

    def _account(self) -> User | None:
        if "username" in self.cleaned_data:
            return find_user(self.cleaned_data["username"])
        return User.objects.filter(phone=self.cleaned_data["phone"]).first()

    def _credentials(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in self.credential_fields}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        user = authenticate(self.request, **self._credentials())
        if user is None:
            lock = lockout.active_lock(user=self._account(), ip=client_ip(self.request))
            if lock is not None:
                raise ValidationError(lockout.lock_message(lock), code="locked")
            raise ValidationError(self.failure_message, code="invalid_login")
        self.user_cache = user
        return cleaned

    def get_user(self) -> User:
        if self.user_cache is None:
            raise ValueError("get_user() is only valid after is_valid() returned True")
        return self.user_cache


class PasswordLoginForm(LoginForm):
    username = forms.CharField(
        label=_("用户名 / 手机号 / 身份证号"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    credential_fields = ("username", "password")
    failure_message = _("登录名或密码错误，请重新输入。")


class SmsLoginForm(LoginForm):
    phone = forms.RegexField(
        label=_("手机号码"),
        regex=PHONE_RE,
        max_length=11,
        error_messages={"invalid": _("手机号码：应为以 1 开头的 11 位数字")},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "numeric"}),
    )
    code = forms.RegexField(
        label=_("短信验证码"),
        regex=rf"^\d{{{CODE_LENGTH}}}$",
        max_length=CODE_LENGTH,
        error_messages={"invalid": _("短信验证码：应为 6 位数字")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    credential_fields = ("phone", "code")
    failure_message = _("验证码错误或已失效，请重新获取。")


class SmsCodeRequestForm(forms.Form):
    phone = forms.CharField(label=_("手机号码"), max_length=11)


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Django's form (old password, new twice, AUTH_PASSWORD_VALIDATORS); saving also
    clears `must_change_password`."""

    def save(self, commit: bool = True) -> Any:
        self.user.must_change_password = False
        return super().save(commit=commit)


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("查看事由"),
        max_length=200,
        error_messages={"required": _("查看事由：必须填写")},
        widget=forms.TextInput(attrs={"placeholder": _("例如：核对办件申请人身份")}),
    )
