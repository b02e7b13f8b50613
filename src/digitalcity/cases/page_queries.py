"""Reads the case pages need beyond `cases.queries`: labels from the type registry, the
task actions a user may take, the one-time rating link, the desk's cards and trend.

Every function takes objects or querysets already narrowed by `cases.queries` (the one
permission helper); none widens what a user sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models import Membership, MembershipRole
from digitalcity.identity.permissions import is_admin, is_supervisor

from .choices import ACTIVE_TASK_STATES, EventKind, SignalKind, TaskOutcome, TaskState, UrgeState
from .declare import CaseType, all_types, get_type
from .models import Case, Event, Rating, RatingLink, Signal, Task, UrgeOrder
from .queries import DepartmentFigures
from .services import hash_token

__all__ = [
    "CasePermissions",
    "TaskActions",
    "case_permissions",
    "clock_label",
    "figures_total",
    "rated_type",
    "rating_link_for_token",
    "recent_signals",
    "state_choices",
    "state_label",
    "task_label",
    "transition_label",
    "trend",
    "type_label",
]


# --- Labels from the registry (no queries) -------------------------------------------


def _type(code: str) -> CaseType | None:
    try:
        return get_type(code)
    except ImproperlyConfigured:
        # The app that declared it was switched off: its old cases still show, by code.
        return None


def _label(type_code: str, kind: str, code: str) -> Any:
    """The declared label of a state, task, transition or clock of a type; the code itself
    when the type or the item is unknown (an old case of a changed declaration)."""
    ct = _type(type_code)
    if ct is None:
        return code
    try:
        return getattr(ct, kind)(code).label
    except KeyError:
        return code


def type_label(code: str) -> Any:
    ct = _type(code)
    return ct.name if ct else code


def state_label(type_code: str, state: str) -> Any:
    return _label(type_code, "state", state)


def task_label(type_code: str, spec: str) -> Any:
    return _label(type_code, "task", spec)


def transition_label(type_code: str, code: str) -> Any:
    return _label(type_code, "transition", code)


def clock_label(type_code: str, code: str) -> Any:
    return _label(type_code, "clock", code)


def rated_type(type_code: str) -> bool:
    """Whether cases of the type are rated (a switched-off type no longer is)."""
    ct = _type(type_code)
    return bool(ct and ct.rating)


def state_choices(type_code: str = "") -> list[tuple[str, str]]:
    """(code, label) of the states of one type, or of every registered type, by label."""
    seen: dict[str, str] = {}
    for ct in all_types():
        if not type_code or ct.code == type_code:
            for state in ct.states:
                seen.setdefault(state.code, str(state.label))
    return sorted(seen.items(), key=lambda item: item[1])


# --- What a user may do on a case page --------------------------------------------------


@dataclass
class TaskActions:
    """The task forms the case page offers `user` on one task."""

    task: Task
    name: Any
    outcomes: list[tuple[str, Any]]
    claim: bool = False
    release: bool = False
    complete: bool = False
    give_back: bool = False
    reassign: bool = False
    break_lock: bool = False

    @property
    def any(self) -> bool:
        return any(
            (
                self.claim,
                self.release,
                self.complete,
                self.give_back,
                self.reassign,
                self.break_lock,
            )
        )


@dataclass
class CasePermissions:
    tasks: list[TaskActions]
    answerable_urges: set[int] = field(default_factory=set)
    can_urge: bool = False
    can_extend: bool = False
    #: Text the applicant a one-time rating link (closed, not yet rated this round).
    can_send_rating_link: bool = False


def case_permissions(
    user: Any,
    case: Case,
    tasks: Iterable[Task],
    urges: Iterable[UrgeOrder],
    ratings: Iterable[Rating] = (),
) -> CasePermissions:
    """Which task, urge and extension forms `user` gets on `case`.

    Mirrors the rules of `cases.services` so the page offers only what would succeed;
    the services stay the authority and refuse anything else.
    """
    admin = is_admin(user)
    supervisor = is_supervisor(user)
    memberships = list(
        Membership.objects.filter(
            user=user, is_active=True, department__is_active=True
        ).values_list("department_id", "role")
    )
    mine = {dept for dept, _role in memberships}
    heads = {dept for dept, role in memberships if role == MembershipRole.HEAD}
    involved = set(case.involved.values_list("department_id", flat=True))
    lead = admin or case.department_id in mine
    ct = _type(case.type_code)
    views = []
    for task in tasks:
        try:
            outcomes = ct.task(task.spec).outcomes if ct else ()
        except KeyError:
            outcomes = ()
        active = task.state in ACTIVE_TASK_STATES
        member = admin or task.department_id in mine
        holder = task.locked_by_id == user.pk
        free = task.locked_by_id is None or holder
        views.append(
            TaskActions(
                task=task,
                name=task_label(case.type_code, task.spec),
                outcomes=[(o, TaskOutcome(o).label) for o in outcomes],
                claim=active
                and member
                and task.locked_by_id is None
                and task.assignee_id in (None, user.pk),
                release=active and holder,
                complete=active and member and free,
                give_back=active and member and free,
                reassign=task.state in (*ACTIVE_TASK_STATES, TaskState.RETURNED)
                and (lead or supervisor),
                break_lock=active
                and task.locked_by_id is not None
                and not holder
                and (supervisor or task.department_id in heads),
            )
        )
    return CasePermissions(
        tasks=views,
        answerable_urges={
            u.pk for u in urges if u.state == UrgeState.OPEN and (admin or u.department_id in mine)
        },
        can_urge=supervisor and case.closed_at is None,
        can_extend=case.closed_at is None and (supervisor or bool(heads & involved)),
        can_send_rating_link=case.closed_at is not None
        and lead
        and rated_type(case.type_code)
        and all(r.round != case.round for r in ratings),
    )


# --- The rating link ----------------------------------------------------------------------


def rating_link_for_token(token: str) -> RatingLink | None:
    """The link a raw token names (case loaded), used or expired ones too so the page can
    say which; None for a token that was never issued."""
    return RatingLink.objects.select_related("case").filter(token_hash=hash_token(token)).first()


# --- The supervision desk -------------------------------------------------------------------


def recent_signals(cases: QuerySet[Case], limit: int = 30) -> list[Signal]:
    """Yellow and red cards on `cases`, newest first."""
    return list(
        Signal.objects.filter(case__in=cases, kind__in=(SignalKind.YELLOW, SignalKind.RED))
        .select_related("case", "department")
        .order_by("-at", "-id")[:limit]
    )


def figures_total(rows: Iterable[DepartmentFigures]) -> DepartmentFigures:
    """The 合计 row: counts summed, rates weighted by each row's closed cases."""
    rows = list(rows)
    out = DepartmentFigures(key=None, name=str(_("合计")))
    out.cases = sum(r.cases for r in rows)
    out.closed = sum(r.closed for r in rows)
    for name in ("on_time_rate", "avg_workdays", "extension_rate", "return_rate"):
        weighted = [(getattr(r, name), r.closed) for r in rows if getattr(r, name) is not None]
        weight = sum(w for _v, w in weighted)
        if weight:
            setattr(out, name, round(sum(v * w for v, w in weighted) / weight, 4))
    return out


def _late() -> Exists:
    return Exists(
        Event.objects.filter(
            case=OuterRef("pk"), kind=EventKind.CLOCK_STOPPED, task__isnull=True, data__overdue=True
        )
    )


def trend(cases: QuerySet[Case], first: date, last: date) -> dict[str, list[Any]]:
    """The desk's ECharts series over the days `first`..`last` of `cases`: cases opened and
    closed per day (spans up to 62 days) or per month, and the on-time rate (%) of each
    bucket's closings. Two queries."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=tz)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=tz)
    monthly = (last - first).days > 62
    trunc = TruncMonth if monthly else TruncDate
    buckets: list[date] = []
    day = first.replace(day=1) if monthly else first
    while day <= last:
        buckets.append(day)
        day = (
            (day.replace(day=28) + timedelta(days=4)).replace(day=1)
            if monthly
            else day + timedelta(days=1)
        )

    def bucket(value: date | datetime) -> date:
        return value.date() if isinstance(value, datetime) else value

    scope = cases.order_by()
    opened = {
        bucket(r["b"]): r["n"]
        for r in scope.filter(opened_at__gte=start, opened_at__lt=end)
        .annotate(b=trunc("opened_at", tzinfo=tz))
        .values("b")
        .annotate(n=Count("pk"))
    }
    closed = {
        bucket(r["b"]): (r["n"], r["ok"])
        for r in scope.filter(closed_at__gte=start, closed_at__lt=end)
        .annotate(b=trunc("closed_at", tzinfo=tz), late=_late())
        .values("b")
        .annotate(n=Count("pk"), ok=Count("pk", filter=Q(late=False)))
    }
    fmt = "%Y-%m" if monthly else "%m-%d"
    return {
        "labels": [b.strftime(fmt) for b in buckets],
        "opened": [opened.get(b, 0) for b in buckets],
        "closed": [closed.get(b, (0, 0))[0] for b in buckets],
        "on_time": [
            round(100 * closed[b][1] / closed[b][0], 1) if b in closed and closed[b][0] else None
            for b in buckets
        ],
    }
