"""The worker's sweep: prompt, yellow and red exactly once, claimed set-based."""

from __future__ import annotations

import pytest
import time_machine

from digitalcity.cases.choices import ClockUnit, SignalKind, SignalStage
from digitalcity.cases.declare import CaseType, ClockSpec, State, Transition, register, unregister
from digitalcity.cases.models import Clock, Signal
from digitalcity.cases.services import case_open, case_transition, clock_extend, task_complete
from digitalcity.cases.sweep import sweep
from digitalcity.core.models import Notification

from .conftest import at
from .factories import open_example_case


def _accepted_and_reviewed(w):
    """Accepted Mon 2026-10-12 (legal due 11-09, prompt end of 11-06, red end of 11-16),
    reviews done so only the legal clock runs."""
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = case_transition(
            case=open_example_case(w),
            transition="accept",
            actor=w.p.clerk_a,
            input={"opinion": "受理"},
        )
        for task, clerk in zip(
            case.tasks.order_by("department__code"),
            [w.p.clerk_a, w.p.clerk_b, w.clerk_c],
            strict=False,
        ):
            task_complete(task=task, actor=clerk, opinion="同意")
    return case


def _kinds(case):
    return list(
        Signal.objects.filter(case=case).order_by("at", "id").values_list("kind", flat=True)
    )


def test_prompt_yellow_and_red_are_each_signalled_exactly_once(world):
    w = world
    case = _accepted_and_reviewed(w)
    assert sweep(now=at(2026, 11, 6, 12)) == 0
    assert sweep(now=at(2026, 11, 7, 0)) == 1
    assert sweep(now=at(2026, 11, 7, 1)) == 0
    assert _kinds(case) == [SignalKind.PROMPT]
    assert sweep(now=at(2026, 11, 10, 0)) == 1
    assert sweep(now=at(2026, 11, 10, 0)) == 0
    assert sweep(now=at(2026, 11, 17, 0)) == 1
    assert sweep(now=at(2026, 11, 30, 0)) == 0
    assert _kinds(case) == [SignalKind.PROMPT, SignalKind.YELLOW, SignalKind.RED]
    clock = Clock.objects.get(case=case, code="legal")
    assert clock.signal_stage == SignalStage.RED
    assert clock.next_signal_at is None


def test_signals_reach_the_handler_and_the_department_head(world):
    w = world
    case = _accepted_and_reviewed(w)
    sweep(now=at(2026, 11, 10, 0))
    signal = Signal.objects.get(case=case)
    # No open task: the lead department's handlers and its head.
    assert set(signal.recipients) == {w.p.clerk_a.pk, w.window_a.pk, w.head_a.pk}
    assert signal.kind == SignalKind.YELLOW
    for user in (w.p.clerk_a, w.head_a):
        assert Notification.objects.filter(recipient=user, body__contains=case.number).exists()
    assert not Notification.objects.filter(
        recipient=w.p.clerk_b, body__contains=case.number
    ).exists()


def test_a_worker_down_past_several_moments_signals_only_the_highest_stage(world):
    case = _accepted_and_reviewed(world)
    assert sweep(now=at(2026, 11, 20, 0)) == 1
    assert _kinds(case) == [SignalKind.RED]


def test_an_extension_after_a_yellow_card_re_arms_the_cards(world):
    w = world
    case = _accepted_and_reviewed(w)
    sweep(now=at(2026, 11, 10, 1))
    with time_machine.travel(at(2026, 11, 10, 9), tick=False):
        clock_extend(
            clock=Clock.objects.get(case=case, code="legal"),
            amount=10,
            reason="专家评审",
            approved_by=w.head_a,
        )
    clock = Clock.objects.get(case=case, code="legal")
    # Due now Mon 11-23: both cards are re-armed for the new due moment, prompt first.
    assert clock.signal_stage == SignalStage.NONE
    assert clock.due_at == at(2026, 11, 23, 23, 59, 59)
    assert clock.next_signal_at == clock.prompt_at == at(2026, 11, 20, 23, 59, 59)
    assert sweep(now=at(2026, 11, 21, 0)) == 1
    assert sweep(now=at(2026, 11, 24, 0)) == 1
    assert _kinds(case) == [SignalKind.YELLOW, SignalKind.PROMPT, SignalKind.YELLOW]


def test_a_paused_or_closed_clock_is_never_signalled(world):
    w = world
    case = _accepted_and_reviewed(w)
    with time_machine.travel(at(2026, 10, 20, 10), tick=False):
        case_transition(
            case=case, transition="decide", actor=w.p.clerk_a, input={"opinion": "准予"}
        )
    assert sweep(now=at(2027, 6, 1, 0)) == 0
    assert not Signal.objects.exists()


def test_the_sweep_works_in_batches(world, settings):
    w = world
    cases = [_accepted_and_reviewed(w) for _ in range(5)]
    assert sweep(now=at(2026, 11, 10, 0), batch=2) == 5
    assert Signal.objects.filter(case__in=cases).count() == 5


@pytest.mark.parametrize("stage", [SignalStage.NONE])
def test_the_sweep_is_registered_as_a_periodic_job(stage):
    from digitalcity.core.worker import periodic_jobs

    assert "cases.clocks" in [job.name for job in periodic_jobs()]


def test_each_signal_is_on_the_timeline(world):
    from digitalcity.cases.models import Event

    case = _accepted_and_reviewed(world)
    sweep(now=at(2026, 11, 7, 0))
    signal = Signal.objects.get(case=case)
    event = Event.objects.get(case=case, kind="signal")
    assert event.data == {"clock": "legal", "signal": "prompt", "signal_id": signal.pk}
    assert event.at == signal.at == at(2026, 11, 7, 0)
    assert event.actor is None
    assert event.public is False


REPEAT = CaseType(
    code="test.repeat",
    prefix="TR",
    name="重复黄牌测试",
    states=[State("open", "办理中", initial=True), State("done", "办结", final=True)],
    transitions=[Transition("finish", "办结", source=("open",), target="done")],
    clocks=[
        ClockSpec("sign", "签收", unit=ClockUnit.WORKDAYS, limit=1, prompt_before=0),
        ClockSpec(
            "handle",
            "办理",
            unit=ClockUnit.WORKDAYS,
            limit=3,
            prompt_before=0,
            red_on_repeat_yellow=True,
        ),
    ],
    starts_on_open=("sign", "handle"),
    allow_anonymous=True,
)


def test_a_second_yellow_on_the_same_case_is_raised_as_red(world):
    w = world
    register(REPEAT)
    try:
        with time_machine.travel(at(2026, 10, 12, 10), tick=False):
            case = case_open(
                type_code="test.repeat",
                subject="占道经营",
                actor=w.p.clerk_a,
                department=w.p.department_a,
                channel="phone",
            )
        assert sweep(now=at(2026, 10, 14, 0)) == 1  # sign due end of 10-13: yellow
        assert sweep(now=at(2026, 10, 16, 0)) == 1  # handle due end of 10-15: second yellow
        kinds = dict(Signal.objects.filter(case=case).values_list("clock__code", "kind"))
        assert kinds == {"sign": SignalKind.YELLOW, "handle": SignalKind.RED}
    finally:
        unregister(REPEAT.code)


def test_a_clock_of_a_type_no_longer_registered_does_not_stop_the_sweep(world):
    w = world
    register(REPEAT)
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        orphan = case_open(
            type_code="test.repeat",
            subject="旧类型",
            actor=w.p.clerk_a,
            department=w.p.department_a,
            channel="phone",
        )
    unregister(REPEAT.code)
    case = _accepted_and_reviewed(w)
    assert sweep(now=at(2026, 11, 10, 0)) == 3
    assert Signal.objects.filter(case=orphan).count() == 2
    assert Signal.objects.filter(case=case).count() == 1


def test_events_are_append_only(world):
    from digitalcity.cases.models import Event

    event = Event.objects.filter(case=_accepted_and_reviewed(world)).earliest("id")
    event.reason = "改写历史"
    with pytest.raises(ValueError, match="只能追加"):
        event.save()
