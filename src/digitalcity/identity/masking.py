"""Masking of personal data on screen, and the one audited way to see it in full.

DESIGN.md: personal data is masked unless the viewer has the right and the reason is
logged. Masking rules (each keeps enough to recognise a record, never enough to use it):

| value | rule | example |
| --- | --- | --- |
| citizen ID number (18) | first 6 (issuing division) and last 4 kept | 110101********4477 |
| citizen ID number (15) | first 6 and last 4 kept | 110101*****0123 |
| mobile phone (11) | first 3 (carrier) and last 4 kept | 138****5678 |
| name, 1 character | fully masked | * |
| name, 2–3 characters | first character (the surname) kept | 张*, 李** |
| name, 4+ characters | first two kept (compound surnames 欧阳, 司马 …) | 欧阳** |
| USCC (18) | first 8 (authority, type, division) and last 2 kept | 91350100********43 |
| address | administrative part kept (up to the last 省/市/区/县/镇/乡/街道) | 示范市东城区**** |

Anything shorter or differently shaped than expected is masked all but its last
characters, never shown in full. Empty values stay empty.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _

from digitalcity.core.audit.services import record

__all__ = [
    "PERSONAL_FIELDS",
    "REVEAL_PERMISSION",
    "can_reveal",
    "mask",
    "mask_address",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "mask_uscc",
    "reveal",
]

REVEAL_PERMISSION = "identity.view_unmasked_personal_data"


def _keep(value: str, head: int, tail: int) -> str:
    hidden = len(value) - head - tail
    if hidden <= 0:
        return _mask_unknown(value)
    return value[:head] + "*" * hidden + value[len(value) - tail :]


def _mask_unknown(value: str) -> str:
    # Unexpected shapes show at most their last quarter: enough to tell two apart.
    shown = len(value) // 4
    return "*" * (len(value) - shown) + value[len(value) - shown :]


def mask_id_number(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) in (15, 18):
        return _keep(value, 6, 4)
    return _mask_unknown(value)


def mask_phone(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) == 11:
        return _keep(value, 3, 4)
    return _mask_unknown(value)


def mask_name(value: str | None) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) == 1:
        return "*"
    keep = 1 if len(value) <= 3 else 2
    return value[:keep] + "*" * (len(value) - keep)


def mask_uscc(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) == 18:
        return _keep(value, 8, 2)
    return _mask_unknown(value)


# 小区/社区/园区 and 超市/集市 end in 区/市 but are places inside a division, not divisions.
_ADMIN_PART = re.compile(
    r"^(?:.{1,12}?(?:自治区|自治州|自治县|街道|省|(?<![超集门])市|(?<![小社园校景厂])区|县|旗|盟|镇|乡))+"
)


def mask_address(value: str | None) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    match = _ADMIN_PART.match(value)
    kept = match.group(0) if match else value[:3]
    if len(kept) >= len(value):
        # Only administrative names: they are public, but the form must not reveal that
        # nothing more was recorded, so the tail is still starred.
        return value + "****"
    return kept + "****"


_MASKERS = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "real_name": mask_name,
    "legal_representative": mask_name,
    "uscc": mask_uscc,
    "address": mask_address,
}
PERSONAL_FIELDS = frozenset(_MASKERS)


def mask(field: str, value: str | None) -> str:
    """Mask `value` by the rule for a field named `field` (id_number, phone, real_name …)."""
    return _MASKERS[field](value)


def can_reveal(*, user: Any, obj: models.Model) -> bool:
    """Whether `user` may see `obj`'s personal data unmasked (a reason is still required).

    The right comes from the permission `identity.view_unmasked_personal_data` (granted
    to a role's group or directly), or from the record being the viewer's own account.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.has_perm(REVEAL_PERMISSION):
        return True
    return obj._meta.label_lower == user._meta.label_lower and obj.pk == user.pk


def reveal(*, user: Any, obj: models.Model, field: str, reason: str) -> str:
    """Return `obj.field` in full for `user`, after writing the audit entry "view_unmasked".

    Raises PermissionDenied (Chinese message) when the viewer lacks the right, when no
    reason is given, or when the field is not one of PERSONAL_FIELDS.
    """
    reason = (reason or "").strip()
    if field not in PERSONAL_FIELDS or not hasattr(obj, field):
        raise PermissionDenied(_("字段 %(field)s 不是可显示的个人信息字段") % {"field": field})
    if not can_reveal(user=user, obj=obj):
        raise PermissionDenied(_("您没有查看完整个人信息的权限"))
    if not reason:
        raise PermissionDenied(_("查看完整个人信息必须填写查看事由"))
    record(action="view_unmasked", obj=obj, reason=f"{field}：{reason}")
    return str(getattr(obj, field) or "")
