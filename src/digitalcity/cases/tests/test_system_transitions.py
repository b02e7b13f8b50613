"""A service app's job takes a `system=True` transition as the system (`as_system=True`)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from digitalcity.cases.models import Event
from digitalcity.cases.services import case_transition

from .factories import open_example_case

# Deadlines at a fixed date of the seeded years, whatever today is.
pytestmark = pytest.mark.usefixtures("in_2026")


def _accepted(w):
    return case_transition(
        case=open_example_case(w),
        transition="accept",
        actor=w.p.clerk_a,
        input={"opinion": "材料齐全，予以受理"},
    )


def test_a_job_takes_a_system_transition_as_the_system(world):
    case = case_transition(case=_accepted(world), transition="reviewed", actor=None, as_system=True)
    assert case.state == "deciding"
    event = Event.objects.filter(case=case, transition="reviewed").get()
    assert (event.actor_id, event.actor_label) == (None, "系统")


def test_as_system_takes_no_transition_that_people_take(world):
    case = _accepted(world)
    with pytest.raises(PermissionDenied, match="不是系统流转"):
        case_transition(
            case=case,
            transition="ask_correction",
            actor=None,
            input={"opinion": "缺材料"},
            as_system=True,
        )
    case.refresh_from_db()
    assert case.state == "reviewing"


def test_without_as_system_nobody_takes_a_system_transition(world):
    case = _accepted(world)
    with pytest.raises(PermissionDenied):
        case_transition(case=case, transition="reviewed", actor=world.p.admin)
