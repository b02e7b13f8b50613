"""Demo work orders for 示范市: a few dozen over the last four weeks, in every state.

Everything goes through the hotline's services as the demo personas (web.demo). The
services take no explicit "now", so each step of an order's story runs with the clock
set to its moment (time-machine, `tick=False`): orders are taken within office hours on
working days, and the engine computes every deadline, signing limit, lateness and
call-back day from those moments by its own rules — nothing is moved afterwards. A
step never lies in the future; the stories that go furthest start at least five working
days back.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta

import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from digitalcity.cases.choices import CaseChannel, ReturnReason
from digitalcity.core import calendar
from digitalcity.core.models import Department, Division
from digitalcity.identity.models import User

from .choices import RequestType, Urgency
from .conf import city_bounds
from .models import Category, WorkOrder
from .services import (
    CatalogueRow,
    catalogue_in_force,
    catalogue_publish,
    order_answer,
    order_archive,
    order_callback,
    order_decide_extension,
    order_dispatch,
    order_intake,
    order_merge,
    order_reply,
    order_request_extension,
    order_return,
    order_sign,
    suggest_dispatch,
)

__all__ = ["seed_demo_orders"]

logger = logging.getLogger("digitalcity.hotline")

#: Category prefix → lead department code of the demo catalogue (and co-handlers).
CATALOGUE = (
    ("0101", "urban-management", ()),
    ("0102", "urban-management", ()),
    ("0103", "housing", ()),
    ("02", "housing", ()),
    ("03", "police", ()),
    ("04", "ecology", ()),
    ("0501", "samr", ()),
    ("0502", "samr", ("health",)),
    ("06", "hrss", ()),
    ("07", "emergency", ("urban-management",)),
    ("08", "approval", ()),
)
#: Orders that go further than dispatch are handled by the departments that have a demo
#: clerk (ecology: eco, samr: samr).
STORIES = (
    ("040101", RequestType.COMPLAINT, "工地夜间施工噪声扰民，凌晨仍有打桩声", "full_satisfied"),
    ("040101", RequestType.COMPLAINT, "广场舞音响声音过大，晚上十点后仍未停止", "rework"),
    ("040102", RequestType.REPORT, "小区旁工厂烟囱冒黑烟，气味刺鼻", "replied"),
    ("040103", RequestType.REPORT, "河道有企业偷排污水，水面发黑", "handling_late"),
    ("050201", RequestType.COMPLAINT, "餐馆后厨卫生差，吃后腹泻", "full_basically"),
    ("050102", RequestType.COMPLAINT, "健身房办了预付卡后关门跑路", "extension"),
    ("050101", RequestType.COMPLAINT, "网购家电质量问题商家拒绝退货", "returned"),
    ("050201", RequestType.HELP, "超市售卖过期食品", "archived"),
    ("040101", RequestType.COMPLAINT, "装修噪音周末早上七点就开始", "handling"),
    ("040102", RequestType.SUGGESTION, "建议加强秸秆焚烧巡查", "dispatched"),
    ("010101", RequestType.HELP, "小区门口垃圾三天无人清运", "dispatched"),
    ("010202", RequestType.HELP, "人民路路灯连续一周不亮", "dispatched"),
    ("020101", RequestType.HELP, "整栋楼停水，没有提前通知", "urgent"),
    ("020401", RequestType.COMPLAINT, "暖气不热，室温只有十四度", "dispatched"),
    ("030201", RequestType.COMPLAINT, "小区出口长期被违停车辆堵住", "received"),
    ("060101", RequestType.HELP, "工地拖欠农民工三个月工资", "dispatched"),
    ("070101", RequestType.REPORT, "商场消防通道被货物堵死", "critical"),
    ("080101", RequestType.CONSULT, "营业执照变更需要哪些材料", "answered"),
    ("080102", RequestType.CONSULT, "新生儿医保怎么办理", "answered"),
    ("080201", RequestType.PRAISE, "表扬政务大厅窗口工作人员耐心细致", "received"),
    ("040101", RequestType.COMPLAINT, "工地夜间施工太吵了，凌晨两点还在干", "merge"),
)


def _points(rng: random.Random) -> tuple[float, float]:
    bounds = city_bounds()
    lat0, lon0 = bounds.center
    return (
        round(lat0 + rng.uniform(-0.22, 0.22), 5),
        round(lon0 + rng.uniform(-0.3, 0.3), 5),
    )


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def _workday_back(n: int) -> date:
    """The working day `n` working days before today (n ≥ 1)."""
    day, left = timezone.localdate(), n
    while left:
        day -= timedelta(days=1)
        if calendar.is_workday(day):
            left -= 1
    return day


def _taken_at(rng: random.Random, back: int) -> datetime:
    """A moment within office hours of the working day `back` working days ago; `back=0`:
    earlier today if today's office hours have begun, else the last working day's
    afternoon."""
    if back == 0:
        today = timezone.localdate()
        opened = calendar.add_workhours(_day_start(today), 0)
        elapsed = (
            calendar.workhours_between(opened, timezone.now())
            if calendar.is_workday(today)
            else 0.0
        )
        if elapsed >= 0.75:
            return calendar.add_workhours(opened, round(rng.uniform(0.1, elapsed - 0.5), 2))
        return calendar.add_workhours(_day_start(_workday_back(1)), round(rng.uniform(4, 6.5), 2))
    return calendar.add_workhours(_day_start(_workday_back(back)), round(rng.uniform(0.2, 6), 2))


class _Story:
    """The moments of one order's story: each step some working hours after the last,
    never later than now."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def after(self, workhours: float) -> datetime:
        moment = calendar.add_workhours(self.moment, workhours)
        self.moment = min(moment, timezone.now() - timedelta(minutes=1))
        return self.moment

    @contextmanager
    def step(self, workhours: float = 0) -> Iterator[None]:
        moment = self.after(workhours) if workhours else self.moment
        with time_machine.travel(moment, tick=False):
            yield


def _catalogue(actor: User) -> None:
    if catalogue_in_force() is not None:
        return
    departments = {d.code: d for d in Department.objects.all()}
    categories = {c.code: c for c in Category.objects.all()}
    rows = [
        CatalogueRow(
            categories[code],
            departments[lead],
            co_handlers=tuple(departments[c] for c in co if c in departments),
        )
        for code, lead, co in CATALOGUE
        if code in categories and lead in departments
    ]
    if rows:
        # In force before the oldest demo order is taken (about four weeks back).
        catalogue_publish(
            rows=rows,
            actor=actor,
            valid_from=_day_start(_workday_back(25)),
            note="示范市首版派单目录",
        )


#: Stories that stop at intake or dispatch: taken today (or on the last working day).
RECENT = frozenset({"received", "urgent", "critical", "merge"})


def _story(
    index: int,
    spec: tuple[str, str, str, str],
    users: dict[str, User],
    districts: list[Division],
    rng: random.Random,
    first: WorkOrder | None,
) -> WorkOrder:
    code, request_type, text, kind = spec
    agent, eco, samr = users["agent"], users["eco"], users["samr"]
    supervisor = users["supervisor"]
    lat, lon = _points(rng)
    channel = (CaseChannel.PHONE, CaseChannel.SMS, CaseChannel.ONLINE)[index % 3]
    urgency = {"urgent": Urgency.URGENT, "critical": Urgency.CRITICAL}.get(kind, Urgency.NORMAL)
    # 5 … 19 working days back (about four weeks); the recent ones today.
    story = _Story(_taken_at(rng, 0 if kind in RECENT else 5 + (index * 37) % 15))
    with story.step():
        order = order_intake(
            channel=channel if channel != CaseChannel.ONLINE else CaseChannel.PHONE,
            request_type=request_type,
            category=code,
            description=text,
            urgency=urgency,
            actor=agent,
            caller_name=rng.choice(("王先生", "李女士", "张先生", "刘女士", "陈先生")),
            caller_phone="1390000" + f"{1000 + index:04d}" if kind != "merge" else "13900001000",
            address=f"{districts[index % len(districts)].name}{rng.randint(1, 99)}号",
            division=districts[index % len(districts)],
            lat=lat,
            lon=lon,
            is_confidential=kind == "returned",
            idempotency_key=f"demo-{index}",
        )
    handler = eco if code.startswith("04") else samr
    if kind in ("received", "answered", "merge"):
        with story.step(0.1):
            if kind == "answered":
                order_answer(
                    order=order,
                    actor=agent,
                    reply="可在政务服务网“一网通办”在线办理，所需材料见办事指南。",
                )
            if kind == "merge" and first is not None:
                order_merge(order=order, into=first, actor=agent)
        return order
    with story.step(round(rng.uniform(0.1, 0.5), 2)):
        suggestion = suggest_dispatch(order)
        lead = suggestion.lead or Department.objects.get(code="gov")
        stops_here = kind in ("dispatched", "urgent", "critical") or not code.startswith(
            ("04", "05")
        )
        # Co-handlers only where the order stays at dispatch: the demo has no clerk for them.
        co = suggestion.co_handlers if stops_here else []
        order_dispatch(order=order, actor=agent, lead=lead, co_handlers=co)
    if stops_here:
        return order
    # Signed within the hour, or a day and a half late (the signing limit is 2 working hours).
    with story.step(12 if kind == "handling_late" else round(rng.uniform(0.3, 1.5), 2)):
        if kind == "returned":
            order_return(
                order=order,
                actor=handler,
                reason_code=ReturnReason.NOT_OUR_DUTY,
                reason="属商务部门职责",
            )
            return order
        order_sign(order=order, actor=handler)
    if kind in ("handling", "handling_late"):
        return order
    if kind == "extension":
        with story.step(3):
            request = order_request_extension(
                order=order, actor=handler, amount=5, reason="需联合执法调查"
            )
        with story.step(1):
            order_decide_extension(request=request, actor=supervisor, approve=True, note="同意延期")
        return order
    with story.step(7.5):
        order_reply(order=order, actor=handler, reply="已到现场核查并责令整改，后续将持续跟踪。")
    if kind == "replied":
        return order
    with story.step(5):
        if kind != "rework":
            value = "basically" if kind == "full_basically" else "satisfied"
            order_callback(order=order, actor=agent, solved=True, value=value)
        else:
            order_callback(
                order=order, actor=agent, solved=False, value="dissatisfied", note="问题依旧"
            )
    if kind == "rework":
        with story.step(3):
            order_sign(order=order, actor=handler)
        with story.step(7.5):
            order_reply(order=order, actor=handler, reply="再次执法检查并处罚，已恢复正常。")
        with story.step(4):
            order_callback(order=order, actor=agent, solved=True, value="satisfied")
    if kind in ("archived", "full_satisfied"):
        with story.step(0.5):
            order_archive(order=order, actor=agent)
    return order


def _citizen_orders(citizen: User, users: dict[str, User], rng: random.Random) -> int:
    """Two web orders of the demo citizen, so 我的诉求 on the portal shows progress: one
    replied (waiting for the citizen's rating), one with a department."""
    made = 0
    for index, (code, text, replied) in enumerate(
        (
            ("040101", "楼下饭店排风机噪声很大，晚上十一点还在响", True),
            ("010101", "楼下垃圾桶满了没人清运，气味很大", False),
        )
    ):
        story = _Story(_taken_at(rng, 6 if replied else 2))
        with story.step():
            order = order_intake(
                channel=CaseChannel.ONLINE,
                request_type=RequestType.HELP,
                category=code,
                description=text,
                actor=citizen,
                address="中心区人民路街道府前社区",
                division="149801001",
                idempotency_key=f"demo-citizen-{index}",
            )
        with story.step(0.5):
            lead = suggest_dispatch(order).lead or Department.objects.get(code="gov")
            order_dispatch(order=order, actor=users["agent"], lead=lead)
        if replied and lead.code == "ecology":  # the demo clerk `eco` handles it
            with story.step(1):
                order_sign(order=order, actor=users["eco"])
            with story.step(7.5):
                order_reply(
                    order=order,
                    actor=users["eco"],
                    reply="已到现场检测，责令饭店加装消声装置，22 点后停用排风机。",
                )
        made += 1
    return made


def seed_demo_orders() -> int:
    """Create the demo orders once; returns how many (0 if they exist or personas lack)."""
    if WorkOrder.objects.filter(idempotency_key__startswith="demo-").exists():
        return 0
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["agent", "eco", "samr", "supervisor"])
    }
    districts = list(Division.objects.filter(code__in=["149801", "149802", "149803"]))
    if len(users) < 4 or not districts or not Department.objects.filter(code="hotline-12345"):
        return 0
    rng = random.Random(12345)  # noqa: S311 - reproducible demo data
    created = 0
    from .knowledge_demo import seed_knowledge  # the knowledge base (open311's part)

    seed_knowledge()
    try:
        with transaction.atomic():
            _catalogue(users["agent"])
            first: WorkOrder | None = None
            for round_ in range(2):
                for index, spec in enumerate(STORIES):
                    number = round_ * len(STORIES) + index
                    order = _story(number, spec, users, districts, rng, first)
                    if first is None:
                        first = order
                    created += 1
            citizen = User.objects.filter(username="citizen").first()
            if citizen is not None:
                created += _citizen_orders(citizen, users, rng)
    except ValidationError as error:
        logger.warning("示例工单未创建：%s", "；".join(error.messages))
        return 0
    return created
