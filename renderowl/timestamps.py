"""PostgreSQL timestamps loaded by the C parser of the standard library rather than Django's Python one.

Django loads every `timestamptz` through a subclass of psycopg's pure-Python loader (to give it the
connection's zone), which bypasses psycopg's C loader: a regular expression and a dozen Python calls
per value, 200 of them on a page of 100 projects and the largest cost of reading the rows. This loader
keeps Django's contract (the value's zone replaced by the connection's) and parses PostgreSQL's ISO
output with `datetime.fromisoformat`; any other text (another DateStyle, infinity, BC) goes to Django's.
"""

from datetime import datetime

from django.db.backends.postgresql.psycopg_any import BaseTzLoader


class IsoTimestamptzLoader(BaseTzLoader):
    """Django's timestamptz loader with a C fast path for ISO text; `timezone` is the connection's (None: naive)."""

    def load(self, data):
        try:
            value = datetime.fromisoformat(str(data, "ascii"))
        except ValueError:
            return super().load(data)
        # PostgreSQL's UTC text parses to the UTC singleton, Django's zone for a UTC connection: nothing to replace.
        return value if value.tzinfo is self.timezone else value.replace(tzinfo=self.timezone)


def register_iso_timestamptz_loader(sender, connection, **kwargs):
    """`connection_created` receiver: load this PostgreSQL connection's timestamps with IsoTimestamptzLoader."""
    if connection.vendor != "postgresql":
        return
    loader = type("ConnectionIsoTimestamptzLoader", (IsoTimestamptzLoader,), {"timezone": connection.timezone})
    # Django re-registers its own loader on a cursor only when the connection's loader names another zone.
    connection.connection.adapters.register_loader("timestamptz", loader)
