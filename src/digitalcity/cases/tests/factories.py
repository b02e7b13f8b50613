"""Helpers for case-engine tests, also meant for the pages' and services' tests.

w = make_world()                 # personas + department C, a head and a window clerk of A
case = open_example_case(w)      # an example.parallel case led by department A
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from digitalcity.core.models import Department, MembershipRole
from digitalcity.identity.models import AccountKind, User
from digitalcity.identity.tests.factories import (
    DepartmentFactory,
    MembershipFactory,
    Personas,
    UserFactory,
    make_personas,
)

from ..choices import CaseChannel
from ..models import Case
from ..services import case_open

__all__ = ["World", "make_world", "open_example_case"]


@dataclass
class World:
    p: Personas
    department_c: Department
    clerk_c: User
    head_a: User
    window_a: User


def _staff(username: str, name: str) -> User:
    return UserFactory.create(
        username=username, real_name=name, kind=AccountKind.STAFF, id_number=None
    )


def make_world(personas: Personas | None = None) -> World:
    p = personas or make_personas()
    department_c = DepartmentFactory.create(name="丙局", code="dept-c")
    clerk_c = _staff("clerk_c", "孙丙")
    head_a = _staff("head_a", "周甲长")
    window_a = _staff("window_a", "吴窗")
    MembershipFactory.create(user=clerk_c, department=department_c, role=MembershipRole.CLERK)
    MembershipFactory.create(user=head_a, department=p.department_a, role=MembershipRole.HEAD)
    MembershipFactory.create(user=window_a, department=p.department_a, role=MembershipRole.WINDOW)
    return World(p=p, department_c=department_c, clerk_c=clerk_c, head_a=head_a, window_a=window_a)


def open_example_case(w: World, **overrides: Any) -> Case:
    """An example.parallel case from the citizen, led by A with B and C co-handling."""
    kwargs: dict[str, Any] = {
        "type_code": "example.parallel",
        "subject": "食品经营许可申请",
        "actor": w.p.citizen,
        "department": w.p.department_a,
        "co_departments": [w.p.department_b, w.department_c],
        "channel": CaseChannel.ONLINE,
    }
    kwargs.update(overrides)
    return case_open(**kwargs)
