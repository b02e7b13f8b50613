"""Candidate links of records without a valid key (logic: registry.linkage / review)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import LinkState

__all__ = ["LinkCandidate"]


class LinkCandidate(models.Model):
    """A proposed match of a keyless source record to a person, with its probability and
    the comparison levels that drove it; staff accept or reject those in the review band."""

    record = models.ForeignKey(
        "registry.SourceRecord",
        verbose_name=_("来源记录"),
        on_delete=models.CASCADE,
        related_name="link_candidates",
    )
    person = models.ForeignKey(
        "registry.Person",
        verbose_name=_("候选人口"),
        on_delete=models.CASCADE,
        related_name="link_candidates",
    )
    probability = models.FloatField(_("匹配概率"))
    match_weight = models.FloatField(_("匹配权重"), default=0.0)
    state = models.CharField(
        _("状态"), max_length=12, choices=LinkState.choices, default=LinkState.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    explanation = models.JSONField(_("匹配说明"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("关联候选")
        verbose_name_plural = _("关联候选")
        ordering = ["-probability", "id"]
        indexes = [models.Index(fields=["state", "probability"], name="registry_link_queue")]
        constraints = [
            models.UniqueConstraint(fields=["record", "person"], name="registry_uniq_candidate")
        ]

    def __str__(self) -> str:
        return f"{self.record_id}→{self.person_id} ({self.probability:.2f})"
