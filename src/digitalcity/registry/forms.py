"""Forms of the registry's staff pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Source


class SearchForm(forms.Form):
    """Either a key (ID number / credit code / organization code), or a name with a birth
    date or a division code."""

    q = forms.CharField(label=_("证件号码或信用代码"), required=False, max_length=30)
    name = forms.CharField(label=_("姓名"), required=False, max_length=50)
    birth_date = forms.DateField(label=_("出生日期"), required=False)
    division = forms.CharField(label=_("行政区划代码"), required=False, max_length=12)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("q") and not data.get("name"):
            raise ValidationError(_("请输入证件号码（信用代码），或姓名加出生日期/行政区划代码"))
        return data


class RevealForm(forms.Form):
    reason = forms.CharField(label=_("查看事由"), max_length=200)


class ResolveForm(forms.Form):
    action = forms.ChoiceField(
        label=_("处理方式"), choices=[("confirm", _("确认标准值")), ("correct", _("更正为"))]
    )
    value = forms.CharField(label=_("更正后的值"), required=False, max_length=200)
    reason = forms.CharField(
        label=_("理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class UploadForm(forms.Form):
    source = forms.ModelChoiceField(label=_("数据来源"), queryset=Source.objects.none())
    file = forms.FileField(label=_("文件（CSV 或 Excel .xlsx）"))
    data_date = forms.DateField(label=_("数据日期"), initial=timezone.localdate)

    def __init__(self, *args: Any, sources: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sources is not None:
            self.fields["source"].queryset = sources  # type: ignore[attr-defined]
