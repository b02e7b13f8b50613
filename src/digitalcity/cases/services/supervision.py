"""Clock extensions and urge orders (督办)."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.core import calendar
from digitalcity.core.models import Department, Membership, MembershipRole, NotificationChannel
from digitalcity.core.notifications.services import notify, notify_user
from digitalcity.identity.permissions import is_supervisor

from ..choices import ClockState, ClockUnit, EventKind, UrgeState
from ..clocks import end_of_day
from ..models import Case, Clock, ClockExtension, UrgeOrder
from ._engine import Run, actor_label, clock_recompute, refuse, unit_of_work

__all__ = ["clock_extend", "notify_applicant", "urge_answer", "urge_issue"]


def notify_applicant(case: Case, body: str) -> None:
    """Tell the applicant (their account, or the phone taken at intake) after commit."""
    if case.applicant_id is not None:
        notify_user(case.applicant, body=body, related=case)
    elif case.applicant_phone:
        # A landline taken by phone cannot get an SMS; the call-back tells them instead.
        with suppress(ValidationError):
            notify(
                channel=NotificationChannel.SMS, to=case.applicant_phone, body=body, related=case
            )


def clock_extend(*, clock: Clock, amount: int, reason: str, approved_by: Any) -> ClockExtension:
    """Extend a running or paused clock by `amount` of its units (延期), and tell the applicant.

    The approver must be an administrator, a supervisor, or the head of a department
    involved in the case. The clock's type must allow extensions, and no more than its
    `max_extensions` in one run (Art. 42: once, by 10 working days).
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= 5000:
        raise ValidationError({"amount": _("延长量须为 1 至 5000 之间的整数")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("延期须说明理由")})
    with unit_of_work():
        run = Run(Case(pk=clock.case_id), approved_by)
        locked = next(c for c in run.clocks() if c.pk == clock.pk)
        spec = run.type.clock(locked.code)
        if not spec.extendable:
            raise ValidationError({"clock": _("“%(c)s”不可延期") % {"c": spec.label}})
        if locked.state not in (ClockState.RUNNING, ClockState.PAUSED):
            raise ValidationError({"clock": _("只有计时中或暂停中的时限可以延期")})
        approver_ok = is_supervisor(approved_by) or any(
            dept in run.involved() and role == MembershipRole.HEAD
            for dept, role in run.memberships()
        )
        if not approver_ok:
            raise refuse(_("延期须由办件涉及部门的负责人或监察人员批准"))
        if spec.max_extensions is not None:
            earlier = ClockExtension.objects.filter(clock=locked, at__gte=locked.started_at).count()
            if earlier >= spec.max_extensions:
                raise ValidationError(
                    {
                        "clock": _("“%(c)s”最多延期 %(n)d 次")
                        % {"c": spec.label, "n": spec.max_extensions}
                    }
                )
        locked.extended += amount
        clock_recompute(run, locked)
        extension = ClockExtension.objects.create(
            clock=locked, amount=amount, reason=reason, approved_by=approved_by, at=run.now
        )
        run.event(
            EventKind.CLOCK_EXTENDED,
            task_id=locked.task_id,
            reason=reason,
            public=True,
            data={
                "clock": locked.code,
                "amount": amount,
                "due_at": locked.due_at.isoformat() if locked.due_at else None,
            },
        )
        run.finish()
        unit = ClockUnit(locked.unit).label
        notify_applicant(
            run.case,
            _("您的办件 %(n)s 的%(c)s已延长 %(a)d 个%(u)s，理由：%(r)s")
            % {"n": run.case.number, "c": spec.label, "a": amount, "u": unit, "r": reason[:200]},
        )
    for name in ("extended", "due_at", "prompt_at", "red_at", "signal_stage", "next_signal_at"):
        setattr(clock, name, getattr(locked, name))
    return extension


def _department_heads(department_id: int) -> list[Any]:
    memberships = Membership.objects.filter(
        department_id=department_id, is_active=True, user__is_active=True
    ).select_related("user")
    heads = [m.user for m in memberships if m.role == MembershipRole.HEAD]
    return heads or [
        m.user for m in memberships if m.role in (MembershipRole.CLERK, MembershipRole.WINDOW)
    ]


def urge_issue(
    *, case: Case, actor: Any, note: str, department: Department | None = None, days: int = 3
) -> UrgeOrder:
    """A supervisor orders `department` (default: the lead) to act, answering within
    `days` working days; the department's head (or, lacking one, its staff) is told."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("督办意见不能为空")})
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 60:
        raise ValidationError({"days": _("回复期限须为 1 至 60 个工作日")})
    if not is_supervisor(actor):
        raise refuse(_("只有监察人员可以督办"))
    with unit_of_work():
        run = Run(case, actor)
        department_id = department.pk if department is not None else run.case.department_id
        if department_id not in run.involved():
            raise ValidationError({"department": _("被督办部门须是办件涉及的部门")})
        today = calendar.add_workdays_ex(timezone.localdate(run.now), days)
        urge = UrgeOrder.objects.create(
            case=run.case,
            issued_by=actor,
            department_id=department_id,
            note=note,
            issued_at=run.now,
            due_at=end_of_day(today.value),
        )
        run.event(
            EventKind.URGE,
            reason=note,
            data={"urge": urge.pk, "department": department_id, "due_at": urge.due_at.isoformat()},
        )
        run.finish()
        body = _("督办：办件 %(n)s 请于 %(d)s 前办理并回复。%(note)s") % {
            "n": run.case.number,
            "d": f"{today.value:%Y-%m-%d}",
            "note": note[:200],
        }
        for user in _department_heads(department_id):
            notify_user(user, body=body, related=run.case)
    return urge


def urge_answer(*, urge: UrgeOrder, actor: Any, answer: str) -> UrgeOrder:
    """The urged department answers (once); the issuer is told."""
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": _("督办回复不能为空")})
    with unit_of_work():
        run = Run(Case(pk=urge.case_id), actor)
        locked = UrgeOrder.objects.select_for_update().get(pk=urge.pk)
        if locked.state != UrgeState.OPEN:
            raise ValidationError({"urge": _("督办单已回复或已关闭")})
        if not run.member_of(locked.department_id):
            raise refuse(_("只有被督办部门的人员可以回复"))
        locked.state, locked.answer = UrgeState.ANSWERED, answer
        locked.answered_by, locked.answered_at = actor, run.now
        locked.save(update_fields=["state", "answer", "answered_by", "answered_at"])
        run.event(EventKind.URGE_ANSWERED, reason=answer, data={"urge": locked.pk})
        run.finish()
        notify_user(
            locked.issued_by,
            body=_("办件 %(n)s 的督办已由%(who)s回复")
            % {"n": run.case.number, "who": actor_label(actor)},
            related=run.case,
        )
    urge.state, urge.answer, urge.answered_at = locked.state, locked.answer, locked.answered_at
    return urge
