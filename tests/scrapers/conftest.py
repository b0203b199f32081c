"""Fixtures for the scraper tests: the fixture sites and a migrated database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from enrichment_sandbox.runner import Sandbox
from enrichment_sandbox.sites import FixtureSites
from enrichment_server.store import migrate
from tests.scrapers.support import API_KEYS


@pytest.fixture
def fixture_sites() -> Iterator[FixtureSites]:
    """The recorded tracklist sites, one loopback port each."""
    with FixtureSites(api_keys=API_KEYS) as sites:
        yield sites


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    """A SQLite file with the service's schema (as the service's start would leave it)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'enrichment.db'}"
    await migrate(url)
    return url


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """The upstream imitations, Spotify audio features on (BPM and key from Spotify)."""
    async with Sandbox() as running_sandbox:
        running_sandbox.spotify.controls.update_config({"audio_features": "ok"})
        yield running_sandbox
