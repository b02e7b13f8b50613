"""National identifiers: citizen ID numbers, USCCs, organisation codes, division codes.

Rules and test vectors: /work/shared/STANDARDS.md §1 (GB 11643-1999 公民身份号码),
§2 (GB 32100-2015 统一社会信用代码 and GB 11714 组织机构代码), §3 (GB/T 2260).

Contract of every `parse_*` function: it normalises the input (surrounding whitespace,
full-width digits and letters, lower case), then either returns a frozen dataclass or
raises django's `ValidationError` with a Chinese message naming the rule broken and a
stable `code`. Things the standards leave doubtful (an unknown USCC authority/category
pair, an embedded organisation code whose own check fails, an address code missing from
the historical list) are warnings, never rejections.

The `*_check_char` functions are pure and raise `ValueError` on a malformed body: they
are for generating numbers (demo data, tests), not for validating user input.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "CitizenId",
    "OrgCode",
    "Sex",
    "Uscc",
    "citizen_id_check_char",
    "citizen_id_division_warning",
    "clean_division_code",
    "org_code_check_char",
    "parse_citizen_id",
    "parse_org_code",
    "parse_uscc",
    "uscc_check_char",
    "validate_citizen_id",
    "validate_division_code",
    "validate_org_code",
    "validate_uscc",
]


def _normalise(text: str) -> str:
    # NFKC folds full-width digits and letters (０-９, Ａ-Ｚ, ｘ) into ASCII, which
    # people paste from Word documents and scanned forms.
    return unicodedata.normalize("NFKC", str(text)).strip().upper()


# ---------------------------------------------------------------------------
# GB 11643-1999 公民身份号码
# ---------------------------------------------------------------------------

# ISO 7064 MOD 11-2: W[i] = 2^(17-i) mod 11 (STANDARDS.md §1.2).
_RIC_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_RIC_CHECK = "10X98765432"  # indexed by S mod 11
_RIC_RE = re.compile(r"^\d{17}[\dX]$")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


@dataclass(frozen=True)
class CitizenId:
    """A checked 18-digit citizen ID number (upper-case `X`)."""

    number: str
    division_code: str
    birth_date: datetime.date
    sex: Sex
    upgraded_from: str | None = None

    @property
    def sex_label(self) -> str:
        return str(self.sex.label)

    def __str__(self) -> str:
        return self.number


def citizen_id_check_char(body17: str) -> str:
    """The GB 11643-1999 check character ('0'–'9' or 'X') of a 17-digit body."""
    if len(body17) != 17 or not body17.isascii() or not body17.isdigit():
        raise ValueError(f"citizen ID body must be 17 ASCII digits, got {body17!r}")
    total = sum(int(d) * w for d, w in zip(body17, _RIC_WEIGHTS, strict=True))
    return _RIC_CHECK[total % 11]


def _upgrade_15(number15: str, *, allow_1800s: bool) -> str:
    # Pre-1999 cards: AAAAAA YYMMDD SSS without a check character; century assumed 19.
    # Sequence codes 996–999 were reportedly given to people born in the 1800s
    # (STANDARDS.md §1.3, [UNVERIFIED]), hence opt-in only.
    century = "18" if allow_1800s and int(number15[12:15]) >= 996 else "19"
    body17 = number15[:6] + century + number15[6:]
    return body17 + citizen_id_check_char(body17)


def parse_citizen_id(text: str, *, allow_1800s_sequence: bool = False) -> CitizenId:
    """Parse and check a citizen ID number (18 digits, or 15 digits upgraded to 18).

    Checks, in order: length (15 or 18), characters (17 digits + digit/X), birth date
    (a real calendar date, not in the future), check character. The address code is
    not checked here; see `citizen_id_division_warning`.

    `allow_1800s_sequence`: for 15-digit input, read sequence codes 996–999 as born in
    the 1800s (century 18) instead of 19.
    """
    raw = _normalise(text)
    upgraded_from: str | None = None
    if len(raw) == 15:
        if not raw.isdigit():
            raise ValidationError(_("15 位公民身份号码须全部为数字"), code="citizen_id_format")
        upgraded_from = raw
        number = _upgrade_15(raw, allow_1800s=allow_1800s_sequence)
    elif len(raw) == 18:
        number = raw
    else:
        raise ValidationError(
            _("公民身份号码长度错误：须为 18 位（或旧版 15 位），实为 %(length)d 位"),
            code="citizen_id_length",
            params={"length": len(raw)},
        )
    if not _RIC_RE.match(number) or not number.isascii():
        raise ValidationError(
            _("公民身份号码格式错误：前 17 位须为数字，第 18 位须为数字或 X"),
            code="citizen_id_format",
        )
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("公民身份号码出生日期码错误：%(date)s 不是有效日期"),
            code="citizen_id_birth_date",
            params={"date": number[6:14]},
        ) from None
    if birth_date > timezone.localdate():
        raise ValidationError(
            _("公民身份号码出生日期码错误：%(date)s 晚于今天"),
            code="citizen_id_future_birth_date",
            params={"date": number[6:14]},
        )
    expected = citizen_id_check_char(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("公民身份号码校验码错误：按 GB 11643-1999 应为 %(expected)s，实为 %(actual)s"),
            code="citizen_id_checksum",
            params={"expected": expected, "actual": number[17]},
        )
    return CitizenId(
        number=number,
        division_code=number[:6],
        birth_date=birth_date,
        sex=Sex.MALE if int(number[16]) % 2 else Sex.FEMALE,
        upgraded_from=upgraded_from,
    )


def citizen_id_division_warning(number: str) -> str | None:
    """A Chinese warning if the address code looks wrong, else None. Never raises for a
    number `parse_citizen_id` accepts.

    The address code is the county of registration *when the card was issued*, which is
    on or after the birth date; so a code passes if the historical GB/T 2260 list
    (python-stdnum's loc.dat) shows it in force in the birth year or any later year.
    Codes abolished before the holder was born, and codes never listed, draw a warning.
    (stdnum's own check demands validity in the birth year exactly, which rejects the
    standard's own example 440524188001010014.)
    """
    from digitalcity.core.divisions import stdnum_division_periods

    parsed = parse_citizen_id(number)
    periods = stdnum_division_periods().get(parsed.division_code)
    if not periods:
        return str(
            _("地址码 %(code)s 不在 GB/T 2260 历史行政区划代码表中")
            % {"code": parsed.division_code}
        )
    year = parsed.birth_date.year
    if any(p.valid_until is None or p.valid_until >= year for p in periods):
        return None
    return str(
        _("地址码 %(code)s（%(name)s）已于 %(until)d 年撤销，早于出生年份 %(year)d 年")
        % {
            "code": parsed.division_code,
            "name": periods[-1].name,
            "until": max(p.valid_until or 0 for p in periods),
            "year": year,
        }
    )


# ---------------------------------------------------------------------------
# GB 11714 组织机构代码
# ---------------------------------------------------------------------------

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_RE = re.compile(r"^([0-9A-Z]{8})-?([0-9X])$")


@dataclass(frozen=True)
class OrgCode:
    """A checked organisation code: `code` compact (9 chars), `display` as 60003734-1."""

    code: str

    @property
    def body(self) -> str:
        return self.code[:8]

    @property
    def check(self) -> str:
        return self.code[8]

    @property
    def display(self) -> str:
        return f"{self.body}-{self.check}"

    def __str__(self) -> str:
        return self.display


def org_code_check_char(body8: str) -> str:
    """The GB 11714 check character ('0'–'9' or 'X') of an 8-character body.

    Letters count with the full alphabet (A=10 … Z=35), unlike the USCC's 31-char set.
    """
    if len(body8) != 8 or not body8.isascii() or not body8.isalnum() or body8 != body8.upper():
        raise ValueError(f"organisation code body must be 8 of 0-9A-Z, got {body8!r}")
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def parse_org_code(text: str) -> OrgCode:
    """Parse and check an organisation code, with or without the hyphen."""
    raw = _normalise(text)
    match = _ORG_RE.match(raw)
    if not match or not raw.isascii():
        raise ValidationError(
            _("组织机构代码格式错误：须为 8 位数字或大写字母、连字符（可省略）和 1 位校验码"),
            code="org_code_format",
        )
    body, check = match.groups()
    expected = org_code_check_char(body)
    if check != expected:
        raise ValidationError(
            _("组织机构代码校验码错误：按 GB 11714 应为 %(expected)s，实为 %(actual)s"),
            code="org_code_checksum",
            params={"expected": expected, "actual": check},
        )
    return OrgCode(code=body + check)


# ---------------------------------------------------------------------------
# GB 32100-2015 统一社会信用代码
# ---------------------------------------------------------------------------

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_USCC_FORBIDDEN = frozenset("IOZSV")

# Positions 1–2: the original GB 32100-2015 table plus the authorities added since
# (STANDARDS.md §2.1). An unknown pair is a warning, not a rejection: the table keeps
# growing and a certificate in the citizen's hand outranks our copy of it.
USCC_AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": (
        "机构编制",
        {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    ),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": (
        "旅游",
        {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地代表机构", "9": "其他"},
    ),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商（市场监管）", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": (
        "农业",
        {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"},
    ),
    "Y": ("其他", {"1": "其他"}),
}


@dataclass(frozen=True)
class Uscc:
    """A checked unified social credit code.

    `category_warning` / `org_code_warning` are Chinese texts when positions 1–2 are not
    in the known table or the embedded organisation code fails its own GB 11714 check.
    """

    code: str
    registration_authority: str
    registration_authority_name: str | None
    category: str
    category_name: str | None
    division_code: str
    org_code: str
    check: str
    category_warning: str | None = None
    org_code_warning: str | None = None

    @property
    def warnings(self) -> list[str]:
        return [w for w in (self.category_warning, self.org_code_warning) if w]

    def __str__(self) -> str:
        return self.code


def uscc_check_char(body17: str) -> str:
    """The GB 32100-2015 check character of a 17-character body (31-char alphabet)."""
    if len(body17) != 17 or any(c not in _USCC_ALPHABET for c in body17):
        raise ValueError(f"USCC body must be 17 of {_USCC_ALPHABET}, got {body17!r}")
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body17, _USCC_WEIGHTS, strict=True))
    # The outer "% 31" maps S mod 31 == 0 to '0' instead of indexing past the end.
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def parse_uscc(text: str) -> Uscc:
    """Parse and check a unified social credit code (18 chars, GB 32100-2015)."""
    code = _normalise(text)
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码长度错误：须为 18 位，实为 %(length)d 位"),
            code="uscc_length",
            params={"length": len(code)},
        )
    forbidden = sorted(set(code) & _USCC_FORBIDDEN, key=code.index)
    if forbidden:
        raise ValidationError(
            _("统一社会信用代码含有不允许的字母 %(letters)s：GB 32100-2015 不使用 I、O、Z、S、V"),
            code="uscc_forbidden_letter",
            params={"letters": "、".join(forbidden)},
        )
    if any(c not in _USCC_ALPHABET for c in code):
        raise ValidationError(
            _("统一社会信用代码格式错误：只能由数字和大写字母（不含 I、O、Z、S、V）组成"),
            code="uscc_format",
        )
    if not code[2:8].isdigit():
        raise ValidationError(
            _("统一社会信用代码格式错误：第 3–8 位（登记管理机关行政区划码）须为数字"),
            code="uscc_division_format",
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError(
            _("统一社会信用代码校验码错误：按 GB 32100-2015 应为 %(expected)s，实为 %(actual)s"),
            code="uscc_checksum",
            params={"expected": expected, "actual": code[17]},
        )
    authority, category = code[0], code[1]
    authority_name, categories = USCC_AUTHORITIES.get(authority, (None, {}))
    category_name = categories.get(category)
    category_warning = None
    if category_name is None:
        category_warning = str(
            _("登记管理部门代码 %(authority)s 与机构类别代码 %(category)s 的组合不在已知代码表中")
            % {"authority": authority, "category": category}
        )
    org_body, org_check = code[8:16], code[16]
    org_code_warning = None
    if org_code_check_char(org_body) != org_check:
        org_code_warning = str(
            _("内嵌的组织机构代码 %(org)s 未通过 GB 11714 校验：应为 %(expected)s")
            % {"org": f"{org_body}-{org_check}", "expected": org_code_check_char(org_body)}
        )
    return Uscc(
        code=code,
        registration_authority=authority,
        registration_authority_name=authority_name,
        category=category,
        category_name=category_name,
        division_code=code[2:8],
        org_code=f"{org_body}-{org_check}",
        check=code[17],
        category_warning=category_warning,
        org_code_warning=org_code_warning,
    )


# ---------------------------------------------------------------------------
# GB/T 2260 行政区划代码 and model/form field validators
# ---------------------------------------------------------------------------

_DIVISION_RE = re.compile(r"^(\d{6}|\d{9}|\d{12})$")


def clean_division_code(text: str) -> str:
    """Normalise a division code and check its shape: 6 (GB/T 2260), 9 (township) or
    12 (community) digits."""
    code = _normalise(text)
    if not _DIVISION_RE.match(code) or not code.isascii():
        raise ValidationError(
            _("行政区划代码格式错误：须为 6 位（县级及以上）、9 位（乡级）或 12 位（村级）数字"),
            code="division_format",
        )
    return code


def validate_citizen_id(value: str) -> None:
    parse_citizen_id(value)


def validate_uscc(value: str) -> None:
    parse_uscc(value)


def validate_org_code(value: str) -> None:
    parse_org_code(value)


def validate_division_code(value: str) -> None:
    """The code has a valid shape and is a row of the core.Division table."""
    from digitalcity.core.models import Division

    code = clean_division_code(value)
    if not Division.objects.filter(code=code).exists():
        raise ValidationError(
            _("行政区划代码 %(code)s 不存在：请先导入行政区划或检查代码"),
            code="division_unknown",
            params={"code": code},
        )
