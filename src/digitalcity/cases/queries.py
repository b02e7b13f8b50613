"""Reads of the case engine used by pages and the API (STYLE.md 5).

Scope (who sees which case): administrators and supervisors see every case; staff see
cases one of their departments is involved in (`CaseDepartment`) and cases they applied
for; citizens and legal persons see their own. `get_case_for_user` answers Http404 for
everything else, so a case's existence is not revealed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from digitalcity.core import calendar
from digitalcity.core.models import Membership
from digitalcity.identity.models import AccountKind
from digitalcity.identity.permissions import departments_of, is_admin, is_supervisor

from .choices import (
    ACTIVE_TASK_STATES,
    ClockState,
    ClockUnit,
    EventKind,
    RatingValue,
    SignalStage,
)
from .clocks import consumed
from .declare import CaseType, Transition, get_type
from .models import Case, CaseDepartment, Clock, Event, Rating, Signal, Task, UrgeOrder
from .services._engine import may_take

__all__ = [
    "CaseDetail",
    "ClockView",
    "DepartmentFigures",
    "available_transitions",
    "badge",
    "case_detail",
    "cases_for_user",
    "figures",
    "get_case_for_user",
    "my_queue",
    "near_due",
    "overdue",
]


def _signed_in(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def cases_for_user(user: Any) -> QuerySet[Case]:
    """Every case `user` may see (see the module docstring)."""
    cases = Case.objects.all()
    if not _signed_in(user):
        return cases.none()
    if is_supervisor(user):
        return cases
    visible: Any = Q(applicant=user)
    if user.kind in (AccountKind.STAFF, AccountKind.ADMIN):
        involved = CaseDepartment.objects.filter(
            case=OuterRef("pk"), department__in=departments_of(user)
        )
        visible |= Exists(involved)
    return cases.filter(visible)


def get_case_for_user(user: Any, pk: Any) -> Case:
    """The case `pk` if `user` may see it; Http404 otherwise (also when it does not exist)."""
    try:
        return cases_for_user(user).select_related("department", "division").get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("办件不存在或无权访问") from exc


# --- My queue -------------------------------------------------------------------


def my_queue(user: Any) -> QuerySet[Task]:
    """Open tasks for `user`: assigned to them, or unassigned in one of their departments;
    soonest due first, then the most urgent. One query: each task carries `due_at`,
    `signal_stage` and `estimated` of its own running clock, else of its case's soonest
    running clock (see `badge`)."""
    if not _signed_in(user):
        return Task.objects.none()
    mine = Q(assignee=user) | Q(
        assignee__isnull=True,
        department_id__in=Membership.objects.filter(
            user=user, is_active=True, department__is_active=True
        ).values("department_id"),
    )
    own = Clock.objects.filter(task=OuterRef("pk"), state=ClockState.RUNNING).order_by("due_at")
    case = Clock.objects.filter(
        case=OuterRef("case_id"), task__isnull=True, state=ClockState.RUNNING
    ).order_by("due_at")
    return (
        Task.objects.filter(mine, state__in=ACTIVE_TASK_STATES)
        .select_related("case", "department", "assignee", "locked_by")
        .annotate(
            due_at=Coalesce(
                Subquery(own.values("due_at")[:1]), Subquery(case.values("due_at")[:1])
            ),
            signal_stage=Coalesce(
                Subquery(own.values("signal_stage")[:1]),
                Subquery(case.values("signal_stage")[:1]),
            ),
            estimated=Coalesce(
                Subquery(own.values("estimated")[:1]), Subquery(case.values("estimated")[:1])
            ),
        )
        .order_by(
            # NULLS LAST on both engines: tasks without a running clock come after.
            F("due_at").asc(nulls_last=True),
            "-case__priority",
            "created_at",
            "id",
        )
    )


def badge(due_at: datetime | None, signal_stage: str | None, now: datetime | None = None) -> str:
    """ "red", "yellow", "due" (prompted: near the limit) or "" for a queue row or clock.
    A clock past due counts as yellow at once, even before the worker's card."""
    now = now or timezone.now()
    if signal_stage == SignalStage.RED:
        return "red"
    if signal_stage == SignalStage.YELLOW or (due_at is not None and due_at < now):
        return "yellow"
    if signal_stage == SignalStage.PROMPTED:
        return "due"
    return ""


# --- The case page ------------------------------------------------------------------


@dataclass(frozen=True)
class ClockView:
    """A clock as a person reads it, amounts in the clock's unit."""

    clock: Clock
    label: str
    unit: str
    total: int
    used: Decimal
    paused: Decimal
    remaining: Decimal
    is_paused: bool
    badge: str


@dataclass
class CaseDetail:
    case: Case
    type: CaseType
    state_label: str
    timeline: list[Event]
    tasks: list[Task]
    clocks: list[ClockView]
    urges: list[UrgeOrder]
    signals: list[Signal]
    ratings: list[Rating] = field(default_factory=list)


def _clock_view(ct: CaseType, clock: Clock, events: Sequence[Event], now: datetime) -> ClockView:
    used = Decimal(clock.used)
    if clock.state == ClockState.RUNNING and clock.segment_started_at is not None:
        used += consumed(clock.unit, clock.segment_started_at, now, allow_estimate=True)[0]
    paused = Decimal(0)
    since: datetime | None = None
    for event in events:
        if event.data.get("clock") != clock.code or event.task_id != clock.task_id:
            continue
        if event.kind == EventKind.CLOCK_PAUSED:
            since = event.at
        elif event.kind in (EventKind.CLOCK_RESUMED, EventKind.CLOCK_STOPPED) and since:
            paused += consumed(clock.unit, since, event.at, allow_estimate=True)[0]
            since = None
        elif event.kind == EventKind.CLOCK_STARTED:
            paused, since = Decimal(0), None
    if since is not None and clock.state == ClockState.PAUSED:
        paused += consumed(clock.unit, since, now, allow_estimate=True)[0]
    try:
        label = str(ct.clock(clock.code).label)
    except KeyError:
        label = clock.code
    total = clock.limit + clock.extended
    return ClockView(
        clock=clock,
        label=label,
        unit=str(ClockUnit(clock.unit).label),
        total=total,
        used=used,
        paused=paused,
        remaining=Decimal(total) - used,
        is_paused=clock.state == ClockState.PAUSED,
        badge=badge(clock.due_at, clock.signal_stage, now)
        if clock.state == ClockState.RUNNING
        else "",
    )


def case_detail(case: Case, *, public_only: bool = False) -> CaseDetail:
    """Everything the case page shows. `public_only` (the applicant's view) keeps the
    public events only. A fixed number of queries whatever the case's size."""
    ct = get_type(case.type_code)
    now = timezone.now()
    events = list(Event.objects.filter(case=case).order_by("at", "id"))
    clock_events = [e for e in events if e.kind.startswith("clock_")]
    with calendar.cached():
        clocks = [
            _clock_view(ct, clock, clock_events, now)
            for clock in Clock.objects.filter(case=case).order_by("task_id", "id")
        ]
    return CaseDetail(
        case=case,
        type=ct,
        state_label=str(ct.state(case.state).label),
        timeline=[e for e in events if e.public] if public_only else events,
        tasks=list(case.tasks.select_related("department", "assignee", "locked_by")),
        clocks=clocks,
        urges=[] if public_only else list(case.urges.select_related("department", "issued_by")),
        signals=[] if public_only else list(case.signals.all()),
        ratings=list(case.ratings.all()),
    )


def available_transitions(user: Any, case: Case) -> list[Transition]:
    """The transitions `user` may take on `case` now (what the action buttons offer)."""
    if not _signed_in(user):
        return []
    ct = get_type(case.type_code)
    memberships = list(
        Membership.objects.filter(
            user=user, is_active=True, department__is_active=True
        ).values_list("department_id", "role")
    )
    involved = set(CaseDepartment.objects.filter(case=case).values_list("department_id", flat=True))
    admin = is_admin(user)
    return [
        t
        for t in ct.transitions_from(case.state)
        if may_take(
            t, case=case, actor=user, admin=admin, memberships=memberships, involved=involved
        )
    ]


# --- Supervision --------------------------------------------------------------------


def _running_clocks(
    *,
    type_code: str | None = None,
    division: Any = None,
    department: Any = None,
) -> QuerySet[Clock]:
    clocks = Clock.objects.filter(state=ClockState.RUNNING).select_related(
        "case", "case__department", "task", "task__department"
    )
    if type_code:
        clocks = clocks.filter(case__type_code=type_code)
    if division is not None:
        clocks = clocks.filter(case__division=division)
    if department is not None:
        clocks = clocks.filter(
            Q(task__department=department) | Q(task__isnull=True, case__department=department)
        )
    return clocks


def near_due(**filters: Any) -> QuerySet[Clock]:
    """Running clocks past their prompt moment but not yet due, soonest due first.
    Filters: type_code, division, department (the task's, or the lead for case clocks)."""
    now = timezone.now()
    return (
        _running_clocks(**filters)
        .filter(prompt_at__lte=now, due_at__gte=now)
        .order_by("due_at", "id")
    )


def overdue(**filters: Any) -> QuerySet[Clock]:
    """Running clocks past due, longest overdue first (same filters as `near_due`)."""
    return _running_clocks(**filters).filter(due_at__lt=timezone.now()).order_by("due_at", "id")


@dataclass
class DepartmentFigures:
    """One row of the supervision figures (per department or per division).

    `cases`: opened in the period; the rest are over the cases *closed* in the period:
    `on_time_rate` (no case clock stopped overdue), `avg_workdays` (working days from
    opening to closing), `extension_rate` (any clock extended), `return_rate` (any task
    returned), `satisfaction` ((satisfied + basically satisfied) / ratings). None when
    there is nothing to divide by.
    """

    key: int | None
    name: str
    cases: int = 0
    closed: int = 0
    on_time_rate: float | None = None
    avg_workdays: float | None = None
    extension_rate: float | None = None
    return_rate: float | None = None
    satisfaction: float | None = None


def _workday_index(first: date, last: date) -> dict[date, int]:
    """Day → working days in (first, day]: workdays between two days is a subtraction."""
    index: dict[date, int] = {}
    count = 0
    day = first
    with calendar.cached():
        while day <= last:
            if day != first and calendar.is_workday_ex(day, allow_estimate=True).value:
                count += 1
            index[day] = count
            day += timedelta(days=1)
    return index


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(
    *,
    by: str = "department",
    start: datetime | None = None,
    end: datetime | None = None,
    type_code: str | None = None,
    division: Any = None,
    department: Any = None,
) -> list[DepartmentFigures]:
    """Supervision figures per lead department (`by="department"`) or per division,
    over [start, end), computed from events, clocks and ratings (not counters)."""
    key_field = "department_id" if by == "department" else "division_id"
    name_field = "department__name" if by == "department" else "division__name"
    scope = Case.objects.all()
    if type_code:
        scope = scope.filter(type_code=type_code)
    if division is not None:
        scope = scope.filter(division=division)
    if department is not None:
        scope = scope.filter(department=department)
    opened = scope
    closed = scope.filter(closed_at__isnull=False)
    if start is not None:
        opened = opened.filter(opened_at__gte=start)
        closed = closed.filter(closed_at__gte=start)
    if end is not None:
        opened = opened.filter(opened_at__lt=end)
        closed = closed.filter(closed_at__lt=end)
    rows: dict[int | None, DepartmentFigures] = {}

    def row(key: int | None, name: str | None) -> DepartmentFigures:
        if key not in rows:
            rows[key] = DepartmentFigures(key=key, name=name or "—")
        return rows[key]

    for key, name in opened.values_list(key_field, name_field):
        row(key, name).cases += 1
    closed_rows = list(closed.values_list("id", key_field, name_field, "opened_at", "closed_at"))
    ids = [r[0] for r in closed_rows]
    overdue_cases: set[int] = set()
    extended: set[int] = set()
    returned: set[int] = set()
    for case_id, kind, task_id, data in Event.objects.filter(
        case_id__in=ids,
        kind__in=(EventKind.CLOCK_STOPPED, EventKind.CLOCK_EXTENDED, EventKind.TASK_RETURNED),
    ).values_list("case_id", "kind", "task_id", "data"):
        if kind == EventKind.CLOCK_STOPPED and task_id is None and data.get("overdue"):
            overdue_cases.add(case_id)
        elif kind == EventKind.CLOCK_EXTENDED:
            extended.add(case_id)
        elif kind == EventKind.TASK_RETURNED:
            returned.add(case_id)
    ratings: dict[int, list[str]] = defaultdict(list)
    for case_id, value in Rating.objects.filter(case_id__in=ids).values_list("case_id", "value"):
        ratings[case_id].append(value)
    local = [(timezone.localdate(o), timezone.localdate(c)) for _i, _k, _n, o, c in closed_rows]
    index = _workday_index(min(o for o, _c in local), max(c for _o, c in local)) if local else {}
    grouped: dict[int | None, list[int]] = defaultdict(list)
    for position, (_id, key, name, _o, _c) in enumerate(closed_rows):
        row(key, name)
        grouped[key].append(position)
    for key, positions in grouped.items():
        figures_row = rows[key]
        case_ids = [closed_rows[p][0] for p in positions]
        figures_row.closed = len(case_ids)
        figures_row.on_time_rate = _rate(
            sum(1 for c in case_ids if c not in overdue_cases), len(case_ids)
        )
        spans = [index[local[p][1]] - index[local[p][0]] for p in positions]
        figures_row.avg_workdays = round(sum(spans) / len(spans), 2)
        figures_row.extension_rate = _rate(sum(1 for c in case_ids if c in extended), len(case_ids))
        figures_row.return_rate = _rate(sum(1 for c in case_ids if c in returned), len(case_ids))
        values = [v for c in case_ids for v in ratings.get(c, [])]
        good = sum(1 for v in values if v in (RatingValue.SATISFIED, RatingValue.BASICALLY))
        figures_row.satisfaction = _rate(good, len(values))
    return sorted(rows.values(), key=lambda r: (r.name, r.key or 0))
