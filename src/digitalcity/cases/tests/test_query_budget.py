"""Query budgets of the hot service paths (STYLE.md 11): a new query per row is a bug."""

from __future__ import annotations

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from digitalcity.cases.services import case_transition, task_complete

from .conftest import at
from .factories import open_example_case


def _count(func):
    with CaptureQueriesContext(connection) as ctx:
        result = func()
    return len(ctx.captured_queries), result


def test_the_parallel_process_runs_on_a_fixed_number_of_queries(world):
    """Counts include the savepoint pair of each service's transaction. Opening numbers the
    first case of the year (three numbering statements instead of one: UPDATE … RETURNING
    finds no counter row, INSERT, UPDATE … RETURNING) and checks the co-departments exist."""
    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        opened, case = _count(lambda: open_example_case(w))
        accepted, case = _count(
            lambda: case_transition(
                case=case, transition="accept", actor=w.p.clerk_a, input={"opinion": "受理"}
            )
        )
        tasks = list(case.tasks.order_by("department__code"))
        first, _t = _count(lambda: task_complete(task=tasks[0], actor=w.p.clerk_a, opinion="同意"))
        task_complete(task=tasks[1], actor=w.p.clerk_b, opinion="同意")
        joining, _t = _count(lambda: task_complete(task=tasks[2], actor=w.clerk_c, opinion="同意"))
        closing, _c = _count(
            lambda: case_transition(
                case=case, transition="decide", actor=w.p.clerk_a, input={"opinion": "准予"}
            )
        )
    assert (opened, accepted, first, joining, closing) == (10, 13, 9, 10, 9)
