"""appconnect: build RingCentral App Connect connector servers in Python.

Connector authors import from here only; everything else may change between releases.
"""

from appconnect.app import AppConnect, create_app, mount_routes
from appconnect.connectors.args import UNSET, Unset, is_set, without_unset
from appconnect.connectors.base import Connector
from appconnect.connectors.registry import ConnectorRegistry, ConnectorView
from appconnect.connectors.results import (
    ActionResult,
    CallLogInfo,
    ContactMatch,
    CreateContactResult,
    DetailItem,
    DetailSection,
    FindContactResult,
    GetCallLogResult,
    LicenseStatus,
    LogResult,
    OAuthInfo,
    PlatformUserInfo,
    ReturnMessage,
    UpdateLogResult,
    UserInfoResult,
)
from appconnect.crm_client import CrmClient, CrmResponse
from appconnect.manifest import Manifest, ManifestError, load_manifest
from appconnect.services.oauth import OAuthApp, OAuthError, TokenSet
from appconnect.settings import Settings
from appconnect.store.users import User
from appconnect.version import __version__

__all__ = [
    "UNSET",
    "ActionResult",
    "AppConnect",
    "CallLogInfo",
    "Connector",
    "ConnectorRegistry",
    "ConnectorView",
    "ContactMatch",
    "CreateContactResult",
    "CrmClient",
    "CrmResponse",
    "DetailItem",
    "DetailSection",
    "FindContactResult",
    "GetCallLogResult",
    "LicenseStatus",
    "LogResult",
    "Manifest",
    "ManifestError",
    "OAuthApp",
    "OAuthError",
    "OAuthInfo",
    "PlatformUserInfo",
    "ReturnMessage",
    "Settings",
    "TokenSet",
    "Unset",
    "UpdateLogResult",
    "User",
    "UserInfoResult",
    "__version__",
    "create_app",
    "is_set",
    "load_manifest",
    "mount_routes",
    "without_unset",
]
