"""Declarative (proxy) connectors: CRM integrations from a JSON config (docs/proxy-connectors.md).

* :mod:`.template` renders ``{{ path }}`` templates; :mod:`.request` builds one HTTP request;
  :mod:`.mapping` reads responses back; all three are pure.
* :mod:`.connector` is the connector registered under ``proxy``; :mod:`.sources` finds a user's
  config by ``proxyId``; :mod:`.validate` checks configs; :mod:`.ssrf` guards outbound addresses.
"""

from appconnect.connectors.proxy.connector import ProxyConfigNotFound, ProxyConnector
from appconnect.connectors.proxy.sources import ProxyConfigs, remove_config, store_config
from appconnect.connectors.proxy.ssrf import AddressGuard, BlockedAddress
from appconnect.connectors.proxy.validate import Problem, check_config

__all__ = [
    "AddressGuard",
    "BlockedAddress",
    "Problem",
    "ProxyConfigNotFound",
    "ProxyConfigs",
    "ProxyConnector",
    "check_config",
    "remove_config",
    "store_config",
]
