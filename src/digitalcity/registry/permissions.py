"""Who may use the registry (DESIGN.md registry; identity.permissions for the roles).

| who | search / records / API | import for a source | conflict queue |
| --- | --- | --- | --- |
| administrator | yes | every source | every department |
| data officer (any department) | yes | every source | sees every queue, resolves own department's |
| staff of a source's / a rule's department | yes | their department's sources | own dept's |
| anyone with the permission registry.query_registry | yes (read only) | no | no |
| other staff, citizens, legal persons | refused | no | no |

The data officers of the big-data office run the registry city-wide, hence their reach.
Unmasked values additionally need identity's reveal right and a logged reason.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from digitalcity.core.models import Department, MembershipRole, StoredFile
from digitalcity.identity.permissions import (
    can_act_for_department,
    departments_of,
    has_role,
    is_admin,
)

from .models import Conflict, FieldRule, ImportBatch, Source

__all__ = [
    "QUERY_PERMISSION",
    "can_download_import_file",
    "can_import",
    "can_resolve_conflict",
    "can_use_registry",
    "conflicts_for",
    "registry_departments",
    "require_registry",
]

QUERY_PERMISSION = "registry.query_registry"


def _signed_in(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def registry_departments() -> QuerySet[Department]:
    """Departments that feed the registry or answer for one of its fields."""
    return Department.objects.filter(
        Q(pk__in=Source.objects.values("department_id"))
        | Q(pk__in=FieldRule.objects.filter(department__isnull=False).values("department_id"))
    )


def _is_data_officer(user: Any) -> bool:
    return has_role(user, MembershipRole.DATA_OFFICER)


def can_use_registry(user: Any) -> bool:
    if not _signed_in(user):
        return False
    if is_admin(user) or _is_data_officer(user) or user.has_perm(QUERY_PERMISSION):
        return True
    return departments_of(user).filter(pk__in=registry_departments().values("pk")).exists()


def require_registry(user: Any) -> None:
    """PermissionDenied (Chinese) unless `user` may use the registry."""
    if not can_use_registry(user):
        raise PermissionDenied(_("您没有使用基础数据库的权限"))


def can_import(user: Any, source: Source) -> bool:
    if not _signed_in(user):
        return False
    return (
        is_admin(user) or _is_data_officer(user) or can_act_for_department(user, source.department)
    )


def importable_sources(user: Any) -> QuerySet[Source]:
    sources = Source.objects.filter(active=True).select_related("department")
    if is_admin(user) or _is_data_officer(user):
        return sources
    return sources.filter(department__in=departments_of(user))


def conflicts_for(user: Any) -> QuerySet[Conflict]:
    """Conflicts `user` may see: their departments' queues; all for admins and data officers."""
    conflicts = Conflict.objects.all()
    if not _signed_in(user):
        return conflicts.none()
    if is_admin(user) or _is_data_officer(user):
        return conflicts
    return conflicts.filter(department__in=departments_of(user))


def can_resolve_conflict(user: Any, conflict: Conflict) -> bool:
    """Only the responsible department decides (一数一源); administrators may stand in."""
    return can_act_for_department(user, conflict.department)


def batches_for(user: Any) -> QuerySet[ImportBatch]:
    batches = ImportBatch.objects.select_related("source", "source__department", "created_by")
    if is_admin(user) or _is_data_officer(user):
        return batches
    return batches.filter(source__department__in=departments_of(user))


def can_download_import_file(user: Any, stored: StoredFile) -> bool:
    """A department's uploaded file: the registry's importers of that source."""
    batch = ImportBatch.objects.filter(file=stored).select_related("source").first()
    return batch is not None and can_import(user, batch.source)
