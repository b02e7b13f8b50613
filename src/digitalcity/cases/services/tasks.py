"""Tasks: create, claim (the assignment lock), release, break a lock, complete (join),
return with a reason code, and reassign."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from digitalcity.core.models import Department, Membership, MembershipRole
from digitalcity.identity.permissions import is_supervisor

from ..choices import ACTIVE_TASK_STATES, EventKind, JoinRule, ReturnReason, TaskKind, TaskState
from ..declare import TaskSpec
from ..models import Case, Task
from ._engine import (
    TASKS,
    Run,
    actor_label,
    add_departments,
    cancel_active_tasks,
    check_limit,
    clock_start,
    clock_stop,
    create_tasks,
    end_task,
    refuse,
    task_clocks,
    unit_of_work,
)
from .cases import fire_transition

__all__ = [
    "task_break_lock",
    "task_claim",
    "task_complete",
    "task_create",
    "task_reassign",
    "task_release",
    "task_return",
]

_TASK_FIELDS = [
    "state",
    "assignee",
    "locked_by",
    "locked_at",
    "outcome",
    "opinion",
    "return_reason",
    "completed_at",
    "department",
    "updated_at",
]


_FOREIGN_KEYS = {"assignee", "locked_by", "department"}


def _spec(run: Run, code: str) -> TaskSpec:
    try:
        return run.type.task(code)
    except KeyError:
        raise ValidationError(
            {"spec": _("“%(type)s”没有名为“%(s)s”的任务") % {"type": run.type.name, "s": code}}
        ) from None


def _open_run(
    task: Task, actor: Any, *, with_unfinished_siblings: bool = False
) -> tuple[Run, Task]:
    """Lock the case, then the task (always in that order, so two calls cannot deadlock).

    With `with_unfinished_siblings`, the task read also sets `unfinished_siblings`:
    whether another task of its group is neither completed nor cancelled.
    """
    run = Run(Case(pk=task.case_id), actor)
    if not with_unfinished_siblings:
        return run, TASKS.get(task.pk, lock=True)
    found = TASKS.select(
        f"{TASKS.column('id')} = %s",
        [TaskState.COMPLETED, TaskState.CANCELLED, task.pk],
        lock=True,
        extra=[_UNFINISHED_SIBLINGS],
    )
    if not found:
        raise Task.DoesNotExist(f"Task {task.pk} does not exist")
    locked, (unfinished,) = found[0]
    locked.unfinished_siblings = bool(unfinished)  # type: ignore[attr-defined]
    return run, locked


#: Whether another task of the row's group is neither completed nor cancelled.
_UNFINISHED_SIBLINGS = (
    'EXISTS (SELECT 1 FROM cases_task s WHERE s.case_id = "cases_task"."case_id"'
    ' AND s."group" = "cases_task"."group" AND s.id <> "cases_task"."id"'
    " AND s.state NOT IN (%s, %s))"
)


def _require_active(task: Task) -> None:
    if task.state not in ACTIVE_TASK_STATES:
        raise ValidationError(
            {"task": _("任务已是“%(s)s”状态，不能再办理") % {"s": task.get_state_display()}}
        )


def _require_handler(run: Run, task: Task) -> None:
    """Only a member of the task's department acts on it, and only the lock holder if locked."""
    if task.locked_by_id is not None and task.locked_by_id != getattr(run.actor, "pk", None):
        raise refuse(
            _("任务正由%(who)s办理（已锁定），请联系其本人或由监察人员解锁")
            % {"who": actor_label(task.locked_by)}
        )
    if not run.member_of(task.department_id):
        raise refuse(_("您不是该任务承办部门的人员"))


def _finish(run: Run, task: Task, original: Task, *, saved: bool = False) -> Task:
    if not saved:
        TASKS.update(task, _TASK_FIELDS)
    run.finish()
    for name in _TASK_FIELDS:
        attname = f"{name}_id" if name in _FOREIGN_KEYS else name
        setattr(original, attname, getattr(task, attname))
    return task


def task_create(
    *,
    case: Case,
    spec: str,
    departments: Sequence[Department | int],
    actor: Any,
    assignee: Any = None,
    limit: int | None = None,
) -> list[Task]:
    """Create one task of `spec` per department, as one group (they join by the spec's rule).

    The actor must belong to the case's lead department (dispatch) or be an administrator.
    `limit` overrides the task clock's declared limit. Each department becomes involved.
    """
    with unit_of_work():
        run = Run(case, actor)
        task_spec = _spec(run, spec)
        if run.case.closed_at is not None:
            raise ValidationError({"case": _("办件已办结，不能再下达任务")})
        if not run.member_of(run.case.department_id):
            raise refuse(_("只有牵头部门人员可以下达任务"))
        if limit is not None:
            check_limit(limit, "limit")
        tasks = create_tasks(
            run,
            task_spec,
            [d.pk if isinstance(d, Department) else int(d) for d in departments],
            assignee=assignee,
            limit=limit,
        )
        run.finish()
    return tasks


def task_claim(*, task: Task, actor: Any) -> Task:
    """Take the assignment lock: the actor becomes the one handler until release or completion."""
    with unit_of_work():
        run, locked = _open_run(task, actor)
        _require_active(locked)
        if locked.locked_by_id == actor.pk:
            return locked
        _require_handler(run, locked)
        if locked.assignee_id is not None and locked.assignee_id != actor.pk:
            raise refuse(_("任务已指派给%(who)s") % {"who": actor_label(locked.assignee)})
        locked.state = TaskState.CLAIMED
        locked.assignee = actor
        locked.locked_by = actor
        locked.locked_at = run.now
        run.event(EventKind.TASK_CLAIMED, task=locked)
        return _finish(run, locked, task)


def task_release(*, task: Task, actor: Any) -> Task:
    """Give the lock back (by its holder); the task returns to the department's queue."""
    with unit_of_work():
        run, locked = _open_run(task, actor)
        _require_active(locked)
        if locked.locked_by_id != actor.pk:
            raise refuse(_("只有锁定任务的本人可以释放任务"))
        locked.state, locked.assignee, locked.locked_by, locked.locked_at = (
            TaskState.OPEN,
            None,
            None,
            None,
        )
        run.event(EventKind.TASK_RELEASED, task=locked)
        return _finish(run, locked, task)


def task_break_lock(*, task: Task, actor: Any, reason: str) -> Task:
    """A supervisor (or the department's head) frees a task locked by someone absent."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("解除锁定须说明理由")})
    with unit_of_work():
        run, locked = _open_run(task, actor)
        _require_active(locked)
        if locked.locked_by_id is None:
            raise ValidationError({"task": _("任务未被锁定")})
        if not (is_supervisor(actor) or run.member_of(locked.department_id, [MembershipRole.HEAD])):
            raise refuse(_("只有监察人员或承办部门负责人可以解除任务锁定"))
        holder = locked.locked_by_id
        locked.state, locked.assignee, locked.locked_by, locked.locked_at = (
            TaskState.OPEN,
            None,
            None,
            None,
        )
        run.event(
            EventKind.TASK_RELEASED, task=locked, reason=reason, data={"broken_lock_of": holder}
        )
        return _finish(run, locked, task)


def task_complete(*, task: Task, actor: Any, opinion: str = "", outcome: str | None = None) -> Task:
    """Complete a task with an opinion and an outcome, then join its group.

    Joining: with ALL, when every task of the group not cancelled is completed; with ANY,
    at once (the group's other active tasks are cancelled). On joining, the spec's
    `on_join` transition fires as this actor. If the case is not in a state that
    transition leaves from (e.g. correction is outstanding), the completion that would
    join is refused with a message saying so, and nothing changes.
    """
    with unit_of_work():
        # The locking read also tells whether a sibling is unfinished: one statement
        # instead of two. Siblings change only under the case lock, taken first.
        run, locked = _open_run(task, actor, with_unfinished_siblings=True)
        _require_active(locked)
        _require_handler(run, locked)
        spec = _spec(run, locked.spec)
        outcome = outcome or spec.outcomes[0]
        if outcome not in spec.outcomes:
            raise ValidationError(
                {
                    "outcome": _("办理结果“%(o)s”无效，可选：%(all)s")
                    % {"o": outcome, "all": ", ".join(spec.outcomes)}
                }
            )
        opinion = (opinion or "").strip()
        if not opinion and spec.kind != TaskKind.SIGN:
            raise ValidationError({"opinion": _("办理意见不能为空")})
        end_task(run, locked, TaskState.COMPLETED)
        locked.outcome, locked.opinion = outcome, opinion
        if locked.assignee_id is None:
            locked.assignee = actor
        run.event(EventKind.TASK_COMPLETED, task=locked, data={"outcome": outcome})
        # Set by _open_run's annotation (the model has no such field, hence vars()).
        joins = spec.join == JoinRule.ANY or not vars(locked)["unfinished_siblings"]
        if joins and spec.on_join:
            transition = run.type.transition(spec.on_join)
            if run.case.state not in transition.source:
                raise ValidationError(
                    {
                        "task": _("办件当前为“%(s)s”，待其回到可“%(t)s”的状态后再办结此任务")
                        % {"s": run.type.state(run.case.state).label, "t": transition.label}
                    }
                )
        TASKS.update(locked, _TASK_FIELDS)
        if joins:
            if spec.join == JoinRule.ANY:
                cancel_active_tasks(run, exclude=locked, group=locked.group)
            if spec.on_join:
                fire_transition(run, run.type.transition(spec.on_join), {"opinion": opinion}, "")
        return _finish(run, locked, task, saved=True)


def task_return(*, task: Task, actor: Any, reason_code: str, reason: str = "") -> Task:
    """Hand a task back (退单) with a reason code; the lead department reviews and reassigns.

    The task's clocks stop. The spec's `on_return` transition fires if the case is in
    one of its source states.
    """
    if reason_code not in ReturnReason.values:
        raise ValidationError({"reason_code": _("退回原因“%(c)s”无效") % {"c": reason_code}})
    reason = (reason or "").strip()
    if reason_code == ReturnReason.OTHER and not reason:
        raise ValidationError({"reason": _("退回原因为“其他”时须写明理由")})
    with unit_of_work():
        run, locked = _open_run(task, actor)
        _require_active(locked)
        _require_handler(run, locked)
        spec = _spec(run, locked.spec)
        end_task(run, locked, TaskState.RETURNED)
        locked.return_reason = reason_code
        run.event(
            EventKind.TASK_RETURNED, task=locked, reason=reason, data={"reason_code": reason_code}
        )
        TASKS.update(locked, _TASK_FIELDS)
        if spec.on_return:
            transition = run.type.transition(spec.on_return)
            if run.case.state in transition.source:
                fire_transition(run, transition, {"reason_code": reason_code}, reason)
        return _finish(run, locked, task, saved=True)


def task_reassign(
    *, task: Task, actor: Any, department: Department, assignee: Any = None, reason: str = ""
) -> Task:
    """Give a task (active or returned) to another department or person (改派).

    By the lead department's staff or a supervisor. The task reopens unlocked; its clock
    restarts with the full limit for the new handler. An `assignee` must belong to
    `department`.
    """
    with unit_of_work():
        run, locked = _open_run(task, actor)
        if locked.state not in (*ACTIVE_TASK_STATES, TaskState.RETURNED):
            raise ValidationError({"task": _("已完成或已取消的任务不能改派")})
        if not (run.member_of(run.case.department_id) or is_supervisor(actor)):
            raise refuse(_("只有牵头部门人员或监察人员可以改派任务"))
        if not department.is_active:
            raise ValidationError({"department": _("部门“%(d)s”已停用") % {"d": department}})
        if (
            assignee is not None
            and not Membership.objects.filter(
                user=assignee, department=department, is_active=True
            ).exists()
        ):
            raise ValidationError(
                {
                    "assignee": _("%(who)s不是“%(d)s”的人员")
                    % {"who": actor_label(assignee), "d": department}
                }
            )
        previous = (locked.department_id, locked.assignee_id)
        add_departments(run, [department.pk])
        locked.department = department
        locked.assignee = assignee
        locked.state, locked.locked_by, locked.locked_at = TaskState.OPEN, None, None
        locked.return_reason, locked.completed_at = "", None
        for clock in task_clocks(run, locked):
            clock_stop(run, clock)
            clock_start(run, clock)
        run.event(
            EventKind.TASK_REASSIGNED,
            task=locked,
            reason=reason,
            data={
                "from_department": previous[0],
                "from_assignee": previous[1],
                "department": department.pk,
                "assignee": getattr(assignee, "pk", None),
            },
        )
        return _finish(run, locked, task)
