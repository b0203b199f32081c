"""Every fault kind on every imitation, rendered in that upstream's own dialect."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from enrichment_sandbox.controls import FaultKind, FaultRule
from enrichment_sandbox.runner import Sandbox
from tests.unit.sandbox.support import JSON, STROBE, spotify_token

APPS = ("spotify", "musicbrainz", "lastfm")
ENDPOINTS = {"spotify": "track", "musicbrainz": "recording", "lastfm": "track.getInfo"}
HELP = "For usage, please see: https://musicbrainz.org/development/mmd"


async def _target(
    http: aiohttp.ClientSession, sandbox: Sandbox, app: str
) -> tuple[str, dict[str, str]]:
    """A request that succeeds on ``app`` when no fault is active: (url, headers)."""
    settings = sandbox.settings()
    if app == "spotify":
        token = await spotify_token(http, sandbox)
        return f"{settings['ENRICHMENT_SPOTIFY_API_URL']}/tracks/{STROBE.spotify_id}", {
            "Authorization": f"Bearer {token}"
        }
    if app == "musicbrainz":
        return f"{settings['ENRICHMENT_MUSICBRAINZ_URL']}/recording/{STROBE.mbid}?fmt=json", {}
    key = settings["ENRICHMENT_LASTFM_API_KEY"]
    url = f"{settings['ENRICHMENT_LASTFM_URL']}?method=track.getInfo&artist=deadmau5&track=Strobe"
    return f"{url}&api_key={key}&format=json", {}


async def _hit(
    http: aiohttp.ClientSession, sandbox: Sandbox, app: str, kind: FaultKind, **rule: int | float
) -> tuple[int, str, JSON | None, dict[str, str]]:
    """Inject one ``kind`` fault on ``app``, then request: (status, text, json, headers)."""
    url, headers = await _target(http, sandbox, app)
    sandbox.upstreams()[app].controls.faults.add(FaultRule(kind=kind, **rule))  # type: ignore[arg-type]
    async with http.get(url, headers=headers) as response:
        text = await response.text()
        body = (
            json.loads(text)
            if response.content_type == "application/json" and kind != "malformed"
            else None
        )
        return response.status, text, body, dict(response.headers)


async def test_status_fault_uses_each_error_shape(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A status fault answers that status with Spotify's, MusicBrainz's or Last.fm's body."""
    assert (await _hit(http, sandbox, "spotify", "status", status=503))[::2] == (
        503,
        {"error": {"status": 503, "message": "Service unavailable"}},
    )
    status, _, body, _ = await _hit(http, sandbox, "musicbrainz", "status", status=502)
    assert (status, body) == (502, {"error": "Bad Gateway", "help": HELP})
    status, _, body, _ = await _hit(http, sandbox, "lastfm", "status", status=503)
    assert status == 503
    assert body == {
        "error": 11,
        "message": "Service Offline - This service is temporarily offline. Try again later.",
        "links": [],
    }


async def test_rate_limit_fault(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Spotify 429 + Retry-After; MusicBrainz 503 + rate headers; Last.fm error 29 (200/429)."""
    status, _, body, headers = await _hit(http, sandbox, "spotify", "rate_limit", retry_after=2)
    assert (status, headers["Retry-After"]) == (429, "2")
    assert body == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    status, _, body, headers = await _hit(http, sandbox, "musicbrainz", "rate_limit", retry_after=2)
    assert (status, headers["Retry-After"], headers["X-RateLimit-Remaining"]) == (503, "2", "0")
    assert body is not None
    assert body["error"].startswith("Your requests are exceeding the allowable rate limit.")
    status, _, body, _ = await _hit(http, sandbox, "lastfm", "rate_limit")
    assert (status, body and body["error"]) == (200, 29)
    sandbox.lastfm.controls.update_config({"error_status": "semantic"})
    assert (await _hit(http, sandbox, "lastfm", "rate_limit"))[0] == 429


@pytest.mark.parametrize("app", APPS)
async def test_hang_is_cut_by_client_timeout(
    http: aiohttp.ClientSession, sandbox: Sandbox, app: str
) -> None:
    """A hang never answers; a 0.2 s client timeout cuts it (the timeout, not an answer)."""
    url, headers = await _target(http, sandbox, app)
    sandbox.upstreams()[app].controls.faults.add(FaultRule(kind="hang"))
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=0.2)
        ) as response:
            await response.read()


@pytest.mark.parametrize("app", APPS)
async def test_malformed_body_is_not_json(
    http: aiohttp.ClientSession, sandbox: Sandbox, app: str
) -> None:
    """A malformed fault is HTTP 200 claiming JSON with a body that does not parse."""
    status, text, _, headers = await _hit(http, sandbox, app, "malformed")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


async def test_error_in_200(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Last.fm sends error 16 inside a 200; Spotify and MusicBrainz send a 500."""
    status, _, body, _ = await _hit(http, sandbox, "lastfm", "error_in_200")
    assert (status, body) == (
        200,
        {
            "error": 16,
            "message": "There was a temporary error processing your request. Please try again",
            "links": [],
        },
    )
    assert (await _hit(http, sandbox, "spotify", "error_in_200"))[::2] == (
        500,
        {"error": {"status": 500, "message": "Server error"}},
    )
    assert (await _hit(http, sandbox, "musicbrainz", "error_in_200"))[0] == 500


async def test_quota(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Spotify's QUOTA_EXCEEDED 429, Last.fm's suspended key (26 at 403), MusicBrainz's 503."""
    status, _, body, _ = await _hit(http, sandbox, "spotify", "quota")
    assert (status, body) == (
        429,
        {"error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}},
    )
    status, _, body, _ = await _hit(http, sandbox, "lastfm", "quota")
    assert (status, body and body["error"]) == (403, 26)
    assert (await _hit(http, sandbox, "musicbrainz", "quota"))[0] == 503


@pytest.mark.parametrize("app", APPS)
async def test_counted_fault_is_consumed(
    http: aiohttp.ClientSession, sandbox: Sandbox, app: str
) -> None:
    """times=1 fails exactly one request on the named endpoint; the next one succeeds."""
    status, _, _, _ = await _hit(http, sandbox, app, "status", status=500, times=1)
    assert status == 500
    url, headers = await _target(http, sandbox, app)
    async with http.get(url, headers=headers) as response:
        assert response.status == 200


async def test_fault_only_hits_its_endpoint(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """A fault on Spotify "search" leaves "track" alone."""
    sandbox.spotify.controls.faults.add(FaultRule(endpoint="search", kind="status", status=502))
    url, headers = await _target(http, sandbox, "spotify")
    async with http.get(url, headers=headers) as response:
        assert response.status == 200
    async with http.get(
        f"{sandbox.spotify.base_url}/v1/search?q=a&type=track", headers=headers
    ) as response:
        assert response.status == 502


async def test_latency_delays_only_its_endpoint(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Per-endpoint latency slows that endpoint's responses by at least the set time."""
    sandbox.musicbrainz.controls.set_latency(150, "recording")
    url, headers = await _target(http, sandbox, "musicbrainz")
    started = time.monotonic()
    async with http.get(url, headers=headers) as response:
        assert response.status == 200
    assert time.monotonic() - started >= 0.15  # a lower bound: load cannot shorten it
    # Another endpoint answers while "recording" would take a minute: it is not delayed.
    sandbox.musicbrainz.controls.set_latency(60_000, "recording")
    async with http.get(
        f"{sandbox.musicbrainz.base_url}/ws/2/isrc/{STROBE.isrc}?fmt=json",
        timeout=aiohttp.ClientTimeout(total=30),
    ) as response:
        assert response.status == 200


async def test_lastfm_404_fault_is_track_not_found(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A 404 status fault on Last.fm carries error 6 "Track not found"."""
    status, _, body, _ = await _hit(http, sandbox, "lastfm", "status", status=404)
    assert (status, body) == (404, {"error": 6, "message": "Track not found", "links": []})
