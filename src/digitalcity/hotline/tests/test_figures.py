"""The figures: the three rates move with sign-in, call-back and rework; Excel export."""

from __future__ import annotations

import io
from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from digitalcity.cases.choices import ReturnReason
from digitalcity.hotline import figures
from digitalcity.hotline.services import (
    order_callback,
    order_dispatch,
    order_reply,
    order_return,
    order_review_return,
    order_sign,
)

from .conftest import at
from .factories import make_order


def _now_figures():
    now = timezone.now()
    return figures.compute(now - timedelta(days=1), now + timedelta(days=1))


def _row(data, department):
    return next(r for r in data.departments if r.department.pk == department.pk)


def test_the_three_rates_follow_signing_call_backs_and_rework(hw):
    with time_machine.travel(at(2026, 11, 16, 9, 0), tick=False):
        on_time = make_order(hw)
        order_dispatch(order=on_time, actor=hw.agent, lead=hw.p.department_a)
        late = make_order(hw, description="另一件")
        order_dispatch(order=late, actor=hw.agent, lead=hw.p.department_a)
    with time_machine.travel(at(2026, 11, 16, 10, 0), tick=False):
        order_sign(order=on_time, actor=hw.p.clerk_a)
    # Signed after the 2 working hours (09:00 → 11:00) have passed.
    with time_machine.travel(at(2026, 11, 16, 14, 0), tick=False):
        order_sign(order=late, actor=hw.p.clerk_a)
        order_reply(order=on_time, actor=hw.p.clerk_a, reply="已处理")
    with time_machine.travel(at(2026, 11, 16, 15, 0), tick=False):
        order_callback(order=on_time, actor=hw.agent, solved=False, value="dissatisfied")
        data = figures.compute(at(2026, 11, 16), at(2026, 11, 17))
        row = _row(data, hw.p.department_a)
        assert (row.response.hits, row.response.total) == (1, 2)
        assert (row.resolution.hits, row.resolution.total) == (0, 1)
        assert (row.satisfaction.hits, row.satisfaction.total) == (0, 1)
    # Reworked: signed at once, replied, and this time the citizen is satisfied.
    with time_machine.travel(at(2026, 11, 16, 15, 30), tick=False):
        order_sign(order=on_time, actor=hw.p.clerk_a)
        order_reply(order=on_time, actor=hw.p.clerk_a, reply="已彻底处理")
        order_callback(order=on_time, actor=hw.agent, solved=True, value="satisfied")
        data = figures.compute(at(2026, 11, 16), at(2026, 11, 17))
    row = _row(data, hw.p.department_a)
    assert (row.response.hits, row.response.total) == (2, 3)
    assert (row.resolution.hits, row.resolution.total) == (1, 1)
    assert (row.satisfaction.hits, row.satisfaction.total) == (1, 1)
    assert row.on_time.total == 1
    assert data.total.orders == 2


def test_returns_count_per_dispatched_order(hw):
    order = make_order(hw)
    order_dispatch(order=order, actor=hw.agent, lead=hw.p.department_a)
    order_return(order=order, actor=hw.p.clerk_a, reason_code=ReturnReason.NOT_OUR_DUTY)
    order_review_return(
        order=order, actor=hw.agent, approve=True, department=hw.p.department_b, note="改派"
    )
    other = make_order(hw, description="其他")
    order_dispatch(order=other, actor=hw.agent, lead=hw.p.department_b)
    data = _now_figures()
    assert (data.total.returns.hits, data.total.returns.total) == (1, 2)


def test_the_figures_page_and_its_excel_export(client, hw):
    make_order(hw, lat=35.5, lon=112.9)
    client.force_login(hw.agent)
    page = client.get(reverse("hotline:figures"))
    assert page.status_code == 200
    assert "响应率" in page.content.decode()
    export = client.get(reverse("hotline:figures_export"))
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet["A1"].value == "部门"
    assert sheet["B2"].value == 1


def test_a_clerk_sees_only_their_departments_figures(client, hw):
    a = make_order(hw)
    order_dispatch(order=a, actor=hw.agent, lead=hw.p.department_a)
    b = make_order(hw, description="乙局的")
    order_dispatch(order=b, actor=hw.agent, lead=hw.p.department_b)
    client.force_login(hw.p.clerk_a)
    page = client.get(reverse("hotline:figures")).content.decode()
    assert hw.p.department_a.name in page
    assert hw.p.department_b.name not in page
