"""Forms of the approval pages; the application form itself comes from the item's
`form_spec` (formspec.build_form)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from digitalcity.cases.choices import TaskOutcome

from .choices import PauseKind
from .models import Application

__all__ = [
    "CorrectionRequestForm",
    "DecisionForm",
    "OnBehalfForm",
    "OpinionForm",
    "PauseForm",
    "ReasonForm",
    "RefusalForm",
    "ReviewForm",
    "add_errors",
]


def add_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names, else on top."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def _text(label: Any, *, rows: int = 3, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, widget=forms.Textarea(attrs={"rows": rows}), max_length=4000
    )


class OnBehalfForm(forms.Form):
    """Window staff applying for someone: who the applicant is."""

    name = forms.CharField(label=_("申请人姓名或名称"), max_length=100)
    number = forms.CharField(label=_("身份证号码或统一社会信用代码"), max_length=18)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)


class OpinionForm(forms.Form):
    opinion = _text(_("受理意见"), rows=2, required=False)


class CorrectionRequestForm(forms.Form):
    """One line per problem; the materials ticked are the ones to upload again."""

    def __init__(self, *args: Any, application: Application, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.application = application
        for material in application.item.materials.all():
            self.fields[f"m_{material.code}"] = forms.CharField(
                label=material.name,
                required=False,
                max_length=500,
                help_text=_("需补正的问题；无问题留空"),
            )
        self.fields["m_form"] = forms.CharField(
            label=_("申请表"), required=False, max_length=500, help_text=_("申请表需补正的问题")
        )

    def items(self) -> list[dict[str, str]]:
        found = []
        for name, value in self.cleaned_data.items():
            if value and value.strip():
                code = name[2:]
                found.append({"material": "" if code == "form" else code, "problem": value})
        return found


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("审查结果"),
        choices=[(TaskOutcome.AGREE, _("同意")), (TaskOutcome.DISAGREE, _("不同意"))],
    )
    opinion = _text(_("审查意见"))


class PauseForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("暂停事由（《行政许可法》第四十五条）"), choices=PauseKind.choices
    )
    reason = _text(_("说明"), rows=2)


class ReasonForm(forms.Form):
    reason = _text(_("理由"), rows=2)


class DecisionForm(forms.Form):
    opinion = _text(_("决定意见"), rows=2)
    scope = forms.CharField(label=_("许可范围"), max_length=500, required=False)


class RefusalForm(forms.Form):
    reasons = _text(_("理由"), rows=3)
    legal_basis = forms.CharField(label=_("法律依据"), max_length=500)


class RevokeForm(forms.Form):
    reason = _text(_("撤销理由"), rows=2)
    legal_basis = forms.CharField(label=_("法律依据"), max_length=500)


class CatalogImportForm(forms.Form):
    file = forms.FileField(label=_("事项清单（.xlsx）"))


class PeriodForm(forms.Form):
    # <input type="date"> takes only ISO dates; the locale's 2026/10/01 leaves it blank.
    start = forms.DateField(
        label=_("开始日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("结束日期（不含）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    by = forms.ChoiceField(
        label=_("统计维度"),
        choices=[("department", _("按部门")), ("division", _("按区划"))],
        required=False,
    )
