"""pytest fixtures of the testing kit: ``pytest_plugins = ["appconnect.testing.fixtures"]``.

* ``crm``: a fresh :class:`~appconnect.testing.FakeCrm`.
* ``app_settings``: :func:`~appconnect.testing.settings_for_test` in the test's ``tmp_path``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from appconnect.settings import Settings
from appconnect.testing.client import settings_for_test
from appconnect.testing.crm import FakeCrm


@pytest.fixture
def crm() -> FakeCrm:
    return FakeCrm()


@pytest.fixture
def app_settings(tmp_path: Path) -> Settings:
    return settings_for_test(tmp_path)
