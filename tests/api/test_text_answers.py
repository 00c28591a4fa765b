"""Text answers cannot render script from stored data: ``GET /hostname`` is ``text/plain`` with
``nosniff``; any other text that could be markup goes out the same way, while the reference's
fixed texts keep their ``text/html`` content type. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from appconnect.api.responses import NOAUTH
from appconnect.store.users import User

from ._call_log_helpers import ActivityConnector, Harness, running_app

SCRIPT = "<script>alert(document.cookie)</script>"


class ChattyConnector(ActivityConnector):
    """Logs out with a message that happens to contain markup (as a CRM's text might)."""

    async def unauthorize(self, *, user: User) -> dict[str, Any]:
        return {"returnMessage": f"Bye {SCRIPT} & see you"}


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    async with running_app(db_url, ChattyConnector()) as harness:
        yield harness


def _inert(response: Any) -> None:
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_hostname_from_stored_data_is_plain_text(h: Harness) -> None:
    auth = await h.login()
    user = await h.rt.users.get("u1")
    assert user is not None
    await user.update(hostname=SCRIPT)

    response = await h.client.get("/hostname", headers=auth)

    assert response.text == SCRIPT  # the value itself is unchanged
    _inert(response)


async def test_an_ordinary_hostname_is_plain_text_too(h: Harness) -> None:
    response = await h.client.get("/hostname", headers=await h.login())
    assert response.text == "crm.test"
    _inert(response)


async def test_any_text_answer_that_could_be_markup_is_plain_text(h: Harness) -> None:
    response = await h.client.post("/unAuthorize", headers=await h.login())
    assert response.text == f"Bye {SCRIPT} & see you"
    _inert(response)


async def test_fixed_texts_keep_the_reference_content_type(h: Harness) -> None:
    response = await h.client.get("/hostname")
    assert (response.status_code, response.text) == (400, NOAUTH)
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
