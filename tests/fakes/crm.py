"""Test connectors that talk to the fake CRM of :mod:`appconnect.testing.crm`.

``FakeCrm`` and ``Recorded`` live in the public testing kit (``appconnect.testing``) so connector
authors use the same double; they are re-exported here for the suite's existing imports.
"""

from __future__ import annotations

from typing import Any

from appconnect.connectors.base import Connector
from appconnect.connectors.results import (
    ContactMatch,
    CreateContactResult,
    FindContactResult,
    ReturnMessage,
)
from appconnect.testing.crm import CRM, FakeCrm, Recorded

__all__ = ["CRM", "BareConnector", "FakeCrm", "FakeCrmConnector", "FakeOAuthConnector", "Recorded"]


# -- connectors that talk to the fake --------------------------------------------------------


class FakeCrmConnector(Connector):
    """An API-key connector for the fake CRM at :data:`CRM`; ``seen`` records find_contact args.

    ``GET /contacts?phone=`` answers a list of contacts, or a complete ``findContact`` answer
    (an object) when a test scripts one; ``POST /contacts`` creates (an empty object: failure);
    ``GET /contacts/search?name=`` searches by name.
    """

    platform = "testcrm"
    auth_type = "apiKey"

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def get_basic_auth(self, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def find_contact(
        self,
        user: Any,
        auth_header: str,
        phone_number: str,
        overriding_format: str | None,
        is_extension: Any,
        is_force_refresh_account_data: bool,
    ) -> FindContactResult | dict[str, Any]:
        self.seen.append(
            {
                "user": user.id,
                "phone_number": phone_number,
                "overriding_format": overriding_format,
                "is_extension": is_extension,
                "force": is_force_refresh_account_data,
            }
        )
        params = {"phone": phone_number}
        if overriding_format:
            params["format"] = overriding_format
        response = await self.http(CRM).get(
            "/contacts", params=params, headers={"Authorization": auth_header}
        )
        response.raise_for_status()
        data = response.json()
        if isinstance(data, dict):  # the CRM scripts a complete connector answer
            return data
        return FindContactResult(matched_contact_info=[ContactMatch(**c) for c in data])

    async def create_contact(
        self,
        auth_header: str,
        phone_number: str,
        new_contact_name: str,
        new_contact_type: str | None,
        additional_submission: dict[str, Any] | None,
    ) -> CreateContactResult:
        response = await self.http(CRM).post(
            "/contacts",
            json={
                "phone": phone_number,
                "name": new_contact_name,
                "type": new_contact_type,
                "extra": additional_submission,
            },
            headers={"Authorization": auth_header},
        )
        response.raise_for_status()
        created = response.json()
        if not created:
            return CreateContactResult(
                return_message=ReturnMessage(message="Could not create", message_type="warning")
            )
        return CreateContactResult(
            contact_info=ContactMatch(**created),
            return_message=ReturnMessage(message="Contact created.", ttl=2000),
        )

    async def find_contact_with_name(self, auth_header: str, name: str) -> FindContactResult:
        response = await self.http(CRM).get(
            "/contacts/search", params={"name": name}, headers={"Authorization": auth_header}
        )
        response.raise_for_status()
        return FindContactResult(matched_contact_info=[ContactMatch(**c) for c in response.json()])

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}


class FakeOAuthConnector(FakeCrmConnector):
    """The same CRM behind OAuth; its token endpoint is ``POST /oauth/token``."""

    platform = "oauthcrm"
    auth_type = "oauth"

    def get_oauth_info(self, **_: Any) -> dict[str, Any]:
        return {
            "clientId": "cid",
            "clientSecret": "csecret",
            "accessTokenUri": f"{CRM}/oauth/token",
        }


class BareConnector(Connector):
    """A connector implementing only the required interfaces."""

    platform = "barecrm"

    def get_basic_auth(self, api_key: str) -> str:
        return self.basic_auth(api_key)

    async def create_call_log(self, **_: Any) -> dict[str, Any]:
        return {}

    async def update_call_log(self, **_: Any) -> dict[str, Any]:
        return {}
