"""The demo city 示范市: divisions, departments, staff personas and synthetic people.

示范市 is fictional. Its code 149800 sits under the real province 山西省 (14) in a
prefecture range GB/T 2260 does not use (python-stdnum's loc.dat has no 1498xx), so
no real place is impersonated; its rows have source `local`, which the division
loader never overwrites.

Every step is idempotent: rows are looked up by their natural key (division code,
department code, username) and only missing ones are created, so running the demo
again changes nothing. Synthetic people come from a seeded random stream in which
person i depends only on persons before i: the first N are the same for any count.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from digitalcity.approval.demo import seed_approval
from digitalcity.cases.demo import seed_demo_cases
from digitalcity.core.calendar_import import seed_from_chinesecalendar
from digitalcity.core.divisions import load_divisions
from digitalcity.core.ids import citizen_id_check_char, org_code_check_char, uscc_check_char
from digitalcity.core.models import (
    Department,
    DepartmentKind,
    Division,
    DivisionLevel,
    DivisionSource,
    Membership,
    MembershipRole,
    Position,
)
from digitalcity.hotline.demo import seed_demo_orders
from digitalcity.identity.models import AccountKind, User
from digitalcity.registry.demo import seed_demo_people, seed_registry

__all__ = [
    "CITY_CODE",
    "DEMO_PASSWORD",
    "DemoLogin",
    "citizen_id",
    "enterprise_uscc",
    "government_uscc",
    "seed_demo",
    "synthetic_citizens",
    "synthetic_enterprises",
]

# A demo password that passes the level-3 rules (length 13, four character classes).
DEMO_PASSWORD = "Demo@2026city"  # noqa: S105 — printed to the operator as the demo login
CITY_CODE = "149800"
CITY_NAME = "示范市"  # the demo is this city whatever DC_CITY_NAME says
BATCH_SIZE = 500
# Synthetic people live in a username range of their own, apart from the personas.
CITIZEN_USERNAME = "citizen{:05d}"
ENTERPRISE_USERNAME = "enterprise{:04d}"

# code, name, [(township code suffix, name, [(community suffix, name)])]
DISTRICTS: tuple[tuple[str, str, tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...]], ...] = (
    (
        "149801",
        "中心区",
        (
            (
                "001",
                "人民路街道",
                (("001", "人民路社区"), ("002", "府前社区"), ("003", "鼓楼社区")),
            ),
            ("002", "解放路街道", (("001", "解放路社区"), ("002", "迎宾社区"))),
            ("003", "文化街道", (("001", "文庙社区"), ("002", "书院社区"))),
        ),
    ),
    (
        "149802",
        "东城区",
        (
            ("001", "东关街道", (("001", "东关社区"), ("002", "朝阳社区"))),
            ("101", "龙泉镇", (("001", "龙泉社区"), ("201", "上庄村"), ("202", "下庄村"))),
        ),
    ),
    (
        "149803",
        "新区",
        (
            ("001", "高新街道", (("001", "创业社区"), ("002", "科技城社区"))),
            ("002", "滨河街道", (("001", "滨河社区"), ("002", "望湖社区"))),
            ("201", "青山乡", (("201", "青山村"), ("202", "石门村"))),
        ),
    ),
)


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    short_name: str
    kind: str
    division: str
    positions: tuple[tuple[str, bool], ...] = (("负责人", True), ("承办人员", False))


_C = CITY_CODE
DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec("gov", "示范市人民政府", "市政府", DepartmentKind.GOVERNMENT, _C),
    DepartmentSpec("police", "示范市公安局", "公安局", DepartmentKind.BUREAU, _C),
    DepartmentSpec("civil-affairs", "示范市民政局", "民政局", DepartmentKind.BUREAU, _C),
    DepartmentSpec("hrss", "示范市人力资源和社会保障局", "人社局", DepartmentKind.BUREAU, _C),
    DepartmentSpec("health", "示范市卫生健康委员会", "卫健委", DepartmentKind.BUREAU, _C),
    DepartmentSpec("samr", "示范市市场监督管理局", "市场监管局", DepartmentKind.BUREAU, _C),
    DepartmentSpec("tax", "示范市税务局", "税务局", DepartmentKind.BUREAU, _C),
    DepartmentSpec(
        "natural-resources", "示范市自然资源和规划局", "自然资源局", DepartmentKind.BUREAU, _C
    ),
    DepartmentSpec("housing", "示范市住房和城乡建设局", "住建局", DepartmentKind.BUREAU, _C),
    DepartmentSpec("ecology", "示范市生态环境局", "生态环境局", DepartmentKind.BUREAU, _C),
    DepartmentSpec("urban-management", "示范市城市管理局", "城管局", DepartmentKind.BUREAU, _C),
    DepartmentSpec("emergency", "示范市应急管理局", "应急局", DepartmentKind.BUREAU, _C),
    DepartmentSpec(
        "approval",
        "示范市行政审批服务局",
        "审批局",
        DepartmentKind.BUREAU,
        _C,
        (("局长", True), ("窗口受理员", False), ("审批科科员", False), ("监察督办员", False)),
    ),
    DepartmentSpec(
        "hotline-12345",
        "示范市12345政务服务便民热线中心",
        "12345中心",
        DepartmentKind.CENTER,
        _C,
        (("主任", True), ("话务员", False), ("派单员", False)),
    ),
    DepartmentSpec(
        "big-data",
        "示范市大数据局",
        "大数据局",
        DepartmentKind.BUREAU,
        _C,
        (("局长", True), ("数据管理员", False), ("信息办系统管理员", False)),
    ),
    DepartmentSpec(
        "credit-office", "示范市社会信用体系建设办公室", "信用办", DepartmentKind.OTHER, _C
    ),
    *(
        DepartmentSpec(
            f"gov-{code}", f"示范市{name}人民政府", f"{name}政府", DepartmentKind.GOVERNMENT, code
        )
        for code, name, _townships in DISTRICTS
    ),
)


@dataclass(frozen=True)
class Persona:
    username: str
    real_name: str
    kind: str
    department: str | None
    role: str | None
    position: str | None
    label: str
    phone: str


PERSONAS: tuple[Persona, ...] = (
    Persona(
        "window",
        "张晓燕",
        AccountKind.STAFF,
        "approval",
        MembershipRole.WINDOW,
        "窗口受理员",
        "窗口人员",
        "13900000001",
    ),
    Persona(
        "head",
        "王建国",
        AccountKind.STAFF,
        "approval",
        MembershipRole.HEAD,
        "局长",
        "部门负责人",
        "13900000002",
    ),
    Persona(
        "samr",
        "李明",
        AccountKind.STAFF,
        "samr",
        MembershipRole.CLERK,
        "承办人员",
        "承办人员",
        "13900000003",
    ),
    Persona(
        "eco",
        "赵丽",
        AccountKind.STAFF,
        "ecology",
        MembershipRole.CLERK,
        "承办人员",
        "承办人员",
        "13900000004",
    ),
    Persona(
        "agent",
        "陈静",
        AccountKind.STAFF,
        "hotline-12345",
        MembershipRole.WINDOW,
        "话务员",
        "12345话务员",
        "13900000005",
    ),
    Persona(
        "supervisor",
        "刘振华",
        AccountKind.STAFF,
        "approval",
        MembershipRole.SUPERVISOR,
        "监察督办员",
        "监察督办",
        "13900000006",
    ),
    Persona(
        "dataofficer",
        "周敏",
        AccountKind.STAFF,
        "big-data",
        MembershipRole.DATA_OFFICER,
        "数据管理员",
        "数据管理员",
        "13900000007",
    ),
    Persona(
        "admin",
        "孙志强",
        AccountKind.ADMIN,
        "big-data",
        MembershipRole.ADMIN,
        "信息办系统管理员",
        "信息办系统管理员",
        "13900000008",
    ),
    Persona("citizen", "李小红", AccountKind.CITIZEN, None, None, None, "市民", "13900000009"),
    Persona(
        "enterprise", "", AccountKind.LEGAL_PERSON, None, None, None, "企业（法人）", "13900000010"
    ),
)
# The demo citizen and enterprise: fixed numbers, valid by construction (checked in tests).
CITIZEN_BODY = "14980119900307002"  # 中心区, born 1990-03-07, sequence 002 (female)
ENTERPRISE_NAME = "示范市晨光科技有限公司"
ENTERPRISE_ORG_BODY = "MA0DEM01"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    label: str
    department: str


# --- numbers -------------------------------------------------------------------

_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # the USCC set: no I, O, Z, S, V


def citizen_id(division: str, birth: datetime.date, sequence: int) -> str:
    """An 18-digit GB 11643 number; `sequence` 0–999, its last digit odd for men."""
    body = f"{division}{birth:%Y%m%d}{sequence:03d}"
    return body + citizen_id_check_char(body)


def _uscc(prefix: str, division: str, org_body: str) -> str:
    body = prefix + division + org_body + org_code_check_char(org_body)
    return body + uscc_check_char(body)


def government_uscc(index: int, division: str = CITY_CODE) -> str:
    """USCC of a 机关 (authority 1 机构编制, category 1 机关); org code 00000NNN."""
    return _uscc("11", division, f"{index:08d}")


def enterprise_uscc(division: str, org_body: str) -> str:
    """USCC of an enterprise (authority 9 市场监管, category 1 企业)."""
    return _uscc("91", division, org_body)


# --- synthetic people ------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# The commonest surnames, roughly in order of frequency; `random.choices` weights them.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
)
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红建新志文斌宇浩凯鹏辉晨"
    "欣怡子涵梓萱一诺雨桐思远博文俊杰佳琪婷雪梅海燕丹慧颖瑞云飞东晓光荣国庆春燕秋菊振华"
)
PHONE_PREFIXES = _words(
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "166 173 175 176 177 178 180 181 182 183 184 185 186 187 188 189 191 198 199"
)
TRADE_NAMES = _words(
    "晨光 华瑞 恒信 鼎盛 宏达 瑞丰 金桥 汇通 新元 嘉禾 博远 安泰 中诚 明德 天成 永昌 信达 兴隆 "
    "德润 华晟 开元 聚鑫 泰和 盛世 富源 龙腾 锦程 振兴 长青 远航 凯旋 正阳 东方 北辰 广源 "
    "同心 和美 启航 万通"
)
INDUSTRIES = _words(
    "科技 商贸 建筑工程 餐饮管理 物流 文化传媒 环保科技 农业开发 医药 信息技术 "
    "机械制造 房地产开发 教育咨询 旅游开发 新能源"
)


@dataclass(frozen=True)
class SyntheticPerson:
    username: str
    real_name: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class SyntheticEnterprise:
    username: str
    org_name: str
    uscc: str
    legal_representative: str
    phone: str


class _Numbers:
    """One seeded stream of unique names, phones and numbers."""

    def __init__(self, seed: int, taken_phones: set[str]) -> None:
        self.random = random.Random(seed)  # noqa: S311 — reproducible demo data, not secrets
        self.phones = set(taken_phones)

    def name(self) -> str:
        rng = self.random
        weights = [1 / (i + 4) for i in range(len(SURNAMES))]
        surname = rng.choices(SURNAMES, weights=weights)[0]
        length = 1 if rng.random() < 0.3 else 2
        return surname + "".join(rng.choice(GIVEN_CHARS) for _ in range(length))

    def phone(self) -> str:
        while True:
            phone = self.random.choice(PHONE_PREFIXES) + f"{self.random.randrange(10**8):08d}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone


def synthetic_citizens(count: int, *, seed: int = 2026) -> Iterator[SyntheticPerson]:
    """`count` adults registered in the demo districts, with unique valid ID numbers."""
    numbers = _Numbers(seed, {p.phone for p in PERSONAS})
    districts = [code for code, _name, _t in DISTRICTS]
    first, last = datetime.date(1940, 1, 1).toordinal(), datetime.date(2006, 12, 31).toordinal()
    seen = {citizen_id(CITIZEN_BODY[:6], datetime.date(1990, 3, 7), 2)}
    for index in range(1, count + 1):
        rng = numbers.random
        name = numbers.name()
        while True:
            birth = datetime.date.fromordinal(rng.randint(first, last))
            number = citizen_id(rng.choice(districts), birth, rng.randrange(1000))
            if number not in seen:
                seen.add(number)
                break
        yield SyntheticPerson(CITIZEN_USERNAME.format(index), name, number, numbers.phone())


def synthetic_enterprises(count: int, *, seed: int = 2027) -> Iterator[SyntheticEnterprise]:
    """`count` companies registered in the demo districts, with unique valid USCCs."""
    numbers = _Numbers(seed, {p.phone for p in PERSONAS})
    rng = numbers.random
    districts = [(code, name) for code, name, _t in DISTRICTS]
    names = [f"{t}{i}" for t in TRADE_NAMES for i in INDUSTRIES]
    rng.shuffle(names)
    seen_orgs = {ENTERPRISE_ORG_BODY}
    for index in range(1, count + 1):
        division = districts[rng.randrange(len(districts))][0]
        base = names[(index - 1) % len(names)]
        # Once the plain names run out, the same name recurs per district, then as a branch.
        round_ = (index - 1) // len(names)
        if round_ == 0:
            org_name = f"示范市{base}有限公司"
        elif round_ <= len(districts):
            org_name = f"示范市{districts[round_ - 1][1]}{base}有限公司"
        else:
            org_name = f"示范市{base}有限公司第{round_ - len(districts)}分公司"
        while True:
            org_body = "MA" + "".join(rng.choice(_ORG_ALPHABET) for _ in range(6))
            if org_body not in seen_orgs:
                seen_orgs.add(org_body)
                break
        yield SyntheticEnterprise(
            ENTERPRISE_USERNAME.format(index),
            org_name,
            enterprise_uscc(division, org_body),
            numbers.name(),
            numbers.phone(),
        )


# --- seeding ---------------------------------------------------------------------

Progress = Callable[[str, int, int], None]
"""progress(stage, rows_done_in_this_call, stage_total)."""


def _seed_divisions(progress: Progress | None) -> None:
    load_divisions(progress=progress)
    province = Division.objects.get(code="140000")
    city, _created = Division.objects.get_or_create(
        code=CITY_CODE,
        defaults={
            "name": CITY_NAME,
            "level": DivisionLevel.CITY,
            "parent": province,
            "source": DivisionSource.LOCAL,
        },
    )
    for code, name, townships in DISTRICTS:
        district, _created = Division.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "level": DivisionLevel.COUNTY,
                "parent": city,
                "source": DivisionSource.LOCAL,
            },
        )
        for suffix, township_name, communities in townships:
            township, _created = Division.objects.get_or_create(
                code=code + suffix,
                defaults={
                    "name": township_name,
                    "level": DivisionLevel.TOWNSHIP,
                    "parent": district,
                    "source": DivisionSource.LOCAL,
                },
            )
            for community_suffix, community_name in communities:
                Division.objects.get_or_create(
                    code=township.code + community_suffix,
                    defaults={
                        "name": community_name,
                        "level": DivisionLevel.COMMUNITY,
                        "parent": township,
                        "source": DivisionSource.LOCAL,
                    },
                )


def _seed_departments() -> dict[str, Department]:
    divisions = {d.code: d for d in Division.objects.filter(code__startswith="1498")}
    departments: dict[str, Department] = {}
    city_government = None
    for index, spec in enumerate(DEPARTMENTS, start=1):
        department, _created = Department.objects.get_or_create(
            code=spec.code,
            defaults={
                "name": spec.name,
                "short_name": spec.short_name,
                "kind": spec.kind,
                "division": divisions[spec.division],
                "parent": None if spec.code == "gov" else city_government,
                "uscc": government_uscc(index, spec.division),
            },
        )
        if spec.code == "gov":
            city_government = department
        for title, is_head in spec.positions:
            Position.objects.get_or_create(
                department=department, title=title, defaults={"is_head": is_head}
            )
        departments[spec.code] = department
    return departments


def _seed_personas(departments: dict[str, Department], password_hash: str) -> list[DemoLogin]:
    logins = []
    now = timezone.now()
    for persona in PERSONAS:
        extra: dict[str, object] = {}
        if persona.kind == AccountKind.CITIZEN:
            extra = {"id_number": CITIZEN_BODY + citizen_id_check_char(CITIZEN_BODY)}
        elif persona.kind == AccountKind.LEGAL_PERSON:
            extra = {
                "uscc": enterprise_uscc("149801", ENTERPRISE_ORG_BODY),
                "org_name": ENTERPRISE_NAME,
                "legal_representative": "周晨光",
            }
        is_admin = persona.kind == AccountKind.ADMIN
        user, _created = User.objects.get_or_create(
            username=persona.username,
            defaults={
                "real_name": persona.real_name,
                "kind": persona.kind,
                "phone": persona.phone,
                "password": password_hash,
                "password_changed_at": now,
                "is_staff": is_admin,
                "is_superuser": is_admin,
                **extra,
            },
        )
        department_name = ""
        if persona.department and persona.role:
            department = departments[persona.department]
            position = Position.objects.get(department=department, title=persona.position)
            Membership.objects.get_or_create(
                user=user,
                department=department,
                role=persona.role,
                defaults={"position": position},
            )
            department_name = department.name
        logins.append(DemoLogin(persona.username, persona.label, department_name))
    return logins


def _bulk_users(stage: str, users: list[User], progress: Progress | None) -> int:
    """Insert the users whose usernames are not taken yet, in batches; returns how many."""
    taken = set(
        User.objects.filter(username__in=[u.username for u in users]).values_list(
            "username", flat=True
        )
    )
    missing = [u for u in users if u.username not in taken]
    for start in range(0, len(missing), BATCH_SIZE):
        batch = missing[start : start + BATCH_SIZE]
        # ignore_conflicts: a real account may already hold a generated phone number.
        User.objects.bulk_create(batch, ignore_conflicts=True)
        if progress:
            progress(stage, len(batch), len(missing))
    return len(missing)


def seed_demo(
    *, citizens: int = 2000, enterprises: int = 500, progress: Progress | None = None
) -> list[DemoLogin]:
    """Seed (or complete) the demo city in one transaction; returns the persona logins.

    Idempotent: a second call with the same counts creates nothing; a larger count adds
    only the people beyond those already there.
    """
    validate_password(DEMO_PASSWORD)
    # One hash for every demo account: hashing 2,500 times with Argon2 would take minutes.
    password_hash = make_password(DEMO_PASSWORD)
    now = timezone.now()
    with transaction.atomic():
        _seed_divisions(progress)
        # Statutory holidays for every year chinesecalendar covers; later years stay
        # missing until staff import the State Council notice (never guessed).
        seed_from_chinesecalendar()
        departments = _seed_departments()
        logins = _seed_personas(departments, password_hash)
        account = {"password": password_hash, "password_changed_at": now, "date_joined": now}
        citizen_rows = [
            User(
                username=p.username,
                kind=AccountKind.CITIZEN,
                real_name=p.real_name,
                id_number=p.id_number,
                phone=p.phone,
                **account,
            )
            for p in synthetic_citizens(citizens)
        ]
        _bulk_users("citizens", citizen_rows, progress)
        enterprise_rows = [
            User(
                username=e.username,
                kind=AccountKind.LEGAL_PERSON,
                org_name=e.org_name,
                uscc=e.uscc,
                legal_representative=e.legal_representative,
                phone=e.phone,
                **account,
            )
            for e in synthetic_enterprises(enterprises)
        ]
        _bulk_users("enterprises", enterprise_rows, progress)
    # Example cases through the engine's services, after the people they need exist.
    seed_demo_cases()
    # The approval catalog and a few applications in various states (approval.demo).
    seed_approval()
    # 12345 work orders over recent weeks, through the hotline's services.
    seed_demo_orders()
    # The registry's sources and rules, and the citizens in the population database
    # (through the real import path, as a police household-register batch).
    seed_registry()
    seed_demo_people()
    return logins
