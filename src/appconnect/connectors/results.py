"""Small typed result objects that serialize to the wire's camelCase shapes.

Connectors may return these or plain dicts with the reference's camelCase keys; the framework
turns either into the wire shape with :func:`to_wire`. Fields left unset are omitted from the
JSON (the reference omits ``undefined``); fields set to ``None`` are sent as ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from appconnect.jsvalues import UNSET

MessageType = Literal["success", "info", "warning", "danger", "error"]


class WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", serialize_by_alias=True
    )

    # Fields serialized even when left at their default (the wire requires them).
    wire_always: ClassVar[tuple[str, ...]] = ()

    def model_post_init(self, context: Any, /) -> None:
        self.__pydantic_fields_set__.update(self.wire_always)

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class DetailItem(WireModel):
    id: str | int
    text: str
    type: str = "text"
    wire_always = ("type",)


class DetailSection(WireModel):
    title: str
    items: list[DetailItem]


class ReturnMessage(WireModel):
    """A notification the client shows the user."""

    message: str
    message_type: MessageType | str = "success"
    ttl: int = 3000
    details: list[DetailSection] | None = None
    wire_always = ("message_type", "ttl")


class ContactMatch(WireModel):
    """One CRM record matching a phone number or name."""

    id: str | int
    name: str
    phone: str | None = None
    type: str | None = None
    title: str | None = None
    company: str | None = None
    email: str | None = None
    created_date: str | int | None = None
    most_recent_activity_date: str | int | None = None
    additional_info: dict[str, Any] | None = None
    is_new_contact: bool | None = None


class FindContactResult(WireModel):
    successful: bool = True
    matched_contact_info: list[ContactMatch] | None = Field(default_factory=list)
    return_message: ReturnMessage | None = None
    extra_data_tracking: dict[str, Any] | None = None
    wire_always = ("successful", "matched_contact_info")


class CreateContactResult(WireModel):
    contact_info: ContactMatch | None = None
    return_message: ReturnMessage | None = None
    extra_data_tracking: dict[str, Any] | None = None


class LogResult(WireModel):
    """Result of ``create_call_log``, ``create_message_log`` and ``upsert_call_disposition``."""

    log_id: str | int | None = None
    return_message: ReturnMessage | None = None
    extra_data_tracking: dict[str, Any] | None = None


class UpdateLogResult(WireModel):
    updated_note: str | None = None
    return_message: ReturnMessage | None = None
    extra_data_tracking: dict[str, Any] | None = None


class CallLogInfo(WireModel):
    subject: str | None = None
    note: str | None = None
    full_body: str | None = None
    full_log_response: Any = None
    contact_name: str | None = None
    dispositions: dict[str, Any] | None = None


class GetCallLogResult(WireModel):
    call_log_info: CallLogInfo | None = None
    return_message: ReturnMessage | None = None
    extra_data_tracking: dict[str, Any] | None = None


class PlatformUserInfo(WireModel):
    id: str | int
    name: str
    timezone_name: str | None = None
    timezone_offset: str | int | float | None = None
    platform_additional_info: dict[str, Any] | None = None
    overriding_hostname: str | None = None
    overriding_api_key: str | None = None


class UserInfoResult(WireModel):
    successful: bool
    platform_user_info: PlatformUserInfo | None = None
    return_message: ReturnMessage | None = None


class OAuthInfo(WireModel):
    client_id: str
    client_secret: str | None = None
    access_token_uri: str
    redirect_uri: str | None = None
    authorization_uri: str | None = None
    scopes: str | list[str] | None = None
    hostname: str | None = None
    fail_message: str | None = None


class LicenseStatus(WireModel):
    is_license_valid: bool
    license_status: str
    license_status_description: str = ""
    wire_always = ("license_status_description",)


class ActionResult(WireModel):
    """``{successful, returnMessage}``: logout, validation, refreshUserInfo, settings hooks."""

    successful: bool
    return_message: ReturnMessage | None = None


def to_wire(value: Any) -> Any:
    """Turn a connector result (model, dict, list, scalar) into plain JSON-able data."""
    if isinstance(value, WireModel):
        return value.to_wire()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):  # as JSON.stringify: undefined members are left out
        return {str(k): to_wire(v) for k, v in value.items() if v is not UNSET}
    if isinstance(value, (list, tuple)):  # ... and undefined array items become null
        return [None if v is UNSET else to_wire(v) for v in value]
    return None if value is UNSET else value
