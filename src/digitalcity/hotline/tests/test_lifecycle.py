"""The work-order lifecycle on the engine: dispatch, sign, reply, call-back, rework,
return and reassignment, extension, urge, answer, merge, archive."""

from __future__ import annotations

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from digitalcity.cases.choices import ClockState, EventKind, ReturnReason, TaskState
from digitalcity.cases.models import Clock, Event, Task
from digitalcity.core.models import Notification
from digitalcity.hotline.choices import DeadlineUnit, ExtensionState, OrderState, RequestType
from digitalcity.hotline.models import Callback
from digitalcity.hotline.services import (
    order_answer,
    order_archive,
    order_callback,
    order_decide_extension,
    order_dispatch,
    order_merge,
    order_remind,
    order_reply,
    order_request_extension,
    order_return,
    order_review_return,
    order_sign,
    order_urge,
)

from .conftest import at
from .factories import make_order


def _state(order):
    order.case.refresh_from_db()
    return order.case.state


def _dispatched(hw, **kw):
    order = make_order(hw, **kw)
    return order_dispatch(order=order, actor=hw.agent, lead=hw.p.department_a)


def test_the_whole_cycle_with_a_dissatisfied_call_back_and_rework(hw):
    order = _dispatched(hw)
    assert _state(order) == OrderState.DISPATCHED
    sign = Task.objects.get(case=order.case, spec="sign")
    assert Clock.objects.get(task=sign).unit == "workhours"
    with pytest.raises(ValidationError):
        order_reply(order=order, actor=hw.p.clerk_a, reply="已处理")  # must sign first
    order_sign(order=order, actor=hw.p.clerk_a)
    assert _state(order) == OrderState.HANDLING
    order_reply(order=order, actor=hw.p.clerk_a, reply="已责令工地夜间停工")
    assert _state(order) == OrderState.REPLIED
    order.refresh_from_db()
    assert order.reply == "已责令工地夜间停工"
    assert order.callback_due_at is not None
    assert Notification.objects.filter(to="13812345678", body__contains="已办结").exists()

    order_callback(order=order, actor=hw.agent, solved=False, value="dissatisfied", note="仍施工")
    # Reworked once: dispatched again to the same department, a second round.
    assert _state(order) == OrderState.DISPATCHED
    assert order.case.round == 2
    assert Clock.objects.get(case=order.case, task=None, code="deadline").state == (
        ClockState.RUNNING
    )
    order_sign(order=order, actor=hw.p.clerk_a)
    order_reply(order=order, actor=hw.p.clerk_a, reply="已查处并罚款，夜间不再施工")
    order_callback(order=order, actor=hw.agent, solved=True, value="satisfied")
    assert _state(order) == OrderState.REPLIED
    assert list(
        Callback.objects.filter(order=order).order_by("round").values_list("round", "value")
    ) == [
        (1, "dissatisfied"),
        (2, "satisfied"),
    ]
    order_archive(order=order, actor=hw.agent)
    assert _state(order) == OrderState.ARCHIVED


def test_a_second_dissatisfaction_does_not_reopen(hw):
    order = _dispatched(hw)
    order_sign(order=order, actor=hw.p.clerk_a)
    order_reply(order=order, actor=hw.p.clerk_a, reply="已处理")
    order_callback(order=order, actor=hw.agent, solved=False, value="dissatisfied")
    order_sign(order=order, actor=hw.p.clerk_a)
    order_reply(order=order, actor=hw.p.clerk_a, reply="再次处理")
    order_callback(order=order, actor=hw.agent, solved=False, value="dissatisfied")
    assert _state(order) == OrderState.REPLIED


def test_another_departments_clerk_cannot_sign_or_reply(hw):
    order = _dispatched(hw)
    with pytest.raises(PermissionDenied):
        order_sign(order=order, actor=hw.p.clerk_b)
    assert _state(order) == OrderState.DISPATCHED


def test_co_handlers_all_sign_and_reply_before_the_order_closes(hw):
    order = make_order(hw)
    order_dispatch(
        order=order, actor=hw.agent, lead=hw.p.department_a, co_handlers=[hw.p.department_b]
    )
    order_sign(order=order, actor=hw.p.clerk_a)
    assert _state(order) == OrderState.DISPATCHED
    order_sign(order=order, actor=hw.p.clerk_b)
    assert _state(order) == OrderState.HANDLING
    order_reply(order=order, actor=hw.p.clerk_b, reply="协办意见：已配合检查")
    assert _state(order) == OrderState.HANDLING
    order_reply(order=order, actor=hw.p.clerk_a, reply="主办答复")
    assert _state(order) == OrderState.REPLIED
    order.refresh_from_db()
    assert order.reply == "主办答复"


def test_a_return_is_reviewed_and_the_order_reassigned(hw):
    order = _dispatched(hw)
    order_return(
        order=order, actor=hw.p.clerk_a, reason_code=ReturnReason.NOT_OUR_DUTY, reason="属乙局"
    )
    assert _state(order) == OrderState.RETURNED
    assert set(Task.objects.filter(case=order.case).values_list("spec", "state")) == {
        ("sign", TaskState.RETURNED),
        ("handle", TaskState.RETURNED),
    }
    event = Event.objects.get(case=order.case, kind=EventKind.TASK_RETURNED, task__spec="sign")
    assert event.data["reason_code"] == ReturnReason.NOT_OUR_DUTY
    with pytest.raises(ValidationError):
        order_review_return(order=order, actor=hw.agent, approve=True, note="同意")  # no target
    order_review_return(
        order=order, actor=hw.agent, approve=True, department=hw.p.department_b, note="改派乙局"
    )
    order.refresh_from_db()
    assert _state(order) == OrderState.DISPATCHED
    assert order.lead_department == hw.p.department_b
    order_sign(order=order, actor=hw.p.clerk_b)
    order_reply(order=order, actor=hw.p.clerk_b, reply="乙局已处理")
    assert _state(order) == OrderState.REPLIED


def test_a_rejected_return_goes_back_to_the_same_department_while_handling(hw):
    order = _dispatched(hw)
    order_sign(order=order, actor=hw.p.clerk_a)
    order_return(order=order, actor=hw.p.clerk_a, reason_code=ReturnReason.OTHER, reason="太难")
    order_review_return(order=order, actor=hw.agent, approve=False, note="属你局职责，请办理")
    assert _state(order) == OrderState.HANDLING
    order_reply(order=order, actor=hw.p.clerk_a, reply="已处理")
    assert _state(order) == OrderState.REPLIED


def test_an_approved_extension_moves_the_deadline_and_tells_the_citizen(hw):
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        order = _dispatched(hw, request_type=RequestType.HELP)
        clock = Clock.objects.get(case=order.case, task=None, code="deadline")
        # 7 working days after Mon 11-02: the end of Wed 11-11.
        assert clock.due_at == at(2026, 11, 11, 23, 59, 59)
        request = order_request_extension(
            order=order, actor=hw.p.clerk_a, amount=3, unit=DeadlineUnit.WORKDAYS, reason="需检测"
        )
        with pytest.raises(ValidationError):
            order_request_extension(
                order=order, actor=hw.p.clerk_a, amount=1, unit=DeadlineUnit.WORKDAYS, reason="再"
            )
        with pytest.raises(PermissionDenied):
            order_decide_extension(request=request, actor=hw.p.clerk_a, approve=True)
        order_decide_extension(request=request, actor=hw.center_head, approve=True, note="同意")
    request.refresh_from_db()
    assert request.state == ExtensionState.APPROVED
    clock.refresh_from_db()
    # 3 working days after Wed 11-11: the end of Mon 11-16.
    assert clock.due_at == at(2026, 11, 16, 23, 59, 59)
    assert Notification.objects.filter(to="13812345678", body__contains="延长").exists()


def test_an_extension_cannot_be_asked_after_the_deadline(hw):
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        order = _dispatched(hw, request_type=RequestType.HELP, urgency="critical")
    with time_machine.travel(at(2026, 11, 2, 12, 0), tick=False), pytest.raises(ValidationError):
        order_request_extension(
            order=order, actor=hw.p.clerk_a, amount=2, unit=DeadlineUnit.CALENDAR_HOURS, reason="晚"
        )


def test_a_supervisor_urges_the_handling_department(hw):
    order = _dispatched(hw)
    urge = order_urge(order=order, actor=hw.p.supervisor, note="请加快办理")
    assert urge.department == hw.p.department_a
    with pytest.raises(PermissionDenied):
        order_urge(order=order, actor=hw.agent, note="催")


def test_a_consultation_is_answered_at_once(hw):
    order = make_order(hw, request_type=RequestType.CONSULT, category="080101")
    order_answer(
        order=order, actor=hw.agent, reply="营业执照可在政务服务网办理", knowledge_ref="KB-1"
    )
    assert _state(order) == OrderState.ANSWERED
    order_archive(order=order, actor=hw.agent)
    assert _state(order) == OrderState.ARCHIVED


def test_a_repeat_request_is_merged_into_the_first(hw):
    first = make_order(hw)
    repeat = make_order(hw, description="工地晚上还在施工，吵得睡不着")
    order_merge(order=repeat, into=first, actor=hw.agent)
    assert _state(repeat) == OrderState.MERGED
    repeat.refresh_from_db()
    assert repeat.merged_into == first
    with pytest.raises(ValidationError):
        order_merge(order=first, into=first, actor=hw.agent)


def test_archiving_waits_for_the_call_back(hw):
    order = _dispatched(hw)
    order_sign(order=order, actor=hw.p.clerk_a)
    order_reply(order=order, actor=hw.p.clerk_a, reply="已处理")
    with pytest.raises(ValidationError):
        order_archive(order=order, actor=hw.agent)


def test_the_center_reminds_the_handling_department(hw):
    order = _dispatched(hw)
    reminder = order_remind(order=order, actor=hw.agent, note="市民再次来电")
    assert reminder.notified == 2  # clerk and head
    assert list(reminder.departments.all()) == [hw.p.department_a]
    assert (reminder.by, reminder.note) == (hw.agent, "市民再次来电")
    assert Notification.objects.filter(
        recipient=hw.p.clerk_a, channel="site", body__contains="催办"
    ).exists()
    with pytest.raises(PermissionDenied):
        order_remind(order=order, actor=hw.p.clerk_b)


def test_an_sms_rating_link_dissatisfaction_waits_for_the_center_to_dispatch_again(hw):
    from digitalcity.cases.services import rating_submit
    from digitalcity.hotline.queries import center_queues
    from digitalcity.hotline.services import order_send_rating_link

    order = _dispatched(hw)
    order_sign(order=order, actor=hw.p.clerk_a)
    order_reply(order=order, actor=hw.p.clerk_a, reply="已处理")
    token = order_send_rating_link(order=order, actor=hw.agent)
    sms = Notification.objects.filter(to="13812345678", channel="sms").latest("id")
    assert "/cases/rate/" in sms.link
    rating_submit(value="dissatisfied", token=token, text="没解决")
    assert _state(order) == OrderState.REWORK
    assert order in center_queues()["to_dispatch"]
    order_dispatch(order=order, actor=hw.agent, lead=hw.p.department_a)
    assert _state(order) == OrderState.DISPATCHED
