"""RingCentral admin features: the admin OAuth callback, token refresh, call reports.

The admin's RingCentral tokens are stored (encrypted) in the account's ``adminConfigs`` row and
used for the account-wide analytics report and per-extension reports. None of this runs unless
``RINGCENTRAL_SERVER``, ``RINGCENTRAL_CLIENT_ID`` and ``RINGCENTRAL_CLIENT_SECRET`` are all set.
"""

from __future__ import annotations

import base64
import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from appconnect.runtime import Runtime
from appconnect.services import admin_settings
from appconnect.store.users import User

logger = logging.getLogger("appconnect.rc_admin")

Reply = tuple[int, Any]
GROUP_KEYS = [
    "Company",
    "CompanyNumbers",
    "Users",
    "Queues",
    "IVRs",
    "IVAs",
    "SharedLines",
    "UserGroups",
    "Sites",
    "Departments",
]
ANSWERED_RESULTS = {"Call connected", "Accepted", "Answered Not Accepted"}
MAX_PAGES = 100


class RcAdminError(Exception):
    pass


async def find_user(rt: Runtime, user_id: str | None) -> User | None:
    return await rt.users.get(user_id) if user_id else None


def configured(rt: Runtime) -> bool:
    s = rt.settings
    return bool(s.ringcentral_server and s.ringcentral_client_id and s.ringcentral_client_secret)


def _server(rt: Runtime) -> str:
    return str(rt.settings.ringcentral_server).rstrip("/")


def _basic(rt: Runtime) -> str:
    pair = f"{rt.settings.ringcentral_client_id}:{rt.settings.ringcentral_client_secret}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


async def _token_request(rt: Runtime, form: dict[str, str]) -> dict[str, Any]:
    response = await rt.http.client().post(
        f"{_server(rt)}/restapi/oauth/token",
        data=form,
        headers={"Authorization": _basic(rt), "Accept": "application/json"},
    )
    if response.status_code >= 400:
        raise RcAdminError(f"Request failed with status code {response.status_code}")
    data = response.json()
    if not isinstance(data, dict) or not data.get("access_token"):
        raise RcAdminError("RingCentral returned no access token")
    return data


def _expiry(data: Mapping[str, Any]) -> datetime | None:
    seconds = data.get("expires_in")
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        return datetime.now(UTC) + timedelta(seconds=seconds)
    return None


async def _store(rt: Runtime, hashed: str, data: Mapping[str, Any]) -> str:
    await admin_settings.store_admin_tokens(
        rt, hashed, str(data["access_token"]), data.get("refresh_token"), _expiry(data)
    )
    return str(data["access_token"])


async def oauth_callback(rt: Runtime, user: User, code: str | None) -> Reply:
    """Exchange the admin's authorization code and keep the tokens for the user's account."""
    if not configured(rt):
        return 200, {"successful": True}
    redirect = f"{(rt.settings.app_server or '').rstrip('/')}/ringcentral/oauth/callback"
    data = await _token_request(
        rt,
        {"code": code or "", "grant_type": "authorization_code", "redirect_uri": redirect},
    )
    await _store(rt, admin_settings.config_id(rt, user.rc_account_id), data)
    return 200, {"successful": True}


async def admin_token(rt: Runtime, user: User) -> str:
    """The account's admin access token, refreshed first when it has expired."""
    hashed = admin_settings.config_id(rt, user.rc_account_id)
    config = await admin_settings.get_config(rt, hashed)
    if config is None or not config.admin_access_token:
        raise RcAdminError("No RingCentral admin token for this account")
    expiry = config.admin_token_expiry
    if expiry is not None and expiry <= datetime.now(UTC):
        if not config.admin_refresh_token:
            raise RcAdminError("RingCentral admin token expired")
        data = await _token_request(
            rt, {"grant_type": "refresh_token", "refresh_token": config.admin_refresh_token}
        )
        return await _store(rt, hashed, data)
    return config.admin_access_token


def _fixed2(value: float) -> str:
    return f"{value:.2f}"


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return 0.0


def _values(node: Any, *path: str) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def report_row(record: Mapping[str, Any]) -> dict[str, Any] | None:
    name = _values(record, "info", "name")
    if not name:
        return None
    inbound = _number(_values(record, "counters", "callsByDirection", "values", "inbound"))
    outbound = _number(_values(record, "counters", "callsByDirection", "values", "outbound"))
    answered = _number(_values(record, "counters", "callsByResponse", "values", "answered"))
    total = _number(_values(record, "timers", "allCalls", "values"))
    return {
        "name": name,
        "inboundCallCount": _int_if_whole(inbound),
        "outboundCallCount": _int_if_whole(outbound),
        "answeredCallCount": _int_if_whole(answered),
        "answeredCallPercentage": "0%" if inbound == 0 else f"{_fixed2(answered / inbound * 100)}%",
        "totalTalkTime": 0 if total == 0 else _fixed2(total),
        "averageTalkTime": 0
        if total == 0 or inbound + outbound == 0
        else _fixed2(total / (inbound + outbound)),
    }


def _int_if_whole(value: float) -> int | float:
    return int(value) if value.is_integer() else value


async def account_report(rt: Runtime, user: User, query: Mapping[str, Any]) -> Reply:
    if not configured(rt):
        return 200, {"callLogStats": {}}
    group_by = query.get("groupBy")
    if group_by is None or group_by == "undefined":
        group_by = "Company"
    try:
        token = await admin_token(rt, user)
        response = await rt.http.client().post(
            f"{_server(rt)}/analytics/calls/v1/accounts/~/aggregation/fetch",
            json={
                "grouping": {"groupBy": group_by},
                "timeSettings": {
                    "timeZone": query.get("timezone"),
                    "timeRange": {"timeFrom": query.get("timeFrom"), "timeTo": query.get("timeTo")},
                },
                "responseOptions": {
                    "counters": {
                        "callsByDirection": {"aggregationType": "Sum"},
                        "callsByResponse": {"aggregationType": "Sum"},
                    },
                    "timers": {"allCallsDuration": {"aggregationType": "Sum"}},
                },
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        if response.status_code >= 400:
            raise RcAdminError(f"Request failed with status code {response.status_code}")
        data = response.json()
        records = _values(data, "data", "records")
        if records is None:
            records = _values(data, "records")
        rows = [
            row for r in records or [] if isinstance(r, Mapping) for row in [report_row(r)] if row
        ]
    except Exception as exc:
        logger.warning("RingCentral admin report failed: %r", exc)
        return 200, {"callLogStats": {}}
    return 200, {
        "callLogStats": rows,
        "itemKeys": [row["name"] for row in rows],
        "groupedBy": group_by,
        "groupKeys": list(GROUP_KEYS),
    }


async def _paged(rt: Runtime, token: str, url: str, params: dict[str, Any]) -> list[Any]:
    records: list[Any] = []
    page = 1
    while page <= MAX_PAGES:
        response = await rt.http.client().get(
            url, params={**params, "page": page}, headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code >= 400:
            raise RcAdminError(f"Request failed with status code {response.status_code}")
        data = response.json()
        records.extend(data.get("records") or [])
        if not _values(data, "navigation", "nextPage"):
            break
        page += 1
    return records


def _js_round(value: float) -> int:
    return math.floor(value + 0.5)


def user_stats(calls: list[Any], messages: list[Any]) -> dict[str, Any]:
    calls = [c for c in calls if isinstance(c, Mapping)]
    inbound = [c for c in calls if c.get("direction") == "Inbound"]
    outbound = [c for c in calls if c.get("direction") == "Outbound"]
    answered = sum(1 for c in inbound if c.get("result") in ANSWERED_RESULTS)
    total = _js_round(sum(_number(c.get("duration")) for c in calls) / 60)
    count = len(inbound) + len(outbound)
    percentage = "0%" if answered == 0 else f"{_fixed2(answered / (len(inbound) or 1) * 100)}%"
    messages = [m for m in messages if isinstance(m, Mapping)]
    return {
        "callLogStats": {
            "inboundCallCount": len(inbound),
            "outboundCallCount": len(outbound),
            "answeredCallCount": answered,
            "answeredCallPercentage": percentage,
            "totalTalkTime": total,
            "averageTalkTime": _js_round(total / count) if count else 0,
        },
        "smsLogStats": {
            "smsSentCount": sum(1 for m in messages if m.get("direction") == "Outbound"),
            "smsReceivedCount": sum(1 for m in messages if m.get("direction") == "Inbound"),
        },
    }


async def user_report(rt: Runtime, user: User, query: Mapping[str, Any]) -> Reply:
    if not configured(rt):
        return 200, {"callLogStats": {}}
    extension = str(query.get("rcExtensionId") or "~")
    if extension != "~" and not extension.isalnum():
        return 200, ""  # never put anything but an id into RingCentral's path
    window = {"dateFrom": query.get("timeFrom"), "dateTo": query.get("timeTo")}
    window = {k: v for k, v in window.items() if v is not None}
    base = f"{_server(rt)}/restapi/v1.0/account/~/extension/{extension}"
    try:
        token = await admin_token(rt, user)
        calls = await _paged(
            rt, token, f"{base}/call-log", {**window, "view": "Simple", "perPage": 1000}
        )
        messages = await _paged(rt, token, f"{base}/message-store", {**window, "perPage": 100})
    except Exception as exc:
        logger.warning("RingCentral user report failed: %r", exc)
        return 200, ""
    return 200, user_stats(calls, messages)
