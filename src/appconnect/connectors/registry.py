"""The connector registry: which connector serves which platform.

Resolution follows the reference: a registered connector, composed with any single interfaces
registered for its platform (the connector's own members win); or an interface-only connector
built from single functions; or the connector registered under ``proxy`` for any platform nobody
registered. Views are rebuilt on each look-up, so late registrations take effect immediately, and
the registered objects are never mutated.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from appconnect.connectors.interfaces import INTERFACES, REQUIRED, python_name, wire_name
from appconnect.connectors.invoke import call_positional, call_with_kwargs
from appconnect.connectors.results import to_wire
from appconnect.manifest import Manifest, load_manifest

PROXY_PLATFORM = "proxy"


class ConnectorNotFound(LookupError):
    def __init__(self, platform: str) -> None:
        super().__init__(f"Connector not found for platform: {platform}")
        self.platform = platform


class ManifestNotFound(LookupError):
    def __init__(self, platform: str) -> None:
        super().__init__(f"Manifest not found for platform: {platform}")


class MissingInterface(AttributeError):
    """A flow needed an interface the connector does not implement."""

    def __init__(self, platform: str, name: str) -> None:
        super().__init__(f"Connector {platform} does not implement {name}")
        self.interface = name


def _member(obj: Any, name: str) -> Any:
    """The member implementing interface ``name`` (either spelling), or ``None``."""
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name) or obj.get(python_name(name))
    for attr in (python_name(name), name):
        value = getattr(obj, attr, None)
        if value:
            return value
    return None


def _members(obj: Any) -> list[str]:
    """Wire names of every interface and known member the object defines."""
    found = [name for name in INTERFACES if _member(obj, name) is not None]
    if _account_data(obj) is not None:
        found.append("accountData")
    return found


def _account_data(obj: Any) -> Mapping[str, Any] | None:
    if obj is None:
        return None
    data = obj.get("accountData") if isinstance(obj, Mapping) else None
    if data is None:
        data = getattr(obj, "account_data", None) or getattr(obj, "accountData", None)
    return data if isinstance(data, Mapping) else None


def _as_manifest(value: Any, platform: str) -> Manifest:
    """Validate at registration, so a broken manifest stops the server at start-up."""
    if isinstance(value, Manifest):
        return value
    return load_manifest(
        value, name=None if not isinstance(value, Mapping) else f"manifest of {platform}"
    )


class ConnectorView:
    """What the framework calls: one platform's connector, composed and resolved."""

    __slots__ = ("_extra", "base", "platform")

    def __init__(self, platform: str, base: Any, extra: Mapping[str, Callable[..., Any]]) -> None:
        self.platform = platform
        self.base = base
        # Single functions the base does not define itself (base wins on clashes).
        self._extra = {n: f for n, f in extra.items() if _member(base, n) is None}

    def get(self, name: str) -> Callable[..., Any] | None:
        name = wire_name(name)
        return _member(self.base, name) or self._extra.get(name)

    def has(self, name: str) -> bool:
        return self.get(name) is not None

    @property
    def composed(self) -> list[str]:
        return list(self._extra)

    @property
    def account_data(self) -> Mapping[str, Any] | None:
        return _account_data(self.base)

    def call(self, name: str, /, **kwargs: Any) -> Awaitable[Any]:
        """Call interface ``name`` with keyword arguments (each function takes what it names).

        Await the result. Not itself a coroutine, so the connector's coroutine is awaited
        directly (see :func:`appconnect.connectors.invoke.call_with_kwargs`); a missing
        interface still raises :class:`MissingInterface` when awaited.
        """
        fn = self.get(name)
        if fn is None:
            return _raise(MissingInterface(self.platform, wire_name(name)))
        return call_with_kwargs(fn, kwargs)

    async def call_object(self, name: str, /, **kwargs: Any) -> dict[str, Any]:
        """:meth:`call`, with the result in its wire shape; a non-object result is an error."""
        result = to_wire(await self.call(name, **kwargs))
        if not isinstance(result, dict):
            raise TypeError(f"{python_name(name)} must return an object")
        return result

    def call_positional(self, name: str, *args: Any) -> Awaitable[Any]:
        """:meth:`call` for the interfaces the reference calls with positional arguments."""
        fn = self.get(name)
        if fn is None:
            return _raise(MissingInterface(self.platform, wire_name(name)))
        return call_positional(fn, *args)

    # -- typed entry points for the framework's fixed-shape calls ------------------------------
    # The workflows call these by method rather than by interface name where the call has one
    # fixed shape; the keyword arguments pass through as in :meth:`call` (absent stays absent).

    def get_auth_type(self, **kwargs: Any) -> Awaitable[Any]:
        """``getAuthType``: ``"oauth"`` or ``"apiKey"``."""
        return self.call("getAuthType", **kwargs)

    def get_basic_auth(self, *, api_key: Any) -> Awaitable[Any]:
        """``getBasicAuth``: the Basic credential (base64) for an API key."""
        return self.call("getBasicAuth", api_key=api_key)

    def get_oauth_info(self, **kwargs: Any) -> Awaitable[dict[str, Any]]:
        """``getOauthInfo``, in its wire shape (an object, else ``TypeError``)."""
        return self.call_object("getOauthInfo", **kwargs)

    def get_log_format_type(self, platform: str, proxy_config: Any) -> Awaitable[Any]:
        """``getLogFormatType(platform, proxyConfig)``, positional as in the reference."""
        return self.call_positional("getLogFormatType", platform, proxy_config)

    # Contacts and logs: one method per interface, with the arguments the framework passes
    # named in the signature, so a misspelt or forgotten argument is a type error at the call
    # site instead of a keyword the connector silently never sees. Each returns the call's
    # awaitable as it is (no extra coroutine frame on the hot path).

    def find_contact(
        self,
        *,
        user: Any,
        auth_header: Any,
        phone_number: Any,
        overriding_format: Any,
        is_extension: Any,
        proxy_config: Any,
        tracer: Any,
        is_force_refresh_account_data: Any,
    ) -> Awaitable[dict[str, Any]]:
        """``findContact``, in its wire shape (an object, else ``TypeError``)."""
        return self.call_object(
            "findContact",
            user=user,
            auth_header=auth_header,
            phone_number=phone_number,
            overriding_format=overriding_format,
            is_extension=is_extension,
            proxy_config=proxy_config,
            tracer=tracer,
            is_force_refresh_account_data=is_force_refresh_account_data,
        )

    def create_contact(
        self,
        *,
        user: Any,
        auth_header: Any,
        phone_number: Any,
        new_contact_name: Any,
        new_contact_type: Any,
        additional_submission: Any,
        proxy_config: Any,
    ) -> Awaitable[dict[str, Any]]:
        """``createContact``, in its wire shape."""
        return self.call_object(
            "createContact",
            user=user,
            auth_header=auth_header,
            phone_number=phone_number,
            new_contact_name=new_contact_name,
            new_contact_type=new_contact_type,
            additional_submission=additional_submission,
            proxy_config=proxy_config,
        )

    def find_contact_with_name(
        self, *, user: Any, auth_header: Any, name: Any, proxy_config: Any
    ) -> Awaitable[dict[str, Any]]:
        """``findContactWithName``, in its wire shape."""
        return self.call_object(
            "findContactWithName",
            user=user,
            auth_header=auth_header,
            name=name,
            proxy_config=proxy_config,
        )

    def create_call_log(
        self,
        *,
        user: Any,
        contact_info: Any,
        auth_header: Any,
        call_log: Any,
        note: Any,
        additional_submission: Any,
        ai_note: Any,
        transcript: Any,
        voicemail_link: Any,
        voicemail_message_id: Any,
        composed_log_details: Any,
        hashed_account_id: Any,
        is_from_sscl: Any,
        proxy_config: Any,
        **ring_sense: Any,
    ) -> Awaitable[Any]:
        """``createCallLog`` (``ring_sense``: the five ``ring_sense_*`` arguments)."""
        return self.call(
            "createCallLog",
            user=user,
            contact_info=contact_info,
            auth_header=auth_header,
            call_log=call_log,
            note=note,
            additional_submission=additional_submission,
            ai_note=ai_note,
            transcript=transcript,
            voicemail_link=voicemail_link,
            voicemail_message_id=voicemail_message_id,
            composed_log_details=composed_log_details,
            hashed_account_id=hashed_account_id,
            is_from_sscl=is_from_sscl,
            proxy_config=proxy_config,
            **ring_sense,
        )

    def get_call_log(
        self,
        *,
        user: Any,
        telephony_session_id: Any,
        call_log_id: Any,
        contact_id: Any,
        auth_header: Any,
        proxy_config: Any,
    ) -> Awaitable[Any]:
        """``getCallLog``."""
        return self.call(
            "getCallLog",
            user=user,
            telephony_session_id=telephony_session_id,
            call_log_id=call_log_id,
            contact_id=contact_id,
            auth_header=auth_header,
            proxy_config=proxy_config,
        )

    def update_call_log(
        self,
        *,
        user: Any,
        existing_call_log: Any,
        auth_header: Any,
        recording_link: Any,
        recording_download_link: Any,
        voicemail_link: Any,
        voicemail_message_id: Any,
        subject: Any,
        note: Any,
        start_time: Any,
        duration: Any,
        result: Any,
        ai_note: Any,
        transcript: Any,
        legs: Any,
        additional_submission: Any,
        composed_log_details: Any,
        existing_call_log_details: Any,
        hashed_account_id: Any,
        is_from_sscl: Any,
        proxy_config: Any,
        **ring_sense: Any,
    ) -> Awaitable[Any]:
        """``updateCallLog`` (``PATCH /callLog`` and the async plugins' note both call it)."""
        return self.call(
            "updateCallLog",
            user=user,
            existing_call_log=existing_call_log,
            auth_header=auth_header,
            recording_link=recording_link,
            recording_download_link=recording_download_link,
            voicemail_link=voicemail_link,
            voicemail_message_id=voicemail_message_id,
            subject=subject,
            note=note,
            start_time=start_time,
            duration=duration,
            result=result,
            ai_note=ai_note,
            transcript=transcript,
            legs=legs,
            additional_submission=additional_submission,
            composed_log_details=composed_log_details,
            existing_call_log_details=existing_call_log_details,
            hashed_account_id=hashed_account_id,
            is_from_sscl=is_from_sscl,
            proxy_config=proxy_config,
            **ring_sense,
        )

    def upsert_call_disposition(
        self,
        *,
        user: Any,
        existing_call_log: Any,
        auth_header: Any,
        dispositions: Any,
        proxy_config: Any,
    ) -> Awaitable[Any]:
        """``upsertCallDisposition``."""
        return self.call(
            "upsertCallDisposition",
            user=user,
            existing_call_log=existing_call_log,
            auth_header=auth_header,
            dispositions=dispositions,
            proxy_config=proxy_config,
        )

    def create_message_log(self, **kwargs: Any) -> Awaitable[Any]:
        """``createMessageLog`` (its arguments differ between shared and one-to-one SMS)."""
        return self.call("createMessageLog", **kwargs)

    def update_message_log(self, **kwargs: Any) -> Awaitable[Any]:
        """``updateMessageLog``."""
        return self.call("updateMessageLog", **kwargs)


async def _raise(exc: Exception) -> Any:
    raise exc


class ConnectorRegistry:
    """Platform key -> connector, single interfaces, manifests and release notes."""

    def __init__(self) -> None:
        self._connectors: dict[str, Any] = {}
        self._interfaces: dict[str, dict[str, Callable[..., Any]]] = {}
        self._manifests: dict[str, Any] = {}
        self._release_notes: dict[str, Any] = {}

    # -- registration ---------------------------------------------------------------------

    def register_connector(self, platform: str, connector: Any, manifest: Any = None) -> None:
        """Register a code connector (an instance, a class, or a mapping of functions)."""
        if isinstance(connector, type):
            connector = connector()
        for name in REQUIRED:
            if not callable(_member(connector, name)):
                raise ValueError(f"Connector {platform} missing required method: {name}")
        loaded = _as_manifest(manifest, platform) if manifest else None
        self._connectors[platform] = connector
        if loaded is not None:
            self._manifests[platform] = loaded

    def register(self, connector: Any, *, platform: str | None = None, manifest: Any = None) -> Any:
        """Pythonic spelling: ``registry.register(MyCRM(), manifest=...)``; also a decorator."""
        key = platform or getattr(connector, "platform", None)
        if not key:
            raise ValueError(
                "a platform key is required (pass platform= or set Connector.platform)"
            )
        self.register_connector(key, connector, manifest or getattr(connector, "manifest", None))
        return connector

    def use_proxy(self, connector: Any = None) -> Any:
        """Serve every platform without code through the declarative proxy connector.

        ``connector`` defaults to the built-in :class:`appconnect.connectors.proxy.ProxyConnector`
        configured from settings (``APPCONNECT_PROXY*``); it is registered under ``proxy``.
        """
        if connector is None:
            from appconnect.connectors.proxy import ProxyConnector

            connector = ProxyConnector()
        self.register_connector(PROXY_PLATFORM, connector)
        return connector

    def register_interface(self, platform: str, name: str, fn: Callable[..., Any]) -> None:
        """Register one interface function for a platform (before or after its connector)."""
        if not callable(fn):
            raise TypeError(f"Interface function must be a function, got: {type(fn).__name__}")
        self._interfaces.setdefault(platform, {})[wire_name(name)] = fn

    def interface(self, platform: str, name: str | None = None) -> Callable[[Any], Any]:
        """Decorator form of :meth:`register_interface`; the name defaults to the function's."""

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.register_interface(platform, name or fn.__name__, fn)
            return fn

        return decorate

    def unregister_interface(self, platform: str, name: str) -> None:
        self._interfaces.get(platform, {}).pop(wire_name(name), None)

    def unregister_connector(self, platform: str) -> None:
        self._connectors.pop(platform, None)
        self._manifests.pop(platform, None)
        self._interfaces.pop(platform, None)

    # -- look-ups -------------------------------------------------------------------------

    def has_platform_interface(self, platform: str, name: str) -> bool:
        return wire_name(name) in self._interfaces.get(platform, {})

    def get_platform_interfaces(self, platform: str) -> dict[str, Callable[..., Any]]:
        return dict(self._interfaces.get(platform, {}))

    def get_connector(self, platform: str) -> ConnectorView:
        base = self._connectors.get(platform)
        extra = self._interfaces.get(platform) or {}
        if base is None and not extra:
            proxy = self._connectors.get(PROXY_PLATFORM)
            if proxy is None:
                raise ConnectorNotFound(platform)
            return ConnectorView(platform, proxy, self._interfaces.get(PROXY_PLATFORM) or {})
        return ConnectorView(platform, base, extra)

    def get_original_connector(self, platform: str) -> Any:
        try:
            return self._connectors[platform]
        except KeyError:
            raise ConnectorNotFound(platform) from None

    def is_registered(self, platform: str) -> bool:
        return platform in self._connectors

    def registered_platforms(self) -> list[str]:
        return list(self._connectors)

    def connectors(self) -> Iterable[Any]:
        return self._connectors.values()

    # -- manifests and release notes ------------------------------------------------------

    def set_default_manifest(self, manifest: Any) -> None:
        self._manifests["default"] = _as_manifest(manifest, "default")

    def get_manifest(self, platform: str, fallback_to_default: bool = False) -> Manifest:
        manifest = self._manifests.get(platform)
        if manifest is None and fallback_to_default:
            manifest = self._manifests.get("default")
        if manifest is None:
            raise ManifestNotFound(platform)
        return manifest

    def set_release_notes(self, notes: Mapping[str, Any]) -> None:
        self._release_notes = copy.deepcopy(dict(notes))

    def get_release_notes(self) -> dict[str, Any]:
        return self._release_notes

    # -- capabilities ---------------------------------------------------------------------

    async def capabilities(self, platform: str) -> dict[str, Any]:
        original = self.get_original_connector(platform)
        view = ConnectorView(platform, original, self._interfaces.get(platform) or {})
        original_methods = _members(original)
        registered = list(self._interfaces.get(platform, {}))
        auth_type: Any = None
        get_auth_type = _member(original, "getAuthType")
        if get_auth_type is not None:
            try:
                auth_type = await call_with_kwargs(get_auth_type, {})
            except Exception:
                auth_type = "unknown"
        return {
            "platform": platform,
            "originalMethods": original_methods,
            "composedMethods": view.composed if registered else original_methods,
            "registeredInterfaces": registered,
            "authType": auth_type,
        }
