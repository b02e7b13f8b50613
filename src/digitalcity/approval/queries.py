"""Reads of the approval service used by views and APIs; scope through the case engine."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from digitalcity.cases.queries import cases_for_user
from digitalcity.core.models import StoredFile
from digitalcity.identity.masking import mask_id_number, mask_name, mask_uscc
from digitalcity.identity.models import AccountKind

from .choices import ApplicantKind
from .models import Application, ApplicationMaterial, Item, ItemMaterial, Licence

__all__ = [
    "applications_for_user",
    "get_application_for_user",
    "get_licence_for_user",
    "items_for",
    "licences_for_staff",
    "mask_holder_number",
    "may_download_material",
]


def items_for(kind: str | None = None, q: str = "") -> QuerySet[Item]:
    """Active items for the portal lists; `kind` citizen / legal_person (ANY fits both)."""
    items = (
        Item.objects.filter(is_active=True)
        .select_related("lead_department")
        .annotate(co_count=Count("co_departments"))
        .order_by("code")
    )
    if kind:
        items = items.filter(applicant_kind__in=(kind, ApplicantKind.ANY))
    if q:
        items = items.filter(Q(name__icontains=q) | Q(code__icontains=q))
    return items


def _visible(user: Any) -> Q:
    # Drafts have no case yet: only their author sees them.
    return Q(case__in=cases_for_user(user)) | Q(case__isnull=True, created_by=user)


def applications_for_user(user: Any) -> QuerySet[Application]:
    if user is None or not user.is_authenticated:
        return Application.objects.none()
    return Application.objects.filter(_visible(user)).select_related(
        "item", "case", "case__department"
    )


def get_application_for_user(user: Any, pk: Any) -> Application:
    """The application if `user` may see it; Http404 otherwise (the outsider learns nothing)."""
    try:
        return (
            applications_for_user(user)
            .select_related("item__lead_department", "applicant", "renews")
            .prefetch_related(
                Prefetch(
                    "materials",
                    queryset=ApplicationMaterial.objects.select_related("material", "file"),
                ),
                Prefetch("item__materials", queryset=ItemMaterial.objects.order_by("order", "id")),
            )
            .get(pk=int(pk))
        )
    except (Application.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("申请不存在或无权访问") from exc


def get_licence_for_user(user: Any, pk: Any) -> Licence:
    """A licence its holder, or staff who may see its case, may open."""
    try:
        return (
            Licence.objects.filter(application__in=applications_for_user(user))
            .select_related("item", "department", "application__case")
            .get(pk=int(pk))
        )
    except (Licence.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("证照不存在或无权访问") from exc


def licences_for_staff(user: Any, q: str = "") -> QuerySet[Licence]:
    """Licence search for staff: those of cases they may see (supervisors: all)."""
    if (
        user is None
        or not user.is_authenticated
        or user.kind
        not in (
            AccountKind.STAFF,
            AccountKind.ADMIN,
        )
    ):
        return Licence.objects.none()
    licences = Licence.objects.filter(application__case__in=cases_for_user(user)).select_related(
        "item", "department"
    )
    q = q.strip()
    if q:
        licences = licences.filter(
            Q(number__icontains=q) | Q(holder_name__icontains=q) | Q(holder_number=q.upper())
        )
    return licences.order_by("-issued_on", "-id")


def mask_holder_number(number: str) -> str:
    # A citizen ID starts with six digits of the division code, a USCC with letters or
    # "91…": both are 18 characters, so tell them by the check digits' rule set.
    from digitalcity.core.ids import validate_citizen_id

    try:
        validate_citizen_id(number)
        return mask_id_number(number)
    except Exception:
        return mask_uscc(number)


def mask_holder_name(name: str, number: str) -> str:
    """Persons' names masked; an organisation's name is public (企业信息公示)."""
    from digitalcity.core.ids import validate_citizen_id

    try:
        validate_citizen_id(number)
        return mask_name(name)
    except Exception:
        return name


def may_download_material(user: Any, stored: StoredFile) -> bool:
    """Staff who may see an application holding the file may download it."""
    return ApplicationMaterial.objects.filter(
        file=stored, application__in=applications_for_user(user)
    ).exists()


def may_download_template(user: Any, stored: StoredFile) -> bool:
    """A material template (样表) of an active item is public: anyone signed in."""
    return ItemMaterial.objects.filter(template=stored, item__is_active=True).exists()
