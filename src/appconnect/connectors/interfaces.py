"""The table of interface names: the wire's camelCase name and the Python method name.

Registry look-ups, ``/implementedInterfaces``, interface-only registration and proxy configs all
speak camelCase; connector authors write snake_case methods. This table is the one place where
the two meet.
"""

from __future__ import annotations

import re

INTERFACES: dict[str, str] = {
    "getAuthType": "get_auth_type",
    "getOauthInfo": "get_oauth_info",
    "getBasicAuth": "get_basic_auth",
    "getUserInfo": "get_user_info",
    "refreshUserInfo": "refresh_user_info",
    "unAuthorize": "unauthorize",
    "authValidation": "auth_validation",
    "checkAndRefreshAccessToken": "check_and_refresh_access_token",
    "getOverridingOAuthOption": "get_overriding_oauth_option",
    "postSaveUserInfo": "post_save_user_info",
    "findContact": "find_contact",
    "findContactWithName": "find_contact_with_name",
    "createContact": "create_contact",
    "createCallLog": "create_call_log",
    "updateCallLog": "update_call_log",
    "getCallLog": "get_call_log",
    "getLogFormatType": "get_log_format_type",
    "upsertCallDisposition": "upsert_call_disposition",
    "createMessageLog": "create_message_log",
    "updateMessageLog": "update_message_log",
    "getLicenseStatus": "get_license_status",
    "getUserList": "get_user_list",
    "getManagedAuthOptions": "get_managed_auth_options",
    "getServerLoggingSettings": "get_server_logging_settings",
    "updateServerLoggingSettings": "update_server_logging_settings",
    "onUpdateUserSettings": "on_update_user_settings",
    "listAppointments": "list_appointments",
    "createAppointment": "create_appointment",
    "updateAppointment": "update_appointment",
    "refreshAppointment": "refresh_appointment",
    "confirmAppointment": "confirm_appointment",
    "cancelAppointment": "cancel_appointment",
}

PYTHON_TO_WIRE: dict[str, str] = {py: wire for wire, py in INTERFACES.items()}
# Accepted spellings that the mechanical rule would not produce.
PYTHON_TO_WIRE["un_authorize"] = "unAuthorize"

REQUIRED = ("createCallLog", "updateCallLog")

# Reported by /implementedInterfaces (in this order), before the auth-dependent keys.
REPORTED = (
    "getAuthType", "getUserInfo", "createCallLog", "updateCallLog", "getCallLog",
    "createMessageLog", "updateMessageLog", "createContact", "findContact", "listAppointments",
    "createAppointment", "updateAppointment", "refreshAppointment", "confirmAppointment",
    "cancelAppointment", "unAuthorize", "upsertCallDisposition", "findContactWithName",
    "getUserList", "getManagedAuthOptions", "getLicenseStatus", "getLogFormatType",
    "refreshUserInfo",
)  # fmt: skip

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def wire_name(name: str) -> str:
    """camelCase interface name for either spelling."""
    if name in INTERFACES:
        return name
    if name in PYTHON_TO_WIRE:
        return PYTHON_TO_WIRE[name]
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def python_name(name: str) -> str:
    """snake_case method name for either spelling."""
    if name in INTERFACES:
        return INTERFACES[name]
    if name in PYTHON_TO_WIRE:
        return name
    return _CAMEL.sub("_", name).lower()
