"""The fingerprint a source puts on a refusal is the one the credential service compares.

If the two disagreed, a fixed key would never re-enrich the refused tracks, or every start
would re-enrich them again (issue 12 item 14).
"""

from __future__ import annotations

from opentelemetry.trace import NoOpTracer

from enrichment_server.cache.memory import MemoryCache
from enrichment_server.config import load_settings
from enrichment_server.credentials import Credentials
from enrichment_server.resilience.registry import BreakerRegistry
from enrichment_server.sources.base import HttpSource
from enrichment_server.telemetry.metrics import Metrics
from enrichment_server.wiring import Shared, build_sources

FULL = Credentials("id-0123456789", "secret-0123456789", "lastfm-key-01", "gsb-key-0123")


def _clients(credentials: Credentials) -> dict[str, HttpSource]:
    metrics = Metrics()
    shared = Shared(MemoryCache(10), BreakerRegistry(hooks=metrics), metrics, NoOpTracer())
    sources = build_sources(load_settings(), object(), shared, credentials)  # type: ignore[arg-type]
    keyed = {"spotify": sources.spotify, "lastfm": sources.lastfm, "getsongbpm": sources.getsongbpm}
    return {name: client for name, client in keyed.items() if client is not None}


def test_each_keyed_client_carries_the_fingerprint_the_service_compares() -> None:
    """issue 12 item 14: client fingerprints equal Credentials.fingerprints(), per source."""
    clients = _clients(FULL)
    assert {name: c.credential for name, c in clients.items()} == FULL.fingerprints()
    assert len(set(FULL.fingerprints().values())) == 3


def test_a_changed_key_changes_only_its_sources_fingerprint() -> None:
    """issue 12 item 14: a new Last.fm key moves Last.fm's fingerprint and no other."""
    before = FULL.fingerprints()
    after = Credentials(
        FULL.spotify_client_id, FULL.spotify_client_secret, "lastfm-key-02", "gsb-key-0123"
    ).fingerprints()
    assert {name for name in before if before[name] != after[name]} == {"lastfm"}
    assert all(FULL.lastfm_api_key not in fp for fp in before.values())
