"""Connectors: the base class, the registry and the built-in demo connector."""
