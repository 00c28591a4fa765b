"""Contact routes over HTTP: GET/POST /contact and GET /custom/contact/search.

The connector under test talks to a fake CRM through the server's pooled HTTP client
(``httpx2.MockTransport``), so every test can assert what the CRM received.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from appconnect.app import create_app
from appconnect.connectors.registry import ConnectorRegistry
from appconnect.runtime import Runtime
from appconnect.services import contacts
from appconnect.settings import Settings
from appconnect.store.models import AccountDataRow
from fakes import CRM, BareConnector, FakeCrm, FakeCrmConnector, FakeOAuthConnector

NOAUTH = "Please go to Settings and authorize CRM platform"
JANE = {"id": 501, "name": "Jane Smith", "phone": "+14155550100", "createdDate": "2024-01-01"}
PLACEHOLDER = {"id": "createNewContact", "name": "Create new contact...", "isNewContact": True}


# -- fixtures and helpers --------------------------------------------------------------------


@dataclass
class Server:
    app: FastAPI
    client: httpx2.AsyncClient
    rt: Runtime
    crm: FakeCrm
    connector: FakeCrmConnector


@pytest.fixture
async def server(db_url: str) -> AsyncIterator[Server]:
    crm = FakeCrm()
    connector = FakeCrmConnector()
    registry = ConnectorRegistry()
    for c in (connector, FakeOAuthConnector(), BareConnector()):
        registry.register(c)
    settings = Settings(DATABASE_URL=db_url, APP_SERVER_SECRET_KEY="s", HASH_KEY="k")
    app = create_app(registry, settings=settings, http_transport=crm.transport)
    async with app.router.lifespan_context(app):
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Server(app, client, app.state.appconnect.runtime, crm, connector)


async def login(
    srv: Server,
    user_id: str,
    *,
    platform: str = "testcrm",
    account: str | None = "acc-1",
    api_key: str = "key-1",
    refresh_token: str | None = None,
    expiry: datetime | None = None,
) -> dict[str, str]:
    """Create the user row directly and return the Authorization header of its session."""
    await srv.rt.users.upsert_login(
        user_id=user_id,
        platform=platform,
        hostname="crm.example",
        access_token=api_key,
        refresh_token=refresh_token,
        token_expiry=expiry,
        timezone_name=None,
        timezone_offset=None,
        rc_account_id=account,
        hashed_rc_extension_id=None,
        platform_additional_info={},
    )
    return {"Authorization": f"Bearer {srv.rt.sessions.issue(user_id, platform)}"}


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def not_found(phone: str, platform: str = "testcrm") -> dict[str, Any]:
    text = f"A contact with the phone number {phone} could not be found in your {platform} account."
    return {
        "message": "Contact not found",
        "messageType": "warning",
        "details": [{"title": "Details", "items": [{"id": "1", "type": "text", "text": text}]}],
        "ttl": 5000,
    }


async def cache_rows(rt: Runtime) -> list[tuple[str, str, str, Any]]:
    async with rt.db.session() as session:
        rows = (await session.scalars(select(AccountDataRow))).all()
    return [(r.rc_account_id, r.platform_name, r.data_key, r.data) for r in rows]


async def find(srv: Server, headers: dict[str, str], query: str) -> httpx2.Response:
    return await srv.client.get(f"/contact?{query}", headers=headers)


async def wait_for_joined(rt: Runtime, count: int) -> None:
    """Until one in-flight look-up is shared by ``count`` requests (bounded by a timeout)."""

    async def joined() -> None:
        while True:
            flights = list(rt.state.get(contacts.INFLIGHT_STATE_KEY, {}).values())
            if flights and flights[0].joined >= count:
                return
            await asyncio.sleep(0.001)

    await asyncio.wait_for(joined(), timeout=10)


# -- GET /contact ----------------------------------------------------------------------------


async def test_find_contact_asks_the_crm_with_the_connector_auth(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[JANE])
    headers = await login(server, "u1")
    resp = await find(server, headers, "phoneNumber=%2B14155550100")
    assert resp.status_code == 200
    assert resp.json() == {"successful": True, "contact": [JANE]}
    (call,) = server.crm.requests
    assert (call.method, call.host, call.path) == ("GET", "crm.example", "/contacts")
    assert call.params == {"phone": "+14155550100"}
    assert call.headers["authorization"] == basic("key-1")


async def test_plus_sent_as_space_is_restored_first_space_only(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[])
    headers = await login(server, "u1")
    resp = await find(server, headers, "phoneNumber=+1+415+555+0100")
    assert server.connector.seen[0]["phone_number"] == "+1 415 555 0100"
    assert resp.json()["returnMessage"] == not_found("+1 415 555 0100")


async def test_extension_short_code_and_format_reach_the_connector_as_sent(
    server: Server,
) -> None:
    server.crm.on("GET", "/contacts", json=[])
    headers = await login(server, "u1")
    await find(server, headers, "phoneNumber=101&isExtension=true")
    await find(server, headers, "phoneNumber=%2A67%23&overridingFormat=%28***%29+***-****")
    await find(server, headers, "phoneNumber=(415)+555-0100&isExtension=false")
    ext, code, formatted = server.connector.seen
    assert ext == {**ext, "phone_number": "101", "is_extension": "true", "force": False}
    assert code["phone_number"] == "*67#" and code["is_extension"] is False
    assert code["overriding_format"] == "(***) ***-****"
    assert server.crm.requests[1].params == {"phone": "*67#", "format": "(***) ***-****"}
    # Only the first space becomes "+": the reference's fix-up, nothing more.
    assert formatted["phone_number"] == "(415)+555-0100" and formatted["is_extension"] == "false"


async def test_default_not_found_message_is_exact(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[])
    headers = await login(server, "u1")
    resp = await find(server, headers, "phoneNumber=%2B14155550199")
    assert resp.json() == {
        "successful": True,
        "returnMessage": not_found("+14155550199"),
        "contact": [],
    }
    assert await cache_rows(server.rt) == []


async def test_connector_message_wins_over_default_when_nothing_matched(server: Server) -> None:
    message = {"message": "Search disabled", "messageType": "info", "ttl": 1000}
    answer = {"successful": False, "matchedContactInfo": None, "returnMessage": message}
    server.crm.on("GET", "/contacts", json=answer)
    headers = await login(server, "u1")
    resp = await find(server, headers, "phoneNumber=%2B14155550100")
    assert resp.json() == {"successful": False, "returnMessage": message, "contact": None}


async def test_match_is_cached_and_a_cache_hit_skips_the_crm(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[JANE])
    headers = await login(server, "u1")
    first = await find(server, headers, "phoneNumber=%2B14155550100")
    assert await cache_rows(server.rt) == [("acc-1", "testcrm", "contact-+14155550100", [JANE])]
    second = await find(server, headers, "phoneNumber=%2B14155550100&isExtension=true")
    assert len(server.crm.requests) == 1
    assert first.json()["contact"] == [JANE]
    assert second.json() == {"successful": True, "returnMessage": None, "contact": [JANE]}
    # The flow also reports the hit to analytics (not part of the route's answer).
    lookup = contacts.PhoneLookup(platform="testcrm", phone_number="+14155550100")
    result = await contacts.find_contact(server.rt, "u1", lookup)
    assert result["extraDataTracking"] == {"isCached": True}


async def test_cache_is_shared_by_users_of_one_account_only(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[JANE])
    alice = await login(server, "alice", api_key="key-a")
    bob = await login(server, "bob", api_key="key-b")
    carol = await login(server, "carol", api_key="key-c", account="acc-2")
    await find(server, alice, "phoneNumber=%2B14155550100")
    bob_resp = await find(server, bob, "phoneNumber=%2B14155550100")
    await find(server, carol, "phoneNumber=%2B14155550100")
    assert bob_resp.json() == {"successful": True, "returnMessage": None, "contact": [JANE]}
    assert [c.headers["authorization"] for c in server.crm.requests] == [
        basic("key-a"),
        basic("key-c"),
    ]


async def test_user_without_account_id_is_never_cached(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[JANE])
    headers = await login(server, "u1", account=None)
    for _ in range(2):
        assert (await find(server, headers, "phoneNumber=%2B14155550100")).json()["contact"]
    assert len(server.crm.requests) == 2
    assert await cache_rows(server.rt) == []


async def test_placeholder_only_result_is_not_cached(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[PLACEHOLDER])
    headers = await login(server, "u1")
    resp = await find(server, headers, "phoneNumber=%2B14155550100")
    assert resp.json() == {
        "successful": True,
        "returnMessage": not_found("+14155550100"),
        "contact": [PLACEHOLDER],
    }
    await find(server, headers, "phoneNumber=%2B14155550100")
    assert len(server.crm.requests) == 2
    assert await cache_rows(server.rt) == []


async def test_placeholder_is_cached_along_with_a_real_match(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[JANE, PLACEHOLDER])
    headers = await login(server, "u1")
    await find(server, headers, "phoneNumber=%2B14155550100")
    assert (await cache_rows(server.rt))[0][3] == [JANE, PLACEHOLDER]


async def test_forced_refresh_bypasses_and_replaces_the_cache(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[JANE])
    headers = await login(server, "u1")
    await find(server, headers, "phoneNumber=%2B14155550100")
    renamed = {**JANE, "name": "Jane Doe"}
    server.crm.on("GET", "/contacts", json=[renamed])
    resp = await find(server, headers, "phoneNumber=%2B14155550100&isForceRefreshAccountData=true")
    assert resp.json() == {"successful": True, "contact": [renamed]}
    assert server.connector.seen[1]["force"] is True
    assert (await cache_rows(server.rt))[0][3] == [renamed]


async def test_forced_refresh_that_finds_nothing_drops_the_stale_entry(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[JANE])
    headers = await login(server, "u1")
    await find(server, headers, "phoneNumber=%2B14155550100")
    server.crm.on("GET", "/contacts", json=[])
    resp = await find(server, headers, "phoneNumber=%2B14155550100&isForceRefreshAccountData=true")
    assert resp.json()["returnMessage"] == not_found("+14155550100")
    assert await cache_rows(server.rt) == []


@pytest.mark.parametrize(
    ("reply", "message", "detail"),
    [
        (
            httpx2.Response(401),
            "Authorization error",
            "It seems like there's something wrong with your authorization of testcrm. "
            "Please Logout and then Connect your testcrm account within this extension.",
        ),
        (
            httpx2.Response(429),
            "Rate limit exceeded",
            "You have exceeded the maximum number of requests allowed by testcrm. Please try "
            "again in the next minute. If the problem persists please contact support.",
        ),
        *(  # a throttled read with an unreadable Retry-After is still a rate limit
            (
                httpx2.Response(429, headers={"Retry-After": value}),
                "Rate limit exceeded",
                "You have exceeded the maximum number of requests allowed by testcrm. Please "
                "try again in the next minute. If the problem persists please contact support.",
            )
            for value in ("soon", "Fri, 99 Foo 2026 99:00:00 GMT", "nan", "-5", "1e400")
        ),
        *(  # only 401/403 send the user to log out: a missing record is not an auth problem
            (
                httpx2.Response(status),
                "Error finding contact",
                "Please check if your account has permission to GET contacts.",
            )
            for status in (400, 404, 409, 500)
        ),
        (
            httpx2.Response(403),
            "Authorization error",
            "It seems like there's something wrong with your authorization of testcrm. "
            "Please Logout and then Connect your testcrm account within this extension.",
        ),
        (
            httpx2.ReadTimeout,
            "Error finding contact",
            "Please check if your account has permission to GET contacts.",
        ),
    ],
)
async def test_crm_failures_map_to_business_failures(
    server: Server, reply: Any, message: str, detail: str
) -> None:
    server.crm.on("GET", "/contacts", json=[JANE])
    headers = await login(server, "u1")
    await find(server, headers, "phoneNumber=%2B14155550100")
    server.crm.on("GET", "/contacts", reply)
    resp = await find(server, headers, "phoneNumber=%2B14155550100&isForceRefreshAccountData=true")
    assert resp.status_code == 200
    item_id = 1 if message == "Error finding contact" else "1"
    assert resp.json() == {
        "successful": False,
        "returnMessage": {
            "message": message,
            "messageType": "warning",
            "details": [
                {"title": "Details", "items": [{"id": item_id, "type": "text", "text": detail}]}
            ],
            "ttl": 5000,
        },
    }
    assert (await cache_rows(server.rt))[0][3] == [JANE]  # an error leaves the cache alone


@pytest.mark.parametrize("phone", ["", "abc", "+", "%20", "-()*#", "1" * 65])
async def test_bad_phone_number_is_400_without_crm_call(server: Server, phone: str) -> None:
    headers = await login(server, "u1")
    resp = await find(server, headers, f"phoneNumber={phone}")
    assert (resp.status_code, resp.text) == (400, "Invalid phone number")
    assert resp.headers["content-type"].startswith("text/html")
    assert server.crm.requests == []


async def test_missing_phone_number_is_the_exception_envelope(server: Server) -> None:
    resp = await find(server, await login(server, "u1"), "isExtension=true")
    assert (resp.status_code, resp.json()) == (400, {"error": "phoneNumber is required"})
    assert server.crm.requests == []


@pytest.mark.parametrize(
    "auth",
    [{}, {"Authorization": "Bearer not-a-jwt"}, "jwtToken=not-a-jwt"],
    ids=["no-token", "bad-bearer", "bad-query-token"],
)
async def test_without_a_valid_token_the_answer_is_noauth(server: Server, auth: Any) -> None:
    query = "phoneNumber=%2B14155550100"
    headers = auth if isinstance(auth, dict) else {}
    if isinstance(auth, str):
        query += f"&{auth}"
    resp = await find(server, headers, query)
    assert (resp.status_code, resp.text) == (400, NOAUTH)


async def test_legacy_query_token_works(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[JANE])
    token = (await login(server, "u1"))["Authorization"].split(" ")[1]
    resp = await find(server, {}, f"phoneNumber=%2B14155550100&jwtToken={token}")
    assert resp.json()["contact"] == [JANE]


async def test_unknown_user_or_other_platform_is_contact_not_found(server: Server) -> None:
    await login(server, "u1")
    other_platform = {"Authorization": f"Bearer {server.rt.sessions.issue('u1', 'oauthcrm')}"}
    ghost = {"Authorization": f"Bearer {server.rt.sessions.issue('ghost', 'testcrm')}"}
    expected = {
        "successful": False,
        "returnMessage": {"message": "Contact not found", "messageType": "warning", "ttl": 5000},
    }
    for headers in (other_platform, ghost):
        resp = await find(server, headers, "phoneNumber=%2B14155550100")
        assert (resp.status_code, resp.json()) == (200, expected)
    assert server.crm.requests == []


# -- OAuth: refresh and revocation -----------------------------------------------------------


async def oauth_login(srv: Server, user_id: str, **kw: Any) -> dict[str, str]:
    expired = datetime.now(UTC) - timedelta(hours=1)
    return await login(
        srv, user_id, platform="oauthcrm", refresh_token="rt-1", expiry=expired, **kw
    )


REVOKED = {
    "successful": False,
    "returnMessage": {
        "message": "User session expired. Please connect again.",
        "messageType": "warning",
        "ttl": 5000,
    },
    "errorCode": "CRM_SESSION_REVOKED",
}


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/contact?phoneNumber=%2B14155550100", None),
        ("POST", "/contact", {"phoneNumber": "+14155550100", "newContactName": "Jane"}),
        ("GET", "/custom/contact/search?name=Jane", None),
    ],
)
async def test_revoked_oauth_session_is_401(
    server: Server, method: str, url: str, body: Any
) -> None:
    server.crm.on("POST", "/oauth/token", json={"error": "invalid_grant"}, status=400)
    headers = await oauth_login(server, "u1")
    resp = await server.client.request(method, url, headers=headers, json=body)
    assert (resp.status_code, resp.json()) == (401, REVOKED)
    (token_call,) = server.crm.requests
    assert token_call.path == "/oauth/token"
    assert parse_qs(token_call.body.decode()) == {
        "refresh_token": ["rt-1"],
        "grant_type": ["refresh_token"],
    }


async def test_expired_oauth_token_is_refreshed_before_the_lookup(server: Server) -> None:
    token = {"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 3600}
    server.crm.on("POST", "/oauth/token", json=token)
    server.crm.on("GET", "/contacts", json=[JANE])
    headers = await oauth_login(server, "u1")
    resp = await find(server, headers, "phoneNumber=%2B14155550100")
    assert resp.json()["contact"] == [JANE]
    assert server.crm.calls("GET", "/contacts")[0].headers["authorization"] == "Bearer at-2"
    stored = await server.rt.users.get("u1")
    assert stored is not None and stored.refresh_token == "rt-2"


# -- coalescing ------------------------------------------------------------------------------


async def test_50_concurrent_identical_lookups_share_one_crm_call(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[JANE])
    server.crm.gate = asyncio.Event()
    users = [await login(server, f"agent{i}", api_key=f"key-{i}") for i in range(5)]
    requests = asyncio.gather(
        *(find(server, users[i % 5], "phoneNumber=%2B14155550100") for i in range(50))
    )
    await wait_for_joined(server.rt, 50)
    server.crm.gate.set()
    answers = await requests
    assert len(server.crm.requests) == 1
    # Cache hits would carry "returnMessage": null; every answer is the shared CRM result.
    assert {(a.status_code, a.text) for a in answers} == {(200, answers[0].text)}
    assert answers[0].json() == {"successful": True, "contact": [JANE]}
    assert server.rt.state[contacts.INFLIGHT_STATE_KEY] == {}
    assert await cache_rows(server.rt) == [("acc-1", "testcrm", "contact-+14155550100", [JANE])]


async def test_a_shared_failure_reaches_every_waiter(server: Server) -> None:
    server.crm.on("GET", "/contacts", status=500)
    server.crm.gate = asyncio.Event()
    headers = await login(server, "u1", account=None)  # coalesced per user without an account
    requests = asyncio.gather(*(find(server, headers, "phoneNumber=101") for _ in range(10)))
    await wait_for_joined(server.rt, 10)
    server.crm.gate.set()
    answers = await requests
    assert len(server.crm.requests) == 1
    assert {a.json()["returnMessage"]["message"] for a in answers} == {"Error finding contact"}
    assert server.rt.state[contacts.INFLIGHT_STATE_KEY] == {}


async def test_different_options_and_forced_refreshes_are_not_shared(server: Server) -> None:
    server.crm.on("GET", "/contacts", json=[])
    server.crm.gate = asyncio.Event()
    headers = await login(server, "u1")
    queries = [
        "phoneNumber=101",
        "phoneNumber=101&isExtension=true",
        "phoneNumber=101&overridingFormat=***",
        "phoneNumber=102",
        "phoneNumber=101&isForceRefreshAccountData=true",
    ]
    requests = asyncio.gather(*(find(server, headers, q) for q in queries))
    await server.crm.wait_for_requests(len(queries))
    server.crm.gate.set()
    await requests
    assert len(server.crm.requests) == len(queries)


async def test_anothers_revoked_session_is_not_shared(server: Server) -> None:
    server.crm.on("POST", "/oauth/token", json={"error": "invalid_grant"}, status=400)
    server.crm.on("GET", "/contacts", json=[JANE])
    server.crm.gate = asyncio.Event()
    revoked = await oauth_login(server, "revoked")
    fine = await login(server, "fine", platform="oauthcrm", api_key="at-fine")
    first = asyncio.ensure_future(find(server, revoked, "phoneNumber=%2B14155550100"))
    await wait_for_joined(server.rt, 1)
    second = asyncio.ensure_future(find(server, fine, "phoneNumber=%2B14155550100"))
    await wait_for_joined(server.rt, 2)
    server.crm.gate.set()
    revoked_resp, fine_resp = await asyncio.gather(first, second)
    assert (revoked_resp.status_code, revoked_resp.json()) == (401, REVOKED)
    assert fine_resp.json() == {"successful": True, "contact": [JANE]}
    assert server.crm.calls("GET", "/contacts")[0].headers["authorization"] == "Bearer at-fine"


# -- POST /contact ---------------------------------------------------------------------------


async def test_create_contact_posts_to_the_crm(server: Server) -> None:
    server.crm.on("POST", "/contacts", json={"id": "c-9", "name": "Jane Smith", "type": "Lead"})
    headers = await login(server, "u1")
    body = {
        "phoneNumber": "+14155550100",
        "newContactName": "Jane Smith",
        "newContactType": "Lead",
        "additionalSubmission": {"company": "Acme", "placeholder": True},
    }
    resp = await server.client.post("/contact", headers=headers, json=body)
    assert resp.json() == {
        "successful": True,
        "returnMessage": {"message": "Contact created.", "messageType": "success", "ttl": 2000},
        "contact": {"id": "c-9", "name": "Jane Smith", "type": "Lead"},
    }
    (call,) = server.crm.requests
    assert (call.method, call.url) == ("POST", f"{CRM}/contacts")
    assert call.headers["authorization"] == basic("key-1")
    assert call.json() == {
        "phone": "+14155550100",
        "name": "Jane Smith",
        "type": "Lead",
        "extra": {"company": "Acme", "placeholder": True},
    }
    assert await cache_rows(server.rt) == []  # creation never touches the contact cache


async def test_create_contact_without_contact_info_is_unsuccessful(server: Server) -> None:
    server.crm.on("POST", "/contacts", json={})
    headers = await login(server, "u1")
    body = {"phoneNumber": "101", "newContactName": "Desk"}
    resp = await server.client.post("/contact", headers=headers, json=body)
    assert resp.json() == {
        "successful": False,
        "returnMessage": {"message": "Could not create", "messageType": "warning", "ttl": 3000},
    }


async def test_create_contact_crm_error_and_unknown_user(server: Server) -> None:
    server.crm.on("POST", "/contacts", status=503)
    headers = await login(server, "u1")
    body = {"phoneNumber": "+14155550100", "newContactName": "Jane"}
    failed = await server.client.post("/contact", headers=headers, json=body)
    assert failed.json()["returnMessage"]["message"] == "Error creating contact"
    ghost = {"Authorization": f"Bearer {server.rt.sessions.issue('ghost', 'testcrm')}"}
    unknown = await server.client.post("/contact", headers=ghost, json=body)
    assert (unknown.status_code, unknown.json()) == (200, {"successful": False})


@pytest.mark.parametrize("phone", [None, "", "abc", 12.5, True, ["+1415"]])
async def test_create_contact_rejects_bad_phone(server: Server, phone: Any) -> None:
    headers = await login(server, "u1")
    body = {"phoneNumber": phone, "newContactName": "Jane"}
    resp = await server.client.post("/contact", headers=headers, json=body)
    assert (resp.status_code, resp.text) == (400, "Invalid phone number")
    assert server.crm.requests == []


async def test_create_contact_auth_and_body_errors(server: Server) -> None:
    no_token = await server.client.post("/contact", json={"phoneNumber": "101"})
    assert (no_token.status_code, no_token.text) == (400, NOAUTH)
    headers = {**await login(server, "u1"), "content-type": "application/json"}
    broken = await server.client.post("/contact", headers=headers, content=b"{nope")
    assert broken.status_code == 400 and "error" in broken.json()


# -- GET /custom/contact/search --------------------------------------------------------------


async def test_name_search(server: Server) -> None:
    server.crm.on("GET", "/contacts/search", json=[JANE])
    headers = await login(server, "u1")
    resp = await server.client.get("/custom/contact/search?name=Jane+Smith", headers=headers)
    assert resp.json() == {"successful": True, "contact": [JANE]}
    (call,) = server.crm.requests
    assert call.params == {"name": "Jane Smith"}
    assert call.headers["authorization"] == basic("key-1")
    assert await cache_rows(server.rt) == []


async def test_name_search_without_match_has_trailing_space_message(server: Server) -> None:
    server.crm.on("GET", "/contacts/search", json=[])
    headers = await login(server, "u1")
    resp = await server.client.get("/custom/contact/search?name=Zed", headers=headers)
    assert resp.json() == {
        "successful": True,
        "returnMessage": {
            "message": "No contact found with name Zed ",
            "messageType": "warning",
            "ttl": 5000,
        },
        "contact": [],
    }


async def test_name_search_failures(server: Server) -> None:
    server.crm.on("GET", "/contacts/search", status=429)
    headers = await login(server, "u1")
    limited = await server.client.get("/custom/contact/search?name=Jane", headers=headers)
    assert limited.json()["returnMessage"]["message"] == "Rate limit exceeded"
    bare = await login(server, "b1", platform="barecrm")
    missing = await server.client.get("/custom/contact/search?name=Jane", headers=bare)
    assert missing.json()["returnMessage"]["message"] == "Error searching contacts"
    ghost = {"Authorization": f"Bearer {server.rt.sessions.issue('ghost', 'testcrm')}"}
    unknown = await server.client.get("/custom/contact/search?name=Jane", headers=ghost)
    assert unknown.json() == {
        "successful": False,
        "returnMessage": {
            "message": "No contact found with name Jane",
            "messageType": "warning",
            "ttl": 5000,
        },
    }


async def test_name_search_token_errors(server: Server) -> None:
    no_token = await server.client.get("/custom/contact/search?name=Jane")
    assert (no_token.status_code, no_token.text) == (400, NOAUTH)
    bad_query = await server.client.get("/custom/contact/search?name=Jane&jwtToken=x.y.z")
    assert (bad_query.status_code, bad_query.text) == (400, "Invalid JWT token")
    bad_bearer = await server.client.get(
        "/custom/contact/search?name=Jane", headers={"Authorization": "Bearer x.y.z"}
    )
    assert (bad_bearer.status_code, bad_bearer.text) == (400, NOAUTH)


# -- helpers of the service ------------------------------------------------------------------


def test_phone_helpers() -> None:
    assert contacts.restore_plus(" 1 415") == "+1 415"
    assert contacts.is_valid_phone_input("*67#") and contacts.is_valid_phone_input(14155550100)
    assert not contacts.is_valid_phone_input("ext") and not contacts.is_valid_phone_input(True)
    assert contacts.to_e164("(415) 555-0100", "US") == "+14155550100"
    assert contacts.to_e164("101", "US") is None and contacts.to_e164("abc") is None
