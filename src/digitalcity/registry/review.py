"""The linkage review queue: who may review, and accepting or rejecting a proposed link.

| who | sees | decides |
| --- | --- | --- |
| administrator, data officer (any department) | every candidate | every candidate |
| staff of the department whose source delivered the record | their sources' candidates | those |
| everyone else | nothing | nothing |

The department that delivered a record knows best whether it is this person; the data
officers run the registry city-wide (registry.permissions).

An accepted link merges the record into the golden record (`merge_records`): the record
points at the person with its link method and probability, and the person's golden fields
are rebuilt from all its records by the FieldRules, so the record's source shows in the
provenance where it gives a field, and a version records the merge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.core.context import acting_as
from digitalcity.core.models import MembershipRole
from digitalcity.identity.permissions import (
    can_act_for_department,
    departments_of,
    has_role,
    is_admin,
)

from .choices import Entity, LinkMethod, LinkState, VersionCause
from .models import LinkCandidate, Person, Source, SourceRecord

__all__ = [
    "can_review_link",
    "can_use_review_queue",
    "link_accept",
    "link_reject",
    "merge_records",
    "review_queue_for",
]


def _signed_in(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def _city_wide(user: Any) -> bool:
    return is_admin(user) or has_role(user, MembershipRole.DATA_OFFICER)


def can_use_review_queue(user: Any) -> bool:
    """City-wide reviewers, and staff of a department that delivers person records."""
    if not _signed_in(user):
        return False
    if _city_wide(user):
        return True
    return (
        departments_of(user)
        .filter(pk__in=Source.objects.filter(entity=Entity.PERSON).values("department_id"))
        .exists()
    )


def review_queue_for(user: Any) -> QuerySet[LinkCandidate]:
    """The candidates `user` may see (all states), with what the pages show."""
    candidates = LinkCandidate.objects.select_related(
        "record", "record__source", "record__source__department", "person", "reviewed_by"
    )
    if not _signed_in(user):
        return candidates.none()
    if _city_wide(user):
        return candidates
    return candidates.filter(record__source__department__in=departments_of(user))


def can_review_link(user: Any, candidate: LinkCandidate) -> bool:
    if not _signed_in(user):
        return False
    return _city_wide(user) or can_act_for_department(user, candidate.record.source.department)


# Keys per lookup statement: one array parameter on PostgreSQL, placeholders on SQLite
# (which limits how many one statement may have).
_CHUNK = 10_000


def merge_records(
    *,
    links: Sequence[tuple[int, int, float | None]],
    method: str,
) -> int:
    """Link records to persons and rebuild those persons' golden records.

    `links` is (record pk, person pk, probability) triples. Only current records still
    without a person are linked (a record linked meanwhile is left alone); returns how
    many were. Set-based: one UPDATE per call through a staging table, then one golden
    rebuild of the persons touched. Call inside the caller's transaction and actor context.
    """
    from . import golden
    from .bulk import any_of, fetch, table

    if not links:
        return 0
    record_ids = sorted({record_id for record_id, _person, _p in links})
    free: set[int] = set()
    for start in range(0, len(record_ids), _CHUNK):
        where, params = any_of("id", record_ids[start : start + _CHUNK])
        free.update(
            pk
            for (pk,) in fetch(
                f"SELECT id FROM {table(SourceRecord)} WHERE {where} "  # noqa: S608 — our identifiers
                "AND person_id IS NULL AND is_current",
                params,
            )
        )
    rows = [(r, p, method, prob) for r, p, prob in links if r in free]
    if not rows:
        return 0
    _set_links(rows)
    person_ids = sorted({p for _r, p, _m, _prob in rows})
    keys: list[str] = []
    for start in range(0, len(person_ids), _CHUNK):
        where, params = any_of("id", person_ids[start : start + _CHUNK])
        keys.extend(
            key
            for (key,) in fetch(
                f"SELECT id_number FROM {table(Person)} WHERE {where}",  # noqa: S608 — our identifiers
                params,
            )
        )
    golden.rebuild(entity=Entity.PERSON, keys=sorted(keys), cause=VersionCause.LINK)
    return len(rows)


def _set_links(rows: Sequence[tuple[int, int, str, float | None]]) -> None:
    """UPDATE the records' person, link method and probability from a staging table."""
    from django.db import connection

    from .bulk import staging_table, table, write_rows

    target = table(SourceRecord)
    real = "double precision" if connection.vendor == "postgresql" else "real"
    columns = [("id", "int"), ("person_id", "int"), ("method", "text"), ("probability", "text")]
    with staging_table("stage_registry_links", columns) as stage:
        write_rows(
            stage,
            [c for c, _kind in columns],
            ((r, p, m, None if prob is None else repr(float(prob))) for r, p, m, prob in rows),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {target} SET person_id = {stage}.person_id, "  # noqa: S608 — our identifiers
                f"link_method = {stage}.method, "
                f"link_probability = CAST({stage}.probability AS {real}) "
                f"FROM {stage} WHERE {target}.id = {stage}.id"
            )


def _decide(*, candidate: LinkCandidate, actor: Any, state: str, reason: str) -> LinkCandidate:
    """Move a pending candidate to `state`; exactly once, even with two reviewers racing."""
    if not can_review_link(actor, candidate):
        raise PermissionDenied(_("您无权审核该关联候选"))
    changed = LinkCandidate.objects.filter(pk=candidate.pk, state=LinkState.PENDING).update(
        state=state, reviewed_by=actor, reviewed_at=timezone.now(), reason=reason
    )
    if changed != 1:
        raise ValidationError(
            {"state": _("该关联候选已被处理（当前状态不是待审核），请刷新后查看")},
            code="not_pending",
        )
    candidate.refresh_from_db()
    return candidate


def link_accept(*, candidate: LinkCandidate, actor: Any, reason: str = "") -> LinkCandidate:
    """Accept the link: the record joins the person's golden record (link method manual).

    The record's other pending candidates are rejected with a note: a record is one
    person. Refused (ValidationError on `record`) if the record got a person meanwhile
    or a later batch superseded it.
    """
    reason = reason.strip()
    with transaction.atomic(), acting_as(actor, reason=reason or _("接受关联候选")):
        record = SourceRecord.objects.select_for_update().get(pk=candidate.record_id)
        if record.person_id is not None:
            raise ValidationError(
                {"record": _("该记录已关联到人口，不能再接受其他关联")}, code="already_linked"
            )
        if not record.is_current:
            raise ValidationError(
                {"record": _("该记录已被来源部门的新版本取代，请审核新版本的关联候选")},
                code="superseded",
            )
        candidate = _decide(
            candidate=candidate, actor=actor, state=LinkState.ACCEPTED, reason=reason
        )
        merge_records(
            links=[(record.pk, candidate.person_id, candidate.probability)],
            method=LinkMethod.MANUAL,
        )
        LinkCandidate.objects.filter(record=record, state=LinkState.PENDING).update(
            state=LinkState.REJECTED,
            reviewed_by=actor,
            reviewed_at=timezone.now(),
            reason=_("该记录已关联到其他人口（候选 %(pk)d 被接受）") % {"pk": candidate.pk},
        )
    return candidate


def link_reject(*, candidate: LinkCandidate, actor: Any, reason: str) -> LinkCandidate:
    """Reject the link; the record stays without a person and the pair is not proposed
    again. The reason is required: the next reviewer reads why."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("理由：拒绝关联时必须填写理由")}, code="required")
    with transaction.atomic(), acting_as(actor, reason=reason):
        return _decide(candidate=candidate, actor=actor, state=LinkState.REJECTED, reason=reason)
