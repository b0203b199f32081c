"""Fixtures: a started Sandbox on port 0 over the small test catalogue, and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from enrichment_sandbox.runner import Sandbox
from tests.unit.sandbox.support import CATALOGUE


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """All three imitations, started on free loopback ports."""
    async with Sandbox(CATALOGUE) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp client (its default User-Agent included)."""
    async with aiohttp.ClientSession() as session:
        yield session
