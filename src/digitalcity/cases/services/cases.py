"""Opening cases and moving them between states."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.core.models import Department, Division
from digitalcity.core.numbering import next_number
from digitalcity.identity.models import AccountKind

from .. import hooks
from ..choices import (
    CaseChannel,
    CaseDepartmentRole,
    CasePriority,
    ClockState,
    ClockUnit,
    EventKind,
)
from ..declare import CaseType, Transition, get_type
from ..models import Case, CaseDepartment
from ._engine import (
    CASE_DEPARTMENTS,
    CASES,
    Run,
    cancel_active_tasks,
    check_limit,
    clock_pause,
    clock_resume,
    clock_start,
    clock_stop,
    create_tasks,
    new_clock,
    paused_in,
    refuse,
    signed_in,
    unit_of_work,
)

__all__ = ["case_open", "case_transition", "fire_transition"]


def _department_ids(value: Sequence[Department | int]) -> list[int]:
    return [d.pk if isinstance(d, Department) else int(d) for d in value]


def case_open(
    *,
    type_code: str,
    subject: str,
    actor: Any,
    department: Department,
    channel: str = CaseChannel.ONLINE,
    applicant: Any = None,
    applicant_name: str = "",
    applicant_phone: str = "",
    division: Division | None = None,
    co_departments: Sequence[Department | int] = (),
    priority: int = CasePriority.NORMAL,
    is_confidential: bool = False,
    clock_limits: Mapping[str, int] | None = None,
    clock_units: Mapping[str, str] | None = None,
    data: Mapping[str, Any] | None = None,
    savepoint: bool = True,
) -> Case:
    """Open a case of `type_code` in its initial state, numbered `<prefix>-<year>-NNNNNN`.

    `department` leads; `co_departments` are involved from the start. `clock_limits`
    overrides declared limits per clock code (an item's promised limit, a hotline
    urgency), `clock_units` their units (a `ClockUnit` per clock code: a 12345 order due in
    2 natural hours or in 7 working days); the clock then counts, pauses and extends in
    that unit, and `prompt_before` / `red_after` are read in it too. `data` is kept on the
    "created" event. A citizen or legal person opens only for themselves; staff open on an
    applicant's behalf (window, phone); with no applicant at all the type must allow
    anonymity. The number is issued inside the transaction, so a failed open leaves no gap.
    `savepoint=False`: called inside a transaction that is the whole unit of work (a
    channel's intake, which writes its own row beside the case), no savepoint is taken;
    an error then fails that transaction — the caller must let it roll back.
    """
    ct = get_type(type_code)
    if signed_in(actor) and actor.kind in (AccountKind.CITIZEN, AccountKind.LEGAL_PERSON):
        if applicant is not None and applicant.pk != actor.pk:
            raise refuse(_("市民或法人只能以本人名义提出申请"))
        applicant = actor
    subject = (subject or "").strip()
    errors: dict[str, str] = {}
    if not subject:
        errors["subject"] = _("事由不能为空")
    elif len(subject) > 200:
        errors["subject"] = _("事由最多 200 个字符，当前 %(n)d 个") % {"n": len(subject)}
    if channel not in CaseChannel.values:
        errors["channel"] = _("渠道“%(v)s”无效") % {"v": channel}
    if priority not in CasePriority.values:
        errors["priority"] = _("紧急程度“%(v)s”无效") % {"v": priority}
    if applicant is None and not applicant_name.strip() and not ct.allow_anonymous:
        errors["applicant"] = _("“%(type)s”不受理匿名申请，须有申请人") % {"type": ct.name}
    if errors:
        raise ValidationError(errors)
    limits = dict(clock_limits or {})
    declared = {spec.code for spec in ct.clocks}
    for code, limit in limits.items():
        if code not in declared:
            raise ValidationError({"clock_limits": _("时限“%(c)s”未在类型中声明") % {"c": code}})
        check_limit(limit, "clock_limits")
    units = dict(clock_units or {})
    for code, unit in units.items():
        if code not in declared:
            raise ValidationError({"clock_units": _("时限“%(c)s”未在类型中声明") % {"c": code}})
        if unit not in ClockUnit.values:
            raise ValidationError(
                {
                    "clock_units": _("计时单位“%(u)s”无效，可选：%(all)s")
                    % {"u": unit, "all": ", ".join(ClockUnit.values)}
                }
            )
    with unit_of_work(savepoint=savepoint):
        now = timezone.now()
        case = Case(
            opened_at=now,
            type_code=ct.code,
            subject=subject,
            applicant=applicant,
            applicant_name=applicant_name.strip(),
            applicant_phone=applicant_phone.strip(),
            channel=channel,
            division=division,
            department=department,
            state=ct.initial.code,
            priority=priority,
            is_confidential=is_confidential,
        )
        run = Run(case, actor, lock=False)
        run._clocks = []
        co = [d for d in dict.fromkeys(_department_ids(co_departments)) if d != department.pk]
        if co and Department.objects.filter(pk__in=co, is_active=True).count() != len(co):
            raise ValidationError({"co_departments": _("协办部门不存在或已停用")})
        involved = [
            CaseDepartment(
                case=case, department=department, role=CaseDepartmentRole.LEAD, added_at=run.now
            ),
            *(CaseDepartment(case=case, department_id=d, added_at=run.now) for d in co),
        ]
        run._involved = {department.pk, *co}
        run.event(
            EventKind.CREATED,
            to_state=case.state,
            public=True,
            data={"channel": channel, **dict(data or {})},
        )
        for spec in ct.clocks:
            clock = new_clock(
                run, spec, task=None, limit=limits.get(spec.code), unit=units.get(spec.code)
            )
            if spec.code in ct.starts_on_open:
                clock_start(run, clock)
        # Numbered last: the counter row stays locked until COMMIT (that keeps numbers
        # gap-free), so other openings with this prefix wait only for the inserts below and
        # the commit, not for the checks, calendar reads and clock arithmetic above. The
        # rows built above take the case's key when they are inserted.
        case.number = next_number(
            ct.prefix, year=timezone.localdate(now).year, gap_free=ct.gap_free_numbers
        )
        CASES.insert([case])
        CASE_DEPARTMENTS.insert(involved)
        run.finish()
    return case


def _missing_input(transition: Transition, data: Mapping[str, Any]) -> dict[str, str]:
    missing: dict[str, str] = {}
    for name in transition.requires:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()) or value == []:
            missing[name] = _("“%(t)s”须填写 %(f)s") % {"t": transition.label, "f": name}
    return missing


def fire_transition(
    run: Run,
    transition: Transition,
    data: Mapping[str, Any],
    reason: str,
    *,
    clock_start_at: datetime | None = None,
) -> None:
    """Move `run.case` along `transition` (no permission check: callers do it).

    Steps: 1. the case must be in a source state; 2. required input; 3. hook checks;
    4. state change and its event (first on the timeline, its consequences follow);
    5. reopening (from a final state); 6. clocks stop, then start; 7. closing (final
    target: active tasks cancelled, every clock stopped); 8. clocks pause or resume for
    the new state; 9. tasks the transition creates (one per `input["departments"]`, else
    per involved department; `input["task_limit"]` overrides their clock's limit).
    """
    case, ct = run.case, run.type
    if case.state not in transition.source:
        raise ValidationError(
            {
                "transition": _("办件当前状态为“%(s)s”，不能“%(t)s”")
                % {"s": ct.state(case.state).label, "t": transition.label}
            }
        )
    missing = _missing_input(transition, data)
    if missing:
        raise ValidationError(missing)
    task_limit = data.get("task_limit")
    if task_limit is not None:
        check_limit(task_limit, "task_limit")
    hooks.run_checks(case=case, transition=transition, actor=run.actor, input=dict(data))
    from_state, case.state = case.state, transition.target
    target = ct.state(transition.target)
    reopening = ct.state(from_state).final and not target.final
    run.event(
        EventKind.TRANSITION,
        transition=transition.code,
        from_state=from_state,
        to_state=target.code,
        reason=reason,
        public=transition.public,
        data={k: v for k, v in data.items() if _jsonable(v) and k != "departments"},
    )
    fields = ["state", "updated_at"]
    if reopening:
        case.closed_at = None
        case.round += 1
        fields += ["closed_at", "round"]
        run.event(EventKind.REOPENED, from_state=from_state, to_state=target.code, public=True)
    clocks = run.clocks()
    case_clocks = {c.code: c for c in clocks if c.task_id is None}
    for code in transition.stops:
        clock_stop(run, case_clocks[code])
    for code in transition.starts:
        clock_start(run, case_clocks[code], at=clock_start_at)
    if target.final:
        cancel_active_tasks(run)
        for clock in clocks:
            clock_stop(run, clock)
        case.closed_at = run.now
        fields.append("closed_at")
    for clock in clocks:
        if clock.state == ClockState.RUNNING and paused_in(ct, target.code, clock.code):
            clock_pause(run, clock)
        elif clock.state == ClockState.PAUSED and not paused_in(ct, target.code, clock.code):
            clock_resume(run, clock)
    CASES.update(case, fields)
    for code in transition.creates:
        departments = data.get("departments") or sorted(run.involved())
        create_tasks(
            run,
            ct.task(code),
            [int(getattr(d, "pk", d)) for d in departments],
            limit=task_limit,
        )


def _jsonable(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return all(_jsonable(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    return isinstance(value, str | int | float | bool | type(None))


def _transition(ct: CaseType, code: str) -> Transition:
    try:
        return ct.transition(code)
    except KeyError:
        raise ValidationError(
            {"transition": _("“%(type)s”没有名为“%(t)s”的流转") % {"type": ct.name, "t": code}}
        ) from None


def case_transition(
    *,
    case: Case,
    transition: str,
    actor: Any,
    input: Mapping[str, Any] | None = None,
    reason: str = "",
    as_system: bool = False,
    clock_start_at: datetime | None = None,
) -> Case:
    """Take `transition` on `case` as `actor` and return the updated case.

    Refuses with PermissionDenied when the actor lacks the transition's role in the
    departments involved (or is not the applicant for an "applicant" transition, or the
    transition is the engine's own), and with ValidationError when the case is not in a
    source state, required input is missing, or a hook check fails. Nothing changes on
    refusal. Listeners see the events after commit.

    `as_system=True` is for a service app's own jobs (a statutory deemed acceptance fired
    by a periodic job): it takes a transition declared `system=True`, and only such a one,
    with `actor` usually None (the timeline reads "系统"). Never pass it on a user's request.

    `clock_start_at` starts the case clocks this transition starts as of that earlier
    moment, between the case's opening and now (a limit the law counts from receipt, when
    acceptance is deemed later); tasks' clocks start now.
    """
    data = dict(input or {})
    with unit_of_work():
        run = Run(case, actor)
        if clock_start_at is not None:
            _check_start(run, clock_start_at)
        spec = _transition(run.type, transition)
        if as_system:
            if not spec.system:
                raise refuse(_("“%(t)s”不是系统流转，不能以系统身份执行") % {"t": spec.label})
        elif not run.may_take(spec):
            raise refuse(_("您无权对此办件执行“%(t)s”") % {"t": spec.label})
        fire_transition(run, spec, data, reason, clock_start_at=clock_start_at)
        run.finish()
    _copy_back(run.case, case)
    return run.case


def _check_start(run: Run, moment: datetime) -> None:
    if timezone.is_naive(moment) or not run.case.opened_at <= moment <= run.now:
        raise ValidationError(
            {"clock_start_at": _("计时起点须在办件受理时间与当前时间之间（含时区）")}
        )


def _copy_back(source: Case, target: Case) -> None:
    if source is not target:
        for name in ("state", "closed_at", "round", "updated_at"):
            setattr(target, name, getattr(source, name))
