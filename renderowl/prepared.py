"""Row reads whose SQL Django compiles once per connection: the polls every integration sends in a loop.

On a one-row read most of Django's time goes to building the QuerySet and compiling it, not to the query:
for a render poll (26 columns, one join) ~0.33 ms of CPU against ~0.06 ms to send it and read the answer
(bench/profile_reads.py). A `PreparedRow` builds its QuerySet once per database connection from placeholder
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

from django.db import connections
from django.db.models.query import ValuesIterable


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    slots: tuple  # (parameter name, index in params), for every place a parameter's value goes
    names: tuple  # the keys of a row, in the order of its columns
    converters: tuple  # (column index, converter functions, expression), as Django applies them


class PreparedRow:
    """`build(**values)` → a `.values()` QuerySet of at most one row; `get(**values)` that row, or None.

    `parameters` names each parameter's type (`str` or `uuid.UUID`), for the placeholders. Calls pass values
    of those types, as Django would send them: a parameter only replaces its placeholder in the query's
    parameters, no field prepares it again.
    """

    def __init__(self, build, *, using="default", **parameters):
        unsupported = sorted(name for name, kind in parameters.items() if kind not in (str, uuid.UUID))
        if unsupported:
            raise TypeError(f"PreparedRow parameters are str or uuid.UUID; {unsupported[0]!r} is neither.")
        self._build = build
        self._using = using
        self._parameters = parameters
        self._compiled = weakref.WeakKeyDictionary()  # per DatabaseWrapper: converters belong to one connection

    def get(self, **values):
        connection = connections[self._using]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = self._compile(connection)
        params = list(compiled.params)
        for name, index in compiled.slots:
            params[index] = values[name]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchmany(2)
        if not rows:
            return None
        if len(rows) > 1:
            raise RuntimeError(f"A PreparedRow query matched more than one row: {compiled.sql}")
        row = list(rows[0])
        for index, functions, expression in compiled.converters:
            value = row[index]
            for convert in functions:
                value = convert(value, expression, connection)
            row[index] = value
        return dict(zip(compiled.names, row, strict=True))

    def _compile(self, connection):
        first = self._placeholders()
        sql, first_params, compiler, queryset = self._sql_of(first)
        # A second build with other placeholders must give the same SQL: a value the SQL carries inline (a
        # slice, a value Django renders as a literal) would be fixed at its first value, not a parameter.
        second = self._placeholders()
        if self._sql_of(second)[0] != sql:
            raise ValueError("PreparedRow: the SQL changes with the parameters' values; it cannot be prepared.")
        slots = tuple(
            (name, index)
            for name, placeholder in first.items()
            for index, param in enumerate(first_params)
            if type(param) is type(placeholder) and param == placeholder
        )
        missing = sorted(set(first) - {name for name, _ in slots})
        if missing:
            raise ValueError(f"PreparedRow: the parameter {missing[0]!r} does not reach the query's parameters as it is.")
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
            raise TypeError("PreparedRow builds a .values() QuerySet (rows of named columns).")
        compiler = queryset.query.get_compiler(using=self._using)
        sql, params = compiler.as_sql()
        return sql, params, compiler, queryset

    def _placeholders(self):
        return {
            name: uuid.uuid4() if kind is uuid.UUID else f"prepared-row:{name}:{uuid.uuid4().hex}"
            for name, kind in self._parameters.items()
        }
