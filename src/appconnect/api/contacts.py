"""Contact routes: ``GET/POST /contact`` and ``GET /custom/contact/search`` (spec §2).

Input checks of ours, on top of the reference (which forwards anything to the CRM):

* ``GET /contact`` without ``phoneNumber`` answers the reference's exception envelope
  ``400 {"error": "phoneNumber is required"}`` (the reference throws on the missing value).
* An empty phone number, one without any digit, or one longer than 64 characters answers
  ``400`` plain text ``Invalid phone number`` (``POST /contact``: also a missing or non-string
  one), before any database or CRM work.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api.body import BadBody, read_body
from appconnect.api.params import documented_query
from appconnect.api.session import runtime, session
from appconnect.connectors.args import given
from appconnect.services import contacts

router = routing.router(tags=["contacts"])

INVALID_PHONE = "Invalid phone number"
INVALID_JWT = "Invalid JWT token"
_WIRE_KEYS = ("successful", "returnMessage", "contact")


@router.get(
    "/contact",
    openapi_extra=documented_query(
        "phoneNumber", "overridingFormat", "isExtension", "isForceRefreshAccountData"
    ),
)
async def find_contact(request: Request) -> Response:
    """Contacts matching a phone number, from the account cache or the CRM."""
    s = session(request)
    if not s.valid:
        return r.text(r.NOAUTH, 400)
    query = request.query_params
    phoneNumber = query.get("phoneNumber")
    overridingFormat = query.get("overridingFormat")
    isExtension = query.get("isExtension")
    isForceRefreshAccountData = query.get("isForceRefreshAccountData")
    if phoneNumber is None:
        return r.error("phoneNumber is required")
    phone = contacts.restore_plus(phoneNumber)
    if not contacts.is_valid_phone_input(phone):
        return r.text(INVALID_PHONE, 400)
    lookup = contacts.PhoneLookup(
        platform=s.platform or "",
        phone_number=phone,
        overriding_format=overridingFormat,
        is_extension=isExtension if isExtension is not None else False,
        force_refresh=isForceRefreshAccountData == "true",
    )
    result = await contacts.find_contact(runtime(request), s.user_id, lookup)
    return r.business(result, *_WIRE_KEYS)


@router.post("/contact")
async def create_contact(request: Request) -> Response:
    """Create a CRM contact; body ``{phoneNumber, newContactName, newContactType, ...}``."""
    s = session(request)
    if not s.valid:
        return r.text(r.NOAUTH, 400)
    try:
        body = await read_body(request)
    except BadBody as exc:
        return r.failed(exc)
    phone = body.get("phoneNumber")
    if not contacts.is_valid_phone_input(phone):
        return r.text(INVALID_PHONE, 400)
    new = contacts.NewContact(
        phone_number=phone,
        name=given(body, "newContactName"),
        type=given(body, "newContactType"),
        additional_submission=given(body, "additionalSubmission"),
    )
    result = await contacts.create_contact(runtime(request), s.user_id, s.platform or "", new)
    return r.business(result, *_WIRE_KEYS)


@router.get("/custom/contact/search")
async def find_contact_with_name(request: Request, name: str | None = None) -> Response:
    """Contacts matching a name (the manual search of ``page.useContactSearch``)."""
    s = session(request)
    if not s.present:
        return r.text(r.NOAUTH, 400)
    if not s.valid:
        return r.text(INVALID_JWT, 400)
    result = await contacts.find_contact_with_name(
        runtime(request), s.user_id, s.platform or "", name
    )
    return r.business(result, *_WIRE_KEYS)
