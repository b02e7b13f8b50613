import time_machine

from digitalcity.cases.choices import ClockState, TaskState
from digitalcity.cases.models import Clock
from digitalcity.cases.services import case_transition, task_complete

from .conftest import at
from .factories import open_example_case


def test_the_example_runs_from_application_to_closing(world):
    w = world
    with time_machine.travel(at(2026, 9, 30, 10), tick=False):
        case = open_example_case(w)
        case = case_transition(
            case=case, transition="accept", actor=w.p.clerk_a, input={"opinion": "材料齐全"}
        )
    assert case.state == "reviewing"
    legal = Clock.objects.get(case=case, task=None, code="legal")
    assert legal.state == ClockState.RUNNING
    tasks = list(case.tasks.order_by("department__code"))
    assert len(tasks) == 3
    with time_machine.travel(at(2026, 10, 9, 10), tick=False):
        for task, clerk in zip(tasks, [w.p.clerk_a, w.p.clerk_b, w.clerk_c], strict=False):
            task_complete(task=task, actor=clerk, opinion="同意")
    case.refresh_from_db()
    assert case.state == "deciding"
    assert all(t.state == TaskState.COMPLETED for t in case.tasks.all())
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = case_transition(
            case=case, transition="decide", actor=w.p.clerk_a, input={"opinion": "准予许可"}
        )
    assert case.state == "closed"
    assert case.closed_at is not None
