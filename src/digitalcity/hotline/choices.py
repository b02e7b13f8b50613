"""Named choices of the 12345 hotline (STYLE.md 8)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from digitalcity.cases.choices import CaseChannel, CasePriority

__all__ = [
    "INTAKE_CHANNELS",
    "CallState",
    "CallbackResult",
    "CaseChannel",
    "CasePriority",
    "DeadlineUnit",
    "ExtensionState",
    "OrderState",
    "RequestType",
    "Urgency",
]

#: Channels a work order can come in by (the engine's CaseChannel values).
INTAKE_CHANNELS = (
    CaseChannel.PHONE,
    CaseChannel.SMS,
    CaseChannel.ONLINE,
    CaseChannel.APP,
    CaseChannel.OPEN311,
    CaseChannel.MAIL,
)


class RequestType(models.TextChoices):
    CONSULT = "consult", _("咨询")
    HELP = "help", _("求助")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")
    SUGGESTION = "suggestion", _("建议")
    PRAISE = "praise", _("表扬")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


#: Urgency → the engine's queue priority.
URGENCY_PRIORITY = {
    Urgency.NORMAL: CasePriority.NORMAL,
    Urgency.URGENT: CasePriority.URGENT,
    Urgency.CRITICAL: CasePriority.CRITICAL,
}


class OrderState(models.TextChoices):
    """The states of the case type `hotline.order` (workflow.py)."""

    RECEIVED = "received", _("已受理")
    DISPATCHED = "dispatched", _("已派单")
    HANDLING = "handling", _("办理中")
    RETURNED = "returned", _("退单待审")
    REPLIED = "replied", _("已办结")
    REWORK = "rework", _("重办待派")
    ANSWERED = "answered", _("已直接答复")
    MERGED = "merged", _("已并单")
    ARCHIVED = "archived", _("已归档")


class DeadlineUnit(models.TextChoices):
    CALENDAR_HOURS = "calendar_hours", _("小时（自然时）")
    WORKDAYS = "workdays", _("工作日")


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未批准")


class CallState(models.TextChoices):
    RINGING = "ringing", _("振铃")
    ANSWERED = "answered", _("通话中")
    ENDED = "ended", _("已结束")


class CallbackResult(models.TextChoices):
    """回访 outcome; the first three are the engine's RatingValue values."""

    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")
