"""Shared fixtures and the hypothesis profiles of the test suite.

Profiles: ``default`` (local runs), ``ci`` (hypothesis loads it when ``CI`` is
set: derandomized, no example database) and ``thorough`` (many more
examples, for a run by hand). ``HYPOTHESIS_PROFILE=thorough pytest`` picks one.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from wsactions.testing import Client, Harness

settings.register_profile("default", deadline=None, max_examples=50)
settings.register_profile("ci", settings.get_profile("ci"), deadline=None, max_examples=50)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", settings.get_current_profile_name()))


@pytest.fixture
def shop() -> Harness:
    """A whole shop in memory with the built-in actions."""
    return Harness()


@pytest.fixture
def alice(shop: Harness) -> Client:
    """A browser of ``shop`` with its own session."""
    return shop.client(client_address="203.0.113.10")


@pytest.fixture
def bob(shop: Harness) -> Client:
    """A second browser of the same ``shop``."""
    return shop.client(client_address="203.0.113.20")
