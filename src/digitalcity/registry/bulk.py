"""Set-based writes on both engines (DESIGN.md: never a save() per row).

PostgreSQL: COPY (psycopg 3 `cursor.copy`) into the table or a temporary staging table,
then INSERT … SELECT / UPDATE … FROM. SQLite: executemany in chunks, then the same SQL
(SQLite ≥ 3.33 has UPDATE … FROM). Identifiers passed here are our own table and
column names, never user input; values always travel as parameters or COPY data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from django.db import connection
from django.db.models import Model

__all__ = [
    "CHUNK",
    "analyze_if_grown",
    "analyzed_columns",
    "any_of",
    "dumps",
    "fetch",
    "insert_rows",
    "is_postgres",
    "reserve_ids",
    "staging_table",
    "table",
    "update_rows",
    "write_rows",
]

CHUNK = 5000
_TYPES = {
    # generic -> (PostgreSQL, SQLite)
    "int": ("bigint", "integer"),
    "text": ("text", "text"),
    "bool": ("boolean", "integer"),
    "json": ("jsonb", "text"),
    "date": ("date", "text"),
    "timestamp": ("timestamptz", "text"),
}


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def table(model: type[Model]) -> str:
    return model._meta.db_table


# The standard library's encoder, for what orjson does not take (non-string keys, lone
# surrogates, integers beyond 64 bits); one instance: json.dumps with options builds a
# new encoder each time.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def dumps(value: Any) -> str:
    """JSON as we store it: compact, Chinese kept readable, keys sorted (so the text is
    also the input of the row hash).

    orjson writes the same text as the standard library's compact, sorted, non-ASCII
    encoder for everything an import stores (strings, integers, booleans, None, lists
    and dicts with string keys: `tests/test_json.py` checks it) at a fifth of the cost —
    two encodes per imported row and two per golden version (bench/registry.py). Floats
    may be spelled differently (1e-05 vs 1e-5): normalised data holds no floats, and a
    float in a raw cell only changes the stored raw text, not the row's hash.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        return _ENCODER.encode(value)


def loads(text: str | bytes) -> Any:
    """Parse stored JSON (orjson: several times the standard library's speed; the
    standard library for what orjson refuses, such as integers beyond 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def any_of(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """`column` is one of `values`, as SQL and parameters: `= ANY(%s)` with one array
    parameter (ints: bigint[]) on PostgreSQL — 10,000 keys as 10,000 placeholders cost
    more to build and parse than the query costs to run —, `IN (%s, …)` on SQLite."""
    if not values:
        return "1 = 0", []
    if is_postgres():
        items = list(values)
        if isinstance(items[0], int):
            # Our ids are bigint; psycopg sends small ints as integer[], and bigint =
            # integer is a cross-type operator PostgreSQL cannot hash: every row would
            # be compared with the whole array.
            return f"{column} = ANY(%s::bigint[])", [items]
        return f"{column} = ANY(%s)", [items]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def analyze_if_grown(name: str, inserted: int, columns: Sequence[str] = ()) -> None:
    """ANALYZE table `name` (PostgreSQL) when a load just grew it by a fifth or more.

    Lookups that follow in the same transaction (the golden build, the next batch) are
    planned from the statistics; a planner still believing the table small walks whole
    indexes instead of looking keys up. Autovacuum comes too late (after the commit).
    `columns`: only the ones lookups filter on (the JSON columns cost most to sample).
    """
    if not is_postgres() or inserted < 10000:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [name])
        row = cursor.fetchone()
        # A fifth (as docs/registry.md says; it was half): statistics a batch or two
        # behind misjudge how much of the table a chunk's lookups touch.
        if row is not None and inserted * 5 >= max(row[0], 0):
            cursor.execute(f"ANALYZE {name}{analyzed_columns(columns)}")


def analyzed_columns(columns: Sequence[str]) -> str:
    return f" ({', '.join(columns)})" if columns else ""


def fetch(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of a raw query (our SQL; values as parameters)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def write_rows(name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Append `rows` to table `name`; returns how many. Values must already be in the
    database's form (see `db_value`)."""
    count = 0
    cols = ", ".join(columns)
    with connection.cursor() as cursor:
        if is_postgres():
            with cursor.cursor.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        sql = f"INSERT INTO {name} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608 — our identifiers
        chunk: list[Sequence[Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


def insert_rows(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Bulk insert into `model`'s table (no ids returned: callers read back by natural key)."""
    return write_rows(table(model), columns, rows)


@contextmanager
def staging_table(name: str, columns: Sequence[tuple[str, str]]) -> Iterator[str]:
    """A temporary table `name` with `columns` ((name, generic type) pairs), dropped on exit.

    Temporary tables belong to the connection, so two imports in two processes never
    see each other's rows.
    """
    pg = is_postgres()
    defs = ", ".join(f"{col} {_TYPES[kind][0 if pg else 1]}" for col, kind in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"CREATE TEMPORARY TABLE {name} ({defs})")
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """`count` primary keys for rows the caller will insert with explicit ids, so that rows
    pointing at them can be written first (one statement, no read-back).

    PostgreSQL: from the table's sequence. SQLite: above the current maximum — safe because
    the caller holds SQLite's single write lock (transaction_mode IMMEDIATE) until commit.
    """
    if count <= 0:
        return []
    name = table(model)
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [name, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {name}")  # noqa: S608 — our table
        top = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [name])
        row = cursor.fetchone()
        start = max(top, row[0] if row else 0) + 1
    return list(range(start, start + count))


def update_rows(
    model: type[Model],
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[Any]],
    *,
    key: str = "id",
) -> int:
    """Set `columns` of `model`'s rows from `rows` (first value: the `key` column) via a
    staging table and one UPDATE … FROM; returns how many rows were staged."""
    name = f"stage_upd_{table(model)}"
    target = table(model)
    col_names = [c for c, _kind in columns]
    with staging_table(name, [(key, "int"), *columns]) as stage:
        count = write_rows(stage, [key, *col_names], rows)
        if count:
            sets = ", ".join(f"{c} = {stage}.{c}" for c in col_names)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {target} SET {sets} FROM {stage} "  # noqa: S608 — our identifiers
                    f"WHERE {target}.{key} = {stage}.{key}"
                )
    return count


def db_value(value: Any, kind: str) -> Any:
    """A Python value in the form COPY / executemany expect for a column of `kind`."""
    if value is None:
        return None
    ops = connection.ops
    if kind == "timestamp":
        return ops.adapt_datetimefield_value(value)
    if kind == "date":
        return ops.adapt_datefield_value(value)
    if kind == "bool":
        return bool(value) if is_postgres() else int(bool(value))
    if kind == "json":
        return value if isinstance(value, str) else dumps(value)
    return value
