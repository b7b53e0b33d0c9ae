"""Markers shared by the test modules."""

import pytest
from django.db import connection

# Row locks and truly concurrent writers exist only on PostgreSQL (SQLite serializes writers and
# ignores SELECT ... FOR UPDATE). These tests run in CI's PostgreSQL pass; on the embedded default
# they are skipped with this reason.
needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks and concurrent writers need PostgreSQL (SQLite serializes writers)",
)
