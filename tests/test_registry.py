"""The connector registry: registration, composition, interface-only platforms, proxy fallback."""

from __future__ import annotations

from typing import Any

import pytest

from appconnect import Connector, ConnectorRegistry
from appconnect.connectors.registry import ConnectorNotFound, ManifestNotFound, MissingInterface
from appconnect.manifest import ManifestError

MANIFEST = {
    "author": {"name": "Acme"},
    "version": "1.2.3",
    "platforms": {"acme": {"name": "acme", "auth": {"type": "apiKey", "apiKey": {}}}},
}


class Acme(Connector):
    platform = "acme"

    async def create_call_log(self, **kwargs: Any) -> dict[str, Any]:
        return {"logId": "base"}

    async def update_call_log(self, **kwargs: Any) -> dict[str, Any]:
        return {}

    async def find_contact(self, *, phone_number: str) -> dict[str, Any]:
        return {"successful": True, "matchedContactInfo": [{"id": 1, "name": phone_number}]}


def test_required_methods_are_enforced_and_nothing_is_stored() -> None:
    registry = ConnectorRegistry()

    class Incomplete(Connector):
        async def create_call_log(self) -> None: ...

    with pytest.raises(ValueError, match="Connector x missing required method: updateCallLog"):
        registry.register_connector("x", Incomplete())
    assert not registry.is_registered("x")


async def test_calls_pass_only_the_arguments_a_method_declares() -> None:
    registry = ConnectorRegistry()
    registry.register(Acme(), manifest=MANIFEST)
    view = registry.get_connector("acme")
    result = await view.call("findContact", user=object(), phone_number="+1555", extra="ignored")
    assert result["matchedContactInfo"][0]["name"] == "+1555"
    assert view.has("find_contact") and view.has("findContact")
    with pytest.raises(MissingInterface):
        await view.call("createContact")


async def test_composition_adds_missing_interfaces_and_base_wins() -> None:
    registry = ConnectorRegistry()
    base = Acme()
    registry.register_connector("acme", base)

    async def create_contact(*, phone_number: str) -> dict[str, Any]:
        return {"contactInfo": {"id": "new", "name": phone_number}}

    def find_contact(**_: Any) -> str:  # shadowed by the base
        return "registered"

    registry.register_interface("acme", "createContact", create_contact)
    registry.register_interface("acme", "find_contact", find_contact)
    view = registry.get_connector("acme")
    assert (await view.call("createContact", phone_number="1"))["contactInfo"]["id"] == "new"
    assert (await view.call("findContact", phone_number="2"))["successful"] is True
    assert registry.get_original_connector("acme") is base
    assert not hasattr(base, "create_contact")  # the base is never mutated
    caps = await registry.capabilities("acme")
    assert caps["composedMethods"] == ["createContact"]
    assert set(caps["registeredInterfaces"]) == {"createContact", "findContact"}
    assert caps["authType"] == "apiKey"
    assert "createCallLog" in caps["originalMethods"]


async def test_interface_only_platform_and_late_registration() -> None:
    registry = ConnectorRegistry()

    @registry.interface("solo")
    async def find_contact(phone_number: str) -> dict[str, Any]:
        return {"successful": True, "matchedContactInfo": []}

    view = registry.get_connector("solo")
    assert view.has("findContact") and not view.has("createCallLog")
    assert not registry.is_registered("solo")
    registry.register_interface("solo", "createCallLog", lambda **_: {"logId": 1})
    assert registry.get_connector("solo").has("createCallLog")  # views are rebuilt per look-up
    registry.unregister_interface("solo", "createCallLog")
    assert not registry.get_connector("solo").has("createCallLog")
    with pytest.raises(TypeError, match="Interface function must be a function, got: str"):
        registry.register_interface("solo", "findContact", "nope")  # type: ignore[arg-type]


def test_unknown_platform_falls_back_to_proxy_or_fails() -> None:
    registry = ConnectorRegistry()
    with pytest.raises(ConnectorNotFound, match="Connector not found for platform: nimbus"):
        registry.get_connector("nimbus")
    proxy = Acme()
    registry.register_connector("proxy", proxy)
    assert registry.get_connector("nimbus").base is proxy
    with pytest.raises(ConnectorNotFound):
        registry.get_original_connector("nimbus")


def test_mapping_connectors_ported_from_javascript() -> None:
    registry = ConnectorRegistry()
    registry.register_connector(
        "js", {"createCallLog": lambda **_: {}, "updateCallLog": lambda **_: {}, "accountData": {}}
    )
    view = registry.get_connector("js")
    assert view.has("createCallLog") and view.account_data == {}


def test_manifests_are_validated_at_registration() -> None:
    registry = ConnectorRegistry()
    registry.register(Acme(), manifest=MANIFEST)
    assert registry.get_manifest("acme").version == "1.2.3"
    with pytest.raises(ManifestNotFound, match="Manifest not found for platform: other"):
        registry.get_manifest("other")
    broken = {"platforms": {"acme": {"name": "acme", "auth": {"type": "oauth"}}}}
    with pytest.raises(ManifestError, match=r"platforms\.acme\.auth\.oauth"):
        registry.register(Acme(), platform="acme2", manifest=broken)
    assert not registry.is_registered("acme2")
    registry.set_default_manifest(MANIFEST)
    assert registry.get_manifest("other", fallback_to_default=True).version == "1.2.3"


def test_unregister_removes_connector_manifest_and_interfaces() -> None:
    registry = ConnectorRegistry()
    registry.register(Acme(), manifest=MANIFEST)
    registry.register_interface("acme", "createContact", lambda **_: None)
    registry.unregister_connector("acme")
    assert registry.registered_platforms() == []
    assert registry.get_platform_interfaces("acme") == {}


async def test_typed_entry_points_call_the_connector_methods() -> None:
    seen: list[tuple[Any, ...]] = []

    class Typed(Acme):
        def get_log_format_type(self, platform: str, proxy_config: Any) -> str:
            seen.append((platform, proxy_config))
            return "text/html"

        async def get_oauth_info(self, *, hostname: str) -> dict[str, Any]:
            return {"clientId": hostname}

        def get_basic_auth(self, api_key: str) -> str:
            return self.basic_auth(api_key)

    registry = ConnectorRegistry()
    registry.register(Typed(), manifest=MANIFEST)
    view = registry.get_connector("acme")
    assert await view.get_log_format_type("acme", {"id": "p"}) == "text/html"
    assert seen == [("acme", {"id": "p"})]
    assert await view.get_auth_type(proxy_id=None) == "apiKey"  # Connector's default
    assert await view.get_basic_auth(api_key="k") == Connector.basic_auth("k")
    assert await view.get_oauth_info(hostname="h", extra=1) == {"clientId": "h"}

    plain = ConnectorRegistry()
    plain.register(Acme(), manifest=MANIFEST)
    with pytest.raises(MissingInterface):
        await plain.get_connector("acme").get_oauth_info(hostname="h")
