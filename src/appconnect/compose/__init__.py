"""Central composition of CRM log bodies: call-log bodies and shared-SMS conversation bodies.

Pure functions (no I/O): routes fetch the existing CRM body and the user row, call these, and hand
the result to the connector as ``composedLogDetails`` / ``sharedSMSLogContent``.
"""

from appconnect.compose.call_log import COMPOSED_FORMATS, compose_call_log, journey_text
from appconnect.compose.formatting import format_duration, html_escape
from appconnect.compose.shared_sms import compose_shared_sms
from appconnect.jsvalues import UNSET

__all__ = [
    "COMPOSED_FORMATS",
    "UNSET",
    "compose_call_log",
    "compose_shared_sms",
    "format_duration",
    "html_escape",
    "journey_text",
]
