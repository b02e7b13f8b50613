"""Knowledge base services: versions, review (reviewer ≠ author), validity, withdrawal,
the full-text index, answering a consultation, and the Excel/CSV import."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from openpyxl import Workbook

from digitalcity.core import fulltext
from digitalcity.core.imports import ImportRefused
from digitalcity.hotline import knowledge as kb
from digitalcity.hotline.choices import OrderState, RequestType
from digitalcity.hotline.models import KnowledgeCategory, KnowledgeEntry, KnowledgeState

from .factories import make_order


@pytest.fixture
def housing(db):
    return KnowledgeCategory.objects.create(code="housing", name="住房保障")


def draft(hw, housing, **overrides):
    kwargs = {
        "actor": hw.p.clerk_a,
        "category": housing,
        "owner_department": hw.p.department_a,
        "title": "住房公积金提取需要哪些材料？",
        "body": (
            "购买自住住房提取住房公积金，需携带身份证、购房合同和付款凭证到公积金中心窗口办理。"
        ),
        "keywords": "公积金，提取",
    }
    kwargs.update(overrides)
    return kb.entry_create(**kwargs)


def publish(hw, entry):
    version = entry.versions.get(state=KnowledgeState.DRAFT)
    kb.version_submit(version=version, actor=hw.p.clerk_a)
    return kb.version_review(version=version, actor=hw.head_a, approve=True)


def test_a_new_entry_starts_as_a_numbered_draft_and_is_not_searchable(hw, housing):
    entry = draft(hw, housing)
    assert entry.number.startswith("ZS-")
    (version,) = entry.versions.all()
    assert (version.number, version.state) == (1, KnowledgeState.DRAFT)
    assert version.keywords == "公积金 提取"
    assert version.valid_from == timezone.localdate()
    assert kb.kb_search("公积金") == []


def test_an_outsider_department_cannot_write_for_another(hw, housing):
    with pytest.raises(PermissionDenied):
        draft(hw, housing, actor=hw.p.clerk_b)
    with pytest.raises(PermissionDenied):
        draft(hw, housing, actor=hw.p.citizen)
    # The 12345 center's agents write for any department.
    assert draft(hw, housing, actor=hw.agent).owner_department == hw.p.department_a


def test_bad_text_names_the_field(hw, housing):
    with pytest.raises(ValidationError) as empty:
        draft(hw, housing, title=" ", body="")
    assert set(empty.value.message_dict) == {"title", "body"}
    with pytest.raises(ValidationError) as dates:
        draft(hw, housing, valid_from="2026-05-01", valid_until="2026-04-01")
    assert "失效日期不能早于生效日期" in dates.value.message_dict["valid_until"][0]
    with pytest.raises(ValidationError) as bad_date:
        draft(hw, housing, valid_from="明天")
    assert "valid_from" in bad_date.value.message_dict
    assert KnowledgeEntry.objects.count() == 0


def test_review_publishes_and_indexes_the_version(hw, housing):
    entry = draft(hw, housing)
    version = publish(hw, entry)
    entry.refresh_from_db()
    assert version.state == KnowledgeState.PUBLISHED
    assert version.reviewer == hw.head_a
    assert entry.published == version
    (hit,) = kb.kb_search("公积金提取材料")
    assert hit.entry == entry
    assert "<mark>公积金</mark>" in hit.title_html


def test_the_author_may_not_review_their_own_version(hw, housing):
    entry = draft(hw, housing, actor=hw.head_a)
    version = entry.versions.get()
    kb.version_submit(version=version, actor=hw.head_a)
    with pytest.raises(PermissionDenied, match="编写人"):
        kb.version_review(version=version, actor=hw.head_a, approve=True)
    # Another head (the 12345 center's) may.
    assert (
        kb.version_review(version=version, actor=hw.center_head, approve=True).state == "published"
    )


def test_only_heads_review(hw, housing):
    entry = draft(hw, housing, actor=hw.agent)
    version = entry.versions.get()
    kb.version_submit(version=version, actor=hw.agent)
    for outsider in (hw.p.clerk_a, hw.p.clerk_b, hw.p.citizen):
        with pytest.raises(PermissionDenied):
            kb.version_review(version=version, actor=outsider, approve=True)


def test_a_rejection_needs_a_note_and_returns_the_version_to_draft(hw, housing):
    entry = draft(hw, housing)
    version = entry.versions.get()
    kb.version_submit(version=version, actor=hw.p.clerk_a)
    with pytest.raises(ValidationError):
        kb.version_review(version=version, actor=hw.head_a, approve=False)
    version = kb.version_review(
        version=version, actor=hw.head_a, approve=False, note="材料清单不全"
    )
    assert version.state == KnowledgeState.DRAFT
    assert version.review_note == "材料清单不全"
    with pytest.raises(ValidationError):
        kb.version_review(version=version, actor=hw.head_a, approve=True)  # not under review


def test_editing_a_published_entry_makes_a_new_version_and_publishing_it_supersedes(hw, housing):
    entry = draft(hw, housing)
    v1 = publish(hw, entry)
    v2 = kb.entry_edit(
        entry=entry,
        actor=hw.p.clerk_a,
        title="住房公积金提取需要哪些材料？（2026年版）",
        body="自2026年起，提取住房公积金可在线办理，只需身份证和不动产权证书。",
    )
    assert (v2.number, v2.state) == (2, KnowledgeState.DRAFT)
    # Until v2 is published the agents still see v1.
    (hit,) = kb.kb_search("公积金")
    assert hit.version == v1
    # Editing the open draft changes it in place.
    again = kb.entry_edit(
        entry=entry, actor=hw.p.clerk_a, title=v2.title, body=v2.body + "可邮寄。"
    )
    assert again.pk == v2.pk
    kb.version_submit(version=v2, actor=hw.p.clerk_a)
    with pytest.raises(ValidationError, match="正在审核"):
        kb.entry_edit(entry=entry, actor=hw.p.clerk_a, title="x", body="y")
    kb.version_review(version=v2, actor=hw.head_a, approve=True)
    v1.refresh_from_db()
    assert v1.state == KnowledgeState.SUPERSEDED
    (hit,) = kb.kb_search("不动产权证书")
    assert hit.version.number == 2
    assert kb.kb_search("付款凭证") == []  # v1's text left the index


def test_a_withdrawn_entry_leaves_the_search(hw, housing):
    entry = draft(hw, housing)
    publish(hw, entry)
    with pytest.raises(ValidationError):
        kb.entry_withdraw(entry=entry, actor=hw.head_a, reason="")
    with pytest.raises(PermissionDenied):
        kb.entry_withdraw(entry=entry, actor=hw.p.clerk_a, reason="政策废止")
    kb.entry_withdraw(entry=entry, actor=hw.head_a, reason="政策废止")
    entry.refresh_from_db()
    assert entry.published is None
    assert entry.versions.get().state == KnowledgeState.WITHDRAWN
    assert kb.kb_search("公积金") == []
    assert fulltext.search("公积金", kinds=[kb.DOC_KIND]) == []


def test_expired_and_future_entries_are_not_shown_to_agents(hw, housing):
    today = timezone.localdate()
    expired = draft(
        hw,
        housing,
        valid_from=today - dt.timedelta(days=30),
        valid_until=today - dt.timedelta(days=1),
    )
    future = draft(hw, housing, title="公积金新政", valid_from=today + dt.timedelta(days=10))
    current = draft(hw, housing, title="公积金现行政策", valid_until=today)
    for entry in (expired, future, current):
        publish(hw, entry)
    assert [h.entry for h in kb.kb_search("公积金")] == [current]
    later = [h.entry for h in kb.kb_search("公积金", on=today + dt.timedelta(days=10))]
    assert later == [future]
    assert kb.published_entry(expired.pk) is None


def test_an_agent_answers_a_consultation_from_the_kb_and_it_closes(hw, housing):
    entry = draft(hw, housing)
    publish(hw, entry)
    order = make_order(hw, request_type=RequestType.CONSULT, description="公积金提取要带什么材料")
    order, used = kb.answer_from_knowledge(order=order, entry_id=entry.pk, actor=hw.agent)
    assert order.case.state == OrderState.ANSWERED
    assert order.reply.startswith("购买自住住房提取住房公积金")
    used.refresh_from_db()
    assert used.use_count == 1
    assert any(entry.number in str(e.data) for e in order.case.events.all())


def test_only_consultations_and_only_published_entries_answer(hw, housing):
    entry = draft(hw, housing)
    complaint = make_order(hw)
    with pytest.raises(ValidationError):
        kb.answer_from_knowledge(order=complaint, entry_id=entry.pk, actor=hw.agent)  # draft
    publish(hw, entry)
    with pytest.raises(ValidationError, match="咨询"):
        kb.answer_from_knowledge(order=complaint, entry_id=entry.pk, actor=hw.agent)
    complaint.refresh_from_db()
    assert complaint.case.state == OrderState.RECEIVED


def _xlsx(rows):
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = ["标题", "答复口径", "知识分类", "责任部门", "关键词", "生效日期", "失效日期"]


def test_an_excel_import_creates_drafts(hw, housing):
    content = _xlsx(
        [
            HEADER,
            [
                "租房提取公积金",
                "无房职工租房可按月提取。",
                "housing",
                "dept-a",
                "租房",
                "2026-01-01",
                None,
            ],
            [
                "公租房申请条件",
                "本市户籍、家庭人均收入低于标准。",
                "住房保障",
                "甲局",
                "",
                None,
                "2030-12-31",
            ],
        ]
    )
    created = kb.import_entries(actor=hw.p.clerk_a, content=content, filename="kb.xlsx")
    assert len(created) == 2
    assert {e.versions.get().state for e in created} == {KnowledgeState.DRAFT}
    assert created[1].versions.get().valid_until == dt.date(2030, 12, 31)


def test_a_gbk_csv_import_is_read(hw, housing):
    text = (
        "标题,答复口径,知识分类,责任部门\n租房提取公积金,无房职工租房可按月提取。,housing,dept-a\n"
    )
    created = kb.import_entries(actor=hw.p.clerk_a, content=text.encode("gbk"), filename="kb.csv")
    assert created[0].versions.get().title == "租房提取公积金"


def test_a_bad_import_is_refused_whole_with_every_row_error(hw, housing):
    content = _xlsx(
        [
            HEADER,
            ["好的一行", "正文", "housing", "dept-a", "", "", ""],
            ["", "没有标题", "housing", "dept-a", "", "", ""],
            ["别的部门", "正文", "housing", "dept-b", "", "", ""],
            ["未知分类", "正文", "nothing", "dept-a", "", "2026-13-01", ""],
        ]
    )
    with pytest.raises(ImportRefused) as refused:
        kb.import_entries(actor=hw.p.clerk_a, content=content, filename="kb.xlsx")
    problems = {(e.row, e.column) for e in refused.value.row_errors}
    assert problems == {(3, "标题"), (4, "责任部门"), (5, "知识分类"), (5, "生效日期")}
    assert KnowledgeEntry.objects.count() == 0


def test_an_import_without_the_required_columns_is_refused(hw, housing):
    with pytest.raises(ImportRefused) as refused:
        kb.import_entries(actor=hw.p.clerk_a, content=_xlsx([["标题"], ["x"]]), filename="kb.xlsx")
    assert {e.column for e in refused.value.row_errors} == {"答复口径", "知识分类", "责任部门"}


def test_reindex_rebuilds_the_published_entries(hw, housing):
    entry = draft(hw, housing)
    publish(hw, entry)
    draft(hw, housing, title="另一条草稿公积金")
    fulltext.remove_kind(kb.DOC_KIND)
    assert kb.kb_search("公积金") == []
    assert kb.reindex() == 1
    assert [h.entry for h in kb.kb_search("公积金")] == [entry]


def test_the_demo_seed_publishes_about_twenty_entries_once(hw):
    from digitalcity.hotline.knowledge_demo import ENTRIES, seed_knowledge

    created = seed_knowledge()
    assert created == len(ENTRIES) >= 20
    assert seed_knowledge() == 0
    assert KnowledgeEntry.objects.filter(published__isnull=False).count() == created
    (hit, *_rest) = kb.kb_search("身份证丢了怎么补办")
    assert hit.version.title == "身份证丢失怎么补办？"
