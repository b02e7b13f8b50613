"""Roles and object scope (DESIGN.md identity; STYLE.md 5).

Roles are core.Membership rows (a person may hold several, in several departments);
object scope follows from them:

| who | sees (scope_queryset) | acts for a department (can_act_for_department) |
| --- | --- | --- |
| administrator (kind admin, or superuser) | everything | every department |
| supervisor (a supervisor membership anywhere) | everything | only departments they belong to |
| staff | rows of their departments, and rows they own | their departments |
| citizen / legal person | rows they own | none |

Each app fetches one object through `get_object_for_user` (the healthchecks
`_get_check_for_user` pattern): an object outside the viewer's scope is a 404, so
its existence is not revealed.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404

from digitalcity.core.models import Department, Membership, MembershipRole

from .models import AccountKind

__all__ = [
    "can_act_for_department",
    "departments_of",
    "get_object_for_user",
    "has_role",
    "is_admin",
    "is_supervisor",
    "scope_queryset",
]

M = TypeVar("M", bound=models.Model)


def _signed_in(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def _memberships(user: Any) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, is_active=True, department__is_active=True)


def is_admin(user: Any) -> bool:
    """Platform administrator: account kind admin, or a Django superuser."""
    return _signed_in(user) and (user.is_superuser or user.kind == AccountKind.ADMIN)


def has_role(user: Any, role: str, department: Department | None = None) -> bool:
    """Whether `user` holds `role` (a MembershipRole) in `department`, or anywhere if None."""
    if not _signed_in(user):
        return False
    memberships = _memberships(user).filter(role=role)
    if department is not None:
        memberships = memberships.filter(department=department)
    return memberships.exists()


def is_supervisor(user: Any) -> bool:
    """Sees every department's objects: a supervisor role anywhere, or an administrator."""
    return is_admin(user) or has_role(user, MembershipRole.SUPERVISOR)


def departments_of(user: Any) -> QuerySet[Department]:
    """The active departments `user` has an active membership of (any role)."""
    if not _signed_in(user):
        return Department.objects.none()
    return Department.objects.filter(
        pk__in=_memberships(user).values("department_id"), is_active=True
    )


def can_act_for_department(user: Any, department: Department | None) -> bool:
    """Whether `user` may act (accept, handle, decide) for `department`.

    Supervisors oversee every department but act only where they are members: watching
    a case is not handling it.
    """
    if department is None or not _signed_in(user):
        return False
    if is_admin(user):
        return True
    return _memberships(user).filter(department=department).exists()


def scope_queryset(
    user: Any,
    qs: QuerySet[M],
    *,
    department_field: str | None = "department",
    owner_field: str | None = "applicant",
) -> QuerySet[M]:
    """`qs` narrowed to what `user` may see (see the module table).

    `department_field` names the row's department (a FK or a path like "case__department");
    `owner_field` the account the row belongs to. Pass None for a field the model lacks:
    staff then see only their department's rows, citizens none.
    """
    if not _signed_in(user):
        return qs.none()
    if is_supervisor(user):
        return qs
    allowed = Q(pk__in=[])
    if owner_field:
        allowed |= Q(**{owner_field: user})
    if department_field and user.kind in (AccountKind.STAFF, AccountKind.ADMIN):
        allowed |= Q(**{f"{department_field}__in": departments_of(user)})
    return qs.filter(allowed)


def get_object_for_user(
    user: Any,
    qs: QuerySet[M],
    pk: Any,
    *,
    department_field: str | None = "department",
    owner_field: str | None = "applicant",
) -> M:
    """The object `pk` of `qs` if `user` may see it; Http404 otherwise (also if it is absent)."""
    scoped = scope_queryset(user, qs, department_field=department_field, owner_field=owner_field)
    try:
        return scoped.get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404("对象不存在或无权访问") from exc
