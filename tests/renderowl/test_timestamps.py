"""Timestamps load as Django's own loader loads them, through the standard library's C parser."""

import pytest
from django.db import DataError, connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.postgres import types
from psycopg.pq import Format

from renderowl.timestamps import IsoTimestamptzLoader

LITERALS = [
    "2026-12-06 16:48:35.123456+00",
    "2026-12-06 16:48:35.5+00",
    "2026-12-06 16:48:35+00",
    "2026-12-06 16:48:35.000001+05:30",  # the session's zone (UTC) writes it back as UTC
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]


def load_all(cursor, literals):
    cursor.execute("SELECT " + ", ".join(f"'{literal}'::timestamptz" for literal in literals))
    return cursor.fetchone()


@pytest.mark.django_db
def test_timestamps_load_as_djangos_loader_loads_them():
    with connection.cursor() as cursor:
        ours = load_all(cursor, LITERALS)
        loader = connection.connection.adapters.get_loader(types["timestamptz"].oid, Format.TEXT)
    with connection.cursor() as cursor:
        register_tzloader(connection.timezone, cursor.cursor)  # Django's own, on this cursor only
        djangos = load_all(cursor, LITERALS)
    assert issubclass(loader, IsoTimestamptzLoader)
    assert ours == djangos
    assert [value.tzinfo for value in ours] == [value.tzinfo for value in djangos] == [connection.timezone] * 6


@pytest.mark.django_db
@pytest.mark.parametrize("literal", ["infinity", "-infinity", "0044-03-15 12:00:00+00 BC"])
def test_what_python_cannot_hold_is_refused_as_djangos_loader_refuses_it(literal):
    with connection.cursor() as cursor, pytest.raises(DataError, match="timestamp too"):
        load_all(cursor, [literal])
