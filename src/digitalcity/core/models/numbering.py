"""Counters behind human-readable case numbers (`SP-2026-000123`); see core/numbering.py."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["NumberSequence"]


class NumberSequence(models.Model):
    """The last number issued for one prefix in one year; a new year starts a new row."""

    prefix = models.CharField(_("编号前缀"), max_length=6)
    year = models.PositiveSmallIntegerField(_("年份"))
    last_value = models.PositiveIntegerField(_("已发号"), default=0)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = _("编号序列")
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="uniq_number_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last_value}"
