"""Knowledge base pages (thin: fetch within scope, call knowledge.py, render).

Staff only: anyone without a department (citizens, anonymous visitors) gets 404 on every
page and endpoint, as an outsider does for an entry outside their scope.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from digitalcity.core.imports import ImportRefused, RowError, error_report_xlsx
from digitalcity.core.models import Department
from digitalcity.identity.permissions import departments_of, is_admin

from . import knowledge as kb
from .models import KnowledgeCategory, KnowledgeEntry, KnowledgeState, KnowledgeVersion, WorkOrder

PAGE_SIZE = 30


def _staff(request: HttpRequest) -> None:
    user = request.user
    if not (user.is_authenticated and (is_admin(user) or departments_of(user).exists())):
        raise Http404(_("对象不存在或无权访问"))


def _visible(request: HttpRequest) -> QuerySet[KnowledgeEntry]:
    """Entries the user maintains, plus every published one (read-only for others)."""
    mine = kb.entries_for_user(request.user).values("pk")
    return KnowledgeEntry.objects.filter(Q(pk__in=mine) | Q(published__isnull=False))


def _entry_for(request: HttpRequest, pk: int) -> KnowledgeEntry:
    _staff(request)
    entry = (
        _visible(request)
        .select_related("category", "owner_department", "published", "created_by")
        .filter(pk=pk)
        .first()
    )
    if entry is None:
        raise Http404(_("对象不存在或无权访问"))
    return entry


class EntryForm(forms.Form):
    category = forms.ModelChoiceField(
        label=gettext_lazy("知识分类"), queryset=KnowledgeCategory.objects.filter(is_active=True)
    )
    owner_department = forms.ModelChoiceField(
        label=gettext_lazy("责任部门"), queryset=Department.objects.none()
    )
    title = forms.CharField(label=gettext_lazy("标题（问题）"), max_length=kb.TITLE_MAX)
    body = forms.CharField(
        label=gettext_lazy("答复口径"),
        widget=forms.Textarea(attrs={"rows": 10}),
        max_length=kb.BODY_MAX,
    )
    keywords = forms.CharField(
        label=gettext_lazy("关键词"),
        required=False,
        max_length=kb.KEYWORDS_MAX,
        help_text=gettext_lazy("以空格或逗号分隔，帮助检索"),
    )
    valid_from = forms.DateField(
        label=gettext_lazy("生效日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    valid_until = forms.DateField(
        label=gettext_lazy("失效日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("过期的知识不再向话务员显示"),
    )

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        center = kb._center()
        if is_admin(user) or (
            center is not None and departments_of(user).filter(pk=center.pk).exists()
        ):
            departments = Department.objects.filter(is_active=True)
        else:
            departments = departments_of(user)
        self.fields["owner_department"].queryset = departments  # type: ignore[attr-defined]
        if editing:
            del self.fields["category"]
            del self.fields["owner_department"]


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
@require_GET
def knowledge_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    entries = kb.entries_for_user(request.user).select_related("published")
    state = request.GET.get("state", "")
    query = request.GET.get("q", "").strip()
    if state == "published":
        entries = entries.filter(published__isnull=False)
    elif state in (KnowledgeState.DRAFT, KnowledgeState.REVIEW):
        entries = entries.filter(versions__state=state)
    if query:
        entries = entries.filter(
            Q(number__icontains=query) | Q(versions__title__icontains=query)
        ).distinct()
    page = Paginator(entries.order_by("-updated_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # The title shown is the newest version's: one query for the page.
    latest: dict[int, KnowledgeVersion] = {}
    for version in KnowledgeVersion.objects.filter(
        entry__in=[e.pk for e in page.object_list]
    ).order_by("entry_id", "-number"):
        latest.setdefault(version.entry_id, version)
    rows = [(entry, latest.get(entry.pk)) for entry in page.object_list]
    to_review = (
        KnowledgeVersion.objects.filter(
            state=KnowledgeState.REVIEW, entry__in=kb.entries_for_user(request.user).values("pk")
        )
        .exclude(author_id=request.user.pk)
        .select_related("entry", "author")
        .order_by("submitted_at")[:50]
    )
    reviewable = [v for v in to_review if kb.can_review(request.user, v.entry.owner_department)]
    return render(
        request,
        "hotline/knowledge/list.html",
        {
            "page": page,
            "rows": rows,
            "state": state,
            "query": query,
            "to_review": reviewable,
            "states": [
                ("", _("全部")),
                ("published", _("已发布")),
                (KnowledgeState.DRAFT, _("草稿")),
                (KnowledgeState.REVIEW, _("待审核")),
            ],
        },
    )


@login_required
def knowledge_new(request: HttpRequest) -> HttpResponse:
    _staff(request)
    form = EntryForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = kb.entry_create(
                actor=request.user,
                category=data["category"],
                owner_department=data["owner_department"],
                title=data["title"],
                body=data["body"],
                keywords=data["keywords"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("owner_department", str(exc))
        else:
            messages.success(
                request, _("已保存为草稿 %(n)s，提交审核后才会发布") % {"n": entry.number}
            )
            return redirect("hotline:knowledge_detail", pk=entry.pk)
    return render(request, "hotline/knowledge/form.html", {"form": form, "entry": None})


@login_required
def knowledge_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry_for(request, pk)
    if not kb.can_author(request.user, entry.owner_department):
        raise Http404(_("对象不存在或无权访问"))
    base = entry.versions.order_by("-number").first()
    initial = {}
    if base is not None:
        initial = {
            "title": base.title,
            "body": base.body,
            "keywords": base.keywords,
            "valid_from": base.valid_from,
            "valid_until": base.valid_until,
        }
    form = EntryForm(request.POST or None, user=request.user, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            version = kb.entry_edit(
                entry=entry,
                actor=request.user,
                title=data["title"],
                body=data["body"],
                keywords=data["keywords"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("第 %(n)d 版草稿已保存") % {"n": version.number})
            return redirect("hotline:knowledge_detail", pk=entry.pk)
    return render(request, "hotline/knowledge/form.html", {"form": form, "entry": entry})


@login_required
@require_GET
def knowledge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry_for(request, pk)
    versions = list(entry.versions.select_related("author", "reviewer").order_by("-number"))
    open_version = next(
        (v for v in versions if v.state in (KnowledgeState.DRAFT, KnowledgeState.REVIEW)), None
    )
    user = request.user
    return render(
        request,
        "hotline/knowledge/detail.html",
        {
            "entry": entry,
            "versions": versions,
            "open_version": open_version,
            "may_author": kb.can_author(user, entry.owner_department),
            "may_review": kb.can_review(user, entry.owner_department)
            and open_version is not None
            and open_version.author_id != user.pk,
            "may_withdraw": kb.can_review(user, entry.owner_department),
        },
    )


@login_required
@require_POST
def knowledge_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    entry = _entry_for(request, pk)
    version = entry.versions.filter(state__in=(KnowledgeState.DRAFT, KnowledgeState.REVIEW)).first()
    note = request.POST.get("note", "")
    try:
        if action == "submit" and version is not None:
            kb.version_submit(version=version, actor=request.user)
            messages.success(request, _("已提交审核"))
        elif action in ("approve", "reject") and version is not None:
            kb.version_review(
                version=version, actor=request.user, approve=action == "approve", note=note
            )
            messages.success(request, _("已发布") if action == "approve" else _("已退回修改"))
        elif action == "withdraw":
            kb.entry_withdraw(entry=entry, actor=request.user, reason=note)
            messages.success(request, _("已撤回"))
        else:
            raise Http404(_("对象不存在或无权访问"))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("hotline:knowledge_detail", pk=entry.pk)


@login_required
def knowledge_import(request: HttpRequest) -> HttpResponse:
    _staff(request)
    errors: list[RowError] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择要导入的 Excel 或 CSV 文件"))
        elif upload.size and upload.size > 10 * 1024 * 1024:
            messages.error(request, _("文件不能超过 10 MB"))
        else:
            try:
                created = kb.import_entries(
                    actor=request.user, content=upload.read(), filename=upload.name or ""
                )
            except ImportRefused as exc:
                if request.POST.get("report"):
                    return _error_report_response(exc.row_errors)
                errors = exc.row_errors
            else:
                messages.success(
                    request,
                    ngettext(
                        "已导入 %(n)d 条知识（草稿）", "已导入 %(n)d 条知识（草稿）", len(created)
                    )
                    % {"n": len(created)},
                )
                return redirect("hotline:knowledge_list")
    return render(
        request,
        "hotline/knowledge/import.html",
        {"errors": errors, "report_token": _report_token(request, errors) if errors else ""},
    )


# The refused file is not kept: the errors shown travel back signed (and compressed) in
# the page, so the report can be downloaded without choosing the file again.
_REPORT_SALT = "hotline.knowledge.import-report"
_REPORT_MAX_AGE = 24 * 3600


def _report_token(request: HttpRequest, errors: list[RowError]) -> str:
    return signing.dumps(
        [[e.row, e.column, e.message] for e in errors],
        salt=f"{_REPORT_SALT}:{request.user.pk}",
        compress=True,
    )


def _error_report_response(errors: list[RowError]) -> HttpResponse:
    response = HttpResponse(
        error_report_xlsx(errors),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="knowledge-import-errors.xlsx"'
    return response


@login_required
@require_POST
def knowledge_import_report(request: HttpRequest) -> HttpResponse:
    """The per-row error report (.xlsx) of the import just refused on this user's screen."""
    _staff(request)
    try:
        rows = signing.loads(
            request.POST.get("token", ""),
            salt=f"{_REPORT_SALT}:{request.user.pk}",
            max_age=_REPORT_MAX_AGE,
        )
    except signing.BadSignature:  # also SignatureExpired
        messages.error(request, _("错误报告已过期，请重新上传文件"))
        return redirect("hotline:knowledge_import")
    return _error_report_response([RowError(int(r), str(c), str(m)) for r, c, m in rows])


@login_required
@require_GET
def knowledge_template(request: HttpRequest) -> HttpResponse:
    _staff(request)
    response = HttpResponse(
        kb.export_template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="knowledge-template.xlsx"'
    return response


def _order_for_answer(request: HttpRequest, ref: str) -> WorkOrder | None:
    """The order an agent may answer: the 12345 center's staff (or an administrator)."""
    if not ref:
        return None
    center = kb._center()
    user = request.user
    if not (
        is_admin(user)
        or (center is not None and departments_of(user).filter(pk=center.pk).exists())
    ):
        return None
    return WorkOrder.objects.select_related("case").filter(case__number=ref).first()


@login_required
@require_GET
def knowledge_search(request: HttpRequest) -> HttpResponse:
    """htmx: the results for the console's search box (published, valid entries)."""
    _staff(request)
    query = request.GET.get("q", "").strip()
    hits = kb.kb_search(query, limit=8) if query else []
    order = _order_for_answer(request, request.GET.get("order", ""))
    return render(
        request,
        "hotline/knowledge/_results.html",
        {"hits": hits, "query": query, "order": order},
    )


@login_required
@require_POST
def knowledge_answer(request: HttpRequest) -> HttpResponse:
    """答复 a consultation from an entry; back to the order's page."""
    _staff(request)
    order = _order_for_answer(request, request.POST.get("order", ""))
    if order is None:
        raise Http404(_("对象不存在或无权访问"))
    try:
        entry_id = int(request.POST.get("entry", ""))
    except ValueError:
        raise Http404(_("对象不存在或无权访问")) from None
    try:
        order, entry = kb.answer_from_knowledge(
            order=order, entry_id=entry_id, actor=request.user, reply=request.POST.get("reply", "")
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("已依据知识 %(k)s 答复，工单 %(n)s 已办结")
            % {"k": entry.number, "n": order.case.number},
        )
    return redirect("hotline:order", ref=order.case.number)
