"""Forms of the case pages. They parse input only; the services validate the business
rules, and `add_service_errors` puts their Chinese messages next to the fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models import Department, Division

from .choices import RatingValue, ReturnReason
from .declare import Transition, all_types
from .page_queries import state_choices

__all__ = [
    "BreakLockForm",
    "ExtendForm",
    "QueueFilterForm",
    "RatingForm",
    "ReassignForm",
    "ReturnForm",
    "SupervisionFilterForm",
    "TaskCompleteForm",
    "TransitionForm",
    "UrgeAnswerForm",
    "UrgeForm",
    "add_service_errors",
]

#: Labels of the transition inputs case types name in `requires`; others show their code.
INPUT_LABELS: dict[str, Any] = {
    "opinion": _("意见"),
    "reason": _("理由"),
    "departments": _("承办部门"),
}


class _Form(forms.Form):
    # The services decide what is required; a browser-side `required` would hide their
    # messages behind the browser's own bubble.
    use_required_attribute = False


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Attach a service's ValidationError to `form`: per field where the form has the
    field, otherwise above the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            for message in ValidationError(errors).messages:
                form.add_error(name if name in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def _later(template: Any, words: dict[str, Any]) -> Any:
    """`template % words`, translated when shown: form fields are built at import, before
    any request has chosen its language."""
    return lazy(lambda: str(template) % {k: str(v) for k, v in words.items()}, str)()


def _text(label: Any, *, rows: int = 3, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": _later(_("请填写%(label)s"), {"label": label})},
    )


def _whole_number(
    label: Any, low: int, high: int, unit: Any, *, initial: int | None = None
) -> forms.IntegerField:
    words = {"label": label, "low": low, "high": high, "unit": unit}
    return forms.IntegerField(
        label=label,
        initial=initial,
        min_value=low,
        max_value=high,
        error_messages={
            "required": _later(_("请填写%(label)s"), words),
            "invalid": _later(_("%(label)s须为整数"), words),
            "min_value": _later(_("%(label)s至少 %(low)s %(unit)s"), words),
            "max_value": _later(_("%(label)s最多 %(high)s %(unit)s"), words),
        },
    )


def _type_choices() -> list[tuple[str, Any]]:
    return [("", _("全部类型")), *((ct.code, ct.name) for ct in all_types())]


class QueueFilterForm(_Form):
    type = forms.ChoiceField(label=_("办件类型"), required=False)
    state = forms.ChoiceField(label=_("办件状态"), required=False)
    department = forms.ModelChoiceField(
        label=_("承办部门"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("我的全部部门"),
    )

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = _type_choices()  # type: ignore[attr-defined]
        type_code = self.data.get("type", "") if self.is_bound else ""
        self.fields["state"].choices = [  # type: ignore[attr-defined]
            ("", _("全部状态")),
            *state_choices(type_code if isinstance(type_code, str) else ""),
        ]
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]


class TransitionForm(_Form):
    """The inputs `transition` requires, plus the departments for one that creates tasks."""

    def __init__(
        self,
        *args: Any,
        transition: Transition,
        departments: QuerySet[Department] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", f"t-{transition.code}")
        super().__init__(*args, **kwargs)
        self.transition = transition
        for name in transition.requires:
            if name == "departments":
                continue
            label = INPUT_LABELS.get(name, name)
            self.fields[name] = _text(label, required=True)
        if transition.creates or "departments" in transition.requires:
            self.fields["departments"] = forms.ModelMultipleChoiceField(
                label=INPUT_LABELS["departments"],
                queryset=departments if departments is not None else Department.objects.none(),
                required="departments" in transition.requires,
                help_text=_("不选则由办件涉及的全部部门办理"),
                widget=forms.CheckboxSelectMultiple,
            )
        if not transition.requires:
            self.fields["reason"] = _text(_("说明（选填）"), rows=2)

    def service_input(self) -> dict[str, Any]:
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if name in self.transition.requires and name != "departments"
        }
        departments = self.cleaned_data.get("departments")
        if departments:
            data["departments"] = [d.pk for d in departments]
        return data


class TaskCompleteForm(_Form):
    outcome = forms.ChoiceField(label=_("办理结果"), required=False)
    opinion = _text(_("办理意见"))

    def __init__(self, *args: Any, outcomes: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = outcomes  # type: ignore[attr-defined]


class ReturnForm(_Form):
    reason_code = forms.ChoiceField(label=_("退回原因"), choices=ReturnReason.choices)
    reason = _text(_("具体说明"), rows=2)


class ReassignForm(_Form):
    department = forms.ModelChoiceField(
        label=_("改派至部门"),
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        error_messages={"required": _("请选择改派的部门")},
    )
    reason = _text(_("改派理由"), rows=2)


class BreakLockForm(_Form):
    reason = _text(_("解锁理由"), rows=2)


class ExtendForm(_Form):
    amount = _whole_number(_("延长量"), 1, 5000, _("个单位"))
    reason = _text(_("延期理由"), rows=2)


class UrgeForm(_Form):
    department = forms.ModelChoiceField(
        label=_("被督办部门"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("牵头部门"),
    )
    note = _text(_("督办意见"))
    days = _whole_number(_("回复期限（工作日）"), 1, 60, _("个工作日"), initial=3)

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "urge")
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]


class UrgeAnswerForm(_Form):
    answer = _text(_("督办回复"))


class RatingForm(_Form):
    value = forms.ChoiceField(
        label=_("您对办理结果是否满意"),
        choices=RatingValue.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择满意程度")},
    )
    text = _text(_("意见和建议（选填）"))


class SupervisionFilterForm(_Form):
    type = forms.ChoiceField(label=_("办件类型"), required=False)
    start = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    division = forms.ModelChoiceField(
        label=_("行政区划"),
        queryset=Division.objects.none(),
        required=False,
        empty_label=_("全部区划"),
    )
    department = forms.ModelChoiceField(
        label=_("部门"),
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label=_("全部部门"),
    )

    #: Days shown when no period is given.
    DEFAULT_DAYS = 30

    def __init__(self, *args: Any, divisions: QuerySet[Division], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = _type_choices()  # type: ignore[attr-defined]
        self.fields["division"].queryset = divisions  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=self.DEFAULT_DAYS - 1)
        if start > end:
            raise ValidationError({"start": _("起始日期不能晚于截止日期")})
        if (end - start).days > 3660:
            raise ValidationError({"start": _("统计区间最长 10 年")})
        data["start"], data["end"] = start, end
        return data
