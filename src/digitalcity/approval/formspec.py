"""Application form fields defined as data (an item's `form_spec`), rendered as a Django
form and validated on the server.

A spec is a list of fields::

    [{"name": "shop_name", "label": "店铺名称", "type": "text", "required": true},
     {"name": "area", "label": "经营面积（平方米）", "type": "number"},
     {"name": "category", "label": "经营类别", "type": "choice",
      "choices": ["预包装食品销售", "餐饮服务"]}]

Types are `FieldType` values. `validate_spec` refuses a malformed spec (at admin save and
Excel import); `clean_form_data` returns the cleaned values or raises ValidationError
keyed by field name with the rule broken.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _

from digitalcity.core.ids import validate_citizen_id, validate_uscc
from digitalcity.core.models import DivisionLevel

from .choices import FieldType

__all__ = ["build_form", "clean_form_data", "validate_levels", "validate_spec"]

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_KEYS = {"name", "label", "type", "required", "choices", "help"}
_PHONE = RegexValidator(r"^1[3-9]\d{9}$", "")


def validate_levels(levels: Any) -> None:
    if not isinstance(levels, list) or not levels:
        raise ValidationError(_('办理层级须为非空列表，如 ["city", "county"]'))
    bad = [str(v) for v in levels if v not in DivisionLevel.values]
    if bad:
        raise ValidationError(
            _("办理层级“%(bad)s”无效，可选：%(all)s")
            % {"bad": "、".join(bad), "all": "、".join(DivisionLevel.values)}
        )


def validate_spec(spec: Any) -> None:
    """Raise ValidationError listing every problem of a form spec."""
    if not isinstance(spec, list):
        raise ValidationError(_("申请表字段须为列表"))
    problems: list[str] = []
    seen: set[str] = set()
    for index, field in enumerate(spec, start=1):
        if not isinstance(field, dict):
            problems.append(_("第 %(i)d 个字段须为对象") % {"i": index})
            continue
        name = field.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            problems.append(_("第 %(i)d 个字段的 name 须为小写字母开头的英文标识") % {"i": index})
        elif name in seen:
            problems.append(_("字段名“%(n)s”重复") % {"n": name})
        else:
            seen.add(name)
        if not isinstance(field.get("label"), str) or not field["label"].strip():
            problems.append(_("第 %(i)d 个字段缺少 label（中文名称）") % {"i": index})
        kind = field.get("type")
        if kind not in FieldType.values:
            problems.append(
                _("第 %(i)d 个字段的类型“%(t)s”无效，可选：%(all)s")
                % {"i": index, "t": kind, "all": "、".join(FieldType.values)}
            )
        if kind == FieldType.CHOICE:
            choices = field.get("choices")
            if (
                not isinstance(choices, list)
                or not choices
                or not all(isinstance(c, str) and c for c in choices)
            ):
                problems.append(_("第 %(i)d 个单选字段须给出 choices 选项列表") % {"i": index})
        unknown = set(field) - _KEYS
        if unknown:
            problems.append(
                _("第 %(i)d 个字段含未知属性：%(k)s")
                % {"i": index, "k": "、".join(sorted(unknown))}
            )
    if problems:
        raise ValidationError(problems)


def _field(spec: dict[str, Any]) -> forms.Field:
    kind = spec["type"]
    common: dict[str, Any] = {
        "label": spec["label"],
        "required": bool(spec.get("required", False)),
        "help_text": spec.get("help", ""),
    }
    if kind == FieldType.TEXTAREA:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, **common)
    if kind == FieldType.NUMBER:
        return forms.DecimalField(max_digits=14, decimal_places=2, **common)
    if kind == FieldType.INTEGER:
        return forms.IntegerField(**common)
    if kind == FieldType.DATE:
        return forms.DateField(
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common
        )
    if kind == FieldType.CHOICE:
        choices = [("", "——")] + [(c, c) for c in spec["choices"]]
        return forms.ChoiceField(choices=choices, **common)
    if kind == FieldType.ID_NUMBER:
        return forms.CharField(max_length=18, validators=[validate_citizen_id], **common)
    if kind == FieldType.USCC:
        return forms.CharField(max_length=18, validators=[validate_uscc], **common)
    if kind == FieldType.PHONE:
        field = forms.CharField(max_length=11, **common)
        field.validators.append(RegexValidator(r"^1[3-9]\d{9}$", _("须为 11 位手机号码")))
        return field
    if kind == FieldType.EMAIL:
        return forms.EmailField(**common)
    return forms.CharField(max_length=200, **common)


def build_form(spec: list[dict[str, Any]], data: Any = None, *, prefix: str = "f") -> forms.Form:
    """A Django form for `spec` (bound when `data` is given)."""
    form = forms.Form(data=data, prefix=prefix)
    for field in spec:
        form.fields[field["name"]] = _field(field)
    return form


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def clean_form_data(
    spec: list[dict[str, Any]], data: dict[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """Validate `data` (field name -> raw value) against `spec`; return JSON-ready values.

    `partial` (drafts): required fields may be empty, but what is filled must be valid.
    Raises ValidationError keyed by field name: “字段名（name）：rule”.
    """
    raw = {f"f-{k}": ("" if v is None else str(v)) for k, v in data.items()}
    form = build_form(spec, raw)
    if partial:
        for field in form.fields.values():
            field.required = False
    unknown = set(data) - {f["name"] for f in spec}
    errors: dict[str, list[str]] = {}
    for name in sorted(unknown):
        errors[name] = [_("申请表没有字段“%(n)s”") % {"n": name}]
    if not form.is_valid():
        labels = {f["name"]: f["label"] for f in spec}
        for name, messages in form.errors.items():
            errors[name] = [
                _("%(label)s：%(msg)s") % {"label": labels.get(name, name), "msg": m}
                for m in messages
            ]
    if errors:
        raise ValidationError(errors)
    return {
        name: _jsonable(value)
        for name, value in form.cleaned_data.items()
        if value not in (None, "")
    }
