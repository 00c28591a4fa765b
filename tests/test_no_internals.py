"""Clients never read internals: {error} replies, 500s and 503s carry no exception text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy.exc import OperationalError

from appconnect import Connector, ConnectorRegistry, create_app
from appconnect.services.errors import INTERNAL_ERROR, client_message
from appconnect.settings import Settings

SRC = Path(__file__).resolve().parents[1] / "src" / "appconnect"


def test_client_message_hides_infrastructure_and_keeps_connector_messages() -> None:
    db = OperationalError("SELECT 1", {}, Exception("could not connect to 10.0.0.5:5432"))
    assert client_message(db) == INTERNAL_ERROR
    assert client_message(ConnectionRefusedError(111, "Connection refused")) == INTERNAL_ERROR
    request = httpx2.Request("GET", "https://crm.example/api?token=secret")
    http_error = httpx2.HTTPStatusError(
        "404 for https://crm.example/api?token=secret",
        request=request,
        response=httpx2.Response(404, request=request),
    )
    assert client_message(http_error) == "Request failed with status code 404"
    assert client_message(httpx2.ConnectError("tcp connect to 10.1.1.1 failed")) == INTERNAL_ERROR
    assert client_message(ValueError("Invalid API key")) == "Invalid API key"


def test_routes_never_format_exceptions_themselves() -> None:
    for path in (SRC / "api").glob("*.py"):
        assert not re.search(r"str\(exc\)", path.read_text(encoding="utf-8")), path.name


class Broken(Connector):
    def get_basic_auth(self, **_: Any) -> str:
        return "x"

    async def get_user_info(self, **_: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception('relation "users" at /var/db/x.db'))

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}


async def test_login_failing_in_the_database_layer_answers_without_details(
    tmp_path: Path,
) -> None:
    registry = ConnectorRegistry()
    registry.register_connector("acme", Broken())
    settings = Settings(DATABASE_URL=f"sqlite:///{tmp_path}/x.db", APP_SERVER_SECRET_KEY="k" * 32,
                        HASH_KEY="h")
    app = create_app(registry, settings=settings)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://t") as client:
            reply = await client.post("/apiKeyLogin", json={"platform": "acme", "apiKey": "k"})
    assert reply.status_code in (200, 400)
    assert "x.db" not in reply.text and "relation" not in reply.text


# ``X._name`` where X is not ``self``/``cls``: another object's private name. Our own classes'
# attributes are reached through ``self``; a dependency's private names never (issue 13: a
# routine upgrade must not break us), so the grep shows only ``self._x`` lines.
_PRIVATE_ACCESS = re.compile(r"(?<![\w.])(\w+(?:\.\w+)*)\._[a-z]")


def foreign_private_names(line: str) -> list[str]:
    return [m.group(0) for m in _PRIVATE_ACCESS.finditer(line) if m.group(1) not in ("self", "cls")]


def test_no_module_reads_another_objects_private_names() -> None:
    offences = []
    for path in sorted(SRC.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if foreign_private_names(line):
                offences.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offences == []


def test_the_private_name_rule_catches_a_dependency_internal() -> None:
    samples = ("values = row._mapping", "client._transport.handle()", "self.http._client.send()")
    assert all(foreign_private_names(s) for s in samples)
    assert not foreign_private_names("self._cache.pop(key)")
    assert not foreign_private_names("cls._registry[name] = value")
