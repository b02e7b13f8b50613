"""Clock scenarios against hand-computed dates (issue 3, "What will be checked").

2026 calendar (STANDARDS.md §7; chinesecalendar 1.11.0): Mid-autumn 09-25..27 off;
National Day 10-01..07 off; Sun 09-20 and Sat 10-10 are make-up working days.
A working-day clock's due moment is the end (23:59:59, Asia/Shanghai) of the n-th working
day after the start day; the start day never counts (docs/cases.md).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from digitalcity.cases.choices import ClockState, ClockUnit, EventKind
from digitalcity.cases.declare import CaseType, ClockSpec, State, Transition, register, unregister
from digitalcity.cases.models import Case, Clock, Event
from digitalcity.cases.services import case_open, case_transition, clock_extend
from digitalcity.core.models import Notification

from .conftest import at
from .factories import open_example_case


def _accept(w, case):
    return case_transition(
        case=case, transition="accept", actor=w.p.clerk_a, input={"opinion": "材料齐全，予以受理"}
    )


def _legal(case):
    return Clock.objects.get(case=case, task=None, code="legal")


@pytest.mark.parametrize(
    ("accepted", "due"),
    [
        # Accepted Wed 2026-09-30 (the last working day before National Day). Counting
        # from the next day: 10-01..07 holiday; 10-08 Thu 1, 10-09 Fri 2, 10-10 Sat make-up
        # 3, 10-12..16 4–8, 10-19..23 9–13, 10-26..30 14–18, 11-02 Mon 19, 11-03 Tue 20.
        (at(2026, 9, 30, 10), at(2026, 11, 3, 23, 59, 59)),
        # Accepted Thu 2026-09-24: 09-25..27 Mid-autumn off; 09-28 1, 09-29 2, 09-30 3,
        # National Day off, 10-08 4, 10-09 5, 10-10 6, 10-12..16 7–11, 10-19..23 12–16,
        # 10-26 17, 10-27 18, 10-28 19, 10-29 Thu 20.
        (at(2026, 9, 24, 15), at(2026, 10, 29, 23, 59, 59)),
    ],
)
def test_twenty_working_days_run_across_the_national_day_week(world, accepted, due):
    with time_machine.travel(accepted, tick=False):
        case = _accept(world, open_example_case(world))
    clock = _legal(case)
    assert clock.state == ClockState.RUNNING
    assert clock.due_at == due
    assert clock.estimated is False


def test_a_correction_pauses_the_clock_and_resuming_counts_only_what_is_left(world):
    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):  # Mon
        case = _accept(w, open_example_case(w))
    # Asked on Thu 10-15: (10-12, 10-15] holds 10-13, 10-14, 10-15 → 3 used, 17 left.
    with time_machine.travel(at(2026, 10, 15, 16), tick=False):
        case = case_transition(
            case=case,
            transition="ask_correction",
            actor=w.p.clerk_a,
            input={"opinion": "缺少平面图"},
        )
    clock = _legal(case)
    assert clock.state == ClockState.PAUSED
    assert clock.used == 3
    assert clock.due_at is None
    assert clock.next_signal_at is None
    # Every task clock pauses too (the state pauses "*").
    assert set(Clock.objects.filter(case=case).values_list("state", flat=True)) == {
        ClockState.PAUSED
    }
    # Corrected Tue 10-20 (the resume day does not count): 10-21..23 1–3, 10-26..30 4–8,
    # 11-02..06 9–13, 11-09 14, 11-10 15, 11-11 16, 11-12 Thu 17.
    with time_machine.travel(at(2026, 10, 20, 9), tick=False):
        case = case_transition(case=case, transition="correct", actor=w.p.citizen)
    clock = _legal(case)
    assert clock.state == ClockState.RUNNING
    assert clock.due_at == at(2026, 11, 12, 23, 59, 59)
    # Each review clock (10 days) had 3 used; 7 left from 10-20: 10-21..23, 10-26..29 → 10-29.
    review = Clock.objects.filter(case=case, code="review")
    assert {c.due_at for c in review} == {at(2026, 10, 29, 23, 59, 59)}
    kinds = list(
        Event.objects.filter(case=case, task=None, kind__startswith="clock_").values_list(
            "kind", flat=True
        )
    )
    assert kinds == [EventKind.CLOCK_STARTED, EventKind.CLOCK_PAUSED, EventKind.CLOCK_RESUMED]


def test_a_pause_and_resume_on_the_start_day_cost_nothing(world):
    w = world
    with time_machine.travel(at(2026, 10, 12, 9), tick=False):
        case = _accept(w, open_example_case(w))
        due = _legal(case).due_at
    with time_machine.travel(at(2026, 10, 12, 11), tick=False):
        case = case_transition(
            case=case, transition="ask_correction", actor=w.p.clerk_a, input={"opinion": "缺件"}
        )
    with time_machine.travel(at(2026, 10, 12, 15), tick=False):
        case = case_transition(case=case, transition="correct", actor=w.p.citizen)
    assert _legal(case).used == 0
    assert _legal(case).due_at == due


def test_a_ten_day_extension_moves_the_due_day_and_tells_the_applicant(world):
    w = world
    # Accepted Mon 10-12: 20 working days end Mon 11-09 (10-13..16 1–4, 10-19..23 5–9,
    # 10-26..30 10–14, 11-02..06 15–19, 11-09 20).
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = _accept(w, open_example_case(w))
    assert _legal(case).due_at == at(2026, 11, 9, 23, 59, 59)
    # +10: 11-10..13 21–24, 11-16..20 25–29, 11-23 Mon 30.
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        extension = clock_extend(
            clock=_legal(case), amount=10, reason="需现场核查", approved_by=w.head_a
        )
    clock = _legal(case)
    assert clock.extended == 10
    assert clock.due_at == at(2026, 11, 23, 23, 59, 59)
    assert extension.approved_by == w.head_a
    assert Notification.objects.filter(recipient=w.p.citizen, body__contains="延长 10").exists()
    assert Event.objects.filter(case=case, kind=EventKind.CLOCK_EXTENDED, public=True).exists()
    # Art. 42: once only.
    with pytest.raises(ValidationError, match="最多延期 1 次"):
        clock_extend(clock=clock, amount=5, reason="再延", approved_by=w.head_a)


def test_only_a_head_or_supervisor_approves_an_extension(world):
    from django.core.exceptions import PermissionDenied

    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = _accept(w, open_example_case(w))
    with pytest.raises(PermissionDenied):
        clock_extend(clock=_legal(case), amount=10, reason="理由", approved_by=w.p.clerk_a)
    assert _legal(case).extended == 0


HOURS = CaseType(
    code="test.hours",
    prefix="TH",
    name="工作时测试",
    states=[State("new", "新", initial=True), State("done", "办结", final=True)],
    transitions=[Transition("finish", "办结", source=("new",), target="done", stops=("sign",))],
    clocks=[ClockSpec("sign", "签收时限", unit=ClockUnit.WORKHOURS, limit=8, prompt_before=1)],
    starts_on_open=("sign",),
)

DAYS = CaseType(
    code="test.days",
    prefix="TD",
    name="自然日测试",
    states=[State("new", "新", initial=True), State("done", "办结", final=True)],
    transitions=[Transition("finish", "办结", source=("new",), target="done")],
    clocks=[
        ClockSpec("whole", "期限", unit=ClockUnit.CALENDAR_DAYS, limit=7, prompt_before=1),
        ClockSpec("urgent", "反馈时限", unit=ClockUnit.CALENDAR_HOURS, limit=2, prompt_before=1),
    ],
    starts_on_open=("whole", "urgent"),
)


@pytest.fixture
def test_types():
    register(HOURS)
    register(DAYS)
    yield
    unregister(HOURS.code)
    unregister(DAYS.code)


def test_a_working_hours_clock_crosses_the_weekend(world, test_types):
    w = world
    # Fri 10-16 15:00: 2.5 h to 17:30; Mon 10-19 09:00–12:00 3 h (5.5); 13:30 + 2.5 h → 16:00.
    with time_machine.travel(at(2026, 10, 16, 15), tick=False):
        case = case_open(
            type_code="test.hours",
            subject="停水报修",
            actor=w.p.clerk_a,
            department=w.p.department_a,
            applicant_name="市民甲",
            applicant_phone="13800000001",
            channel="phone",
        )
    clock = Clock.objects.get(case=case)
    assert clock.due_at == at(2026, 10, 19, 16)
    assert clock.prompt_at == at(2026, 10, 19, 15)  # 1 working hour before


def test_a_calendar_days_clock_counts_every_day(world, test_types):
    w = world
    with time_machine.travel(at(2026, 9, 30, 10), tick=False):
        case = case_open(
            type_code="test.days",
            subject="一般诉求",
            actor=w.p.clerk_a,
            department=w.p.department_a,
            applicant_name="市民乙",
            channel="phone",
        )
    # The law counts natural days: 09-30 + 7 = 10-07, holidays included.
    assert Clock.objects.get(case=case, code="whole").due_at == at(2026, 10, 7, 23, 59, 59)


def test_a_calendar_hours_clock_runs_round_the_clock(world, test_types):
    w = world
    # National Day 22:00 + 2 natural hours → 10-02 00:00; holidays and nights count.
    with time_machine.travel(at(2026, 10, 1, 22), tick=False):
        case = case_open(
            type_code="test.days",
            subject="燃气泄漏",
            actor=w.p.clerk_a,
            department=w.p.department_a,
            applicant_name="市民丙",
            channel="phone",
        )
    clock = Clock.objects.get(case=case, code="urgent")
    assert clock.unit == ClockUnit.CALENDAR_HOURS
    assert clock.due_at == at(2026, 10, 2, 0)
    assert clock.prompt_at == at(2026, 10, 1, 23)


def test_a_year_without_calendar_data_is_a_clear_error_and_nothing_changes(world):
    w = world
    with time_machine.travel(at(2026, 12, 15, 10), tick=False):
        case = open_example_case(w)
        with pytest.raises(ValidationError) as exc:
            _accept(w, case)
    assert "2027 年的工作日历尚未导入" in " ".join(exc.value.messages)
    assert Case.objects.get(pk=case.pk).state == "submitted"
    assert _legal(case).state == ClockState.PENDING
    assert not case.tasks.exists()


def test_with_estimates_allowed_a_missing_year_is_estimated_and_flagged(world, settings):
    settings.DC_CALENDAR_ALLOW_ESTIMATE = True
    w = world
    # Tue 2026-12-15: 12-16..18 1–3, 12-21..25 4–8, 12-28..31 9–12; 2027 on weekends
    # alone: 01-01 Fri 13, 01-04..08 14–18, 01-11 19, 01-12 Tue 20.
    with time_machine.travel(at(2026, 12, 15, 10), tick=False):
        case = _accept(w, open_example_case(w))
    clock = _legal(case)
    assert clock.estimated is True
    assert clock.due_at == at(2027, 1, 12, 23, 59, 59)


def test_the_prompt_and_red_moments_follow_the_declaration(world):
    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = _accept(w, open_example_case(w))
    clock = _legal(case)
    # Prompt when 1 working day remains: end of the 19th working day (Fri 11-06).
    assert clock.prompt_at == at(2026, 11, 6, 23, 59, 59)
    # Red 5 working days after due: the 25th working day, Mon 11-16.
    assert clock.red_at == at(2026, 11, 16, 23, 59, 59)
    assert clock.next_signal_at == clock.prompt_at
    assert clock.due_at - clock.prompt_at == timedelta(days=3)


def test_the_case_page_reads_time_used_into_a_year_without_calendar_data(world):
    # Accepted in November (due, prompt and red moments all within 2026), the case is
    # still open in January 2027 with no 2027 calendar: the page shows the time used,
    # counting 2027 on weekends alone, instead of failing.
    from digitalcity.cases.queries import case_detail

    w = world
    with time_machine.travel(at(2026, 11, 20, 10), tick=False):
        case = _accept(w, open_example_case(w))
    with time_machine.travel(at(2027, 1, 6, 10), tick=False):
        detail = case_detail(case)
    legal = next(v for v in detail.clocks if v.clock.code == "legal")
    # 11-23..27 5, 11-30 1, December 23 (no holidays) = 29 in 2026; 2027 on weekends
    # alone: 01-01 Fri, 01-04..06 = 4.
    assert legal.used == 33
