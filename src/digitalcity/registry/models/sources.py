"""Sources (one per department feed), the golden-record rules, batches and source records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models.base import AuditedMixin, TimestampedMixin

from ..choices import BatchFormat, BatchStatus, Entity, LinkMethod

__all__ = ["FieldRule", "ImportBatch", "Source", "SourceRecord"]


class Source(AuditedMixin, TimestampedMixin, models.Model):
    """A department's feed. `mapping` maps the department's column headers (or JSON keys)
    to our field names (registry.fields); `key_field` is the field that identifies the
    subject: "id_number" for people, "uscc" for organizations."""

    code = models.SlugField(_("来源代码"), max_length=40, unique=True)
    name = models.CharField(_("来源名称"), max_length=100)
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("提供部门"),
        on_delete=models.PROTECT,
        related_name="registry_sources",
    )
    entity = models.CharField(_("数据对象"), max_length=16, choices=Entity.choices)
    mapping = models.JSONField(_("字段映射"), default=dict)
    key_field = models.CharField(_("主键字段"), max_length=40)
    active = models.BooleanField(_("启用"), default=True)
    description = models.TextField(_("说明"), blank=True)
    # sha256 of the push token: the token itself is shown once, when issued.
    api_token_hash = models.CharField(_("推送令牌摘要"), max_length=64, blank=True, db_index=True)

    audit_exclude = ("api_token_hash",)

    class Meta:
        verbose_name = _("数据来源")
        verbose_name_plural = _("数据来源")
        ordering = ["entity", "code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class FieldRule(AuditedMixin, TimestampedMixin, models.Model):
    """Which sources give a golden field, in order: the first is authoritative (一数一源),
    the rest are the fallback order and the cross-check (多元校核)."""

    entity = models.CharField(_("数据对象"), max_length=16, choices=Entity.choices)
    field = models.CharField(_("字段"), max_length=40)
    sources = models.JSONField(_("来源顺序"), default=list)
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("责任部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="registry_field_rules",
        help_text=_("冲突送达的部门；为空时为权威来源所属部门"),
    )

    class Meta:
        verbose_name = _("字段规则")
        verbose_name_plural = _("字段规则")
        ordering = ["entity", "field"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "field"], name="registry_uniq_field_rule")
        ]

    def __str__(self) -> str:
        return f"{self.get_entity_display()}.{self.field}"


class ImportBatch(TimestampedMixin, models.Model):
    """One delivery of a source: a file or an API push, validated and committed whole."""

    source = models.ForeignKey(
        Source, verbose_name=_("来源"), on_delete=models.PROTECT, related_name="batches"
    )
    file = models.ForeignKey(
        "core.StoredFile",
        verbose_name=_("文件"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    file_sha256 = models.CharField(_("内容摘要"), max_length=64, db_index=True)
    format = models.CharField(_("格式"), max_length=8, choices=BatchFormat.choices)
    encoding = models.CharField(_("字符编码"), max_length=20, blank=True)
    data_date = models.DateField(_("数据日期"), help_text=_("数据所反映的日期，历史版本自此生效"))
    status = models.CharField(
        _("状态"), max_length=12, choices=BatchStatus.choices, default=BatchStatus.PENDING
    )
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    rows_ok = models.PositiveIntegerField(_("有效行数"), default=0)
    rows_failed = models.PositiveIntegerField(_("错误行数"), default=0)
    rows_new = models.PositiveIntegerField(_("新增记录"), default=0)
    rows_changed = models.PositiveIntegerField(_("变更记录"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("未变记录"), default=0)
    error_report = models.JSONField(_("错误报告"), default=list, blank=True)
    message = models.TextField(_("处理说明"), blank=True)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Re-importing the same content changes nothing: one loaded batch per content.
            models.UniqueConstraint(
                fields=["source", "file_sha256"],
                condition=Q(status="loaded"),
                name="registry_uniq_loaded_content",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source.code} #{self.pk}"


class SourceRecord(models.Model):
    """One row as a source delivered it (`raw`) and as we normalised it (`data`).

    A row whose content changed in a later batch becomes a new version: the old one
    stays, with `is_current` false and `superseded_by` the new one. `key` is the
    normalised ID number / credit code when `key_valid`; rows without a valid key wait
    for linkage (registry.linkage).
    """

    source = models.ForeignKey(
        Source,
        verbose_name=_("来源"),
        on_delete=models.PROTECT,
        related_name="records",
        db_constraint=False,  # bulk-written: see models/history.bulk_fk
        db_index=False,  # covered by the (source, row_hash) and batch indexes below
    )
    batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("批次"),
        on_delete=models.PROTECT,
        related_name="records",
        db_constraint=False,  # bulk-written: see models/history.bulk_fk
        db_index=False,  # covered by the (source, row_hash) and batch indexes below
    )
    row_no = models.PositiveIntegerField(_("行号"), default=0)
    # NULL, not "": rows without a valid key stay out of the unique current-key constraint.
    key = models.CharField(_("主键"), max_length=18, null=True, blank=True)  # noqa: DJ001
    key_valid = models.BooleanField(_("主键有效"), default=False)
    row_hash = models.CharField(_("行摘要"), max_length=64)
    raw = models.JSONField(_("原始数据"), default=dict)
    data = models.JSONField(_("规范化数据"), default=dict)
    person = models.ForeignKey(
        "registry.Person",
        verbose_name=_("人口"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="records",
        db_constraint=False,  # bulk-written: see models/history.bulk_fk
        db_index=False,  # covered by the (source, row_hash) and batch indexes below
    )
    organization = models.ForeignKey(
        "registry.Organization",
        verbose_name=_("法人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="records",
        db_constraint=False,  # bulk-written: see models/history.bulk_fk
        db_index=False,  # covered by the (source, row_hash) and batch indexes below
    )
    is_current = models.BooleanField(_("当前版本"), default=True)
    superseded_by = models.ForeignKey(
        "self",
        verbose_name=_("被取代于"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # bulk-written: see models/history.bulk_fk
        db_index=False,  # followed forwards only (old version -> new)
    )
    link_method = models.CharField(
        _("关联方式"), max_length=16, choices=LinkMethod.choices, default=LinkMethod.NONE
    )
    link_probability = models.FloatField(_("关联概率"), null=True, blank=True)

    class Meta:
        verbose_name = _("来源记录")
        verbose_name_plural = _("来源记录")
        ordering = ["source", "key", "-id"]
        indexes = [
            models.Index(fields=["source", "row_hash"], name="registry_rec_hash"),
            models.Index(fields=["key", "is_current"], name="registry_rec_key"),
            models.Index(fields=["batch"], name="registry_rec_batch"),
            # The golden rebuild finds a person's keyless records (linked by linkage or
            # review) by their link; keyed records it finds by key. Partial: a few % of
            # the rows, so the bulk insert barely pays for it.
            models.Index(
                fields=["person"], condition=Q(key_valid=False), name="registry_rec_unkeyed"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "key"],
                condition=Q(is_current=True, key__isnull=False),
                name="registry_uniq_current_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.key or self.row_hash[:8]}"
