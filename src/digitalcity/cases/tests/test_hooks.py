"""Hook checks at named transitions and listeners after commit."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from digitalcity.cases import hooks
from digitalcity.cases.choices import EventKind
from digitalcity.cases.models import Case
from digitalcity.cases.services import case_transition

from .factories import open_example_case

# Deadlines at a fixed date of the seeded years, whatever today is.
pytestmark = pytest.mark.usefixtures("in_2026")


@pytest.fixture(autouse=True)
def _clean_hooks(monkeypatch):
    # Empty registries for these tests; monkeypatch puts back the ones other apps filled in
    # their ready() (approval's guards…), which the rest of the session needs.
    monkeypatch.setattr(hooks, "_checks", defaultdict(list))
    monkeypatch.setattr(hooks, "_listeners", defaultdict(list))


def _accept(w, case):
    return case_transition(
        case=case, transition="accept", actor=w.p.clerk_a, input={"opinion": "受理"}
    )


def test_a_check_registered_by_another_app_refuses_the_transition(world):
    w = world
    seen = []

    def credit_check(*, case, transition, actor, input):
        seen.append((case.pk, transition.code, actor, input["opinion"]))
        return ValidationError("申请人在严重失信主体名单内，不予受理")

    def raising_check(*, case, transition, actor, input):
        raise ValidationError("申请人存在未结清的罚款")

    hooks.register_check("example.parallel", "accept", credit_check)
    hooks.register_check(hooks.ANY, "accept", raising_check)
    case = open_example_case(w)
    with pytest.raises(ValidationError) as exc:
        _accept(w, case)
    assert exc.value.messages == ["申请人在严重失信主体名单内，不予受理", "申请人存在未结清的罚款"]
    assert seen == [(case.pk, "accept", w.p.clerk_a, "受理")]
    assert Case.objects.get(pk=case.pk).state == "submitted"
    assert not case.tasks.exists()


def test_a_passing_check_lets_the_transition_through(world):
    w = world
    hooks.register_check("example.parallel", "accept", lambda **kw: None)
    hooks.register_check("other.type", "accept", lambda **kw: ValidationError("不该运行"))
    assert _accept(w, open_example_case(w)).state == "reviewing"


def test_listeners_run_after_commit_only(world, django_capture_on_commit_callbacks):
    w = world
    got = []
    hooks.register_listener(EventKind.TRANSITION, lambda event: got.append(event.transition))
    hooks.register_listener(hooks.ANY, lambda event: got.append(f"any:{event.kind}"))

    case = open_example_case(w)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _accept(w, case)
        assert got == []  # nothing before the commit
    assert "accept" in got
    assert "any:transition" in got
    assert "any:task_created" in got

    got.clear()

    def move_then_fail() -> None:
        with transaction.atomic():
            case_transition(
                case=case, transition="ask_correction", actor=w.p.clerk_a, input={"opinion": "缺件"}
            )
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        move_then_fail()
    assert got == []
    assert callbacks == []


def test_a_failing_listener_does_not_affect_the_case_or_other_listeners(
    world, django_capture_on_commit_callbacks
):
    w = world
    got = []

    def broken(event):
        raise RuntimeError("listener bug")

    hooks.register_listener(EventKind.TRANSITION, broken)
    hooks.register_listener(EventKind.TRANSITION, lambda event: got.append(event.pk))
    with django_capture_on_commit_callbacks(execute=True):
        case = _accept(w, open_example_case(w))
    assert case.state == "reviewing"
    assert len(got) == 1
