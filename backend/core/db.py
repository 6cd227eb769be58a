"""Database helpers every domain shares: retrying a write transaction that met a transient lock.

SQLite queues writers (``BEGIN IMMEDIATE`` plus a busy timeout, see settings) but can still
answer "database is locked" when the timeout runs out under a long burst; PostgreSQL may report
a deadlock or a serialization failure. Each leaves nothing written, so the whole transaction is
run again. Only an outermost transaction can be retried: inside another ``atomic`` block the
error goes up to whoever owns the outer one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import OperationalError, connections, transaction

R = TypeVar("R")
log = logging.getLogger("linli.db")

_TRANSIENT = ("locked", "busy", "deadlock", "serializ")


def is_transient(exc: OperationalError) -> bool:
    """A lock or serialization failure that a fresh attempt may not meet again."""
    text = str(exc).lower()
    return any(word in text for word in _TRANSIENT)


def lock_retries() -> int:
    return max(int(getattr(settings, "LINLI_DB_LOCK_RETRIES", 5)), 1)


def run_retrying(func: Callable[[], R], *, attempts: int | None = None, pause: float = 0.05) -> R:
    """Run ``func`` (which opens its own transaction) again after a transient lock error.

    Waits ``pause × attempt`` between attempts; the last error goes up unchanged."""
    attempts = attempts or lock_retries()
    for attempt in range(attempts):
        try:
            return func()
        except OperationalError as exc:
            if (
                not is_transient(exc)
                or attempt == attempts - 1
                or transaction.get_connection().in_atomic_block
            ):
                raise
            log.warning("retrying after transient database error: %s", exc)
            time.sleep(pause * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


# --- queries compiled once --------------------------------------------------------------------
#
# Turning a queryset into SQL costs Django far more than running it: measured in the sign-up
# burst's refusal path on SQLite, the two ORM reads took 1.9-2.7 ms where the same SQL run
# directly took 44-130 µs, and the token check's select_related read 1.7-3.2 ms (a loaded
# 2-core machine; the ratio is what matters). The few reads every request or every burst runs
# are therefore compiled once per database and run again with new values.


def _binding_cursor(using: str) -> Any:
    """A cursor that binds parameters on the server on PostgreSQL, so psycopg prepares a statement
    run often (``prepare_threshold``, 5 runs) and PostgreSQL stops planning it every time.

    Django binds on the client (psycopg's ``ClientCursor``, which never prepares); PostgreSQL then
    parses and plans each statement anew. In a sign-up burst that was most of the database's CPU:
    EXPLAIN ANALYZE of the sign-up's compiled reads on the bench database gave planning times of
    0.94 ms (the locked profile with its consent subqueries), 0.53, 0.55, 0.34 and 0.23 ms against
    executions of 0.02-0.25 ms. Only these compiled-once statements bind on the server; the rest of
    the ORM keeps Django's binding. Elsewhere: Django's own cursor."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(ServerBindingCursor(connection.connection))  # type: ignore[attr-defined]


class _Compiled:
    """A queryset compiled to SQL once per database and run again with new values (the base of
    ``PreparedValues`` and ``PreparedUpdate``).

    ``build(**samples)`` must return the queryset for the given values; it is called once per
    database with distinctive sample integers, and each sample must come out unchanged as SQL
    parameters (equality lookups on integer columns, in a subquery too), so later calls put their
    values where the samples were. Everything else in the query is fixed when it is compiled:
    ``build`` must not read the clock, and what it reads from settings goes in ``vary_on`` (a
    callable whose value keys the compiled SQL).
    """

    def __init__(
        self, build: Callable[..., Any], *names: str, vary_on: Callable[[], Any] | None = None
    ) -> None:
        self.build = build
        self.names = names
        self.vary_on = vary_on
        self._compiled: dict[Any, tuple[Any, str, list[Any], list[int | None]]] = {}

    def _compiler(self, queryset: Any, using: str) -> Any:
        raise NotImplementedError

    def _compile(self, using: str) -> tuple[Any, str, list[Any], list[int | None]]:
        samples = {name: -7_340_000_001 - i for i, name in enumerate(self.names)}
        compiler = self._compiler(self.build(**samples), using)
        sql, params = compiler.as_sql()
        slots: list[int | None] = []
        for param in params:
            matches = [i for i, name in enumerate(self.names) if param == samples[name]]
            slots.append(matches[0] if matches else None)
        for i, name in enumerate(self.names):
            if i not in slots:
                raise ValueError(f"{name} does not appear among the query's parameters")
        return compiler, sql, list(params), slots

    def _key(self, using: str) -> Any:
        return (using, self.vary_on()) if self.vary_on is not None else using

    def _compiled_for(self, using: str) -> tuple[Any, str, list[Any], list[int | None]]:
        key = self._key(using)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using)
        return compiled

    def compiled(self, using: str = "default") -> bool:
        """Whether ``sql`` can run without compiling (which needs a sync context)."""
        return self._key(using) in self._compiled

    def sql(self, *values: Any, using: str = "default") -> tuple[str, list[Any]]:
        """The SQL (format-style placeholders) and its parameters for these values, for a
        connection of the caller's own (``backend.runtime.loopdb``): rows come back raw."""
        _compiler, sql, fixed, slots = self._compiled_for(using)
        return sql, [fixed[i] if slot is None else values[slot] for i, slot in enumerate(slots)]


class PreparedValues(_Compiled):
    """A ``values_list`` queryset compiled once per database (see ``_Compiled``). Rows come back
    as tuples, converted by Django's field converters exactly as ``values_list`` would."""

    def _compiler(self, queryset: Any, using: str) -> Any:
        return queryset.query.get_compiler(using=using)

    def _converters(self, compiler: Any) -> Any:
        converters = getattr(compiler, "_linli_converters", None)
        if converters is None:
            fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
            converters = compiler._linli_converters = compiler.get_converters(fields)
        return converters

    def rows(self, *values: Any, using: str = "default") -> list[tuple[Any, ...]]:
        compiler = self._compiled_for(using)[0]
        sql, params = self.sql(*values, using=using)
        with _binding_cursor(using) as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        converters = self._converters(compiler)
        if not converters:
            return [tuple(row) for row in fetched]
        return [tuple(row) for row in compiler.apply_converters(fetched, converters)]

    def first(self, *values: Any, using: str = "default") -> tuple[Any, ...] | None:
        found = self.rows(*values, using=using)
        return found[0] if found else None


class PreparedUpdate(_Compiled):
    """``queryset.update(**changes)`` compiled once per database (see ``_Compiled``): ``build``
    returns the filtered queryset, ``changes`` are fixed (expressions such as ``F("taken") + 1``).
    ``run(*values)`` returns the number of rows changed."""

    def __init__(
        self,
        build: Callable[..., Any],
        *names: str,
        changes: dict[str, Any],
        vary_on: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(build, *names, vary_on=vary_on)
        self.changes = changes

    def _compiler(self, queryset: Any, using: str) -> Any:
        from django.db.models.sql import UpdateQuery

        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(self.changes)
        return query.get_compiler(using=using)

    def run(self, *values: Any, using: str = "default") -> int:
        sql, params = self.sql(*values, using=using)
        with transaction.mark_for_rollback_on_error(using=using), _binding_cursor(using) as cursor:
            cursor.execute(sql, params)
            return int(cursor.rowcount)


class PreparedInsert:
    """``model.objects.create(**values)`` with the INSERT compiled once per database.

    ``Model.save()`` rebuilds the INSERT's SQL on every call (the insert compiler quotes every
    column and builds every placeholder anew): in the sign-up burst the two INSERTs of each
    sign-up (the sign-up, its audit row) cost about 0.4 ms of Python each, while the shift's row
    was locked. Here the SQL is built once, for every concrete column but an auto primary key;
    each call takes the values as ``save()`` would (``pre_save``: ``auto_now_add`` and the like,
    then ``get_db_prep_save``) and reads the new primary key back.

    What ``save()`` does besides is not done: no ``pre_save``/``post_save`` signals (Linli
    registers no model signals) and no overridden ``save()``; the instance comes back as
    ``create`` returns it (``pk`` set, ``_state`` saved)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._compiled: dict[tuple[str, bool], tuple[list[Any], str, bool]] = {}

    def _compile(self, using: str, want_pk: bool) -> tuple[list[Any], str, bool]:
        from django.db.models.sql import InsertQuery

        meta = self.model._meta
        connection = connections[using]
        fields = [
            f
            for f in meta.local_concrete_fields
            if not getattr(f, "generated", False) and f is not meta.auto_field
        ]
        query = InsertQuery(self.model)
        query.insert_values(fields, [self.model()])
        compiler = query.get_compiler(using=using)
        returning = want_pk and bool(meta.auto_field) and connection.features.can_return_columns_from_insert
        compiler.returning_fields = [meta.pk] if returning else None
        [(sql, _params)] = compiler.as_sql()
        return fields, sql, returning

    def _execute(self, using: str, want_pk: bool, values: dict[str, Any]) -> Any:
        key = (using, want_pk)
        fields, sql, returning = self._compiled.get(key) or self._compiled.setdefault(
            key, self._compile(using, want_pk)
        )
        connection = connections[using]
        obj = self.model(**values)
        params = [f.get_db_prep_save(f.pre_save(obj, True), connection=connection) for f in fields]
        if any(hasattr(param, "resolve_expression") for param in params):
            raise ValueError(f"{self.model.__name__}: PreparedInsert takes plain values, not expressions")
        with transaction.mark_for_rollback_on_error(using=using), _binding_cursor(using) as cursor:
            cursor.execute(sql, params)
            meta = self.model._meta
            if want_pk and meta.auto_field:
                if returning:
                    obj.pk = cursor.fetchone()[0]
                else:
                    obj.pk = connection.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
        return obj

    def create(self, using: str = "default", **values: Any) -> Any:
        obj = self._execute(using, True, values)
        obj._state.adding = False
        obj._state.db = using
        return obj

    def add(self, using: str = "default", **values: Any) -> None:
        """Insert a row whose primary key nobody reads (an audit row): no ``RETURNING``."""
        self._execute(using, False, values)
