"""Authentication backends: password (by username, phone or ID number) and SMS code.

Both run every attempt through the login lockout (identity.lockout): a locked account or
address is refused even with the right secret (the backend raises PermissionDenied, which
makes django.contrib.auth.authenticate stop and return None), and every failure counts.
Forms then ask `lockout.active_lock` for the message to show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _

from digitalcity.core.middleware import client_ip

from . import lockout
from .models import LoginMethod, User
from .sms import verify_login_code

__all__ = ["PasswordBackend", "SmsCodeBackend", "find_user"]


def find_user(identifier: str) -> User | None:
    """The account a login name names: username first, then phone, then citizen ID number."""
    identifier = (identifier or "").strip()
    if not identifier:
        return None
    candidates = User.objects.filter(
        Q(username=identifier) | Q(phone=identifier) | Q(id_number=identifier.upper())
    )
    by_rank = {
        0 if u.username == identifier else 1 if u.phone == identifier else 2: u for u in candidates
    }
    return by_rank[min(by_rank)] if by_rank else None


class LoginLocked(PermissionDenied):
    """Raised inside authenticate() for a locked account or address."""


class _GuardedBackend(ModelBackend):
    method: str

    def _guarded(
        self,
        request: HttpRequest | None,
        *,
        user: User | None,
        identifier: str,
        check: Callable[[User], bool],
    ) -> User | None:
        ip = client_ip(request) if request is not None else ""
        if lockout.active_lock(user=user, ip=ip) is not None:
            lockout.record_failure(
                user=user,
                identifier=identifier,
                ip=ip,
                method=self.method,
                reason=_("已锁定，拒绝登录"),
            )
            raise LoginLocked
        if user is None:
            reason = _("登录名不存在")
        elif not self.user_can_authenticate(user):
            reason = _("账户已停用")
        elif not check(user):
            reason = (
                _("密码错误") if self.method == LoginMethod.PASSWORD else _("验证码错误或已失效")
            )
        else:
            lockout.record_success(user=user, identifier=identifier, ip=ip, method=self.method)
            return user
        lockout.record_failure(
            user=user, identifier=identifier, ip=ip, method=self.method, reason=reason
        )
        return None


class PasswordBackend(_GuardedBackend):
    """Login name (username, phone or citizen ID number) plus password, checked by Argon2."""

    method = LoginMethod.PASSWORD

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None or password is None:
            return None
        user = find_user(username)
        if user is None:
            # Hash anyway so a missing account takes as long as a wrong password.
            User().set_password(password)
        return self._guarded(
            request,
            user=user,
            identifier=username.strip(),
            check=lambda u: u.check_password(password),
        )


class SmsCodeBackend(_GuardedBackend):
    """Phone plus the 6-digit code texted to it (identity.sms)."""

    method = LoginMethod.SMS

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        phone: str | None = None,
        code: str | None = None,
    ) -> User | None:
        if phone is None or code is None:
            return None
        phone = phone.strip()
        user = User.objects.filter(phone=phone).first() if phone else None
        return self._guarded(
            request,
            user=user,
            identifier=phone,
            check=lambda u: verify_login_code(phone=phone, code=code),
        )
