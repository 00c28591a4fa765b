"""The template context of each proxy operation (spec: proxy-connector.md §5).

Only plain data goes in: the operation's named inputs (converted to JSON-like values), the
user's nine fields, ``apiKey``, ``authHeader`` and the connector's ``secretKey``. Nothing from the
server's settings or environment is reachable, so a config cannot read server secrets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import phonenumbers
from pydantic import BaseModel

from appconnect.connectors.args import UNSET
from appconnect.connectors.proxy.request import iso_utc
from appconnect.connectors.proxy.template import UNDEFINED

_RING_SENSE = (
    "ringSenseTranscript",
    "ringSenseSummary",
    "ringSenseAIScore",
    "ringSenseBulletedSummary",
    "ringSenseLink",
)

# Input variables per operation (spec §5.2), by their template names.
OPERATION_INPUTS: dict[str, tuple[str, ...]] = {
    "getUserInfo": ("apiKey", "hostname", "platform", "userEmail", "additionalInfo"),
    "findContact": ("phoneNumber", "parsedPhoneNumber", "overridingFormat", "isExtension"),
    "findContactWithName": ("name",),
    "createContact": ("phoneNumber", "newContactName", "newContactType", "additionalSubmission"),
    "createCallLog": (
        "contactInfo", "callLog", "note", "additionalSubmission", "aiNote", "transcript",
        "voicemailLink", "voicemailMessageId", "composedLogDetails", "hashedAccountId",
        "isFromSSCL", "subject", "startTime", "endTime", *_RING_SENSE,
    ),
    "getCallLog": ("thirdPartyLogId", "contactId"),
    "updateCallLog": (
        "thirdPartyLogId", "existingCallLog", "recordingLink", "recordingDownloadLink",
        "voicemailLink", "voicemailMessageId", "subject", "note", "startTime", "endTime",
        "duration", "result", "aiNote", "transcript", "legs", "additionalSubmission",
        "composedLogDetails", "existingCallLogDetails", "hashedAccountId", "isFromSSCL",
        *_RING_SENSE,
    ),
    "upsertCallDisposition": ("existingCallLog", "dispositions", "thirdPartyLogId"),
    "createMessageLog": (
        "contactInfo", "message", "additionalSubmission", "recordingLink", "faxDocLink",
        "faxDownloadLink", "imageLink", "videoLink", "creationTime",
    ),
    "updateMessageLog": (
        "contactInfo", "existingMessageLog", "thirdPartyLogId", "message",
        "additionalSubmission", "imageLink", "videoLink", "creationTime",
    ),
    "getUserList": (),
    "getLicenseStatus": ("userId", "platform"),
    "unAuthorize": (),
}  # fmt: skip

BASE_VARIABLES = ("user", "apiKey", "authHeader", "secretKey", "$")
USER_FIELDS = (
    "accessToken", "id", "hostname", "timezoneName", "timezoneOffset", "platform",
    "platformAdditionalInfo", "refreshToken", "tokenExpiry",
)  # fmt: skip

_SPECIAL_NAMES = {"isFromSSCL": "is_from_sscl", "ringSenseAIScore": "ring_sense_ai_score"}


def python_arg(name: str) -> str:
    """The keyword the framework passes for template variable ``name``."""
    special = _SPECIAL_NAMES.get(name)
    if special:
        return special
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def plain(value: Any, _depth: int = 0) -> Any:
    """JSON-like data only: mappings, lists, scalars, datetimes; other objects become ``{}``."""
    if value is UNSET:
        return UNDEFINED
    if value is None or isinstance(value, (str, bool, int, float, datetime)):
        return value
    if _depth > 64:
        return UNDEFINED
    if isinstance(value, Mapping):
        return {str(k): plain(v, _depth + 1) for k, v in value.items() if v is not UNSET}
    if isinstance(value, (list, tuple)):
        return [plain(v, _depth + 1) for v in value]
    if isinstance(value, BaseModel):
        return plain(value.model_dump(mode="json", by_alias=True), _depth + 1)
    to_wire = getattr(value, "to_wire", None)
    if callable(to_wire):
        return plain(to_wire(), _depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value), _depth + 1)
    return {}


# Media links the framework passes as ``None`` when the message has no such attachment (the
# reference leaves them undefined, so a body member templated from them is left out).
_NONE_IS_ABSENT = frozenset({"recordingLink", "faxDocLink", "faxDownloadLink", "imageLink",
                             "videoLink"})  # fmt: skip


def _input(kwargs: Mapping[str, Any], name: str) -> Any:
    """An argument as a template value: a keyword not passed (or UNSET) is undefined."""
    value = kwargs.get(python_arg(name), UNSET)
    if value is UNSET or (value is None and name in _NONE_IS_ABSENT):
        return UNDEFINED
    return plain(value)


def user_context(user: Any, api_key: Any = None) -> dict[str, Any]:
    """``user`` as templates see it: nine fields, ``id`` cut at its first ``-``."""
    fields: dict[str, Any] = {}
    if user is not None:
        raw_id = getattr(user, "id", None)
        fields = {
            "accessToken": getattr(user, "access_token", None),
            "id": str(raw_id).split("-", 1)[0] if raw_id is not None else UNDEFINED,
            "hostname": getattr(user, "hostname", None),
            "timezoneName": getattr(user, "timezone_name", None),
            "timezoneOffset": getattr(user, "timezone_offset", None),
            "platform": getattr(user, "platform", None),
            "platformAdditionalInfo": plain(getattr(user, "platform_additional_info", None)),
            "refreshToken": getattr(user, "refresh_token", None),
            "tokenExpiry": getattr(user, "token_expiry", None),
        }
    token = fields.get("accessToken")
    if token is None:
        token = api_key if api_key is not None else ""
    out = {name: fields.get(name, UNDEFINED) for name in USER_FIELDS}
    out["accessToken"] = token
    return {k: (UNDEFINED if v is None and k != "accessToken" else v) for k, v in out.items()}


# -- derived values ----------------------------------------------------------------------------


def parse_time(value: Any, *, now: datetime | None = None) -> datetime | None:
    """An ISO string or epoch milliseconds as a UTC datetime; missing: now; bad: ``None``."""
    if value is None or value is UNDEFINED:
        return now or datetime.now(UTC)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _seconds(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def start_and_end(start: Any, duration: Any) -> tuple[str | None, str | None]:
    moment = parse_time(start)
    if moment is None:
        return None, None
    try:
        end = moment + timedelta(seconds=_seconds(duration))
    except (OverflowError, ValueError):
        return iso_utc(moment), None
    return iso_utc(moment), iso_utc(end)


def call_subject(call_log: Any, contact_info: Any) -> Any:
    log = call_log if isinstance(call_log, Mapping) else {}
    custom = log.get("customSubject")
    if custom is not None:
        return custom
    contact = contact_info if isinstance(contact_info, Mapping) else {}
    from appconnect.connectors.proxy.template import js_text

    direction = log.get("direction")
    word = "to" if direction == "Outbound" else "from"
    return f"{js_text(direction) or 'undefined'} Call {word} {js_text(contact.get('name'))}"


_TYPES = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "fixed-line",
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed-line-or-mobile",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll-free",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium-rate",
    phonenumbers.PhoneNumberType.SHARED_COST: "shared-cost",
    phonenumbers.PhoneNumberType.VOIP: "voip",
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER: "personal-number",
    phonenumbers.PhoneNumberType.PAGER: "pager",
    phonenumbers.PhoneNumberType.UAN: "uan",
    phonenumbers.PhoneNumberType.VOICEMAIL: "voicemail",
}
_POSSIBILITY = {
    phonenumbers.ValidationResult.IS_POSSIBLE: "is-possible",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "is-possible",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "invalid-country-code",
    phonenumbers.ValidationResult.TOO_SHORT: "too-short",
    phonenumbers.ValidationResult.TOO_LONG: "too-long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "invalid-length",
}


def parsed_phone_number(raw: Any) -> dict[str, Any]:
    """§5.3's ``parsedPhoneNumber`` (fields absent when not derivable)."""
    text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    text = text.replace(" ", "+", 1)
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return {"valid": False, "possible": False, "number": {"input": text}}
    fmt = phonenumbers.PhoneNumberFormat
    kind = _TYPES.get(phonenumbers.number_type(number), "unknown")
    possibility = phonenumbers.is_possible_number_with_reason(number)
    return {
        "valid": phonenumbers.is_valid_number(number),
        "possible": possibility == phonenumbers.ValidationResult.IS_POSSIBLE,
        "possibility": _POSSIBILITY.get(possibility, "unknown"),
        "regionCode": phonenumbers.region_code_for_number(number),
        "countryCode": number.country_code,
        "type": kind,
        "typeIsMobile": kind in ("mobile", "fixed-line-or-mobile"),
        "typeIsFixedLine": kind in ("fixed-line", "fixed-line-or-mobile"),
        "canBeInternationallyDialled": phonenumbers.can_be_internationally_dialled(number),
        "number": {
            "input": text,
            "e164": phonenumbers.format_number(number, fmt.E164),
            "international": phonenumbers.format_number(number, fmt.INTERNATIONAL),
            "national": phonenumbers.format_number(number, fmt.NATIONAL),
            "rfc3966": phonenumbers.format_number(number, fmt.RFC3966),
            "significant": phonenumbers.national_significant_number(number),
        },
    }


def build_context(
    operation: str,
    kwargs: Mapping[str, Any],
    *,
    user: Any,
    auth_header: str,
    secret_key: Any,
) -> dict[str, Any]:
    """The template context of one operation call."""
    context: dict[str, Any] = {
        name: _input(kwargs, name) for name in OPERATION_INPUTS.get(operation, ())
    }
    if operation in ("createCallLog", "updateCallLog"):
        for name in _RING_SENSE:
            if context.get(name) is UNDEFINED or context.get(name) is None:
                context[name] = ""
    if operation == "findContact":
        context["parsedPhoneNumber"] = parsed_phone_number(kwargs.get("phone_number"))
    elif operation == "createCallLog":
        call_log = context["callLog"]
        log = call_log if isinstance(call_log, Mapping) else {}
        context["subject"] = call_subject(call_log, context["contactInfo"])
        context["startTime"], context["endTime"] = start_and_end(
            log.get("startTime"), log.get("duration")
        )
    elif operation == "updateCallLog":
        existing = context["existingCallLog"]
        if isinstance(existing, Mapping):
            context["thirdPartyLogId"] = existing.get("thirdPartyLogId", UNDEFINED)
        context["startTime"], context["endTime"] = start_and_end(
            kwargs.get("start_time"), kwargs.get("duration")
        )
    elif operation == "upsertCallDisposition":
        existing = context["existingCallLog"]
        if isinstance(existing, Mapping):
            context["thirdPartyLogId"] = existing.get("thirdPartyLogId", UNDEFINED)
    elif operation in ("createMessageLog", "updateMessageLog"):
        message = context["message"]
        created = message.get("creationTime") if isinstance(message, Mapping) else None
        moment = parse_time(created) if created is not None else None
        context["creationTime"] = iso_utc(moment) if moment is not None else UNDEFINED
        if operation == "updateMessageLog":
            existing = context["existingMessageLog"]
            if isinstance(existing, Mapping):
                context["thirdPartyLogId"] = existing.get("thirdPartyLogId", UNDEFINED)
    elif operation == "getCallLog":
        context["thirdPartyLogId"] = _input(kwargs, "callLogId")
    api_key = kwargs.get("api_key")
    context["user"] = user_context(user, api_key)
    context["apiKey"] = context["user"]["accessToken"]
    context["authHeader"] = auth_header if auth_header else UNDEFINED
    context["secretKey"] = secret_key if isinstance(secret_key, str) else UNDEFINED
    return context
