"""Reads of the registry used by the pages and the REST API (internal query API).

Lookups normalise their input with the core validators (a 15-digit ID number is upgraded,
an old organization code is mapped to its credit code). Views get masked values from
`person_card` / `organization_card`; full values only through `reveal_person`, which
checks the right and writes the audit entry (identity.masking.reveal).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digitalcity.core.ids import parse_citizen_id, parse_org_code, parse_uscc
from digitalcity.core.models import Division
from digitalcity.identity.masking import mask_address, mask_id_number, mask_name, reveal

from .choices import Entity
from .fields import GOLDEN_FIELDS, choice_label, field_label
from .golden import name_pinyin
from .models import (
    Organization,
    OrganizationVersion,
    Person,
    PersonVersion,
    Source,
)

__all__ = [
    "FieldRow",
    "exists",
    "normalise_id_number",
    "normalise_uscc",
    "organization_as_of",
    "organization_by_code",
    "organization_card",
    "person_as_of",
    "person_by_id_number",
    "person_card",
    "provenance",
    "reveal_person",
    "search_people",
]

SEARCH_LIMIT = 50
_DERIVED = {
    (Entity.PERSON, "birth_date"): gettext_lazy("由公民身份号码推算"),
    (Entity.PERSON, "sex"): gettext_lazy("由公民身份号码推算"),
    (Entity.PERSON, "status"): gettext_lazy("由死亡日期推定或默认"),
    (Entity.ORGANIZATION, "org_code"): gettext_lazy("取自统一社会信用代码第 9–17 位"),
}
_MASKERS = {"id_number": mask_id_number, "name": mask_name, "registered_address": mask_address}


def normalise_id_number(text: str) -> str:
    """The 18-digit form of a citizen ID number (ValidationError naming the rule)."""
    return parse_citizen_id(text).number


def normalise_uscc(text: str) -> str:
    """A credit code, or the credit code an old organization code maps to."""
    value = (text or "").strip()
    try:
        return parse_uscc(value).code
    except ValidationError:
        if len(value.replace("-", "")) != 9:
            raise
    org = parse_org_code(value).code
    uscc = Organization.objects.filter(org_code=org).values_list("uscc", flat=True).first()
    if uscc is None:
        raise ValidationError(
            _("组织机构代码 %(code)s 没有对应的统一社会信用代码") % {"code": org},
            code="org_code_unmapped",
        )
    return uscc


def person_by_id_number(text: str) -> Person | None:
    return (
        Person.objects.select_related("division")
        .filter(id_number=normalise_id_number(text))
        .first()
    )


def organization_by_code(text: str) -> Organization | None:
    try:
        code = normalise_uscc(text)
    except ValidationError as exc:
        if exc.code == "org_code_unmapped":
            return None
        raise
    return Organization.objects.select_related("division").filter(uscc=code).first()


def exists(entity: str, text: str) -> bool:
    """Whether a golden record exists for an ID number / credit code (or org code)."""
    if entity == Entity.PERSON:
        return Person.objects.filter(id_number=normalise_id_number(text)).exists()
    try:
        return Organization.objects.filter(uscc=normalise_uscc(text)).exists()
    except ValidationError as exc:
        if exc.code == "org_code_unmapped":
            return False
        raise


def search_people(
    *, name: str, birth_date: datetime.date | None = None, division: str = ""
) -> QuerySet[Person]:
    """People by name (exact, or by pinyin) with a birth date or a division code prefix.

    A name alone is refused: the registry is not a directory to browse.
    """
    name = (name or "").strip()
    division = (division or "").strip()
    if not name or (birth_date is None and not division):
        raise ValidationError(
            _("按姓名查询须同时提供出生日期或行政区划代码"), code="search_too_broad"
        )
    query = (
        Q(name=name) | Q(name_pinyin=name_pinyin(name))
        if not name.isascii()
        else Q(name_pinyin=name.lower())
    )
    people = Person.objects.filter(query).select_related("division")
    if birth_date is not None:
        people = people.filter(birth_date=birth_date)
    if division:
        people = people.filter(division__code__startswith=division)
    return people.order_by("id_number")[:SEARCH_LIMIT]


def person_as_of(text: str, date: datetime.date) -> dict[str, str] | None:
    """The golden record of the ID number as it stood on `date` (its snapshot), or None
    if the registry did not know the person then."""
    number = normalise_id_number(text)
    version = (
        PersonVersion.objects.filter(person__id_number=number, valid_from__lte=date)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=date))
        .order_by("-version")
        .first()
    )
    return dict(version.snapshot) if version else None


def organization_as_of(text: str, date: datetime.date) -> dict[str, str] | None:
    code = normalise_uscc(text)
    version = (
        OrganizationVersion.objects.filter(organization__uscc=code, valid_from__lte=date)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=date))
        .order_by("-version")
        .first()
    )
    return dict(version.snapshot) if version else None


@dataclass(frozen=True)
class FieldRow:
    field: str
    label: str
    value: str
    source: str
    batch_id: int | None
    record_id: int | None
    updated_at: datetime.datetime | None


def provenance(subject: Person | Organization) -> list[FieldRow]:
    """Each golden field with its source, batch and time (the current version's
    provenance; two queries)."""
    entity = Entity.PERSON if isinstance(subject, Person) else Entity.ORGANIZATION
    versions: QuerySet[Any] = (
        PersonVersion.objects.filter(person=subject)
        if isinstance(subject, Person)
        else OrganizationVersion.objects.filter(organization=subject)
    )
    current = versions.filter(valid_to__isnull=True).values_list("snapshot", "provenance").first()
    snapshot, origin = current if current else (snapshot_of(subject), {})
    names = dict(
        Source.objects.filter(pk__in={o[0] for o in origin.values()}).values_list("pk", "name")
    )
    rows = []
    for name in GOLDEN_FIELDS[entity]:
        value = origin.get(name)
        derived = ""
        if value is None and snapshot.get(name):
            # Golden values no source gave (golden._derive): say where they come from.
            derived = str(_DERIVED.get((entity, name), _("默认值")))
        rows.append(
            FieldRow(
                field=name,
                label=field_label(entity, name),
                value=snapshot.get(name, ""),
                source=names.get(value[0], "") if value else derived,
                batch_id=value[1] if value else None,
                record_id=value[2] if value else None,
                updated_at=datetime.datetime.fromisoformat(value[3]) if value else None,
            )
        )
    return rows


def _display(
    entity: str, snapshot: dict[str, str], masked: bool, division_names: bool = False
) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in snapshot.items():
        shown = choice_label(entity, name, value)
        if division_names and name == "division" and value:
            division = Division.objects.filter(code=value).values_list("name", flat=True).first()
            shown = f"{division}（{value}）" if division else value
        if masked and entity == Entity.PERSON and name in _MASKERS:
            shown = _MASKERS[name](shown)
        elif masked and name == "legal_representative":
            shown = mask_name(shown)
        out[name] = shown
    return out


def snapshot_of(subject: Person | Organization) -> dict[str, str]:
    entity = Entity.PERSON if isinstance(subject, Person) else Entity.ORGANIZATION
    key = "id_number" if entity == Entity.PERSON else "uscc"
    snapshot = {key: getattr(subject, key)}
    for name in GOLDEN_FIELDS[entity]:
        if name == "division":
            snapshot[name] = subject.division.code if subject.division_id else ""  # type: ignore[union-attr]
            continue
        value = getattr(subject, name)
        snapshot[name] = value.isoformat() if isinstance(value, datetime.date) else str(value or "")
    return snapshot


def person_card(
    person: Person, snapshot: dict[str, str] | None = None, *, division_names: bool = False
) -> dict[str, str]:
    """The person's fields for display, masked (labels for choice codes; with
    `division_names` the division as 名称（代码）, for pages)."""
    return _display(
        Entity.PERSON, snapshot or snapshot_of(person), masked=True, division_names=division_names
    )


def organization_card(
    organization: Organization,
    snapshot: dict[str, str] | None = None,
    *,
    division_names: bool = False,
) -> dict[str, str]:
    return _display(
        Entity.ORGANIZATION,
        snapshot or snapshot_of(organization),
        masked=True,
        division_names=division_names,
    )


def reveal_person(
    *,
    user: Any,
    person: Person,
    reason: str,
    snapshot: dict[str, str] | None = None,
    division_names: bool = False,
) -> dict[str, str]:
    """The person's fields unmasked, after identity's reveal check and audit entry (which
    raises PermissionDenied without the right or the reason)."""
    reveal(user=user, obj=person, field="id_number", reason=reason)
    return _display(
        Entity.PERSON, snapshot or snapshot_of(person), masked=False, division_names=division_names
    )
