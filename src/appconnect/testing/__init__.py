"""A kit for testing connectors: the app in-process, a fake CRM, logins and request bodies.

* :func:`app_client` runs your connector's app (real start-up, real SQLite database in a folder
  you give) and yields an :class:`AppClient` talking to it over ASGI; :meth:`AppClient.login`
  logs in like the client does.
* :class:`FakeCrm` is the CRM at the HTTP layer (an ``httpx2.MockTransport``): script answers
  with :meth:`FakeCrm.on`, then assert what the CRM was sent with :meth:`FakeCrm.calls`;
  :func:`serve_crm` serves the same fake over real HTTP for trying a server by hand.
* :func:`call_log_body`, :func:`call_log_update_body`, :func:`sms_message` and
  :func:`message_log_body` build the client's request bodies.
* ``pytest_plugins = ["appconnect.testing.fixtures"]`` adds the ``crm`` and ``app_settings``
  fixtures (pytest only).

See ``docs/writing-a-connector.md`` (Testing a connector) and ``docs/first-connector.md``.
"""

from appconnect.testing.bodies import (
    AGENT_NUMBER,
    CONTACT_NUMBER,
    call_log_body,
    call_log_update_body,
    message_log_body,
    sms_message,
)
from appconnect.testing.client import (
    TEST_SECRET,
    AppClient,
    add_user,
    app_client,
    bearer,
    serve,
    settings_for_test,
)
from appconnect.testing.crm import CRM, FakeCrm, Recorded, crm_asgi_app, serve_crm

__all__ = [
    "AGENT_NUMBER",
    "CONTACT_NUMBER",
    "CRM",
    "TEST_SECRET",
    "AppClient",
    "FakeCrm",
    "Recorded",
    "add_user",
    "app_client",
    "bearer",
    "call_log_body",
    "call_log_update_body",
    "crm_asgi_app",
    "message_log_body",
    "serve",
    "serve_crm",
    "settings_for_test",
    "sms_message",
]
