"""Hot reads that skip SQLAlchemy's per-execution machinery on SQLite.

A Core ``conn.execute(select, params)`` costs about 100 µs of CPU on the development host
(compiled-cache look-up, parameter processing, result metadata, row objects), while sqlite3
runs the indexed ``SELECT`` behind a call-log look-up in about 20 µs. On SQLite that work runs
on the reader thread *holding the GIL*, so it is taken from the event loop: making the one
look-up of ``PATCH /callLog`` this way bought about 10% more requests per second (A/B, see
``bench/results/20261205-issue16.md``).

The statement is still written with Core, so table and column names have one source. It is
compiled once, with SQLAlchemy's public compiler, to SQLite SQL with named parameters, and each
value goes through the result processor SQLAlchemy itself would apply for the column's type
(``TypeEngine.dialect_impl(dialect).result_processor``): callers get exactly the values
``conn.execute(...).mappings()`` gives. On any other database :meth:`PreparedSelect.rows` *is*
``conn.execute(...).mappings()``; PostgreSQL reads are not on a GIL-holding thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

_SQLITE = sqlite.dialect(paramstyle="named")


class PreparedSelect:
    """A Core ``SELECT`` compiled once for sqlite3; rows as plain dicts keyed like ``.mappings()``.

    Only statements whose parameters are plain named values are accepted: an expanding
    ``IN`` (a list parameter) is rendered per execution by SQLAlchemy and is refused here.
    """

    __slots__ = ("_columns", "_sql", "statement")

    def __init__(self, statement: Select[Any]) -> None:
        compiled = statement.compile(dialect=_SQLITE)
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("PreparedSelect takes no expanding (list) parameters")
        self.statement = statement
        self._sql = str(compiled)
        self._columns: list[tuple[str, Callable[[Any], Any] | None]] = []
        for column in statement.selected_columns:
            if column.key is None:
                raise ValueError("PreparedSelect needs a name for every selected column")
            process = column.type.dialect_impl(_SQLITE).result_processor(_SQLITE, None)
            self._columns.append((column.key, process))

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run the statement on ``conn`` (a synchronous Core connection) and return every row."""
        if conn.dialect.name != "sqlite":
            return [dict(row) for row in conn.execute(self.statement, params).mappings()]
        driver = conn.connection.driver_connection
        assert driver is not None
        cursor = driver.execute(self._sql, params)
        try:
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        columns = self._columns
        return [
            {
                key: (value if process is None or value is None else process(value))
                for (key, process), value in zip(columns, row, strict=True)
            }
            for row in fetched
        ]
