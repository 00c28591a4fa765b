"""Plugins on the connector-server side (spec plugins.md §4-§8).

* :mod:`.records` - installed plugins (``accountData`` rows, credential encrypted) and async
  task rows (``caches``);
* :mod:`.client` - HTTP calls to plugin servers (bearer, timeout, credential rotation);
* :mod:`.config` - which plugins run for a log, and the config each receives;
* :mod:`.runtime` - the sync pipeline and async dispatch the logging flows call;
* :mod:`.registration` - install, uninstall and license status;
* :mod:`.callback` - an async plugin's completion report appended to the CRM log.

This module imports nothing so the logging flows can import :mod:`.runtime` alone.
"""
