"""The source registry and the settings sections it reads: one builder for five sources."""

from __future__ import annotations

import pytest
from opentelemetry.trace import NoOpTracer

from enrichment_server.cache.memory import MemoryCache
from enrichment_server.config import load_settings
from enrichment_server.credentials import Credentials
from enrichment_server.domain import Source
from enrichment_server.resilience.registry import BreakerRegistry
from enrichment_server.sources.http import Transport
from enrichment_server.telemetry.metrics import Metrics
from enrichment_server.wiring import SOURCES, Shared, breaker_config, build_sources


class NoTransport:
    """A transport that is never called here (building a client sends nothing)."""

    async def send(self, *args: object, **kwargs: object) -> object:
        """Fail loudly if anything tries to send."""
        raise AssertionError("building a source must not send a request")


def _shared() -> Shared:
    metrics = Metrics()
    return Shared(MemoryCache(100), BreakerRegistry(hooks=metrics), metrics, NoOpTracer())


def _transport() -> Transport:
    return NoTransport()  # type: ignore[return-value]


def test_the_registry_covers_every_source_once() -> None:
    """Every Source has exactly one spec, so a new source cannot be forgotten."""
    assert sorted(str(spec.source) for spec in SOURCES) == sorted(str(s) for s in Source)


def test_keyless_sources_run_without_credentials_and_keyed_ones_do_not() -> None:
    """No credentials: MusicBrainz and Deezer only; with every credential: all five."""
    settings = load_settings()
    shared = _shared()
    bare = build_sources(settings, _transport(), shared, Credentials())
    present = {str(s) for s in Source if getattr(bare, str(s)) is not None}
    assert present == {"musicbrainz", "deezer"}
    full = Credentials("id-0123456789", "secret-0123456789", "lastfm-key-01", "gsb-key-0123")
    every = build_sources(settings, _transport(), shared, full)
    assert all(getattr(every, str(s)) is not None for s in Source)
    assert set(shared.registry.sources) == set(Source)


def test_a_half_set_credential_pair_keeps_spotify_off() -> None:
    """Spotify needs both its id and its secret; a switched-off source is never built."""
    settings = load_settings(musicbrainz_enabled=False)
    sources = build_sources(settings, _transport(), _shared(), Credentials("id-0123456789"))
    assert sources.spotify is None
    assert sources.musicbrainz is None
    assert sources.deezer is not None


def test_source_sections_carry_each_upstreams_settings() -> None:
    """settings.source() reads the right URL, rate and switch; Spotify keeps its quirks."""
    settings = load_settings(
        musicbrainz_rate_per_s=2.5,
        deezer_enabled=False,
        lastfm_url="http://127.0.0.1:1/2.0/",
        user_agent="tests/1.0 ( tests@example.invalid )",
    )
    mb = settings.source(Source.MUSICBRAINZ)
    assert (mb.rate_per_s, mb.enabled, mb.url) == (2.5, True, "https://musicbrainz.org/ws/2")
    assert settings.source(Source.DEEZER).enabled is False
    assert settings.source(Source.LASTFM).url == "http://127.0.0.1:1/2.0/"
    assert settings.source(Source.LASTFM).user_agent.startswith("tests/1.0")
    spotify = settings.source(Source.SPOTIFY)
    assert spotify.token_url == "https://accounts.spotify.com/api/token"
    assert spotify.market == "US"
    assert settings.source(Source.DEEZER).market == ""


def test_the_old_user_agent_variable_is_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """ENRICHMENT_MUSICBRAINZ_USER_AGENT (the earlier name) still sets the User-Agent."""
    monkeypatch.setenv("ENRICHMENT_MUSICBRAINZ_USER_AGENT", "old-name/1.0 ( ops@example.invalid )")
    assert load_settings().user_agent == "old-name/1.0 ( ops@example.invalid )"


def test_breaker_overrides_apply_to_their_source_only() -> None:
    """A per-source override changes that source's breaker and no other's."""
    settings = load_settings(breaker_overrides={"musicbrainz": {"open_s": 60, "min_calls": 4}})
    mb = breaker_config(settings, Source.MUSICBRAINZ)
    deezer = breaker_config(settings, Source.DEEZER)
    assert (mb.open_s, mb.min_calls) == (60, 4)
    assert isinstance(mb.min_calls, int)
    assert (deezer.open_s, deezer.min_calls) == (30.0, 10)
