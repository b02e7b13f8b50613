"""Forms of the hotline pages; business rules stay in services (forms only parse)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from digitalcity.cases.choices import RatingValue, ReturnReason
from digitalcity.core.models import Department, Division, DivisionLevel

from .choices import DeadlineUnit, RequestType, Urgency
from .conf import center_code
from .models import Category

__all__ = [
    "AnswerForm",
    "CallbackForm",
    "DispatchForm",
    "ExtensionForm",
    "IntakeForm",
    "PortalForm",
    "ReplyForm",
    "ReturnForm",
    "ReviewReturnForm",
    "add_service_errors",
]


def _category_choices() -> list[tuple[str, str]]:
    rows = Category.objects.filter(is_active=True).order_by("code").values_list("code", "name")
    return [("", "——")] + [
        (code, f"{code} {'　' * (len(code) // 2 - 1)}{name}") for code, name in rows
    ]


def _division_choices() -> list[tuple[str, str]]:
    """The city's divisions an order can be placed in: those of the departments and two
    levels below them (districts, streets and towns; not the thousands of the country)."""
    roots = set(
        Department.objects.filter(is_active=True, division__isnull=False).values_list(
            "division_id", flat=True
        )
    )
    rows = (
        Division.objects.filter(
            Q(pk__in=roots) | Q(parent_id__in=roots) | Q(parent__parent_id__in=roots)
        )
        .exclude(level__in=(DivisionLevel.PROVINCE, DivisionLevel.COMMUNITY))
        .order_by("code")
        .values_list("code", "name", "level")
    )
    depth: dict[str, int] = {DivisionLevel.CITY: 0, DivisionLevel.COUNTY: 1}
    choices: list[tuple[str, str]] = [("", str(_("——（不详）")))]
    choices += [(code, f"{'　' * depth.get(level, 2)}{name}") for code, name, level in rows]
    return choices


class IntakeForm(forms.Form):
    """The agent's (and the citizen's) order form; the service validates the rules."""

    caller_phone = forms.CharField(label=_("来电号码"), max_length=20, required=False)
    caller_name = forms.CharField(label=_("诉求人姓名"), max_length=50, required=False)
    request_type = forms.ChoiceField(label=_("诉求类型"), choices=RequestType.choices)
    urgency = forms.ChoiceField(
        label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL
    )
    category = forms.ChoiceField(label=_("诉求分类"), choices=())
    description = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 5}))
    address = forms.CharField(label=_("事发地址"), max_length=200, required=False)
    division = forms.ChoiceField(label=_("所在区划"), choices=(), required=False)
    lat = forms.FloatField(label=_("纬度"), required=False)
    lon = forms.FloatField(label=_("经度"), required=False)
    is_confidential = forms.BooleanField(label=_("为诉求人保密"), required=False)
    anonymous = forms.BooleanField(label=_("匿名"), required=False)
    call_id = forms.CharField(required=False, widget=forms.HiddenInput)
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _category_choices()  # type: ignore[attr-defined]
        self.fields["division"].choices = _division_choices()  # type: ignore[attr-defined]


class PortalForm(IntakeForm):
    """The citizen's web form: the same fields, the phone is the citizen's contact number."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["caller_phone"].label = _("联系电话")
        self.fields["caller_phone"].help_text = _("不填则使用账户登记的手机号")


class DispatchForm(forms.Form):
    lead = forms.ModelChoiceField(label=_("主办部门"), queryset=Department.objects.none())
    co_handlers = forms.ModelMultipleChoiceField(
        label=_("协办部门"), queryset=Department.objects.none(), required=False
    )
    note = forms.CharField(label=_("派单说明"), max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        active = (
            Department.objects.filter(is_active=True)
            .exclude(code=center_code())
            .order_by("division__code", "code")
        )
        self.fields["lead"].queryset = active  # type: ignore[attr-defined]
        self.fields["co_handlers"].queryset = active  # type: ignore[attr-defined]


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label=_("办理结果（答复诉求人）"), widget=forms.Textarea(attrs={"rows": 4})
    )


class AnswerForm(forms.Form):
    reply = forms.CharField(label=_("答复内容"), widget=forms.Textarea(attrs={"rows": 4}))
    knowledge_ref = forms.CharField(label=_("引用知识"), max_length=100, required=False)


class ReturnForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("退单原因"), choices=ReturnReason.choices)
    reason = forms.CharField(label=_("说明"), max_length=500, required=False)


class ReviewReturnForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("审核结论"),
        choices=(("1", _("同意退单并改派")), ("0", _("驳回退单"))),
        coerce=lambda v: v == "1",
    )
    department = forms.ModelChoiceField(
        label=_("改派部门"), queryset=Department.objects.none(), required=False
    )
    note = forms.CharField(label=_("审核意见"), max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(  # type: ignore[attr-defined]
            is_active=True
        ).order_by("division__code", "code")


class ExtensionForm(forms.Form):
    """An extension counts in the unit of the order's rule (`unit`, a DeadlineUnit)."""

    amount = forms.IntegerField(label=_("延长量"), min_value=1)
    reason = forms.CharField(label=_("延期理由"), max_length=500)

    def __init__(self, *args: Any, unit: str = DeadlineUnit.WORKDAYS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount"].label = _("延长量（%(u)s）") % {"u": DeadlineUnit(unit).label}


class CallbackForm(forms.Form):
    solved = forms.TypedChoiceField(
        label=_("问题是否解决"),
        choices=(("1", _("已解决")), ("0", _("未解决"))),
        coerce=lambda v: v == "1",
    )
    value = forms.ChoiceField(label=_("满意度"), choices=RatingValue.choices)
    note = forms.CharField(label=_("回访记录"), max_length=1000, required=False)


class MergeForm(forms.Form):
    into = forms.CharField(label=_("并入工单编号"), max_length=32)


class UrgeForm(forms.Form):
    note = forms.CharField(label=_("督办意见"), max_length=500)


class DecisionForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("审核结论"),
        choices=(("1", _("批准")), ("0", _("不批准"))),
        coerce=lambda v: v == "1",
    )
    note = forms.CharField(label=_("审核意见"), max_length=500, required=False)


class CatalogueImportForm(forms.Form):
    file = forms.FileField(label=_("派单目录 Excel 文件"))
    note = forms.CharField(label=_("修订说明"), max_length=200, required=False)


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError next to the form's fields (or on top)."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
