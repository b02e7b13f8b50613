"""The REST API: thin over the services; the outsider always gets 404."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.test import Client

from digitalcity.cases.models import Clock, Task
from digitalcity.cases.services import case_transition

from .conftest import at
from .factories import open_example_case


def _post(client: Client, url: str, data: dict | None = None):
    return client.post(url, data=json.dumps(data or {}), content_type="application/json")


@pytest.fixture
def accepted(world):
    w = world
    # Accepted on a fixed day so every deadline stays inside the seeded 2026 calendar.
    with time_machine.travel(at(2026, 10, 12, 10), tick=False):
        case = open_example_case(w, co_departments=[])  # only department A involved
        return case_transition(
            case=case, transition="accept", actor=w.p.clerk_a, input={"opinion": "受理"}
        )


def test_the_outsider_clerk_gets_404_on_every_endpoint(world, accepted, client):
    w = world
    task = Task.objects.get(case=accepted)
    clock = Clock.objects.get(case=accepted, task=None)
    client.force_login(w.p.clerk_b)
    calls = [
        ("get", f"/api/cases/{accepted.pk}", None),
        (
            "post",
            f"/api/cases/{accepted.pk}/transitions",
            {"transition": "ask_correction", "input": {"opinion": "x"}},
        ),
        ("post", f"/api/cases/tasks/{task.pk}/claim", None),
        ("post", f"/api/cases/tasks/{task.pk}/release", None),
        ("post", f"/api/cases/tasks/{task.pk}/complete", {"opinion": "同意"}),
        ("post", f"/api/cases/tasks/{task.pk}/return", {"reason_code": "duplicate"}),
        ("post", f"/api/cases/tasks/{task.pk}/reassign", {"department_id": w.p.department_b.pk}),
        ("post", f"/api/cases/clocks/{clock.pk}/extend", {"amount": 10, "reason": "x"}),
        ("post", f"/api/cases/{accepted.pk}/urges", {"note": "x"}),
        ("post", f"/api/cases/{accepted.pk}/rating", {"value": "satisfied"}),
    ]
    for method, url, data in calls:
        response = client.get(url) if method == "get" else _post(client, url, data)
        assert response.status_code == 404, (url, response.status_code)
    assert client.get("/api/cases/").json() == []
    task.refresh_from_db()
    assert task.state == "open"
    assert task.locked_by is None


def test_an_anonymous_request_is_refused(accepted, client):
    assert client.get(f"/api/cases/{accepted.pk}").status_code == 401


def test_a_clerk_works_a_case_through_the_api(world, accepted, client):
    w = world
    client.force_login(w.p.clerk_a)
    detail = client.get(f"/api/cases/{accepted.pk}").json()
    assert detail["case"]["state"] == "reviewing"
    assert [t["code"] for t in detail["transitions"]] == ["ask_correction"]
    legal = next(c for c in detail["clocks"] if c["code"] == "legal")
    assert legal["total"] == 20
    assert legal["unit"] == "workdays"
    queue = client.get("/api/cases/queue").json()
    assert [row["case_number"] for row in queue] == [accepted.number]
    task_id = queue[0]["id"]
    assert _post(client, f"/api/cases/tasks/{task_id}/claim").json()["state"] == "claimed"
    done = _post(
        client, f"/api/cases/tasks/{task_id}/complete", {"opinion": "同意", "outcome": "agree"}
    )
    assert done.status_code == 200
    assert done.json()["state"] == "completed"
    # Joined (A was the only department): the lead decides.
    decided = _post(
        client,
        f"/api/cases/{accepted.pk}/transitions",
        {"transition": "decide", "input": {"opinion": "准予"}},
    )
    assert decided.json()["state"] == "closed"


def test_refusals_and_bad_input_answer_403_and_400(world, accepted, client):
    w = world
    client.force_login(w.p.clerk_a)
    bad = _post(client, f"/api/cases/{accepted.pk}/transitions", {"transition": "ask_correction"})
    assert bad.status_code == 400
    assert "opinion" in bad.json()["detail"]
    client.force_login(w.p.citizen)
    refused = _post(
        client,
        f"/api/cases/{accepted.pk}/transitions",
        {"transition": "ask_correction", "input": {"opinion": "x"}},
    )
    assert refused.status_code == 403


def test_the_applicant_sees_only_the_public_timeline(world, accepted, client):
    w = world
    client.force_login(w.p.citizen)
    detail = client.get(f"/api/cases/{accepted.pk}").json()
    assert detail["tasks"] == []
    assert all(e["public"] for e in detail["timeline"])
    assert {e["kind"] for e in detail["timeline"]} == {"created", "transition"}


def test_a_supervisor_urges_and_extends_through_the_api(world, accepted, client):
    w = world
    client.force_login(w.p.supervisor)
    assert (
        _post(client, f"/api/cases/{accepted.pk}/urges", {"note": "请加快办理"}).status_code == 200
    )
    clock = Clock.objects.get(case=accepted, task=None)
    assert (
        _post(
            client, f"/api/cases/clocks/{clock.pk}/extend", {"amount": 10, "reason": "听证"}
        ).status_code
        == 200
    )
    clock.refresh_from_db()
    assert clock.extended == 10
