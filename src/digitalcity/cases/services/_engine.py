"""The engine's shared internals: one `Run` per service call, rules, clock moves.

Not a public API: apps call the functions re-exported by `cases.services`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.core import calendar
from digitalcity.core.models import Department, Membership
from digitalcity.core.rows import Table, scalar_rows
from digitalcity.identity.permissions import is_admin

from .. import hooks
from ..choices import (
    ACTIVE_TASK_STATES,
    APPLICANT_ROLE,
    CaseDepartmentRole,
    ClockState,
    EventKind,
    SignalStage,
    TaskState,
)
from ..clocks import consumed, moments, settle_stage
from ..declare import ALL_CLOCKS, CaseType, ClockSpec, TaskSpec, Transition, get_type
from ..models import Case, CaseDepartment, Clock, Event, Task

# The engine's rows, read and written by prepared SQL texts (see _rows.py).
CASES = Table(Case)
CASE_DEPARTMENTS = Table(CaseDepartment)
CLOCKS = Table(Clock)
EVENTS = Table(Event)
TASKS = Table(Task)

CLOCK_FIELDS = [
    "state",
    "run",
    "limit",
    "extended",
    "started_at",
    "paused_at",
    "stopped_at",
    "segment_started_at",
    "used",
    "due_at",
    "prompt_at",
    "red_at",
    "signal_stage",
    "next_signal_at",
    "estimated",
]


@contextmanager
def unit_of_work(*, savepoint: bool = True) -> Iterator[None]:
    """One service call: one transaction, and one snapshot of the calendar rows for every
    clock computed in it. `savepoint=False` inside a caller's transaction: no savepoint
    (two statements fewer); an error then fails the caller's whole transaction."""
    with transaction.atomic(savepoint=savepoint), calendar.cached():
        yield


def actor_label(actor: Any) -> str:
    if actor is None:
        return _("系统")
    return str(getattr(actor, "real_name", "") or getattr(actor, "org_name", "") or actor)


def signed_in(actor: Any) -> bool:
    return actor is not None and actor.is_authenticated and actor.is_active


class Run:
    """One service call on one case: the locked case row, its clocks, and the events to write.

    `finish()` writes the events in one INSERT, saves the changed clocks in one UPDATE
    statement per batch, and schedules the listeners for after commit.
    """

    def __init__(self, case: Case, actor: Any, *, lock: bool = True) -> None:
        self.now = timezone.now()
        self.actor = actor
        self.label = actor_label(actor)
        if lock:
            # The row lock serializes every change to one case (PostgreSQL); SQLite's
            # write lock does the same for the whole database.
            self.case = CASES.get(case.pk, lock=True)
        else:
            self.case = case
        self.type: CaseType = get_type(self.case.type_code)
        self.events: list[Event] = []
        self._clocks: list[Clock] | None = None
        self._dirty_clocks: dict[int, Clock] = {}
        self._memberships: list[tuple[int, str]] | None = None
        self._involved: set[int] | None = None

    # --- events -----------------------------------------------------------

    def event(self, kind: str, *, task: Task | None = None, **fields: Any) -> Event:
        if task is not None:
            fields["task"] = task
        event = Event(
            case=self.case,
            actor=self.actor,
            actor_label=self.label,
            at=self.now,
            kind=kind,
            **fields,
        )
        self.events.append(event)
        return event

    # --- who ----------------------------------------------------------------

    def memberships(self) -> list[tuple[int, str]]:
        """The actor's active (department id, role) pairs, read once per call."""
        if self._memberships is None:
            if not signed_in(self.actor):
                self._memberships = []
            else:
                self._memberships = [
                    (int(dept), str(role))
                    for dept, role in scalar_rows(_memberships_sql(), [self.actor.pk])
                ]
        return self._memberships

    def involved(self) -> set[int]:
        if self._involved is None:
            self._involved = {int(dept) for (dept,) in scalar_rows(_involved_sql(), [self.case.pk])}
        return self._involved

    def is_admin(self) -> bool:
        return is_admin(self.actor)

    def member_of(self, department_id: int, roles: Iterable[str] = ()) -> bool:
        wanted = set(roles)
        return self.is_admin() or any(
            dept == department_id and (not wanted or role in wanted)
            for dept, role in self.memberships()
        )

    def may_take(self, transition: Transition) -> bool:
        return may_take(
            transition,
            case=self.case,
            actor=self.actor,
            admin=self.is_admin(),
            memberships=self.memberships(),
            # A lead-only transition looks at the lead department alone: no need to read
            # the involved ones.
            involved=set() if transition.lead_only else self.involved(),
        )

    # --- clocks -------------------------------------------------------------

    def clocks(self) -> list[Clock]:
        if self._clocks is None:
            self._clocks = CLOCKS.objects(
                f"{CLOCKS.column('case')} = %s", [self.case.pk], lock=True
            )
        return self._clocks

    def touch(self, clock: Clock) -> None:
        self._dirty_clocks[id(clock)] = clock

    def finish(self) -> None:
        if self._dirty_clocks:
            dirty = list(self._dirty_clocks.values())
            new = [c for c in dirty if c.pk is None]
            old = [c for c in dirty if c.pk is not None]
            CLOCKS.insert(new)
            # One plain UPDATE a clock: a step changes one to a few, and bulk_update's
            # CASE … WHEN for every field cost 40 % of a whole case in
            # bench/cases_flow.py, far more than the statements it saves.
            for clock in old:
                CLOCKS.update(clock, CLOCK_FIELDS)
            self._dirty_clocks.clear()
        if self.events:
            EVENTS.insert(self.events)
            hooks.schedule_listeners(self.events)
            self.events = []


def _memberships_sql() -> str:
    m, d = Membership._meta.db_table, Department._meta.db_table
    return (
        f"SELECT m.department_id, m.role FROM {m} m INNER JOIN {d} d ON d.id = m.department_id"  # noqa: S608
        " WHERE m.user_id = %s AND m.is_active AND d.is_active"
    )


def _involved_sql() -> str:
    table = CaseDepartment._meta.db_table
    return f"SELECT department_id FROM {table} WHERE case_id = %s"  # noqa: S608


def may_take(
    transition: Transition,
    *,
    case: Case,
    actor: Any,
    admin: bool,
    memberships: Sequence[tuple[int, str]],
    involved: set[int],
) -> bool:
    """Whether `actor` may take `transition` on `case` (roles per cases.declare)."""
    if transition.system or not signed_in(actor):
        return False
    if APPLICANT_ROLE in transition.roles and case.applicant_id == actor.pk:
        return True
    if admin:
        return True
    staff_roles = {role for role in transition.roles if role != APPLICANT_ROLE}
    if transition.roles and not staff_roles:
        return False
    scope = {case.department_id} if transition.lead_only else involved
    return any(
        dept in scope and (not staff_roles or role in staff_roles) for dept, role in memberships
    )


def refuse(message: str) -> PermissionDenied:
    return PermissionDenied(message)


# --- Clock moves --------------------------------------------------------------


def paused_in(ct: CaseType, state: str, code: str) -> bool:
    pauses = ct.state(state).pauses
    return ALL_CLOCKS in pauses or code in pauses


def _recompute(run: Run, clock: Clock) -> None:
    found = moments(clock)
    clock.due_at, clock.prompt_at, clock.red_at = found.due_at, found.prompt_at, found.red_at
    clock.estimated = clock.estimated or found.estimated
    settle_stage(clock, run.now)


def _clear_moments(clock: Clock) -> None:
    clock.due_at = clock.prompt_at = clock.red_at = clock.next_signal_at = None


def clock_start(run: Run, clock: Clock, *, at: datetime | None = None) -> None:
    """Start (or restart after a stop: a new run with the full limit) a clock.

    `at` starts it as of an earlier moment (a time limit the law counts from receipt):
    its moments are computed from there, and a prompt or card already due is raised by
    the next sweep.
    """
    if clock.state in (ClockState.RUNNING, ClockState.PAUSED):
        return
    if clock.state == ClockState.STOPPED:
        clock.run += 1
        clock.used = Decimal(0)
        clock.extended = 0
        clock.stopped_at = None
        clock.estimated = False
    start = run.now if at is None else at
    clock.signal_stage = SignalStage.NONE
    clock.started_at = start
    data: dict[str, Any] = {"clock": clock.code}
    if at is not None:
        data["started_at"] = at.isoformat()
    run.event(EventKind.CLOCK_STARTED, task_id=clock.task_id, data=data)
    if paused_in(run.type, run.case.state, clock.code):
        clock.state = ClockState.PAUSED
        clock.paused_at = start
        clock.segment_started_at = None
        _clear_moments(clock)
    else:
        clock.state = ClockState.RUNNING
        clock.segment_started_at = start
        _recompute(run, clock)
    run.touch(clock)


def _close_segment(run: Run, clock: Clock) -> None:
    assert clock.segment_started_at is not None  # noqa: S101 - running clocks have one
    used, estimated = consumed(clock.unit, clock.segment_started_at, run.now)
    clock.used = Decimal(clock.used) + used
    clock.estimated = clock.estimated or estimated
    clock.segment_started_at = None


def clock_pause(run: Run, clock: Clock) -> None:
    if clock.state != ClockState.RUNNING:
        return
    _close_segment(run, clock)
    clock.state = ClockState.PAUSED
    clock.paused_at = run.now
    _clear_moments(clock)
    run.event(
        EventKind.CLOCK_PAUSED,
        task_id=clock.task_id,
        to_state=run.case.state,
        data={"clock": clock.code, "used": str(clock.used)},
    )
    run.touch(clock)


def clock_resume(run: Run, clock: Clock) -> None:
    if clock.state != ClockState.PAUSED:
        return
    clock.state = ClockState.RUNNING
    clock.segment_started_at = run.now
    clock.paused_at = None
    _recompute(run, clock)
    run.event(
        EventKind.CLOCK_RESUMED,
        task_id=clock.task_id,
        data={"clock": clock.code, "due_at": clock.due_at.isoformat() if clock.due_at else None},
    )
    run.touch(clock)


def clock_stop(run: Run, clock: Clock) -> None:
    if clock.state not in (ClockState.RUNNING, ClockState.PAUSED):
        return
    # Whether it ended in time is judged against the due moment it had when stopped.
    due_at = clock.due_at
    if clock.state == ClockState.RUNNING:
        _close_segment(run, clock)
    clock.state = ClockState.STOPPED
    clock.stopped_at = run.now
    clock.paused_at = None
    _clear_moments(clock)
    run.event(
        EventKind.CLOCK_STOPPED,
        task_id=clock.task_id,
        data={
            "clock": clock.code,
            "used": str(clock.used),
            "total": clock.limit + clock.extended,
            "overdue": clock.used > clock.limit + clock.extended
            or (due_at is not None and run.now > due_at),
        },
    )
    run.touch(clock)


def clock_recompute(run: Run, clock: Clock) -> None:
    """After the limit changed (an extension): new moments for a running clock."""
    if clock.state == ClockState.RUNNING:
        _recompute(run, clock)
    run.touch(clock)


def new_clock(
    run: Run, spec: ClockSpec, *, task: Task | None, limit: int | None, unit: str | None = None
) -> Clock:
    clock = Clock(
        case=run.case,
        task=task,
        code=spec.code,
        unit=spec.unit if unit is None else unit,
        limit=spec.limit if limit is None else limit,
        prompt_before=spec.prompt_before,
        red_after=spec.red_after,
    )
    if run._clocks is not None:
        run._clocks.append(clock)
    run.touch(clock)
    return clock


def check_limit(limit: Any, field: str) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1 or limit > 5000:
        raise ValidationError({field: _("时限须为 1 至 5000 之间的整数，收到 %r") % (limit,)})
    return limit


# --- Tasks ----------------------------------------------------------------------


def add_departments(
    run: Run, department_ids: Iterable[int], role: str = CaseDepartmentRole.CO
) -> None:
    """Involve each of `department_ids` not yet involved, in one INSERT.

    When this call has not read the involved departments, the INSERT skips those already
    there (ON CONFLICT DO NOTHING on the unique (case, department)) instead of reading
    them first.
    """
    involved = run._involved
    new = [d for d in dict.fromkeys(department_ids) if involved is None or d not in involved]
    if not new:
        return
    CASE_DEPARTMENTS.insert(
        [CaseDepartment(case=run.case, department_id=d, role=role, added_at=run.now) for d in new],
        ignore_conflicts=involved is None,
    )
    if involved is not None:
        involved.update(new)


def create_tasks(
    run: Run,
    spec: TaskSpec,
    departments: Sequence[int],
    *,
    assignee: Any = None,
    limit: int | None = None,
) -> list[Task]:
    if not departments:
        raise ValidationError({"departments": _("下达任务至少须指定一个承办部门")})
    if len(set(departments)) != len(departments):
        raise ValidationError({"departments": _("承办部门不能重复")})
    known = {
        int(pk)
        for (pk,) in scalar_rows(
            f"SELECT id FROM {Department._meta.db_table} WHERE is_active"  # noqa: S608
            f" AND id IN ({', '.join(['%s'] * len(departments))})",
            list(departments),
        )
    }
    missing = [d for d in departments if d not in known]
    if missing:
        raise ValidationError(
            {"departments": _("承办部门不存在或已停用：%(ids)s") % {"ids": missing}}
        )
    if assignee is not None:
        member_of = set(
            Membership.objects.filter(
                user=assignee, department_id__in=departments, is_active=True
            ).values_list("department_id", flat=True)
        )
        if member_of != set(departments):
            raise ValidationError({"assignee": _("指定的承办人须是每个承办部门的人员")})
    group = f"{spec.code}-{run.now:%Y%m%d%H%M%S%f}"
    tasks = [
        Task(
            case=run.case,
            spec=spec.code,
            kind=spec.kind,
            group=group,
            join=spec.join,
            department_id=dept,
            assignee=assignee,
            created_at=run.now,
        )
        for dept in departments
    ]
    TASKS.insert(tasks)
    add_departments(run, departments)
    for task in tasks:
        run.event(
            EventKind.TASK_CREATED,
            task=task,
            data={"spec": spec.code, "department": task.department_id},
        )
        if spec.clock is not None:
            clock_start(run, new_clock(run, spec.clock, task=task, limit=limit))
    return tasks


def task_clocks(run: Run, task: Task) -> list[Clock]:
    return [c for c in run.clocks() if c.task_id == task.pk]


def end_task(run: Run, task: Task, state: str) -> None:
    """Leave an active task in `state` (completed, returned, cancelled): unlock, stop clocks."""
    task.state = state
    task.locked_by = None
    task.locked_at = None
    if state in (TaskState.COMPLETED, TaskState.CANCELLED, TaskState.RETURNED):
        task.completed_at = run.now
    for clock in task_clocks(run, task):
        clock_stop(run, clock)


def cancel_active_tasks(run: Run, *, exclude: Task | None = None, group: str | None = None) -> None:
    marks = ", ".join(["%s"] * len(ACTIVE_TASK_STATES))
    where = f"{TASKS.column('case')} = %s AND {TASKS.column('state')} IN ({marks})"
    params: list[Any] = [run.case.pk, *ACTIVE_TASK_STATES]
    if group is not None:
        where += f" AND {TASKS.column('group')} = %s"
        params.append(group)
    if exclude is not None:
        where += f" AND {TASKS.column('id')} <> %s"
        params.append(exclude.pk)
    cancelled = TASKS.objects(where, params, lock=True)
    for task in cancelled:
        end_task(run, task, TaskState.CANCELLED)
        run.event(EventKind.TASK_CANCELLED, task=task)
    if cancelled:
        # The same four values for each, in one statement (updated_at left alone, as
        # bulk_update did).
        TASKS.update_where(
            [t.pk for t in cancelled],
            {
                "state": TaskState.CANCELLED,
                "locked_by": None,
                "locked_at": None,
                "completed_at": run.now,
            },
        )
