"""The event loop's readers (backend.runtime.loopdb): what they make of Django's SQL."""

from __future__ import annotations

from backend.runtime.loopdb import _numbered, _qmark


def test_placeholders_become_postgresqls_numbered_ones_and_escaped_percents_plain():
    sql = 'SELECT "a" FROM "t" WHERE "b" = %s AND "c" LIKE \'10%%\' AND "d" IN (%s, %s)'
    assert _numbered(sql) == 'SELECT "a" FROM "t" WHERE "b" = $1 AND "c" LIKE \'10%\' AND "d" IN ($2, $3)'
    assert _qmark(sql) == 'SELECT "a" FROM "t" WHERE "b" = ? AND "c" LIKE \'10%\' AND "d" IN (?, ?)'
    assert _numbered("SELECT 1") == "SELECT 1"
