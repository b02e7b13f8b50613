"""The dispatch desk's 待回访 list: a call-back is due within one working day of 办结 (by
the platform calendar); overdue ones are flagged, listed first and counted on the card."""

from __future__ import annotations

import re

import time_machine
from django.urls import reverse

from digitalcity.hotline.services import order_dispatch, order_reply, order_sign

from .conftest import at
from .factories import make_order


def _replied(hw, description, when):
    with time_machine.travel(when, tick=False):
        order = make_order(hw, description=description)
        order_dispatch(order=order, actor=hw.agent, lead=hw.p.department_a)
        order_sign(order=order, actor=hw.p.clerk_a)
        order_reply(order=order, actor=hw.p.clerk_a, reply="已处理")
    return order


def _callback_card(client, user):
    client.force_login(user)  # inside the travelled time: sessions expire when idle
    response = client.get(reverse("hotline:workbench"))
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    page = response.content.decode()
    start = page.index('id="callback-title"')
    return page[start : page.index("</section>", start)]


def test_a_call_back_is_overdue_after_one_working_day_and_listed_first(client, hw):
    # Replied on Fri 2026-11-20: due by the end of Mon 11-23 (the weekend does not count).
    friday = _replied(hw, "周五办结的诉求", at(2026, 11, 20, 16, 0))
    # Replied later, on Mon 11-23: due by the end of Tue 11-24.
    monday = _replied(hw, "周一办结的诉求", at(2026, 11, 23, 9, 0))

    with time_machine.travel(at(2026, 11, 23, 18, 0), tick=False):
        card = _callback_card(client, hw.agent)
    assert ">回访超期<" not in card
    assert '<span class="cs-badge cs-badge-state">2</span>' in card

    with time_machine.travel(at(2026, 11, 24, 10, 0), tick=False):
        card = _callback_card(client, hw.agent)
    assert "1 件回访超期" in card
    rows = re.findall(r"<tr>.*?</tr>", card, flags=re.S)[1:]  # after the header row
    assert len(rows) == 2
    assert friday.case.number in rows[0]
    assert ">回访超期<" in rows[0]
    assert monday.case.number in rows[1]
    assert ">回访超期<" not in rows[1]


def test_the_overdue_order_comes_first_even_when_replied_later(client, hw):
    # The order taken first but replied last must not outrank one whose call-back is
    # older and overdue (the list is by call-back due date, not by intake).
    with time_machine.travel(at(2026, 11, 16, 9, 0), tick=False):
        early = make_order(hw, description="先受理、后办结")
        order_dispatch(order=early, actor=hw.agent, lead=hw.p.department_a)
        order_sign(order=early, actor=hw.p.clerk_a)
    late = _replied(hw, "后受理、先办结", at(2026, 11, 18, 9, 0))  # due end of Thu 11-19
    with time_machine.travel(at(2026, 11, 20, 9, 0), tick=False):
        order_reply(order=early, actor=hw.p.clerk_a, reply="已处理")  # due end of Mon 11-23
    with time_machine.travel(at(2026, 11, 20, 10, 0), tick=False):
        card = _callback_card(client, hw.agent)
    rows = re.findall(r"<tr>.*?</tr>", card, flags=re.S)[1:]
    assert late.case.number in rows[0]
    assert ">回访超期<" in rows[0]
    assert early.case.number in rows[1]
    assert "1 件回访超期" in card
