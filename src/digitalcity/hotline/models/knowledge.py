"""The knowledge base (政府热线知识库, GB/T 44191), the dispatch classifier's models and
the Open311 callers.

A `KnowledgeEntry` is one question an agent may be asked; its text lives in numbered
`KnowledgeVersion` rows. Editing a published entry makes a new draft version; a version
is reviewed by someone other than its author before it is published; publishing one
supersedes the entry's earlier published version; withdrawing takes the entry off the
agents' search. Only the published version inside its validity dates is shown to agents
(knowledge.py; the full-text index holds published versions only).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models.base import ActiveMixin, AuditedMixin, TimestampedMixin

__all__ = [
    "DispatchModel",
    "KnowledgeCategory",
    "KnowledgeEntry",
    "KnowledgeState",
    "KnowledgeVersion",
    "Open311Client",
    "Open311Submission",
]

_USER = settings.AUTH_USER_MODEL


class KnowledgeState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    REVIEW = "review", _("待审核")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已被新版本替代")
    WITHDRAWN = "withdrawn", _("已撤回")


class KnowledgeCategory(AuditedMixin, TimestampedMixin, ActiveMixin, models.Model):
    code = models.CharField(_("分类代码"), max_length=20, unique=True)
    name = models.CharField(_("分类名称"), max_length=60)

    class Meta:
        verbose_name = _("知识分类")
        verbose_name_plural = _("知识分类")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class KnowledgeEntry(AuditedMixin, TimestampedMixin, models.Model):
    """One knowledge item; its current public text is `published` (None when none is)."""

    number = models.CharField(_("知识编号"), max_length=20, unique=True)
    category = models.ForeignKey(
        KnowledgeCategory,
        verbose_name=_("知识分类"),
        on_delete=models.PROTECT,
        related_name="entries",
    )
    owner_department = models.ForeignKey(
        "core.Department",
        verbose_name=_("责任部门"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    published = models.OneToOneField(
        "hotline.KnowledgeVersion",
        verbose_name=_("当前发布版本"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        _USER, verbose_name=_("创建人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    use_count = models.PositiveIntegerField(_("引用答复次数"), default=0)

    class Meta:
        verbose_name = _("知识条目")
        verbose_name_plural = _("知识条目")
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.number


class KnowledgeVersion(TimestampedMixin, models.Model):
    entry = models.ForeignKey(
        KnowledgeEntry,
        verbose_name=_("知识条目"),
        on_delete=models.CASCADE,
        related_name="versions",
    )
    number = models.PositiveIntegerField(_("版本号"))
    title = models.CharField(_("标题（问题）"), max_length=200)
    body = models.TextField(_("答复口径"))
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("失效日期"), null=True, blank=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=KnowledgeState.choices, default=KnowledgeState.DRAFT
    )
    author = models.ForeignKey(
        _USER, verbose_name=_("编写人"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    reviewer = models.ForeignKey(
        _USER,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=500, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        _USER,
        verbose_name=_("撤回人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdraw_reason = models.CharField(_("撤回原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("知识版本")
        verbose_name_plural = _("知识版本")
        ordering = ["entry", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "number"], name="hotline_kv_number_uniq"),
            # At most one version of an entry is being written or reviewed at a time.
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(state__in=["draft", "review"]),
                name="hotline_kv_one_open",
            ),
        ]
        indexes = [models.Index(fields=["state", "valid_until"], name="hotline_kv_state_until")]

    def __str__(self) -> str:
        return f"{self.entry_id} v{self.number}"

    def is_valid_on(self, day: object) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)  # type: ignore[operator]


class DispatchModel(models.Model):
    """One trained version of the dispatch classifier (classifier.py), as JSON arrays."""

    version = models.PositiveIntegerField(_("版本号"), unique=True)
    trained_at = models.DateTimeField(_("训练时间"), default=timezone.now)
    samples = models.PositiveIntegerField(_("训练工单数"))
    departments = models.PositiveIntegerField(_("部门数"))
    accuracy = models.FloatField(_("留出验证准确率"), null=True, blank=True)
    tested = models.PositiveIntegerField(_("验证工单数"), default=0)
    classes = models.JSONField(_("部门编号"))
    vocabulary = models.JSONField(_("词表"))
    idf = models.JSONField(_("逆文档频率"))
    coef = models.JSONField(_("权重矩阵"))
    intercept = models.JSONField(_("截距"))

    class Meta:
        verbose_name = _("派单模型")
        verbose_name_plural = _("派单模型")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"

    def fitted(self):  # type: ignore[no-untyped-def]
        from ..classifier import Fitted

        return Fitted(
            classes=list(self.classes),
            vocabulary=list(self.vocabulary),
            idf=list(self.idf),
            coef=[list(row) for row in self.coef],
            intercept=list(self.intercept),
        )


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Open311Client(AuditedMixin, TimestampedMixin, ActiveMixin, models.Model):
    """A system allowed to POST service requests (Open311 `api_key`); only a hash is kept."""

    name = models.CharField(_("调用系统名称"), max_length=100)
    key_prefix = models.CharField(_("密钥前缀"), max_length=8, editable=False)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    jurisdiction_id = models.CharField(_("管辖区标识"), max_length=100, blank=True)
    contact = models.CharField(_("联系人"), max_length=100, blank=True)
    rate_per_minute = models.PositiveIntegerField(_("每分钟提交上限"), default=600)
    deferred = models.BooleanField(
        _("延迟创建"),
        default=False,
        help_text=_("开启后提交只返回 token，工单由后台创建，调用方以 GET tokens/{token} 取编号"),
    )
    audit_exclude = ("key_hash",)

    class Meta:
        verbose_name = _("Open311 调用系统")
        verbose_name_plural = _("Open311 调用系统")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.key_prefix}…）"


class Open311Submission(models.Model):
    """One POST from a calling system; `token` answers GET tokens/{token}, and the rows
    are what the per-system rate limit counts.

    The order is found by `intake_key`, the idempotency key the order was made with (the
    system's own key, or one derived from the token): the row is written *before* the
    order, outside the time the case-number row is locked (docs/open311.md). A deferred
    submission keeps its form in `payload` until the worker makes the order and sets
    `order`."""

    token = models.CharField(_("令牌"), max_length=40, unique=True)
    client = models.ForeignKey(
        Open311Client, verbose_name=_("调用系统"), on_delete=models.PROTECT, related_name="+"
    )
    intake_key = models.CharField(_("工单幂等键"), max_length=64, db_index=True, default="")
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    payload = models.JSONField(_("待处理的提交内容"), default=dict, blank=True)
    order = models.ForeignKey(
        "hotline.WorkOrder",
        verbose_name=_("工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    error = models.TextField(_("未受理原因"), blank=True)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 提交")
        verbose_name_plural = _("Open311 提交")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["client", "created_at"], name="hotline_o311_client_at"),
            models.Index(
                fields=["created_at"],
                condition=Q(processed_at__isnull=True),
                name="hotline_o311_pending",
            ),
        ]

    def __str__(self) -> str:
        return self.token
