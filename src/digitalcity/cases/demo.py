"""Example cases for the demo city, so the workbench, the desk and 我的办件 are not empty.

Everything goes through the engine's services as the demo personas (web.demo), at the
current time: the services take no explicit "now", so no case can be made overdue here;
one case gets a one-working-day legal limit, so the worker's first sweep prompts it and
it shows as near due, with its prompt signal.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction

from digitalcity.core.models import Department
from digitalcity.identity.models import User

from .choices import CaseChannel, CasePriority, RatingValue, TaskOutcome
from .declare import get_type
from .examples import EXAMPLE_PARALLEL
from .models import Case, Clock
from .services import (
    case_open,
    case_transition,
    clock_extend,
    rating_submit,
    task_complete,
    urge_issue,
)
from .sweep import sweep

__all__ = ["seed_demo_cases"]

logger = logging.getLogger("digitalcity.cases")

LEAD = "approval"
CO = ("samr", "ecology")
#: Who handles each department's review task (web.demo personas).
HANDLERS = {"approval": "head", "samr": "samr", "ecology": "eco"}
#: The promised limit (承诺时限) of the demo cases, shorter than the 20-day legal one as
#: cities promise; it also keeps the clocks (with the red-card margin and the extension)
#: inside the years whose holidays are known a few weeks longer.
PROMISED_DAYS = 10
EXTENSION_DAYS = 2


def _complete(case: Case, department: str, users: dict[str, User], opinion: str) -> None:
    task = case.tasks.get(department__code=department)
    task_complete(
        task=task, actor=users[HANDLERS[department]], opinion=opinion, outcome=TaskOutcome.AGREE
    )


def _accept(case: Case, users: dict[str, User]) -> Case:
    return case_transition(
        case=case,
        transition="accept",
        actor=users["window"],
        input={"opinion": "材料齐全，予以受理"},
    )


def seed_demo_cases() -> int:
    """Open the demo's example cases once; returns how many were opened (0 if they exist,
    the example type is switched off, or a demo persona is missing).

    States: submitted; reviewing with three departments' tasks open; reviewing with one
    task done, an urge order and an extended clock; in correction (clocks paused);
    deciding; closed and rated; and one near its (one-day) limit, prompted by the worker.
    """
    try:
        get_type(EXAMPLE_PARALLEL.code)
    except ImproperlyConfigured:
        return 0
    if Case.objects.filter(type_code=EXAMPLE_PARALLEL.code).exists():
        return 0
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=["window", "head", "samr", "eco", "supervisor", "citizen", "enterprise"]
        )
    }
    departments = {d.code: d for d in Department.objects.filter(code__in=(LEAD, *CO))}
    if len(users) < 7 or len(departments) < 3:
        return 0
    try:
        with transaction.atomic():
            created = _seed(users, departments)
    except ValidationError as error:
        # A year without calendar data (and estimates off): the clocks cannot be set, and
        # the demo does without example cases rather than invent deadlines.
        logger.warning("示例办件未创建：%s", "；".join(error.messages))
        return 0
    # The worker would prompt the one-day case within a sweep interval; show it at once.
    sweep()
    return created


def _seed(users: dict[str, User], departments: dict[str, Department]) -> int:
    lead, co = departments[LEAD], [departments[c] for c in CO]

    def open_(subject: str, applicant: User, **extra: Any) -> Case:
        extra.setdefault("clock_limits", {"legal": PROMISED_DAYS})
        return case_open(
            type_code=EXAMPLE_PARALLEL.code,
            subject=subject,
            actor=applicant,
            applicant=applicant,
            department=lead,
            co_departments=co,
            channel=extra.pop("channel", CaseChannel.ONLINE),
            **extra,
        )

    citizen, enterprise = users["citizen"], users["enterprise"]
    open_("个体工商户营业执照变更登记", citizen)

    _accept(open_("餐饮服务食品经营许可（新办）", enterprise), users)

    urged = _accept(
        open_("建设项目环境影响评价审批", enterprise, priority=CasePriority.URGENT), users
    )
    _complete(urged, "samr", users, "经核查，主体资格合法有效，同意。")
    urge_issue(case=urged, actor=users["supervisor"], note="群众反映进度较慢，请加快办理并回复。")
    clock_extend(
        clock=Clock.objects.get(case=urged, task=None, code="legal"),
        amount=EXTENSION_DAYS,
        reason="需组织专家现场踏勘，经负责人批准延期",
        approved_by=users["head"],
    )

    correction = _accept(open_("户外广告设施设置许可", citizen, channel=CaseChannel.WINDOW), users)
    case_transition(
        case=correction,
        transition="ask_correction",
        actor=users["window"],
        input={"opinion": "请补充广告设施结构安全检测报告"},
    )

    deciding = _accept(open_("公共场所卫生许可", enterprise), users)
    for department in (LEAD, *CO):
        _complete(deciding, department, users, "经审查，符合条件。")

    closed = _accept(open_("药品零售企业许可证换发", citizen), users)
    for department in (LEAD, *CO):
        _complete(closed, department, users, "同意换发。")
    case_transition(
        case=closed, transition="decide", actor=users["head"], input={"opinion": "准予换发许可证"}
    )
    rating_submit(
        case=closed,
        actor=citizen,
        value=RatingValue.SATISFIED,
        text="网上办理很方便，跑一次就办好了",
    )

    _accept(open_("临时占用城市道路许可", citizen, clock_limits={"legal": 1}), users)
    return 7
