"""Named choices of the registry (STYLE.md 8)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "BatchFormat",
    "BatchStatus",
    "ConflictState",
    "Entity",
    "EventKind",
    "InsuranceStatus",
    "LinkMethod",
    "LinkState",
    "MaritalStatus",
    "OrganizationStatus",
    "PersonStatus",
    "TaxStatus",
    "VersionCause",
]


class Entity(models.TextChoices):
    PERSON = "person", _("人口")
    ORGANIZATION = "organization", _("法人")


class BatchStatus(models.TextChoices):
    PENDING = "pending", _("待处理")
    VALIDATING = "validating", _("校验中")
    REFUSED = "refused", _("已拒绝")
    LOADING = "loading", _("入库中")
    LOADED = "loaded", _("已入库")
    FAILED = "failed", _("失败")


class BatchFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel")
    JSON = "json", _("JSON")
    API = "api", _("接口推送")


class LinkMethod(models.TextChoices):
    EXACT = "exact", _("证件号精确匹配")
    PROBABILISTIC = "probabilistic", _("概率匹配")
    MANUAL = "manual", _("人工确认")
    NONE = "none", _("未关联")


class LinkState(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACCEPTED = "accepted", _("已接受")
    REJECTED = "rejected", _("已拒绝")
    AUTO_LINKED = "auto_linked", _("自动关联")


class ConflictState(models.TextChoices):
    OPEN = "open", _("待核实")
    CONFIRMED = "confirmed", _("已确认原值")
    CORRECTED = "corrected", _("已更正")
    DISMISSED = "dismissed", _("已撤销")


class PersonStatus(models.TextChoices):
    LIVING = "living", _("正常")
    DECEASED = "deceased", _("死亡")
    MOVED_OUT = "moved_out", _("迁出")


class MaritalStatus(models.TextChoices):
    UNMARRIED = "unmarried", _("未婚")
    MARRIED = "married", _("已婚")
    DIVORCED = "divorced", _("离婚")
    WIDOWED = "widowed", _("丧偶")


class InsuranceStatus(models.TextChoices):
    INSURED = "insured", _("参保")
    SUSPENDED = "suspended", _("暂停参保")
    TERMINATED = "terminated", _("终止参保")
    NONE = "none", _("未参保")


class OrganizationStatus(models.TextChoices):
    ACTIVE = "active", _("存续")
    CANCELLED = "cancelled", _("注销")
    REVOKED = "revoked", _("吊销")


class TaxStatus(models.TextChoices):
    NORMAL = "normal", _("正常")
    ABNORMAL = "abnormal", _("非正常户")
    DEREGISTERED = "deregistered", _("注销")


class EventKind(models.TextChoices):
    REGISTERED = "registered", _("首次登记")
    BIRTH = "birth", _("出生")
    DEATH = "death", _("死亡")
    MOVE = "move", _("迁移")
    MOVE_OUT = "move_out", _("迁出")
    NAME_CHANGE = "name_change", _("姓名变更")
    MARRIAGE = "marriage", _("婚姻状况变更")


class VersionCause(models.TextChoices):
    BATCH = "batch", _("批次导入")
    CONFLICT = "conflict", _("冲突处理")
    LINK = "link", _("关联合并")
    REBUILD = "rebuild", _("重新计算")
