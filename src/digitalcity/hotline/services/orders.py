"""The work-order lifecycle on the engine: dispatch, sign, reply, return and its review,
extension, urge, call-back, answer, merge, archive.

Each function is one transaction; the engine's services inside it share it (nested
atomic blocks), so a refusal anywhere leaves nothing written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.cases.choices import (
    ACTIVE_TASK_STATES,
    ClockState,
    RatingValue,
    TaskState,
)
from digitalcity.cases.clocks import end_of_day
from digitalcity.cases.models import Case, Clock, Rating, Task, UrgeOrder
from digitalcity.cases.services import (
    case_transition,
    clock_extend,
    rating_link_issue,
    rating_submit,
    task_complete,
    task_create,
    task_reassign,
    task_return,
    urge_issue,
)
from digitalcity.cases.services.supervision import notify_applicant
from digitalcity.core import calendar
from digitalcity.core.models import Department, Membership, MembershipRole, NotificationChannel
from digitalcity.core.notifications.services import notify_user
from digitalcity.identity.permissions import is_supervisor

from ..choices import DeadlineUnit, ExtensionState, OrderState
from ..models import Callback, ExtensionRequest, Reminder, WorkOrder

__all__ = [
    "order_answer",
    "order_archive",
    "order_callback",
    "order_decide_extension",
    "order_dispatch",
    "order_merge",
    "order_remind",
    "order_reply",
    "order_request_extension",
    "order_return",
    "order_review_return",
    "order_send_rating_link",
    "order_sign",
    "order_urge",
]


def _lock(order: WorkOrder) -> WorkOrder:
    """The order row, re-read under the case lock (callers hold a transaction)."""
    Case.objects.select_for_update().filter(pk=order.case_id).first()
    return WorkOrder.objects.select_related("case", "lead_department").get(pk=order.pk)


def _state(order: WorkOrder) -> str:
    return order.case.state


def _require_state(order: WorkOrder, *states: str) -> None:
    if order.case.state not in states:
        raise ValidationError(
            {
                "state": _("工单当前为“%(s)s”，不能进行此操作")
                % {"s": OrderState(order.case.state).label}
            }
        )


def _user_departments(actor: Any) -> set[int]:
    if actor is None or not actor.is_authenticated:
        return set()
    return set(
        Membership.objects.filter(
            user=actor, is_active=True, department__is_active=True
        ).values_list("department_id", flat=True)
    )


def _active_task(order: WorkOrder, actor: Any, spec: str) -> Task:
    """The actor's department's active task of `spec` on this order (one per department)."""
    departments = _user_departments(actor)
    task = (
        Task.objects.filter(
            case_id=order.case_id,
            spec=spec,
            state__in=ACTIVE_TASK_STATES,
            department_id__in=departments,
        )
        .order_by("created_at", "id")
        .first()
    )
    if task is None:
        raise PermissionDenied(
            _("您所在部门在此工单上没有待%(s)s的任务")
            % {"s": _("签收") if spec == "sign" else _("办理")}
        )
    return task


def order_dispatch(
    *,
    order: WorkOrder,
    actor: Any,
    lead: Department,
    co_handlers: Sequence[Department] = (),
    note: str = "",
) -> WorkOrder:
    """派单: the center gives the order to `lead` (and co-handlers). Each gets a SIGN task
    with the rule's signing limit in working hours, and a HANDLE task."""
    departments = [lead, *[d for d in co_handlers if d.pk != lead.pk]]
    if len({d.pk for d in departments}) != len(departments):
        raise ValidationError({"co_handlers": _("协办部门不能重复")})
    with transaction.atomic():
        order = _lock(order)
        _require_state(order, OrderState.RECEIVED, OrderState.REWORK)
        case_transition(
            case=order.case,
            transition="dispatch",
            actor=actor,
            input={"departments": [d.pk for d in departments], "note": note},
            reason=note,
        )
        task_create(
            case=order.case,
            spec="sign",
            departments=[d.pk for d in departments],
            actor=actor,
            limit=order.sign_hours,
        )
        order.lead_department = lead
        order.save(update_fields=["lead_department", "updated_at"])
    return order


def order_sign(*, order: WorkOrder, actor: Any) -> WorkOrder:
    """签收 by the actor's department (when every department has signed → 办理中)."""
    with transaction.atomic():
        order = _lock(order)
        task = _active_task(order, actor, "sign")
        task_complete(task=task, actor=actor)
    return order


def order_reply(*, order: WorkOrder, actor: Any, reply: str) -> WorkOrder:
    """办结: the department completes its handling with the reply to the citizen. When
    every handling department has replied the order closes (replied), the citizen is
    told, and the call-back is due within one working day."""
    reply = (reply or "").strip()
    if not reply:
        raise ValidationError({"reply": _("办理结果不能为空")})
    if len(reply) > 2000:
        raise ValidationError({"reply": _("办理结果最多 2000 个字符")})
    with transaction.atomic():
        order = _lock(order)
        task = _active_task(order, actor, "handle")
        if Task.objects.filter(
            case_id=order.case_id,
            spec="sign",
            department_id=task.department_id,
            state__in=ACTIVE_TASK_STATES,
        ).exists():
            raise ValidationError({"task": _("请先签收工单再办结")})
        task_complete(task=task, actor=actor, opinion=reply)
        order.case.refresh_from_db()
        fields = ["updated_at"]
        if task.department_id == order.lead_department_id:
            order.reply, order.replied_at = reply, timezone.now()
            fields += ["reply", "replied_at"]
        if order.case.state == OrderState.REPLIED:
            now = timezone.now()
            # 回访 within one working day of the reply (GB/T 33358).
            order.callback_due_at = end_of_day(calendar.add_workdays(timezone.localdate(now), 1))
            fields.append("callback_due_at")
            notify_applicant(
                order.case,
                _("您的诉求（工单 %(n)s）已办结：%(r)s")
                % {"n": order.case.number, "r": order.reply[:300]},
            )
        order.save(update_fields=fields)
    return order


def order_return(*, order: WorkOrder, actor: Any, reason_code: str, reason: str = "") -> WorkOrder:
    """退单: the department hands the order back with a reason code; the center reviews."""
    with transaction.atomic():
        order = _lock(order)
        departments = _user_departments(actor)
        tasks = list(
            Task.objects.filter(
                case_id=order.case_id,
                state__in=ACTIVE_TASK_STATES,
                department_id__in=departments,
            ).order_by("spec", "id")  # handle before sign: both returned either way
        )
        if not tasks:
            raise PermissionDenied(_("您所在部门在此工单上没有可退回的任务"))
        for task in tasks:
            task_return(task=task, actor=actor, reason_code=reason_code, reason=reason)
    return order


def order_review_return(
    *,
    order: WorkOrder,
    actor: Any,
    approve: bool,
    department: Department | None = None,
    note: str = "",
) -> WorkOrder:
    """The center reviews a 退单: `approve` reassigns (改派) the returned tasks to
    `department`; rejecting gives them back to the department that returned them. The
    order goes back to 已派单 if someone must still sign, else to 办理中."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("审核退单须填写审核意见")})
    if approve and department is None:
        raise ValidationError({"department": _("同意退单须指定改派部门")})
    with transaction.atomic():
        order = _lock(order)
        _require_state(order, OrderState.RETURNED)
        returned = list(
            Task.objects.filter(case_id=order.case_id, state=TaskState.RETURNED)
            .select_related("department")
            .order_by("id")
        )
        # Only the latest return round: tasks returned earlier were reassigned already.
        for task in returned:
            target = department if approve and department is not None else task.department
            from_department = task.department_id
            task_reassign(task=task, actor=actor, department=target, reason=note)
            if order.lead_department_id == from_department:
                order.lead_department = target
        signing = Task.objects.filter(
            case_id=order.case_id, spec="sign", state__in=ACTIVE_TASK_STATES
        )
        new_departments = {
            t.department_id
            for t in Task.objects.filter(
                case_id=order.case_id, spec="handle", state__in=ACTIVE_TASK_STATES
            )
        }
        signed = set(
            Task.objects.filter(
                case_id=order.case_id,
                spec="sign",
                state__in=(*ACTIVE_TASK_STATES, TaskState.COMPLETED),
            ).values_list("department_id", flat=True)
        )
        unsigned = sorted(new_departments - signed)
        if unsigned:
            # A department new to the order signs for it like any other.
            case_transition(case=order.case, transition="redispatch", actor=actor, reason=note)
            task_create(
                case=order.case,
                spec="sign",
                departments=unsigned,
                actor=actor,
                limit=order.sign_hours,
            )
        elif signing.exists():
            case_transition(case=order.case, transition="redispatch", actor=actor, reason=note)
        else:
            case_transition(case=order.case, transition="resume", actor=actor, reason=note)
        order.save(update_fields=["lead_department", "updated_at"])
    return order


def _deadline_clock(order: WorkOrder) -> Clock:
    return Clock.objects.get(case_id=order.case_id, task=None, code="deadline")


def order_request_extension(
    *, order: WorkOrder, actor: Any, amount: int, reason: str, unit: str | None = None
) -> ExtensionRequest:
    """延期申请 by a handling department, before the deadline; the center decides.

    The extension counts in the unit of the order's rule (working days or natural hours,
    ADR 0015); `unit`, if given, must be that unit."""
    reason = (reason or "").strip()
    rule_unit = order.deadline_unit
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = _("延期须说明理由")
    if unit not in (None, "", rule_unit):
        errors["unit"] = _("延期须按办理时限的单位（%(u)s）申请，收到“%(v)s”") % {
            "u": DeadlineUnit(rule_unit).label,
            "v": unit,
        }
    most = 30 * (24 if rule_unit == DeadlineUnit.CALENDAR_HOURS else 1)
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= most:
        errors["amount"] = _("延长量须为 1 至 %(m)d 之间的整数（%(u)s）") % {
            "m": most,
            "u": DeadlineUnit(rule_unit).label,
        }
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        order = _lock(order)
        _require_state(order, OrderState.DISPATCHED, OrderState.HANDLING)
        task = _active_task(order, actor, "handle")
        clock = _deadline_clock(order)
        if clock.state != ClockState.RUNNING or clock.due_at is None:
            raise ValidationError({"order": _("工单的办理时限未在计时，不能申请延期")})
        if timezone.now() >= clock.due_at:
            raise ValidationError({"order": _("已超过办理期限，不能再申请延期")})
        if order.extensions.filter(state=ExtensionState.PENDING).exists():
            raise ValidationError({"order": _("已有待审核的延期申请")})
        return ExtensionRequest.objects.create(
            order=order,
            department_id=task.department_id,
            requested_by=actor,
            amount=amount,
            unit=rule_unit,
            reason=reason,
        )


def order_decide_extension(
    *, request: ExtensionRequest, actor: Any, approve: bool, note: str = ""
) -> ExtensionRequest:
    """The center approves (the engine extends the order's clock in its unit and tells
    the citizen) or rejects an extension request."""
    with transaction.atomic():
        locked = (
            ExtensionRequest.objects.select_for_update().select_related("order").get(pk=request.pk)
        )
        if locked.state != ExtensionState.PENDING:
            raise ValidationError({"request": _("延期申请已审核")})
        order = _lock(locked.order)
        if actor is None or not (
            order.case.department_id in _user_departments(actor) or is_supervisor(actor)
        ):
            raise PermissionDenied(_("只有12345中心或监察督办人员可以审核延期申请"))
        if approve:
            clock = _deadline_clock(order)
            if clock.state != ClockState.RUNNING:
                raise ValidationError({"request": _("工单的办理时限未在计时，不能延期")})
            if clock.unit != locked.unit:
                raise ValidationError(
                    {"request": _("延期单位与工单办理时限的计时单位不一致，请重新申请")}
                )
            clock_extend(
                clock=clock,
                amount=locked.amount,  # in the clock's unit, which is the rule's
                reason=locked.reason,
                approved_by=actor,
            )
        locked.state = ExtensionState.APPROVED if approve else ExtensionState.REJECTED
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.decision_note = (note or "").strip()
        locked.save(
            update_fields=["state", "decided_by", "decided_at", "decision_note", "updated_at"]
        )
    request.state = locked.state
    return locked


def order_urge(*, order: WorkOrder, actor: Any, note: str, days: int = 1) -> UrgeOrder:
    """督办: a supervisor orders the handling department to act (engine urge order)."""
    if order.lead_department_id is None:
        raise ValidationError({"order": _("工单尚未派单，不能督办")})
    return urge_issue(
        case=order.case, actor=actor, note=note, department=order.lead_department, days=days
    )


def order_remind(*, order: WorkOrder, actor: Any, note: str = "") -> Reminder:
    """催办: the center reminds the handling departments' staff of an open order (a site
    message to each clerk, head and window member) and records it on the order's timeline
    (`Reminder`). No answer is due: a formal 督办 with a reply deadline is `order_urge`
    (supervisors, the engine's urge order)."""
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationError({"note": _("催办说明最多 200 个字符")})
    with transaction.atomic():
        order = _lock(order)
        _require_state(order, OrderState.DISPATCHED, OrderState.HANDLING)
        if order.case.department_id not in _user_departments(actor):
            raise PermissionDenied(_("只有12345中心可以催办"))
        departments = sorted(
            set(
                Task.objects.filter(
                    case_id=order.case_id, state__in=ACTIVE_TASK_STATES
                ).values_list("department_id", flat=True)
            )
        )
        staff = (
            Membership.objects.filter(
                department_id__in=departments,
                is_active=True,
                user__is_active=True,
                role__in=(MembershipRole.CLERK, MembershipRole.HEAD, MembershipRole.WINDOW),
            )
            .select_related("user")
            .order_by("user_id")
        )
        users = {m.user_id: m.user for m in staff}
        reminder = Reminder.objects.create(
            order=order, by=actor, note=note, notified=len(users), at=timezone.now()
        )
        reminder.departments.set(departments)
        body = _("催办：12345工单 %(n)s 请抓紧办理。%(note)s") % {
            "n": order.case.number,
            "note": note,
        }
        for user in users.values():
            notify_user(user, body=body, channels=(NotificationChannel.SITE,), related=order.case)
    return reminder


def order_callback(
    *, order: WorkOrder, actor: Any, solved: bool, value: str, note: str = ""
) -> Callback:
    """回访 by the center: solved or not, and satisfaction. 不满意 sends the order back for
    rework once (the engine reopens it); it is dispatched again to the same departments."""
    if value not in RatingValue.values:
        raise ValidationError({"value": _("满意度“%(v)s”无效") % {"v": value}})
    with transaction.atomic():
        order = _lock(order)
        _require_state(order, OrderState.REPLIED)
        round_ = order.case.round
        departments = list(
            Task.objects.filter(case_id=order.case_id, spec="handle", state=TaskState.COMPLETED)
            .values_list("department_id", flat=True)
            .distinct()
        )
        rating_submit(value=value, text=note, case=order.case, actor=actor)
        callback = Callback.objects.create(
            order=order,
            round=round_,
            solved=solved,
            value=value,
            note=(note or "").strip(),
            by=actor,
            department=order.lead_department,
        )
        order.case.refresh_from_db()
        if order.case.state == OrderState.REWORK and order.lead_department is not None:
            co = Department.objects.filter(pk__in=departments).exclude(pk=order.lead_department.pk)
            order_dispatch(
                order=order,
                actor=actor,
                lead=order.lead_department,
                co_handlers=list(co),
                note=_("回访不满意，重新办理"),
            )
    return callback


def order_send_rating_link(*, order: WorkOrder, actor: Any) -> str:
    """Text the citizen a one-time rating link (the engine's); returns the raw token."""
    with transaction.atomic():
        order = _lock(order)
        _require_state(order, OrderState.REPLIED)
        _link, token = rating_link_issue(case=order.case, actor=actor, phone=order.caller_phone)
    return token


def order_answer(*, order: WorkOrder, actor: Any, reply: str, knowledge_ref: str = "") -> WorkOrder:
    """直接答复: the agent answers a consultation at once (from the knowledge base); the
    order closes as answered."""
    reply = (reply or "").strip()
    if not reply:
        raise ValidationError({"reply": _("答复内容不能为空")})
    if len(reply) > 2000:
        raise ValidationError({"reply": _("答复内容最多 2000 个字符")})
    with transaction.atomic():
        order = _lock(order)
        case_transition(
            case=order.case,
            transition="answer",
            actor=actor,
            input={"reply": reply[:500], "knowledge_ref": (knowledge_ref or "")[:100]},
        )
        order.reply, order.replied_at = reply, timezone.now()
        order.save(update_fields=["reply", "replied_at", "updated_at"])
    return order


def order_merge(*, order: WorkOrder, into: WorkOrder, actor: Any) -> WorkOrder:
    """并单: a repeat request joins an earlier order; it closes as merged and its caller is
    told the number they can follow."""
    if order.pk == into.pk:
        raise ValidationError({"into": _("不能并入工单自身")})
    with transaction.atomic():
        order = _lock(order)
        target = WorkOrder.objects.select_related("case").get(pk=into.pk)
        if target.case.state == OrderState.MERGED:
            raise ValidationError({"into": _("目标工单本身已并单")})
        case_transition(
            case=order.case, transition="merge", actor=actor, input={"into": target.case.number}
        )
        order.merged_into = target
        order.save(update_fields=["merged_into", "updated_at"])
        notify_applicant(
            order.case,
            _("您的诉求（工单 %(n)s）与工单 %(m)s 为同一事项，已合并办理")
            % {"n": order.case.number, "m": target.case.number},
        )
    return order


def order_archive(*, order: WorkOrder, actor: Any) -> WorkOrder:
    """归档: after the call-back (or once its day has passed without reaching the citizen)."""
    with transaction.atomic():
        order = _lock(order)
        _require_state(order, OrderState.REPLIED, OrderState.ANSWERED)
        if order.case.state == OrderState.REPLIED:
            rated = Rating.objects.filter(case_id=order.case_id, round=order.case.round).exists()
            overdue = order.callback_due_at is not None and timezone.now() > order.callback_due_at
            if not (rated or overdue):
                raise ValidationError({"order": _("工单尚未回访，回访期限届满前不能归档")})
        case_transition(case=order.case, transition="archive", actor=actor)
    return order
