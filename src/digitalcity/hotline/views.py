"""Pages of the 12345 hotline: the citizen's portal page, the agent console, the dispatch
desk, a department's orders, the order page with its actions, figures and the catalogue.

Thin views (STYLE.md 5): parse a form, fetch the order through `queries` (an order
outside the viewer's scope is a 404), call one service, redirect or render.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Prefetch, Q
from django.forms import Form as DjangoForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_GET, require_POST

from digitalcity.cases.choices import (
    ACTIVE_TASK_STATES,
    CaseChannel,
    EventKind,
    RatingValue,
    SignalStage,
)
from digitalcity.cases.models import Clock, Event, Rating, Task
from digitalcity.core.imports import ImportRefused, error_report_xlsx
from digitalcity.core.models import Department
from digitalcity.identity.models import AccountKind, User
from digitalcity.identity.permissions import is_supervisor

from . import figures as figure_module
from . import queries, services
from .choices import CallState, OrderState
from .forms import (
    AnswerForm,
    CallbackForm,
    CatalogueImportForm,
    DecisionForm,
    DispatchForm,
    ExtensionForm,
    IntakeForm,
    MergeForm,
    PortalForm,
    ReplyForm,
    ReturnForm,
    ReviewReturnForm,
    UrgeForm,
    add_service_errors,
)
from .models import Call, CatalogueVersion, ExtensionRequest, WorkOrder
from .services.channels import link_call
from .status import order_status
from .workflow import ORDER_TYPE

LIST_SIZE = 50

logger = logging.getLogger("digitalcity.hotline")


def _staff(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_staff_member:
        raise PermissionDenied(_("工作台仅对政府工作人员开放。"))
    return user


def _center(request: HttpRequest) -> User:
    user = _staff(request)
    if not queries.is_center_staff(user):
        raise PermissionDenied(_("此页面仅对12345中心人员开放。"))
    return user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


_TASK_EVENTS = frozenset(
    {
        EventKind.TASK_CREATED,
        EventKind.TASK_COMPLETED,
        EventKind.TASK_RETURNED,
        EventKind.TASK_REASSIGNED,
        EventKind.TASK_CANCELLED,
        EventKind.TASK_CLAIMED,
        EventKind.TASK_RELEASED,
    }
)


def _detail(event: Event, unit_label: str) -> str:
    """What the bare kind does not say: which task of which department, which rating,
    which card, how much longer."""
    data = event.data or {}
    if event.kind in _TASK_EVENTS and event.task_id is not None and event.task is not None:
        try:
            spec = str(ORDER_TYPE.task(event.task.spec).label)
        except KeyError:
            spec = event.task.spec
        return _("%(task)s（%(department)s）") % {
            "task": spec,
            "department": event.task.department.name,
        }
    if event.kind == EventKind.RATING and data.get("value") in RatingValue.values:
        return str(RatingValue(data["value"]).label)
    if event.kind == EventKind.SIGNAL and data.get("signal") in SignalStage.values:
        return str(SignalStage(data["signal"]).label)
    if event.kind == EventKind.CLOCK_EXTENDED and data.get("amount"):
        return f"{data['amount']} {unit_label}".strip()
    return ""


def _labelled(events: Any, unit_label: str = "") -> list[Event]:
    """Events with `label`: the transition's name, else the kind's, with its detail."""
    out = []
    for event in events:
        label: Any = event.get_kind_display()
        if event.kind == EventKind.CREATED:
            label = _("受理")  # an order is taken (受理), not "created"
        if event.transition:
            try:
                label = ORDER_TYPE.transition(event.transition).label
            except KeyError:
                label = event.transition
        detail = _detail(event, unit_label)
        event.label = (
            _("%(label)s：%(detail)s") % {"label": label, "detail": detail} if detail else label
        )
        out.append(event)
    return out


@dataclass(frozen=True)
class TimelineEntry:
    """A row of the order's timeline that is not an engine event (催办)."""

    at: datetime
    label: str
    actor_label: str
    reason: str
    kind: str = "remind"


def _with_reminders(order: WorkOrder, events: list[Event]) -> list[Any]:
    """The engine's events and the order's 催办 rows, in time order."""
    entries: list[Any] = list(events)
    for reminder in queries.reminders_of(order):
        names = pgettext("列举", "、").join(d.name for d in reminder.departments.all())
        reason = ngettext(
            "被催办：%(d)s；通知 %(n)d 人", "被催办：%(d)s；通知 %(n)d 人", reminder.notified
        ) % {"d": names or "—", "n": reminder.notified}
        if reminder.note:
            reason = _("%(note)s（%(reason)s）") % {"note": reminder.note, "reason": reason}
        by = reminder.by
        entries.append(
            TimelineEntry(
                at=reminder.at,
                label=_("催办"),
                actor_label=by.real_name or by.get_username(),
                reason=reason,
            )
        )
    return sorted(entries, key=lambda e: e.at)


def _classifier(text: str) -> tuple[list[dict[str, Any]], str]:
    """The text classifier's suggestion (hotline/classifier.py) and, when it has none,
    its reason."""
    try:
        from .classifier import suggest
    except ImportError:
        return [], ""
    try:
        found = suggest(text)
    except Exception:  # a broken model must not stop the agent dispatching by hand
        logger.exception("派单模型建议失败")
        return [], ""
    out = []
    for department, confidence, words in list(found)[:3]:
        out.append(
            {
                "department": department,
                "confidence": float(confidence),
                "words": list(words)[:8],
            }
        )
    return out, str(getattr(found, "reason", "") or "")


# --- The citizen's portal page -------------------------------------------------------


def portal_index(request: HttpRequest) -> HttpResponse:
    user = request.user
    citizen = isinstance(user, User) and user.kind in (
        AccountKind.CITIZEN,
        AccountKind.LEGAL_PERSON,
    )
    form = PortalForm()
    mine: list[WorkOrder] = []
    if citizen:
        if request.method == "POST":
            form = PortalForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    order = services.order_intake(
                        channel=CaseChannel.ONLINE,
                        request_type=data["request_type"],
                        category=data["category"],
                        description=data["description"],
                        urgency=data["urgency"],
                        actor=user,
                        caller_phone=data["caller_phone"],
                        address=data["address"],
                        division=data["division"] or None,
                        lat=data["lat"],
                        lon=data["lon"],
                        is_confidential=data["is_confidential"],
                        anonymous=data["anonymous"],
                        idempotency_key=data["idempotency_key"] or None,
                    )
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    messages.success(
                        request, _("诉求已受理，工单号 %(n)s。") % {"n": order.case.number}
                    )
                    return redirect("hotline:portal_order", ref=order.case.number)
        mine = list(
            queries.orders_for_user(user)
            .prefetch_related("case__clocks")
            .order_by("-created_at")[:20]
        )
    elif request.method == "POST":
        raise PermissionDenied(_("请以市民或法人账号登录后提交诉求。"))
    rows = [{"order": o, "status": order_status(o)} for o in mine]
    return render(
        request,
        "hotline/portal_index.html",
        {"form": form, "citizen": citizen, "rows": rows, "key": timezone.now().timestamp()},
    )


@login_required
@require_GET
def portal_order(request: HttpRequest, ref: str) -> HttpResponse:
    user = request.user
    order = queries.get_order_for_user(user, ref)
    if order.caller_id != getattr(user, "pk", None):
        raise Http404(_("工单不存在或无权访问"))
    events = _labelled(
        Event.objects.filter(case_id=order.case_id, public=True)
        .select_related("task__department")
        .order_by("at", "id"),
        order.get_deadline_unit_display(),
    )
    rated = Rating.objects.filter(case_id=order.case_id, round=order.case.round).exists()
    return render(
        request,
        "hotline/portal_order.html",
        {"order": order, "status": order_status(order), "events": events, "rated": rated},
    )


# --- The agent console ------------------------------------------------------------


def _current_call(user: User) -> Call | None:
    since = timezone.now() - timedelta(minutes=30)
    return (
        Call.objects.filter(agent=user, started_at__gte=since, order__isnull=True)
        .exclude(state=CallState.ENDED)
        .order_by("-started_at")
        .first()
    )


def _same_as_call(call: Call | None, phone: str) -> bool:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return call is not None and bool(digits) and digits == call.caller_phone


@login_required
def console(request: HttpRequest) -> HttpResponse:
    user = _center(request)
    call = _current_call(user)
    form = IntakeForm(
        initial={
            "caller_phone": call.caller_phone if call else "",
            "call_id": call.call_id if call else "",
            "idempotency_key": f"console-{user.pk}-{timezone.now().timestamp()}",
        }
    )
    if request.method == "POST":
        form = IntakeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                order = services.order_intake(
                    channel=CaseChannel.PHONE,
                    request_type=data["request_type"],
                    category=data["category"],
                    description=data["description"],
                    urgency=data["urgency"],
                    actor=user,
                    caller_name=data["caller_name"],
                    caller_phone=data["caller_phone"],
                    address=data["address"],
                    division=data["division"] or None,
                    lat=data["lat"],
                    lon=data["lon"],
                    is_confidential=data["is_confidential"],
                    anonymous=data["anonymous"],
                    idempotency_key=data["idempotency_key"] or None,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                if data["call_id"]:
                    found = Call.objects.filter(call_id=data["call_id"]).first()
                    if found is not None:
                        link_call(call=found, order=order)
                messages.success(request, _("工单 %(n)s 已受理。") % {"n": order.case.number})
                return redirect("hotline:order", ref=order.case.number)
    phone = form["caller_phone"].value() or ""
    return render(
        request,
        "hotline/console.html",
        {
            "form": form,
            "call": call,
            "history": queries.caller_history(str(phone)),
            "phone": phone,
            "same_as_call": _same_as_call(call, str(phone)),
        },
    )


@login_required
@require_GET
def console_call(request: HttpRequest) -> HttpResponse:
    """htmx: the agent's ringing call and the caller's past orders (polled)."""
    user = _center(request)
    call = _current_call(user)
    history = queries.caller_history(call.caller_phone) if call else []
    return render(request, "hotline/includes/call_panel.html", {"call": call, "history": history})


@login_required
@require_GET
def console_history(request: HttpRequest) -> HttpResponse:
    """htmx: the past orders of the number typed in the form."""
    user = _center(request)
    phone = request.GET.get("caller_phone", "")
    if _same_as_call(_current_call(user), phone):
        # The ringing call's panel shows this number's orders already.
        return render(request, "hotline/includes/history.html", {"same_as_call": True})
    return render(
        request,
        "hotline/includes/history.html",
        {"history": queries.caller_history(phone), "phone": phone},
    )


# --- The workbench ---------------------------------------------------------------


def _with_clock(orders: Any) -> Any:
    return orders.prefetch_related(
        Prefetch("case__clocks", queryset=Clock.objects.filter(task=None, code="deadline"))
    )


def _row(order: WorkOrder, now: datetime) -> dict[str, Any]:
    """One line of an order table: the order, its status, and whether it is overdue."""
    status = order_status(order)
    return {
        "order": order,
        "status": status,
        "late": status.expected_at is not None and status.expected_at < now,
        "paused": status.state == OrderState.RETURNED,
        # 回访 is due within one working day of 办结 (services.orders.order_reply).
        "callback_late": status.state == OrderState.REPLIED
        and order.callback_due_at is not None
        and order.callback_due_at < now,
    }


@login_required
@require_GET
def workbench(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    now = timezone.now()
    center = queries.is_center_staff(user)
    context: dict[str, Any] = {"center": center, "supervisor": is_supervisor(user)}
    if center:
        lists = queries.center_queues()
        # Overdue call-backs first (the earliest due date is the longest overdue).
        lists["callbacks"] = lists["callbacks"].order_by(
            F("callback_due_at").asc(nulls_last=True), "created_at"
        )
        context["callback_counts"] = lists["callbacks"].aggregate(
            total=Count("pk"), overdue=Count("pk", filter=Q(callback_due_at__lt=now))
        )
        context["lists"] = {
            name: [_row(o, now) for o in _with_clock(qs)[:LIST_SIZE]] for name, qs in lists.items()
        }
        context["extensions"] = list(queries.pending_extensions()[:LIST_SIZE])
    else:
        context["mine"] = [_row(o, now) for o in queries.department_orders(user)[:LIST_SIZE]]
        if context["supervisor"]:
            context["all_open"] = [
                _row(o, now)
                for o in _with_clock(queries.center_queues()["in_progress"])[:LIST_SIZE]
            ]
    return render(request, "hotline/workbench.html", context)


def _order_context(request: HttpRequest, order: WorkOrder, **forms: Any) -> dict[str, Any]:
    user = request.user
    center = queries.is_center_staff(user)
    departments = set(queries._department_ids(user))
    tasks = list(
        Task.objects.filter(case_id=order.case_id).select_related("department").order_by("id")
    )
    mine = [t for t in tasks if t.department_id in departments and t.state in ACTIVE_TASK_STATES]
    state = order.case.state
    suggestion = None
    classifier: list[dict[str, Any]] = []
    classifier_reason = ""
    candidates: list[tuple[WorkOrder, str]] = []
    if center and state in (OrderState.RECEIVED, OrderState.REWORK):
        suggestion = services.suggest_dispatch(order)
        classifier, classifier_reason = _classifier(order.description)
        candidates = queries.merge_candidates(order) if state == OrderState.RECEIVED else []
    initial_dispatch: dict[str, Any] = {}
    if suggestion is not None and suggestion.lead is not None:
        initial_dispatch = {"lead": suggestion.lead, "co_handlers": suggestion.co_handlers}
    events = _with_reminders(
        order,
        _labelled(
            Event.objects.filter(case_id=order.case_id)
            .exclude(kind__in=(EventKind.CLOCK_STARTED, EventKind.CLOCK_STOPPED))
            .select_related("task__department")
            .order_by("at", "id"),
            order.get_deadline_unit_display(),
        ),
    )
    rated = Rating.objects.filter(case_id=order.case_id, round=order.case.round).exists()
    status = order_status(order)
    context = {
        "order": order,
        "status": status,
        "late": status.expected_at is not None and status.expected_at < timezone.now(),
        "center": center,
        "supervisor": is_supervisor(user),
        "tasks": tasks,
        "my_sign": any(t.spec == "sign" for t in mine),
        "my_handle": any(t.spec == "handle" for t in mine),
        "suggestion": suggestion,
        "classifier": classifier,
        "classifier_reason": classifier_reason,
        "candidates": candidates,
        "events": events,
        "rated": rated,
        "phone": queries.display_phone(order, user),
        "name": queries.display_name(order, user),
        "extensions": list(order.extensions.select_related("department", "requested_by")),
        "dispatch_form": forms.get("dispatch") or DispatchForm(initial=initial_dispatch),
        "reply_form": forms.get("reply") or ReplyForm(),
        "answer_form": forms.get("answer") or AnswerForm(),
        "return_form": forms.get("return") or ReturnForm(),
        "review_form": forms.get("review_return") or ReviewReturnForm(),
        "extension_form": forms.get("request_extension") or ExtensionForm(unit=order.deadline_unit),
        "callback_form": forms.get("callback") or CallbackForm(),
        "merge_form": forms.get("merge") or MergeForm(),
        "urge_form": forms.get("urge") or UrgeForm(),
        "decision_form": DecisionForm(),
    }
    return context


@login_required
@require_GET
def order_page(request: HttpRequest, ref: str) -> HttpResponse:
    _staff(request)
    order = queries.get_order_for_user(request.user, ref)
    return render(request, "hotline/order.html", _order_context(request, order))


def _dispatch(request: HttpRequest, order: WorkOrder, user: User) -> Any:
    form = DispatchForm(request.POST)
    if not form.is_valid():
        return form
    services.order_dispatch(
        order=order,
        actor=user,
        lead=form.cleaned_data["lead"],
        co_handlers=list(form.cleaned_data["co_handlers"]),
        note=form.cleaned_data["note"],
    )
    return _("已派单")


def _action(request: HttpRequest, name: str, order: WorkOrder, user: User) -> Any:
    """Run one action; returns a success message, or the invalid form to show again."""
    if name == "dispatch":
        return _dispatch(request, order, user)
    if name == "sign":
        services.order_sign(order=order, actor=user)
        return _("已签收")
    form_classes = {
        "reply": ReplyForm,
        "answer": AnswerForm,
        "return": ReturnForm,
        "review_return": ReviewReturnForm,
        "request_extension": ExtensionForm,
        "callback": CallbackForm,
        "merge": MergeForm,
        "urge": UrgeForm,
    }
    if name == "remind":
        reminder = services.order_remind(order=order, actor=user, note=request.POST.get("note", ""))
        return ngettext("已催办，通知 %(n)d 人", "已催办，通知 %(n)d 人", reminder.notified) % {
            "n": reminder.notified
        }
    if name in ("rating_link", "archive"):
        if name == "rating_link":
            services.order_send_rating_link(order=order, actor=user)
            return _("评价短信已发送")
        services.order_archive(order=order, actor=user)
        return _("已归档")
    if name not in form_classes:
        raise Http404("未知操作")
    form: DjangoForm
    if name == "request_extension":
        form = ExtensionForm(request.POST, unit=order.deadline_unit)
    else:
        form = form_classes[name](request.POST)
    if not form.is_valid():
        return form
    data = form.cleaned_data
    if name == "reply":
        services.order_reply(order=order, actor=user, reply=data["reply"])
        return _("已办结并答复诉求人")
    if name == "answer":
        services.order_answer(
            order=order, actor=user, reply=data["reply"], knowledge_ref=data["knowledge_ref"]
        )
        return _("已直接答复")
    if name == "return":
        services.order_return(
            order=order, actor=user, reason_code=data["reason_code"], reason=data["reason"]
        )
        return _("已退单，等待12345中心审核")
    if name == "review_return":
        services.order_review_return(
            order=order,
            actor=user,
            approve=data["approve"],
            department=data["department"],
            note=data["note"],
        )
        return _("退单已审核")
    if name == "request_extension":
        services.order_request_extension(
            order=order, actor=user, amount=data["amount"], reason=data["reason"]
        )
        return _("延期申请已提交")
    if name == "callback":
        services.order_callback(
            order=order, actor=user, solved=data["solved"], value=data["value"], note=data["note"]
        )
        return _("回访已记录")
    if name == "merge":
        into = queries.get_order_for_user(user, data["into"].strip())
        services.order_merge(order=order, into=into, actor=user)
        return _("已并单")
    services.order_urge(order=order, actor=user, note=data["note"])
    return _("已督办")


@login_required
@require_POST
def order_action(request: HttpRequest, ref: str, action: str) -> HttpResponse:
    user = _staff(request)
    order = queries.get_order_for_user(user, ref)
    try:
        result = _action(request, action, order, user)
    except ValidationError as error:
        messages.error(request, pgettext("分句", "；").join(error.messages))
        return redirect("hotline:order", ref=order.case.number)
    if isinstance(result, str):
        messages.success(request, result)
        return redirect("hotline:order", ref=order.case.number)
    context = _order_context(request, order, **{action: result})
    return render(request, "hotline/order.html", context, status=400)


@login_required
@require_POST
def extension_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = _center(request)
    request_row = ExtensionRequest.objects.filter(pk=pk).select_related("order__case").first()
    if request_row is None:
        raise Http404("延期申请不存在")
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.order_decide_extension(
                request=request_row,
                actor=user,
                approve=form.cleaned_data["approve"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            messages.error(request, pgettext("分句", "；").join(error.messages))
        else:
            messages.success(request, _("延期申请已审核"))
    return redirect("hotline:order", ref=request_row.order.case.number)


# --- Figures ------------------------------------------------------------------------


def _period(request: HttpRequest) -> tuple[datetime, datetime, str, str]:
    today = timezone.localdate()
    default_start = today - timedelta(days=29)
    try:
        start_day = date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        start_day = default_start
    try:
        end_day = date.fromisoformat(request.GET.get("end", ""))
    except ValueError:
        end_day = today
    if end_day < start_day:
        start_day, end_day = end_day, start_day
    tz = timezone.get_current_timezone()
    start = datetime.combine(start_day, time.min, tzinfo=tz)
    end = datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end, start_day.isoformat(), end_day.isoformat()


def _figures_for(request: HttpRequest) -> figure_module.Figures:
    user = _staff(request)
    start, end, _s, _e = _period(request)
    if queries.is_center_staff(user) or is_supervisor(user):
        return figure_module.compute(start, end)
    department = Department.objects.filter(pk__in=queries._department_ids(user)).first()
    if department is None:
        raise PermissionDenied(_("您不属于任何部门"))
    return figure_module.compute(start, end, department=department)


@login_required
@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    data = _figures_for(request)
    _start, _end, start_text, end_text = _period(request)
    from .conf import city_bounds

    chart = {
        "types": data.by_type,
        "categories": data.by_category,
        "departments": [
            {
                "name": row.department.short_name or row.department.name,
                "response": row.response.value,
                "resolution": row.resolution.value,
                "satisfaction": row.satisfaction.value,
            }
            for row in data.departments[:12]
        ],
        "points": data.points,
        "center": list(city_bounds().center),
        "bounds": [
            [city_bounds().south, city_bounds().west],
            [city_bounds().north, city_bounds().east],
        ],
        "tiles": str(getattr(settings, "DC_HOTLINE_MAP_TILES", "") or ""),
    }
    return render(
        request,
        "hotline/figures.html",
        {
            "data": data,
            "chart": chart,
            "center": queries.is_center_staff(request.user),
            "start": start_text,
            "end": end_text,
        },
    )


@login_required
@require_GET
def figures_export(request: HttpRequest) -> HttpResponse:
    data = _figures_for(request)
    response = HttpResponse(
        figure_module.export_xlsx(data),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = "attachment; filename=hotline-figures.xlsx"
    return response


# --- The dispatch catalogue --------------------------------------------------------


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    user = _center(request)
    form = CatalogueImportForm()
    if request.method == "POST":
        form = CatalogueImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                version = services.catalogue_import(
                    form.cleaned_data["file"], actor=user, note=form.cleaned_data["note"]
                )
            except ImportRefused as refused:
                if request.POST.get("report"):
                    response = HttpResponse(
                        error_report_xlsx(refused.row_errors),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    )
                    response["Content-Disposition"] = "attachment; filename=catalogue-errors.xlsx"
                    return response
                for message in refused.messages[:50]:
                    form.add_error(None, message)
            else:
                messages.success(request, _("派单目录第 %(n)d 版已生效") % {"n": version.number})
                return redirect("hotline:catalogue")
    in_force = services.catalogue_in_force()
    rules = (
        in_force.rules.select_related("category", "division", "lead").prefetch_related(
            "co_handlers"
        )
        if in_force
        else []
    )
    return render(
        request,
        "hotline/catalogue.html",
        {
            "form": form,
            "version": in_force,
            "rules": rules,
            "versions": CatalogueVersion.objects.all()[:20],
        },
    )


@login_required
@require_GET
def catalogue_export(request: HttpRequest) -> HttpResponse:
    _center(request)
    out = io.BytesIO()
    number = request.GET.get("version", "")
    version = (
        CatalogueVersion.objects.filter(number=int(number)).first() if number.isdigit() else None
    )
    services.catalogue_export(out, version)
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = "attachment; filename=dispatch-catalogue.xlsx"
    return response
