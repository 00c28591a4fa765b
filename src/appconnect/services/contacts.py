"""Contact flows: find by phone number (cached, coalesced), create, find by name.

Behaviour follows http-contact-logging.md §2 and connector-interface.md §7. Two additions of ours:

* **Coalescing.** A call pop makes every softphone of an account look the same number up at
  once. Identical uncached look-ups for one account (same platform, number, format options) share
  one in-flight connector call: the first request starts it as a task, later ones await that task.
  With Redis, worker processes share it as well (:mod:`appconnect.services.shared_flights`).
  The task is shielded, so a caller that disconnects cannot cancel the CRM call the others are
  waiting for. Sharing across users of one account is what the reference's account-wide contact
  cache already does, only earlier.
* **Phone input checks** (:func:`is_valid_phone_input`): a value with no digit never reaches the
  CRM. Everything else is passed to the connector exactly as received.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import phonenumbers

from appconnect.connectors.args import UNSET
from appconnect.connectors.registry import ConnectorView
from appconnect.jsvalues import js_str_absent
from appconnect.runtime import Runtime
from appconnect.services.contact_cache import drop_contacts, get_cached_contacts, store_contacts
from appconnect.services.credentials import AuthContext, authenticate
from appconnect.services.errors import SESSION_REVOKED, api_error_result, failure, warning
from appconnect.services.shared_flights import across_workers, flight_key
from appconnect.store.users import User

INFLIGHT_STATE_KEY = "contacts.inflight"
# "contact-" + number must fit the 255-character accountData.dataKey column.
MAX_PHONE_LENGTH = 64
_DIGIT = re.compile(r"\d")


# -- phone numbers ---------------------------------------------------------------------------


def restore_plus(phone_number: str) -> str:
    """An unescaped ``+`` in a query string arrives as a space; the reference fixes the first."""
    return phone_number.replace(" ", "+", 1)


def is_valid_phone_input(phone_number: Any) -> bool:
    """At least one digit, at most :data:`MAX_PHONE_LENGTH` characters.

    Deliberately loose: extensions (``101``), short codes, ``*``/``#`` sequences and formatted
    numbers are legitimate look-ups and reach the connector untouched.
    """
    if isinstance(phone_number, bool) or not isinstance(phone_number, (str, int)):
        return False
    text = str(phone_number)
    return len(text) <= MAX_PHONE_LENGTH and _DIGIT.search(text) is not None


def to_e164(phone_number: str, default_region: str | None = None) -> str | None:
    """The E.164 form of a number, or ``None`` when it does not parse as a valid number.

    A helper for connectors whose CRM search needs one canonical format; the framework itself
    never reformats what it hands to ``find_contact``.
    """
    try:
        parsed = phonenumbers.parse(phone_number, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# -- find by phone number --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PhoneLookup:
    """One ``GET /contact`` request, after the ``+`` fix-up."""

    platform: str
    phone_number: str
    overriding_format: str | None = None
    is_extension: str | bool = False
    force_refresh: bool = False


@dataclass(frozen=True, slots=True)
class _Shared:
    """What a coalesced look-up hands every waiter: the result and whose credentials made it."""

    result: dict[str, Any]
    user_id: str


def _not_found_message(phone_number: str, platform: str) -> dict[str, Any]:
    return {
        "message": "Contact not found",
        "messageType": "warning",
        "details": [
            {
                "title": "Details",
                "items": [
                    {
                        "id": "1",
                        "type": "text",
                        "text": f"A contact with the phone number {phone_number} could not be "
                        f"found in your {platform} account.",
                    }
                ],
            }
        ],
        "ttl": 5000,
    }


def _real_contacts(matches: Any) -> list[Any]:
    """Matches that are CRM records, i.e. not the ``isNewContact`` "create" placeholder."""
    if not isinstance(matches, list):
        return []
    return [m for m in matches if not (isinstance(m, dict) and m.get("isNewContact"))]


def _pick(source: dict[str, Any], *keys: str, **renames: str) -> dict[str, Any]:
    """Copy present keys (absent ones stay absent: the reference omits ``undefined``)."""
    out = {k: source[k] for k in keys if k in source}
    out.update({new: source[old] for new, old in renames.items() if old in source})
    return out


async def _authenticated(
    rt: Runtime, platform: str, user: User
) -> tuple[ConnectorView, AuthContext | None]:
    """The platform's connector and the user's CRM credentials (``None``: session revoked)."""
    view = rt.registry.get_connector(platform)
    return view, await authenticate(rt, view, user)


async def _look_up(rt: Runtime, user: User, q: PhoneLookup) -> dict[str, Any]:
    """Auth, ``findContact``, cache maintenance (§2.1 steps 3-5). Exceptions propagate."""
    view, ctx = await _authenticated(rt, q.platform, user)
    if ctx is None:
        return dict(SESSION_REVOKED)
    raw = await view.find_contact(
        user=ctx.user,
        auth_header=ctx.auth_header,
        phone_number=q.phone_number,
        overriding_format=UNSET if q.overriding_format is None else q.overriding_format,
        is_extension=q.is_extension,
        proxy_config=ctx.proxy_config,
        tracer=None,
        is_force_refresh_account_data=q.force_refresh,
    )
    result = _pick(
        raw, "successful", "returnMessage", "extraDataTracking", contact="matchedContactInfo"
    )
    account = ctx.user.rc_account_id
    if _real_contacts(raw.get("matchedContactInfo")):
        if account:
            await store_contacts(rt, account, q.platform, q.phone_number, raw["matchedContactInfo"])
        return result
    if q.force_refresh and account:
        await drop_contacts(rt, account, q.platform, q.phone_number)
    if not raw.get("returnMessage"):
        result["returnMessage"] = _not_found_message(q.phone_number, q.platform)
    return result


def _coalescing_key(user: User, q: PhoneLookup) -> tuple[Any, ...]:
    # Users of one RingCentral account share results (as they share the cache); without an
    # account id a user only shares with itself. The type of isExtension is part of the value
    # ("true" from HTTP vs True from MCP) so connectors see exactly what they would have seen.
    owner = ("account", user.rc_account_id) if user.rc_account_id else ("user", user.id)
    return (
        owner,
        q.platform,
        q.phone_number,
        q.overriding_format,
        type(q.is_extension).__name__,
        q.is_extension,
    )


def _retrieve_exception(task: asyncio.Task[Any]) -> None:
    # Every waiter may have gone away; read the exception so asyncio does not log it as lost.
    if not task.cancelled():
        task.exception()


@dataclass(slots=True)
class Flight:
    """One in-flight look-up; ``joined`` counts the requests sharing it (for logs and tests)."""

    task: asyncio.Task[_Shared]
    joined: int = 0


def _inflight(rt: Runtime) -> dict[tuple[Any, ...], Flight]:
    flights: dict[tuple[Any, ...], Flight] = rt.state.setdefault(INFLIGHT_STATE_KEY, {})
    return flights


async def _coalesced(
    rt: Runtime, key: tuple[Any, ...], work: Callable[[], Awaitable[_Shared]]
) -> _Shared:
    """Join the in-flight look-up for ``key`` or start it; every caller gets its outcome.

    Check-and-register has no ``await`` in between, so one process never runs two look-ups
    for one key. The entry is removed when the task ends (success or error), before any
    waiter resumes; later requests then find the cache row the task wrote.
    """
    flights = _inflight(rt)
    flight = flights.get(key)
    if flight is None:

        async def run() -> _Shared:
            try:
                return await work()
            finally:  # only the owner removes its entry: one task per key at a time
                flights.pop(key, None)

        flight = Flight(asyncio.ensure_future(run()))
        flight.task.add_done_callback(_retrieve_exception)
        flights[key] = flight
    flight.joined += 1
    return await asyncio.shield(flight.task)


async def _cached_result(rt: Runtime, user: User, q: PhoneLookup) -> dict[str, Any] | None:
    cached = await get_cached_contacts(rt, user.rc_account_id, q.platform, q.phone_number)
    if cached is None:
        return None
    return {
        "successful": True,
        "returnMessage": None,
        "contact": cached,
        "extraDataTracking": {"isCached": True},
    }


async def _find(rt: Runtime, user: User, q: PhoneLookup) -> dict[str, Any]:
    if q.force_refresh:
        return await _look_up(rt, user, q)
    key = _coalescing_key(user, q)
    if key not in _inflight(rt):  # joining a running look-up is cheaper than reading the cache
        cached = await _cached_result(rt, user, q)
        if cached is not None:
            return cached

    async def work() -> _Shared:
        if not user.rc_account_id:  # only this user's own requests could share it: rare
            return _Shared(await _look_up(rt, user, q), user.id)

        async def look_up() -> dict[str, Any]:
            return {"result": await _look_up(rt, user, q), "userId": user.id}

        # A call pop reaches every agent of the account, on every worker: with Redis, the
        # workers share one CRM call too (services.shared_flights).
        wait = rt.settings.http_timeout + 5
        done = await across_workers(rt, flight_key("lookup", *key), look_up, wait=wait)
        return _Shared(done["result"], str(done["userId"]))

    shared = await _coalesced(rt, key, work)
    if shared.result.get("isRevokeUserSession") and shared.user_id != user.id:
        # Someone else's CRM session was revoked; ours may be fine, so ask on our own.
        return await _look_up(rt, user, q)
    return shared.result


async def find_contact(rt: Runtime, user_id: str | None, q: PhoneLookup) -> dict[str, Any]:
    """``GET /contact``: ``{successful, returnMessage, contact, ...}`` or a revoked session."""
    try:
        user = await rt.users.get(user_id, q.platform)
        if user is None or not user.access_token:
            return failure("Contact not found")
        return await _find(rt, user, q)
    except Exception as exc:
        return api_error_result(exc, q.platform, "findContact")


# -- create ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewContact:
    """One ``POST /contact`` body."""

    phone_number: Any
    name: Any = UNSET
    type: Any = UNSET
    additional_submission: Any = UNSET


async def create_contact(
    rt: Runtime, user_id: str | None, platform: str, new: NewContact
) -> dict[str, Any]:
    """``POST /contact`` (§2.2). Nothing is stored locally."""
    try:
        user = await rt.users.get(user_id, platform)
        if user is None or not user.access_token:
            return {"successful": False}  # the reference sends no returnMessage here (quirk 7)
        view, ctx = await _authenticated(rt, platform, user)
        if ctx is None:
            return dict(SESSION_REVOKED)
        raw = await view.create_contact(
            user=ctx.user,
            auth_header=ctx.auth_header,
            phone_number=new.phone_number,
            new_contact_name=new.name,
            new_contact_type=new.type,
            additional_submission=new.additional_submission,
            proxy_config=ctx.proxy_config,
        )
    except Exception as exc:
        return api_error_result(exc, platform, "createContact")
    if raw.get("contactInfo") is not None:
        return {
            "successful": True,
            **_pick(raw, "returnMessage", "extraDataTracking", contact="contactInfo"),
        }
    return {"successful": False, **_pick(raw, "returnMessage")}


# -- find by name ----------------------------------------------------------------------------


async def find_contact_with_name(
    rt: Runtime, user_id: str | None, platform: str, name: str | None
) -> dict[str, Any]:
    """``GET /custom/contact/search`` (§2.3). No caching."""
    try:
        user = await rt.users.get(user_id, platform)
        if user is None or not user.access_token:
            return failure(f"No contact found with name {js_str_absent(name)}")
        view, ctx = await _authenticated(rt, platform, user)
        if ctx is None:
            return dict(SESSION_REVOKED)
        raw = await view.find_contact_with_name(
            user=ctx.user,
            auth_header=ctx.auth_header,
            name=UNSET if name is None else name,
            proxy_config=ctx.proxy_config,
        )
    except Exception as exc:
        return api_error_result(exc, platform, "findContactWithName")
    result = _pick(raw, "successful", "returnMessage", contact="matchedContactInfo")
    if not _real_contacts(raw.get("matchedContactInfo")) and not raw.get("returnMessage"):
        # The trailing space is the reference's.
        result["returnMessage"] = warning(f"No contact found with name {js_str_absent(name)} ")
    return result
