"""`CaseType(gap_free_numbers=False)`: references, not statutory register numbers.

On PostgreSQL such a type's numbers come from a sequence (`core.numbering`, decision
0011): no lock until COMMIT, and a rolled-back opening skips its number. On SQLite they
come from the counter row as before (one writer anyway), so a rollback returns the number.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from digitalcity.cases.declare import CaseType, State, Transition, register, unregister
from digitalcity.cases.services import case_open
from digitalcity.core.models import NumberSequence

from .conftest import at

REFERENCE = CaseType(
    code="test.reference",
    prefix="TR",
    name="参考编号测试",
    states=[State("open", "办理中", initial=True), State("done", "办结", final=True)],
    transitions=[Transition("finish", "办结", source=("open",), target="done")],
    allow_anonymous=True,
    gap_free_numbers=False,
)
REGISTER = replace(REFERENCE, code="test.register", prefix="TG", gap_free_numbers=True)


@pytest.fixture
def types():
    register(REFERENCE)
    register(REGISTER)
    yield
    unregister(REFERENCE.code)
    unregister(REGISTER.code)


def _open(w, type_code: str = "test.reference"):
    return case_open(
        type_code=type_code,
        subject="路灯不亮",
        actor=w.p.clerk_a,
        department=w.p.department_a,
        applicant_name="市民丁",
        channel="phone",
    )


def test_the_default_is_gap_free():
    assert REGISTER.gap_free_numbers is True
    assert (
        CaseType(code="x.y", prefix="XY", name="x", states=(), transitions=()).gap_free_numbers
        is True
    )


def test_a_type_without_gap_free_numbers_numbers_its_cases(world, types):
    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        first, second = _open(w), _open(w)
        with suppress(RuntimeError), transaction.atomic():
            _open(w)
            raise RuntimeError  # the caller's transaction fails after the opening
        third = _open(w)
    assert [first.number, second.number] == ["TR-2026-000001", "TR-2026-000002"]
    if connection.vendor == "postgresql":
        assert third.number == "TR-2026-000004"  # a sequence: the rolled-back 3 is skipped
        # The counter row only records where the sequence started.
        assert NumberSequence.objects.get(prefix="TR", year=2026).last_value == 0
    else:
        assert third.number == "TR-2026-000003"  # SQLite: the row, gap-free as before
        assert NumberSequence.objects.get(prefix="TR", year=2026).last_value == 3


def test_gap_free_types_still_count_on_their_row(world, types):
    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        _open(w)  # the sequence exists from here on
        registered = [_open(w, "test.register") for _ in range(2)]
    assert [c.number for c in registered] == ["TG-2026-000001", "TG-2026-000002"]
    assert NumberSequence.objects.get(prefix="TG", year=2026).last_value == 2


def test_the_sequence_costs_no_more_statements_than_the_row(world, types):
    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        _open(w)
        _open(w, "test.register")  # first uses done: steady state from here
        with CaptureQueriesContext(connection) as reference:
            _open(w)
        with CaptureQueriesContext(connection) as register_:
            _open(w, "test.register")
    assert len(reference) == len(register_)
    if connection.vendor == "postgresql":
        assert any("nextval" in q["sql"] for q in reference.captured_queries)
        assert not any("nextval" in q["sql"] for q in register_.captured_queries)
