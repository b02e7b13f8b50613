"""The linkage review queue: accepting and rejecting proposed links (registry.review)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ..choices import LinkMethod, LinkState, VersionCause
from ..imports import import_rows
from ..models import LinkCandidate, Person, PersonVersion, SourceRecord
from ..review import link_accept, link_reject, review_queue_for
from .factories import City, field_origin
from .test_linkage import _hrss, people, police_row

EXPLANATION = {
    "levels": [
        {"comparison": "name", "level": "name_pinyin_exact", "weight": 6.3},
        {"comparison": "birth", "level": "birth_exact", "weight": 7.3},
        {"comparison": "phone", "level": "null", "weight": 0.0},
    ],
    "ambiguous": False,
}


@pytest.fixture
def proposal(city: City) -> LinkCandidate:
    return make_proposal(city)


def make_proposal(city: City) -> LinkCandidate:
    """张伟 in the police register; a social-insurance row 章玮 without an ID number,
    proposed as 张伟 in the review band."""
    zhang = people(3)[0]
    loaded = import_rows(source=city.sources["police"], rows=[police_row(zhang)])
    assert loaded.status == "loaded", loaded.error_report
    batch = import_rows(source=city.sources["hrss"], rows=[_hrss(zhang, id_number="", name="章玮")])
    assert batch.status == "loaded", batch.error_report
    record = SourceRecord.objects.get(batch=batch)
    assert record.person is None
    return LinkCandidate.objects.create(
        record=record,
        person=Person.objects.get(id_number=zhang.id_number),
        probability=0.93,
        match_weight=3.8,
        explanation=EXPLANATION,
    )


def test_accepting_merges_the_record_and_the_golden_record_shows_both_sources(
    city: City, proposal: LinkCandidate
) -> None:
    accepted = link_accept(candidate=proposal, actor=city.data_officer, reason="电话核实为本人")

    assert accepted.state == LinkState.ACCEPTED
    assert accepted.reviewed_by == city.data_officer
    assert accepted.reviewed_at is not None
    record = SourceRecord.objects.get(pk=proposal.record_id)
    person = Person.objects.get(pk=proposal.person_id)
    assert record.person == person
    assert record.link_method == LinkMethod.MANUAL
    assert record.link_probability == pytest.approx(0.93)
    assert set(person.records.values_list("source__code", flat=True)) == {"police", "hrss"}
    # the authoritative source keeps the name; the linked record adds its field
    assert field_origin(person, "name").source == "police"
    assert field_origin(person, "insurance_status").source == "hrss"
    assert person.insurance_status == "insured"
    assert PersonVersion.objects.filter(person=person, cause=VersionCause.LINK).exists()


def test_rejecting_leaves_the_record_unlinked_and_needs_a_reason(
    city: City, proposal: LinkCandidate
) -> None:
    with pytest.raises(ValidationError) as problem:
        link_reject(candidate=proposal, actor=city.data_officer, reason=" ")
    assert "理由" in str(problem.value)

    rejected = link_reject(candidate=proposal, actor=city.data_officer, reason="出生地不符，非本人")

    assert rejected.state == LinkState.REJECTED
    assert rejected.reason == "出生地不符，非本人"
    record = SourceRecord.objects.get(pk=proposal.record_id)
    assert record.person is None
    assert record.link_method == LinkMethod.NONE
    assert not PersonVersion.objects.filter(cause=VersionCause.LINK).exists()


def test_a_decided_candidate_cannot_be_decided_again(city: City, proposal: LinkCandidate) -> None:
    link_reject(candidate=proposal, actor=city.data_officer, reason="非本人")
    with pytest.raises(ValidationError):
        link_accept(candidate=proposal, actor=city.data_officer)
    assert SourceRecord.objects.get(pk=proposal.record_id).person is None


def test_a_record_superseded_meanwhile_cannot_be_accepted(
    city: City, proposal: LinkCandidate
) -> None:
    SourceRecord.objects.filter(pk=proposal.record_id).update(is_current=False)

    with pytest.raises(ValidationError) as problem:
        link_accept(candidate=proposal, actor=city.data_officer)

    assert "新版本" in str(problem.value)
    assert LinkCandidate.objects.get(pk=proposal.pk).state == LinkState.PENDING


def test_accepting_one_candidate_rejects_the_record_s_other_candidates(
    city: City, proposal: LinkCandidate
) -> None:
    other = people(3)[1]
    import_rows(source=city.sources["police"], rows=[police_row(other)])
    rival = LinkCandidate.objects.create(
        record=proposal.record,
        person=Person.objects.get(id_number=other.id_number),
        probability=0.6,
    )

    link_accept(candidate=proposal, actor=city.data_officer)

    rival.refresh_from_db()
    assert rival.state == LinkState.REJECTED
    assert rival.reviewed_by == city.data_officer


def test_the_source_department_may_review_and_others_may_not(
    city: City, proposal: LinkCandidate
) -> None:
    # hrss records belong to the human-resources department; the civil-affairs clerk
    # works for another department that also feeds the registry.
    assert list(review_queue_for(city.civil_clerk)) == []
    with pytest.raises(PermissionDenied):
        link_accept(candidate=proposal, actor=city.civil_clerk)
    with pytest.raises(PermissionDenied):
        link_reject(candidate=proposal, actor=city.outsider, reason="x")
    assert LinkCandidate.objects.get(pk=proposal.pk).state == LinkState.PENDING
    assert list(review_queue_for(city.data_officer)) == [proposal]


# --- pages -------------------------------------------------------------------------------


def test_the_review_page_shows_both_sides_masked_with_the_explanation(
    client: Client, city: City, proposal: LinkCandidate
) -> None:
    client.force_login(city.data_officer)

    queue = client.get(reverse("registry:review_queue"))
    page = client.get(reverse("registry:review_detail", args=[proposal.pk]))

    assert queue.status_code == 200
    assert reverse("registry:review_detail", args=[proposal.pk]) in queue.content.decode()
    assert page.status_code == 200
    html = page.content.decode()
    number = proposal.person.id_number
    assert number not in html
    assert f"{number[:6]}********{number[-4:]}" in html
    assert "章*" in html
    assert "张*" in html
    assert "姓名拼音相同（同音字）" in html  # the comparison level that drove the score
    assert "接受关联" in html


def test_a_reviewer_accepts_through_the_page(
    client: Client, city: City, proposal: LinkCandidate
) -> None:
    client.force_login(city.data_officer)

    response = client.post(
        reverse("registry:review_decide", args=[proposal.pk]),
        {"action": "accept", "reason": "户籍核实"},
    )

    assert response.status_code == 302
    assert SourceRecord.objects.get(pk=proposal.record_id).person_id == proposal.person_id


def test_a_reject_without_reason_through_the_page_changes_nothing(
    client: Client, city: City, proposal: LinkCandidate
) -> None:
    client.force_login(city.data_officer)

    response = client.post(
        reverse("registry:review_decide", args=[proposal.pk]), {"action": "reject", "reason": ""}
    )

    assert response.status_code == 302
    assert LinkCandidate.objects.get(pk=proposal.pk).state == LinkState.PENDING


@pytest.mark.parametrize("who", ["outsider", "citizen"])
def test_the_outsider_is_refused_on_the_review_pages(
    client: Client, city: City, proposal: LinkCandidate, who: str
) -> None:
    client.force_login(getattr(city, who))

    queue = client.get(reverse("registry:review_queue"))
    page = client.get(reverse("registry:review_detail", args=[proposal.pk]))
    decide = client.post(
        reverse("registry:review_decide", args=[proposal.pk]), {"action": "accept"}
    )

    assert queue.status_code == 403
    assert page.status_code == 403
    assert decide.status_code == 403
    assert SourceRecord.objects.get(pk=proposal.record_id).person is None


def test_staff_of_another_source_department_do_not_find_the_candidate(
    client: Client, city: City, proposal: LinkCandidate
) -> None:
    client.force_login(city.civil_clerk)

    page = client.get(reverse("registry:review_detail", args=[proposal.pk]))
    decide = client.post(
        reverse("registry:review_decide", args=[proposal.pk]), {"action": "accept"}
    )

    assert page.status_code == 404
    assert decide.status_code == 404
    assert LinkCandidate.objects.get(pk=proposal.pk).state == LinkState.PENDING


def test_the_queue_page_costs_the_same_queries_for_one_candidate_or_many(
    client: Client, city: City, proposal: LinkCandidate
) -> None:
    client.force_login(city.data_officer)
    url = reverse("registry:review_queue")
    client.get(url)  # warm the session and the sources
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for someone in people(8)[3:]:
        import_rows(source=city.sources["police"], rows=[police_row(someone)])
        LinkCandidate.objects.create(
            record=proposal.record,
            person=Person.objects.get(id_number=someone.id_number),
            probability=0.7,
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert response.content.decode().count("registry/links/") >= 6
    assert len(many) == len(one)
