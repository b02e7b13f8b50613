"""Human-readable case numbers: `SP-2026-000123`, unique and gap-free per prefix and year."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models import NumberSequence

__all__ = ["next_number"]

_PREFIX = re.compile(r"[A-Z]{2,6}")


def next_number(prefix: str, *, year: int | None = None, width: int = 6) -> str:
    """Issue the next number for `prefix` in `year` (default: this year in TIME_ZONE).

    Call it inside the transaction that creates the numbered thing: the counter row stays
    locked until that transaction ends, and a rollback returns the number, so numbers
    are gap-free. The price is that creations with the same prefix queue behind each
    other until commit. A value wider than `width` digits is printed in full (numbers
    stay unique; only the padding stops).

    Raises ValidationError if the prefix is not 2–6 letters A–Z.
    """
    if not _PREFIX.fullmatch(prefix):
        message = _("编号前缀须为 2 至 6 位大写英文字母（A–Z），“%(value)s”不符合。")
        raise ValidationError(
            {"prefix": ValidationError(message, code="invalid", params={"value": prefix})}
        )
    if year is None:
        year = timezone.localdate().year
    if not 1 <= year <= 9999:
        raise ValidationError({"year": _("编号年份须在 1 至 9999 之间。")})
    if width < 1:
        raise ValidationError({"width": _("编号位数须至少为 1。")})

    # No savepoint inside a caller's transaction (savepoint=False): a failure here fails
    # the caller's whole transaction anyway, and the savepoint pair cost two statements
    # on every case opened.
    with transaction.atomic(savepoint=False):
        value = _increment(prefix, year)
        if value is None:
            # First number of the year. Two requests may both get here: ON CONFLICT DO
            # NOTHING lets exactly one insert the row, then both increment it in turn.
            NumberSequence.objects.bulk_create(
                [NumberSequence(prefix=prefix, year=year, last_value=0)], ignore_conflicts=True
            )
            value = _increment(prefix, year)
        assert value is not None  # noqa: S101 - the row exists now
    return f"{prefix}-{year}-{value:0{width}d}"


def _increment(prefix: str, year: int) -> int | None:
    """Add one to the counter row and return its new value (None if there is no row).

    The UPDATE takes the row lock (PostgreSQL re-reads the committed value after
    waiting; SQLite's IMMEDIATE transactions already queue writers), so the value read
    back is our own increment and nobody else's: one `UPDATE … RETURNING` statement
    where the database has it (PostgreSQL, SQLite ≥ 3.35), else an UPDATE and a SELECT.
    """
    if connection.features.can_return_rows_from_bulk_insert:
        q = connection.ops.quote_name
        table, value, prefix_, year_ = (
            q(name) for name in (NumberSequence._meta.db_table, "last_value", "prefix", "year")
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {value} = {value} + 1"  # noqa: S608 - fixed text
                f" WHERE {prefix_} = %s AND {year_} = %s RETURNING {value}",
                [prefix, year],
            )
            row = cursor.fetchone()
        return None if row is None else int(row[0])
    rows = NumberSequence.objects.filter(prefix=prefix, year=year)  # pragma: no cover
    if not rows.update(last_value=F("last_value") + 1):  # pragma: no cover
        return None
    return int(rows.values_list("last_value", flat=True).get())  # pragma: no cover
