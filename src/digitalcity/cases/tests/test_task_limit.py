"""`input["task_limit"]` gives the tasks a transition creates their clock limit (a system job
cannot call `task_create(limit=…)`, e.g. an acceptance deemed by law).

2026: no holiday from 10-12 to 11-30.
"""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import ValidationError

from digitalcity.cases.models import Clock
from digitalcity.cases.services import case_transition

from .conftest import at
from .factories import open_example_case


def _accept(w, case, **extra):
    return case_transition(
        case=case,
        transition="accept",
        actor=w.p.clerk_a,
        input={"opinion": "材料齐全，予以受理", **extra},
    )


def test_the_created_tasks_get_the_limit_given(world):
    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = _accept(w, open_example_case(w), task_limit=3)
    clocks = Clock.objects.filter(case=case, task__isnull=False)
    assert clocks.count() == 3
    # 3 working days after Mon 10-12: 10-13, 10-14, 10-15.
    assert {(c.limit, c.due_at) for c in clocks} == {(3, at(2026, 10, 15, 23, 59, 59))}


def test_without_a_limit_the_declared_one_counts(world):
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = _accept(world, open_example_case(world))
    assert set(
        Clock.objects.filter(case=case, task__isnull=False).values_list("limit", flat=True)
    ) == {10}


@pytest.mark.parametrize("limit", [0, "5", 5001, True])
def test_a_bad_limit_is_refused_and_nothing_changes(world, limit):
    case = open_example_case(world)
    with pytest.raises(ValidationError) as refused:
        _accept(world, case, task_limit=limit)
    assert "task_limit" in refused.value.message_dict
    case.refresh_from_db()
    assert case.state == "submitted"
    assert not Clock.objects.filter(case=case, task__isnull=False).exists()
