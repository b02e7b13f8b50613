"""The hotline's pages: scope (404 for outsiders), masking, the console, actions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from digitalcity.cases.choices import CaseChannel
from digitalcity.hotline.choices import OrderState, RequestType
from digitalcity.hotline.models import Call
from digitalcity.hotline.services import order_dispatch, order_sign
from digitalcity.hotline.services.channels import call_event

from .factories import make_order


def _page(order):
    return reverse("hotline:order", args=[order.case.number])


def test_a_department_clerk_sees_only_their_orders(client, hw):
    mine = make_order(hw)
    order_dispatch(order=mine, actor=hw.agent, lead=hw.p.department_a)
    other = make_order(hw, description="另一件诉求")
    order_dispatch(order=other, actor=hw.agent, lead=hw.p.department_b)
    client.force_login(hw.p.clerk_a)
    assert client.get(_page(mine)).status_code == 200
    assert client.get(_page(other)).status_code == 404
    listing = client.get(reverse("hotline:workbench")).content.decode()
    assert mine.case.number in listing
    assert other.case.number not in listing
    api = client.get(f"/api/hotline/orders/{other.case.number}")
    assert api.status_code == 404
    numbers = [o["number"] for o in client.get("/api/hotline/orders").json()]
    assert numbers == [mine.case.number]


def test_an_undispatched_order_is_hidden_from_departments(client, hw):
    order = make_order(hw)
    client.force_login(hw.p.clerk_a)
    assert client.get(_page(order)).status_code == 404
    assert client.post(reverse("hotline:action", args=[order.case.number, "sign"])).status_code == (
        404
    )


@pytest.mark.parametrize(
    "name", ["hotline:workbench", "hotline:console", "hotline:figures", "hotline:catalogue"]
)
def test_citizens_are_refused_the_workbench_pages(client, hw, name):
    client.force_login(hw.p.citizen)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ["hotline:console", "hotline:catalogue"])
def test_department_clerks_are_refused_the_center_pages(client, hw, name):
    client.force_login(hw.p.clerk_a)
    assert client.get(reverse(name)).status_code == 403


def test_a_confidential_callers_number_is_masked_except_for_the_center(client, hw):
    order = make_order(hw, is_confidential=True)
    order_dispatch(order=order, actor=hw.agent, lead=hw.p.department_a)
    client.force_login(hw.p.clerk_a)
    page = client.get(_page(order)).content.decode()
    assert "138****5678" in page
    assert "13812345678" not in page
    api = client.get(f"/api/hotline/orders/{order.case.number}").json()
    assert api["caller_phone"] == "138****5678"
    # The engine's own case page and API mask it too.
    engine_page = client.get(f"/workbench/cases/{order.case.number}/").content.decode()
    assert "13812345678" not in engine_page
    assert "13812345678" not in client.get(f"/api/cases/{order.case_id}").content.decode()
    client.force_login(hw.agent)
    assert "13812345678" in client.get(_page(order)).content.decode()


def test_a_plain_callers_number_is_shown_to_the_handling_department(client, hw):
    order = make_order(hw)
    order_dispatch(order=order, actor=hw.agent, lead=hw.p.department_a)
    client.force_login(hw.p.clerk_a)
    assert "13812345678" in client.get(_page(order)).content.decode()


def test_the_console_shows_the_ringing_call_and_the_callers_past_orders(client, hw):
    past = make_order(hw)
    call_event(event="ringing", call_id="c-1", caller="13812345678", agent="agent")
    client.force_login(hw.agent)
    panel = client.get(reverse("hotline:console_call")).content.decode()
    assert "13812345678" in panel
    assert past.case.number in panel
    # The form's history panel does not repeat the ringing number's orders...
    history = client.get(reverse("hotline:console_history"), {"caller_phone": "13812345678"})
    assert past.case.number not in history.content.decode()
    assert "见上方" in history.content.decode()
    # ...but shows those of another number the agent types.
    other = make_order(hw, caller_phone="13700001111")
    history = client.get(reverse("hotline:console_history"), {"caller_phone": "13700001111"})
    assert other.case.number in history.content.decode()
    assert past.case.number not in history.content.decode()


def test_the_agent_takes_an_order_from_the_console_linked_to_the_call(client, hw):
    call_event(event="ringing", call_id="c-2", caller="13900001111", agent="agent")
    client.force_login(hw.agent)
    response = client.post(
        reverse("hotline:console"),
        {
            "caller_phone": "13900001111",
            "caller_name": "王五",
            "request_type": RequestType.HELP,
            "urgency": "normal",
            "category": "020101",
            "description": "家里停水两天了",
            "address": "解放路 8 号",
            "call_id": "c-2",
            "idempotency_key": "console-x-1",
        },
    )
    assert response.status_code == 302
    call = Call.objects.get(call_id="c-2")
    assert call.order is not None
    assert call.order.channel == CaseChannel.PHONE
    # The same form posted twice (a double click) makes one order.
    client.post(
        reverse("hotline:console"),
        {
            "caller_phone": "13900001111",
            "request_type": RequestType.HELP,
            "urgency": "normal",
            "category": "020101",
            "description": "家里停水两天了",
            "idempotency_key": "console-x-1",
        },
    )
    assert call.order.__class__.objects.filter(caller_phone="13900001111").count() == 1


def test_the_console_shows_bad_input_next_to_the_field(client, hw):
    client.force_login(hw.agent)
    response = client.post(
        reverse("hotline:console"),
        {
            "caller_phone": "13900001111",
            "request_type": RequestType.HELP,
            "urgency": "normal",
            "category": "020101",
            "description": "停水",
            "lat": "39.9",
            "lon": "116.4",
        },
    )
    assert response.status_code == 200
    assert "不在本市范围内" in response.content.decode()


def test_a_department_signs_from_the_order_page(client, hw):
    order = make_order(hw)
    order_dispatch(order=order, actor=hw.agent, lead=hw.p.department_a)
    client.force_login(hw.p.clerk_a)
    page = client.get(_page(order)).content.decode()
    assert 'data-action="sign"' in page
    client.post(reverse("hotline:action", args=[order.case.number, "sign"]))
    order.case.refresh_from_db()
    assert order.case.state == OrderState.HANDLING


def test_a_citizen_submits_and_tracks_only_their_own_orders(client, hw):
    client.force_login(hw.p.citizen)
    response = client.post(
        reverse("hotline:portal_index"),
        {
            "request_type": RequestType.SUGGESTION,
            "urgency": "normal",
            "category": "030101",
            "description": "建议增开夜班公交",
        },
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    other = make_order(hw)
    assert client.get(reverse("hotline:portal_order", args=[other.case.number])).status_code == 404


def test_an_anonymous_visitor_cannot_post_the_portal_form(client, hw):
    response = client.post(reverse("hotline:portal_index"), {"description": "x"})
    assert response.status_code in (302, 403)


def test_the_workbench_list_has_a_fixed_query_budget(client, hw, django_assert_max_num_queries):
    for i in range(6):
        order = make_order(hw, description=f"诉求 {i}")
        if i % 2:
            order_dispatch(order=order, actor=hw.agent, lead=hw.p.department_a)
            order_sign(order=order, actor=hw.p.clerk_a)
    client.force_login(hw.agent)
    with django_assert_max_num_queries(30):
        assert client.get(reverse("hotline:workbench")).status_code == 200
    client.force_login(hw.p.clerk_a)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("hotline:workbench")).status_code == 200


def test_the_center_reminds_from_the_order_page(client, hw):
    order = make_order(hw)
    order_dispatch(order=order, actor=hw.agent, lead=hw.p.department_a)
    client.force_login(hw.agent)
    response = client.post(
        reverse("hotline:action", args=[order.case.number, "remind"]), {"note": "请尽快"}
    )
    assert response.status_code == 302
    # On the timeline, for the center and for the reminded department alike.
    for viewer in (hw.agent, hw.p.clerk_a):
        client.force_login(viewer)
        page = client.get(_page(order)).content.decode()
        timeline = page[page.index('id="timeline-title"') :]
        assert "催办" in timeline
        assert "请尽快（被催办：" + hw.p.department_a.name + "；通知 2 人）" in timeline
    client.force_login(hw.p.clerk_b)
    assert (
        client.post(reverse("hotline:action", args=[order.case.number, "remind"])).status_code
        == 404
    )


def test_the_order_page_has_a_fixed_query_budget(client, hw, django_assert_max_num_queries):
    order = make_order(hw)
    order_dispatch(order=order, actor=hw.agent, lead=hw.p.department_a)
    client.force_login(hw.agent)
    with django_assert_max_num_queries(45):
        assert client.get(_page(order)).status_code == 200


def test_an_unknown_action_is_a_404(client, hw):
    order = make_order(hw)
    client.force_login(hw.agent)
    assert (
        client.post(reverse("hotline:action", args=[order.case.number, "explode"])).status_code
        == 404
    )
