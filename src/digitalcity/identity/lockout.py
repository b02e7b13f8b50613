"""Login failure handling (GB/T 22239-2019 8.1.4.1 b: 登录失败处理): count, lock, unlock.

Rules (settings):
1. A failure is counted for the account it names (if any) and for the source address.
2. DC_LOGIN_MAX_FAILURES failures of one account within DC_LOGIN_FAILURE_WINDOW_MINUTES
   lock that account for DC_LOGIN_LOCKOUT_MINUTES; DC_LOGIN_IP_MAX_FAILURES failures
   from one address lock that address (higher by default: an office behind one NAT
   address must not be locked out by one person's typos).
3. Counting restarts after a lock ends (expired or lifted by an administrator) and, for
   the account, after a successful login.
4. Password and SMS-code logins share the counters: a locked account is refused both.
Every attempt is a LoginAttempt row; every login, failure, lock and unlock is audited.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.core import context
from digitalcity.core.audit.services import record

from .models import LockScope, LoginAttempt, LoginLock, LoginMethod

__all__ = [
    "active_lock",
    "lock_message",
    "record_failure",
    "record_success",
    "unlock",
]


def _window() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.DC_LOGIN_FAILURE_WINDOW_MINUTES)


def _locks(*, user: Any, ip: str) -> QuerySet[LoginLock]:
    targets = Q(pk__in=[])
    if user is not None and user.pk is not None:
        targets |= Q(scope=LockScope.ACCOUNT, user=user)
    if ip:
        targets |= Q(scope=LockScope.IP, ip=ip)
    return LoginLock.objects.filter(targets)


def active_lock(*, user: Any, ip: str, now: datetime.datetime | None = None) -> LoginLock | None:
    """The lock that refuses this account or address now (the one lasting longest), if any."""
    now = now or timezone.now()
    return (
        _locks(user=user, ip=ip)
        .filter(locked_at__lte=now, locked_until__gt=now, unlocked_at__isnull=True)
        .order_by("-locked_until")
        .first()
    )


def lock_message(lock: LoginLock) -> str:
    """The Chinese message shown to someone refused by `lock`, saying when it lifts."""
    until = timezone.localtime(lock.locked_until).strftime("%Y-%m-%d %H:%M")
    if lock.scope == LockScope.ACCOUNT:
        return _(
            "登录失败次数过多，账户已被锁定，将于 %(until)s 自动解除；"
            "如需提前解锁请联系系统管理员。"
        ) % {"until": until}
    return _("来自该地址的登录失败次数过多，已暂停登录，将于 %(until)s 自动解除。") % {
        "until": until
    }


def _counting_since(
    *, scope: LockScope, user: Any, ip: str, now: datetime.datetime
) -> datetime.datetime:
    since = now - _window()
    locks = _locks(user=user, ip="") if scope == LockScope.ACCOUNT else _locks(user=None, ip=ip)
    for lock in locks.filter(locked_at__lte=now).order_by("-locked_until")[:5]:
        since = max(since, lock.ends_at)
    if scope == LockScope.ACCOUNT:
        last_success = LoginAttempt.objects.filter(user=user, succeeded=True).aggregate(
            at=Max("created_at")
        )["at"]
        if last_success is not None:
            since = max(since, last_success)
    return since


def _maybe_lock(
    *, scope: LockScope, user: Any, ip: str, now: datetime.datetime
) -> LoginLock | None:
    if scope == LockScope.ACCOUNT:
        limit = settings.DC_LOGIN_MAX_FAILURES
        failures = LoginAttempt.objects.filter(user=user, succeeded=False)
    else:
        limit = settings.DC_LOGIN_IP_MAX_FAILURES
        failures = LoginAttempt.objects.filter(ip=ip, succeeded=False)
    since = _counting_since(scope=scope, user=user, ip=ip, now=now)
    if limit <= 0 or failures.filter(created_at__gt=since).count() < limit:
        return None
    return LoginLock.objects.create(
        scope=scope,
        user=user if scope == LockScope.ACCOUNT else None,
        ip=ip if scope == LockScope.IP else "",
        locked_at=now,
        locked_until=now + datetime.timedelta(minutes=settings.DC_LOGIN_LOCKOUT_MINUTES),
    )


def _attempt(
    *, user: Any, identifier: str, ip: str, method: str, succeeded: bool, now: datetime.datetime
) -> None:
    LoginAttempt.objects.create(
        created_at=now,
        user=user,
        identifier=identifier[:64],
        ip=ip,
        method=method,
        succeeded=succeeded,
    )


def record_failure(
    *, user: Any, identifier: str, ip: str, method: str, reason: str
) -> LoginLock | None:
    """Count a failed login of `user` (None when the name matched no account) from `ip`.

    Returns the lock this failure caused, if it caused one. Attempts refused because a
    lock is already active are recorded too but do not prolong the lock.
    """
    now = timezone.now()
    with transaction.atomic():
        _attempt(user=user, identifier=identifier, ip=ip, method=method, succeeded=False, now=now)
        record(
            action="login_failed",
            obj=user,
            reason=_("%(method)s，登录名「%(identifier)s」：%(reason)s")
            % {
                "method": LoginMethod(method).label,
                "identifier": identifier[:64],
                "reason": reason,
            },
        )
        caused: LoginLock | None = None
        scopes: list[LockScope] = [LockScope.IP] if ip else []
        if user is not None:
            scopes.insert(0, LockScope.ACCOUNT)
        for scope in scopes:
            lock = _maybe_lock(scope=scope, user=user, ip=ip, now=now)
            if lock is not None:
                caused = caused or lock
                record(
                    action="custom",
                    obj=user if scope == LockScope.ACCOUNT else None,
                    reason=_("登录锁定（%(scope)s %(target)s），至 %(until)s")
                    % {
                        "scope": lock.get_scope_display(),
                        "target": user.get_username() if scope == LockScope.ACCOUNT else ip,
                        "until": timezone.localtime(lock.locked_until).isoformat(
                            timespec="minutes"
                        ),
                    },
                )
    return caused


def record_success(*, user: Any, identifier: str, ip: str, method: str) -> None:
    """Record a successful authentication of `user`; the account's failure count restarts."""
    now = timezone.now()
    with transaction.atomic(), context.acting_as(user, ip=ip):
        _attempt(user=user, identifier=identifier, ip=ip, method=method, succeeded=True, now=now)
        record(action="login", obj=user, reason=str(LoginMethod(method).label))


def unlock(*, actor: Any, user: Any = None, ip: str = "", reason: str = "") -> int:
    """Lift the active locks on `user` and/or `ip` now; returns how many were lifted."""
    now = timezone.now()
    with transaction.atomic():
        lifted = list(
            _locks(user=user, ip=ip).filter(locked_until__gt=now, unlocked_at__isnull=True)
        )
        for lock in lifted:
            lock.unlocked_at = now
            lock.unlocked_by = actor
            lock.save(update_fields=["unlocked_at", "unlocked_by"])
            record(
                action="custom",
                obj=lock.user,
                reason=_("解除登录锁定（%(scope)s %(target)s）%(reason)s")
                % {
                    "scope": lock.get_scope_display(),
                    "target": lock.user.get_username() if lock.user else lock.ip,
                    "reason": reason,
                },
            )
    return len(lifted)
