"""Supervision figures for a seeded quarter equal a hand count (Q4 2026)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client

from digitalcity.cases.sweep import sweep

from ..services import (
    application_accept,
    application_apply,
    application_ask_correction,
    application_correct,
    application_grant,
    application_refuse,
    licence_deliver,
    review_opinion,
)
from ..supervision import findings, grades, statistics
from .conftest import at
from .factories import FORM_DATA, World, pdf_upload, uploads

pytestmark = pytest.mark.django_db
Q4 = (datetime.date(2026, 10, 1), datetime.date(2027, 1, 1))


@pytest.fixture
def quarter(world: World) -> World:
    """Three applications in Q4 2026, all led by department A:

    1. online, accepted, reviewed by A and B and granted on Mon 10-12 (the same day),
       delivered online;
    2. taken at the window for an online item (→ 未网上办理), accepted Tue 10-13 and
       refused Tue 10-20 (5 working days of the promised 10 used);
    3. corrected twice — before acceptance and during review (→ 多次补正) — and left in
       review; the sweep on Mon 10-26 finds both departments' stage clocks (5 days,
       1 used before the second correction, 4 left from Mon 10-19 → due Fri 10-23)
       overdue: two yellow cards, one on A and one on B.
    """
    w = world
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        first = application_apply(
            item=w.item, actor=w.p.citizen, form_data=FORM_DATA, uploads=uploads()
        )
        application_accept(application=first, actor=w.window_a)
        for clerk in (w.p.clerk_a, w.p.clerk_b):
            review_opinion(application=first, actor=clerk, outcome="agree", opinion="同意")
        licence = application_grant(application=first, actor=w.head_a, opinion="准予")
        licence_deliver(licence=licence, actor=w.p.citizen)
    with time_machine.travel(at(2026, 10, 13, 10), tick=False):
        second = application_apply(
            item=w.single,
            actor=w.window_a,
            form_data=FORM_DATA,
            uploads=uploads(),
            on_behalf={"name": "示范市某某科技有限公司", "number": w.p.legal_person.uscc or ""},
        )
        application_accept(application=second, actor=w.window_a)
        review_opinion(application=second, actor=w.p.clerk_a, outcome="disagree", opinion="不符合")
    with time_machine.travel(at(2026, 10, 20, 10), tick=False):
        application_refuse(
            application=second,
            actor=w.head_a,
            reasons="场所不符合卫生要求",
            legal_basis="《公共场所卫生管理条例》",
        )
    with time_machine.travel(at(2026, 10, 14, 10), tick=False):
        third = application_apply(
            item=w.item, actor=w.p.citizen, form_data=FORM_DATA, uploads=uploads()
        )
        application_ask_correction(
            application=third, actor=w.window_a, items=[{"material": "id_card", "problem": "模糊"}]
        )
    with time_machine.travel(at(2026, 10, 15, 10), tick=False):
        application_correct(application=third, actor=w.p.citizen, uploads={"id_card": pdf_upload()})
        application_accept(application=third, actor=w.window_a)
    with time_machine.travel(at(2026, 10, 16, 10), tick=False):
        application_ask_correction(
            application=third,
            actor=w.p.clerk_b,
            items=[{"material": "floor_plan", "problem": "无比例尺"}],
        )
    with time_machine.travel(at(2026, 10, 19, 10), tick=False):
        application_correct(
            application=third, actor=w.p.citizen, uploads={"floor_plan": pdf_upload()}
        )
    with time_machine.travel(at(2026, 10, 26, 9), tick=False):
        sweep()
    return w


def test_the_quarters_findings_and_grades_match_a_hand_count(quarter: World) -> None:
    w = quarter
    found = [(f.rule, f.level, f.department_id) for f in findings(*Q4)]
    a, b = w.p.department_a.pk, w.p.department_b.pk
    assert sorted(found) == sorted(
        [
            ("未网上办理", "warning", a),
            ("多次补正", "yellow", a),
            ("审查环节超时", "yellow", a),
            ("审查环节超时", "yellow", b),
        ]
    )
    rows = {g.department.code: g for g in grades(*Q4)}
    # A: 100 − 2×1 − 5×2 = 88 → 良好; B: 100 − 5×1 = 95 → 优秀.
    assert (rows["dept-a"].warnings, rows["dept-a"].yellow, rows["dept-a"].red) == (1, 2, 0)
    assert (rows["dept-a"].score, rows["dept-a"].grade) == (88, "良好")
    assert rows["dept-a"].applications == 3
    assert (rows["dept-b"].score, rows["dept-b"].grade) == (95, "优秀")


def test_the_quarters_statistics_match_a_hand_count(quarter: World) -> None:
    rows = {r.key: r for r in statistics(*Q4)}
    a = rows["dept-a"]
    # Catalog: A leads two items, both online, zero visits; compression (45−10)/45 and
    # (20−10)/20 → mean 0.638…
    assert (a.items, a.online_items, a.zero_visit_items, a.one_visit_items) == (2, 2, 2, 2)
    assert a.compression == pytest.approx(((45 - 10) / 45 + (20 - 10) / 20) / 2)
    # Decided in Q4: the grant (online, same day, on time, early) and the refusal
    # (window, a week later, on time, early: 5 of 10 promised days used).
    assert a.decided == 2
    assert (a.fully_online, a.on_the_spot, a.on_time, a.early) == (1, 1, 2, 2)
    assert a.fully_online_rate == 0.5
    assert a.on_time_rate == 1.0
    # The third application is undecided: not in the decided figures; another quarter
    # has nothing.
    assert all(r.decided == 0 for r in statistics(datetime.date(2026, 7, 1), Q4[0]))


def test_the_supervision_page_shows_the_figures_and_the_formula(
    quarter: World, client: Client
) -> None:
    client.force_login(quarter.p.supervisor)
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        response = client.get("/approval/supervision/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "得分 = 100 − 2×预警数" in body
    assert "良好" in body
    assert "优秀" in body
    assert "50.0%" in body  # 全程网办率 of department A
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        export = client.get("/approval/supervision/export.xlsx")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_a_clerk_cannot_open_the_supervision_page(world: World, client: Client) -> None:
    client.force_login(world.p.clerk_a)
    assert client.get("/approval/supervision/").status_code == 403


def test_the_period_inputs_show_the_current_quarter_in_iso_form(
    world: World, client: Client
) -> None:
    """<input type="date"> shows nothing for the locale's 2026/10/01."""
    client.force_login(world.p.supervisor)
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        html = client.get("/approval/supervision/").content.decode()
    assert 'name="start" value="2026-10-01"' in html
    assert 'name="end" value="2027-01-01"' in html
