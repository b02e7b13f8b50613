"""The hotline's test world: the 12345 center with an agent and its head, two handling
departments (A and B of the personas) and a district government as backstop.

w = make_hotline_world(personas)
order = make_order(w)            # a phone order taken by the agent
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from digitalcity.cases.choices import CaseChannel
from digitalcity.core.models import (
    Department,
    DepartmentKind,
    Division,
    DivisionLevel,
    MembershipRole,
)
from digitalcity.identity.models import AccountKind, User
from digitalcity.identity.tests.factories import (
    DepartmentFactory,
    DivisionFactory,
    MembershipFactory,
    Personas,
    UserFactory,
    make_personas,
)

from ..categories import seed_categories
from ..choices import RequestType, Urgency
from ..models import WorkOrder
from ..services import order_intake

__all__ = ["HotlineWorld", "make_hotline_world", "make_order"]


@dataclass
class HotlineWorld:
    p: Personas
    center: Department
    agent: User
    center_head: User
    head_a: User
    district: Division
    district_gov: Department


def _staff(username: str, name: str) -> User:
    return UserFactory.create(
        username=username, real_name=name, kind=AccountKind.STAFF, id_number=None
    )


def make_hotline_world(personas: Personas | None = None) -> HotlineWorld:
    p = personas or make_personas()
    # The migration seeds them; a TransactionTestCase's flush removes them again.
    seed_categories()
    center = DepartmentFactory.create(
        code="hotline-12345", name="12345政务服务便民热线中心", kind=DepartmentKind.CENTER
    )
    agent = _staff("agent", "陈静")
    center_head = _staff("center_head", "周主任")
    head_a = _staff("head_a", "王甲长")
    MembershipFactory.create(user=agent, department=center, role=MembershipRole.WINDOW)
    MembershipFactory.create(user=center_head, department=center, role=MembershipRole.HEAD)
    MembershipFactory.create(user=head_a, department=p.department_a, role=MembershipRole.HEAD)
    district = DivisionFactory.create(code="110102", name="西城区", level=DivisionLevel.COUNTY)
    district_gov = DepartmentFactory.create(
        code="gov-test", name="测试区人民政府", kind=DepartmentKind.GOVERNMENT, division=district
    )
    return HotlineWorld(
        p=p,
        center=center,
        agent=agent,
        center_head=center_head,
        head_a=head_a,
        district=district,
        district_gov=district_gov,
    )


def make_order(w: HotlineWorld, **overrides: Any) -> WorkOrder:
    kwargs: dict[str, Any] = {
        "channel": CaseChannel.PHONE,
        "request_type": RequestType.COMPLAINT,
        "category": "040101",
        "description": "小区旁工地夜间施工噪声扰民，凌晨两点仍在作业",
        "urgency": Urgency.NORMAL,
        "actor": w.agent,
        "caller_name": "张三",
        "caller_phone": "13812345678",
        "address": "人民路 1 号",
    }
    kwargs.update(overrides)
    return order_intake(**kwargs)
