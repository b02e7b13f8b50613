"""Knowledge base services and reads (GB/T 44191 政府热线知识库; docs/knowledge.md).

Life of a version: 草稿 (draft) → 待审核 (review) → 已发布 (published) → 已被替代
(superseded, when a newer version is published) or 已撤回 (withdrawn). A reviewer sends a
version back to draft with a note, or publishes it; the reviewer is never its author.

Who may do what (`can_author`, `can_review`):

* write and submit: staff of the entry's owner department, staff of the 12345 center,
  administrators;
* review and withdraw: the head (负责人) of the owner department or of the 12345 center,
  or an administrator — and never the author of the version under review.

Only published entries whose version is valid today are shown to agents; the full-text
index (core.fulltext, kind "hotline.knowledge") holds the published versions, kept in the
same transaction as each change.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from digitalcity.core import fulltext
from digitalcity.core.imports import ImportRefused, RowError
from digitalcity.core.models import Department, MembershipRole
from digitalcity.core.numbering import next_number
from digitalcity.identity.permissions import (
    can_act_for_department,
    has_role,
    is_admin,
    scope_queryset,
)

from .conf import center_code
from .models import KnowledgeCategory, KnowledgeEntry, KnowledgeState, KnowledgeVersion

__all__ = [
    "DOC_KIND",
    "KnowledgeHit",
    "answer_from_knowledge",
    "can_author",
    "can_review",
    "entries_for_user",
    "entry_create",
    "entry_edit",
    "entry_withdraw",
    "import_entries",
    "kb_search",
    "version_review",
    "version_submit",
]

DOC_KIND = "hotline.knowledge"
TITLE_MAX = 200
BODY_MAX = 10000
KEYWORDS_MAX = 200
IMPORT_MAX_ROWS = 5000


# ---------------------------------------------------------------------------- permissions


def _center() -> Department | None:
    return Department.objects.filter(code=center_code(), is_active=True).first()


def can_author(user: Any, department: Department) -> bool:
    if is_admin(user):
        return True
    center = _center()
    return can_act_for_department(user, department) or (
        center is not None and can_act_for_department(user, center)
    )


def can_review(user: Any, department: Department) -> bool:
    if is_admin(user):
        return True
    center = _center()
    return has_role(user, MembershipRole.HEAD, department) or (
        center is not None and has_role(user, MembershipRole.HEAD, center)
    )


def entries_for_user(user: Any) -> QuerySet[KnowledgeEntry]:
    """Entries a member of staff may maintain or read: their departments' entries (the
    12345 center's staff, supervisors and administrators: all)."""
    qs = KnowledgeEntry.objects.select_related("category", "owner_department", "published")
    center = _center()
    if center is not None and can_act_for_department(user, center):
        return qs
    return scope_queryset(user, qs, department_field="owner_department", owner_field="created_by")


# ---------------------------------------------------------------------------- validation


def _clean_text(
    *, title: str, body: str, keywords: str, valid_from: Any, valid_until: Any
) -> tuple[str, str, str, dt.date, dt.date | None]:
    errors: dict[str, str] = {}
    title = (title or "").strip()
    body = (body or "").strip()
    keywords = " ".join((keywords or "").replace("，", " ").replace(",", " ").split())
    if not title:
        errors["title"] = _("标题不能为空")
    elif len(title) > TITLE_MAX:
        errors["title"] = _("标题最多 %(max)d 个字符") % {"max": TITLE_MAX}
    if not body:
        errors["body"] = _("答复口径不能为空")
    elif len(body) > BODY_MAX:
        errors["body"] = _("答复口径最多 %(max)d 个字符") % {"max": BODY_MAX}
    if len(keywords) > KEYWORDS_MAX:
        errors["keywords"] = _("关键词最多 %(max)d 个字符") % {"max": KEYWORDS_MAX}
    start = _date(valid_from, "valid_from", errors) or timezone.localdate()
    end = _date(valid_until, "valid_until", errors)
    if end is not None and end < start:
        errors["valid_until"] = _("失效日期不能早于生效日期")
    if errors:
        raise ValidationError(errors)
    return title, body, keywords, start, end


def _date(value: Any, field: str, errors: dict[str, str]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = _("日期“%(v)s”无效，应为 YYYY-MM-DD") % {"v": value}
        return None


def _index(entry: KnowledgeEntry, version: KnowledgeVersion) -> None:
    fulltext.index(DOC_KIND, entry.pk, version.title, version.body, keywords=version.keywords)


# ---------------------------------------------------------------------------- writes


def entry_create(
    *,
    actor: Any,
    category: KnowledgeCategory,
    owner_department: Department,
    title: str,
    body: str,
    keywords: str = "",
    valid_from: Any = None,
    valid_until: Any = None,
) -> KnowledgeEntry:
    """A new entry with its first version as a draft."""
    if not can_author(actor, owner_department):
        raise PermissionDenied(_("只有责任部门或12345中心的工作人员可以编写知识"))
    title, body, keywords, start, end = _clean_text(
        title=title, body=body, keywords=keywords, valid_from=valid_from, valid_until=valid_until
    )
    if not category.is_active:
        raise ValidationError({"category": _("知识分类“%(c)s”已停用") % {"c": category.name}})
    with transaction.atomic():
        entry = KnowledgeEntry.objects.create(
            number=next_number("ZS", width=5),
            category=category,
            owner_department=owner_department,
            created_by=actor,
        )
        KnowledgeVersion.objects.create(
            entry=entry,
            number=1,
            title=title,
            body=body,
            keywords=keywords,
            valid_from=start,
            valid_until=end,
            author=actor,
        )
    return entry


def entry_edit(
    *,
    entry: KnowledgeEntry,
    actor: Any,
    title: str,
    body: str,
    keywords: str = "",
    valid_from: Any = None,
    valid_until: Any = None,
) -> KnowledgeVersion:
    """Change an entry's text: the open draft is changed in place; otherwise (the entry
    is published or withdrawn) a new draft version is made from it. A version under
    review cannot be changed until the reviewer sends it back."""
    title, body, keywords, start, end = _clean_text(
        title=title, body=body, keywords=keywords, valid_from=valid_from, valid_until=valid_until
    )
    with transaction.atomic():
        entry = KnowledgeEntry.objects.select_for_update().get(pk=entry.pk)
        if not can_author(actor, entry.owner_department):
            raise PermissionDenied(_("只有责任部门或12345中心的工作人员可以编写知识"))
        open_version = entry.versions.filter(
            state__in=(KnowledgeState.DRAFT, KnowledgeState.REVIEW)
        ).first()
        if open_version is not None and open_version.state == KnowledgeState.REVIEW:
            raise ValidationError(
                {"state": _("第 %(n)d 版正在审核，审核退回后才能修改") % {"n": open_version.number}}
            )
        if open_version is None:
            last = entry.versions.order_by("-number").values_list("number", flat=True).first()
            open_version = KnowledgeVersion(entry=entry, number=(last or 0) + 1)
        open_version.title, open_version.body, open_version.keywords = title, body, keywords
        open_version.valid_from, open_version.valid_until = start, end
        open_version.author = actor
        open_version.state = KnowledgeState.DRAFT
        open_version.save()
        KnowledgeEntry.objects.filter(pk=entry.pk).update(updated_at=timezone.now())
    return open_version


def version_submit(*, version: KnowledgeVersion, actor: Any) -> KnowledgeVersion:
    """Draft → under review."""
    with transaction.atomic():
        version = (
            KnowledgeVersion.objects.select_for_update()
            .select_related("entry__owner_department")
            .get(pk=version.pk)
        )
        if not can_author(actor, version.entry.owner_department):
            raise PermissionDenied(_("只有责任部门或12345中心的工作人员可以提交审核"))
        if version.state != KnowledgeState.DRAFT:
            raise ValidationError({"state": _("只有草稿可以提交审核")})
        version.state = KnowledgeState.REVIEW
        version.submitted_at = timezone.now()
        version.save(update_fields=["state", "submitted_at", "updated_at"])
    return version


def version_review(
    *, version: KnowledgeVersion, actor: Any, approve: bool, note: str = ""
) -> KnowledgeVersion:
    """Publish a version under review, or send it back to draft (a note is then required).

    Publishing supersedes the entry's earlier published version and puts the new text in
    the full-text index, in one transaction."""
    note = (note or "").strip()
    with transaction.atomic():
        version = (
            KnowledgeVersion.objects.select_for_update()
            .select_related("entry__owner_department")
            .get(pk=version.pk)
        )
        entry = KnowledgeEntry.objects.select_for_update().get(pk=version.entry_id)
        if not can_review(actor, entry.owner_department):
            raise PermissionDenied(_("只有责任部门或12345中心的负责人可以审核知识"))
        if version.author_id == getattr(actor, "pk", None):
            raise PermissionDenied(_("审核人不能是该版本的编写人"))
        if version.state != KnowledgeState.REVIEW:
            raise ValidationError({"state": _("只有待审核的版本可以审核")})
        if not approve and not note:
            raise ValidationError({"note": _("退回修改须写明审核意见")})
        if len(note) > 500:
            raise ValidationError({"note": _("审核意见最多 500 个字符")})
        now = timezone.now()
        version.reviewer = actor
        version.reviewed_at = now
        version.review_note = note
        if approve:
            KnowledgeVersion.objects.filter(entry=entry, state=KnowledgeState.PUBLISHED).update(
                state=KnowledgeState.SUPERSEDED, updated_at=now
            )
            version.state = KnowledgeState.PUBLISHED
            version.published_at = now
            version.save()
            entry.published = version
            entry.save(update_fields=["published", "updated_at"])
            _index(entry, version)
        else:
            version.state = KnowledgeState.DRAFT
            version.submitted_at = None
            version.save()
    return version


def entry_withdraw(*, entry: KnowledgeEntry, actor: Any, reason: str) -> KnowledgeEntry:
    """Take the published version off the agents' search (it stays in the history)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        entry = (
            KnowledgeEntry.objects.select_for_update()
            .select_related("owner_department")
            .get(pk=entry.pk)
        )
        if not can_review(actor, entry.owner_department):
            raise PermissionDenied(_("只有责任部门或12345中心的负责人可以撤回知识"))
        if not reason:
            raise ValidationError({"reason": _("撤回须写明原因")})
        if len(reason) > 500:
            raise ValidationError({"reason": _("撤回原因最多 500 个字符")})
        if entry.published_id is None:
            raise ValidationError({"state": _("该知识没有已发布的版本")})
        KnowledgeVersion.objects.filter(pk=entry.published_id).update(
            state=KnowledgeState.WITHDRAWN,
            withdrawn_at=timezone.now(),
            withdrawn_by=actor,
            withdraw_reason=reason,
            updated_at=timezone.now(),
        )
        entry.published = None
        entry.save(update_fields=["published", "updated_at"])
        fulltext.remove(DOC_KIND, entry.pk)
    return entry


def answer_from_knowledge(
    *, order: Any, entry_id: int, actor: Any, reply: str = ""
) -> tuple[Any, KnowledgeEntry]:
    """答复 a consultation from a published, valid entry: the order closes as answered
    (the hotline's `order_answer`) with the entry's text (or the agent's edit of it),
    the entry's use is counted, in one transaction."""
    from .choices import RequestType
    from .services import order_answer

    entry = published_entry(entry_id)
    if entry is None or entry.published is None:
        raise ValidationError({"entry": _("知识条目不存在、未发布或不在有效期内")})
    if order.request_type != RequestType.CONSULT:
        raise ValidationError({"request_type": _("只有咨询类工单可以用知识库直接答复")})
    version = entry.published
    with transaction.atomic():
        order = order_answer(
            order=order,
            actor=actor,
            reply=(reply or "").strip() or version.body,
            knowledge_ref=f"{entry.number} v{version.number}",
        )
        KnowledgeEntry.objects.filter(pk=entry.pk).update(use_count=F("use_count") + 1)
    return order, entry


def reindex() -> int:
    """Rebuild the index of every published entry (after a restore or an engine change)."""
    with transaction.atomic():
        fulltext.remove_kind(DOC_KIND)
        count = 0
        for entry in KnowledgeEntry.objects.filter(published__isnull=False).select_related(
            "published"
        ):
            assert entry.published is not None  # noqa: S101 - filtered above
            _index(entry, entry.published)
            count += 1
    return count


# ---------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class KnowledgeHit:
    entry: KnowledgeEntry
    version: KnowledgeVersion
    title_html: SafeString
    snippet_html: SafeString
    score: float


def kb_search(
    query: str,
    *,
    limit: int = 10,
    on: dt.date | None = None,
    category: KnowledgeCategory | None = None,
) -> list[KnowledgeHit]:
    """Published entries valid on `on` (today) matching `query`, best first.

    The index holds published versions; entries outside their validity dates (expired or
    not yet in force) are filtered here, so an expiry needs no job to take effect."""
    day = on or timezone.localdate()
    hits = fulltext.search(query, kinds=[DOC_KIND], limit=limit * 3)
    if not hits:
        return []
    valid = Q(published__valid_from__lte=day) & (
        Q(published__valid_until__isnull=True) | Q(published__valid_until__gte=day)
    )
    qs = KnowledgeEntry.objects.filter(valid, pk__in=[h.doc_id for h in hits]).select_related(
        "published", "category", "owner_department"
    )
    if category is not None:
        qs = qs.filter(category=category)
    entries = {e.pk: e for e in qs}
    out = []
    for hit in hits:
        entry = entries.get(hit.doc_id)
        if entry is None or entry.published is None:
            continue
        out.append(
            KnowledgeHit(
                entry=entry,
                version=entry.published,
                title_html=hit.title_html,
                snippet_html=hit.snippet_html,
                score=hit.score,
            )
        )
    return out[:limit]


def published_entry(entry_id: int, *, on: dt.date | None = None) -> KnowledgeEntry | None:
    """The entry if it is published and valid on `on` (what an agent may answer from)."""
    day = on or timezone.localdate()
    entry = (
        KnowledgeEntry.objects.select_related("published", "owner_department")
        .filter(pk=entry_id, published__isnull=False, published__valid_from__lte=day)
        .filter(Q(published__valid_until__isnull=True) | Q(published__valid_until__gte=day))
        .first()
    )
    return entry


# ---------------------------------------------------------------------------- import

IMPORT_COLUMNS = {
    "title": _("标题"),
    "body": _("答复口径"),
    "category": _("知识分类"),
    "department": _("责任部门"),
    "keywords": _("关键词"),
    "valid_from": _("生效日期"),
    "valid_until": _("失效日期"),
}


def import_entries(*, actor: Any, content: bytes, filename: str = "") -> list[KnowledgeEntry]:
    """Import entries from an Excel workbook (.xlsx) or a CSV file (UTF-8 or GBK) as drafts.

    Headers (first row, any order): 标题, 答复口径, 知识分类 (code or name), 责任部门 (code or
    name), 关键词, 生效日期, 失效日期. The whole file is checked first; any bad row refuses
    the whole import with every problem listed (ImportRefused, core.imports)."""
    rows = _read_rows(content, filename)
    headers = {str(IMPORT_COLUMNS[k]): k for k in IMPORT_COLUMNS}
    errors: list[RowError] = []
    if not rows:
        raise ImportRefused([RowError(0, _("文件"), _("文件为空或无法读取"))])
    header = [str(h or "").strip() for h in rows[0]]
    positions = {headers[h]: i for i, h in enumerate(header) if h in headers}
    for required in ("title", "body", "category", "department"):
        if required not in positions:
            errors.append(RowError(1, str(IMPORT_COLUMNS[required]), _("缺少这一列")))
    if errors:
        raise ImportRefused(errors)
    data_rows = rows[1:]
    if len(data_rows) > IMPORT_MAX_ROWS:
        raise ImportRefused(
            [RowError(0, _("文件"), _("一次最多导入 %(n)d 行") % {"n": IMPORT_MAX_ROWS})]
        )
    categories: dict[str, KnowledgeCategory] = {}
    for c in KnowledgeCategory.objects.filter(is_active=True):
        categories[c.code] = categories[c.name] = c
    departments: dict[str, Department] = {}
    for d in Department.objects.filter(is_active=True):
        departments[d.code] = departments[d.name] = d
    prepared = []
    for number, row in enumerate(data_rows, start=2):
        values = {
            k: ("" if i >= len(row) or row[i] is None else row[i]) for k, i in positions.items()
        }
        if all(str(v).strip() == "" for v in values.values()):
            continue
        category = categories.get(str(values.get("category", "")).strip())
        if category is None:
            errors.append(
                RowError(number, str(IMPORT_COLUMNS["category"]), _("知识分类不存在或已停用"))
            )
        department = departments.get(str(values.get("department", "")).strip())
        if department is None:
            errors.append(
                RowError(number, str(IMPORT_COLUMNS["department"]), _("部门不存在或已停用"))
            )
        elif not can_author(actor, department):
            errors.append(
                RowError(number, str(IMPORT_COLUMNS["department"]), _("无权为该部门编写知识"))
            )
        try:
            cleaned = _clean_text(
                title=str(values.get("title", "")),
                body=str(values.get("body", "")),
                keywords=str(values.get("keywords", "")),
                valid_from=values.get("valid_from") or None,
                valid_until=values.get("valid_until") or None,
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    errors.append(RowError(number, str(IMPORT_COLUMNS[field]), message))
            continue
        prepared.append((category, department, cleaned))
    if errors:
        raise ImportRefused(errors)
    if not prepared:
        raise ImportRefused([RowError(0, _("文件"), _("没有可导入的数据行"))])
    created = []
    with transaction.atomic():
        for category, department, (title, body, keywords, start, end) in prepared:
            assert category is not None  # noqa: S101 - checked above
            assert department is not None  # noqa: S101 - checked above
            created.append(
                entry_create(
                    actor=actor,
                    category=category,
                    owner_department=department,
                    title=title,
                    body=body,
                    keywords=keywords,
                    valid_from=start,
                    valid_until=end,
                )
            )
    return created


def _read_rows(content: bytes, filename: str) -> list[list[Any]]:
    if content[:2] == b"PK" or filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several types for a broken file
            raise ImportRefused(
                [RowError(0, _("文件"), _("无法读取 Excel 文件：%(e)s") % {"e": exc})]
            ) from exc
        sheet = book.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    import csv

    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRefused([RowError(0, _("文件"), _("文件编码无法识别（应为 UTF-8 或 GBK）"))])
    return [list(r) for r in csv.reader(io.StringIO(text))]


def export_template_xlsx() -> bytes:
    """An empty import workbook with the headers and one example row."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has one sheet
    sheet.title = _("知识条目")
    sheet.append([str(v) for v in IMPORT_COLUMNS.values()])
    sheet.append(
        [
            _("住房公积金提取需要哪些材料？"),
            _("职工本人身份证、提取原因证明材料……"),
            "housing",
            "",
            _("公积金 提取"),
            timezone.localdate().isoformat(),
            "",
        ]
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
