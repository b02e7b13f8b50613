"""Hand-written SQL for hot paths: read, insert and update whole model rows.

A platform helper for the case engine's steps and the 12345 intake: use it only where a
benchmark shows the ORM's cost. The ORM spends 100–200 µs of Python building each
statement (query compilation), several times what SQLite or PostgreSQL then take to run
it; a service step of the case engine sends about ten. `Table` builds each statement's text once per
model and database vendor and then only binds values, with Django's own field
conversions both ways (`Field.get_db_prep_save` when writing; the backend's and the
field's `from_db` converters when reading), so what is stored and what comes back are
exactly what the ORM would store and return, on SQLite and PostgreSQL alike. The
statements still go through `connection.cursor()`, so they run inside the service's
transaction and are counted by query budgets and the debug toolbar.

Model signals are not sent (as with `bulk_create` / `QuerySet.update`): use it only for
models that are not audited and have no receivers (the engine's models — their `Event`
rows are the audit trail —, the 12345 work order and Open311 submission).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.expressions import Col

__all__ = ["Table", "scalar_rows"]

M = TypeVar("M", bound=Model)

Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]

#: Values per INSERT statement, below SQLite's historical limit of 999 parameters.
_MAX_PARAMS = 900

#: Values that `get_db_prep_save` returns unchanged, per kind of field, on every backend;
#: they skip the call (most of an insert's Python time). Text fields pass any str
#: (TextChoices members too: `CharField.to_python` returns them as they are); integer and
#: boolean fields only exact ints and bools (an IntegerChoices member is converted); every
#: other field of Django's own (dates, decimals, JSON) None, which they store as NULL.
_TEXT, _NUMBER, _OTHER = "text", "number", "other"
_NUMBER_VALUES = frozenset({int, bool, type(None)})


def _plain(field: Field[Any, Any]) -> str:
    """The kind of values of `field` that need no preparation ("" if none)."""
    if isinstance(field, models.ForeignKey):
        return _plain(field.target_field)
    if isinstance(field, models.CharField | models.TextField):
        return _TEXT
    if isinstance(field, models.IntegerField | models.BooleanField):
        return _NUMBER
    if type(field).__module__.startswith("django.db.models."):
        return _OTHER
    return ""


def _column(field: Field[Any, Any]) -> str:
    assert field.column is not None  # noqa: S101 - concrete fields have a column
    return field.column


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)  # noqa: S101 - a concrete field, not a reverse relation
    return field


def _db_values(
    instance: Model, fields: Sequence[tuple[Field[Any, Any], str]], add: bool, connection: Any
) -> list[Any]:
    """The values `save()` would send for `fields` (pairs of field and `_plain(field)`)."""
    values = []
    for field, plain in fields:
        value = field.pre_save(instance, add)
        if not (
            (plain == _TEXT and (value is None or isinstance(value, str)))
            or (plain == _NUMBER and type(value) in _NUMBER_VALUES)
            or (plain == _OTHER and value is None)
        ):
            value = field.get_db_prep_save(value, connection)
        values.append(value)
    return values


class _Compiled:
    """One model's statement texts and read converters for one database vendor."""

    def __init__(self, model: type[Model], connection: BaseDatabaseWrapper) -> None:
        meta = model._meta
        quote = connection.ops.quote_name
        self.fields: list[Field[Any, Any]] = list(meta.concrete_fields)
        self.attnames = [f.attname for f in self.fields]
        self.inserted = [(f, _plain(f)) for f in self.fields if not f.primary_key]
        self.table = quote(meta.db_table)
        self.columns = ", ".join(f"{self.table}.{quote(_column(f))}" for f in self.fields)
        self.pk_column = quote(_column(meta.pk))
        self.lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        self.returning = connection.features.can_return_rows_from_bulk_insert
        self.converters: list[tuple[int, list[Converter], Col]] = []
        for index, field in enumerate(self.fields):
            col = field.get_col(meta.db_table)
            found = [
                *connection.ops.get_db_converters(col),
                *col.get_db_converters(connection),
            ]
            if found:
                self.converters.append((index, found, col))
        self.quote = quote
        self.updates: dict[tuple[str, ...], tuple[str, list[tuple[Field[Any, Any], str]]]] = {}


class Table(Generic[M]):
    """Whole rows of `model` by hand-written SQL (see the module docstring).

    `where` clauses name columns as `"<db_table>"."<column>"` or bare, with `%s`
    placeholders; values are bound, never formatted into the text.
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._compiled: dict[str, _Compiled] = {}

    def _c(self, connection: BaseDatabaseWrapper) -> _Compiled:
        compiled = self._compiled.get(connection.vendor)
        if compiled is None:
            compiled = self._compiled[connection.vendor] = _Compiled(self.model, connection)
        return compiled

    # --- reading --------------------------------------------------------------

    def select(
        self,
        where: str,
        params: Sequence[Any],
        *,
        lock: bool = False,
        extra: Sequence[str] = (),
        order_by: str = "",
    ) -> list[tuple[M, tuple[Any, ...]]]:
        """Rows matching `where`, each with the values of the `extra` SQL expressions.

        `params` bind the placeholders in the order of the text: the `extra` expressions'
        first, then `where`'s.
        `lock` takes the rows' locks (FOR UPDATE) where the database has row locks; SQLite's
        IMMEDIATE transaction already holds the write lock of the whole database.
        """
        connection = connections[DEFAULT_DB_ALIAS]
        c = self._c(connection)
        columns = c.columns + "".join(f", {e}" for e in extra)
        sql = f"SELECT {columns} FROM {c.table} WHERE {where}"  # noqa: S608 - fixed texts
        if order_by:
            sql += f" ORDER BY {order_by}"
        if lock:
            sql += c.lock
        width = len(c.fields)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        found: list[tuple[M, tuple[Any, ...]]] = []
        for row in rows:
            values = list(row[:width])
            for index, converters, col in c.converters:
                value = values[index]
                for convert in converters:
                    value = convert(value, col, connection)
                values[index] = value
            instance = self.model.from_db(DEFAULT_DB_ALIAS, c.attnames, values)
            found.append((instance, tuple(row[width:])))
        return found

    def objects(
        self, where: str, params: Sequence[Any], *, lock: bool = False, order_by: str = ""
    ) -> list[M]:
        return [row for row, _extra in self.select(where, params, lock=lock, order_by=order_by)]

    def get(self, pk: Any, *, lock: bool = False) -> M:
        """The row with primary key `pk`; `Model.DoesNotExist` if there is none."""
        connection = connections[DEFAULT_DB_ALIAS]
        c = self._c(connection)
        found = self.objects(f"{c.table}.{c.pk_column} = %s", [pk], lock=lock)
        if not found:
            missing = f"{self.model.__name__} {pk} does not exist"
            raise self.model.DoesNotExist(missing)  # type: ignore[attr-defined]
        return found[0]

    # --- writing --------------------------------------------------------------

    def insert(self, instances: Sequence[M], *, ignore_conflicts: bool = False) -> None:
        """INSERT `instances` (unsaved) in as few statements as the parameter limit allows,
        and set their primary keys (RETURNING, on SQLite ≥ 3.35 and PostgreSQL).

        With `ignore_conflicts`, rows that would break a unique constraint are skipped
        (ON CONFLICT DO NOTHING, as `bulk_create(ignore_conflicts=True)`) and the primary
        keys are not set.
        """
        if not instances:
            return
        connection = connections[DEFAULT_DB_ALIAS]
        c = self._c(connection)
        if not c.returning:  # pragma: no cover - SQLite before 3.35
            self.model._default_manager.bulk_create(instances, ignore_conflicts=ignore_conflicts)
            return
        tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else f" RETURNING {c.pk_column}"
        fields = c.inserted
        names = ", ".join(c.quote(_column(f)) for f, _kind in fields)
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        per_statement = max(1, _MAX_PARAMS // len(fields))
        with connection.cursor() as cursor:
            for start in range(0, len(instances), per_statement):
                batch = instances[start : start + per_statement]
                params: list[Any] = []
                for instance in batch:
                    # As bulk_create: take the key of a related object assigned unsaved.
                    instance._prepare_related_fields_for_save(operation_name="insert")  # type: ignore[attr-defined]
                    params += _db_values(instance, fields, True, connection)
                cursor.execute(
                    f"INSERT INTO {c.table} ({names}) VALUES "  # noqa: S608 - fixed texts
                    + ", ".join([row] * len(batch))
                    + tail,
                    params,
                )
                if ignore_conflicts:
                    continue
                for instance, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                    instance.pk = pk
                    instance._state.adding = False
                    instance._state.db = DEFAULT_DB_ALIAS

    def update(self, instance: M, fields: Iterable[str]) -> None:
        """UPDATE the row of `instance` with the values of `fields` (names as in
        `save(update_fields=…)`; `auto_now` fields get the current time, as `save` does)."""
        connection = connections[DEFAULT_DB_ALIAS]
        c = self._c(connection)
        key = tuple(fields)
        statement = c.updates.get(key)
        if statement is None:
            chosen = [(field, _plain(field)) for field in (_field(self.model, n) for n in key)]
            assignments = ", ".join(f"{c.quote(_column(f))} = %s" for f, _kind in chosen)
            sql = f"UPDATE {c.table} SET {assignments} WHERE {c.pk_column} = %s"  # noqa: S608
            statement = c.updates[key] = (sql, chosen)
        sql, chosen = statement
        params = _db_values(instance, chosen, False, connection)
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, instance.pk])

    def update_where(self, pks: Sequence[Any], values: dict[str, Any]) -> None:
        """Set the same `values` (field name → Python value) on the rows `pks`, in one
        UPDATE (no `auto_now`, as `QuerySet.update`)."""
        if not pks:
            return
        connection = connections[DEFAULT_DB_ALIAS]
        c = self._c(connection)
        chosen = [_field(self.model, name) for name in values]
        assignments = ", ".join(f"{c.quote(_column(f))} = %s" for f in chosen)
        marks = ", ".join(["%s"] * len(pks))
        params = [
            f.get_db_prep_save(v, connection) for f, v in zip(chosen, values.values(), strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {c.table} SET {assignments} WHERE {c.pk_column} IN ({marks})",  # noqa: S608
                [*params, *pks],
            )

    @property
    def name(self) -> str:
        """The quoted table name, for fixed statement texts."""
        return self._c(connections[DEFAULT_DB_ALIAS]).table

    def column(self, name: str) -> str:
        """The quoted, table-qualified column of field `name` for `where` clauses."""
        connection = connections[DEFAULT_DB_ALIAS]
        c = self._c(connection)
        return f"{c.table}.{c.quote(_column(_field(self.model, name)))}"


def scalar_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Plain rows of a fixed SQL text (ids, codes: values that need no conversion)."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
