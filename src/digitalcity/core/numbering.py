"""Human-readable case numbers: `SP-2026-000123`, unique per prefix and year.

Two ways to count (decision 0011):

* gap-free (the default): one `core.NumberSequence` row per prefix and year, locked by
  the creating transaction until it ends — statutory registers (licences, approval
  cases) where auditors count the numbers;
* not gap-free (`gap_free=False`): on PostgreSQL a database SEQUENCE per prefix and year
  (`dc_num_<prefix>_<year>`), whose `nextval` locks nothing until COMMIT, so creations
  with the prefix do not queue — references such as a 12345 work order's number. A
  rolled-back creation skips its number. On SQLite the row again (one writer anyway).
"""

from __future__ import annotations

import hashlib
import re

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from digitalcity.core.models import NumberSequence

__all__ = ["next_number", "sequence_name"]

_PREFIX = re.compile(r"[A-Z]{2,6}")

#: SQLSTATEs of a concurrent creation of the same sequence (duplicate_table, or
#: unique_violation on the catalogs' unique indexes).
_ALREADY_CREATED = {"42P07", "23505"}


def next_number(
    prefix: str, *, year: int | None = None, width: int = 6, gap_free: bool = True
) -> str:
    """Issue the next number for `prefix` in `year` (default: this year in TIME_ZONE).

    Call it inside the transaction that creates the numbered thing. With `gap_free`
    (the default) the counter row stays locked until that transaction ends, and a
    rollback returns the number, so numbers are gap-free. The price is that creations
    with the same prefix queue behind each other until commit. With `gap_free=False`
    the number comes from a PostgreSQL sequence instead (no lock held; a rollback leaves
    a gap); the first use of a prefix in a year creates the sequence, starting after
    the counter row's last value, so a prefix switched mid-year never reissues a number.
    On SQLite `gap_free=False` uses the row as well. A value wider than `width` digits is
    printed in full (numbers stay unique; only the padding stops).

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
        if not gap_free and connection.vendor == "postgresql":
            value = _from_sequence(prefix, year)
        else:
            value = _from_row(prefix, year)
    return f"{prefix}-{year}-{value:0{width}d}"


def sequence_name(prefix: str, year: int) -> str:
    """The PostgreSQL sequence behind `prefix`'s non-gap-free numbers in `year`.

    Built only from a validated prefix (A–Z) and an integer year, so it needs no quoting
    beyond the usual.
    """
    if not _PREFIX.fullmatch(prefix) or not 1 <= year <= 9999:
        raise ValueError(f"no number sequence for {prefix!r} {year!r}")
    return f"dc_num_{prefix.lower()}_{year}"


# --- gap-free: the counter row ------------------------------------------------


def _from_row(prefix: str, year: int) -> int:
    value = _increment(prefix, year)
    if value is None:
        # First number of the year. Two requests may both get here: ON CONFLICT DO
        # NOTHING lets exactly one insert the row, then both increment it in turn.
        NumberSequence.objects.bulk_create(
            [NumberSequence(prefix=prefix, year=year, last_value=0)], ignore_conflicts=True
        )
        value = _increment(prefix, year)
    assert value is not None  # noqa: S101 - the row exists now
    return value


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


# --- not gap-free: a PostgreSQL sequence ------------------------------------------


def _from_sequence(prefix: str, year: int) -> int:
    """nextval of the prefix's sequence for `year`, creating the sequence on first use.

    Steady state is one statement: `nextval(to_regclass(name))` is NULL (not an error,
    so the caller's transaction survives without a savepoint) while the sequence does
    not exist yet.
    """
    name = sequence_name(prefix, year)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(to_regclass(%s))", [name])
        row = cursor.fetchone()
        if row is not None and row[0] is not None:
            return int(row[0])
        _create_sequence(cursor, prefix, year, name)
        cursor.execute("SELECT nextval(%s::regclass)", [name])  # exists now, else raises
        (value,) = cursor.fetchone()
    return int(value)


def _create_sequence(cursor: CursorWrapper, prefix: str, year: int, name: str) -> None:
    """CREATE the sequence, starting after the counter row's last value (or at 1).

    First users of a prefix in a year serialize on a transaction-level advisory lock
    (held until their transactions end), so the second one waits until the first has
    committed (its sequence is then visible and IF NOT EXISTS skips it) or rolled back
    (then it creates the sequence itself). The start comes from an upsert of the counter
    row (a row with 0 if there was none) rather than a plain read: the upsert waits for
    a gap-free transaction still holding a number from the row — even one that is only
    now inserting the year's first row, which a SELECT … FOR SHARE would not see — so
    the sequence starts after that number too.
    """
    q = connection.ops.quote_name
    lock_key = int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8, person=b"dc.numbering").digest(),
        "big",
        signed=True,
    )
    table, value, prefix_, year_ = (
        q(n) for n in (NumberSequence._meta.db_table, "last_value", "prefix", "year")
    )
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key])
    cursor.execute(
        f"INSERT INTO {table} ({prefix_}, {year_}, {value}) VALUES (%s, %s, 0)"  # noqa: S608
        f" ON CONFLICT ({prefix_}, {year_}) DO UPDATE SET {value} = {table}.{value}"
        f" RETURNING {value}",
        [prefix, year],
    )
    (last,) = cursor.fetchone()
    start = int(last) + 1
    try:
        with transaction.atomic():  # a savepoint: only on first use, never in steady state
            cursor.execute(
                f"CREATE SEQUENCE IF NOT EXISTS {q(name)} AS bigint"
                f" MINVALUE 1 START WITH {start:d} NO CYCLE"
            )
    except DatabaseError as exc:
        # Someone outside this function (a manual CREATE, another tool) created it
        # between our look-up and our CREATE: use theirs.
        if getattr(exc.__cause__, "sqlstate", None) not in _ALREADY_CREATED:
            raise
