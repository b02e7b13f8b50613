"""Roles and object scope: the outsider is refused (STYLE.md 9)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from digitalcity.core.models import Membership, MembershipRole, Position
from digitalcity.identity.permissions import (
    can_act_for_department,
    departments_of,
    get_object_for_user,
    is_supervisor,
    scope_queryset,
)

from .factories import MembershipFactory, Personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def positions(personas: Personas) -> tuple[Position, Position]:
    return (
        Position.objects.create(department=personas.department_a, title="甲局窗口"),
        Position.objects.create(department=personas.department_b, title="乙局窗口"),
    )


def test_departments_of_lists_active_memberships_only(personas: Personas) -> None:
    assert list(departments_of(personas.clerk_a)) == [personas.department_a]
    Membership.objects.filter(user=personas.clerk_a).update(is_active=False)
    assert not departments_of(personas.clerk_a).exists()
    assert not departments_of(AnonymousUser()).exists()


def test_a_clerk_acts_only_for_their_departments(personas: Personas) -> None:
    assert can_act_for_department(personas.clerk_a, personas.department_a)
    assert not can_act_for_department(personas.clerk_b, personas.department_a)
    assert not can_act_for_department(personas.citizen, personas.department_a)
    assert can_act_for_department(personas.admin, personas.department_b)
    # A supervisor oversees everything but handles only where they are a member.
    assert can_act_for_department(personas.supervisor, personas.department_a)
    assert not can_act_for_department(personas.supervisor, personas.department_b)


def test_supervisors_are_the_supervisor_role_or_admins(personas: Personas) -> None:
    assert is_supervisor(personas.supervisor)
    assert is_supervisor(personas.admin)
    assert not is_supervisor(personas.clerk_a)
    assert not is_supervisor(personas.citizen)


def test_the_clerk_of_b_cannot_fetch_department_as_object(
    personas: Personas, positions: tuple[Position, Position]
) -> None:
    position_a, _ = positions
    qs = Position.objects.all()
    assert get_object_for_user(personas.clerk_a, qs, position_a.pk, owner_field=None) == position_a
    with pytest.raises(Http404):
        get_object_for_user(personas.clerk_b, qs, position_a.pk, owner_field=None)
    with pytest.raises(Http404):
        get_object_for_user(personas.citizen, qs, position_a.pk, owner_field=None)
    assert (
        get_object_for_user(personas.supervisor, qs, position_a.pk, owner_field=None) == position_a
    )


def test_a_missing_or_malformed_pk_is_a_404_too(personas: Personas) -> None:
    with pytest.raises(Http404):
        get_object_for_user(personas.admin, Position.objects.all(), 999999, owner_field=None)
    with pytest.raises(Http404):
        get_object_for_user(personas.admin, Position.objects.all(), "abc", owner_field=None)


def test_scope_queryset_by_persona(personas: Personas) -> None:
    # Memberships stand in for a case table: department = the department, owner = the user.
    citizen_row = MembershipFactory.create(
        user=personas.citizen, department=personas.department_b, role=MembershipRole.WINDOW
    )
    qs = Membership.objects.all()

    def visible(user: object) -> set[int]:
        return set(scope_queryset(user, qs, owner_field="user").values_list("pk", flat=True))

    all_rows = set(qs.values_list("pk", flat=True))
    dept_a_rows = set(qs.filter(department=personas.department_a).values_list("pk", flat=True))
    assert visible(personas.supervisor) == all_rows
    assert visible(personas.admin) == all_rows
    assert visible(personas.clerk_a) == dept_a_rows
    assert visible(personas.citizen) == {citizen_row.pk}
    assert visible(personas.legal_person) == set()
    assert visible(AnonymousUser()) == set()
