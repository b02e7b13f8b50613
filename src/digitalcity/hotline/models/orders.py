"""Work orders (工单) and what they are classified and timed by.

A `WorkOrder` is the hotline's data on one `cases.Case` of type `hotline.order`; the
workflow state, tasks, clocks, events and ratings live on the case (docs/cases.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from digitalcity.cases.choices import CaseChannel
from digitalcity.core.models.base import ActiveMixin, AuditedMixin, TimestampedMixin

from ..choices import CallbackResult, CallState, DeadlineUnit, ExtensionState, RequestType, Urgency

__all__ = [
    "Call",
    "Callback",
    "Category",
    "DeadlineRule",
    "ExtensionRequest",
    "Reminder",
    "SmsMessage",
    "WorkOrder",
]

_USER = settings.AUTH_USER_MODEL


class Category(AuditedMixin, TimestampedMixin, ActiveMixin, models.Model):
    """A node of the local 2+2+2 category tree (大类 · 中类 · 小类, e.g. 01 · 0101 · 010101).

    A local table in the shape of GB/T 39666's code (docs/hotline.md): the national
    code list itself is not reproduced here.
    """

    code = models.CharField(_("分类代码"), max_length=6, unique=True)
    name = models.CharField(_("分类名称"), max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    #: Open311 lets a client pick only leaves; every level is usable by agents.
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def level(self) -> int:
        return len(self.code) // 2

    def ancestor_codes(self) -> list[str]:
        """This code and its ancestors', most specific first (010101, 0101, 01)."""
        return [self.code[:n] for n in range(len(self.code), 0, -2)]


class DeadlineRule(AuditedMixin, TimestampedMixin, ActiveMixin, models.Model):
    """How long an order may take, by request type × urgency (blank = any).

    The most specific active rule wins (type and urgency, then urgency alone, then type
    alone, then the catch-all). Defaults are Beijing's 接诉即办 limits (docs/hotline.md).
    """

    request_type = models.CharField(
        _("诉求类型"), max_length=16, choices=RequestType.choices, blank=True
    )
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, blank=True)
    amount = models.PositiveIntegerField(_("办理时限"))
    unit = models.CharField(_("时限单位"), max_length=16, choices=DeadlineUnit.choices)
    sign_hours = models.PositiveIntegerField(_("签收时限（工作小时）"), default=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("办理时限规则")
        verbose_name_plural = _("办理时限规则")
        ordering = ["request_type", "urgency"]
        constraints = [
            models.UniqueConstraint(
                fields=["request_type", "urgency"],
                condition=Q(is_active=True),
                name="hotline_deadline_rule_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_request_type_display() or '*'}×{self.get_urgency_display() or '*'}"


class WorkOrder(TimestampedMixin, models.Model):
    """One 12345 work order: the caller, what they ask, where, and how it is classified."""

    case = models.OneToOneField(
        "cases.Case",
        verbose_name=_("办件"),
        on_delete=models.CASCADE,
        related_name="hotline_order",
    )
    channel = models.CharField(_("渠道"), max_length=16, choices=CaseChannel.choices)
    request_type = models.CharField(_("诉求类型"), max_length=16, choices=RequestType.choices)
    urgency = models.CharField(
        _("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL
    )
    category = models.ForeignKey(
        Category, verbose_name=_("诉求分类"), on_delete=models.PROTECT, related_name="orders"
    )
    description = models.TextField(_("诉求内容"))
    caller = models.ForeignKey(
        _USER,
        verbose_name=_("诉求人账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hotline_orders",
    )
    caller_name = models.CharField(_("诉求人姓名"), max_length=50, blank=True)
    caller_phone = models.CharField(_("联系电话"), max_length=20, blank=True, db_index=True)
    anonymous = models.BooleanField(_("匿名"), default=False)
    is_confidential = models.BooleanField(_("保密"), default=False)
    address = models.CharField(_("事发地址"), max_length=200, blank=True)
    division = models.ForeignKey(
        "core.Division",
        verbose_name=_("所在区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    attributes = models.JSONField(_("附加属性"), default=dict, blank=True)
    # A client's key for a repeated submission: the same key returns the first order.
    # Unique where set, so two concurrent submissions cannot both insert (services/intake).
    idempotency_key = models.CharField(_("幂等键"), max_length=64, blank=True)
    deadline_amount = models.PositiveIntegerField(_("办理时限"))
    deadline_unit = models.CharField(_("时限单位"), max_length=16, choices=DeadlineUnit.choices)
    sign_hours = models.PositiveIntegerField(_("签收时限（工作小时）"), default=2)
    lead_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("主办部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reply = models.TextField(_("办理结果"), blank=True)
    replied_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    callback_due_at = models.DateTimeField(_("回访期限"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("并入工单"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_orders",
    )
    received_by = models.ForeignKey(
        _USER,
        verbose_name=_("受理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="hotline_order_idempotency_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["category", "created_at"], name="hotline_order_cat_at"),
            models.Index(fields=["division", "created_at"], name="hotline_order_div_at"),
        ]

    def __str__(self) -> str:
        return self.case.number if self.case_id else str(_("未编号工单"))

    @property
    def number(self) -> str:
        return self.case.number


class ExtensionRequest(TimestampedMixin, models.Model):
    """延期申请: asked by the handling department before the deadline, decided by the center."""

    order = models.ForeignKey(
        WorkOrder, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="extensions"
    )
    department = models.ForeignKey(
        "core.Department", verbose_name=_("申请部门"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        _USER, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.PositiveIntegerField(_("延长量"))
    unit = models.CharField(_("单位"), max_length=16, choices=DeadlineUnit.choices)
    reason = models.TextField(_("延期理由"))
    state = models.CharField(
        _("状态"), max_length=10, choices=ExtensionState.choices, default=ExtensionState.PENDING
    )
    decided_by = models.ForeignKey(
        _USER,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open request per order at a time.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(state="pending"),
                name="hotline_extension_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id}+{self.amount}{self.unit}"


class Reminder(models.Model):
    """催办: the center reminded the handling departments of an open order.

    Lighter than the engine's 督办 (`UrgeOrder`: a supervisor's order with a reply
    deadline and an answer): no answer is due; the reminded staff get a site message. It
    shows on the order's timeline beside the engine's events.
    """

    order = models.ForeignKey(
        WorkOrder, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="reminders"
    )
    by = models.ForeignKey(
        _USER, verbose_name=_("催办人"), on_delete=models.PROTECT, related_name="+"
    )
    departments = models.ManyToManyField(
        "core.Department", verbose_name=_("被催办部门"), related_name="+"
    )
    note = models.CharField(_("催办说明"), max_length=200, blank=True)
    notified = models.PositiveIntegerField(_("通知人数"), default=0)
    at = models.DateTimeField(_("催办时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("催办记录")
        verbose_name_plural = _("催办记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}@{self.at:%Y-%m-%d %H:%M}"


class Call(models.Model):
    """One incoming call reported by the telephony system's webhook (docs/hotline.md)."""

    call_id = models.CharField(_("呼叫编号"), max_length=64, unique=True)
    caller_phone = models.CharField(_("主叫号码"), max_length=20, db_index=True)
    agent = models.ForeignKey(
        _USER,
        verbose_name=_("坐席"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agent_extension = models.CharField(_("坐席分机"), max_length=16, blank=True)
    state = models.CharField(
        _("状态"), max_length=10, choices=CallState.choices, default=CallState.RINGING
    )
    started_at = models.DateTimeField(_("呼入时间"), default=timezone.now, db_index=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    order = models.ForeignKey(
        WorkOrder,
        verbose_name=_("工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )

    class Meta:
        verbose_name = _("来电")
        verbose_name_plural = _("来电")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return self.call_id


class SmsMessage(models.Model):
    """One inbound SMS from the gateway and the acknowledgement sent back."""

    gateway_id = models.CharField(_("网关消息编号"), max_length=64, unique=True)
    from_phone = models.CharField(_("发送号码"), max_length=20, db_index=True)
    body = models.TextField(_("短信内容"))
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now, db_index=True)
    order = models.ForeignKey(
        WorkOrder,
        verbose_name=_("工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sms_messages",
    )
    reply = models.ForeignKey(
        "core.Notification",
        verbose_name=_("回复短信"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    error = models.CharField(_("未受理原因"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("短信诉求")
        verbose_name_plural = _("短信诉求")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.gateway_id


class Callback(models.Model):
    """回访: the center asks the citizen whether the matter is solved and how satisfied
    they are (one per closing round; the rating itself is the engine's `Rating`)."""

    order = models.ForeignKey(
        WorkOrder, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="callbacks"
    )
    round = models.PositiveSmallIntegerField(_("办理轮次"))
    solved = models.BooleanField(_("问题已解决"))
    value = models.CharField(_("满意度"), max_length=16, choices=CallbackResult.choices)
    note = models.TextField(_("回访记录"), blank=True)
    by = models.ForeignKey(
        _USER,
        verbose_name=_("回访人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("被评价部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("回访时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "round"], name="hotline_callback_per_round")
        ]

    def __str__(self) -> str:
        return f"{self.order_id}:{self.round}:{self.value}"
