"""Tasks: parallel joins, returns and reassignment, the assignment lock, role refusals."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from digitalcity.cases.choices import (
    ClockState,
    EventKind,
    JoinRule,
    ReturnReason,
    TaskKind,
    TaskState,
)
from digitalcity.cases.declare import (
    CaseType,
    ClockSpec,
    State,
    TaskSpec,
    Transition,
    register,
    unregister,
)
from digitalcity.cases.models import Case, Clock, Event, Task
from digitalcity.cases.services import (
    case_open,
    case_transition,
    task_break_lock,
    task_claim,
    task_complete,
    task_create,
    task_reassign,
    task_release,
    task_return,
)

from .conftest import at
from .factories import open_example_case


def _accepted(w):
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        return case_transition(
            case=open_example_case(w),
            transition="accept",
            actor=w.p.clerk_a,
            input={"opinion": "受理"},
        )


def _tasks(case):
    return {t.department_id: t for t in Task.objects.filter(case=case)}


def test_join_all_waits_for_every_department(world):
    w = world
    case = _accepted(w)
    tasks = _tasks(case)
    assert len(tasks) == 3
    task_complete(task=tasks[w.p.department_a.pk], actor=w.p.clerk_a, opinion="同意")
    task_complete(
        task=tasks[w.p.department_b.pk], actor=w.p.clerk_b, opinion="同意", outcome="agree"
    )
    assert Case.objects.get(pk=case.pk).state == "reviewing"
    task_complete(
        task=tasks[w.department_c.pk], actor=w.clerk_c, opinion="不同意", outcome="disagree"
    )
    case.refresh_from_db()
    assert case.state == "deciding"
    joined = Event.objects.get(case=case, kind=EventKind.TRANSITION, transition="reviewed")
    assert joined.actor == w.clerk_c
    # Each task's own clock stopped on completion.
    assert set(Clock.objects.filter(case=case, code="review").values_list("state", flat=True)) == {
        ClockState.STOPPED
    }


ANY_TYPE = CaseType(
    code="test.any",
    prefix="TA",
    name="任一测试",
    states=[
        State("dispatched", "已派单", initial=True),
        State("handled", "已办理"),
        State("done", "办结", final=True),
    ],
    transitions=[
        Transition("handled", "办理完毕", source=("dispatched",), target="handled", system=True),
        Transition("close", "办结", source=("handled",), target="done", roles=("clerk",)),
        Transition(
            "redispatch", "退回待派", source=("dispatched",), target="dispatched", system=True
        ),
    ],
    tasks=[
        TaskSpec(
            "sign",
            "签收办理",
            kind=TaskKind.HANDLE,
            join=JoinRule.ANY,
            on_join="handled",
            clock=ClockSpec("sign", "签收时限", unit="workhours", limit=2),
            on_return="redispatch",
        )
    ],
    allow_anonymous=True,
)


@pytest.fixture
def any_type():
    register(ANY_TYPE)
    yield
    unregister(ANY_TYPE.code)


def _any_case(w):
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = case_open(
            type_code="test.any",
            subject="路灯不亮",
            actor=w.p.clerk_a,
            department=w.p.department_a,
            channel="phone",
        )
        task_create(
            case=case,
            spec="sign",
            departments=[w.p.department_b, w.department_c],
            actor=w.p.clerk_a,
        )
    return case


def test_join_any_lets_the_first_decide_and_cancels_the_rest(world, any_type):
    w = world
    case = _any_case(w)
    tasks = _tasks(case)
    task_complete(task=tasks[w.department_c.pk], actor=w.clerk_c, opinion="已修复")
    case.refresh_from_db()
    assert case.state == "handled"
    other = Task.objects.get(pk=tasks[w.p.department_b.pk].pk)
    assert other.state == TaskState.CANCELLED
    assert Clock.objects.get(task=other).state == ClockState.STOPPED
    with pytest.raises(ValidationError):
        task_complete(task=other, actor=w.p.clerk_b, opinion="晚了")


def test_a_returned_task_is_reassigned_with_a_fresh_clock(world, any_type):
    w = world
    case = _any_case(w)
    task = _tasks(case)[w.p.department_b.pk]
    with time_machine.travel(at(2026, 10, 12, 11), tick=False):
        task_return(
            task=task, actor=w.p.clerk_b, reason_code=ReturnReason.NOT_OUR_DUTY, reason="属供电公司"
        )
    task.refresh_from_db()
    assert task.state == TaskState.RETURNED
    assert task.return_reason == ReturnReason.NOT_OUR_DUTY
    assert Clock.objects.get(task=task).state == ClockState.STOPPED
    assert Event.objects.filter(case=case, kind=EventKind.TASK_RETURNED).count() == 1
    # on_return fired (the center reviews the objection).
    assert Event.objects.filter(case=case, transition="redispatch").exists()
    with time_machine.travel(at(2026, 10, 12, 14), tick=False):
        task_reassign(task=task, actor=w.p.clerk_a, department=w.department_c, reason="改派丙局")
    task.refresh_from_db()
    assert task.state == TaskState.OPEN
    assert task.department == w.department_c
    clock = Clock.objects.get(task=task)
    # Restarted at Mon 14:00 with the full 2 working hours → 16:00.
    assert clock.state == ClockState.RUNNING
    assert clock.run == 1
    assert clock.due_at == at(2026, 10, 12, 16)


def test_a_return_needs_a_known_reason_code(world, any_type):
    w = world
    task = _tasks(_any_case(w))[w.p.department_b.pk]
    with pytest.raises(ValidationError, match="退回原因"):
        task_return(task=task, actor=w.p.clerk_b, reason_code="bored")
    with pytest.raises(ValidationError, match="写明理由"):
        task_return(task=task, actor=w.p.clerk_b, reason_code=ReturnReason.OTHER)
    task.refresh_from_db()
    assert task.state == TaskState.OPEN


def test_only_the_lead_department_or_a_supervisor_reassigns(world, any_type):
    w = world
    task = _tasks(_any_case(w))[w.p.department_b.pk]
    with pytest.raises(PermissionDenied):
        task_reassign(task=task, actor=w.p.clerk_b, department=w.department_c)
    task_reassign(task=task, actor=w.p.supervisor, department=w.department_c)
    assert Task.objects.get(pk=task.pk).department == w.department_c


def test_the_lock_admits_one_handler_until_released(world):
    from digitalcity.core.models import MembershipRole
    from digitalcity.identity.tests.factories import MembershipFactory, UserFactory

    w = world
    colleague = UserFactory.create(username="clerk_b2", kind="staff", id_number=None)
    MembershipFactory.create(user=colleague, department=w.p.department_b, role=MembershipRole.CLERK)
    task = _tasks(_accepted(w))[w.p.department_b.pk]
    task_claim(task=task, actor=w.p.clerk_b)
    assert task.state == TaskState.CLAIMED
    assert task.locked_by == w.p.clerk_b
    for action in (
        lambda: task_claim(task=task, actor=colleague),
        lambda: task_complete(task=task, actor=colleague, opinion="同意"),
        lambda: task_return(task=task, actor=colleague, reason_code=ReturnReason.DUPLICATE),
    ):
        with pytest.raises(PermissionDenied, match="已锁定"):
            action()
    task_release(task=task, actor=w.p.clerk_b)
    assert task.state == TaskState.OPEN
    assert task.locked_by is None
    task_claim(task=task, actor=colleague)
    assert Task.objects.get(pk=task.pk).locked_by == colleague


def test_a_supervisor_breaks_a_lock_and_a_clerk_cannot(world):
    w = world
    task = _tasks(_accepted(w))[w.p.department_a.pk]
    task_claim(task=task, actor=w.window_a)
    with pytest.raises(PermissionDenied):
        task_break_lock(task=task, actor=w.p.clerk_a, reason="休假")
    task_break_lock(task=task, actor=w.p.supervisor, reason="承办人休假")
    task.refresh_from_db()
    assert task.locked_by is None
    assert task.state == TaskState.OPEN
    event = Event.objects.filter(task=task, kind=EventKind.TASK_RELEASED).get()
    assert event.data == {"broken_lock_of": w.window_a.pk}
    assert event.reason == "承办人休假"


def test_a_clerk_of_another_department_cannot_complete_a_task(world):
    w = world
    task = _tasks(_accepted(w))[w.p.department_a.pk]
    with pytest.raises(PermissionDenied):
        task_complete(task=task, actor=w.p.clerk_b, opinion="同意")
    assert Task.objects.get(pk=task.pk).state == TaskState.OPEN


def test_an_opinion_is_required_to_complete_a_review(world):
    w = world
    task = _tasks(_accepted(w))[w.p.department_b.pk]
    with pytest.raises(ValidationError, match="办理意见"):
        task_complete(task=task, actor=w.p.clerk_b, opinion="  ")


def test_the_join_waits_while_correction_is_outstanding(world, in_2026):
    w = world
    case = _accepted(w)
    tasks = _tasks(case)
    task_complete(task=tasks[w.p.department_a.pk], actor=w.p.clerk_a, opinion="同意")
    task_complete(task=tasks[w.p.department_b.pk], actor=w.p.clerk_b, opinion="同意")
    case_transition(
        case=case, transition="ask_correction", actor=w.p.clerk_a, input={"opinion": "补图"}
    )
    with pytest.raises(ValidationError, match="补正中"):
        task_complete(task=tasks[w.department_c.pk], actor=w.clerk_c, opinion="同意")
    assert Task.objects.get(pk=tasks[w.department_c.pk].pk).state == TaskState.OPEN
    case_transition(case=case, transition="correct", actor=w.p.citizen)
    task_complete(task=tasks[w.department_c.pk], actor=w.clerk_c, opinion="同意")
    assert Case.objects.get(pk=case.pk).state == "deciding"


@pytest.mark.parametrize(
    ("who", "transition", "data"),
    [
        ("clerk_b", "accept", {"opinion": "x"}),  # not the lead department
        ("citizen", "accept", {"opinion": "x"}),  # applicants do not accept
        ("supervisor", "accept", {"opinion": "x"}),  # watching is not handling
        ("clerk_a", "reviewed", {}),  # the engine's own transition
        ("clerk_a", "withdraw", {}),  # the applicant's transition
    ],
)
def test_it_refuses_a_transition_without_the_role(world, who, transition, data):
    w = world
    case = open_example_case(w)
    actor = getattr(w.p, who)
    with pytest.raises(PermissionDenied):
        case_transition(case=case, transition=transition, actor=actor, input=data)
    assert Case.objects.get(pk=case.pk).state == "submitted"
    assert not Event.objects.filter(case=case, kind=EventKind.TRANSITION).exists()


def test_it_refuses_a_transition_missing_its_input_or_from_the_wrong_state(world):
    w = world
    case = open_example_case(w)
    with pytest.raises(ValidationError) as exc:
        case_transition(case=case, transition="accept", actor=w.p.clerk_a, input={"opinion": " "})
    assert "opinion" in exc.value.message_dict
    with pytest.raises(ValidationError, match="不能“作出决定”"):
        case_transition(case=case, transition="decide", actor=w.p.clerk_a, input={"opinion": "x"})
    with pytest.raises(ValidationError, match="没有名为"):
        case_transition(case=case, transition="nope", actor=w.p.clerk_a)


def test_the_applicant_withdraws_their_own_case_only(world):
    w = world
    case = open_example_case(w)
    with pytest.raises(PermissionDenied):
        case_transition(case=case, transition="withdraw", actor=w.p.legal_person)
    case = case_transition(case=case, transition="withdraw", actor=w.p.citizen)
    assert case.state == "withdrawn"
    assert case.closed_at is not None


def test_case_numbers_are_gap_free_and_a_failed_open_uses_none(world):
    w = world
    first = open_example_case(w)
    with pytest.raises(ValidationError):
        open_example_case(w, subject="")
    second = open_example_case(w)
    a, b = int(first.number.rsplit("-", 1)[1]), int(second.number.rsplit("-", 1)[1])
    assert first.number.startswith("EX-")
    assert b == a + 1


def test_a_citizen_cannot_open_a_case_for_someone_else(world):
    w = world
    with pytest.raises(PermissionDenied):
        open_example_case(w, applicant=w.p.legal_person)


def test_anonymous_cases_need_a_type_that_allows_them(world):
    w = world
    with pytest.raises(ValidationError, match="匿名"):
        open_example_case(w, actor=w.p.clerk_a)


def test_accepting_with_chosen_departments_creates_their_tasks_only(world):
    w = world
    case = open_example_case(w, co_departments=[w.p.department_b])
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = case_transition(
            case=case,
            transition="accept",
            actor=w.p.clerk_a,
            input={"opinion": "受理", "departments": [w.p.department_a, w.department_c.pk]},
        )
    assert set(case.tasks.values_list("department_id", flat=True)) == {
        w.p.department_a.pk,
        w.department_c.pk,
    }
    # Department C became involved, so its clerk now sees the case.
    assert case.involved.filter(department=w.department_c).exists()
    event = Event.objects.get(case=case, kind=EventKind.TRANSITION)
    assert event.data == {"opinion": "受理"}


def test_a_named_assignee_must_belong_to_the_department(world, any_type):
    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = case_open(
            type_code="test.any",
            subject="噪音扰民",
            actor=w.p.clerk_a,
            department=w.p.department_a,
            channel="phone",
        )
        with pytest.raises(ValidationError, match="承办人"):
            task_create(
                case=case,
                spec="sign",
                departments=[w.p.department_b],
                actor=w.p.clerk_a,
                assignee=w.clerk_c,
            )
        tasks = task_create(
            case=case,
            spec="sign",
            departments=[w.p.department_b],
            actor=w.p.clerk_a,
            assignee=w.p.clerk_b,
        )
    assert tasks[0].assignee == w.p.clerk_b
    with pytest.raises(PermissionDenied):
        task_create(case=case, spec="sign", departments=[w.department_c], actor=w.p.clerk_b)
