"""Pages of the case engine: the staff queue and case page, the supervision desk, and the
citizen's tracking and rating pages.

Thin views (STYLE.md 5): parse a form, fetch the case through `cases.queries` (a case
outside the user's scope is a 404), call one service, redirect or render. A service's
PermissionDenied becomes the 403 page; its ValidationError is shown next to the field.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from digitalcity.core.models import Department, Division
from digitalcity.identity.masking import mask_phone
from digitalcity.identity.models import User
from digitalcity.identity.permissions import departments_of, is_supervisor

from . import page_queries, queries, services
from .choices import ClockState, EventKind, RatingValue, SignalKind, UrgeState
from .declare import ALL_CLOCKS, CaseType, get_type
from .forms import (
    BreakLockForm,
    ExtendForm,
    QueueFilterForm,
    RatingForm,
    ReassignForm,
    ReturnForm,
    SupervisionFilterForm,
    TaskCompleteForm,
    TransitionForm,
    UrgeAnswerForm,
    UrgeForm,
    add_service_errors,
)
from .models import Case, Event, Rating, UrgeOrder

QUEUE_PAGE_SIZE = 20
MY_CASES_PAGE_SIZE = 10
DESK_LIST_SIZE = 50


# --- Who may open which page ---------------------------------------------------------


def _staff(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_staff_member:
        raise PermissionDenied(_("工作台仅对政府工作人员开放。"))
    return user


def _supervisor(request: HttpRequest) -> User:
    user = _staff(request)
    if not is_supervisor(user):
        raise PermissionDenied(_("督办台仅对监察督办人员和系统管理员开放。"))
    return user


def _signed_in(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required ran first
    return user


def case_for(user: User, ref: str) -> Case:
    """The case named by its number or primary key, if `user` may see it; else Http404."""
    if ref.isdigit():
        return queries.get_case_for_user(user, int(ref))
    pk = queries.cases_for_user(user).filter(number=ref).values_list("pk", flat=True).first()
    return queries.get_case_for_user(user, pk)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- The queue -------------------------------------------------------------------------


def _queue_context(user: User, tasks: Iterable[Any]) -> list[dict[str, Any]]:
    now = timezone.now()
    return [
        {
            "task": task,
            "case": task.case,
            "type_name": page_queries.type_label(task.case.type_code),
            "state_name": page_queries.state_label(task.case.type_code, task.case.state),
            "task_name": page_queries.task_label(task.case.type_code, task.spec),
            "badge": queries.badge(task.due_at, task.signal_stage, now),
        }
        for task in tasks
    ]


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """我的待办: tasks for the user and their departments, due soonest first."""
    user = _staff(request)
    form = QueueFilterForm(request.GET or None, departments=departments_of(user).order_by("code"))
    tasks = queries.my_queue(user)
    if form.is_bound and form.is_valid():
        if form.cleaned_data["type"]:
            tasks = tasks.filter(case__type_code=form.cleaned_data["type"])
        if form.cleaned_data["state"]:
            tasks = tasks.filter(case__state=form.cleaned_data["state"])
        if form.cleaned_data["department"]:
            tasks = tasks.filter(department=form.cleaned_data["department"])
    page = Paginator(tasks, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": _queue_context(user, page.object_list),
        "query": query.urlencode(),
    }
    template = "cases/includes/queue_table.html" if _is_htmx(request) else "cases/queue.html"
    return render(request, template, context)


def queue_panel_context(user: User, size: int = 8) -> dict[str, Any]:
    """The workbench home's 我的待办 panel: the first `size` rows and the total."""
    tasks = queries.my_queue(user)
    rows = list(tasks[:size])
    return {
        "rows": _queue_context(user, rows),
        "more": len(rows) == size and tasks.count() > size,
    }


# --- The case page -----------------------------------------------------------------------


def _involved(case: Case) -> QuerySet[Department]:
    return Department.objects.filter(pk__in=case.involved.values("department_id")).order_by("code")


def _render_case(
    request: HttpRequest,
    case: Case,
    *,
    bound: dict[str, Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The case page; `bound` holds forms that failed, keyed as the template names them
    ("transition:<code>", "<action>:<task id>", "urge", "extend:<clock id>", "answer:<id>")."""
    user = _signed_in(request)
    bound = bound or {}
    detail = queries.case_detail(case)
    perms = page_queries.case_permissions(user, case, detail.tasks, detail.urges, detail.ratings)
    involved = _involved(case)
    transitions = [
        {
            "transition": t,
            "form": bound.get(f"transition:{t.code}")
            or TransitionForm(transition=t, departments=involved),
        }
        for t in queries.available_transitions(user, case)
    ]
    tasks = []
    for actions in perms.tasks:
        pk = actions.task.pk
        tasks.append(
            {
                "actions": actions,
                "complete": bound.get(f"complete:{pk}")
                or TaskCompleteForm(outcomes=actions.outcomes, prefix=f"complete-{pk}"),
                "give_back": bound.get(f"return:{pk}") or ReturnForm(prefix=f"return-{pk}"),
                "reassign": bound.get(f"reassign:{pk}") or ReassignForm(prefix=f"reassign-{pk}"),
                "break_lock": bound.get(f"break_lock:{pk}") or BreakLockForm(prefix=f"unlock-{pk}"),
            }
        )
    startable = _startable_clocks(detail.type, case.state)
    clocks = [
        {
            "view": view,
            "form": bound.get(f"extend:{view.clock.pk}")
            or ExtendForm(prefix=f"extend-{view.clock.pk}"),
        }
        # The case's own clocks first, then each task's.
        for view in sorted(detail.clocks, key=lambda v: (v.clock.task_id is not None, v.clock.pk))
        # A case clock that has not started and that no step still ahead can start never
        # applies to this case (an approval accepted without a county preliminary review
        # has no 初审时限; a refused one no 送达时限): "未开始" would only mislead.
        if view.clock.task_id is not None
        or view.clock.state != ClockState.PENDING
        or view.clock.code in startable
    ]
    urges = [
        {
            "urge": urge,
            "can_answer": urge.pk in perms.answerable_urges,
            "form": bound.get(f"answer:{urge.pk}") or UrgeAnswerForm(prefix=f"answer-{urge.pk}"),
        }
        for urge in detail.urges
    ]
    context = {
        "case": case,
        "detail": detail,
        "perms": perms,
        "involved": involved,
        "transitions": transitions,
        "tasks": tasks,
        "clocks": clocks,
        "urges": urges,
        "urge_form": bound.get("urge") or UrgeForm(departments=involved),
        "timeline": _timeline(detail.timeline, case),
    }
    return render(request, "cases/case.html", context, status=status)


def _startable_clocks(ct: CaseType, state: str) -> set[str]:
    """Codes of the case clocks that a transition reachable from `state` starts."""
    seen, todo = {state}, [state]
    codes: set[str] = set()
    while todo:
        for transition in ct.transitions_from(todo.pop()):
            codes.update(transition.starts)
            if transition.target not in seen:
                seen.add(transition.target)
                todo.append(transition.target)
    if ALL_CLOCKS in codes:
        codes.update(c.code for c in ct.clocks)
    return codes


def _timeline(events: list[Event], case: Case) -> list[dict[str, Any]]:
    """Timeline rows; the applicant's own steps are labelled 申请人, never by name (DESIGN.md:
    personal data is masked on screen)."""
    type_code = case.type_code
    rows = []
    for event in events:
        title = event.get_kind_display()
        if event.transition:
            title = page_queries.transition_label(type_code, event.transition)
        elif event.kind == EventKind.SIGNAL and event.data.get("signal") in SignalKind.values:
            title = f"{title}·{SignalKind(event.data['signal']).label}"
        elif event.kind == EventKind.RATING and event.data.get("value") in RatingValue.values:
            title = f"{title}·{RatingValue(event.data['value']).label}"
        rows.append(
            {
                "event": event,
                "title": title,
                "to_state": page_queries.state_label(type_code, event.to_state)
                if event.to_state
                else "",
                "opinion": event.data.get("opinion", "") if isinstance(event.data, dict) else "",
                "actor": _("申请人")
                if event.actor_id is not None and event.actor_id == case.applicant_id
                else event.actor_label or _("系统"),
            }
        )
    return rows


@login_required
@require_GET
def case_page(request: HttpRequest, ref: str) -> HttpResponse:
    user = _staff(request)
    return _render_case(request, case_for(user, ref))


def _after(request: HttpRequest, case: Case, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("cases:case", ref=case.number)


def _act(
    request: HttpRequest,
    case: Case,
    form: Form,
    key: str,
    call: Callable[[], Any],
    done: str,
) -> HttpResponse:
    """Validate `form`, run the service `call`, redirect with `done`; on a validation error
    re-render the case page with the form and the service's messages."""
    if form.is_valid():
        try:
            call()
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _after(request, case, done)
    return _render_case(request, case, bound={key: form}, status=400)


@login_required
@require_POST
def transition(request: HttpRequest, ref: str, code: str) -> HttpResponse:
    user = _staff(request)
    case = case_for(user, ref)
    try:
        spec = get_type(case.type_code).transition(code)
    except KeyError:
        raise Http404(_("没有这个流转")) from None
    form = TransitionForm(request.POST, transition=spec, departments=_involved(case))

    def call() -> None:
        services.case_transition(
            case=case,
            transition=code,
            actor=user,
            input=form.service_input(),
            reason=form.cleaned_data.get("reason", ""),
        )

    return _act(request, case, form, f"transition:{code}", call, _("已“%(t)s”") % {"t": spec.label})


TASK_ACTIONS = ("claim", "release", "complete", "return", "reassign", "break_lock")


@login_required
@require_POST
def task_action(request: HttpRequest, ref: str, task_id: int, action: str) -> HttpResponse:
    user = _staff(request)
    case = case_for(user, ref)
    task = case.tasks.filter(pk=task_id).first()
    if task is None or action not in TASK_ACTIONS:
        raise Http404(_("任务不存在"))
    if action == "claim":
        services.task_claim(task=task, actor=user)
        return _after(request, case, _("已签收任务，任务由您锁定办理"))
    if action == "release":
        services.task_release(task=task, actor=user)
        return _after(request, case, _("已释放任务，任务回到部门待办"))
    if action == "complete":
        outcomes = page_queries.case_permissions(user, case, [task], []).tasks[0].outcomes
        complete = TaskCompleteForm(request.POST, outcomes=outcomes, prefix=f"complete-{task.pk}")
        return _act(
            request,
            case,
            complete,
            f"complete:{task.pk}",
            lambda: services.task_complete(
                task=task,
                actor=user,
                opinion=complete.cleaned_data["opinion"],
                outcome=complete.cleaned_data["outcome"] or None,
            ),
            _("任务已办结"),
        )
    if action == "return":
        give_back = ReturnForm(request.POST, prefix=f"return-{task.pk}")
        return _act(
            request,
            case,
            give_back,
            f"return:{task.pk}",
            lambda: services.task_return(
                task=task,
                actor=user,
                reason_code=give_back.cleaned_data["reason_code"],
                reason=give_back.cleaned_data["reason"],
            ),
            _("任务已退回"),
        )
    if action == "reassign":
        reassign = ReassignForm(request.POST, prefix=f"reassign-{task.pk}")
        return _act(
            request,
            case,
            reassign,
            f"reassign:{task.pk}",
            lambda: services.task_reassign(
                task=task,
                actor=user,
                department=reassign.cleaned_data["department"],
                reason=reassign.cleaned_data["reason"],
            ),
            _("任务已改派"),
        )
    unlock = BreakLockForm(request.POST, prefix=f"unlock-{task.pk}")
    return _act(
        request,
        case,
        unlock,
        f"break_lock:{task.pk}",
        lambda: services.task_break_lock(
            task=task, actor=user, reason=unlock.cleaned_data["reason"]
        ),
        _("已解除任务锁定"),
    )


@login_required
@require_POST
def extend_clock(request: HttpRequest, ref: str, clock_id: int) -> HttpResponse:
    user = _staff(request)
    case = case_for(user, ref)
    clock = case.clocks.filter(pk=clock_id).first()
    if clock is None:
        raise Http404(_("时限不存在"))
    form = ExtendForm(request.POST, prefix=f"extend-{clock.pk}")
    return _act(
        request,
        case,
        form,
        f"extend:{clock.pk}",
        lambda: services.clock_extend(
            clock=clock,
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            approved_by=user,
        ),
        _("已延期，申请人将收到通知"),
    )


@login_required
@require_POST
def urge_issue(request: HttpRequest, ref: str) -> HttpResponse:
    user = _supervisor(request)
    case = case_for(user, ref)
    form = UrgeForm(request.POST, departments=_involved(case))
    return _act(
        request,
        case,
        form,
        "urge",
        lambda: services.urge_issue(
            case=case,
            actor=user,
            note=form.cleaned_data["note"],
            department=form.cleaned_data["department"],
            days=form.cleaned_data["days"],
        ),
        _("已督办，被督办部门将收到通知"),
    )


@login_required
@require_POST
def urge_answer(request: HttpRequest, ref: str, urge_id: int) -> HttpResponse:
    user = _staff(request)
    case = case_for(user, ref)
    urge = case.urges.filter(pk=urge_id).first()
    if urge is None:
        raise Http404(_("督办单不存在"))
    form = UrgeAnswerForm(request.POST, prefix=f"answer-{urge.pk}")
    return _act(
        request,
        case,
        form,
        f"answer:{urge.pk}",
        lambda: services.urge_answer(urge=urge, actor=user, answer=form.cleaned_data["answer"]),
        _("督办已回复"),
    )


@login_required
@require_POST
def send_rating_link(request: HttpRequest, ref: str) -> HttpResponse:
    """Text the applicant a one-time rating link (lead department, closed cases)."""
    user = _staff(request)
    case = case_for(user, ref)
    try:
        link, _token = services.rating_link_issue(case=case, actor=user)
    except ValidationError as error:
        messages.error(request, pgettext("分句", "；").join(error.messages))
    else:
        messages.success(
            request, _("评价短信已发送至 %(phone)s") % {"phone": mask_phone(link.phone)}
        )
    return redirect("cases:case", ref=case.number)


# --- The supervision desk ------------------------------------------------------------------


def _desk_filters(request: HttpRequest) -> tuple[SupervisionFilterForm, dict[str, Any]]:
    divisions = Division.objects.filter(
        pk__in=Case.objects.filter(division__isnull=False).values("division_id")
    ).order_by("code")
    data = request.GET.copy()
    # The inputs show the period the figures cover, also when none was asked for.
    end = timezone.localdate()
    data.setdefault("end", end.isoformat())
    data.setdefault(
        "start", (end - timedelta(days=SupervisionFilterForm.DEFAULT_DAYS - 1)).isoformat()
    )
    form = SupervisionFilterForm(data, divisions=divisions)
    if not form.is_valid():
        # Bad dates: the default period, with the form's Chinese message shown.
        fallback = SupervisionFilterForm({}, divisions=divisions)
        fallback.is_valid()
        return form, fallback.cleaned_data
    return form, form.cleaned_data


def _desk_figures(filters: dict[str, Any]) -> dict[str, Any]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(filters["start"], time.min, tzinfo=tz)
    end = datetime.combine(filters["end"] + timedelta(days=1), time.min, tzinfo=tz)
    type_code = filters.get("type") or None
    division, department = filters.get("division"), filters.get("department")
    by_department, by_division = (
        queries.figures(
            by=by,
            start=start,
            end=end,
            type_code=type_code,
            division=division,
            department=department,
        )
        for by in ("department", "division")
    )
    return {
        "by_department": by_department,
        "by_division": by_division,
        "department_total": page_queries.figures_total(by_department),
        "division_total": page_queries.figures_total(by_division),
    }


def _scope(filters: dict[str, Any]) -> QuerySet[Case]:
    cases = Case.objects.all()
    if filters.get("type"):
        cases = cases.filter(type_code=filters["type"])
    if filters.get("division"):
        cases = cases.filter(division=filters["division"])
    if filters.get("department"):
        cases = cases.filter(department=filters["department"])
    return cases


@login_required
@require_GET
def supervision(request: HttpRequest) -> HttpResponse:
    """监察督办台 over every case type (supervisors and administrators)."""
    _supervisor(request)
    form, filters = _desk_filters(request)
    list_filters = {
        "type_code": filters.get("type") or None,
        "division": filters.get("division"),
        "department": filters.get("department"),
    }
    scope = _scope(filters)
    now = timezone.now()
    context = {
        "form": form,
        "filters": filters,
        "query": request.GET.urlencode(),
        "near_due": _clock_rows(queries.near_due(**list_filters)[:DESK_LIST_SIZE], now),
        "overdue": _clock_rows(queries.overdue(**list_filters)[:DESK_LIST_SIZE], now),
        "signals": page_queries.recent_signals(scope),
        "urges": list(
            UrgeOrder.objects.filter(case__in=scope, state=UrgeState.OPEN)
            .select_related("case", "department", "issued_by")
            .order_by("due_at", "id")[:DESK_LIST_SIZE]
        ),
        "trend": page_queries.trend(scope, filters["start"], filters["end"]),
        **_desk_figures(filters),
    }
    template = "cases/includes/desk_body.html" if _is_htmx(request) else "cases/supervision.html"
    return render(request, template, context)


def _clock_rows(clocks: Any, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "clock": clock,
            "case": clock.case,
            "type_name": page_queries.type_label(clock.case.type_code),
            "department": clock.task.department if clock.task else clock.case.department,
            "badge": queries.badge(clock.due_at, clock.signal_stage, now),
            "label": page_queries.clock_label(clock.case.type_code, clock.code),
        }
        for clock in clocks
    ]


EXPORT_COLUMNS = (
    ("name", _("名称")),
    ("cases", _("办件数")),
    ("closed", _("办结数")),
    ("on_time_rate", _("按时办结率")),
    ("avg_workdays", _("平均办理时长（工作日）")),
    ("extension_rate", _("延期率")),
    ("return_rate", _("退回率")),
    ("satisfaction", _("满意率")),
)
_RATES = {"on_time_rate", "extension_rate", "return_rate", "satisfaction"}


@login_required
@require_GET
def supervision_export(request: HttpRequest) -> HttpResponse:
    """The desk's figures as an Excel workbook: one sheet per department, one per division."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    _supervisor(request)
    _form, filters = _desk_filters(request)
    data = _desk_figures(filters)
    book = Workbook()
    sheets = (
        (_("按部门"), data["by_department"], data["department_total"]),
        (_("按区划"), data["by_division"], data["division_total"]),
    )
    for index, (title, rows, total) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        assert sheet is not None  # noqa: S101 - a new workbook has an active sheet
        sheet.title = str(title)
        sheet.append([_("统计区间：%(a)s 至 %(b)s") % {"a": filters["start"], "b": filters["end"]}])
        sheet.append([str(label) for _key, label in EXPORT_COLUMNS])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in [*rows, total]:
            sheet.append([getattr(row, key) for key, _label in EXPORT_COLUMNS])
            for (key, _label), cell in zip(EXPORT_COLUMNS, sheet[sheet.max_row], strict=True):
                if key in _RATES:
                    cell.number_format = "0.0%"
        sheet.column_dimensions["A"].width = 28
        for letter in "BCDEFGH":
            sheet.column_dimensions[letter].width = 16
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"supervision-{filters['start']:%Y%m%d}-{filters['end']:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- Citizen tracking and rating ------------------------------------------------------------


def _ratable(case: Case, rated_rounds: set[tuple[int, int]]) -> bool:
    return (
        page_queries.rated_type(case.type_code)
        and case.closed_at is not None
        and (case.pk, case.round) not in rated_rounds
    )


@login_required
@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    """我的办件: the user's own cases, each with its public timeline and, once closed, the
    rating form. `?number=` looks one up by its number."""
    return _render_my_cases(request, {})


def _render_my_cases(request: HttpRequest, bound: dict[int, RatingForm]) -> HttpResponse:
    user = _signed_in(request)
    cases = (
        queries.cases_for_user(user)
        .filter(applicant=user)
        .select_related("department")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=Event.objects.filter(public=True).order_by("at", "id"),
                to_attr="public_events",
            ),
            Prefetch("ratings", queryset=Rating.objects.order_by("round"), to_attr="all_ratings"),
        )
        .order_by("-opened_at", "-id")
    )
    number = request.GET.get("number", "").strip()
    if number:
        cases = cases.filter(number=number)
    page = Paginator(cases, MY_CASES_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    case: Any  # carries the prefetched public_events and all_ratings
    for case in page.object_list:
        rated = {(case.pk, r.round) for r in case.all_ratings}
        rows.append(
            {
                "case": case,
                "type_name": page_queries.type_label(case.type_code),
                "state_name": page_queries.state_label(case.type_code, case.state),
                "timeline": _timeline(case.public_events, case),
                "ratings": case.all_ratings,
                "rating_form": bound.get(case.pk) or RatingForm(prefix=f"rate-{case.pk}")
                if _ratable(case, rated)
                else None,
            }
        )
    status = 400 if bound else 200
    return render(
        request,
        "cases/my_cases.html",
        {"page": page, "rows": rows, "number": number},
        status=status,
    )


@login_required
@require_POST
def rate_case(request: HttpRequest, ref: str) -> HttpResponse:
    user = _signed_in(request)
    case = case_for(user, ref)
    if case.applicant_id != user.pk:
        raise Http404(_("办件不存在或无权访问"))
    form = RatingForm(request.POST, prefix=f"rate-{case.pk}")
    if form.is_valid():
        try:
            services.rating_submit(
                case=case,
                actor=user,
                value=form.cleaned_data["value"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("感谢您的评价！"))
            return redirect(f"{reverse('cases:tracking')}#case-{case.pk}")
    return _render_my_cases(request, {case.pk: form})


def rate_link(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time rating page an SMS links to; no login (the token is the proof)."""
    link = page_queries.rating_link_for_token(token)
    if link is None:
        raise Http404(_("评价链接无效"))
    problem = ""
    if link.used_at is not None:
        problem = _("该评价链接已使用，感谢您的评价。")
    elif link.expires_at <= timezone.now() or link.round != link.case.round:
        problem = _("该评价链接已过期。如需评价，请登录后在“我的办件”中评价，或拨打 12345。")
    form = RatingForm(request.POST or None, prefix="rate")
    if request.method == "POST" and not problem and form.is_valid():
        try:
            services.rating_submit(
                token=token, value=form.cleaned_data["value"], text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return render(request, "cases/rate_link.html", {"link": link, "done": True})
    status = 400 if request.method == "POST" and not problem else 200
    return render(
        request,
        "cases/rate_link.html",
        {
            "link": link,
            "form": form,
            "problem": problem,
            "type_name": page_queries.type_label(link.case.type_code),
        },
        status=status,
    )
