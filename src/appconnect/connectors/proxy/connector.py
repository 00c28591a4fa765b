"""The proxy connector: every interface served from a per-user JSON config (spec §1, §8).

Registered once under the platform key ``proxy``; the registry sends every platform without
code to it. The config comes from the ``proxy_config`` argument the framework passes (loaded by
the user's ``proxyId``) or from this connector's own :class:`~.sources.ProxyConfigs`.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from appconnect.connectors.base import Connector
from appconnect.connectors.proxy import mapping
from appconnect.connectors.proxy.context import build_context
from appconnect.connectors.proxy.request import ProxyRequest, as_dict, build_request
from appconnect.connectors.proxy.ssrf import AddressGuard
from appconnect.connectors.proxy.template import UNDEFINED, js_text
from appconnect.crm_client import CrmResponse, status_error

if TYPE_CHECKING:
    from appconnect.connectors.proxy.sources import ProxyConfigs
    from appconnect.runtime import Runtime

logger = logging.getLogger("appconnect.proxy")

_NOT_SUPPORTED = mapping.message("Not supported", "warning", 2000)
_NO_USER_INFO = (
    "Could not load user information. The platform does not support getUserInfo operation."
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
_DEFAULT_GUARD = AddressGuard()
_CROSS_ORIGIN_SAFE = frozenset({"accept", "content-type"})


class ProxyConfigNotFound(LookupError):
    def __init__(self, proxy_id: Any) -> None:
        super().__init__(f"Proxy config not found for proxyId: {js_text(proxy_id)}")


class ProxyConnector(Connector):
    """The declarative connector. ``configs`` and ``guard`` default to the server's settings."""

    platform = "proxy"
    auth_type = "apiKey"

    def __init__(
        self, configs: ProxyConfigs | None = None, *, guard: AddressGuard | None = None
    ) -> None:
        self.configs = configs
        self.guard = guard
        self._runtime: Runtime | None = None

    async def startup(self, runtime: Runtime) -> None:
        """Wire the config sources and the address guard from settings (app start-up)."""
        from appconnect.connectors.proxy.sources import configs_from_settings

        self._runtime = runtime
        if self.configs is None:
            self.configs = configs_from_settings(runtime)
        else:
            self.configs.attach(runtime)
        await self.configs.load_files()
        if self.guard is None:
            self.guard = AddressGuard(runtime.settings.proxy_allowed_hosts_list)
        runtime.state["proxy_config_loader"] = self.configs.get

    # -- config and transport ----------------------------------------------------------------

    async def _config(self, proxy_config: Any, user: Any) -> dict[str, Any] | None:
        if isinstance(proxy_config, Mapping):
            return dict(proxy_config)
        proxy_id = getattr(user, "proxy_id", None) if user is not None else None
        return await self._load(proxy_id)

    async def _load(self, proxy_id: Any) -> dict[str, Any] | None:
        if not proxy_id or self.configs is None:
            return None
        try:
            return await self.configs.get(str(proxy_id))
        except Exception:
            logger.exception("loading proxy config %s failed", proxy_id)
            return None

    async def _required(self, proxy_config: Any, user: Any) -> dict[str, Any]:
        config = await self._config(proxy_config, user)
        if config is None:
            raise ProxyConfigNotFound(getattr(user, "proxy_id", None))
        return config

    async def _perform(
        self,
        name: str,
        config: Mapping[str, Any],
        kwargs: Mapping[str, Any],
        *,
        user: Any,
        auth_header: str = "",
    ) -> tuple[bool, Any]:
        """Send operation ``name``; ``(False, None)`` when the config does not define it."""
        operation = as_dict(config.get("operations")).get(name)
        if not isinstance(operation, Mapping):
            return False, None
        context = build_context(
            name, kwargs, user=user, auth_header=auth_header, secret_key=config.get("secretKey")
        )
        request = build_request(config, operation, context, auth_header)
        return True, await self._send(name, config, request, user)

    async def _send(
        self, name: str, config: Mapping[str, Any], request: ProxyRequest, user: Any
    ) -> Any:
        started = time.monotonic()
        method, url, content = request.method, request.url, request.content
        response: CrmResponse | None = None
        try:
            client = self.http()
            headers = request.headers
            guard = self.guard if self.guard is not None else _DEFAULT_GUARD
            for _hop in range(MAX_REDIRECTS + 1):
                await guard.check(url)
                response = await client.request(
                    method,
                    url,
                    content=content,
                    headers=[(k.encode("latin-1", "replace"), v.encode()) for k, v in headers],
                    timeout=request.timeout,
                )
                location = response.headers.get("location")
                if response.status_code not in _REDIRECTS or not location:
                    break
                target = urljoin(url, location)
                if _origin(target) != _origin(url):
                    # Credentials stay with the host they were meant for.
                    headers = [(k, v) for k, v in headers if k.lower() in _CROSS_ORIGIN_SAFE]
                url = target
                if response.status_code == 303 or (
                    response.status_code in (301, 302) and method == "POST"
                ):
                    method, content = "GET", None
            assert response is not None
            if not 200 <= response.status_code < 300:
                raise status_error(
                    f"Request failed with status code {response.status_code}", response
                )
        except Exception as exc:
            self._log_failure(name, config, method, url, request, user, exc, response, started)
            raise
        return _response_data(response)

    def _log_failure(
        self,
        name: str,
        config: Mapping[str, Any],
        method: str,
        url: str,
        request: ProxyRequest,
        user: Any,
        exc: Exception,
        response: CrmResponse | None,
        started: float,
    ) -> None:
        info = getattr(user, "platform_additional_info", None) or {}
        parts = urlsplit(url)
        event = {
            "event": "PROXY_CONNECTOR_REQUEST_FAILED",
            "proxyOperation": name,
            "proxyId": info.get("proxyId") if isinstance(info, Mapping) else None,
            "connectorName": as_dict(config.get("meta")).get("name"),
            "method": method,
            "targetHost": parts.netloc.rpartition("@")[2],
            "statusCode": response.status_code if response is not None else "unknown",
            "errorCode": type(exc).__name__,
            "errorMessage": _safe_message(exc, response),
            "durationMs": round((time.monotonic() - started) * 1000),
            "timeoutMs": round(request.timeout * 1000),
            "upstreamRequestId": response.headers.get("x-request-id") if response else None,
        }
        logger.warning("PROXY_CONNECTOR_REQUEST_FAILED %s", json.dumps(event, default=str))

    # -- interfaces without requests ---------------------------------------------------------

    async def get_auth_type(  # type: ignore[override]  # the proxy may have to load its config
        self, proxy_id: Any = None, proxy_config: Any = None, **_: Any
    ) -> str:
        config = proxy_config if isinstance(proxy_config, Mapping) else await self._load(proxy_id)
        if config is None:
            return "apiKey"
        auth_type = as_dict(config.get("auth")).get("type")
        return auth_type if isinstance(auth_type, str) and auth_type else "apiKey"

    async def get_oauth_info(
        self, proxy_id: Any = None, proxy_config: Any = None, token_url: Any = None, **_: Any
    ) -> dict[str, Any]:
        config = proxy_config if isinstance(proxy_config, Mapping) else await self._load(proxy_id)
        if config is None:
            return {}
        auth = as_dict(config.get("auth"))
        out: dict[str, Any] = {}
        for key, value in (
            ("clientId", auth.get("clientId")),
            ("clientSecret", auth.get("clientSecret")),
            ("accessTokenUri", token_url if mapping.js_truthy(token_url) else auth.get("tokenUrl")),
            ("redirectUri", auth.get("redirectUri")),
        ):
            if value is not None:
                out[key] = value
        return out

    def get_basic_auth(self, api_key: Any = None, **_: Any) -> str:
        text = "undefined" if api_key is None else js_text(api_key)
        return base64.b64encode(f"{text}:".encode()).decode("ascii")

    def get_log_format_type(self, platform: Any = None, proxy_config: Any = None) -> Any:
        if not isinstance(proxy_config, Mapping):
            return "custom"
        return as_dict(proxy_config.get("meta")).get("logFormat")

    # -- users -------------------------------------------------------------------------------

    async def get_user_info(self, **kwargs: Any) -> dict[str, Any]:
        config = kwargs.get("proxy_config")
        if not isinstance(config, Mapping):
            config = await self._load(kwargs.get("proxy_id"))
        unsupported = {
            "successful": False,
            "returnMessage": mapping.message(_NO_USER_INFO, "warning", 1000),
        }
        if config is None:
            return unsupported
        sent, data = await self._perform(
            "getUserInfo", config, kwargs, user=None, auth_header=kwargs.get("auth_header") or ""
        )
        if not sent:
            return unsupported
        operation = as_dict(as_dict(config.get("operations")).get("getUserInfo"))
        return mapping.user_info(
            operation.get("responseMapping"),
            data,
            additional_info=_or_undefined(kwargs.get("additional_info")),
            api_key=_or_undefined(kwargs.get("api_key")),
            hostname=_or_undefined(kwargs.get("hostname")),
            platform=_or_undefined(kwargs.get("platform")),
        )

    async def get_user_list(self, user: Any = None, **kwargs: Any) -> list[dict[str, Any]]:
        config = await self._required(kwargs.get("proxy_config"), user)
        sent, data = await self._perform(
            "getUserList", config, kwargs, user=user, auth_header=kwargs.get("auth_header") or ""
        )
        if not sent:
            return []
        return mapping.user_list(_response_mapping(config, "getUserList"), data)

    async def get_license_status(self, user_id: Any = None, **kwargs: Any) -> dict[str, Any]:
        invalid = {
            "isLicenseValid": False,
            "licenseStatus": "Invalid (User not found)",
            "licenseStatusDescription": "",
        }
        if self._runtime is None:
            return invalid
        user = await self._runtime.users.get(user_id)
        if user is None or not user.access_token:
            return invalid
        config = await self._load(user.proxy_id)
        if config is None:
            raise ProxyConfigNotFound(user.proxy_id)
        sent, data = await self._perform("getLicenseStatus", config, kwargs, user=user)
        if not sent:
            return {
                "isLicenseValid": True,
                "licenseStatus": "Basic",
                "licenseStatusDescription": "",
            }
        return mapping.license_status(_response_mapping(config, "getLicenseStatus"), data)

    async def unauthorize(self, user: Any = None, **kwargs: Any) -> dict[str, Any]:
        config = await self._load(getattr(user, "proxy_id", None))
        if config is not None:
            await self._perform("unAuthorize", config, kwargs, user=user)
        if user is not None:
            user.access_token = ""
            user.refresh_token = ""
            await user.save()
        return {
            "successful": True,
            "returnMessage": mapping.message("Logged out", "success", 1000),
        }

    # -- contacts ----------------------------------------------------------------------------

    async def _find(self, name: str, user: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        config = await self._required(kwargs.get("proxy_config"), user)
        sent, data = await self._perform(
            name, config, kwargs, user=user, auth_header=kwargs.get("auth_header") or ""
        )
        if not sent:
            return {"successful": True, "matchedContactInfo": []}
        matches = mapping.contact_list(_response_mapping(config, name), data)
        return {
            "successful": True,
            "matchedContactInfo": matches,
            "returnMessage": mapping.message(f"Found {len(matches)} contacts", "success", 3000),
        }

    async def find_contact(self, user: Any = None, **kwargs: Any) -> dict[str, Any]:
        return await self._find("findContact", user, kwargs)

    async def find_contact_with_name(self, user: Any = None, **kwargs: Any) -> dict[str, Any]:
        return await self._find("findContactWithName", user, kwargs)

    async def create_contact(self, user: Any = None, **kwargs: Any) -> dict[str, Any]:
        config = await self._required(kwargs.get("proxy_config"), user)
        sent, data = await self._perform(
            "createContact", config, kwargs, user=user, auth_header=kwargs.get("auth_header") or ""
        )
        if not sent:
            return {"contactInfo": None, "returnMessage": _NOT_SUPPORTED}
        contact = mapping.created_contact(_response_mapping(config, "createContact"), data)
        return {
            "contactInfo": contact,
            "returnMessage": mapping.message("Contact created", "success", 2000),
        }

    # -- call logs ---------------------------------------------------------------------------

    async def create_call_log(self, user: Any = None, **kwargs: Any) -> dict[str, Any]:
        config = await self._config(kwargs.get("proxy_config"), user)
        sent, data = (False, None)
        if config is not None:
            sent, data = await self._perform(
                "createCallLog", config, kwargs, user=user,
                auth_header=kwargs.get("auth_header") or "",
            )  # fmt: skip
        if not sent or config is None:
            return {"returnMessage": _NOT_SUPPORTED}
        out: dict[str, Any] = {}
        log_id = mapping.log_id(_response_mapping(config, "createCallLog"), data)
        if log_id is not None:
            out["logId"] = log_id
        out["returnMessage"] = mapping.message("Call logged", "success", 2000)
        return out

    async def get_call_log(self, user: Any = None, **kwargs: Any) -> dict[str, Any]:
        config = await self._config(kwargs.get("proxy_config"), user)
        sent, data = (False, None)
        if config is not None:
            sent, data = await self._perform(
                "getCallLog", config, kwargs, user=user, auth_header=kwargs.get("auth_header") or ""
            )
        if not sent or config is None:
            return {"callLogInfo": None, "returnMessage": _NOT_SUPPORTED}
        return {
            "callLogInfo": mapping.call_log_info(_response_mapping(config, "getCallLog"), data),
            "returnMessage": mapping.message("Call log fetched.", "success", 3000),
        }

    async def update_call_log(self, user: Any = None, **kwargs: Any) -> dict[str, Any]:
        config = await self._config(kwargs.get("proxy_config"), user)
        sent = False
        if config is not None:
            sent, _ = await self._perform(
                "updateCallLog", config, kwargs, user=user,
                auth_header=kwargs.get("auth_header") or "",
            )  # fmt: skip
        if not sent:
            return {"returnMessage": _NOT_SUPPORTED}
        return {
            "updatedNote": None,
            "returnMessage": mapping.message("Call log updated.", "success", 3000),
        }

    async def upsert_call_disposition(self, user: Any = None, **kwargs: Any) -> dict[str, Any]:
        config = await self._required(kwargs.get("proxy_config"), user)
        sent, _ = await self._perform(
            "upsertCallDisposition", config, kwargs, user=user,
            auth_header=kwargs.get("auth_header") or "",
        )  # fmt: skip
        if not sent:
            return {"returnMessage": _NOT_SUPPORTED}
        existing = as_dict(kwargs.get("existing_call_log"))
        out: dict[str, Any] = {}
        if existing.get("thirdPartyLogId") is not None:
            out["logId"] = existing["thirdPartyLogId"]
        out["returnMessage"] = mapping.message("Disposition updated", "success", 2000)
        return out

    # -- message logs ------------------------------------------------------------------------

    async def create_message_log(self, user: Any = None, **kwargs: Any) -> dict[str, Any]:
        config = await self._required(kwargs.get("proxy_config"), user)
        _require_message(kwargs)
        sent, data = await self._perform(
            "createMessageLog", config, kwargs, user=user,
            auth_header=kwargs.get("auth_header") or "",
        )  # fmt: skip
        if not sent:
            return {"returnMessage": _NOT_SUPPORTED}
        out: dict[str, Any] = {}
        # Unlike createCallLog, a message log's mapping is optional (default idPath body.id).
        log_id = mapping.log_id(_response_mapping(config, "createMessageLog") or {}, data)
        if log_id is not None:
            out["logId"] = log_id
        out["returnMessage"] = mapping.message("Message logged", "success", 1000)
        return out

    async def update_message_log(self, user: Any = None, **kwargs: Any) -> dict[str, Any]:
        config = await self._required(kwargs.get("proxy_config"), user)
        _require_message(kwargs)
        sent, _ = await self._perform(
            "updateMessageLog", config, kwargs, user=user,
            auth_header=kwargs.get("auth_header") or "",
        )  # fmt: skip
        if not sent:
            return {"returnMessage": _NOT_SUPPORTED}
        return {"returnMessage": mapping.message("Message log updated", "success", 3000)}


def _require_message(kwargs: Mapping[str, Any]) -> None:
    """Shared SMS (no ``message``) is not supported by proxy configs (spec §10, quirk 6)."""
    if not isinstance(kwargs.get("message"), Mapping):
        raise TypeError("Proxy connectors do not support shared SMS logging")


def _or_undefined(value: Any) -> Any:
    return UNDEFINED if value is None else value


def _response_mapping(config: Mapping[str, Any], name: str) -> Any:
    return as_dict(as_dict(config.get("operations")).get(name)).get("responseMapping")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _response_data(response: CrmResponse) -> Any:
    text = response.text
    if not text:
        return ""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _safe_message(exc: Exception, response: CrmResponse | None) -> str:
    """The error message without URLs (paths and queries can hold personal data)."""
    if response is not None:
        return f"Request failed with status code {response.status_code}"
    text = str(exc) or type(exc).__name__
    return text.split(" http", 1)[0].split(" for url", 1)[0][:300]
