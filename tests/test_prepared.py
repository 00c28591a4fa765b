"""PreparedSelect gives exactly the values Core's ``execute(...).mappings()`` gives."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.engine import Connection

from appconnect.settings import Settings
from appconnect.store.db import Database
from appconnect.store.models import CallLogRow, UserRow
from appconnect.store.prepared import PreparedSelect

CALLS: Table = CallLogRow.__table__  # type: ignore[assignment]
USERS: Table = UserRow.__table__  # type: ignore[assignment]

BY_SESSION = select(CALLS).where(CALLS.c.sessionId == bindparam("s")).order_by(CALLS.c.id)
BY_USER = select(USERS).where(USERS.c.id == bindparam("id"))


def _rows() -> list[dict[str, Any]]:
    when = datetime(2026, 12, 5, 16, 34, 12, 123456, tzinfo=UTC)
    base = {"sessionId": "S1", "platform": "demo", "userId": "u1", "createdAt": when}
    return [
        {**base, "id": "a", "extensionNumber": "", "hashedExtensionId": "", "thirdPartyLogId": "L1",
         "contactId": None, "updatedAt": when},
        {**base, "id": "b", "extensionNumber": "101", "hashedExtensionId": "h\u00e9",
         "thirdPartyLogId": None, "contactId": "c-\u2603", "updatedAt": when},
    ]  # fmt: skip


def _user() -> dict[str, Any]:
    return {
        "id": "u1",
        "platform": "demo",
        "hostname": "crm.example",
        "accessToken": "enc",
        "tokenExpiry": datetime(2027, 1, 1, tzinfo=UTC),
        "platformAdditionalInfo": {"nested": [1, {"a": None}], "text": "\u00fc"},
        "userSettings": None,
    }


@pytest.fixture
async def db(settings: Settings) -> Any:
    database = Database(settings.database_url)
    await database.migrate()

    def fill(conn: Connection) -> None:
        conn.execute(insert(CALLS), _rows())
        conn.execute(insert(USERS), [_user()])

    await database.write(fill)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("statement", "params"),
    [(BY_SESSION, {"s": "S1"}), (BY_SESSION, {"s": "none"}), (BY_USER, {"id": "u1"})],
)
async def test_rows_equal_core_mappings(db: Database, statement: Any, params: Any) -> None:
    prepared = PreparedSelect(statement)

    def both(conn: Connection) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        core = [dict(m) for m in conn.execute(statement, params).mappings()]
        return prepared.rows(conn, params), core

    fast, core = await db.read(both)
    assert fast == core
    assert [type(v) for r in fast for v in r.values()] == [
        type(v) for r in core for v in r.values()
    ]
    if params.get("s") == "S1":
        assert [r["id"] for r in fast] == ["a", "b"]
        assert isinstance(fast[0]["createdAt"], datetime)
    if "id" in params:
        assert fast[0]["platformAdditionalInfo"] == _user()["platformAdditionalInfo"]


def test_expanding_parameters_are_refused() -> None:
    statement = select(CALLS).where(CALLS.c.sessionId.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="expanding"):
        PreparedSelect(statement)
