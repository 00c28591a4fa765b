"""What the logging flows call: the sync pipeline and the async dispatch (plugins.md §7, §8).

* :func:`run_call_plugins` - before the connector writes a call log: each synchronous call
  plugin of the user's account, in install order, gets the current payload and answers the next
  one. Any failure (transport, timeout, non-2xx, an answer that is not an object) raises, and
  the flow reports it like a failed CRM call: nothing is written.
* :func:`dispatch_call_plugins` - after the CRM write: one durable task per asynchronous call
  plugin, token sync, then the invocation with the task's callback URL. Never raises; a failed
  dispatch marks its task ``failed``.
* :func:`run_message_plugins` - SMS and fax: sync plugins transform the payload, async ones get
  a fire-and-forget invocation after a token sync.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from appconnect.runtime import Runtime
from appconnect.security.hashing import MISSING, hash_id
from appconnect.services.call_log_store import CallLogLink
from appconnect.services.plugins import client, config, records
from appconnect.services.plugins.records import InstalledPlugin
from appconnect.store.users import User

logger = logging.getLogger("appconnect.plugins")

URL_NOT_SET = "Plugin URL is not set"
TOKEN_SYNC_URL_NOT_SET = "Plugin token sync URL is not set"
INVALID_PAYLOAD = "Plugin returned an invalid payload"
DISPATCH_FAILED = "Async plugin dispatch failed"
CALLBACK_PATH = "/plugin/async-callback/"


async def _plugins(rt: Runtime, user: User) -> list[InstalledPlugin]:
    return await records.installed(rt, user.rc_account_id)


async def _keep_token(rt: Runtime, user: User, plugin: InstalledPlugin, token: str | None) -> None:
    """Persist a rotated credential; a storage failure never fails the log."""
    if not token or token == plugin.token or not user.rc_account_id:
        return
    try:
        await records.rotate_token(rt, user.rc_account_id, plugin.id, token)
    except Exception:
        logger.exception("storing the refreshed credential of plugin %s failed", plugin.id)


async def _transform(
    rt: Runtime, user: User, plugin: InstalledPlugin, envelope: dict[str, Any]
) -> dict[str, Any]:
    reply = await client.post(rt, plugin.endpoint_url, plugin.token, envelope, missing=URL_NOT_SET)
    await _keep_token(rt, user, plugin, reply.refreshed_token)
    if not isinstance(reply.body, dict):
        raise client.PluginError(INVALID_PAYLOAD)
    return reply.body


# -- calls ----------------------------------------------------------------------------------


async def run_call_plugins(rt: Runtime, *, user: User, body: dict[str, Any]) -> dict[str, Any]:
    """The payload after every synchronous call plugin (``body`` itself when none is installed)."""
    plugins = [p for p in config.for_log_type(await _plugins(rt, user), "call") if not p.is_async]
    for plugin in plugins:
        envelope = {
            "data": body,
            "config": await config.plugin_config(rt, user, plugin.id),
            "hashedExtensionId": user.hashed_rc_extension_id,
        }
        body = await _transform(rt, user, plugin, envelope)
    return body


def callback_base(rt: Runtime) -> str:
    base = rt.settings.app_server or rt.settings.override_app_server
    if not base:
        raise client.PluginError("APP_SERVER is not set: no callback URL for async plugins")
    return base.rstrip("/")


def _pick(body: Mapping[str, Any], log_info: Mapping[str, Any], key: str) -> Any:
    value = body.get(key)
    return log_info.get(key) if value is None else value


def task_data(
    *,
    task_id: str,
    callback_url: str,
    plugin: InstalledPlugin,
    user: User,
    operation: str,
    body: Mapping[str, Any],
    link: CallLogLink,
    hashed_account_id: str | None,
    is_from_sscl: bool,
) -> dict[str, Any]:
    """The task row's ``data`` (§4.2). The extension identity is the link row's own (the same
    rules derived it from the payload), so the callback finds exactly that row again."""
    return {
        "type": records.TASK_TYPE,
        "asyncTaskId": task_id,
        "callbackUrl": callback_url,
        "pluginId": plugin.id,
        "platform": link.platform,
        "logType": "call",
        "operation": operation,
        "userId": user.id,
        "rcAccountId": user.rc_account_id,
        "sessionId": link.session_id,
        "extensionNumber": link.extension_number,
        "hashedExtensionId": link.hashed_extension_id,
        "callLogId": link.id,
        "thirdPartyLogId": link.third_party_log_id,
        "contactId": link.contact_id if link.contact_id is not None else body.get("contactId"),
        "incomingData": dict(body),
        "hashedAccountId": hashed_account_id,
        "isFromSSCL": is_from_sscl,
    }


async def dispatch_call_plugins(
    rt: Runtime,
    *,
    user: User,
    operation: str,
    body: Mapping[str, Any],
    link: CallLogLink,
    hashed_account_id: str | None = None,
    is_from_sscl: bool = False,
) -> None:
    """One task per asynchronous call plugin, dispatched in order; never raises."""
    try:
        plugins = [p for p in config.for_log_type(await _plugins(rt, user), "call") if p.is_async]
    except Exception:
        logger.exception("reading the installed plugins failed; no async plugin dispatched")
        return
    if hashed_account_id is None:
        account = _pick(body, obj(body.get("logInfo")), "accountId")
        hashed_account_id = hash_id(MISSING if account is None else account, rt.hash_key)
    data = {"logInfo": dict(body)} if operation == "updateCallLog" else dict(body)
    for plugin in plugins:
        await _dispatch_one(
            rt, user, plugin, operation, body, data, link, hashed_account_id, is_from_sscl
        )


def obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


async def _dispatch_one(
    rt: Runtime,
    user: User,
    plugin: InstalledPlugin,
    operation: str,
    body: Mapping[str, Any],
    data: Mapping[str, Any],
    link: CallLogLink,
    hashed_account_id: str,
    is_from_sscl: bool,
) -> None:
    task_id = records.new_task_id()
    created = False
    try:
        callback_url = f"{callback_base(rt)}{CALLBACK_PATH}{task_id}"
        row = task_data(
            task_id=task_id, callback_url=callback_url, plugin=plugin, user=user,
            operation=operation, body=body, link=link, hashed_account_id=hashed_account_id,
            is_from_sscl=is_from_sscl,
        )  # fmt: skip
        await records.create_task(rt, task_id, plugin.id, user.id, row)
        created = True
        if not plugin.endpoint_url:
            raise client.PluginError(URL_NOT_SET)
        synced = await client.post(
            rt, plugin.token_sync_url, plugin.token, {}, missing=TOKEN_SYNC_URL_NOT_SET
        )
        token = synced.refreshed_token or plugin.token
        envelope = {
            "data": data,
            "config": await config.plugin_config(rt, user, plugin.id),
            "asyncTaskId": task_id,
            "callbackUrl": callback_url,
            "hashedExtensionId": user.hashed_rc_extension_id,
        }
        await client.post(rt, plugin.endpoint_url, token, envelope, missing=URL_NOT_SET)
        await _keep_token(rt, user, plugin, synced.refreshed_token)
    except Exception as exc:
        logger.warning("async plugin %s dispatch failed: %r", plugin.id, exc)
        if created:
            try:
                await records.fail_task(rt, task_id, str(exc) or DISPATCH_FAILED)
            except Exception:
                logger.exception("marking async plugin task %s failed did not work", task_id)


# -- SMS and fax ----------------------------------------------------------------------------


async def run_message_plugins(
    rt: Runtime, user: User, body: dict[str, Any], messages: Sequence[Any]
) -> dict[str, Any]:
    """Sync plugins replace the payload; async ones are notified and not waited for."""
    chosen = config.for_messages(await _plugins(rt, user), messages)
    for plugin in chosen:
        plugin_config = await config.plugin_config(rt, user, plugin.id)
        if plugin.is_async:
            await _notify(rt, user, plugin, body, plugin_config)
            continue
        body = await _transform(rt, user, plugin, {"data": body, "config": plugin_config})
    return body


async def _notify(
    rt: Runtime, user: User, plugin: InstalledPlugin, body: dict[str, Any], plugin_config: Any
) -> None:
    """Token sync (awaited; a failure skips this plugin), then an unawaited invocation."""
    if not plugin.endpoint_url:
        raise client.PluginError(URL_NOT_SET)  # fails the log, as in the reference
    try:
        synced = await client.post(
            rt, plugin.token_sync_url, plugin.token, {}, missing=TOKEN_SYNC_URL_NOT_SET
        )
    except Exception as exc:
        logger.warning("token sync of async plugin %s failed; not notified: %r", plugin.id, exc)
        return
    token = synced.refreshed_token or plugin.token
    envelope = {"data": {"logInfo": body}, "config": plugin_config}
    rt.spawn(_fire(rt, plugin, token, envelope), name=f"async plugin {plugin.id} notification")
    await _keep_token(rt, user, plugin, synced.refreshed_token)


async def _fire(rt: Runtime, plugin: InstalledPlugin, token: str, envelope: Any) -> None:
    try:
        await client.post(rt, plugin.endpoint_url, token, envelope, missing=URL_NOT_SET)
    except Exception as exc:
        logger.warning("async plugin %s invocation failed: %r", plugin.id, exc)
