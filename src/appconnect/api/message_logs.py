"""``POST /messageLog``: log SMS, MMS, voicemail, fax, group and shared-SMS conversations.

The route only authenticates and parses; :mod:`appconnect.services.message_logs` does the work
and already turns every failure into the reference's business reply.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from appconnect.api import responses as r
from appconnect.api import routing
from appconnect.api import wire as w
from appconnect.api.body import BadBody
from appconnect.api.openapi import documented, replies
from appconnect.api.session import Session, runtime, with_session
from appconnect.services.message_logs import log_messages

router = routing.router(tags=["message logs"])


@router.post(
    "/messageLog",
    openapi_extra=documented(w.MessageLogCreate),
    responses=replies(w.MessagesLogged, revocable=True),
)
@with_session()
async def create_message_log(request: Request, s: Session) -> Response:
    """Reply ``{successful, returnMessage, logIds}``; a revoked CRM session answers 401."""
    try:
        body = await w.parse(request, w.MessageLogCreate)
    except BadBody as exc:
        return r.failed(exc)
    result = await log_messages(
        runtime(request),
        user_id=s.user_id,
        platform=s.platform or "",
        body=body,
        account_header=request.headers.get("rc-account-id"),
    )
    return r.business(result, "successful", "returnMessage", "logIds")
