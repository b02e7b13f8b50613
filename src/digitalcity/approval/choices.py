"""Named choices of the approval service (STYLE.md 8)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "ApplicantKind",
    "FieldType",
    "ItemKind",
    "LicenceStatus",
    "PauseKind",
    "ResultKind",
    "SupervisionLevel",
    "Visits",
]


class ApplicantKind(models.TextChoices):
    CITIZEN = "citizen", _("自然人")
    LEGAL_PERSON = "legal_person", _("法人")
    ANY = "any", _("自然人或法人")


class ItemKind(models.TextChoices):
    """即办件 are decided on the spot; 承诺件 within the promised limit."""

    IMMEDIATE = "immediate", _("即办件")
    PROMISED = "promised", _("承诺件")


class ResultKind(models.TextChoices):
    LICENCE = "licence", _("许可证件")
    DECISION = "decision", _("决定书")


class Visits(models.IntegerChoices):
    ZERO = 0, _("零跑动")
    ONE = 1, _("最多跑一次")
    MORE = 2, _("跑动多次")


class FieldType(models.TextChoices):
    TEXT = "text", _("文本")
    TEXTAREA = "textarea", _("多行文本")
    NUMBER = "number", _("数字")
    INTEGER = "integer", _("整数")
    DATE = "date", _("日期")
    CHOICE = "choice", _("单选")
    ID_NUMBER = "id_number", _("身份证号码")
    USCC = "uscc", _("统一社会信用代码")
    PHONE = "phone", _("手机号码")
    EMAIL = "email", _("电子邮箱")


class LicenceStatus(models.TextChoices):
    VALID = "valid", _("有效")
    REVOKED = "revoked", _("已撤销")


class PauseKind(models.TextChoices):
    """Art. 45 of the Administrative Licensing Law: time not counted. The value is the
    case state the pause puts the application in."""

    HEARING = "hearing", _("听证")
    INSPECTION = "inspection", _("检验检疫")
    TESTING = "testing", _("检测鉴定")
    EXPERT_REVIEW = "expert_review", _("专家评审")
    PUBLIC_NOTICE = "public_notice", _("公示")


class SupervisionLevel(models.TextChoices):
    WARNING = "warning", _("预警")
    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")
