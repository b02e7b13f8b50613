"""The cross-check queue (多元校核): the responsible department confirms the golden value
or corrects it, always with a reason; counts per department show the check at work.

- `conflict_confirm(conflict=, actor=, reason=)`: the golden value stands; the same
  disagreement (same source, same values) is not raised again.
- `conflict_correct(conflict=, actor=, value=, reason=)`: the golden field takes `value`
  (checked like an imported value) until the authoritative source delivers a new version
  of its record; a new PersonVersion/OrganizationVersion with cause "conflict" records it.
- `conflict_counts()`: open / confirmed / corrected / dismissed per department.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.core.audit.services import record
from digitalcity.core.models import AuditAction, Department, Division

from . import golden
from .choices import ConflictState, Entity, VersionCause
from .fields import FIELDS, ParseContext, parse_value
from .models import Conflict
from .permissions import can_resolve_conflict

__all__ = ["DepartmentCounts", "conflict_confirm", "conflict_correct", "conflict_counts"]


def _lock_open(conflict: Conflict, actor: Any, reason: str) -> Conflict:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("处理理由：必须填写（确认或更正都要说明依据）")})
    # The entity lock first, as imports take it: the conflict row second (no deadlock).
    golden.lock_entity(conflict.entity)
    locked = Conflict.objects.select_for_update().get(pk=conflict.pk)
    if locked.state != ConflictState.OPEN:
        raise ValidationError(
            _("该冲突已处理（%(state)s），不能重复处理") % {"state": locked.get_state_display()}
        )
    if not can_resolve_conflict(actor, locked):
        raise PermissionDenied(
            _("只有责任部门（%(department)s）可以处理该冲突")
            % {"department": locked.department.name}
        )
    return locked


def conflict_confirm(*, conflict: Conflict, actor: Any, reason: str) -> Conflict:
    """The responsible department confirms the golden value against the other source."""
    with transaction.atomic():
        locked = _lock_open(conflict, actor, reason)
        locked.state = ConflictState.CONFIRMED
        locked.reason = reason.strip()
        locked.resolved_by = actor
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["state", "reason", "resolved_by", "resolved_at", "updated_at"])
        record(
            action=AuditAction.CUSTOM,
            obj=locked,
            after={"state": locked.state, "golden_value": locked.golden_value},
            reason=locked.reason,
            extra={"operation": "registry.conflict_confirm"},
        )
    return locked


def conflict_correct(*, conflict: Conflict, actor: Any, value: str, reason: str) -> Conflict:
    """The responsible department corrects the golden value to `value` (often the other
    source's value) and the golden record gets a new version with cause "conflict"."""
    with transaction.atomic():
        locked = _lock_open(conflict, actor, reason)
        spec = FIELDS[locked.entity][locked.field]
        raw = (value or "").strip()
        if not raw:
            raise ValidationError({"value": _("更正后的值：不能为空")})
        ctx = ParseContext(
            today=timezone.localdate(),
            division_codes=frozenset(Division.objects.values_list("code", flat=True))
            if spec.kind == "division"
            else frozenset(),
        )
        try:
            normalised = parse_value(spec, raw, ctx)
        except ValidationError as exc:
            raise ValidationError(
                {
                    "value": _("更正后的值（%(field)s）：%(error)s")
                    % {
                        "field": spec.label,
                        "error": "；".join(exc.messages),
                    }
                }
            ) from None
        locked.state = ConflictState.CORRECTED
        locked.resolution_value = normalised
        locked.reason = reason.strip()
        locked.resolved_by = actor
        locked.resolved_at = timezone.now()
        locked.save(
            update_fields=[
                "state",
                "resolution_value",
                "reason",
                "resolved_by",
                "resolved_at",
                "updated_at",
            ]
        )
        # Other open conflicts on the same field are judged again against the new value.
        subject = locked.person if locked.entity == Entity.PERSON else locked.organization
        if subject is None:  # the subject's deletion cascades to its conflicts
            raise ValidationError(_("冲突所属的记录已不存在"))
        key = subject.id_number if locked.entity == Entity.PERSON else subject.uscc  # type: ignore[union-attr]
        golden.rebuild(entity=locked.entity, keys=[key], cause=VersionCause.CONFLICT)
        record(
            action=AuditAction.UPDATE,
            obj=subject,
            before={locked.field: locked.golden_value},
            after={locked.field: normalised},
            reason=locked.reason,
            extra={"operation": "registry.conflict_correct", "conflict": locked.pk},
        )
    return locked


@dataclass(frozen=True)
class DepartmentCounts:
    department: Department
    open: int
    confirmed: int
    corrected: int
    dismissed: int

    @property
    def total(self) -> int:
        return self.open + self.confirmed + self.corrected + self.dismissed


def conflict_counts(departments: Any = None) -> list[DepartmentCounts]:
    """Conflicts per responsible department and state (one query)."""
    qs = Conflict.objects.all()
    if departments is not None:
        qs = qs.filter(department__in=departments)
    rows = qs.values("department").annotate(
        open=Count("id", filter=Q(state=ConflictState.OPEN)),
        confirmed=Count("id", filter=Q(state=ConflictState.CONFIRMED)),
        corrected=Count("id", filter=Q(state=ConflictState.CORRECTED)),
        dismissed=Count("id", filter=Q(state=ConflictState.DISMISSED)),
    )
    by_id = {d.pk: d for d in Department.objects.filter(pk__in=[r["department"] for r in rows])}
    return sorted(
        (
            DepartmentCounts(
                by_id[r["department"]], r["open"], r["confirmed"], r["corrected"], r["dismissed"]
            )
            for r in rows
        ),
        key=lambda c: (-c.open, c.department.code),
    )
