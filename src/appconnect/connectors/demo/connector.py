"""The demo connector: a tiny CRM kept in the server's own database.

Read this first when writing a connector. Each public ``async`` method implements one interface
of the spec (snake_case of its name) and declares only the arguments it uses; the framework
passes those by name. A real connector would call its CRM's API with ``self.http()`` and the
``auth_header`` it is given; this one reads and writes two local tables instead, so that App
Connect works end to end with no external service: log in with any API key, find or create
contacts, log calls and messages, keep a calendar of appointments
(:mod:`appconnect.connectors.demo.appointments`).

Every key is its own demo account: the user id is derived from the key, and activities are only
ever read or written through the id of the user who owns them.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from appconnect.connectors.base import Connector
from appconnect.connectors.demo.appointments import DemoAppointments
from appconnect.connectors.demo.models import (
    DemoActivity,
    DemoBase,
    DemoContact,
    iso,
    phone_key,
)
from appconnect.connectors.results import (
    ActionResult,
    CallLogInfo,
    ContactMatch,
    CreateContactResult,
    FindContactResult,
    GetCallLogResult,
    LicenseStatus,
    LogResult,
    PlatformUserInfo,
    ReturnMessage,
    UpdateLogResult,
    UserInfoResult,
)
from appconnect.store.db import changed
from appconnect.store.models import utcnow

if TYPE_CHECKING:
    from appconnect.runtime import Runtime
    from appconnect.store.db import Database
    from appconnect.store.users import User

SAMPLE_CONTACTS = (
    ("sample-ada", "Ada Lovelace", "+1 650-555-0100"),
    ("sample-grace", "Grace Hopper", "+1 650-555-0101"),
    ("sample-alan", "Alan Turing", "+44 20 7946 0102"),
)

NEW_CONTACT_PLACEHOLDER = ContactMatch(
    id="createNewContact", name="Create new contact...", is_new_contact=True
)


def _warning(message: str) -> ReturnMessage:
    return ReturnMessage(message=message, message_type="warning", ttl=5000)


def _success(message: str) -> ReturnMessage:
    return ReturnMessage(message=message, message_type="success", ttl=2000)


def _as_match(contact: DemoContact) -> ContactMatch:
    match = ContactMatch(
        id=contact.id,
        name=contact.name,
        phone=contact.phone,
        type=contact.type,
        created_date=iso(contact.created_at),
    )
    if contact.company:  # optional fields left unset are omitted from the wire
        match.company = contact.company
    return match


def _who(contact_info: dict[str, Any]) -> str:
    return contact_info.get("name") or contact_info.get("phoneNumber") or "unknown"


def _message_line(message: dict[str, Any], **links: str | None) -> str:
    """One message as a line of the conversation log, with its media links below it."""
    head = f"{message.get('creationTime', '')} {message.get('direction', '')}".strip()
    line = f"[{head}] {message.get('type') or 'SMS'}: {message.get('subject') or ''}".rstrip()
    extra = [f"  {name.removesuffix('_link')}: {url}" for name, url in links.items() if url]
    return "\n".join([line, *extra])


class DemoConnector(DemoAppointments, Connector):
    """Platform ``demo``: an API-key connector whose "CRM" is two tables of our database."""

    platform = "demo"
    auth_type = "apiKey"

    _db: Database | None = None

    async def startup(self, runtime: Runtime) -> None:
        """Called once at server start: create the demo tables, seed the sample contacts.

        The framework's migrations do not know these tables (see ``models.py``); they are made
        here, where the demo connector is served, unless the deployment manages its schema
        itself (``DISABLE_SYNC_DB_TABLE``).
        """
        self._db = runtime.db
        if not runtime.settings.disable_sync_db_table:
            try:
                await runtime.db.write(_create_tables)
            except DBAPIError:  # another worker created them between our check and our CREATE
                await runtime.db.write(_create_tables)
        await self._seed()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        if self._db is None:
            raise RuntimeError("the demo connector has not been started")
        async with self._db.transaction() as session:
            yield session

    async def _seed(self) -> None:
        try:
            async with self._transaction() as session:
                if await session.scalar(select(DemoContact.id).limit(1)) is not None:
                    return
                session.add_all(
                    DemoContact(id=cid, name=name, phone=phone, phone_key=phone_key(phone))
                    for cid, name, phone in SAMPLE_CONTACTS
                )
        except IntegrityError:  # another worker seeded at the same moment
            pass

    # -- auth ----------------------------------------------------------------------------

    def get_basic_auth(self, api_key: str | None = None) -> str:
        return self.basic_auth(api_key or "")

    async def get_user_info(
        self, api_key: str | None = None, additional_info: dict[str, Any] | None = None
    ) -> UserInfoResult:
        """Any non-empty key logs in; the key itself (hashed) names the demo account."""
        key = (api_key or (additional_info or {}).get("apiKey") or "").strip()
        if not key:
            return UserInfoResult(
                successful=False,
                return_message=_warning("Enter an API key: any text works for the demo CRM."),
            )
        crm_user_id = hashlib.sha256(key.encode()).hexdigest()[:12]
        return UserInfoResult(
            successful=True,
            platform_user_info=PlatformUserInfo(
                id=f"{crm_user_id}-demo",
                name="Demo User",
                timezone_name="UTC",
                timezone_offset=0,
            ),
            return_message=_success("Connected to Demo CRM."),
        )

    async def unauthorize(self, user: User) -> ActionResult:
        """Forget the key but keep the user's settings (a real CRM would revoke it first)."""
        user.access_token = ""
        user.refresh_token = ""
        await user.save()
        return ActionResult(successful=True, return_message=_success("Logged out of Demo CRM"))

    async def get_license_status(self) -> LicenseStatus:
        return LicenseStatus(is_license_valid=True, license_status="Demo")

    # -- contacts ------------------------------------------------------------------------

    @staticmethod
    def _visible_to(user: User) -> Any:
        """Sample contacts are shared; contacts a user creates are theirs alone."""
        return or_(DemoContact.owner_id.is_(None), DemoContact.owner_id == user.id)

    async def _contacts(self, user: User, condition: Any) -> list[ContactMatch]:
        async with self._transaction() as session:
            rows = await session.scalars(
                select(DemoContact)
                .where(self._visible_to(user), condition)
                .order_by(DemoContact.created_at, DemoContact.id)
            )
            return [_as_match(row) for row in rows]

    async def find_contact(self, user: User, phone_number: str) -> FindContactResult:
        key = phone_key(phone_number)
        matches = await self._contacts(user, DemoContact.phone_key == key) if key else []
        return FindContactResult(matched_contact_info=[*matches, NEW_CONTACT_PLACEHOLDER])

    async def find_contact_with_name(self, user: User, name: str) -> FindContactResult:
        query = (name or "").strip()
        if not query:
            return FindContactResult()
        condition = DemoContact.name.icontains(query, autoescape=True)
        return FindContactResult(matched_contact_info=await self._contacts(user, condition))

    async def create_contact(
        self,
        user: User,
        phone_number: str,
        new_contact_name: str,
        new_contact_type: str | None = None,
        additional_submission: dict[str, Any] | None = None,
    ) -> CreateContactResult:
        name = (new_contact_name or "").strip()
        if not name:
            return CreateContactResult(return_message=_warning("A contact needs a name."))
        contact = DemoContact(
            owner_id=user.id,
            name=name,
            phone=phone_number or "",
            phone_key=phone_key(phone_number),
            type=new_contact_type or "contact",
            company=(additional_submission or {}).get("company") or None,
        )
        async with self._transaction() as session:
            session.add(contact)
        return CreateContactResult(
            contact_info=_as_match(contact), return_message=_success(f"Contact {name} created")
        )

    # -- activities ----------------------------------------------------------------------

    async def _add_activity(self, activity: DemoActivity) -> LogResult:
        async with self._transaction() as session:
            session.add(activity)
        return LogResult(log_id=str(activity.id))

    @staticmethod
    async def _owned(
        session: AsyncSession, user: User, kind: str, log_id: Any, *, for_update: bool = False
    ) -> DemoActivity | None:
        """The activity, if it exists, is of this kind and belongs to this user.

        ``for_update``: lock the row until the transaction ends (PostgreSQL ``FOR UPDATE``;
        SQLite writes are serialized anyway), so a read-modify-write by another request or
        worker waits instead of losing this one's change.
        """
        try:
            row = await session.get(DemoActivity, int(log_id), with_for_update=for_update)
        except (TypeError, ValueError):
            return None
        return row if row is not None and row.user_id == user.id and row.kind == kind else None

    # -- calls ---------------------------------------------------------------------------

    def get_log_format_type(self, platform: str | None = None, proxy_config: Any = None) -> str:
        """We want bodies composed by the framework, as plain text."""
        return "text/plain"

    async def create_call_log(
        self,
        user: User,
        contact_info: dict[str, Any],
        call_log: dict[str, Any],
        composed_log_details: str = "",
        note: str | None = None,
        additional_submission: dict[str, Any] | None = None,
    ) -> LogResult:
        verb = "Inbound call from" if call_log.get("direction") == "Inbound" else "Outbound call to"
        return await self._add_activity(
            DemoActivity(
                user_id=user.id,
                kind="call",
                contact_id=str(contact_info.get("id")),
                session_id=call_log.get("sessionId"),
                subject=call_log.get("customSubject") or f"{verb} {_who(contact_info)}",
                note=note or "",
                body=composed_log_details or note or "",
                fields=additional_submission or {},
            )
        )

    async def get_call_log(self, user: User, call_log_id: str) -> GetCallLogResult:
        async with self._transaction() as session:
            row = await self._owned(session, user, "call", call_log_id)
            if row is None:
                return GetCallLogResult(return_message=_warning("Call log not found"))
            return GetCallLogResult(
                call_log_info=CallLogInfo(
                    subject=row.subject,
                    note=row.note,
                    full_body=row.body,
                    full_log_response=row.to_dict(),
                    dispositions=row.dispositions or {},
                )
            )

    async def update_call_log(
        self,
        user: User,
        existing_call_log: dict[str, Any],
        composed_log_details: str = "",
        subject: str | None = None,
        note: str | None = None,
    ) -> UpdateLogResult:
        """Write the composed body (it already contains the note and everything new)."""
        log_id = existing_call_log.get("thirdPartyLogId")
        async with self._transaction() as session:
            row = await self._owned(session, user, "call", log_id, for_update=True)
            if row is None:
                return UpdateLogResult(return_message=_warning("Call log not found"))
            row.subject = subject or row.subject
            if note is not None:
                row.note = note
            row.body = composed_log_details or row.note or row.body
            return UpdateLogResult(updated_note=row.body)

    async def upsert_call_disposition(
        self, user: User, existing_call_log: dict[str, Any], dispositions: dict[str, Any] | None
    ) -> LogResult:
        log_id = existing_call_log.get("thirdPartyLogId")
        async with self._transaction() as session:
            row = await self._owned(session, user, "call", log_id, for_update=True)
            if row is None:
                return LogResult(return_message=_warning("Call log not found"))
            row.dispositions = dict(dispositions or {})
        return LogResult(log_id=log_id)

    # -- the playground's read-back (not an interface) -------------------------------------

    async def playground_records(self, user: User) -> list[dict[str, Any]]:
        """This user's logged calls and conversations, newest first, as stored."""
        async with self._transaction() as session:
            rows = await session.scalars(
                select(DemoActivity)
                .where(DemoActivity.user_id == user.id)
                .order_by(DemoActivity.id.desc())
                .limit(50)
            )
            return [row.to_dict() for row in rows]

    # -- messages ------------------------------------------------------------------------

    async def create_message_log(
        self,
        user: User,
        contact_info: dict[str, Any],
        message: dict[str, Any] | None = None,
        shared_sms_log_content: dict[str, Any] | None = None,
        additional_submission: dict[str, Any] | None = None,
        recording_link: str | None = None,
        fax_doc_link: str | None = None,
        image_link: str | None = None,
        video_link: str | None = None,
    ) -> LogResult:
        """One activity per conversation and day; the first message (or shared SMS) opens it."""
        if shared_sms_log_content is not None:
            subject = shared_sms_log_content.get("subject") or ""
            body = shared_sms_log_content.get("body") or ""
        else:
            subject = f"SMS conversation with {_who(contact_info)}"
            body = _message_line(
                message or {},
                recording_link=recording_link,
                fax_link=fax_doc_link,
                image_link=image_link,
                video_link=video_link,
            )
        return await self._add_activity(
            DemoActivity(
                user_id=user.id,
                kind="message",
                contact_id=str(contact_info.get("id")),
                subject=subject,
                body=body,
                fields=additional_submission or {},
            )
        )

    async def update_message_log(
        self,
        user: User,
        existing_message_log: dict[str, Any],
        message: dict[str, Any] | None = None,
        shared_sms_log_content: dict[str, Any] | None = None,
        image_link: str | None = None,
        video_link: str | None = None,
    ) -> UpdateLogResult:
        """Append a later message; a shared SMS arrives recomposed whole, so it replaces.

        The append is one ``UPDATE ... SET body = body || line`` rather than read, append,
        write: concurrent appends (other requests, other workers) each keep their line, on
        SQLite too, where a plain ``SELECT`` does not start the transaction that would conflict.
        """
        log_id = existing_message_log.get("thirdPartyLogId")
        try:
            activity_id = int(log_id)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return UpdateLogResult(return_message=_warning("Message log not found"))
        if shared_sms_log_content is not None:
            body: Any = shared_sms_log_content.get("body") or DemoActivity.body
        else:
            line = _message_line(message or {}, image_link=image_link, video_link=video_link)
            body = case((DemoActivity.body == "", line), else_=DemoActivity.body + "\n" + line)
        async with self._transaction() as session:
            result = await session.execute(
                update(DemoActivity)
                .where(
                    DemoActivity.id == activity_id,
                    DemoActivity.user_id == user.id,
                    DemoActivity.kind == "message",
                )
                .values(body=body, updated_at=utcnow())
            )
        if not changed(result):
            return UpdateLogResult(return_message=_warning("Message log not found"))
        return UpdateLogResult()


def _create_tables(connection: Connection) -> None:
    DemoBase.metadata.create_all(connection, checkfirst=True)
