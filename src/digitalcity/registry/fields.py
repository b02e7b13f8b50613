"""Our field names, their types and how a source's text becomes a normalised value.

A Source's `mapping` maps its column headers to these names; FieldRules name them too.
Every value in `SourceRecord.data` is a string in the normal form given here: dates
ISO (2026-01-02), ID numbers 18 digits, choices their code (married, active, …),
division codes as in core.Division.

`parse_value` raises django's ValidationError with a Chinese message naming the rule;
the importer adds the row and the column.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digitalcity.core.ids import (
    clean_division_code,
    parse_citizen_id,
    parse_org_code,
    parse_uscc,
)

from .choices import (
    Entity,
    InsuranceStatus,
    MaritalStatus,
    OrganizationStatus,
    PersonStatus,
    TaxStatus,
)

__all__ = [
    "FIELDS",
    "GOLDEN_FIELDS",
    "FieldSpec",
    "ParseContext",
    "choice_label",
    "field_label",
    "parse_date",
    "parse_value",
    "parser_for",
]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str | Promise
    kind: str  # text, date, past_date, division, choice, id_number, uscc, org_code
    choices: Mapping[str, str] = field(default_factory=dict)  # spelling -> code
    max_length: int = 200


def _choices(enum: type, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    spellings: dict[str, str] = {}
    for value, label in enum.choices:  # type: ignore[attr-defined]
        spellings[str(value).lower()] = str(value)
        spellings[str(label)] = str(value)
    spellings.update(extra or {})
    return spellings


_SEX = {"男": "M", "女": "F", "m": "M", "f": "F", "1": "M", "2": "F", "男性": "M", "女性": "F"}
_MARITAL = _choices(MaritalStatus, {"初婚": "married", "再婚": "married", "复婚": "married"})
_INSURANCE = _choices(
    InsuranceStatus, {"在保": "insured", "正常参保": "insured", "停保": "suspended"}
)
_PERSON_STATUS = _choices(
    PersonStatus, {"在籍": "living", "正常户籍": "living", "已死亡": "deceased", "注销": "deceased"}
)
_ORG_STATUS = _choices(
    OrganizationStatus, {"在业": "active", "开业": "active", "存续（在营、开业、在册）": "active"}
)
_TAX_STATUS = _choices(TaxStatus, {"非正常": "abnormal", "正常户": "normal"})

PERSON_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id_number", gettext_lazy("公民身份号码"), "id_number"),
    FieldSpec("name", gettext_lazy("姓名"), "text", max_length=50),
    FieldSpec("sex", gettext_lazy("性别"), "choice", _SEX),
    FieldSpec("birth_date", gettext_lazy("出生日期"), "past_date"),
    FieldSpec("registered_address", gettext_lazy("户籍地址"), "text"),
    FieldSpec("division", gettext_lazy("户籍所在区划"), "division"),
    FieldSpec("marital_status", gettext_lazy("婚姻状况"), "choice", _MARITAL),
    FieldSpec("education", gettext_lazy("学历"), "text", max_length=30),
    FieldSpec("insurance_status", gettext_lazy("参保状态"), "choice", _INSURANCE),
    FieldSpec("death_date", gettext_lazy("死亡日期"), "past_date"),
    FieldSpec("status", gettext_lazy("人口状态"), "choice", _PERSON_STATUS),
    FieldSpec("phone", gettext_lazy("联系电话"), "text", max_length=30),
)
ORGANIZATION_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("uscc", gettext_lazy("统一社会信用代码"), "uscc"),
    FieldSpec("org_code", gettext_lazy("组织机构代码"), "org_code"),
    FieldSpec("name", gettext_lazy("名称"), "text"),
    FieldSpec("legal_representative", gettext_lazy("法定代表人"), "text", max_length=50),
    FieldSpec("registered_address", gettext_lazy("住所"), "text"),
    FieldSpec("division", gettext_lazy("登记区划"), "division"),
    FieldSpec("status", gettext_lazy("登记状态"), "choice", _ORG_STATUS),
    FieldSpec("established_on", gettext_lazy("成立日期"), "past_date"),
    FieldSpec("tax_status", gettext_lazy("纳税状态"), "choice", _TAX_STATUS),
)
FIELDS: dict[str, dict[str, FieldSpec]] = {
    Entity.PERSON: {f.name: f for f in PERSON_FIELDS},
    Entity.ORGANIZATION: {f.name: f for f in ORGANIZATION_FIELDS},
}
# The fields of the golden record a FieldRule may name (the key and contact data are not).
GOLDEN_FIELDS: dict[str, tuple[str, ...]] = {
    Entity.PERSON: (
        "name",
        "sex",
        "birth_date",
        "registered_address",
        "division",
        "marital_status",
        "education",
        "insurance_status",
        "death_date",
        "status",
    ),
    Entity.ORGANIZATION: (
        "org_code",
        "name",
        "legal_representative",
        "registered_address",
        "division",
        "status",
        "established_on",
        "tax_status",
    ),
}


def field_label(entity: str, name: str) -> str:
    spec = FIELDS.get(entity, {}).get(name)
    return str(spec.label) if spec else name


def choice_label(entity: str, name: str, value: str) -> str:
    """The Chinese label of a stored choice code (the value itself when unknown)."""
    spec = FIELDS.get(entity, {}).get(name)
    if spec is None or spec.kind != "choice" or not value:
        return value
    enums: dict[str, type] = {
        "marital_status": MaritalStatus,
        "insurance_status": InsuranceStatus,
        "tax_status": TaxStatus,
        "status": PersonStatus if entity == Entity.PERSON else OrganizationStatus,
    }
    if name == "sex":
        return {"M": _("男"), "F": _("女")}.get(value, value)
    enum = enums.get(name)
    if enum is None:
        return value
    return str(dict(enum.choices).get(value, value))  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# Dates in the spellings Chinese spreadsheets use
# ---------------------------------------------------------------------------

_DATE_SEPARATED = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(text: str) -> datetime.date:
    """2026-01-02, 2026/1/2, 2026.1.2, 20260102 or 2026年1月2日 (a time part is ignored)."""
    value = unicodedata.normalize("NFKC", text).strip()
    # Spreadsheets that hold a date-time write "2026-01-02 00:00:00".
    if " " in value and ":" in value:
        value = value.split(" ", 1)[0]
    match = _DATE_SEPARATED.match(value) or _DATE_COMPACT.match(value)
    if not match:
        raise ValidationError(
            _(
                "日期格式无法识别：「%(value)s」，"
                "应为 2026-01-02、2026/1/2、20260102 或 2026年1月2日"
            )
            % {"value": text},
            code="date_format",
        )
    year, month, day = (int(g) for g in match.groups())
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValidationError(
            _("日期不存在：%(year)d 年 %(month)d 月 %(day)d 日")
            % {"year": year, "month": month, "day": day},
            code="date_impossible",
        ) from None


# ---------------------------------------------------------------------------
# One value
# ---------------------------------------------------------------------------


@dataclass
class ParseContext:
    """What parsing needs from the database, loaded once per batch."""

    today: datetime.date
    division_codes: frozenset[str]
    org_code_to_uscc: dict[str, str] = field(default_factory=dict)
    upgraded: int = 0  # 15-digit ID numbers upgraded in this batch
    today_iso: str = ""

    def __post_init__(self) -> None:
        self.today_iso = self.today.isoformat()


_RIC_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # GB 11643: 7 9 10 5 8 4 2 …
_RIC_CHECK = "10X98765432"
_DIGIT = {str(d): d for d in range(10)}


def fast_citizen_id(value: str, today: datetime.date | str) -> str | None:
    """The common case (18 ASCII digits, right check, real past date) without the general
    parser's normalisation; None means "ask core.ids.parse_citizen_id", which decides and
    words the error. Accepts exactly what parse_citizen_id accepts for such input."""
    if len(value) != 18 or not value.isascii():
        return None
    body, check = value[:17], value[17].upper()
    if not body.isdigit():
        return None
    today_iso = today if isinstance(today, str) else today.isoformat()
    if _iso_date(f"{value[6:10]}-{value[10:12]}-{value[12:14]}", today_iso) is None:
        return None
    total = sum(map(int.__mul__, map(_DIGIT.__getitem__, body), _RIC_WEIGHTS))
    if _RIC_CHECK[total % 11] != check:
        return None
    return body + check


@functools.lru_cache(maxsize=1 << 16)
def _iso_date(value: str, today: str) -> str | None:
    """`value` when it is a real ISO date (2026-01-02) not after `today`, else None (the
    general parser then decides and words the error). Cached: a city has a few tens of
    thousands of distinct birth dates."""
    if len(value) != 10 or value[4] != "-" or value[7] != "-" or not value.isascii():
        return None
    try:
        parsed = datetime.date.fromisoformat(value)
    except ValueError:
        return None
    text = parsed.isoformat()
    return text if text <= today else None


@functools.lru_cache(maxsize=1 << 16)
def _spelled_date(value: str) -> str | None:
    """The ISO form of a date in any accepted spelling (None: let parse_date say why)."""
    try:
        return parse_date(value).isoformat()
    except ValidationError:
        return None


def parse_citizen_key(value: str, ctx: ParseContext) -> str:
    fast = fast_citizen_id(value, ctx.today_iso)
    if fast is not None:
        return fast
    parsed = parse_citizen_id(value)
    if parsed.upgraded_from:
        ctx.upgraded += 1
    return parsed.number


def _parse_division(value: str, ctx: ParseContext) -> str:
    if value in ctx.division_codes:  # the common case: already a clean, known code
        return value
    code = clean_division_code(value)
    if code not in ctx.division_codes:
        raise ValidationError(
            _("行政区划代码 %(code)s 不存在（GB/T 2260 及本地区划表中均无）") % {"code": code},
            code="division_unknown",
        )
    return code


def _parse_choice(spec: FieldSpec, value: str) -> str:
    code = spec.choices.get(value) or spec.choices.get(value.lower())
    if code is None:
        allowed = sorted({k for k in spec.choices if not k.isascii()})
        raise ValidationError(
            _("取值「%(value)s」不在允许的范围内：%(allowed)s")
            % {"value": value, "allowed": "、".join(allowed)},
            code="choice",
        )
    return code


def _parse_past_date(value: str, ctx: ParseContext) -> str:
    today = ctx.today_iso
    fast = _iso_date(value, today) or _spelled_date(value)
    if fast is not None and fast <= today:
        return fast
    date = parse_date(value)
    if date > ctx.today:
        raise ValidationError(
            _("日期 %(date)s 晚于今天") % {"date": date.isoformat()}, code="date_future"
        )
    return date.isoformat()


def _parse_text(spec: FieldSpec, value: str) -> str:
    text = " ".join(value.split())
    if len(text) > spec.max_length:
        raise ValidationError(
            _("长度 %(length)d 超过上限 %(limit)d 个字符")
            % {"length": len(text), "limit": spec.max_length},
            code="too_long",
        )
    return text


_PARSERS: dict[str, Callable[[FieldSpec, str, ParseContext], str]] = {
    "text": lambda spec, v, ctx: _parse_text(spec, v),
    "date": lambda spec, v, ctx: parse_date(v).isoformat(),
    "past_date": lambda spec, v, ctx: _parse_past_date(v, ctx),
    "division": lambda spec, v, ctx: _parse_division(v, ctx),
    "choice": lambda spec, v, ctx: _parse_choice(spec, v),
    "id_number": lambda spec, v, ctx: parse_citizen_key(v, ctx),
    "uscc": lambda spec, v, ctx: parse_uscc(v).code,
    "org_code": lambda spec, v, ctx: parse_org_code(v).code,
}


def parser_for(spec: FieldSpec) -> Callable[[FieldSpec, str, ParseContext], str]:
    """The parsing function of `spec` (resolved once per column, not per value)."""
    return _PARSERS[spec.kind]


def parse_value(spec: FieldSpec, value: str, ctx: ParseContext) -> str:
    """The normal form of a non-empty `value` for `spec`; ValidationError if it breaks a rule."""
    return _PARSERS[spec.kind](spec, value, ctx)
