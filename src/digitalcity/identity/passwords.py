"""Password rules of a GB/T 22239-2019 level-3 system (8.1.4.1 身份鉴别).

Length, common-password and similarity checks are Django's own validators (settings
AUTH_PASSWORD_VALIDATORS); this module adds complexity (three of four character
classes), no reuse of the last DC_PASSWORD_HISTORY passwords, and the maximum age.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import (
    MinimumLengthValidator as DjangoMinimumLengthValidator,
)
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import PasswordHistory, User

__all__ = [
    "CharacterClassValidator",
    "MinimumLengthValidator",
    "PasswordHistoryValidator",
    "password_change_required",
    "password_expired",
]


class MinimumLengthValidator(DjangoMinimumLengthValidator):
    """Django's rule with a Chinese message: Django 5.2's zh_Hans catalog lacks its new wording."""

    def get_error_message(self) -> str:
        return _("密码：长度至少为 %(n)d 个字符") % {"n": self.min_length}

    def get_help_text(self) -> str:
        return _("长度至少为 %(n)d 个字符。") % {"n": self.min_length}


def _character_classes(password: str) -> int:
    has_upper = any(c.isupper() for c in password)
    has_lower = any(c.islower() for c in password)
    has_digit = any(c.isdigit() for c in password)
    has_symbol = any(not c.isalnum() for c in password)
    return sum((has_upper, has_lower, has_digit, has_symbol))


class CharacterClassValidator:
    """At least `min_classes` of: upper-case letters, lower-case letters, digits, symbols."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if _character_classes(password) < self.min_classes:
            raise ValidationError(
                _("密码：须至少包含大写字母、小写字母、数字、特殊符号中的 %(n)d 类")
                % {"n": self.min_classes},
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return _("须至少包含大写字母、小写字母、数字、特殊符号中的 %(n)d 类。") % {
            "n": self.min_classes
        }


class PasswordHistoryValidator:
    """No reuse of the current password or the last DC_PASSWORD_HISTORY ones.

    Django calls `password_changed` after a user with a new password is saved
    (AbstractBaseUser.save), which is where the new hash is remembered.
    """

    def __init__(self, history: int | None = None) -> None:
        self._history = history

    @property
    def history(self) -> int:
        return self._history if self._history is not None else settings.DC_PASSWORD_HISTORY

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None or self.history <= 0:
            return
        hashes = list(
            PasswordHistory.objects.filter(user=user).values_list("password_hash", flat=True)[
                : self.history
            ]
        )
        stored = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        if stored:
            hashes.append(stored)
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(
                ngettext(
                    "密码：不得与最近 %(n)d 次使用过的密码相同",
                    "密码：不得与最近 %(n)d 次使用过的密码相同",
                    self.history,
                )
                % {"n": self.history},
                code="password_reused",
            )

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or user.pk is None or not user.has_usable_password():
            return
        PasswordHistory.objects.create(
            user=user, password_hash=user.password, created_at=timezone.now()
        )
        # Keep only what the rule needs: old hashes are still secrets worth not hoarding.
        keep = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[
            : max(self.history, 1)
        ]
        PasswordHistory.objects.filter(user=user).exclude(pk__in=list(keep)).delete()

    def get_help_text(self) -> str:
        return _("不得与最近 %(n)d 次使用过的密码相同。") % {"n": self.history}


def password_expired(user: Any, *, now: Any = None) -> bool:
    """True when the password is older than DC_PASSWORD_MAX_AGE_DAYS (0 turns the rule off)."""
    max_age = settings.DC_PASSWORD_MAX_AGE_DAYS
    if max_age <= 0 or user.password_changed_at is None or not user.has_usable_password():
        return False
    return (now or timezone.now()) - user.password_changed_at > timedelta(days=max_age)


def password_change_required(user: Any) -> bool:
    """Whether a signed-in user must change the password before doing anything else."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.must_change_password) or password_expired(user)
