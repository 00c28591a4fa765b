"""Typed wire layer: request and response models of the routes, and how routes parse bodies.

Request bodies are pydantic-validated ``TypedDict`` s: validation is done by pydantic-core in one
pass over the raw JSON (``TypeAdapter.validate_json``), and the result is the plain ``dict`` the
services work with, in which a key the request did not carry is absent and a JSON ``null`` is
``None`` (what connectors need to tell "absent" from "null"). Unknown keys are kept: the
reference forwards them (plugins, connectors). On ``POST /callLog`` this parses a typical body in
~6 µs against ~3 µs for bare ``orjson.loads``, where a ``BaseModel`` plus ``model_dump`` took
~14 µs.

Response models document the replies; the replies themselves are still built by
:mod:`appconnect.api.responses` (orjson), so the bytes on the wire do not change.

How the models reach ``/openapi.json`` (with each route's credentials) is
:mod:`appconnect.api.openapi`'s business.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, with_config
from starlette.requests import Request
from typing_extensions import TypedDict

from appconnect.api.body import MAX_BODY, BadBody, check_depth, decode_body, json_error

T = TypeVar("T")

Id = str | int
Text = str | None
Number = int | float
Stamp = str | Number  # an ISO 8601 string or epoch milliseconds
Obj = dict[str, Any]

_OPEN = ConfigDict(extra="allow")

# -- shared shapes -----------------------------------------------------------------------------


class ReturnMessage(BaseModel):
    """A notification the client shows (spec 2.1); extra keys are forwarded."""

    model_config = _OPEN
    message: str | None = None
    messageType: str | None = None
    ttl: int | None = None
    details: list[Obj] | None = None


class ErrorBody(BaseModel):
    """The exception envelope: ``400 {"error": <message>}``."""

    error: str


class Outcome(BaseModel):
    """``{successful, returnMessage}``; a failure is ``successful: false`` with HTTP 200."""

    model_config = _OPEN
    successful: bool
    returnMessage: ReturnMessage | str | None = None


class SessionRevoked(BaseModel):
    """``401``: the CRM refused the stored credentials for good; the user must connect again."""

    successful: bool
    returnMessage: ReturnMessage
    errorCode: Literal["CRM_SESSION_REVOKED"]


# -- call logs -------------------------------------------------------------------------------

# ``from`` is a Python keyword, so the parties are declared with TypedDict's functional form.
_Parties = TypedDict("_Parties", {"from": Obj | None, "to": Obj | None}, total=False)


@with_config(_OPEN)
class CallRecord(_Parties, total=False):
    """``logInfo`` of ``POST /callLog``: the RingCentral call-log record plus client additions."""

    id: Id
    sessionId: Id
    telephonySessionId: Id | None
    accountId: Id | None
    direction: Text
    startTime: Stamp | None
    duration: Number | str | None
    result: Text
    customSubject: Text
    recording: Obj | None
    voicemail: Obj | None
    legs: list[Any] | None
    extensionNumber: Id | None
    hashedExtensionId: Text
    rcExtensionId: Id | None


@with_config(_OPEN)
class _Artefacts(TypedDict, total=False):
    note: Text
    aiNote: Text
    transcript: Text
    additionalSubmission: Obj | None
    voicemailLink: Text
    voicemailMessageId: Id | None
    ringSenseTranscript: Text
    ringSenseSummary: Text
    ringSenseAIScore: Number | str | None
    ringSenseBulletedSummary: Text
    ringSenseLink: Text
    extensionNumber: Id | None
    hashedExtensionId: Text
    rcExtensionId: Id | None


@with_config(_OPEN)
class CallLogCreate(_Artefacts, total=False):
    """``POST /callLog``."""

    logInfo: CallRecord
    contactId: Id | None
    contactType: Text
    contactName: Text
    overridingFormat: Text


@with_config(_OPEN)
class CallLogUpdate(_Artefacts, _Parties, total=False):
    """``PATCH /callLog``: only the keys it carries change anything."""

    sessionId: Id | None
    telephonySessionId: Id | None
    accountId: Id | None
    subject: Text
    startTime: Stamp | None
    duration: Number | str | None
    result: Text
    direction: Text
    legs: list[Any] | None
    recordingLink: Text
    recordingDownloadLink: Text


@with_config(_OPEN)
class CallDisposition(TypedDict, total=False):
    """``PUT /callDisposition``."""

    sessionId: Id | None
    extensionNumber: Id | None
    hashedExtensionId: Text
    dispositions: Any
    additionalSubmission: Any


@with_config(_OPEN)
class NoteToCache(TypedDict, total=False):
    """``POST /callLog/cacheNote``."""

    sessionId: Id | None
    note: Any


class CallLogCreated(Outcome):
    logId: Id | None = None


class CallLogUpdated(Outcome):
    logId: Id | None = None
    updatedNote: str | None = None


class CallLogMatch(BaseModel):
    model_config = _OPEN
    sessionId: Id
    matched: bool
    logId: Id | None = None
    logData: Obj | None = None


class CallLogLookup(Outcome):
    logs: list[CallLogMatch] | None = None


# -- message logs ----------------------------------------------------------------------------


@with_config(_OPEN)
class Conversation(TypedDict, total=False):
    """``logInfo`` of ``POST /messageLog``."""

    messages: list[Obj]
    correspondents: list[Obj]
    conversationId: Id | None
    conversationLogId: Id | None
    creationTime: Stamp | None
    rcAccessToken: Text
    owner: Obj | None
    assignee: Obj | None
    accountId: Id | None
    entities: list[Any] | None


@with_config(_OPEN)
class MessageLogCreate(TypedDict, total=False):
    """``POST /messageLog``."""

    logInfo: Conversation
    contactId: Id | None
    contactType: Text
    contactName: Text
    additionalSubmission: Obj | None


class MessagesLogged(Outcome):
    logIds: list[str] | None = None


# -- contacts --------------------------------------------------------------------------------


@with_config(_OPEN)
class ContactCreate(TypedDict, total=False):
    """``POST /contact``."""

    phoneNumber: str
    newContactName: Text
    newContactType: Text
    additionalSubmission: Obj | None


class ContactResult(Outcome):
    contact: list[Obj] | Obj | None = None


# -- auth and system -------------------------------------------------------------------------


@with_config(_OPEN)
class ApiKeyLogin(TypedDict, total=False):
    """``POST /apiKeyLogin``."""

    platform: str
    apiKey: Text
    hostname: Text
    additionalInfo: Obj | None
    proxyId: Text
    connectorId: Id | None
    devRcAccountId: Id | None
    isPrivate: Any
    rcAccessToken: Text


class LoggedIn(BaseModel):
    jwtToken: str
    name: Any = None
    returnMessage: ReturnMessage | None = None


class LoginFailed(BaseModel):
    returnMessage: ReturnMessage | None = None


class LicenseStatus(BaseModel):
    model_config = _OPEN
    isLicenseValid: bool
    licenseStatus: str
    licenseStatusDescription: str


class UserInfoHash(BaseModel):
    extensionId: str
    accountId: str


class VersionInfo(BaseModel):
    version: str


class AnyObject(BaseModel):
    """A JSON object whose keys the connector or manifest decides."""

    model_config = _OPEN


# -- parsing ---------------------------------------------------------------------------------

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def adapter(model: type[T]) -> TypeAdapter[T]:
    found = _ADAPTERS.get(model)
    if found is None:
        found = _ADAPTERS[model] = TypeAdapter(model)
    return found


async def parse(request: Request, model: type[Any]) -> dict[str, Any]:
    """The request body validated against ``model``; :class:`BadBody` when it does not fit."""
    raw = await request.body()
    if not raw:
        return {}
    if len(raw) > MAX_BODY:
        raise BadBody("request entity too large")
    ctype = request.headers.get("content-type", "")
    typed = adapter(model)
    try:
        if "form" in ctype or "xml" in ctype:
            data: dict[str, Any] = typed.validate_python(decode_body(raw, ctype))
        else:
            data = typed.validate_json(raw)
            check_depth(raw, data)  # at most MAX_DEPTH levels, as every body (SECURITY.md)
    except ValidationError as exc:
        if exc.errors(include_url=False)[0]["type"] == "json_invalid":
            raise BadBody(json_error(raw)) from None
        raise BadBody(first_error(exc)) from None
    return data


def first_error(exc: ValidationError) -> str:
    """``<field path>: <problem>`` of a validation error's first problem."""
    first = exc.errors(include_url=False)[0]
    if not first["loc"]:
        return "request body must be a JSON object"
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}"
