"""The abstract base of versions (history, with each field's provenance), shared by people
and organizations. The subject FK and the constraints live in the concrete models, which
name the subject."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import VersionCause

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise  # django-stubs' lazy-string type

__all__ = ["VersionBase", "bulk_fk"]


def bulk_fk(
    to: str,
    verbose_name: str | _StrPromise,
    *,
    on_delete: Callable[..., None],
    related_name: str = "+",
    null: bool = False,
    blank: bool = False,
    index: bool = False,
) -> models.ForeignKey[Any, Any]:
    """A FK on a table only registry.golden writes, in bulk: no database constraint (a
    per-row referential check per constraint made the load's commit its slowest step;
    deletes still cascade through the ORM), and an index only where a query needs one
    (`index`) — each index is written once per inserted row."""
    return models.ForeignKey(
        to,
        verbose_name=verbose_name,
        on_delete=on_delete,
        related_name=related_name,
        null=null,
        blank=blank,
        db_constraint=False,
        db_index=index,
    )


class VersionBase(models.Model):
    """A version of the golden record, valid from `valid_from` (the data date of the batch
    or the day of the decision) until `valid_to` (exclusive; null: the current one).

    `provenance` is each field's origin, compact (one JSON per version instead of a row
    per field): `{field: [source id, batch id, source record id, "ISO time"]}` — which
    source, which batch and record, and when the field last took this value from there.
    A batch or record id is null for a value a department set on a conflict. A change
    of provenance alone (the same value now from another source) updates the current
    version's provenance in place; a change of value is a new version.
    """

    version = models.PositiveIntegerField(_("版本号"))
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)
    snapshot = models.JSONField(_("快照"), default=dict)
    provenance = models.JSONField(_("字段来源"), default=dict)
    cause = models.CharField(_("原因"), max_length=12, choices=VersionCause.choices)
    batch = bulk_fk(
        "registry.ImportBatch", _("批次"), on_delete=models.PROTECT, null=True, blank=True
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        abstract = True
