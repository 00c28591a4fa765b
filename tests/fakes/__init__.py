"""Test doubles shared by the test suites."""

from .crm import (
    CRM,
    BareConnector,
    FakeCrm,
    FakeCrmConnector,
    FakeOAuthConnector,
    Recorded,
)

__all__ = [
    "CRM",
    "BareConnector",
    "FakeCrm",
    "FakeCrmConnector",
    "FakeOAuthConnector",
    "Recorded",
]
