"""registry REST endpoints (/api/registry/): lookups, exists, search, as-of reads, and
the API push of a source's rows. docs/registry.md "API".

Reads need a signed-in account allowed to use the registry (registry.permissions);
values are masked unless `reveal=1` with a `reason`, which needs the reveal right and
is written to the audit log. A push authenticates with the source's token
(`Authorization: Bearer …`) or a staff session allowed to import for that source.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import HttpBearer, django_auth

from .choices import BatchStatus, Entity
from .imports import import_rows
from .models import ImportBatch, Source
from .permissions import batches_for, can_import, require_registry
from .queries import (
    exists,
    organization_as_of,
    organization_by_code,
    organization_card,
    person_as_of,
    person_by_id_number,
    person_card,
    reveal_person,
    search_people,
    snapshot_of,
)
from .services import source_for_token

router = Router(tags=["registry"])


class SourceToken(HttpBearer):
    """A source's push token (services.issue_push_token)."""

    def authenticate(self, request: HttpRequest, token: str) -> Source | None:
        return source_for_token(token)


class ExistsOut(Schema):
    exists: bool


class RecordOut(Schema):
    entity: str
    key: str
    masked: bool
    as_of: datetime.date | None = None
    fields: dict[str, str]


class PushIn(Schema):
    rows: list[dict[str, Any]]
    data_date: datetime.date | None = None


class ProblemOut(Schema):
    row: int
    field: str
    rule: str
    level: str


class BatchOut(Schema):
    id: int
    source: str
    status: str
    rows_total: int
    rows_failed: int
    rows_new: int
    rows_changed: int
    rows_unchanged: int
    progress: int
    message: str
    problems: list[ProblemOut]


def _user(request: HttpRequest) -> Any:
    try:
        require_registry(request.user)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return request.user


def _bad(exc: ValidationError) -> HttpError:
    return HttpError(400, "；".join(exc.messages))


def _masked_person(person: Any) -> RecordOut:
    fields = person_card(person)
    return RecordOut(entity=Entity.PERSON, key=fields["id_number"], masked=True, fields=fields)


@router.get("/people/exists", response=ExistsOut, auth=django_auth)
def person_exists(request: HttpRequest, id_number: str) -> ExistsOut:
    _user(request)
    try:
        return ExistsOut(exists=exists(Entity.PERSON, id_number))
    except ValidationError as exc:
        raise _bad(exc) from None


@router.get("/people", response=list[RecordOut], auth=django_auth)
def people_search(
    request: HttpRequest,
    name: str,
    birth_date: datetime.date | None = None,
    division: str = "",
) -> list[RecordOut]:
    """By name (or its pinyin) with a birth date or a division code prefix; masked."""
    _user(request)
    try:
        people = list(search_people(name=name, birth_date=birth_date, division=division))
    except ValidationError as exc:
        raise _bad(exc) from None
    return [_masked_person(p) for p in people]


@router.get("/people/{id_number}", response=RecordOut, auth=django_auth)
def person_detail(
    request: HttpRequest,
    id_number: str,
    as_of: datetime.date | None = None,
    reveal: bool = False,
    reason: str = "",
) -> RecordOut:
    """One person; `as_of` reads the version valid on that date; `reveal=1&reason=…`
    unmasks (needs the right; audited)."""
    user = _user(request)
    try:
        person = person_by_id_number(id_number)
    except ValidationError as exc:
        raise _bad(exc) from None
    if person is None:
        raise HttpError(404, _("基础数据库中没有该公民身份号码"))
    snapshot = snapshot_of(person)
    if as_of is not None:
        found = person_as_of(person.id_number, as_of)
        if found is None:
            raise HttpError(404, _("该日期时基础数据库尚无此人记录"))
        snapshot = found
    if reveal:
        try:
            fields = reveal_person(user=user, person=person, reason=reason, snapshot=snapshot)
        except PermissionDenied as exc:
            raise HttpError(403, str(exc)) from None
    else:
        fields = person_card(person, snapshot)
    return RecordOut(
        entity=Entity.PERSON, key=fields["id_number"], masked=not reveal, as_of=as_of, fields=fields
    )


@router.get("/organizations/exists", response=ExistsOut, auth=django_auth)
def organization_exists(request: HttpRequest, code: str) -> ExistsOut:
    _user(request)
    try:
        return ExistsOut(exists=exists(Entity.ORGANIZATION, code))
    except ValidationError as exc:
        raise _bad(exc) from None


@router.get("/organizations/{code}", response=RecordOut, auth=django_auth)
def organization_detail(
    request: HttpRequest, code: str, as_of: datetime.date | None = None
) -> RecordOut:
    """One legal entity by credit code (or old organization code); as of a date."""
    _user(request)
    try:
        organization = organization_by_code(code)
    except ValidationError as exc:
        raise _bad(exc) from None
    if organization is None:
        raise HttpError(404, _("基础数据库中没有该统一社会信用代码"))
    snapshot = snapshot_of(organization)
    if as_of is not None:
        found = organization_as_of(organization.uscc, as_of)
        if found is None:
            raise HttpError(404, _("该日期时基础数据库尚无此法人记录"))
        snapshot = found
    return RecordOut(
        entity=Entity.ORGANIZATION,
        key=organization.uscc,
        masked=True,
        as_of=as_of,
        fields=organization_card(organization, snapshot),
    )


def _batch_out(batch: ImportBatch) -> BatchOut:
    return BatchOut(
        id=batch.pk,
        source=batch.source.code,
        status=batch.status,
        rows_total=batch.rows_total,
        rows_failed=batch.rows_failed,
        rows_new=batch.rows_new,
        rows_changed=batch.rows_changed,
        rows_unchanged=batch.rows_unchanged,
        progress=batch.progress,
        message=batch.message,
        problems=[ProblemOut(**p) for p in batch.error_report[:200]],
    )


@router.post(
    "/sources/{code}/batches",
    response={200: BatchOut, 422: BatchOut},
    auth=[SourceToken(), django_auth],
)
def push_batch(request: HttpRequest, code: str, payload: PushIn) -> Status[BatchOut]:
    """Push rows (objects keyed by the source's column headers) as one batch: 200 when
    loaded (or the same content was loaded before), 422 with the per-row problems when
    refused."""
    source = Source.objects.filter(code=code, active=True).first()
    if source is None:
        raise HttpError(404, _("数据来源不存在或已停用"))
    caller = request.auth  # type: ignore[attr-defined]
    if isinstance(caller, Source):
        if caller.pk != source.pk:
            raise HttpError(403, _("推送令牌不属于该数据来源"))
        actor = None
    else:
        if not can_import(request.user, source):
            raise HttpError(403, _("您没有为该数据来源导入数据的权限"))
        actor = request.user
    batch = import_rows(source=source, rows=payload.rows, actor=actor, data_date=payload.data_date)
    return Status(422 if batch.status == BatchStatus.REFUSED else 200, _batch_out(batch))


@router.get("/batches/{batch_id}", response=BatchOut, auth=django_auth)
def batch_detail(request: HttpRequest, batch_id: int) -> BatchOut:
    _user(request)
    batch = batches_for(request.user).filter(pk=batch_id).first()
    if batch is None:
        raise HttpError(404, _("批次不存在或无权查看"))
    return _batch_out(batch)
