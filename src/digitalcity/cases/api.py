"""Case-engine REST endpoints (django-ninja), mounted under /api/cases/. Thin (STYLE.md 5):
fetch through `queries.get_case_for_user` (an outsider gets 404, also for a task or
clock of a case they cannot see), call one service, answer. Refusals: 403 with the
reason; bad input: 400 with the messages per field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError
from ninja.security import django_auth

from digitalcity.core.models import Department
from digitalcity.identity.masking import mask_name, mask_phone

from . import queries, services
from .models import Case, Clock, Task

router = Router(tags=["cases"], auth=django_auth)

T = TypeVar("T")


class CaseOut(Schema):
    id: int
    number: str
    type_code: str
    subject: str
    state: str
    state_label: str
    channel: str
    department: str
    applicant_name: str
    applicant_phone: str
    priority: int
    opened_at: datetime
    closed_at: datetime | None
    round: int


class TaskOut(Schema):
    id: int
    case_id: int
    case_number: str
    spec: str
    kind: str
    department: str
    assignee: str
    state: str
    locked_by: str
    outcome: str
    opinion: str
    return_reason: str
    due_at: datetime | None = None
    badge: str = ""


class EventOut(Schema):
    at: datetime
    kind: str
    actor: str
    transition: str
    from_state: str
    to_state: str
    reason: str
    public: bool


class ClockOut(Schema):
    id: int
    code: str
    label: str
    task_id: int | None
    unit: str
    state: str
    total: int
    used: Decimal
    paused: Decimal
    remaining: Decimal
    due_at: datetime | None
    estimated: bool
    badge: str


class TransitionOut(Schema):
    code: str
    label: str
    requires: list[str]


class CaseDetailOut(Schema):
    case: CaseOut
    timeline: list[EventOut]
    tasks: list[TaskOut]
    clocks: list[ClockOut]
    transitions: list[TransitionOut]


class TransitionIn(Schema):
    transition: str
    input: dict[str, Any] = {}
    reason: str = ""


class CompleteIn(Schema):
    opinion: str = ""
    outcome: str | None = None


class ReturnIn(Schema):
    reason_code: str
    reason: str = ""


class ReassignIn(Schema):
    department_id: int
    reason: str = ""


class ExtendIn(Schema):
    amount: int
    reason: str


class UrgeIn(Schema):
    note: str
    days: int = 3
    department_id: int | None = None


class RateIn(Schema):
    value: str
    text: str = ""


class LinkRateIn(RateIn):
    token: str


class OkOut(Schema):
    detail: str


def _case_out(case: Case, *, insider: bool) -> CaseOut:
    from .declare import get_type

    ct = get_type(case.type_code)
    return CaseOut(
        id=case.pk,
        number=case.number,
        type_code=case.type_code,
        subject=case.subject,
        state=case.state,
        state_label=str(ct.state(case.state).label),
        channel=case.channel,
        department=case.department.name,
        # Masked for everyone over the API; the reveal-with-reason flow is a page.
        applicant_name=mask_name(case.applicant_name) if insider else "",
        applicant_phone=mask_phone(case.applicant_phone) if insider else "",
        priority=case.priority,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
        round=case.round,
    )


def _task_out(task: Task) -> TaskOut:
    due_at = getattr(task, "due_at", None)
    return TaskOut(
        id=task.pk,
        case_id=task.case_id,
        case_number=task.case.number,
        spec=task.spec,
        kind=task.kind,
        department=task.department.name,
        assignee=str(task.assignee.real_name or task.assignee) if task.assignee else "",
        state=task.state,
        locked_by=str(task.locked_by.real_name or task.locked_by) if task.locked_by else "",
        outcome=task.outcome,
        opinion=task.opinion,
        return_reason=task.return_reason,
        due_at=due_at,
        badge=queries.badge(due_at, getattr(task, "signal_stage", None)),
    )


def _call(func: Callable[[], T]) -> T:
    try:
        return func()
    except PermissionDenied as exc:
        raise HttpError(403, str(exc) or _("无权执行此操作")) from exc
    except ValidationError as exc:
        raise HttpError(400, "；".join(exc.messages)) from exc


def _is_insider(request: HttpRequest, case: Case) -> bool:
    return case.applicant_id != request.user.pk


def _task_for(request: HttpRequest, task_id: int) -> Task:
    task = get_object_or_404(Task.objects.select_related("case"), pk=task_id)
    queries.get_case_for_user(request.user, task.case_id)
    return task


def _clock_for(request: HttpRequest, clock_id: int) -> Clock:
    clock = get_object_or_404(Clock, pk=clock_id)
    queries.get_case_for_user(request.user, clock.case_id)
    return clock


@router.get("/", response=list[CaseOut])
def list_cases(request: HttpRequest, limit: int = 50, offset: int = 0) -> list[CaseOut]:
    """Cases the signed-in user may see, newest first."""
    limit = max(1, min(limit, 200))
    cases = queries.cases_for_user(request.user).select_related("department")
    return [_case_out(c, insider=_is_insider(request, c)) for c in cases[offset : offset + limit]]


@router.get("/queue", response=list[TaskOut])
def queue(request: HttpRequest, limit: int = 100) -> list[TaskOut]:
    """My queue: open tasks for me and my departments, soonest due first."""
    return [_task_out(t) for t in queries.my_queue(request.user)[: max(1, min(limit, 500))]]


@router.get("/{case_id}", response=CaseDetailOut)
def detail(request: HttpRequest, case_id: int) -> CaseDetailOut:
    case = queries.get_case_for_user(request.user, case_id)
    insider = _is_insider(request, case)
    found = queries.case_detail(case, public_only=not insider)
    return CaseDetailOut(
        case=_case_out(case, insider=insider),
        timeline=[
            EventOut(
                at=e.at,
                kind=e.kind,
                actor=e.actor_label,
                transition=e.transition,
                from_state=e.from_state,
                to_state=e.to_state,
                reason=e.reason,
                public=e.public,
            )
            for e in found.timeline
        ],
        tasks=[_task_out(t) for t in found.tasks] if insider else [],
        clocks=[
            ClockOut(
                id=v.clock.pk,
                code=v.clock.code,
                label=v.label,
                task_id=v.clock.task_id,
                unit=v.clock.unit,
                state=v.clock.state,
                total=v.total,
                used=v.used,
                paused=v.paused,
                remaining=v.remaining,
                due_at=v.clock.due_at,
                estimated=v.clock.estimated,
                badge=v.badge,
            )
            for v in found.clocks
        ],
        transitions=[
            TransitionOut(code=t.code, label=str(t.label), requires=list(t.requires))
            for t in queries.available_transitions(request.user, case)
        ],
    )


@router.post("/{case_id}/transitions", response=CaseOut)
def transition(request: HttpRequest, case_id: int, payload: TransitionIn) -> CaseOut:
    case = queries.get_case_for_user(request.user, case_id)
    moved = _call(
        lambda: services.case_transition(
            case=case,
            transition=payload.transition,
            actor=request.user,
            input=payload.input,
            reason=payload.reason,
        )
    )
    return _case_out(moved, insider=_is_insider(request, case))


@router.post("/tasks/{task_id}/claim", response=TaskOut)
def claim(request: HttpRequest, task_id: int) -> TaskOut:
    task = _task_for(request, task_id)
    return _task_out(_call(lambda: services.task_claim(task=task, actor=request.user)))


@router.post("/tasks/{task_id}/release", response=TaskOut)
def release(request: HttpRequest, task_id: int) -> TaskOut:
    task = _task_for(request, task_id)
    return _task_out(_call(lambda: services.task_release(task=task, actor=request.user)))


@router.post("/tasks/{task_id}/complete", response=TaskOut)
def complete(request: HttpRequest, task_id: int, payload: CompleteIn) -> TaskOut:
    task = _task_for(request, task_id)
    done = _call(
        lambda: services.task_complete(
            task=task, actor=request.user, opinion=payload.opinion, outcome=payload.outcome
        )
    )
    return _task_out(done)


@router.post("/tasks/{task_id}/return", response=TaskOut)
def return_task(request: HttpRequest, task_id: int, payload: ReturnIn) -> TaskOut:
    task = _task_for(request, task_id)
    done = _call(
        lambda: services.task_return(
            task=task, actor=request.user, reason_code=payload.reason_code, reason=payload.reason
        )
    )
    return _task_out(done)


@router.post("/tasks/{task_id}/reassign", response=TaskOut)
def reassign(request: HttpRequest, task_id: int, payload: ReassignIn) -> TaskOut:
    task = _task_for(request, task_id)
    department = get_object_or_404(Department, pk=payload.department_id)
    done = _call(
        lambda: services.task_reassign(
            task=task, actor=request.user, department=department, reason=payload.reason
        )
    )
    return _task_out(done)


@router.post("/clocks/{clock_id}/extend", response=OkOut)
def extend(request: HttpRequest, clock_id: int, payload: ExtendIn) -> OkOut:
    clock = _clock_for(request, clock_id)
    _call(
        lambda: services.clock_extend(
            clock=clock, amount=payload.amount, reason=payload.reason, approved_by=request.user
        )
    )
    return OkOut(detail=_("已延期"))


@router.post("/{case_id}/urges", response=OkOut)
def urge(request: HttpRequest, case_id: int, payload: UrgeIn) -> OkOut:
    case = queries.get_case_for_user(request.user, case_id)
    department = (
        get_object_or_404(Department, pk=payload.department_id)
        if payload.department_id is not None
        else None
    )
    _call(
        lambda: services.urge_issue(
            case=case,
            actor=request.user,
            note=payload.note,
            days=payload.days,
            department=department,
        )
    )
    return OkOut(detail=_("已督办"))


@router.post("/{case_id}/rating", response=OkOut)
def rate(request: HttpRequest, case_id: int, payload: RateIn) -> OkOut:
    case = queries.get_case_for_user(request.user, case_id)
    _call(
        lambda: services.rating_submit(
            case=case, actor=request.user, value=payload.value, text=payload.text
        )
    )
    return OkOut(detail=_("感谢您的评价"))


@router.post("/rating-link", response=OkOut, auth=None)
def rate_by_link(request: HttpRequest, payload: LinkRateIn) -> OkOut:
    """Rate through the one-time SMS link: no account needed, the token is the right."""
    try:
        services.rating_submit(token=payload.token, value=payload.value, text=payload.text)
    except (ValidationError, PermissionDenied, Http404) as exc:
        messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        raise HttpError(400, "；".join(messages)) from exc
    return OkOut(detail=_("感谢您的评价"))
