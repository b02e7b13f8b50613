"""The case pages: queue, case page and its actions, supervision desk, citizen tracking
and the one-time rating link — each for the right persona, and refused to the outsider."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from openpyxl import load_workbook

from digitalcity.cases.choices import (
    ClockState,
    EventKind,
    RatingValue,
    ReturnReason,
    SignalKind,
    TaskState,
    UrgeState,
)
from digitalcity.cases.models import Case, Clock, Event, Rating, Signal, Task, UrgeOrder
from digitalcity.cases.services import (
    case_transition,
    clock_extend,
    rating_link_issue,
    rating_submit,
    task_claim,
    task_complete,
    task_return,
)
from digitalcity.cases.services.ratings import RATING_PATH
from digitalcity.identity.models import User
from digitalcity.identity.tests.factories import UserFactory

from .conftest import at
from .factories import World, open_example_case

# Monday 2026-10-12: the legal clock (20 working days) falls due 2026-11-09, its red card
# 5 working days later (2026-11-16); 2026-11-20 is past both.
OPENED = at(2026, 10, 12, 10)
REVIEWING = at(2026, 10, 20, 10)
LATE = at(2026, 11, 20, 10)


@pytest.fixture
def travel() -> Iterator[Any]:
    """Move the clock to a given moment: `travel(moment)`; ends with the test."""
    travellers: list[Any] = []

    def go(moment: datetime) -> None:
        if travellers:
            travellers.pop().stop()
        traveller = time_machine.travel(moment, tick=False)
        traveller.start()
        travellers.append(traveller)

    yield go
    for traveller in travellers:
        traveller.stop()


def _accepted(w: World, *, by: Any = None, **overrides: Any) -> Case:
    case = open_example_case(w, **overrides)
    return case_transition(
        case=case,
        transition="accept",
        actor=by or w.p.clerk_a,
        input={"opinion": "材料齐全，予以受理"},
    )


def _a_only(w: World) -> Case:
    """A case only department A is involved in."""
    return _accepted(w, co_departments=[])


def _closed(w: World, case: Case) -> Case:
    for task in case.tasks.all():
        clerk = {w.p.department_a.pk: w.p.clerk_a, w.p.department_b.pk: w.p.clerk_b}.get(
            task.department_id, w.clerk_c
        )
        task_complete(task=task, actor=clerk, opinion="同意", outcome="agree")
    return case_transition(
        case=case, transition="decide", actor=w.p.clerk_a, input={"opinion": "准予许可"}
    )


def _html(response: Any) -> str:
    return response.content.decode()


# --- The queue ----------------------------------------------------------------------------


def test_the_queue_shows_a_clerk_the_tasks_of_their_department_soonest_first(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    first = _accepted(world, subject="先到期的申请")
    travel(REVIEWING)
    second = _accepted(world, subject="后到期的申请")
    client.force_login(world.p.clerk_a)
    response = client.get(reverse("cases:queue"))
    assert response.status_code == 200
    html = _html(response)
    assert html.index("先到期的申请") < html.index("后到期的申请")
    assert reverse("cases:case", args=[first.number]) in html
    assert reverse("cases:case", args=[second.number]) in html
    assert "示例并联办件" in html
    assert "部门审查" in html
    assert "审查中" in html
    assert "cs-badge-ok" in html


def test_the_queue_badges_a_late_task_yellow_and_a_red_carded_one_red(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _a_only(world)
    travel(LATE)
    client.force_login(world.p.clerk_a)
    html = _html(client.get(reverse("cases:queue")))
    # Past due shows yellow at once, before the worker's card.
    assert 'class="cs-badge cs-badge-yellow"' in html
    assert 'class="cs-badge cs-badge-red"' not in html
    Clock.objects.filter(case=case).update(signal_stage="red")
    html = _html(client.get(reverse("cases:queue")))
    assert "红牌" in html
    assert 'class="cs-badge cs-badge-red"' in html


def test_the_queue_filters_by_type_state_and_department(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _accepted(world)
    client.force_login(world.p.clerk_a)
    url = reverse("cases:queue")
    assert case.number in _html(client.get(url, {"type": "example.parallel", "state": "reviewing"}))
    assert case.number not in _html(client.get(url, {"state": "deciding"}))
    department = world.p.department_a.pk
    assert case.number in _html(client.get(url, {"department": department}))


def test_the_queue_answers_htmx_with_the_table_only(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _accepted(world)
    client.force_login(world.p.clerk_a)
    html = _html(client.get(reverse("cases:queue"), headers={"HX-Request": "true"}))
    assert case.number in html
    assert "<html" not in html


def test_the_queue_paginates(client: Client, world: World, travel: Any) -> None:
    travel(OPENED)
    for n in range(22):
        if n % 2:
            _a_only(world)
        else:
            open_example_case(world, co_departments=[])
    client.force_login(world.p.clerk_a)
    html = _html(client.get(reverse("cases:queue")))
    assert "共 11 项" in html  # only accepted cases have review tasks
    for _n in range(20):
        _a_only(world)
    html = _html(client.get(reverse("cases:queue")))
    assert "共 31 项" in html
    assert "第 1/2 页" in html
    assert "第 2/2 页" in _html(client.get(reverse("cases:queue"), {"page": 2}))


def test_the_queue_runs_a_fixed_number_of_queries_whatever_its_length(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    _accepted(world)
    client.force_login(world.p.clerk_a)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("cases:queue")).status_code == 200
        return len(queries)

    few = count()
    for _n in range(6):
        _accepted(world)
    assert count() == few


def test_the_queue_query_count_is_locked(
    client: Client, world: World, travel: Any, django_assert_max_num_queries: Any
) -> None:
    travel(OPENED)
    for _n in range(5):
        _accepted(world)
    client.force_login(world.p.clerk_a)
    # Session, user, memberships for the menu, the page of tasks, its count.
    with django_assert_max_num_queries(7):
        client.get(reverse("cases:queue"))


def test_the_workbench_home_lists_my_tasks(client: Client, world: World, travel: Any) -> None:
    travel(OPENED)
    case = _accepted(world)
    client.force_login(world.p.clerk_b)
    html = _html(client.get(reverse("web:workbench")))
    assert case.number in html
    assert "暂无待办" not in html
    assert reverse("cases:queue") in html


def test_the_workbench_menu_links_my_queue_and_the_supervision_desk(
    client: Client, world: World
) -> None:
    client.force_login(world.p.supervisor)
    html = _html(client.get(reverse("web:workbench")))
    assert f'href="{reverse("cases:queue")}"' in html
    assert f'href="{reverse("cases:supervision")}"' in html
    client.force_login(world.head_a)
    assert reverse("cases:supervision") not in _html(client.get(reverse("web:workbench")))


# --- Refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["cases:queue", "cases:supervision", "cases:supervision_export"])
def test_citizens_are_refused_the_workbench_pages(client: Client, world: World, page: str) -> None:
    client.force_login(world.p.citizen)
    assert client.get(reverse(page)).status_code == 403


def test_the_anonymous_are_sent_to_log_in(client: Client, world: World) -> None:
    for page in ("cases:queue", "cases:supervision", "cases:tracking"):
        response = client.get(reverse(page))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("identity:login"))


def test_a_citizen_gets_403_on_the_staff_case_page_even_for_their_own_case(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _a_only(world)
    client.force_login(world.p.citizen)
    assert client.get(reverse("cases:case", args=[case.number])).status_code == 403


@pytest.mark.parametrize("who", ["clerk_a", "head_a"])
def test_clerks_and_heads_are_refused_the_supervision_desk(
    client: Client, world: World, who: str
) -> None:
    user = getattr(world.p, who, None) or getattr(world, who)
    client.force_login(user)
    response = client.get(reverse("cases:supervision"))
    assert response.status_code == 403
    assert "督办台仅对监察督办人员和系统管理员开放" in _html(response)


def test_a_clerk_of_another_department_gets_404_on_the_case_and_its_actions(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _a_only(world)
    task = case.tasks.get()
    client.force_login(world.p.clerk_b)
    for ref in (case.number, str(case.pk)):
        assert client.get(reverse("cases:case", args=[ref])).status_code == 404
    posts = [
        reverse("cases:transition", args=[case.number, "ask_correction"]),
        reverse("cases:task_action", args=[case.number, task.pk, "claim"]),
        reverse("cases:task_action", args=[case.number, task.pk, "complete"]),
        reverse("cases:extend_clock", args=[case.number, case.clocks.first().pk]),  # type: ignore[union-attr]
    ]
    for url in posts:
        assert client.post(url, {"t-ask_correction-opinion": "x"}).status_code == 404
    task.refresh_from_db()
    assert task.state == TaskState.OPEN
    assert not Event.objects.filter(case=case, actor=world.p.clerk_b).exists()


def test_a_task_of_another_case_is_not_reachable_through_my_case(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    mine = _a_only(world)
    other = _accepted(world, by=world.p.clerk_b, department=world.p.department_b, co_departments=[])
    client.force_login(world.p.clerk_a)
    foreign = other.tasks.get()
    url = reverse("cases:task_action", args=[mine.number, foreign.pk, "claim"])
    assert client.post(url).status_code == 404


# --- The case page -----------------------------------------------------------------------------


def test_the_case_page_shows_header_timeline_tasks_clocks_and_actions(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _accepted(world, applicant_phone="13812345678")
    travel(REVIEWING)
    client.force_login(world.p.clerk_a)
    response = client.get(reverse("cases:case", args=[case.number]))
    assert response.status_code == 200
    html = _html(response)
    assert case.number in html
    assert "食品经营许可申请" in html
    assert "张*" in html
    assert "张三" not in html
    assert "申请人" in html
    assert "138****5678" in html
    assert "13812345678" not in html
    assert "网上申请" in html
    assert "甲局" in html
    assert "乙局" in html
    assert "丙局" in html
    assert "受理" in html
    assert "材料齐全，予以受理" in html
    assert "法定时限" in html
    assert "工作日" in html
    assert "2026-11-09" in html
    assert "部门审查" in html
    assert "签收办理" in html
    assert "办结任务" in html
    assert "要求补正" in html  # a transition A's clerk may take


def test_the_case_page_opens_by_primary_key_too(client: Client, world: World, travel: Any) -> None:
    travel(OPENED)
    case = _a_only(world)
    client.force_login(world.p.clerk_a)
    assert client.get(reverse("cases:case", args=[case.pk])).status_code == 200


def test_a_transition_without_its_required_input_is_refused_in_chinese_next_to_the_field(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = open_example_case(world, co_departments=[])
    client.force_login(world.p.clerk_a)
    url = reverse("cases:transition", args=[case.number, "accept"])
    response = client.post(url, {"t-accept-opinion": "  "})
    assert response.status_code == 400
    html = _html(response)
    assert "请填写意见" in html
    assert "<details open>" in html
    case.refresh_from_db()
    assert case.state == "submitted"
    response = client.post(url, {"t-accept-opinion": "材料齐全"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "reviewing"
    assert case.tasks.count() == 1


def test_a_transition_the_user_may_not_take_is_refused_with_403(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = open_example_case(world)
    client.force_login(world.p.clerk_b)  # involved (co-department) but accept is lead-only
    url = reverse("cases:transition", args=[case.number, "accept"])
    assert client.post(url, {"t-accept-opinion": "好"}).status_code == 403
    case.refresh_from_db()
    assert case.state == "submitted"


def test_a_clerk_claims_and_completes_a_task_through_the_page(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _a_only(world)
    task = case.tasks.get()
    client.force_login(world.p.clerk_a)
    response = client.post(reverse("cases:task_action", args=[case.number, task.pk, "claim"]))
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.locked_by == world.p.clerk_a
    complete = reverse("cases:task_action", args=[case.number, task.pk, "complete"])
    refused = client.post(complete, {f"complete-{task.pk}-outcome": "agree"})
    assert refused.status_code == 400
    assert "办理意见不能为空" in _html(refused)
    done = client.post(
        complete, {f"complete-{task.pk}-outcome": "agree", f"complete-{task.pk}-opinion": "同意"}
    )
    assert done.status_code == 302
    task.refresh_from_db()
    case.refresh_from_db()
    assert task.state == TaskState.COMPLETED
    assert task.opinion == "同意"
    assert case.state == "deciding"  # the single-task group joined
    assert "任务已办结" in _html(client.get(done["Location"]))


def test_a_task_locked_by_a_colleague_offers_no_actions_but_a_supervisor_may_break_the_lock(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _a_only(world)
    task = case.tasks.get()
    task_claim(task=task, actor=world.window_a)
    client.force_login(world.p.clerk_a)
    html = _html(client.get(reverse("cases:case", args=[case.number])))
    assert "吴窗 已签收办理" in html
    assert "签收办理" not in html.split("吴窗 已签收办理")[1]
    client.force_login(world.p.supervisor)
    url = reverse("cases:task_action", args=[case.number, task.pk, "break_lock"])
    assert "须说明理由" in _html(client.post(url, {}))
    assert client.post(url, {f"unlock-{task.pk}-reason": "承办人休假"}).status_code == 302
    task.refresh_from_db()
    assert task.locked_by is None


def test_a_task_is_returned_with_a_reason_code_and_reassigned(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _accepted(world)
    task = case.tasks.get(department=world.p.department_b)
    client.force_login(world.p.clerk_b)
    url = reverse("cases:task_action", args=[case.number, task.pk, "return"])
    response = client.post(
        url,
        {
            f"return-{task.pk}-reason_code": ReturnReason.NOT_OUR_DUTY,
            f"return-{task.pk}-reason": "应由丙局办理",
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.RETURNED
    client.force_login(world.p.clerk_a)
    url = reverse("cases:task_action", args=[case.number, task.pk, "reassign"])
    response = client.post(url, {f"reassign-{task.pk}-department": world.department_c.pk})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.department == world.department_c
    assert task.state == TaskState.OPEN


def test_a_head_extends_the_legal_clock_from_the_case_page(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _a_only(world)
    legal = Clock.objects.get(case=case, task=None, code="legal")
    client.force_login(world.head_a)
    url = reverse("cases:extend_clock", args=[case.number, legal.pk])
    refused = client.post(url, {f"extend-{legal.pk}-amount": "10"})
    assert refused.status_code == 400
    assert "延期须说明理由" in _html(refused)
    assert (
        client.post(
            url, {f"extend-{legal.pk}-amount": "10", f"extend-{legal.pk}-reason": "需现场核查"}
        ).status_code
        == 302
    )
    legal.refresh_from_db()
    assert legal.extended == 10
    html = _html(client.get(reverse("cases:case", args=[case.number])))
    assert "含延期 10" in html


# --- Supervision ------------------------------------------------------------------------------


def test_the_supervision_desk_lists_overdue_and_near_due_cases_and_cards(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    late = _a_only(world)
    travel(at(2026, 11, 5, 10))
    near = _a_only(world)
    # `near`'s review task (10 working days) is due 2026-11-19; prompt a day before.
    travel(at(2026, 11, 19, 9))
    legal = Clock.objects.get(case=late, task=None)
    assert legal.due_at is not None
    Signal.objects.create(
        case=late,
        clock=legal,
        kind=SignalKind.RED,
        due_at=legal.due_at,
        department=world.p.department_a,
    )
    client.force_login(world.p.supervisor)
    response = client.get(reverse("cases:supervision"))
    assert response.status_code == 200
    html = _html(response)
    overdue = html.split('id="overdue-title"')[1].split('id="near-title"')[0]
    near_part = html.split('id="near-title"')[1].split('id="cards-title"')[0]
    assert late.number in overdue
    assert near.number not in overdue
    assert near.number in near_part
    cards = html.split('id="cards-title"')[1].split('id="urge-list-title"')[0]
    assert late.number in cards
    assert "红牌" in cards
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert 'id="trend-data"' in html


def test_a_supervisor_urges_and_the_department_answers(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _a_only(world)
    client.force_login(world.p.supervisor)
    url = reverse("cases:urge_issue", args=[case.number])
    refused = client.post(url, {"urge-days": "3"})
    assert refused.status_code == 400
    assert "督办意见不能为空" in _html(refused)
    assert client.post(url, {"urge-note": "请加快办理", "urge-days": "3"}).status_code == 302
    urge = UrgeOrder.objects.get(case=case)
    assert urge.department == world.p.department_a
    assert case.number in _html(client.get(reverse("cases:supervision")))
    client.force_login(world.p.clerk_a)
    assert client.post(url, {"urge-note": "x", "urge-days": "3"}).status_code == 403
    answer = reverse("cases:urge_answer", args=[case.number, urge.pk])
    assert client.post(answer, {f"answer-{urge.pk}-answer": "已办理"}).status_code == 302
    urge.refresh_from_db()
    assert urge.state == UrgeState.ANSWERED


def test_the_supervision_desk_filters_and_answers_htmx_with_its_body(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    _a_only(world)
    client.force_login(world.p.admin)
    html = _html(
        client.get(
            reverse("cases:supervision"),
            {
                "type": "example.parallel",
                "start": "2026-10-01",
                "end": "2026-10-31",
                "department": str(world.p.department_a.pk),
            },
            headers={"HX-Request": "true"},
        )
    )
    assert "<html" not in html
    assert "各部门办理情况" in html
    assert "甲局" in html
    bad = _html(
        client.get(reverse("cases:supervision"), {"start": "2026-11-01", "end": "2026-10-01"})
    )
    assert "起始日期不能晚于截止日期" in bad


def test_the_supervision_desk_query_count_is_locked(
    client: Client, world: World, travel: Any, django_assert_max_num_queries: Any
) -> None:
    travel(OPENED)
    for _n in range(4):
        _a_only(world)
    travel(LATE)
    client.force_login(world.p.supervisor)
    with django_assert_max_num_queries(18):
        assert client.get(reverse("cases:supervision")).status_code == 200


def _figures_world(w: World, travel: Any) -> list[Case]:
    """Three cases of A in October 2026: one closed in time and rated satisfied, one closed
    late after an extension and a returned task, rated dissatisfied; one still open."""
    travel(OPENED)
    on_time = _a_only(w)
    late = _accepted(w, co_departments=[w.p.department_b])
    still_open = _a_only(w)
    travel(at(2026, 10, 16, 10))
    _closed(w, on_time)  # opened Mon 10-12, closed Fri 10-16: 4 working days
    rating_submit(case=on_time, actor=w.p.citizen, value=RatingValue.SATISFIED)
    task_b = late.tasks.get(department=w.p.department_b)
    task_return(task=task_b, actor=w.p.clerk_b, reason_code=ReturnReason.OTHER, reason="非本部门")
    from digitalcity.cases.services import task_reassign

    task_reassign(task=task_b, actor=w.p.clerk_a, department=w.p.department_b)
    clock_extend(
        clock=Clock.objects.get(case=late, task=None), amount=1, reason="核查", approved_by=w.head_a
    )
    travel(at(2026, 11, 30, 10))
    late.refresh_from_db()
    _closed(w, late)
    rating_submit(case=late, actor=w.p.citizen, value=RatingValue.BASICALLY)
    return [on_time, late, still_open]


def test_the_excel_export_opens_and_holds_the_figures(
    client: Client, world: World, travel: Any
) -> None:
    _figures_world(world, travel)
    client.force_login(world.p.supervisor)
    response = client.get(
        reverse("cases:supervision_export"), {"start": "2026-10-01", "end": "2026-12-31"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["按部门", "按区划"]
    sheet = book["按部门"]
    assert "2026-10-01" in sheet["A1"].value
    header = [c.value for c in sheet[2]]
    assert header == [
        "名称",
        "办件数",
        "办结数",
        "按时办结率",
        "平均办理时长（工作日）",
        "延期率",
        "退回率",
        "满意率",
    ]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
    a = rows["甲局"]
    assert a[1] == 3
    assert a[2] == 2
    assert a[3] == pytest.approx(0.5)  # one of two closed in time
    assert a[5] == pytest.approx(0.5)
    assert a[6] == pytest.approx(0.5)
    assert a[7] == pytest.approx(1.0)  # satisfied + basically satisfied
    # 10-12 → 10-16: 4 working days; 10-12 → 11-30: 35 (National Day is before 10-12).
    assert a[4] == pytest.approx((4 + 35) / 2)
    assert rows["合计"][1] == 3
    assert sheet["D3"].number_format == "0.0%"


def test_the_desk_figures_match_the_export(client: Client, world: World, travel: Any) -> None:
    _figures_world(world, travel)
    client.force_login(world.p.supervisor)
    html = _html(
        client.get(reverse("cases:supervision"), {"start": "2026-10-01", "end": "2026-12-31"})
    )
    departments = html.split('id="dept-title"')[1].split('id="division-title"')[0]
    assert "甲局" in departments
    assert "50%" in departments
    assert "100%" in departments


# --- Citizen tracking and rating --------------------------------------------------------------


def test_my_cases_shows_the_public_timeline_only(client: Client, world: World, travel: Any) -> None:
    travel(OPENED)
    case = _accepted(world)
    Event.objects.create(
        case=case, kind=EventKind.COMMENT, reason="内部备注：申请人材料存疑", public=False
    )
    client.force_login(world.p.citizen)
    response = client.get(reverse("cases:tracking"))
    assert response.status_code == 200
    html = _html(response)
    assert case.number in html
    assert "审查中" in html
    assert "受理" in html
    assert "材料齐全，予以受理" in html
    assert "内部备注" not in html
    assert "任务下达" not in html
    assert "计时开始" not in html
    assert "王甲" not in html  # staff names stay internal
    assert "请您评价" not in html  # not closed yet


def test_another_citizen_cannot_see_or_rate_my_case(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _a_only(world)
    _closed(world, case)
    other = UserFactory.create(username="other_citizen", real_name="李四")
    client.force_login(other)
    html = _html(client.get(reverse("cases:tracking")))
    assert case.number not in html
    found = _html(client.get(reverse("cases:tracking"), {"number": case.number}))
    assert f'id="case-{case.pk}"' not in found
    assert "没有找到该编号的办件" in found
    url = reverse("cases:rate_case", args=[case.number])
    assert client.post(url, {f"rate-{case.pk}-value": "dissatisfied"}).status_code == 404
    assert not Rating.objects.exists()


def test_the_applicant_rates_a_closed_case_from_my_cases(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _closed(world, _a_only(world))
    client.force_login(world.p.citizen)
    html = _html(client.get(reverse("cases:tracking")))
    assert "请您评价本次办理" in html
    assert "基本满意" in html
    url = reverse("cases:rate_case", args=[case.number])
    refused = client.post(url, {})
    assert refused.status_code == 400
    assert "请选择满意程度" in _html(refused)
    response = client.post(
        url, {f"rate-{case.pk}-value": "satisfied", f"rate-{case.pk}-text": "办事快"}
    )
    assert response.status_code == 302
    rating = Rating.objects.get(case=case)
    assert rating.value == RatingValue.SATISFIED
    assert rating.by == world.p.citizen
    html = _html(client.get(reverse("cases:tracking")))
    assert "请您评价本次办理" not in html
    assert "您已于" in html


def test_my_cases_runs_a_fixed_number_of_queries(
    client: Client, world: World, travel: Any, django_assert_max_num_queries: Any
) -> None:
    travel(OPENED)
    for _n in range(3):
        _closed(world, _a_only(world))
    client.force_login(world.p.citizen)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("cases:tracking")).status_code == 200
        return len(queries)

    few = count()
    for _n in range(4):
        _accepted(world)
    assert count() == few
    with django_assert_max_num_queries(8):
        client.get(reverse("cases:tracking"))


def test_the_one_time_rating_link_works_once_without_login(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _closed(world, _a_only(world))
    _link, token = rating_link_issue(case=case, actor=None)
    url = reverse("cases:rate_link", args=[token])
    page = client.get(url)
    assert page.status_code == 200
    assert case.number in _html(page)
    assert "满意" in _html(page)
    assert client.post(url, {}).status_code == 400
    done = client.post(url, {"rate-value": "basically", "rate-text": "还行"})
    assert done.status_code == 200
    assert "感谢您的评价" in _html(done)
    rating = Rating.objects.get(case=case)
    assert rating.value == RatingValue.BASICALLY
    assert rating.by is None
    assert "已使用" in _html(client.get(url))
    assert client.post(url, {"rate-value": "dissatisfied"}).status_code == 200
    assert Rating.objects.count() == 1


def test_the_lead_department_texts_the_rating_link_from_the_case_page(
    client: Client, world: World, travel: Any
) -> None:
    from digitalcity.cases.models import RatingLink

    travel(OPENED)
    case = _closed(world, _a_only(world))
    client.force_login(world.p.clerk_a)
    html = _html(client.get(reverse("cases:case", args=[case.number])))
    assert "发送评价短信" in html
    url = reverse("cases:send_rating_link", args=[case.number])
    page = client.get(client.post(url)["Location"])
    assert "评价短信已发送至 138****" in _html(page)
    assert RatingLink.objects.filter(case=case).count() == 1
    rating_submit(case=case, actor=world.p.citizen, value=RatingValue.SATISFIED)
    assert "发送评价短信" not in _html(client.get(reverse("cases:case", args=[case.number])))


def test_an_unknown_rating_token_is_404(client: Client, db: None) -> None:
    assert client.get(reverse("cases:rate_link", args=["no-such-token"])).status_code == 404


def test_the_link_in_the_sms_reaches_the_rating_page() -> None:
    match = resolve(RATING_PATH.format(token="abc"))
    assert match.view_name in ("cases:rate_link", "cases:rate_link_sms")
    assert match.kwargs == {"token": "abc"}


def test_the_rating_form_is_not_offered_twice_in_a_round(
    client: Client, world: World, travel: Any
) -> None:
    travel(OPENED)
    case = _closed(world, _a_only(world))
    rating_submit(case=case, actor=world.p.citizen, value=RatingValue.SATISFIED)
    client.force_login(world.p.citizen)
    assert "请您评价本次办理" not in _html(client.get(reverse("cases:tracking")))
    assert Task.objects.filter(case=case).exists()
    assert ClockState.STOPPED in Clock.objects.filter(case=case).values_list("state", flat=True)


# --- The demo ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_demo_city_gets_example_cases_in_several_states_once(
    client: Client, db: None, travel: Any
) -> None:
    from digitalcity.cases.demo import seed_demo_cases
    from digitalcity.web.demo import seed_demo

    travel(at(2026, 11, 16, 10))
    seed_demo(citizens=2, enterprises=2)
    cases = Case.objects.filter(type_code="example.parallel")
    states = sorted(cases.values_list("state", flat=True))
    assert states == [
        "closed", "correction", "deciding", "reviewing", "reviewing", "reviewing", "submitted"
    ]  # fmt: skip
    assert UrgeOrder.objects.filter(case__in=cases).count() == 1
    assert Rating.objects.filter(case__in=cases).count() == 1
    assert Signal.objects.filter(case__in=cases, kind=SignalKind.PROMPT).exists()
    assert seed_demo_cases() == 0
    assert cases.count() == 7
    client.force_login(User.objects.get(username="supervisor"))
    near = _html(client.get(reverse("cases:supervision"))).split('id="near-title"')[1]
    assert "临时占用城市道路许可" in near.split('id="cards-title"')[0]
    client.force_login(User.objects.get(username="samr"))
    assert "餐饮服务食品经营许可（新办）" in _html(client.get(reverse("cases:queue")))
