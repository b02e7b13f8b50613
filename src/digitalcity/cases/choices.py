"""Named choices of the case engine (STYLE.md 8): no bare status strings in logic."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "ACTIVE_TASK_STATES",
    "APPLICANT_ROLE",
    "CaseChannel",
    "CaseDepartmentRole",
    "CasePriority",
    "ClockState",
    "ClockUnit",
    "EventKind",
    "JoinRule",
    "RatingValue",
    "RatingVia",
    "ReturnReason",
    "SignalKind",
    "SignalStage",
    "TaskKind",
    "TaskOutcome",
    "TaskState",
    "UrgeState",
]

#: A pseudo-role for `Transition.roles`: the case's own applicant may take the transition
#: (submit a correction, withdraw). Every other role is a core `MembershipRole` value.
APPLICANT_ROLE = "applicant"


class CaseChannel(models.TextChoices):
    ONLINE = "online", _("网上申请")
    WINDOW = "window", _("窗口")
    PHONE = "phone", _("电话")
    SMS = "sms", _("短信")
    APP = "app", _("移动端")
    OPEN311 = "open311", _("Open311 接口")
    MAIL = "mail", _("信件")
    OTHER = "other", _("其他")


class CasePriority(models.IntegerChoices):
    """Higher sorts first in queues (12345: 一般 / 紧急 / 特急)."""

    NORMAL = 0, _("一般")
    URGENT = 1, _("紧急")
    CRITICAL = 2, _("特急")


class CaseDepartmentRole(models.TextChoices):
    LEAD = "lead", _("牵头部门")
    CO = "co", _("协办部门")


class TaskKind(models.TextChoices):
    HANDLE = "handle", _("办理")
    SIGN = "sign", _("签收")
    REVIEW = "review", _("审查")
    COUNTERSIGN = "countersign", _("会签")


class TaskState(models.TextChoices):
    OPEN = "open", _("待办")
    CLAIMED = "claimed", _("办理中")
    COMPLETED = "completed", _("已完成")
    RETURNED = "returned", _("已退回")
    CANCELLED = "cancelled", _("已取消")


#: Task states in which someone still has to act.
ACTIVE_TASK_STATES = (TaskState.OPEN, TaskState.CLAIMED)


class JoinRule(models.TextChoices):
    ALL = "all", _("全部完成")
    ANY = "any", _("任一完成")


class TaskOutcome(models.TextChoices):
    DONE = "done", _("已办理")
    AGREE = "agree", _("同意")
    DISAGREE = "disagree", _("不同意")
    CORRECTION = "correction", _("需补正")


class ReturnReason(models.TextChoices):
    """Why a department hands a task back (退单); the center reviews it, then reassigns."""

    NOT_OUR_DUTY = "not_our_duty", _("非本部门职责")
    WRONG_DIVISION = "wrong_division", _("不属本辖区")
    INSUFFICIENT_INFO = "insufficient_info", _("信息不全无法办理")
    DUPLICATE = "duplicate", _("重复件")
    LEGAL_CHANNEL = "legal_channel", _("应通过法定途径解决")
    OTHER = "other", _("其他")


class EventKind(models.TextChoices):
    CREATED = "created", _("创建")
    TRANSITION = "transition", _("流转")
    TASK_CREATED = "task_created", _("任务下达")
    TASK_CLAIMED = "task_claimed", _("任务签收")
    TASK_RELEASED = "task_released", _("任务释放")
    TASK_COMPLETED = "task_completed", _("任务完成")
    TASK_RETURNED = "task_returned", _("任务退回")
    TASK_REASSIGNED = "task_reassigned", _("任务改派")
    TASK_CANCELLED = "task_cancelled", _("任务取消")
    CLOCK_STARTED = "clock_started", _("计时开始")
    CLOCK_PAUSED = "clock_paused", _("计时暂停")
    CLOCK_RESUMED = "clock_resumed", _("计时恢复")
    CLOCK_EXTENDED = "clock_extended", _("延期")
    CLOCK_STOPPED = "clock_stopped", _("计时结束")
    SIGNAL = "signal", _("监察信号")
    URGE = "urge", _("督办")
    URGE_ANSWERED = "urge_answered", _("督办回复")
    RATING = "rating", _("评价")
    REOPENED = "reopened", _("重新办理")
    COMMENT = "comment", _("备注")


class ClockUnit(models.TextChoices):
    WORKDAYS = "workdays", _("工作日")
    WORKHOURS = "workhours", _("工作小时")
    CALENDAR_DAYS = "calendar_days", _("自然日")
    #: Natural hours, for limits the rules count round the clock (12345: feedback within
    #: 2 hours where life or property is in danger).
    CALENDAR_HOURS = "calendar_hours", _("小时")


class ClockState(models.TextChoices):
    PENDING = "pending", _("未开始")
    RUNNING = "running", _("计时中")
    PAUSED = "paused", _("已暂停")
    STOPPED = "stopped", _("已结束")


class SignalStage(models.TextChoices):
    """How far a running clock has got; ordered, each stage signalled at most once per due."""

    NONE = "none", _("正常")
    PROMPTED = "prompted", _("临期提醒")
    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")


class SignalKind(models.TextChoices):
    PROMPT = "prompt", _("临期提醒")
    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")


class UrgeState(models.TextChoices):
    OPEN = "open", _("待回复")
    ANSWERED = "answered", _("已回复")
    CLOSED = "closed", _("已关闭")


class RatingValue(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY = "basically", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")


class RatingVia(models.TextChoices):
    ACCOUNT = "account", _("账号")
    LINK = "link", _("短信链接")
    PHONE = "phone", _("电话回访")
