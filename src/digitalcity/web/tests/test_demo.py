from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from digitalcity.core.ids import parse_citizen_id, parse_uscc
from digitalcity.core.models import Department, Division, DivisionSource, Membership, Position
from digitalcity.identity.models import AccountKind, User
from digitalcity.web import demo


def _counts() -> dict[str, int]:
    return {
        "divisions": Division.objects.count(),
        "departments": Department.objects.count(),
        "positions": Position.objects.count(),
        "memberships": Membership.objects.count(),
        "users": User.objects.count(),
    }


def _run(citizens: int = 40, enterprises: int = 15) -> str:
    out = io.StringIO()
    call_command("demo", citizens=citizens, enterprises=enterprises, no_progress=True, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_demo_runs_twice_and_the_second_run_changes_nothing() -> None:
    first_output = _run()
    first = _counts()
    _run()
    assert _counts() == first
    assert first["departments"] == len(demo.DEPARTMENTS)
    assert User.objects.filter(kind=AccountKind.CITIZEN).count() == 40 + 1
    assert User.objects.filter(kind=AccountKind.LEGAL_PERSON).count() == 15 + 1
    assert demo.DEMO_PASSWORD in first_output
    assert "演示账户" in first_output
    assert "window" in first_output


@pytest.mark.django_db(transaction=True)
def test_a_larger_count_adds_only_the_missing_people() -> None:
    _run(citizens=10, enterprises=5)
    names = set(User.objects.values_list("username", "id_number", "uscc"))
    _run(citizens=25, enterprises=5)
    after = set(User.objects.values_list("username", "id_number", "uscc"))
    assert names < after
    assert len(after - names) == 15


@pytest.mark.django_db
def test_the_demo_city_hangs_below_the_real_province_and_is_local() -> None:
    demo.seed_demo(citizens=0, enterprises=0)
    city = Division.objects.get(code=demo.CITY_CODE)
    assert city.parent is not None
    assert city.parent.name == "山西省"
    assert city.parent.source == DivisionSource.GBT2260
    local = Division.objects.filter(code__startswith="1498")
    assert set(local.values_list("source", flat=True)) == {DivisionSource.LOCAL}
    assert local.filter(level="county").count() == 3
    assert local.filter(level="township").count() >= 6
    assert local.filter(level="community").count() >= 12
    for community in local.filter(level="community"):
        assert len(community.code) == 12
        assert community.parent is not None
        assert community.code.startswith(community.parent.code)


@pytest.mark.django_db
def test_every_seeded_number_is_valid() -> None:
    demo.seed_demo(citizens=300, enterprises=100)
    district_codes = {code for code, _n, _t in demo.DISTRICTS}
    id_numbers = [u.id_number for u in User.objects.exclude(id_number=None) if u.id_number]
    assert len(id_numbers) == 301
    for number in id_numbers:
        assert parse_citizen_id(number).division_code in district_codes
    usccs = [u.uscc for u in User.objects.exclude(uscc=None) if u.uscc]
    usccs += [d.uscc for d in Department.objects.exclude(uscc=None) if d.uscc]
    assert len(usccs) == 101 + len(demo.DEPARTMENTS)
    for code in usccs:
        parsed = parse_uscc(code)
        assert parsed.warnings == []
        assert parsed.division_code.startswith("1498")
    phones = [u.phone for u in User.objects.exclude(phone=None) if u.phone]
    assert all(len(p) == 11 and p.startswith("1") and p.isdigit() for p in phones)


@pytest.mark.django_db
def test_the_personas_can_log_in_with_the_demo_password_and_hold_their_roles() -> None:
    demo.seed_demo(citizens=0, enterprises=0)
    admin = User.objects.get(username="admin")
    assert admin.check_password(demo.DEMO_PASSWORD)
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.kind == AccountKind.ADMIN
    window = User.objects.get(username="window")
    membership = Membership.objects.get(user=window)
    assert membership.department.name == "示范市行政审批服务局"
    assert membership.role == "window"
    assert not User.objects.get(username="head").is_staff


def test_synthetic_people_are_reproducible_and_unique() -> None:
    first = list(demo.synthetic_citizens(500))
    assert list(demo.synthetic_citizens(200)) == first[:200]
    assert len({p.id_number for p in first}) == 500
    assert len({p.phone for p in first}) == 500
    sexes = {int(p.id_number[16]) % 2 for p in first}
    assert sexes == {0, 1}
    companies = list(demo.synthetic_enterprises(700))
    assert len({c.uscc for c in companies}) == 700
    assert len({c.org_name for c in companies}) == 700
