"""Factories and personas (STYLE.md 9) other apps reuse in their tests.

    from digitalcity.identity.tests.factories import make_personas
    p = make_personas()
    p.clerk_a, p.department_a   # a clerk acting for department A
    p.clerk_b                   # the outsider for department A's objects

Every persona's password is PASSWORD. Numbers (ID, USCC, phone) are valid and unique.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import factory

from digitalcity.core.ids import citizen_id_check_char, uscc_check_char
from digitalcity.core.models import (
    Department,
    DepartmentKind,
    Division,
    DivisionLevel,
    Membership,
    MembershipRole,
)
from digitalcity.identity.models import AccountKind, User

__all__ = [
    "PASSWORD",
    "DepartmentFactory",
    "DivisionFactory",
    "MembershipFactory",
    "Personas",
    "UserFactory",
    "citizen_id_number",
    "make_personas",
    "uscc_number",
]

# Meets every rule of AUTH_PASSWORD_VALIDATORS (length 10+, three character classes).
PASSWORD = "Shifan#2026city"
_serial = itertools.count(1)


def citizen_id_number(n: int, *, division: str = "110101", birth: str = "19900307") -> str:
    body = f"{division}{birth}{n % 1000:03d}"
    return body + citizen_id_check_char(body)


def uscc_number(n: int) -> str:
    body = f"91110101{n % 10**9:09d}"
    return body + uscc_check_char(body)


class DivisionFactory(factory.django.DjangoModelFactory[Division]):
    class Meta:
        model = Division
        django_get_or_create = ("code",)

    code = "110101"
    name = "东城区"
    level = DivisionLevel.COUNTY


class DepartmentFactory(factory.django.DjangoModelFactory[Department]):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"测试局{n}")
    code = factory.Sequence(lambda n: f"dept-{n}")
    kind = DepartmentKind.BUREAU
    division = factory.SubFactory(DivisionFactory)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    kind = AccountKind.CITIZEN
    real_name = "张三"
    id_number = factory.LazyFunction(lambda: citizen_id_number(next(_serial)))
    phone = factory.LazyFunction(lambda: f"138{next(_serial):08d}")

    @factory.post_generation
    def password(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory, kind=AccountKind.STAFF, id_number=None)
    department = factory.SubFactory(DepartmentFactory)
    role = MembershipRole.CLERK


@dataclass
class Personas:
    citizen: User
    legal_person: User
    clerk_a: User
    clerk_b: User
    supervisor: User
    admin: User
    department_a: Department
    department_b: Department


def make_personas() -> Personas:
    department_a = DepartmentFactory.create(name="甲局", code="dept-a")
    department_b = DepartmentFactory.create(name="乙局", code="dept-b")
    staff = {"kind": AccountKind.STAFF, "id_number": None}
    clerk_a = UserFactory.create(username="clerk_a", real_name="王甲", **staff)
    clerk_b = UserFactory.create(username="clerk_b", real_name="赵乙", **staff)
    supervisor = UserFactory.create(username="supervisor", real_name="钱督", **staff)
    MembershipFactory.create(user=clerk_a, department=department_a, role=MembershipRole.CLERK)
    MembershipFactory.create(user=clerk_b, department=department_b, role=MembershipRole.CLERK)
    MembershipFactory.create(
        user=supervisor, department=department_a, role=MembershipRole.SUPERVISOR
    )
    return Personas(
        citizen=UserFactory.create(username="citizen", real_name="张三"),
        legal_person=UserFactory.create(
            username="legal_person",
            kind=AccountKind.LEGAL_PERSON,
            real_name="",
            id_number=None,
            org_name="示范市某某科技有限公司",
            uscc=uscc_number(next(_serial)),
            legal_representative="李四",
        ),
        clerk_a=clerk_a,
        clerk_b=clerk_b,
        supervisor=supervisor,
        admin=UserFactory.create(
            username="admin",
            kind=AccountKind.ADMIN,
            real_name="孙管",
            id_number=None,
            is_staff=True,
            is_superuser=True,
        ),
        department_a=department_a,
        department_b=department_b,
    )
