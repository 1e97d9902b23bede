"""Reads whose SQL Django compiles once per connection: the polls and pages every integration reads in a loop.

On a one-row read most of Django's time goes to building the QuerySet and compiling it, not to the query:
for a render poll (26 columns, one join) ~0.33 ms of CPU against ~0.06 ms to send it and read the answer
(bench/profile_reads.py). A `PreparedQuery` builds its QuerySet once per database connection from placeholder
values, keeps the SQL, the column names and Django's converters of their values, and from then on only puts
each call's values where the placeholders were. The query still runs through the connection's cursor (in the
caller's transaction, under its row-level security setting, seen by CaptureQueriesContext), and its rows are
what `.values()` would have returned.

Only the values named as parameters may differ from call to call: everything else the builder reads (a
setting, a request) is fixed at the first call.
"""

import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from django.db import connections
from django.db.backends.utils import CursorDebugWrapper
from django.db.models.query import ValuesIterable


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple  # (parameter name, index in params), for every place a parameter's value goes
    names: tuple  # the keys of a row, in the order of its columns
    converters: tuple  # (column index, converter functions, expression), as Django applies them


PARAMETER_TYPES = (str, uuid.UUID, datetime)


class PreparedQuery:
    """`build(**values)` → a `.values()` QuerySet; `rows(**values)` its rows, `row(**values)` its one row or None.

    `parameters` names each parameter's type (`str`, `uuid.UUID` or an aware `datetime`), for the
    placeholders. Calls pass values of those types, as Django would send them: a parameter only replaces its
    placeholder in the query's parameters, no field prepares it again.
    """

    def __init__(self, build, *, using="default", **parameters):
        unsupported = sorted(name for name, kind in parameters.items() if kind not in PARAMETER_TYPES)
        if unsupported:
            raise TypeError(f"PreparedQuery parameters are str, uuid.UUID or datetime; {unsupported[0]!r} is none.")
        self._build = build
        self._using = using
        self._parameters = parameters
        self._compiled = weakref.WeakKeyDictionary()  # per DatabaseWrapper: converters belong to one connection

    def row(self, **values):
        rows = self.rows(_at_most=2, **values)
        if len(rows) > 1:
            raise RuntimeError(f"A PreparedQuery.row() query matched more than one row: {rows[0]!r}, {rows[1]!r}, …")
        return rows[0] if rows else None

    def rows(self, _at_most=None, **values):
        connection = connections[self._using]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = self._compile()
        params = list(compiled.params)
        for name, index in compiled.slots:
            params[index] = values[name]
        with _statement_cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall() if _at_most is None else cursor.fetchmany(_at_most)
        names, converters = compiled.names, compiled.converters
        if not converters:
            return [dict(zip(names, row, strict=True)) for row in rows]
        converted = []
        for row in rows:
            row = list(row)
            for index, functions, expression in converters:
                value = row[index]
                for convert in functions:
                    value = convert(value, expression, connection)
                row[index] = value
            converted.append(dict(zip(names, row, strict=True)))
        return converted

    def _compile(self):
        first = self._placeholders()
        sql, first_params, compiler, queryset = self._sql_of(first)
        # A second build with other placeholders must give the same SQL: a value the SQL carries inline (a
        # slice, a value Django renders as a literal) would be fixed at its first value, not a parameter.
        second = self._placeholders()
        if self._sql_of(second)[0] != sql:
            raise ValueError("PreparedQuery: the SQL changes with the parameters' values; it cannot be prepared.")
        slots = tuple(
            (name, index)
            for name, placeholder in first.items()
            for index, param in enumerate(first_params)
            if type(param) is type(placeholder) and param == placeholder
        )
        missing = sorted(set(first) - {name for name, _ in slots})
        if missing:
            raise ValueError(f"PreparedQuery: the parameter {missing[0]!r} does not reach the query's parameters as it is.")
        query = queryset.query
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
        fields = [expression for expression, _, _ in compiler.select[: compiler.col_count]]
        converters = tuple(
            (index, tuple(functions), expression) for index, (functions, expression) in compiler.get_converters(fields).items()
        )
        return _Compiled(sql=sql, params=tuple(first_params), slots=slots, names=names, converters=converters)

    def _sql_of(self, values):
        queryset = self._build(**values)
        if queryset._iterable_class is not ValuesIterable:
            raise TypeError("PreparedQuery builds a .values() QuerySet (rows of named columns).")
        compiler = queryset.query.get_compiler(using=self._using)
        sql, params = compiler.as_sql()
        return sql, params, compiler, queryset

    def _placeholders(self):
        return {name: _placeholder(name, kind) for name, kind in self._parameters.items()}


class _PreparedStatementCursor(psycopg.Cursor):
    """Binds on the server and prepares every statement: PostgreSQL parses and plans it once per connection."""

    def execute(self, query, params=None, *, prepare=True, binary=None):
        return super().execute(query, params, prepare=prepare, binary=binary)


def _statement_cursor(connection):
    """A cursor of Django's `connection` (its wrappers, error translation and query log) whose statements are
    prepared on the server. Django's own cursors bind on the client, and so send PostgreSQL text to parse and
    plan on every call: ~0.1 ms for a render poll's join. The cursor shares the connection's adapters (the C
    timestamp loader) and its transaction."""
    connection.validate_thread_sharing()
    connection.ensure_connection()
    cursor = _PreparedStatementCursor(connection.connection)
    return _LoggedPreparedCursor(cursor, connection) if connection.queries_logged else connection.make_cursor(cursor)


class _LoggedPreparedCursor(CursorDebugWrapper):
    """Django's query log of a prepared statement: psycopg keeps no text of its execution, so the log shows the
    statement with its values, as Django writes them when it binds on the server."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


def _placeholder(name, kind):
    """A value of `kind` no call will pass: found again among the compiled query's parameters."""
    if kind is uuid.UUID:
        return uuid.uuid4()
    if kind is datetime:
        return datetime(1, 1, 2, tzinfo=UTC) + timedelta(microseconds=uuid.uuid4().int % 10**15)
    return f"prepared-query:{name}:{uuid.uuid4().hex}"
