"""Small opt-in mixins for every model (STYLE.md 2). Every field works on SQLite and PostgreSQL."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ActiveMixin", "AuditedMixin", "TimestampedMixin"]


class TimestampedMixin(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class ActiveMixin(models.Model):
    is_active = models.BooleanField(_("启用"), default=True, db_index=True)

    class Meta:
        abstract = True


class AuditedMixin(models.Model):
    """Marks a model whose creates, edits and deletes go to the audit log automatically.

    The signal handlers in `digitalcity.core.audit.signals` log every subclass; fields
    named in `audit_exclude` (e.g. password hashes) are recorded as changed but not valued;
    fields in `audit_ignore` are left out, so a save that changes only them writes no row.
    """

    audit_exclude: tuple[str, ...] = ()
    # Fields never logged as edits (e.g. last_login: each login is logged as its own
    # action, so an update row per login would only be noise).
    audit_ignore: tuple[str, ...] = ()

    class Meta:
        abstract = True
