"""Upstream misbehaviour, injected by the sandbox: never an RPC error, never data lost."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from enrichment_client import EnrichmentClient, pb
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from tests.integration.conftest import Stack, sandbox_settings


@pytest.fixture
async def stack(sandbox: Sandbox) -> AsyncIterator[Stack]:
    """The shared stack with the breaker kept closed: each test pins a fault's own error,
    and how many failed attempts fit in one call (enough to trip the breaker, whose tests
    pin CIRCUIT_OPEN) depends on how fast the machine is."""
    sandbox.spotify.controls.update_config({"audio_features": "ok"})
    closed = {"breaker_consecutive_failures": 1000, "breaker_min_calls": 1000}
    async with (
        running(sandbox_settings(sandbox, **closed)) as app,
        await EnrichmentClient.connect(f"127.0.0.1:{app.port}", timeout_s=10) as client,
    ):
        yield Stack(sandbox, app, client)


def errors_by_source(response: pb.EnrichResponse) -> dict[int, pb.SourceError]:
    """The response's errors keyed by source."""
    return {e.source: e for e in response.errors}


async def test_spotify_down_keeps_the_other_sources_data(stack: Stack) -> None:
    """Spotify 503s: MusicBrainz and Last.fm data are kept and the track is PARTIAL."""
    stack.sandbox.spotify.controls.faults.add(FaultRule(kind="status", status=503))
    response = await stack.client.enrich("deadmau5", "Strobe")
    assert response.status == pb.ENRICHMENT_STATUS_PARTIAL
    assert response.metadata.HasField("musicbrainz_id")
    assert response.metadata.isrc  # Deezer / MusicBrainz supply the ISRC when Spotify cannot
    assert response.provenance["isrc"] in (pb.SOURCE_DEEZER, pb.SOURCE_MUSICBRAINZ)
    error = errors_by_source(response)[pb.SOURCE_SPOTIFY]
    assert error.code == pb.ERROR_CODE_UNAVAILABLE
    assert error.retriable


async def test_everything_down_is_failed_not_an_rpc_error(stack: Stack) -> None:
    """Every upstream failing gives a FAILED answer with one retriable error per source."""
    for upstream in stack.sandbox.upstreams().values():
        upstream.controls.faults.add(FaultRule(kind="status", status=500))
    response = await stack.client.enrich("deadmau5", "Strobe")
    assert response.status == pb.ENRICHMENT_STATUS_FAILED
    assert set(errors_by_source(response)) == {
        pb.SOURCE_SPOTIFY,
        pb.SOURCE_MUSICBRAINZ,
        pb.SOURCE_LASTFM,
        pb.SOURCE_DEEZER,
        pb.SOURCE_GETSONGBPM,
    }
    assert all(e.retriable for e in response.errors)


async def test_a_failed_result_is_not_cached(stack: Stack) -> None:
    """After a PARTIAL answer, the next call asks the failed source again and completes."""
    faults = stack.sandbox.spotify.controls.faults
    faults.add(FaultRule(kind="status", status=502))
    first = await stack.client.enrich("Röyksopp", "Eple")
    faults.clear()
    second = await stack.client.enrich("Röyksopp", "Eple")
    assert first.status == pb.ENRICHMENT_STATUS_PARTIAL
    assert second.status == pb.ENRICHMENT_STATUS_COMPLETED
    assert second.metadata.HasField("spotify_id")
    assert not second.cached


async def test_retry_after_is_honoured_then_the_call_succeeds(stack: Stack) -> None:
    """One 429 with Retry-After: the search is retried after the pause and the track completes."""
    controls = stack.sandbox.spotify.controls
    controls.faults.add(FaultRule(endpoint="search", kind="rate_limit", retry_after=0.2, times=1))
    started = time.monotonic()
    response = await stack.client.enrich("Kölsch", "Grey")
    elapsed = time.monotonic() - started
    assert response.status == pb.ENRICHMENT_STATUS_COMPLETED
    assert controls.calls["search"] == 2
    assert elapsed >= 0.2  # a lower bound only: a busy machine can make it longer, not shorter


async def test_quota_exhaustion_is_not_retried(stack: Stack) -> None:
    """Spotify QUOTA_EXCEEDED: one request only, reported as retriable later."""
    controls = stack.sandbox.spotify.controls
    controls.faults.add(FaultRule(endpoint="search", kind="quota"))
    response = await stack.client.enrich("Kölsch", "Grey")
    assert controls.calls["search"] == 1
    error = errors_by_source(response)[pb.SOURCE_SPOTIFY]
    assert error.code == pb.ERROR_CODE_QUOTA_EXCEEDED
    assert error.retriable
    assert response.status == pb.ENRICHMENT_STATUS_PARTIAL


async def test_musicbrainz_throttling_503_is_retried(stack: Stack) -> None:
    """MusicBrainz throttles with 503 (not 429): retried, then the recording is found."""
    controls = stack.sandbox.musicbrainz.controls
    controls.faults.add(FaultRule(kind="rate_limit", retry_after=0.05, times=1))
    response = await stack.client.enrich("deadmau5", "Strobe")
    assert response.status == pb.ENRICHMENT_STATUS_COMPLETED
    assert response.metadata.HasField("musicbrainz_id")


async def test_hanging_upstream_is_cut_by_the_deadline(stack: Stack) -> None:
    """Spotify hangs: the server's deadline (5 s; the client waits 10) or the HTTP timeout
    cuts it, and the call answers with the others' data."""
    stack.sandbox.spotify.controls.faults.add(FaultRule(endpoint="search", kind="hang"))
    response = await stack.client.enrich("deadmau5", "Strobe")
    assert response.status in (pb.ENRICHMENT_STATUS_PARTIAL, pb.ENRICHMENT_STATUS_FAILED)
    error = errors_by_source(response)[pb.SOURCE_SPOTIFY]
    assert error.retriable
    assert error.code in (pb.ERROR_CODE_UNAVAILABLE, pb.ERROR_CODE_DEADLINE_EXCEEDED)


async def test_malformed_body_is_a_retriable_malformed_response(stack: Stack) -> None:
    """A truncated JSON body from MusicBrainz is MALFORMED_RESPONSE, retriable."""
    stack.sandbox.musicbrainz.controls.faults.add(FaultRule(kind="malformed"))
    response = await stack.client.enrich("deadmau5", "Strobe")
    error = errors_by_source(response)[pb.SOURCE_MUSICBRAINZ]
    assert error.code == pb.ERROR_CODE_MALFORMED_RESPONSE
    assert error.retriable
    assert response.metadata.HasField("spotify_id")


async def test_lastfm_error_inside_http_200_is_detected(stack: Stack) -> None:
    """Last.fm's error 16 in a 200 body is a retriable failure, not an empty success."""
    stack.sandbox.lastfm.controls.faults.add(FaultRule(kind="error_in_200"))
    response = await stack.client.enrich("deadmau5", "Strobe")
    error = errors_by_source(response)[pb.SOURCE_LASTFM]
    assert error.code == pb.ERROR_CODE_UNAVAILABLE
    assert error.retriable
    assert response.status == pb.ENRICHMENT_STATUS_PARTIAL


async def test_suspended_lastfm_key_is_not_retriable(stack: Stack) -> None:
    """Last.fm error 26 (suspended key) is a configuration error: not retriable."""
    stack.sandbox.lastfm.controls.faults.add(FaultRule(kind="quota"))
    response = await stack.client.enrich("deadmau5", "Strobe")
    error = errors_by_source(response)[pb.SOURCE_LASTFM]
    assert error.code == pb.ERROR_CODE_UNAUTHENTICATED
    assert not error.retriable
    assert response.status == pb.ENRICHMENT_STATUS_COMPLETED


async def test_expired_token_is_refreshed_once(stack: Stack) -> None:
    """A 401 'token expired' makes the client fetch a new token and retry the request."""
    controls = stack.sandbox.spotify.controls
    await stack.client.enrich("deadmau5", "Strobe")
    controls.update_config({"expire_tokens": True})
    response = await stack.client.enrich("Röyksopp", "Eple")
    assert response.metadata.HasField("spotify_id")
    assert controls.calls["token"] == 2


async def test_audio_features_403_switches_the_feature_off(stack: Stack) -> None:
    """A 403 from audio features is not an error and is not asked again for the credential."""
    controls = stack.sandbox.spotify.controls
    controls.update_config({"audio_features": "forbidden"})
    first = await stack.client.enrich("deadmau5", "Strobe")
    second = await stack.client.enrich("Röyksopp", "Eple")
    assert first.status == pb.ENRICHMENT_STATUS_COMPLETED
    assert not first.errors
    assert first.provenance["bpm"] != pb.SOURCE_SPOTIFY  # BPM comes from elsewhere
    assert second.metadata.HasField("spotify_id")
    assert controls.calls["audio_features"] == 1


@pytest.mark.parametrize("status", [400, 404])
async def test_lastfm_not_found_error_is_an_answer_not_a_failure(stack: Stack, status: int) -> None:
    """Last.fm error 6 ('Track not found') at HTTP 400/404 is a miss: no error is reported."""
    stack.sandbox.lastfm.controls.faults.add(FaultRule(kind="status", status=status))
    response = await stack.client.enrich("deadmau5", "Strobe")
    assert response.status == pb.ENRICHMENT_STATUS_COMPLETED
    assert not response.errors
    assert pb.SOURCE_LASTFM not in response.sources_used
