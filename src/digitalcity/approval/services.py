"""Every write of the approval service (STYLE.md 4): keyword-only functions, one
transaction each; the case engine's services are called inside it, so a refusal anywhere
leaves nothing behind. Bad input raises ValidationError (Chinese, keyed by field), a
refused action PermissionDenied.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from digitalcity.cases import services as cases
from digitalcity.cases.choices import ACTIVE_TASK_STATES, CaseChannel, TaskOutcome
from digitalcity.cases.models import Case, Clock, Task
from digitalcity.core.files import store_upload
from digitalcity.core.ids import validate_citizen_id, validate_uscc
from digitalcity.core.models import Membership, MembershipRole, NotificationChannel
from digitalcity.core.notifications.services import notify
from digitalcity.core.numbering import next_number
from digitalcity.identity.models import AccountKind, User
from digitalcity.identity.permissions import is_admin

from .choices import ApplicantKind, ItemKind, LicenceStatus, PauseKind
from .formspec import clean_form_data
from .models import Application, ApplicationMaterial, Item, ItemMaterial, Licence
from .workflow import GUARD_KEY, PAUSE_STATES

__all__ = [
    "MATERIAL_KINDS",
    "RECONSIDERATION_NOTICE",
    "applicant_refusal",
    "application_accept",
    "application_apply",
    "application_ask_correction",
    "application_correct",
    "application_extend",
    "application_grant",
    "application_pause",
    "application_refuse",
    "application_reject",
    "application_resume",
    "application_save_draft",
    "application_submit",
    "application_withdraw",
    "handler_departments",
    "licence_deliver",
    "licence_revoke",
    "material_set_template",
    "preliminary_opinion",
    "renewal_blocker",
    "renewal_refusal",
    "renewal_window",
    "reusable_material",
    "review_opinion",
    "stage_limit",
    "task_departments",
]

#: What an applicant may upload as a material (checked by content, core.files).
MATERIAL_KINDS = ("pdf", "jpg", "png", "ofd", "docx", "xlsx")
MATERIAL_PURPOSE = "approval-material"
#: Blank forms and samples (样表) of a material: public, downloadable by anyone signed in.
TEMPLATE_PURPOSE = "approval-template"
TEMPLATE_KINDS = ("pdf", "docx", "xlsx", "ofd")
#: Told with every refusal (Art. 38 of the Administrative Licensing Law).
RECONSIDERATION_NOTICE = (
    "如不服本决定，可自收到本决定之日起六十日内依法申请行政复议，"
    "或者自收到本决定之日起六个月内依法向人民法院提起行政诉讼。"
)
_HANDLER_ROLES = (MembershipRole.WINDOW, MembershipRole.CLERK, MembershipRole.HEAD)
#: Art. 50: a renewal must be applied for at least this many (calendar) days before
#: expiry — the applicant's own deadline, not an agency limit, so not working days (Art. 82).
RENEWAL_LEAD_DAYS = 30
#: The renewal window opens this many days before expiry (the city's rule, docs/approval.md).
RENEWAL_OPENS_DAYS = 90


# --- helpers ---------------------------------------------------------------------


def _guarded(data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {**dict(data or {}), GUARD_KEY: True}


def _locked(application: Application) -> Application:
    """Re-read and lock the application row (one change at a time)."""
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("item", "case", "applicant")
        .get(pk=application.pk)
    )


def handler_departments(actor: Any) -> set[int]:
    """Departments where `actor` handles cases (window, clerk or head)."""
    if actor is None or not actor.is_authenticated:
        return set()
    return set(
        Membership.objects.filter(
            user=actor, is_active=True, department__is_active=True, role__in=_HANDLER_ROLES
        ).values_list("department_id", flat=True)
    )


def _tell_applicant(application: Application, subject: str, body: str) -> None:
    if application.applicant_id is None:
        return
    recipient = application.applicant
    transaction.on_commit(
        lambda: notify(
            channel=NotificationChannel.SITE,
            recipient=recipient,
            subject=subject,
            body=body,
            template="approval/notice",
        )
    )


def _applicant_kind_of(number: str) -> str:
    """The applicant kind an ID number or USCC denotes; ValidationError if neither."""
    try:
        validate_citizen_id(number)
        return ApplicantKind.CITIZEN
    except ValidationError:
        pass
    try:
        validate_uscc(number)
        return ApplicantKind.LEGAL_PERSON
    except ValidationError:
        raise ValidationError(
            {"applicant_number": _("证件号码：须为有效的身份证号码或统一社会信用代码")}
        ) from None


def _check_kind(item: Item, kind: str) -> None:
    if item.applicant_kind != ApplicantKind.ANY and kind != item.applicant_kind:
        raise ValidationError(
            {
                "applicant": _("申请人类型不符：“%(item)s”只受理%(want)s申请，申请人为%(got)s")
                % {
                    "item": item.name,
                    "want": ApplicantKind(item.applicant_kind).label,
                    "got": ApplicantKind(kind).label,
                }
            }
        )


def applicant_refusal(item: Item, actor: Any) -> str:
    """Why a signed-in citizen or enterprise cannot apply for `item` online (Chinese, shown
    before they fill anything in); "" if they can, or for staff (decided on submission)."""
    kinds: dict[str, str] = {
        AccountKind.CITIZEN: ApplicantKind.CITIZEN,
        AccountKind.LEGAL_PERSON: ApplicantKind.LEGAL_PERSON,
    }
    kind = kinds.get(str(getattr(actor, "kind", "")))
    if kind is None:
        return ""
    if item.applicant_kind != ApplicantKind.ANY and kind != item.applicant_kind:
        return _("“%(item)s”只受理%(want)s申请，您当前登录的是%(got)s账户") % {
            "item": item.name,
            "want": ApplicantKind(item.applicant_kind).label,
            "got": ApplicantKind(kind).label,
        }
    if not item.online:
        return _("“%(i)s”暂不支持网上申请，请到窗口办理") % {"i": item.name}
    return ""


def _applicant(*, item: Item, actor: Any, on_behalf: Mapping[str, str] | None) -> dict[str, Any]:
    """Who applies: the signed-in citizen or enterprise, or (window staff) someone else."""
    if actor.kind in (AccountKind.CITIZEN, AccountKind.LEGAL_PERSON):
        if on_behalf:
            raise PermissionDenied(_("市民或法人只能以本人名义申请"))
        if actor.kind == AccountKind.CITIZEN:
            kind: str = ApplicantKind.CITIZEN
            name, number = actor.real_name, actor.id_number or ""
        else:
            kind, name, number = ApplicantKind.LEGAL_PERSON, actor.org_name, actor.uscc or ""
        _check_kind(item, kind)
        if not item.online:
            raise ValidationError(
                {"item": _("“%(i)s”暂不支持网上申请，请到窗口办理") % {"i": item.name}}
            )
        return {
            "applicant": actor,
            "applicant_kind": kind,
            "applicant_name": name,
            "applicant_number": number,
            "applicant_phone": actor.phone or "",
            "channel": CaseChannel.ONLINE,
        }
    if not (is_admin(actor) or item.lead_department_id in handler_departments(actor)):
        raise PermissionDenied(
            _("只有牵头部门的窗口或承办人员可以代为申请“%(i)s”") % {"i": item.name}
        )
    data = dict(on_behalf or {})
    name = (data.get("name") or "").strip()
    number = (data.get("number") or "").strip().upper()
    errors: dict[str, str] = {}
    if not name:
        errors["applicant_name"] = _("申请人：代为申请须填写申请人姓名或名称")
    if not number:
        errors["applicant_number"] = _("证件号码：代为申请须填写身份证号码或统一社会信用代码")
    if errors:
        raise ValidationError(errors)
    kind = _applicant_kind_of(number)
    _check_kind(item, kind)
    field = "id_number" if kind == ApplicantKind.CITIZEN else "uscc"
    account = User.objects.filter(**{field: number}, is_active=True).first()
    return {
        "applicant": account,
        "applicant_kind": kind,
        "applicant_name": name,
        "applicant_number": number,
        "applicant_phone": (data.get("phone") or "").strip(),
        "channel": CaseChannel.WINDOW,
    }


def _store_materials(
    application: Application,
    *,
    actor: Any,
    uploads: Mapping[str, File[Any]],
    reuse: Sequence[str],
) -> None:
    """Attach uploads (by material code) and reuse earlier uploads of the same applicant."""
    materials = {m.code: m for m in application.item.materials.all()}
    errors: dict[str, str] = {}
    for code in [*uploads, *reuse]:
        if code not in materials:
            errors[code] = _("“%(c)s”不是本事项的申请材料") % {"c": code}
    if errors:
        raise ValidationError(errors)
    for code, upload in uploads.items():
        material = materials[code]
        stored = store_upload(
            upload=upload,
            purpose=MATERIAL_PURPOSE,
            allowed_kinds=MATERIAL_KINDS,
            actor=actor,
            field=material.name,
            dedup=True,
        )
        ApplicationMaterial.objects.update_or_create(
            application=application,
            material=material,
            defaults={"file": stored, "shared": False, "added_at": timezone.now()},
        )
    for code in reuse:
        if code in uploads:
            continue
        earlier = reusable_material(application, code)
        if earlier is None:
            raise ValidationError(
                {code: _("%(m)s：没有可复用的已上传材料") % {"m": materials[code].name}}
            )
        ApplicationMaterial.objects.update_or_create(
            application=application,
            material=materials[code],
            defaults={"file_id": earlier.file_id, "shared": False, "added_at": timezone.now()},
        )


def reusable_material(application: Application, code: str) -> ApplicationMaterial | None:
    """The applicant's latest earlier upload of a material with this code (any item)."""
    if not application.applicant_number:
        return None
    earlier = ApplicationMaterial.objects.filter(
        application__applicant_number=application.applicant_number,
        material__code=code,
        file__isnull=False,
    )
    if application.pk is not None:
        earlier = earlier.exclude(application=application)
    return earlier.select_related("file").order_by("-added_at", "-id").first()


def _missing_materials(application: Application) -> list[ItemMaterial]:
    have = set(
        application.materials.filter(file__isnull=False).values_list("material_id", flat=True)
    )
    return [
        m
        for m in application.item.materials.all()
        if m.required and not m.shared and m.pk not in have
    ]


def task_departments(item: Item) -> list[int]:
    """Who reviews: the lead and every co-department; 即办件 the lead department alone."""
    if item.kind == ItemKind.IMMEDIATE:
        return [item.lead_department_id]
    return [item.lead_department_id, *item.co_departments.values_list("pk", flat=True)]


# --- catalog ------------------------------------------------------------------------


def material_set_template(
    *, material: ItemMaterial, actor: Any, upload: File[Any] | None
) -> ItemMaterial:
    """Attach (or, with `upload` None, remove) the material's template file (样表):
    checked by content (PDF, Word, Excel or OFD); by an administrator or the lead
    department's staff. Templates are public (queries.may_download_template)."""
    if not (is_admin(actor) or material.item.lead_department_id in handler_departments(actor)):
        raise PermissionDenied(_("只有牵头部门工作人员或系统管理员可以维护样表"))
    with transaction.atomic():
        material = ItemMaterial.objects.select_for_update().get(pk=material.pk)
        stored = None
        if upload is not None:
            stored = store_upload(
                upload=upload,
                purpose=TEMPLATE_PURPOSE,
                allowed_kinds=TEMPLATE_KINDS,
                actor=actor,
                field=_("%(m)s的样表") % {"m": material.name},
                dedup=True,
            )
        material.template = stored
        material.save(update_fields=["template"])
    return material


# --- apply -------------------------------------------------------------------------


def application_save_draft(
    *,
    item: Item,
    actor: Any,
    form_data: Mapping[str, Any],
    uploads: Mapping[str, File[Any]] | None = None,
    reuse: Sequence[str] = (),
    on_behalf: Mapping[str, str] | None = None,
    application: Application | None = None,
    renews: Licence | None = None,
) -> Application:
    """Save (or update) a draft: what is filled must be valid, nothing is yet required."""
    if not item.is_active:
        raise ValidationError({"item": _("事项“%(i)s”已停用") % {"i": item.name}})
    with transaction.atomic():
        who = _applicant(item=item, actor=actor, on_behalf=on_behalf)
        data = clean_form_data(item.form_spec, dict(form_data), partial=True)
        if application is None:
            application = Application(item=item, created_by=actor, renews=renews, **who)
        else:
            application = _locked(application)
            if not application.is_draft:
                raise ValidationError({"application": _("申请已提交，不能再作为草稿修改")})
            if application.created_by_id != actor.pk:
                raise PermissionDenied(_("只能修改本人填报的草稿"))
            for key, value in who.items():
                setattr(application, key, value)
        if renews is not None:
            _check_renewal(renews, who, application.pk)
        application.form_data = data
        application.save()
        _store_materials(application, actor=actor, uploads=uploads or {}, reuse=reuse)
        # Materials the item marks obtainable by sharing need no upload.
        for material in item.materials.filter(shared=True):
            ApplicationMaterial.objects.get_or_create(
                application=application, material=material, defaults={"shared": True}
            )
    return application


def renewal_window(licence: Licence) -> tuple[datetime.date, datetime.date] | None:
    """First and last day (inclusive) a renewal of `licence` may be applied for: from
    90 days before expiry up to 30 days before (Art. 50); None without an expiry date."""
    if licence.valid_until is None:
        return None
    return (
        licence.valid_until - datetime.timedelta(days=RENEWAL_OPENS_DAYS),
        licence.valid_until - datetime.timedelta(days=RENEWAL_LEAD_DAYS),
    )


def renewal_refusal(licence: Licence, today: datetime.date | None = None) -> str:
    """Why `licence` cannot be renewed today (Chinese, for the holder); "" if it can."""
    today = today or timezone.localdate()
    window = renewal_window(licence)
    if licence.status != LicenceStatus.VALID or window is None:
        return _("只有有效且有期限的证照可以申请延续")
    assert licence.valid_until is not None  # noqa: S101 - window is not None
    if licence.valid_until < today:
        return _("证照已过有效期，不能延续，请重新申请许可")
    opens, last = window
    if today < opens:
        return _("延续申请自有效期届满前 90 日起受理：本证照有效期至 %(u)s，%(o)s 起可申请延续") % {
            "u": licence.valid_until.isoformat(),
            "o": opens.isoformat(),
        }
    if today > last:
        return _(
            "《行政许可法》第五十条：延续须在有效期届满 30 日前提出。本证照有效期至 %(u)s，"
            "最迟应于 %(l)s 申请，现已不能延续；有效期届满后请重新申请许可"
        ) % {"u": licence.valid_until.isoformat(), "l": last.isoformat()}
    return ""


def renewal_blocker(licence: Licence, *, current: int | None = None) -> str:
    """renewal_refusal, or a renewal of it already under way; "" if one may be applied for."""
    refusal = renewal_refusal(licence)
    if refusal:
        return refusal
    pending_rows = Application.objects.filter(
        renews=licence, case__isnull=False, case__closed_at__isnull=True
    )
    if current is not None:
        pending_rows = pending_rows.exclude(pk=current)
    pending = pending_rows.select_related("case").first()
    if pending is not None and pending.case is not None:
        return _("该证照已有办理中的延续申请 %(n)s") % {"n": pending.case.number}
    return ""


def _check_renewal(licence: Licence, who: Mapping[str, Any], current: int | None = None) -> None:
    if licence.holder_number != who["applicant_number"]:
        raise PermissionDenied(_("只有持证人可以申请延续该证照"))
    blocker = renewal_blocker(licence, current=current)
    if blocker:
        raise ValidationError({"renews": blocker})


def application_submit(*, application: Application, actor: Any) -> Application:
    """Submit a draft: the form complete and valid, every required material present;
    opens its case (numbered SP-YYYY-NNNNNN) with the item's limits."""
    with transaction.atomic():
        application = _locked(application)
        if not application.is_draft:
            raise ValidationError({"application": _("申请已提交")})
        if application.created_by_id != actor.pk:
            raise PermissionDenied(_("只能提交本人填报的申请"))
        item = application.item
        if not item.is_active:
            raise ValidationError({"item": _("事项“%(i)s”已停用") % {"i": item.name}})
        errors: dict[str, Any] = {}
        try:
            application.form_data = clean_form_data(item.form_spec, application.form_data)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        for material in _missing_materials(application):
            errors[material.code] = [_("缺少必需材料：%(m)s") % {"m": material.name}]
        # A renewal draft saved in the window may be submitted only while it is still open.
        refusal = renewal_refusal(application.renews) if application.renews else ""
        if refusal:
            errors["renews"] = [refusal]
        if errors:
            raise ValidationError(errors)
        from digitalcity.core.models import Department

        co = list(item.co_departments.filter(is_active=True))
        lead = Department.objects.select_related("division").get(pk=item.lead_department_id)
        case = cases.case_open(
            type_code="approval.licence",
            subject=(
                _("%(item)s（延续）") % {"item": item.name} if application.renews_id else item.name
            ),
            actor=actor,
            department=lead,
            # The handling division (city or county center) is the lead department's.
            division=lead.division,
            channel=application.channel,
            applicant=application.applicant,
            applicant_name=application.applicant_name,
            applicant_phone=application.applicant_phone,
            co_departments=co,
            clock_limits={"legal": item.legal_days, "promised": item.promised_days},
            data={"item": item.code},
        )
        application.case = case
        application.submitted_at = case.opened_at
        application.save(update_fields=["case", "form_data", "submitted_at", "updated_at"])
    return application


def application_apply(
    *,
    item: Item,
    actor: Any,
    form_data: Mapping[str, Any],
    uploads: Mapping[str, File[Any]] | None = None,
    reuse: Sequence[str] = (),
    on_behalf: Mapping[str, str] | None = None,
    renews: Licence | None = None,
) -> Application:
    """Apply in one step (a draft saved and submitted in one transaction)."""
    with transaction.atomic():
        application = application_save_draft(
            item=item,
            actor=actor,
            form_data=form_data,
            uploads=uploads,
            reuse=reuse,
            on_behalf=on_behalf,
            renews=renews,
        )
        return application_submit(application=application, actor=actor)


def application_withdraw(*, application: Application, actor: Any, reason: str = "") -> Case:
    with transaction.atomic():
        application = _locked(application)
        return _move(application, "withdraw", actor, {}, reason or _("申请人撤回"))


# --- acceptance --------------------------------------------------------------------


def _case(application: Application) -> Case:
    if application.case is None:
        raise ValidationError({"application": _("草稿尚未提交")})
    return application.case


def _move(
    application: Application,
    transition: str,
    actor: Any,
    data: Mapping[str, Any],
    reason: str = "",
) -> Case:
    return cases.case_transition(
        case=_case(application),
        transition=transition,
        actor=actor,
        input=_guarded(data),
        reason=reason,
    )


def application_accept(*, application: Application, actor: Any, opinion: str = "") -> Application:
    """Accept (受理): every required material present; starts the legal and promised
    clocks and gives each department (lead and co) its review task with a stage clock.
    Hook point "accept" runs other services' checks (none registered yet)."""
    with transaction.atomic():
        application = _locked(application)
        missing = _missing_materials(application)
        if missing:
            raise ValidationError(
                {
                    "materials": _("材料不全，不能受理，请一次性告知补正：%(m)s")
                    % {"m": "、".join(m.name for m in missing)}
                }
            )
        _accept(application, actor, "accept", opinion or _("材料齐全，符合法定形式，予以受理"))
    return application


def _accept(application: Application, actor: Any, transition: str, opinion: str) -> None:
    item = application.item
    if item.preliminary_department_id is not None:
        # Art. 43: the county department reviews first (20 working days, its own clock).
        _move(
            application,
            "accept_preliminary",
            actor,
            {"opinion": opinion, "departments": [item.preliminary_department_id]},
            opinion,
        )
        return
    case = _move(application, transition, actor, {"opinion": opinion}, opinion)
    cases.task_create(
        case=case,
        spec="review",
        departments=task_departments(item),
        actor=actor,
        limit=stage_limit(item),
    )


def stage_limit(item: Item) -> int:
    """Each department's review stage (working days): the item's 审查时限, never beyond
    its promised limit. Used by a normal and a deemed (Art. 32) acceptance alike."""
    return min(item.review_days, item.promised_days)


def application_ask_correction(
    *, application: Application, actor: Any, items: Sequence[Mapping[str, str]]
) -> Application:
    """Ask for correction, listing ALL missing or defective materials at once (Art. 32).

    `items`: [{"material": <material code or "" for the form>, "problem": text}, …].
    Before acceptance the acceptance clock stops (5 days restart on the corrected
    materials); during review every clock pauses until the applicant corrects.
    """
    with transaction.atomic():
        application = _locked(application)
        case = _case(application)
        materials = {m.code: m.name for m in application.item.materials.all()}
        cleaned: list[dict[str, str]] = []
        errors: list[str] = []
        for index, entry in enumerate(items, start=1):
            code = (entry.get("material") or "").strip()
            problem = (entry.get("problem") or "").strip()
            if code and code not in materials:
                errors.append(_("第 %(i)d 项：“%(c)s”不是本事项的材料") % {"i": index, "c": code})
            if not problem:
                errors.append(_("第 %(i)d 项：须写明需补正的问题") % {"i": index})
            cleaned.append(
                {"material": code, "name": materials.get(code, _("申请表")), "problem": problem}
            )
        if not cleaned:
            errors.append(_("补正告知须至少列出一项需补正的内容"))
        if errors:
            raise ValidationError({"items": errors})
        opinion = "；".join(f"{c['name']}：{c['problem']}" for c in cleaned)
        transition = "ask_correction_pre" if case.state == "submitted" else "ask_correction"
        _move(application, transition, actor, {"opinion": opinion, "items": cleaned}, opinion)
        application.correction_items = cleaned
        application.save(update_fields=["correction_items", "updated_at"])
        _tell_applicant(
            application,
            _("请补正申请材料"),
            _("您的申请 %(n)s 需补正：%(o)s") % {"n": case.number, "o": opinion},
        )
    return application


def application_correct(
    *,
    application: Application,
    actor: Any,
    uploads: Mapping[str, File[Any]] | None = None,
    form_data: Mapping[str, Any] | None = None,
    note: str = "",
) -> Application:
    """Submit the correction: a new file for every material listed, and the form again if
    it was listed. Resumes the clocks (or restarts acceptance's 5 days)."""
    uploads = dict(uploads or {})
    with transaction.atomic():
        application = _locked(application)
        case = _case(application)
        if case.state not in ("pre_correction", "correction"):
            raise ValidationError({"application": _("该申请当前无需补正")})
        wanted = [c for c in application.correction_items if c.get("material")]
        errors: dict[str, str] = {}
        for entry in wanted:
            if entry["material"] not in uploads:
                errors[entry["material"]] = _("须重新上传：%(m)s（%(p)s）") % {
                    "m": entry["name"],
                    "p": entry["problem"],
                }
        if errors:
            raise ValidationError(errors)
        if form_data is not None:
            application.form_data = clean_form_data(application.item.form_spec, dict(form_data))
        elif any(not c.get("material") for c in application.correction_items):
            raise ValidationError({"form": _("补正内容包括申请表，须重新填写申请表")})
        _store_materials(application, actor=actor, uploads=uploads, reuse=())
        transition = "correct_pre" if case.state == "pre_correction" else "correct"
        _move(
            application,
            transition,
            actor,
            {
                "materials": sorted(uploads),
                "channel": "online" if actor.pk == application.applicant_id else "window",
            },
            note,
        )
        application.correction_items = []
        application.save(update_fields=["form_data", "correction_items", "updated_at"])
    return application


def application_reject(
    *, application: Application, actor: Any, reasons: str, legal_basis: str
) -> Application:
    """Not accepted (不予受理), with written reasons and the legal basis (Art. 32)."""
    with transaction.atomic():
        application = _locked(application)
        _decide_against(application, actor, "reject", reasons, legal_basis)
    return application


def _decide_against(
    application: Application, actor: Any, transition: str, reasons: str, legal_basis: str
) -> None:
    reasons, legal_basis = (reasons or "").strip(), (legal_basis or "").strip()
    errors = {}
    if not reasons:
        errors["reasons"] = _("理由：不予受理或不予许可必须书面说明理由")
    if not legal_basis:
        errors["legal_basis"] = _("法律依据：必须写明所依据的法律条款")
    if errors:
        raise ValidationError(errors)
    text = f"{reasons}（{_('依据')}：{legal_basis}）{RECONSIDERATION_NOTICE}"
    case = _move(
        application,
        transition,
        actor,
        {"opinion": reasons, "legal_basis": legal_basis, "remedy": RECONSIDERATION_NOTICE},
        text,
    )
    _tell_applicant(application, str(case.number), text)


# --- review --------------------------------------------------------------------


def review_opinion(*, application: Application, actor: Any, outcome: str, opinion: str) -> Task:
    """Record the actor's department's review opinion (agree / disagree); when the last
    department's opinion is in, the case moves to the lead's decision."""
    if outcome not in (TaskOutcome.AGREE, TaskOutcome.DISAGREE):
        raise ValidationError({"outcome": _("审查结果须为“同意”或“不同意”")})
    with transaction.atomic():
        application = _locked(application)
        case = _case(application)
        departments = handler_departments(actor)
        task = (
            Task.objects.filter(case=case, spec="review", state__in=ACTIVE_TASK_STATES)
            .filter(department_id__in=departments)
            .order_by("id")
            .first()
        )
        if task is None:
            raise PermissionDenied(_("您所在部门在此申请上没有待办的审查任务"))
        return cases.task_complete(task=task, actor=actor, opinion=opinion, outcome=outcome)


def preliminary_opinion(
    *, application: Application, actor: Any, outcome: str, opinion: str
) -> Application:
    """Art. 43: the lower-level department records its preliminary review opinion (agree /
    disagree — the deciding level decides either way) and reports the application up: the
    preliminary clock stops, the legal and promised clocks start, the lead and
    co-departments get their review tasks. The applicant provides nothing again."""
    if outcome not in (TaskOutcome.AGREE, TaskOutcome.DISAGREE):
        raise ValidationError({"outcome": _("初审结果须为“同意”或“不同意”")})
    if not (opinion or "").strip():
        raise ValidationError({"opinion": _("初审意见：须写明初审意见")})
    with transaction.atomic():
        application = _locked(application)
        case = _case(application)
        if case.state != "preliminary":
            raise ValidationError({"application": _("该申请当前不在下级初审阶段")})
        task = (
            Task.objects.filter(case=case, spec="preliminary_review", state__in=ACTIVE_TASK_STATES)
            .filter(department_id__in=handler_departments(actor))
            .order_by("id")
            .first()
        )
        if task is None:
            raise PermissionDenied(_("只有下级初审部门可以提交初审意见"))
        cases.task_complete(task=task, actor=actor, opinion=opinion, outcome=outcome)
        label = _("同意") if outcome == TaskOutcome.AGREE else _("不同意")
        text = _("初审意见（%(o)s）：%(t)s") % {"o": label, "t": opinion}
        _move(
            application,
            "preliminary_done",
            actor,
            {
                "opinion": text,
                "departments": task_departments(application.item),
                "task_limit": stage_limit(application.item),
            },
            text,
        )
    return application


def application_pause(
    *, application: Application, actor: Any, kind: str, reason: str
) -> Application:
    """Art. 45: hearing, inspection, testing, expert review or public notice — the time is
    not counted; the applicant is told."""
    if kind not in PauseKind.values:
        raise ValidationError(
            {
                "kind": _("暂停事由无效，可选：%(k)s")
                % {"k": "、".join(str(label) for label in PauseKind.labels)}
            }
        )
    if not (reason or "").strip():
        raise ValidationError({"reason": _("须说明暂停计时的理由")})
    with transaction.atomic():
        application = _locked(application)
        state = _case(application).state
        _move(application, f"pause_{kind}", actor, {"opinion": reason}, reason)
        application.paused_from = state
        application.save(update_fields=["paused_from", "updated_at"])
        _tell_applicant(
            application,
            _("办理时限暂停"),
            _(
                "您的申请 %(n)s 进入%(k)s程序，所需时间不计入办理时限"
                "（《行政许可法》第四十五条）：%(r)s"
            )
            % {"n": _case(application).number, "k": PauseKind(kind).label, "r": reason},
        )
    return application


def application_resume(*, application: Application, actor: Any, reason: str) -> Application:
    with transaction.atomic():
        application = _locked(application)
        case = _case(application)
        if case.state not in PAUSE_STATES:
            raise ValidationError({"application": _("该申请当前未暂停计时")})
        transition = "resume_decide" if application.paused_from == "deciding" else "resume_review"
        _move(application, transition, actor, {"opinion": reason or _("恢复计时")}, reason)
        application.paused_from = ""
        application.save(update_fields=["paused_from", "updated_at"])
    return application


def application_extend(*, application: Application, actor: Any, reason: str) -> Application:
    """Art. 42: extend the legal limit once, by 10 working days (15 for joint handling);
    the head of an involved department approves (the engine checks) and the applicant is
    told (the engine's message)."""
    with transaction.atomic():
        application = _locked(application)
        case = _case(application)
        clock = Clock.objects.get(case=case, task__isnull=True, code="legal")
        cases.clock_extend(
            clock=clock,
            amount=application.item.extension_days,
            reason=reason,
            approved_by=actor,
        )
    return application


# --- decision ------------------------------------------------------------------------


def _add_years(day: datetime.date, years: int) -> datetime.date:
    """The day before the same date `years` later (a validity of N years); 29 Feb -> 28 Feb."""
    try:
        same = day.replace(year=day.year + years)
    except ValueError:
        same = day.replace(year=day.year + years, day=28)
    return same - datetime.timedelta(days=1)


def application_grant(
    *, application: Application, actor: Any, opinion: str, scope: str = ""
) -> Licence:
    """Grant (准予许可) by the lead department after every review opinion is in: issues the
    licence (numbered by core.numbering) or, for a renewal, extends the licence's validity.
    The delivery clock starts (Art. 44: 10 days)."""
    with transaction.atomic():
        application = _locked(application)
        item = application.item
        case = _case(application)
        scope = (scope or "").strip() or item.name
        _move(application, "grant", actor, {"opinion": opinion, "scope": scope}, opinion)
        licence = _issue(application, actor=actor, scope=scope, deemed=False)
        _tell_applicant(
            application,
            _("许可已准予"),
            _("您的申请 %(n)s 已准予许可，证号 %(l)s，可在“我的办件”下载。")
            % {"n": case.number, "l": licence.number},
        )
    return licence


def _issue(application: Application, *, actor: Any, scope: str, deemed: bool) -> Licence:
    item = application.item
    today = timezone.localdate()
    if application.renews_id is not None:
        licence = Licence.objects.select_for_update().get(pk=application.renews_id)
        # The new period follows the old one without a gap (Art. 50: 延续有效期).
        start = licence.valid_until + datetime.timedelta(days=1) if licence.valid_until else today
        if item.validity_years:
            licence.valid_until = _add_years(start, item.validity_years)
        licence.renewed_at = timezone.now()
        licence.deemed_renewal = deemed
        licence.save()
        return licence
    return Licence.objects.create(
        number=next_number(item.licence_prefix, year=today.year),
        item=item,
        application=application,
        holder=application.applicant,
        holder_name=application.applicant_name,
        holder_number=application.applicant_number,
        scope=scope,
        department_id=item.lead_department_id,
        issued_on=today,
        valid_until=_add_years(today, item.validity_years) if item.validity_years else None,
    )


def application_refuse(
    *, application: Application, actor: Any, reasons: str, legal_basis: str
) -> Application:
    """Refuse (不予许可) with written reasons, the legal basis and the right to
    reconsideration or litigation (Art. 38). Reasons cannot be left out."""
    with transaction.atomic():
        application = _locked(application)
        _decide_against(application, actor, "refuse", reasons, legal_basis)
    return application


def licence_deliver(*, licence: Licence, actor: Any, channel: str = "online") -> Licence:
    """Record delivery (送达): the holder's first download online, or staff handing it
    over; stops the delivery clock and closes the case."""
    with transaction.atomic():
        licence = Licence.objects.select_for_update().get(pk=licence.pk)
        application = _locked(licence.application)
        if licence.delivered_at is None:
            licence.delivered_at = timezone.now()
            licence.save(update_fields=["delivered_at", "updated_at"])
            if application.case is not None and application.case.state == "granted":
                _move(application, "deliver", actor, {"channel": channel}, "")
    return licence


def licence_revoke(*, licence: Licence, actor: Any, reason: str, legal_basis: str) -> Licence:
    """Revoke (撤销) a licence (Art. 69), with reasons and legal basis; by the issuing
    department's head or an administrator."""
    reason, legal_basis = (reason or "").strip(), (legal_basis or "").strip()
    if not reason or not legal_basis:
        raise ValidationError({"reason": _("撤销须写明理由和法律依据")})
    with transaction.atomic():
        licence = Licence.objects.select_for_update().get(pk=licence.pk)
        head = Membership.objects.filter(
            user=actor,
            department_id=licence.department_id,
            role=MembershipRole.HEAD,
            is_active=True,
        ).exists()
        if not (head or is_admin(actor)):
            raise PermissionDenied(_("只有发证部门负责人可以撤销证照"))
        if licence.status == LicenceStatus.REVOKED:
            raise ValidationError({"licence": _("证照已撤销")})
        licence.status = LicenceStatus.REVOKED
        licence.revoked_at = timezone.now()
        licence.revoke_reason = f"{reason}（{_('依据')}：{legal_basis}）"
        licence.save()
    return licence
