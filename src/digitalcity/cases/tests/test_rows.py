"""The engine's hand-written SQL (core/rows.py) stores and returns what the ORM does."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from digitalcity.cases.choices import ClockState, ClockUnit, EventKind, TaskState
from digitalcity.cases.models import Case, CaseDepartment, Clock, Event, Task
from digitalcity.core.rows import Table

from .factories import open_example_case

CASES, CLOCKS, EVENTS, TASKS = Table(Case), Table(Clock), Table(Event), Table(Task)
DEPARTMENTS = Table(CaseDepartment)


def _values(instance: object) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}  # type: ignore[attr-defined]


def test_a_row_read_by_hand_equals_the_orm_row(world):
    case = open_example_case(world)
    clock = Clock.objects.get(case=case, code="legal")
    assert _values(CASES.get(case.pk)) == _values(Case.objects.get(pk=case.pk))
    assert _values(CLOCKS.get(clock.pk, lock=True)) == _values(Clock.objects.get(pk=clock.pk))
    event = Event.objects.filter(case=case).first()
    assert event is not None
    assert _values(EVENTS.get(event.pk)) == _values(event)


def test_a_missing_row_raises_does_not_exist(world):
    with pytest.raises(Case.DoesNotExist):
        CASES.get(10**9)


def test_inserted_rows_get_their_keys_and_read_back_through_the_orm(world):
    case = open_example_case(world)
    now = timezone.now()
    events = [
        Event(
            case=case,
            actor=world.p.clerk_a,
            actor_label="李甲",
            at=now,
            kind=EventKind.TRANSITION,
            data={"意见": "同意", "n": 3, "list": [1, "二"], "none": None},
            public=True,
        ),
        Event(case=case, actor_label="系统", at=now, kind=EventKind.SIGNAL, data={}),
    ]
    EVENTS.insert(events)
    assert all(e.pk is not None and not e._state.adding for e in events)
    stored = Event.objects.get(pk=events[0].pk)
    assert stored.data == {"意见": "同意", "n": 3, "list": [1, "二"], "none": None}
    assert (stored.at, stored.public, stored.kind, stored.actor_id) == (
        now,
        True,
        EventKind.TRANSITION,
        world.p.clerk_a.pk,
    )
    assert Event.objects.get(pk=events[1].pk).actor_id is None


def test_an_update_writes_the_named_fields_and_stamps_auto_now(world):
    case = open_example_case(world)
    clock = CLOCKS.get(Clock.objects.get(case=case, code="legal").pk)
    due = timezone.now() + timedelta(days=3)
    clock.state, clock.used, clock.due_at, clock.estimated = (
        ClockState.RUNNING,
        Decimal("2.5"),
        due,
        True,
    )
    clock.unit = ClockUnit.CALENDAR_DAYS  # not named below: must stay as stored
    CLOCKS.update(clock, ["state", "used", "due_at", "estimated"])
    stored = Clock.objects.get(pk=clock.pk)
    assert (stored.state, stored.used, stored.due_at, stored.estimated, stored.unit) == (
        ClockState.RUNNING,
        Decimal("2.5"),
        due,
        True,
        ClockUnit.WORKDAYS,
    )
    before = Case.objects.get(pk=case.pk).updated_at
    row = CASES.get(case.pk)
    row.subject = "改过的事由"
    CASES.update(row, ["subject", "updated_at"])
    stored_case = Case.objects.get(pk=case.pk)
    assert stored_case.subject == "改过的事由"
    assert stored_case.updated_at > before


def test_update_where_sets_the_same_values_on_each_row(world):
    case = open_example_case(world)
    tasks = [
        Task(case=case, spec="review", kind="review", group="g", join="all", department=d)
        for d in (world.p.department_a, world.p.department_b)
    ]
    TASKS.insert(tasks)
    now = timezone.now()
    TASKS.update_where(
        [t.pk for t in tasks],
        {"state": TaskState.CANCELLED, "locked_by": None, "completed_at": now},
    )
    assert set(
        Task.objects.filter(case=case).values_list("state", "locked_by_id", "completed_at")
    ) == {(TaskState.CANCELLED, None, now)}


def test_insert_can_skip_rows_that_already_exist(world):
    case = open_example_case(world, co_departments=[world.p.department_b])
    involved = set(CaseDepartment.objects.filter(case=case).values_list("department_id", flat=True))
    new = world.department_c.pk
    assert new not in involved
    rows = [CaseDepartment(case=case, department_id=d) for d in (*involved, new)]
    DEPARTMENTS.insert(rows, ignore_conflicts=True)
    assert set(
        CaseDepartment.objects.filter(case=case).values_list("department_id", flat=True)
    ) == {*involved, new}
    with pytest.raises(IntegrityError):
        DEPARTMENTS.insert([CaseDepartment(case=case, department_id=new)])
