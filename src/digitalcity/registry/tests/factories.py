"""The registry's test city: the demo sources and rules over a few divisions, and personas
(a police clerk, a civil-affairs clerk, a data officer, an outsider clerk, a citizen, an
administrator, someone allowed to see unmasked data)."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Permission

from digitalcity.core.ids import citizen_id_check_char, org_code_check_char, uscc_check_char
from digitalcity.core.models import Department, Division, DivisionLevel, MembershipRole
from digitalcity.identity.models import AccountKind, User
from digitalcity.identity.tests.factories import DepartmentFactory, MembershipFactory, UserFactory

from ..demo import DEMO_SOURCES, seed_registry
from ..models import Organization, Person, Source

__all__ = [
    "City",
    "Origin",
    "csv_bytes",
    "field_origin",
    "make_city",
    "person_id",
    "police_row",
    "uscc",
]

POLICE_HEADERS = [h for h in next(s for s in DEMO_SOURCES if s.code == "police").mapping]


@dataclass(frozen=True)
class Origin:
    """A golden field's provenance as the current version keeps it."""

    source: str  # the source's code
    batch_id: int | None
    record_id: int | None
    at: datetime.datetime


def field_origin(subject: Person | Organization, field: str) -> Origin:
    """Provenance of `field` of `subject`'s golden record (KeyError: no source gives it)."""
    version = subject.versions.get(valid_to__isnull=True)
    source_id, batch_id, record_id, at = version.provenance[field]
    return Origin(
        Source.objects.get(pk=source_id).code,
        batch_id,
        record_id,
        datetime.datetime.fromisoformat(at),
    )


def person_id(n: int, *, division: str = "149801", birth: datetime.date | None = None) -> str:
    born = birth or datetime.date(1980, 1, 1) + datetime.timedelta(days=n)
    body = f"{division}{born:%Y%m%d}{n % 1000:03d}"
    return body + citizen_id_check_char(body)


def uscc(n: int) -> str:
    org_body = f"MA{n:06d}"
    body = "91149801" + org_body + org_code_check_char(org_body)
    return body + uscc_check_char(body)


def police_row(number: str, **values: str) -> dict[str, str]:
    row = dict.fromkeys(POLICE_HEADERS, "")
    row.update(
        {
            "公民身份号码": number,
            "姓名": "张三",
            "性别": "男",
            "出生日期": "",
            "户籍地址": "示范市中心区人民路1号",
            "户籍地区划代码": "149801",
            "婚姻状况": "未婚",
            "户籍状态": "正常",
        }
    )
    row.update(values)
    return row


def csv_bytes(
    rows: list[dict[str, str]], *, encoding: str = "utf-8", headers: list[str] | None = None
) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    names = headers or list(rows[0])
    writer.writerow(names)
    for row in rows:
        writer.writerow([row.get(h, "") for h in names])
    return out.getvalue().encode(encoding)


@dataclass
class City:
    departments: dict[str, Department]
    sources: dict[str, Source]
    police_clerk: User
    civil_clerk: User
    data_officer: User
    outsider: User
    citizen: User
    admin: User
    revealer: User


def make_city() -> City:
    city = Division.objects.create(code="149800", name="示范市", level=DivisionLevel.CITY)
    for code, name in (("149801", "中心区"), ("149802", "东城区"), ("149803", "新区")):
        Division.objects.create(code=code, name=name, level=DivisionLevel.COUNTY, parent=city)
    departments = {
        code: DepartmentFactory.create(code=code, name=name, short_name=name, division=city)
        for code, name in (
            ("police", "示范市公安局"),
            ("civil-affairs", "示范市民政局"),
            ("hrss", "示范市人力资源和社会保障局"),
            ("health", "示范市卫生健康委员会"),
            ("samr", "示范市市场监督管理局"),
            ("tax", "示范市税务局"),
            ("ecology", "示范市生态环境局"),
            ("big-data", "示范市大数据局"),
        )
    }
    seed_registry()
    staff: dict[str, Any] = {"kind": AccountKind.STAFF, "id_number": None}

    def member(username: str, department: str, role: str = MembershipRole.CLERK) -> User:
        user = UserFactory.create(username=username, real_name="王" + username[:2], **staff)
        MembershipFactory.create(user=user, department=departments[department], role=role)
        return user

    revealer = member("revealer", "police")
    revealer.user_permissions.add(
        Permission.objects.get(
            codename="view_unmasked_personal_data", content_type__app_label="identity"
        )
    )
    return City(
        departments=departments,
        sources={s.code: s for s in Source.objects.all()},
        police_clerk=member("police_clerk", "police"),
        civil_clerk=member("civil_clerk", "civil-affairs"),
        data_officer=member("data_officer", "big-data", MembershipRole.DATA_OFFICER),
        outsider=member("outsider", "ecology"),
        citizen=UserFactory.create(username="citizen", real_name="李小红"),
        admin=UserFactory.create(
            username="admin",
            kind=AccountKind.ADMIN,
            id_number=None,
            is_staff=True,
            is_superuser=True,
        ),
        revealer=revealer,
    )
