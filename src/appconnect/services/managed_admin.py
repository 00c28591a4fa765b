"""Managed authentication, admin side: the values an account admin stores for their agents.

* API-key managed fields (``GET/POST /admin/managedAuth``, ``/admin/managedAuth/options``,
  ``/apiKeyManagedAuthState``);
* managed OAuth client settings (``/admin/managedOAuth/cache``, ``/admin/managedOAuth/account``,
  ``/oauthManagedAuthState``).

The account is always the one of the caller's RingCentral token, so an admin reads and writes
only their own account's values. Stored values are encrypted (``managed_auth.seal``). The admin
view of API-key values says whether each is set and shows it masked, never in clear; posting a
masked value back unchanged keeps the stored secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from appconnect.connectors.results import to_wire
from appconnect.jsvalues import js_str
from appconnect.runtime import Runtime
from appconnect.services import account_data, managed_auth
from appconnect.services.admin import Refused, Reply, guarded, require_admin, require_user
from appconnect.services.managed_auth import OAUTH_KEY, ORG_KEY, filled, seal, unseal, user_key
from appconnect.services.ringcentral import admin_identity, user_identity
from appconnect.store.models import AccountDataRow, CacheRow, utcnow

MASK = "********"
OAUTH_FIELDS = (
    "clientId",
    "clientSecret",
    "accessTokenUri",
    "authorizationUri",
    "redirectUri",
    "scopes",
    "hostname",
)
PENDING_TTL = timedelta(hours=24)


def mask(value: Any) -> str:
    """What an admin sees of a stored value: its last four characters only when it is long."""
    text = js_str(value)
    return MASK + text[-4:] if len(text) >= 16 else MASK


def stored_view(value: Any) -> dict[str, Any]:
    if filled(value):
        return {"hasValue": True, "value": mask(value)}
    return {"hasValue": False, "value": ""}


def _consts(definitions: list[dict[str, Any]]) -> list[str]:
    return [str(d["const"]) for d in definitions if d.get("const")]


async def _definitions(
    rt: Runtime, platform: str, account_id: str, query: Mapping[str, Any]
) -> list[dict[str, Any]]:
    return await managed_auth.field_definitions(
        rt,
        platform,
        connector_id=query.get("connectorId") or None,
        rc_account_id=account_id,
        dev_account=query.get("devRcAccountId") or None,
        is_private=query.get("isPrivate") == "true",
    )


async def _user_rows(rt: Runtime, account_id: str, platform: str) -> list[AccountDataRow]:
    async with rt.db.session() as session:
        rows = await session.scalars(
            select(AccountDataRow)
            .where(
                AccountDataRow.rc_account_id == str(account_id),
                AccountDataRow.platform_name == platform,
                AccountDataRow.data_key.startswith(user_key(""), autoescape=True),
            )
            .order_by(AccountDataRow.data_key)
        )
        return list(rows)


# -- API-key managed fields ------------------------------------------------------------------


async def get_managed_auth(
    rt: Runtime, user_id: str | None, rc_token: str | None, query: Mapping[str, Any]
) -> Reply:
    async def work() -> Reply:
        user = await require_user(rt, user_id)
        identity = await require_admin(rt, rc_token)
        platform = user.platform or ""
        account = identity.account_id
        managed = [d for d in await _definitions(rt, platform, account, query) if d.get("managed")]
        org_fields = [d for d in managed if d.get("managedScope") == "account"]
        user_fields = [d for d in managed if d.get("managedScope") == "user"]
        org = await managed_auth.stored_fields(rt, account, platform, ORG_KEY)
        user_values = []
        for row in await _user_rows(rt, account, platform):
            data = row.data if isinstance(row.data, Mapping) else {}
            extension = data.get("rcExtensionId") or row.data_key.removeprefix(user_key(""))
            if not extension:
                continue
            raw_fields = data.get("fields")
            fields: Mapping[str, Any] = raw_fields if isinstance(raw_fields, Mapping) else {}
            user_values.append(
                {
                    "rcExtensionId": extension,
                    "rcUserName": data.get("rcUserName") or "",
                    "fields": {
                        c: stored_view(unseal(rt, fields.get(c))) for c in _consts(user_fields)
                    },
                }
            )
        return 200, {
            "hasManagedAuth": bool(managed),
            "fields": managed,
            "orgFields": org_fields,
            "userFields": user_fields,
            "orgValues": {c: stored_view(org.get(c)) for c in _consts(org_fields)},
            "userValues": user_values,
        }

    return await guarded(work())


def _merge_values(
    rt: Runtime, current: Mapping[str, Any], values: Any, remove: Any
) -> dict[str, Any]:
    fields = dict(current)
    for key, value in (values if isinstance(values, Mapping) else {}).items():
        if not filled(value):
            continue  # empty values are ignored, not deleted
        old = unseal(rt, fields.get(key))
        if filled(old) and value == mask(old):
            continue  # the masked view posted back: keep the secret
        fields[str(key)] = seal(rt, value)
    for key in remove if isinstance(remove, list) else []:
        fields.pop(str(key), None)
    return fields


async def post_managed_auth(
    rt: Runtime, user_id: str | None, rc_token: str | None, body: Mapping[str, Any]
) -> Reply:
    async def work() -> Reply:
        user = await require_user(rt, user_id)
        identity = await require_admin(rt, rc_token)
        platform = user.platform or ""
        account = identity.account_id
        values, remove = body.get("values"), body.get("fieldsToRemove")
        if body.get("scope") == "user":
            extension = body.get("rcExtensionId")
            if not filled(extension):
                raise ValueError("rcExtensionId is required for user managed auth values")
            key = user_key(str(extension))
            current = await account_data.get(rt, account, platform, key) or {}
            name = body.get("rcUserName")
            if name is None:
                name = current.get("rcUserName")
            data = {
                "rcExtensionId": str(extension),
                "rcUserName": "" if name is None else name,
                "fields": _merge_values(rt, current.get("fields") or {}, values, remove),
            }
        else:
            key = ORG_KEY
            current = await account_data.get(rt, account, platform, key) or {}
            fields = _merge_values(rt, current.get("fields") or {}, values, remove)
            data = {**current, "fields": fields}
        await account_data.put(rt, account, platform, key, data)
        return 200, "Shared authentication updated"

    return await guarded(work())


async def managed_auth_options(
    rt: Runtime, rc_token: str | None, query: Mapping[str, Any], body: Mapping[str, Any]
) -> Reply:
    platform = query.get("platform")
    if not platform or not isinstance(platform, str):
        return 400, "Missing platform name"
    field_const = body.get("fieldConst")
    if not field_const:
        return 400, "Missing managed auth field"

    async def work() -> Reply:
        identity = await require_admin(rt, rc_token)
        account = identity.account_id
        definitions = await _definitions(rt, platform, account, query)
        field = next((d for d in definitions if d.get("const") == field_const), None)
        if field is None or not (
            field.get("managed")
            and field.get("managedScope") == "user"
            and field.get("managedFieldType") == "dynamic"
        ):
            raise ValueError(f'Managed auth field "{field_const}" is not a dynamic user field')
        org = await managed_auth.stored_fields(rt, account, platform, ORG_KEY)
        overrides = body.get("accountValues")
        overrides = overrides if isinstance(overrides, Mapping) else {}
        account_values: dict[str, Any] = {}
        for d in definitions:
            const = d.get("const")
            if (
                const
                and d.get("managed")
                and d.get("managedScope") == "account"
                and d.get("managedFieldType") != "dynamic"
            ):
                account_values[const] = overrides[const] if const in overrides else org.get(const)
        view = rt.registry.get_connector(platform)
        if not view.has("getManagedAuthOptions"):
            return 200, []
        options = to_wire(
            await view.call(
                "getManagedAuthOptions", field_const=field_const, account_values=account_values
            )
        )
        if not isinstance(options, list):
            raise ValueError("getManagedAuthOptions must return an array")
        out = []
        for index, option in enumerate(options):
            value = option.get("value") if isinstance(option, Mapping) else None
            label = option.get("label") if isinstance(option, Mapping) else None
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise ValueError(
                    f"getManagedAuthOptions returned an invalid option at index {index}"
                )
            if not isinstance(label, str):
                raise ValueError(
                    f"getManagedAuthOptions returned an invalid option at index {index}"
                )
            out.append({"value": js_str(value), "label": label})
        return 200, out

    return await guarded(work())


async def api_key_state(rt: Runtime, rc_token: str | None, query: Mapping[str, Any]) -> Reply:
    platform = query.get("platform")
    if not platform:
        return 400, "Missing platform name"
    if not rc_token:
        return 400, "Missing RingCentral access token"

    async def work() -> Reply:
        identity = await user_identity(rt, rc_token)
        account, extension = identity.account_id, identity.extension_id
        definitions = await _definitions(rt, platform, account, query)
        managed = [d for d in definitions if d.get("managed")]
        required = [str(d["const"]) for d in definitions if d.get("const") and d.get("required")]
        if not managed:
            return 200, _state(False, False, None, required, False)
        failed = await account_data.get(rt, account, platform, managed_auth.failure_key(extension))
        if failed is not None:
            return 200, _state(True, False, None, required, True)
        org = await managed_auth.stored_fields(rt, account, platform, ORG_KEY)
        mine = await managed_auth.stored_fields(rt, account, platform, user_key(extension))
        visible: list[str] = []
        missing: list[str] = []
        satisfied = True
        for d in definitions:
            const = d.get("const")
            if not const or not d.get("required"):
                continue
            stored = None
            if d.get("managed"):
                stored = (mine if d.get("managedScope") == "user" else org).get(const)
            if not d.get("managed") or not filled(stored):
                visible.append(const)
            if not filled(stored):
                missing.append(const)
                satisfied = False
            if not d.get("managed"):
                satisfied = False
        return 200, _state(True, satisfied, visible, missing, False)

    return await guarded(work())


def _state(
    has: bool, satisfied: bool, visible: list[str] | None, missing: list[str], fallback: bool
) -> dict[str, Any]:
    return {
        "hasManagedAuth": has,
        "allRequiredFieldsSatisfied": satisfied,
        "visibleFieldConsts": visible,
        "missingRequiredFieldConsts": missing,
        "fallbackToManualAuth": fallback,
    }


# -- managed OAuth ---------------------------------------------------------------------------


async def oauth_state(rt: Runtime, rc_token: str | None, query: Mapping[str, Any]) -> Reply:
    platform = query.get("platform")
    if not platform:
        return 400, "Missing platform name"
    if not rc_token:
        return 400, "Missing RingCentral access token"

    async def work() -> Reply:
        identity = await user_identity(rt, rc_token)
        is_admin = (await admin_identity(rt, rc_token)).is_admin
        account = identity.account_id
        row = await account_data.get(rt, account, platform, OAUTH_KEY)
        body: dict[str, Any] = {
            "isAdmin": is_admin,
            "hasAccountOAuth": row is not None,
            "hasPendingOAuth": False,
        }
        if row is not None:
            values = await managed_auth.stored_fields(rt, account, platform, OAUTH_KEY)
            body["oauthValues"] = {k: v for k, v in values.items() if k != "clientSecret"}
        elif is_admin:
            pending = await account_data.pending_managed_oauth(rt, account)
            if pending:
                body["hasPendingOAuth"] = True
                body["pendingValues"] = {k: unseal(rt, v) for k, v in pending.items()}
        return 200, body

    return await guarded(work())


async def cache_pending_oauth(rt: Runtime, rc_token: str | None, body: Mapping[str, Any]) -> Reply:
    async def work() -> Reply:
        identity = await require_admin(rt, rc_token)
        account = identity.account_id
        values = body.get("values")
        values = values if isinstance(values, Mapping) else {}
        fields = {k: seal(rt, values[k]) for k in OAUTH_FIELDS if filled(values.get(k))}
        row_id = account_data.pending_oauth_id(account)
        now = utcnow()
        async with rt.db.transaction() as session:
            await session.execute(delete(CacheRow).where(CacheRow.id == row_id))
            session.add(
                CacheRow(
                    id=row_id,
                    status="pending",
                    user_id=str(account),
                    cache_key=OAUTH_KEY,
                    data={"fields": fields},
                    expiry=datetime.now(UTC) + PENDING_TTL,
                    created_at=now,
                    updated_at=now,
                )
            )
        return 200, {"successful": True}

    return await guarded(work())


async def _drop_pending(rt: Runtime, account: str) -> None:
    async with rt.db.transaction() as session:
        await session.execute(
            delete(CacheRow).where(CacheRow.id == account_data.pending_oauth_id(account))
        )


async def delete_pending_oauth(rt: Runtime, rc_token: str | None) -> Reply:
    async def work() -> Reply:
        identity = await require_admin(rt, rc_token)
        await _drop_pending(rt, identity.account_id)
        return 200, {"successful": True}

    return await guarded(work())


async def delete_account_oauth(rt: Runtime, rc_token: str | None, platform: str | None) -> Reply:
    async def work() -> Reply:
        identity = await require_admin(rt, rc_token)
        if not platform:
            raise Refused(400, "Missing platform name")
        await account_data.remove(rt, identity.account_id, platform, OAUTH_KEY)
        await _drop_pending(rt, identity.account_id)
        return 200, {"successful": True}

    return await guarded(work())
