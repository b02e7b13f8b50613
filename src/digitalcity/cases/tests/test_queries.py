"""Reads: scope, my queue (one query), the case page, transitions offered, supervision."""

from __future__ import annotations

import pytest
import time_machine
from django.http import Http404

from digitalcity.cases.choices import RatingValue
from digitalcity.cases.models import Clock
from digitalcity.cases.queries import (
    available_transitions,
    badge,
    case_detail,
    cases_for_user,
    figures,
    get_case_for_user,
    my_queue,
    near_due,
    overdue,
)
from digitalcity.cases.services import (
    case_transition,
    clock_extend,
    rating_submit,
    task_complete,
    task_return,
)
from digitalcity.cases.sweep import sweep

from .conftest import at
from .factories import open_example_case


def _accepted(w, when=None, **kwargs):
    when = when or at(2026, 10, 12, 10)
    with time_machine.travel(when, tick=False):
        return case_transition(
            case=open_example_case(w, **kwargs),
            transition="accept",
            actor=w.p.clerk_a,
            input={"opinion": "受理"},
        )


def test_each_persona_sees_exactly_their_cases(world):
    w = world
    ab = open_example_case(w, co_departments=[w.p.department_b])
    only_a = open_example_case(w, co_departments=[])
    theirs = open_example_case(w, actor=w.p.legal_person, co_departments=[])
    assert set(cases_for_user(w.p.clerk_a)) == {ab, only_a, theirs}
    assert set(cases_for_user(w.p.clerk_b)) == {ab}
    assert set(cases_for_user(w.p.citizen)) == {ab, only_a}
    assert set(cases_for_user(w.p.legal_person)) == {theirs}
    assert set(cases_for_user(w.p.supervisor)) == {ab, only_a, theirs}
    assert set(cases_for_user(w.p.admin)) == {ab, only_a, theirs}
    with pytest.raises(Http404):
        get_case_for_user(w.p.clerk_b, only_a.pk)
    with pytest.raises(Http404):
        get_case_for_user(w.p.legal_person, ab.pk)
    assert get_case_for_user(w.p.clerk_b, ab.pk) == ab


def test_a_department_joining_through_reassignment_sees_the_case(world, in_2026):
    from digitalcity.cases.services import task_reassign

    w = world
    case = _accepted(w, co_departments=[w.p.department_b])
    assert case not in cases_for_user(w.clerk_c)
    task = case.tasks.get(department=w.p.department_b)
    task_reassign(task=task, actor=w.p.clerk_a, department=w.department_c)
    assert case in cases_for_user(w.clerk_c)


def _due(task):
    due_at = getattr(task, "due_at")  # noqa: B009 - annotated by my_queue
    return due_at, badge(due_at, getattr(task, "signal_stage"))  # noqa: B009


def test_my_queue_is_one_query_soonest_due_first_with_badges(world, django_assert_num_queries):
    w = world
    late = _accepted(w, when=at(2026, 10, 1, 10))  # review clocks due 10-20
    soon = _accepted(w, when=at(2026, 10, 12, 10))  # due 10-26
    for _ in range(3):
        _accepted(w, when=at(2026, 10, 14, 10))
    with time_machine.travel(at(2026, 10, 21, 9), tick=False), django_assert_num_queries(1):
        rows = [
            (
                t.case.number,
                t.department.name,
                t.assignee,
                *_due(t),
            )
            for t in my_queue(w.p.clerk_b)
        ]
    assert len(rows) == 5
    assert rows[0][0] == late.number
    assert rows[0][4] == "yellow"
    assert rows[1][0] == soon.number
    assert rows[1][4] == ""
    assert [r[3] for r in rows] == sorted(r[3] for r in rows)
    assert {r[1] for r in rows} == {"乙局"}
    assert list(my_queue(w.p.citizen)) == []


def test_the_queue_shows_tasks_claimed_by_me_and_not_by_colleagues(world):
    from digitalcity.cases.services import task_claim

    w = world
    case = _accepted(w)
    task_claim(task=case.tasks.get(department=w.p.department_a), actor=w.window_a)
    assert list(my_queue(w.p.clerk_a)) == []
    assert [t.department_id for t in my_queue(w.window_a)] == [w.p.department_a.pk]


def test_case_detail_shows_used_paused_and_remaining_in_the_clock_unit(world):
    w = world
    case = _accepted(w)  # Mon 10-12
    with time_machine.travel(at(2026, 10, 15, 16), tick=False):  # 3 used
        case_transition(
            case=case, transition="ask_correction", actor=w.p.clerk_a, input={"opinion": "补图"}
        )
    with time_machine.travel(at(2026, 10, 20, 9), tick=False):  # paused over 10-16, 10-19, 10-20
        case_transition(case=case, transition="correct", actor=w.p.citizen)
    with time_machine.travel(at(2026, 10, 22, 9), tick=False):  # 10-21, 10-22 used since
        detail = case_detail(case)
    legal = next(c for c in detail.clocks if c.clock.code == "legal" and c.clock.task_id is None)
    assert (legal.used, legal.paused, legal.remaining, legal.total) == (5, 3, 15, 20)
    assert legal.unit == "工作日"
    assert not legal.is_paused
    assert [e.kind for e in detail.timeline][:2] == ["created", "transition"]
    public = case_detail(case, public_only=True)
    assert all(e.public for e in public.timeline)
    assert public.signals == []


def test_it_offers_only_the_transitions_the_user_may_take(world):
    w = world
    case = open_example_case(w)
    assert [t.code for t in available_transitions(w.p.clerk_a, case)] == ["accept"]
    assert [t.code for t in available_transitions(w.p.citizen, case)] == ["withdraw"]
    assert available_transitions(w.p.clerk_b, case) == []
    assert available_transitions(w.p.supervisor, case) == []


def test_near_due_and_overdue_lists(world):
    w = world
    overdue_case = _accepted(w, when=at(2026, 9, 1, 10))
    near_case = _accepted(w, when=at(2026, 9, 24, 10))  # legal due 10-29, prompt end 10-28
    _accepted(w, when=at(2026, 10, 20, 10))
    with time_machine.travel(at(2026, 10, 29, 10), tick=False):
        legal_near = [c.case for c in near_due() if c.code == "legal"]
        legal_over = [c.case for c in overdue() if c.code == "legal"]
        assert legal_near == [near_case]
        assert legal_over == [overdue_case]
        assert [c.case for c in overdue(department=w.p.department_b) if c.code == "legal"] == []
        assert [c.case for c in overdue(type_code="other.type")] == []


def test_supervision_figures_match_a_hand_count(world, in_2026):
    w = world

    def close(case, when):
        with time_machine.travel(when, tick=False):
            for task in case.tasks.order_by("department__code"):
                clerk = {w.p.department_a.pk: w.p.clerk_a, w.p.department_b.pk: w.p.clerk_b}.get(
                    task.department_id, w.clerk_c
                )
                task_complete(task=task, actor=clerk, opinion="同意")
            return case_transition(
                case=case, transition="decide", actor=w.p.clerk_a, input={"opinion": "准予"}
            )

    # 1: accepted Mon 10-12, closed Fri 10-16 — 4 working days, on time, satisfied.
    one = close(_accepted(w, when=at(2026, 10, 12, 10)), at(2026, 10, 16, 10))
    rating_submit(case=one, actor=w.p.citizen, value=RatingValue.SATISFIED)
    # 2: accepted 09-01, extended, closed 10-16 after its due (extended due 10-22? no:
    #    09-01 + 30 working days = 10-19... closed 10-16 is on time) — see below.
    two = _accepted(w, when=at(2026, 9, 1, 10))
    with time_machine.travel(at(2026, 9, 10, 10), tick=False):
        clock_extend(
            clock=Clock.objects.get(case=two, task=None),
            amount=10,
            reason="听证",
            approved_by=w.head_a,
        )
    two = close(two, at(2026, 10, 16, 10))
    rating_submit(case=two, actor=w.p.citizen, value=RatingValue.DISSATISFIED)  # reopens
    two.refresh_from_db()
    with time_machine.travel(at(2026, 10, 20, 10), tick=False):
        two = case_transition(
            case=two, transition="decide", actor=w.p.clerk_a, input={"opinion": "重办"}
        )
    # 3: accepted 08-03, a task returned and reassigned, closed 10-16: overdue.
    three = _accepted(w, when=at(2026, 8, 3, 10))
    task = three.tasks.get(department=w.p.department_b)
    task_return(task=task, actor=w.p.clerk_b, reason_code="not_our_duty")
    from digitalcity.cases.services import task_reassign

    task_reassign(task=task, actor=w.p.clerk_a, department=w.p.department_b)
    three = close(three, at(2026, 10, 16, 10))
    # 4: opened in the period, still open.
    _accepted(w, when=at(2026, 10, 14, 10))

    rows = figures(start=at(2026, 8, 1), end=at(2026, 11, 1))
    assert len(rows) == 1
    row = rows[0]
    assert row.name == "甲局"
    assert row.cases == 4
    assert row.closed == 3
    # Case two's rework stopped its clock again: second run, 10-16 → 10-20 is on time.
    # Overdue: only three (08-03 + 20 working days = 08-31).
    assert row.on_time_rate == round(2 / 3, 4)
    assert row.extension_rate == round(1 / 3, 4)
    assert row.return_rate == round(1 / 3, 4)
    # Satisfaction: satisfied (one) + dissatisfied (two) → 1 of 2.
    assert row.satisfaction == 0.5
    # Working days opened → closed: one 10-12→10-16 = 4; two 09-01→10-20 = 32
    # (09-02..04 3, 09-07..11 8, 09-14..18 13, 09-20 Sun make-up 14, 09-21..24 18,
    # 09-28..30 21, 10-08..10 24, 10-12..16 29, 10-19, 10-20 31)... computed below.
    from digitalcity.core.calendar import workdays_between

    spans = [
        workdays_between(at(2026, 10, 12).date(), at(2026, 10, 16).date()),
        workdays_between(at(2026, 9, 1).date(), at(2026, 10, 20).date()),
        workdays_between(at(2026, 8, 3).date(), at(2026, 10, 16).date()),
    ]
    assert spans[0] == 4
    assert row.avg_workdays == round(sum(spans) / 3, 2)
    by_division = figures(by="division", start=at(2026, 8, 1), end=at(2026, 11, 1))
    assert [r.cases for r in by_division] == [4]


def test_signals_are_visible_to_the_supervision_desk(world):
    w = world
    case = _accepted(w)
    sweep(now=at(2026, 11, 10, 0))
    detail = case_detail(case)
    assert {s.kind for s in detail.signals} >= {"yellow"}
