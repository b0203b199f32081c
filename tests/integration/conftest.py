"""Fixtures: the sandbox upstreams, a real grpc.aio server on port 0, the real client."""

from __future__ import annotations

import gc
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from enrichment_client import EnrichmentClient
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import App, running
from enrichment_server.config import Settings, load_settings


def sandbox_settings(sandbox: Sandbox, **overrides: object) -> Settings:
    """Server settings pointing at ``sandbox``, tuned so tests never wait long."""
    values: dict[str, object] = {
        key.removeprefix("ENRICHMENT_").lower(): value for key, value in sandbox.settings().items()
    }
    values |= {
        # A database of its own per server; background workers only where a test wants them.
        "database_url": f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='enrichment-')}/test.db",
        "workers_enabled": False,
        "grpc_host": "127.0.0.1",
        "grpc_port": 0,
        "musicbrainz_rate_per_s": 1000.0,
        "deezer_rate_per_s": 0.0,
        "getsongbpm_rate_per_s": 0.0,
        # Last.fm's 5/s default spaced two calls a track: ~0.4 s per cold call, which made
        # every test enriching tracks one after another slow. A test about a limit sets it.
        "lastfm_rate_per_s": 0.0,
        "http_timeout_s": 1.0,
        "retry_base_s": 0.01,
        "retry_cap_s": 0.05,
        "default_deadline_s": 5.0,
        "grace_period_s": 1.0,
        "http_host": "127.0.0.1",
        "http_port": 0,
    }
    return load_settings(**(values | overrides))


@dataclass
class Stack:
    """A running sandbox + server + connected client."""

    sandbox: Sandbox
    app: App
    client: EnrichmentClient

    @property
    def target(self) -> str:
        """The server's address."""
        return f"127.0.0.1:{self.app.port}"


@pytest.fixture(autouse=True)
def frozen_heap() -> None:
    """Freeze the heap before each test, as the server does after start (__main__.py).

    Servers here share the pytest process, whose heap grows test after test; a full
    collection walking it stalls the event loop for 100+ ms and made deadline tests
    flaky. Freezing is a cheap list splice; only earlier tests' cyclic garbage stays.
    """
    gc.freeze()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """The three upstream imitations on free loopback ports."""
    async with Sandbox() as running_sandbox:
        yield running_sandbox


@pytest.fixture
async def stack(sandbox: Sandbox) -> AsyncIterator[Stack]:
    """Server + client over the sandbox (Spotify audio features answer like an old app)."""
    sandbox.spotify.controls.update_config({"audio_features": "ok"})
    async with running(sandbox_settings(sandbox)) as app:
        client = await EnrichmentClient.connect(f"127.0.0.1:{app.port}", timeout_s=10)
        async with client:
            yield Stack(sandbox, app, client)
