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
from pydantic import ValidationError
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api import wire as w
from appconnect.api.body import BadBody, read_body
from appconnect.api.openapi import documented, replies
from appconnect.api.session import INVALID_JWT, Session, runtime, with_session
from appconnect.connectors.args import given
from appconnect.services import contacts

router = routing.router(tags=["contacts"])

INVALID_PHONE = "Invalid phone number"
_WIRE_KEYS = ("successful", "returnMessage", "contact")


@router.get(
    "/contact",
    openapi_extra=documented(
        query=("phoneNumber", "overridingFormat", "isExtension", "isForceRefreshAccountData")
    ),
    responses=replies(w.ContactResult, revocable=True),
)
@with_session()
async def find_contact(request: Request, s: Session) -> Response:
    """Contacts matching a phone number, from the account cache or the CRM."""
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


@router.post(
    "/contact",
    openapi_extra=documented(w.ContactCreate),
    responses=replies(w.ContactResult, revocable=True),
)
@with_session()
async def create_contact(request: Request, s: Session) -> Response:
    """Create a CRM contact; body ``{phoneNumber, newContactName, newContactType, ...}``."""
    try:
        body = await read_body(request)
    except BadBody as exc:
        return r.failed(exc)
    phone = body.get("phoneNumber")
    if not contacts.is_valid_phone_input(phone):
        return r.text(INVALID_PHONE, 400)
    try:
        body = dict(w.adapter(w.ContactCreate).validate_python(body))
    except ValidationError as exc:
        return r.failed(BadBody(w.first_error(exc)))
    new = contacts.NewContact(
        phone_number=phone,
        name=given(body, "newContactName"),
        type=given(body, "newContactType"),
        additional_submission=given(body, "additionalSubmission"),
    )
    result = await contacts.create_contact(runtime(request), s.user_id, s.platform or "", new)
    return r.business(result, *_WIRE_KEYS)


@router.get(
    "/custom/contact/search",
    openapi_extra=documented(query=("name",)),
    responses=replies(w.ContactResult, revocable=True),
)
@with_session(invalid_token=INVALID_JWT, no_user=INVALID_JWT)
async def find_contact_with_name(request: Request, s: Session) -> Response:
    """Contacts matching a name (the manual search of ``page.useContactSearch``)."""
    result = await contacts.find_contact_with_name(
        runtime(request), s.user_id, s.platform or "", request.query_params.get("name")
    )
    return r.business(result, *_WIRE_KEYS)
