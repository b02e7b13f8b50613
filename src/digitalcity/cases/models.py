"""The case engine's data: cases, tasks, the event timeline, clocks and supervision.

No per-type columns: a service app keeps its own data in its own model linked one-to-one
to `Case`. Workflow rows are written only by `cases.services` (STYLE.md 4); they are not
audit-logged row by row because the `Event` timeline is their record (STYLE.md 3, 6).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    CaseChannel,
    CaseDepartmentRole,
    CasePriority,
    ClockState,
    ClockUnit,
    EventKind,
    JoinRule,
    RatingValue,
    RatingVia,
    ReturnReason,
    SignalKind,
    SignalStage,
    TaskKind,
    TaskOutcome,
    TaskState,
    UrgeState,
)

__all__ = [
    "Case",
    "CaseDepartment",
    "Clock",
    "ClockExtension",
    "Event",
    "Rating",
    "RatingLink",
    "Signal",
    "Task",
    "UrgeOrder",
]

_USER = settings.AUTH_USER_MODEL


class Case(models.Model):
    """One matter raised by a citizen or enterprise, of a declared type (cases.declare)."""

    number = models.CharField(_("编号"), max_length=32, unique=True)
    # Indexed by (type_code, state) in Meta, which also serves lookups by type alone.
    type_code = models.CharField(_("类型"), max_length=64)
    subject = models.CharField(_("事由"), max_length=200)
    applicant = models.ForeignKey(
        _USER,
        verbose_name=_("申请人账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    # Who the case is for when staff take it by phone or at a window, or for anonymity:
    # shown masked (identity.masking) to anyone without the right to see it.
    applicant_name = models.CharField(_("申请人姓名"), max_length=100, blank=True)
    applicant_phone = models.CharField(_("申请人电话"), max_length=20, blank=True)
    channel = models.CharField(_("渠道"), max_length=16, choices=CaseChannel.choices)
    division = models.ForeignKey(
        "core.Division",
        verbose_name=_("行政区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("牵头部门"),
        on_delete=models.PROTECT,
        related_name="lead_cases",
    )
    departments = models.ManyToManyField(
        "core.Department",
        verbose_name=_("涉及部门"),
        through="CaseDepartment",
        related_name="cases",
    )
    state = models.CharField(_("状态"), max_length=40, db_index=True)
    priority = models.SmallIntegerField(
        _("紧急程度"), choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    opened_at = models.DateTimeField(_("受理时间"), default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True, db_index=True)
    is_confidential = models.BooleanField(_("保密"), default=False)
    # Incremented when a closed case is reopened (dissatisfaction, rework): one rating
    # per closing round.
    round = models.PositiveSmallIntegerField(_("办理轮次"), default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("办件")
        verbose_name_plural = _("办件")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["type_code", "state"], name="cases_case_type_state")]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class CaseDepartment(models.Model):
    """A department involved in a case; staff of any of them see it (cases.queries)."""

    # No single-column indexes: the unique (case, department) and the (department, case)
    # index lead with each.
    case = models.ForeignKey(
        Case,
        verbose_name=_("办件"),
        on_delete=models.CASCADE,
        related_name="involved",
        db_index=False,
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("部门"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    role = models.CharField(
        _("角色"), max_length=8, choices=CaseDepartmentRole.choices, default=CaseDepartmentRole.CO
    )
    added_at = models.DateTimeField(_("加入时间"), default=timezone.now)

    class Meta:
        verbose_name = _("办件涉及部门")
        verbose_name_plural = _("办件涉及部门")
        constraints = [
            models.UniqueConstraint(fields=["case", "department"], name="cases_casedept_uniq")
        ]
        indexes = [models.Index(fields=["department", "case"], name="cases_casedept_dept")]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.department_id}"


class Task(models.Model):
    """Work one department (or one person in it) must do on a case."""

    # case, department and assignee lead the composite indexes in Meta: no single ones.
    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    spec = models.CharField(_("任务类型"), max_length=40)
    kind = models.CharField(_("任务性质"), max_length=16, choices=TaskKind.choices)
    # Tasks created together share a group; the group joins by `join`.
    group = models.CharField(_("任务组"), max_length=48)
    join = models.CharField(_("汇合规则"), max_length=8, choices=JoinRule.choices)
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("承办部门"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    assignee = models.ForeignKey(
        _USER,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case_tasks",
        db_index=False,
    )
    state = models.CharField(
        _("状态"), max_length=16, choices=TaskState.choices, default=TaskState.OPEN
    )
    # The assignment lock (one handler at a time): set by claiming, cleared by release,
    # completion, return or reassignment; a supervisor may break it.
    locked_by = models.ForeignKey(
        _USER,
        verbose_name=_("锁定人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    locked_at = models.DateTimeField(_("锁定时间"), null=True, blank=True)
    outcome = models.CharField(
        _("办理结果"), max_length=16, choices=TaskOutcome.choices, blank=True
    )
    opinion = models.TextField(_("意见"), blank=True)
    return_reason = models.CharField(
        _("退回原因"), max_length=24, choices=ReturnReason.choices, blank=True
    )
    created_at = models.DateTimeField(_("下达时间"), default=timezone.now)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["department", "state"], name="cases_task_dept_state"),
            models.Index(fields=["assignee", "state"], name="cases_task_assignee_state"),
            models.Index(fields=["case", "group"], name="cases_task_case_group"),
        ]

    def __str__(self) -> str:
        return f"{self.case.number} · {self.spec} · {self.department}"


class Event(models.Model):
    """One entry of a case's append-only timeline; statistics are computed from these."""

    # The (case, at) index in Meta serves lookups by case alone.
    case = models.ForeignKey(
        Case,
        verbose_name=_("办件"),
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
    )
    task = models.ForeignKey(
        Task,
        verbose_name=_("任务"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
    )
    actor = models.ForeignKey(
        _USER,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人名称"), max_length=100, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)
    kind = models.CharField(_("类型"), max_length=20, choices=EventKind.choices)
    transition = models.CharField(_("流转"), max_length=40, blank=True)
    from_state = models.CharField(_("原状态"), max_length=40, blank=True)
    to_state = models.CharField(_("新状态"), max_length=40, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)
    public = models.BooleanField(_("申请人可见"), default=False)

    class Meta:
        verbose_name = _("办件事件")
        verbose_name_plural = _("办件事件")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="cases_event_case_at"),
            models.Index(fields=["kind", "at"], name="cases_event_kind_at"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Append-only: an event is written once and never changed."""
        if not self._state.adding:
            raise ValueError("办件事件只能追加，不能修改")
        super().save(*args, **kwargs)


class Clock(models.Model):
    """A time limit on a case or one of its tasks (cases.clocks computes the moments).

    `used` is what earlier running segments consumed, in `unit`; the running segment
    began at `segment_started_at`. `due_at`, `prompt_at`, `red_at` are set only while
    running and recomputed on every event; `next_signal_at` is the earliest of them not
    yet signalled, which is what the worker sweeps on.
    """

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="clocks"
    )
    task = models.ForeignKey(
        Task,
        verbose_name=_("任务"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="clocks",
    )
    code = models.CharField(_("时限代码"), max_length=40)
    unit = models.CharField(_("计时单位"), max_length=16, choices=ClockUnit.choices)
    limit = models.PositiveIntegerField(_("时限"))
    extended = models.PositiveIntegerField(_("已延长"), default=0)
    prompt_before = models.PositiveIntegerField(_("提前提醒"), default=1)
    red_after = models.PositiveIntegerField(_("超期转红牌"), null=True, blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=ClockState.choices, default=ClockState.PENDING
    )
    # Counts restarts, so a second run's signals are told apart from the first's.
    run = models.PositiveSmallIntegerField(_("计时轮次"), default=0)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    paused_at = models.DateTimeField(_("暂停时间"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    segment_started_at = models.DateTimeField(_("本段开始"), null=True, blank=True)
    used = models.DecimalField(_("已用"), max_digits=12, decimal_places=4, default=0)
    due_at = models.DateTimeField(_("到期时间"), null=True, blank=True, db_index=True)
    prompt_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)
    red_at = models.DateTimeField(_("红牌时间"), null=True, blank=True)
    signal_stage = models.CharField(
        _("监察阶段"), max_length=10, choices=SignalStage.choices, default=SignalStage.NONE
    )
    next_signal_at = models.DateTimeField(_("下次监察时间"), null=True, blank=True)
    estimated = models.BooleanField(_("日历估算"), default=False)
    # Written by the sweep's claiming UPDATE so it can read back exactly the rows it won.
    sweep_token = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        verbose_name = _("时限")
        verbose_name_plural = _("时限")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "code"],
                condition=Q(task__isnull=True),
                name="cases_clock_case_code_uniq",
            ),
            models.UniqueConstraint(
                fields=["task", "code"],
                condition=Q(task__isnull=False),
                name="cases_clock_task_code_uniq",
            ),
        ]
        indexes = [
            # Partial: the sweep's index holds only clocks with something left to signal,
            # so it does not grow with closed cases. With id, it is in the sweep's
            # ORDER BY next_signal_at, id: no sort.
            models.Index(
                fields=["next_signal_at", "id"],
                condition=Q(next_signal_at__isnull=False),
                name="cases_clock_next_signal",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.code}"

    @property
    def total(self) -> int:
        return self.limit + self.extended


class ClockExtension(models.Model):
    clock = models.ForeignKey(
        Clock, verbose_name=_("时限"), on_delete=models.CASCADE, related_name="extensions"
    )
    amount = models.PositiveIntegerField(_("延长量"))
    reason = models.TextField(_("延期理由"))
    approved_by = models.ForeignKey(
        _USER, verbose_name=_("批准人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("批准时间"), default=timezone.now)

    class Meta:
        verbose_name = _("延期")
        verbose_name_plural = _("延期")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.clock_id}+{self.amount}"


class Signal(models.Model):
    """A supervision signal (prompt, yellow or red card) raised by the worker."""

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="signals"
    )
    # The unique (clock, kind, due_at) in Meta serves lookups by clock alone.
    clock = models.ForeignKey(
        Clock,
        verbose_name=_("时限"),
        on_delete=models.CASCADE,
        related_name="signals",
        db_index=False,
    )
    kind = models.CharField(_("类型"), max_length=8, choices=SignalKind.choices)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    # The due moment the signal is about: with the unique constraint it makes a second
    # identical signal impossible, while an extension or restart (a new due) may signal again.
    due_at = models.DateTimeField(_("到期时间"))
    overdue_by = models.DurationField(_("超期"), null=True, blank=True)
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("责任部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recipients = models.JSONField(_("通知对象"), default=list, blank=True)

    class Meta:
        verbose_name = _("监察信号")
        verbose_name_plural = _("监察信号")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clock", "kind", "due_at"], name="cases_signal_once_per_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.kind}"


class UrgeOrder(models.Model):
    """A supervision order (督办) to a department with its own deadline."""

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="urges"
    )
    issued_by = models.ForeignKey(
        _USER, verbose_name=_("督办人"), on_delete=models.PROTECT, related_name="+"
    )
    department = models.ForeignKey(
        "core.Department", verbose_name=_("被督办部门"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("督办意见"))
    issued_at = models.DateTimeField(_("督办时间"), default=timezone.now)
    due_at = models.DateTimeField(_("回复期限"), db_index=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=UrgeState.choices, default=UrgeState.OPEN
    )
    answer = models.TextField(_("回复"), blank=True)
    answered_by = models.ForeignKey(
        _USER,
        verbose_name=_("回复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("回复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("督办单")
        verbose_name_plural = _("督办单")
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.department_id}"


class Rating(models.Model):
    """The applicant's rating of one closing round of a case."""

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="ratings"
    )
    round = models.PositiveSmallIntegerField(_("办理轮次"))
    by = models.ForeignKey(
        _USER,
        verbose_name=_("评价人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    value = models.CharField(_("评价"), max_length=16, choices=RatingValue.choices)
    text = models.TextField(_("评价内容"), blank=True)
    via = models.CharField(_("评价方式"), max_length=8, choices=RatingVia.choices)
    at = models.DateTimeField(_("评价时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = _("评价")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "round"], name="cases_rating_per_round")
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.round}:{self.value}"


class RatingLink(models.Model):
    """A one-time rating link sent by SMS; only the token's SHA-256 is stored."""

    case = models.ForeignKey(
        Case, verbose_name=_("办件"), on_delete=models.CASCADE, related_name="rating_links"
    )
    round = models.PositiveSmallIntegerField(_("办理轮次"))
    token_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True)
    phone = models.CharField(_("发送号码"), max_length=11)
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("评价链接")
        verbose_name_plural = _("评价链接")

    def __str__(self) -> str:
        return f"{self.case_id}:{self.round}"
