"""Staff pages of the registry (workbench shell): search, record pages with provenance and
history, the conflict queue, import batches with progress and error reports, upload.

Thin views (STYLE.md 5): parse, check with registry.permissions, call queries/services,
render. Everyone else — other staff, citizens — gets 403.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from digitalcity.core.files import store_upload
from digitalcity.core.imports import error_report_xlsx
from digitalcity.identity.masking import can_reveal, mask_id_number, mask_name
from digitalcity.identity.permissions import departments_of, is_admin

from .choices import BatchStatus, ConflictState, Entity
from .conflicts import conflict_confirm, conflict_correct, conflict_counts
from .fields import choice_label, field_label
from .forms import ResolveForm, RevealForm, SearchForm, UploadForm
from .imports import batch_row_errors, create_upload_batch
from .models import Organization, Person, SourceRecord
from .permissions import (
    batches_for,
    conflicts_for,
    importable_sources,
    require_registry,
)
from .queries import (
    organization_as_of,
    organization_by_code,
    organization_card,
    person_as_of,
    person_by_id_number,
    person_card,
    provenance,
    reveal_person,
    search_people,
    snapshot_of,
)
from .tasks import run_import

RUNNING = {BatchStatus.PENDING, BatchStatus.VALIDATING, BatchStatus.LOADING}


def _registry_user(request: HttpRequest) -> Any:
    require_registry(request.user)
    return request.user


def _as_of(request: HttpRequest) -> datetime.date | None:
    text = request.GET.get("as_of", "").strip()
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        messages.error(request, _("「查询日期」格式应为 YYYY-MM-DD"))
        return None


@login_required
def search(request: HttpRequest) -> HttpResponse:
    user = _registry_user(request)
    form = SearchForm(request.GET or None)
    people: list[Person] = []
    if request.GET and form.is_valid():
        data = form.cleaned_data
        try:
            if data["q"]:
                target = _lookup(data["q"].strip())
                if target is not None:
                    return target
                messages.info(request, _("基础数据库中没有该号码的记录"))
            else:
                people = list(
                    search_people(
                        name=data["name"], birth_date=data["birth_date"], division=data["division"]
                    )
                )
                if not people:
                    messages.info(request, _("没有符合条件的人口记录"))
        except ValidationError as exc:
            form.add_error(None, exc)
    mine = departments_of(user)
    return render(
        request,
        "registry/search.html",
        {
            "form": form,
            "people": [(p, person_card(p)) for p in people],
            "counts": conflict_counts(None if is_admin(user) else mine),
            "recent": batches_for(user)[:5],
        },
    )


def _lookup(code: str) -> HttpResponse | None:
    """A citizen ID number or a credit code (or old organization code): the record page.
    An all-digit credit code is also an 18-character string, so both are tried."""
    problems: list[str] = []
    try:
        person = person_by_id_number(code)
    except ValidationError as exc:
        problems += exc.messages
    else:
        if person is not None:
            return redirect("registry:person", person.pk)
    try:
        organization = organization_by_code(code)
    except ValidationError as exc:
        if problems:
            raise ValidationError(
                _("既不是有效的公民身份号码（%(person)s），也不是有效的信用代码（%(org)s）")
                % {"person": "；".join(problems), "org": "；".join(exc.messages)}
            ) from None
    else:
        if organization is not None:
            return redirect("registry:organization", organization.pk)
    return None


def _history(versions: Any, entity: str) -> list[dict[str, Any]]:
    rows = []
    previous: dict[str, str] = {}
    for version in versions:
        changes = [
            (
                field_label(entity, k),
                choice_label(entity, k, previous.get(k, "")),
                choice_label(entity, k, v),
            )
            for k, v in version.snapshot.items()
            if previous.get(k, "") != v and k not in ("id_number",)
        ]
        rows.append({"version": version, "changes": changes if previous else []})
        previous = version.snapshot
    return list(reversed(rows))


def _records(subject: Person | Organization) -> list[SourceRecord]:
    query = {"person": subject} if isinstance(subject, Person) else {"organization": subject}
    return list(
        SourceRecord.objects.filter(**query)
        .select_related("source", "batch")
        .order_by("source__code", "-id")[:100]
    )


@login_required
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _registry_user(request)
    person = get_object_or_404(Person.objects.select_related("division"), pk=pk)
    as_of = _as_of(request)
    snapshot = snapshot_of(person)
    if as_of is not None:
        found = person_as_of(person.id_number, as_of)
        if found is None:
            messages.info(request, _("%(date)s 时基础数据库尚无此人记录") % {"date": as_of})
        else:
            snapshot = found
    reveal_form = RevealForm(request.POST or None)
    revealed = None
    if request.method == "POST" and reveal_form.is_valid():
        try:
            revealed = reveal_person(
                user=user,
                person=person,
                reason=reveal_form.cleaned_data["reason"],
                snapshot=snapshot,
            )
        except PermissionDenied as exc:
            reveal_form.add_error("reason", str(exc))
    card = revealed or person_card(person, snapshot, division_names=True)
    return render(
        request,
        "registry/record.html",
        {
            "entity": Entity.PERSON,
            "subject": person,
            "title": card.get("name") or card["id_number"],
            "card": [(field_label(Entity.PERSON, k), v) for k, v in card.items()],
            "provenance": provenance(person),
            "history": _history(person.versions.order_by("version"), Entity.PERSON),
            "events": person.events.all()[:50],
            "conflicts": person.conflicts.select_related("other_source", "department")[:50],
            "records": [(r, mask_id_number(r.key)) for r in _records(person)],
            "as_of": as_of,
            "reveal_form": reveal_form,
            "revealed": revealed is not None,
            "may_reveal": can_reveal(user=user, obj=person),
        },
    )


@login_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _registry_user(request)
    organization = get_object_or_404(Organization.objects.select_related("division"), pk=pk)
    as_of = _as_of(request)
    snapshot = snapshot_of(organization)
    if as_of is not None:
        found = organization_as_of(organization.uscc, as_of)
        if found is None:
            messages.info(request, _("%(date)s 时基础数据库尚无此法人记录") % {"date": as_of})
        else:
            snapshot = found
    card = organization_card(organization, snapshot, division_names=True)
    return render(
        request,
        "registry/record.html",
        {
            "entity": Entity.ORGANIZATION,
            "subject": organization,
            "title": card.get("name") or organization.uscc,
            "card": [(field_label(Entity.ORGANIZATION, k), v) for k, v in card.items()],
            "provenance": provenance(organization),
            "history": _history(organization.versions.order_by("version"), Entity.ORGANIZATION),
            "events": [],
            "conflicts": organization.conflicts.select_related("other_source", "department")[:50],
            "records": [(r, r.key or "") for r in _records(organization)],
            "as_of": as_of,
        },
    )


@login_required
def conflict_queue(request: HttpRequest) -> HttpResponse:
    user = _registry_user(request)
    state = request.GET.get("state", ConflictState.OPEN)
    if state not in ConflictState.values:
        state = ConflictState.OPEN
    conflicts = (
        conflicts_for(user)
        .filter(state=state)
        .select_related("person", "organization", "other_source", "department", "resolved_by")
        .order_by("created_at", "id")
    )
    page = Paginator(conflicts, 50).get_page(request.GET.get("page"))
    # Who may decide: the responsible department's members (and admins) — one query.
    mine = set(departments_of(user).values_list("pk", flat=True))
    rows = []
    for conflict in page:
        subject = conflict.person or conflict.organization
        label = (
            mask_name(conflict.person.name) + " " + mask_id_number(conflict.person.id_number)
            if conflict.person
            else f"{conflict.organization.name if conflict.organization else ''}"
        )
        rows.append(
            {
                "conflict": conflict,
                "subject": subject,
                "label": label,
                "field": field_label(conflict.entity, conflict.field),
                "golden": choice_label(conflict.entity, conflict.field, conflict.golden_value),
                "other": choice_label(conflict.entity, conflict.field, conflict.other_value),
                "may_resolve": state == ConflictState.OPEN
                and (is_admin(user) or conflict.department_id in mine),
            }
        )
    return render(
        request,
        "registry/conflicts.html",
        {
            "page": page,
            "rows": rows,
            "state": state,
            "states": ConflictState.choices,
            "counts": conflict_counts(None if is_admin(user) else departments_of(user)),
            "form": ResolveForm(),
        },
    )


@login_required
@require_POST
def conflict_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    user = _registry_user(request)
    conflict = conflicts_for(user).filter(pk=pk).first()
    if conflict is None:
        raise Http404(_("冲突不存在或无权访问"))
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "；".join(f"{e}" for errors in form.errors.values() for e in errors)
        )
        return redirect("registry:conflicts")
    data = form.cleaned_data
    try:
        if data["action"] == "confirm":
            conflict_confirm(conflict=conflict, actor=user, reason=data["reason"])
            messages.success(request, _("已确认标准值"))
        else:
            conflict_correct(
                conflict=conflict, actor=user, value=data["value"], reason=data["reason"]
            )
            messages.success(request, _("已更正标准值"))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("registry:conflicts")


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    user = _registry_user(request)
    sources = importable_sources(user)
    form = UploadForm(request.POST or None, request.FILES or None, sources=sources)
    if request.method == "POST":
        if not sources.exists():
            raise PermissionDenied(_("您没有导入数据的权限"))
        if form.is_valid():
            try:
                stored = store_upload(
                    upload=form.cleaned_data["file"],
                    purpose="registry-import",
                    allowed_kinds=["csv", "xlsx"],
                    actor=user,
                )
            except ValidationError as exc:
                form.add_error("file", "；".join(exc.messages))
            else:
                batch, created = create_upload_batch(
                    source=form.cleaned_data["source"],
                    stored=stored,
                    actor=user,
                    data_date=form.cleaned_data["data_date"],
                )
                if created:
                    transaction.on_commit(lambda: run_import.enqueue(batch.pk))
                else:
                    messages.info(
                        request,
                        _("该文件内容已导入过（批次 #%(id)d），未作改动") % {"id": batch.pk},
                    )
                return redirect("registry:batch", batch.pk)
    return render(
        request,
        "registry/batches.html",
        {"batches": batches_for(user)[:100], "form": form, "may_upload": sources.exists()},
    )


def _batch_for(request: HttpRequest, pk: int) -> Any:
    user = _registry_user(request)
    batch = batches_for(user).filter(pk=pk).first()
    if batch is None:
        raise Http404(_("批次不存在或无权访问"))
    return batch


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_for(request, pk)
    return render(
        request,
        "registry/batch.html",
        {"batch": batch, "running": batch.status in RUNNING, "problems": batch.error_report[:200]},
    )


@login_required
def batch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_for(request, pk)
    return render(
        request, "registry/_progress.html", {"batch": batch, "running": batch.status in RUNNING}
    )


@login_required
def batch_report(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_for(request, pk)
    response = HttpResponse(
        error_report_xlsx(batch_row_errors(batch)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="registry-batch-{batch.pk}-report.xlsx"'
    )
    return response
