"""Call counters and runtime control through the ``/_sandbox/`` routes and :class:`Controls`."""

from __future__ import annotations

import aiohttp
import pytest

from enrichment_sandbox.controls import FaultBook, FaultRule
from enrichment_sandbox.runner import Sandbox
from tests.unit.sandbox.support import JSON, STROBE, spotify_token


async def _admin(
    http: aiohttp.ClientSession, method: str, url: str, body: object = None, raw: str | None = None
) -> tuple[int, JSON]:
    kwargs: dict[str, object] = {"data": raw} if raw is not None else {"json": body}
    async with http.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
        return response.status, await response.json()


async def test_calls_counted_per_endpoint_not_admin(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Upstream calls move the counters; admin calls do not; DELETE resets them."""
    token = await spotify_token(http, sandbox)
    api = sandbox.settings()["ENRICHMENT_SPOTIFY_API_URL"]
    for _ in range(2):
        async with http.get(
            f"{api}/tracks/{STROBE.spotify_id}", headers={"Authorization": f"Bearer {token}"}
        ):
            pass
    calls_url = f"{sandbox.spotify.admin_url}/calls"
    for _ in range(3):
        expected = {"calls": {"token": 1, "track": 2}, "max_in_window": 3}
        assert await _admin(http, "GET", calls_url) == (200, expected)
    assert await _admin(http, "GET", f"{calls_url}?window_s=0") == (
        400,
        {"error": "window_s must be positive"},
    )
    assert sandbox.spotify.controls.calls["track"] == 2
    assert await _admin(http, "DELETE", calls_url) == (200, {"calls": {}})
    assert not sandbox.spotify.controls.calls


async def test_lastfm_calls_keyed_by_method(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Last.fm counts under the canonical method name, whatever case the client used."""
    settings = sandbox.settings()
    params = {
        "method": "TRACK.GETINFO",
        "api_key": settings["ENRICHMENT_LASTFM_API_KEY"],
        "artist": "a",
        "track": "b",
    }
    async with http.get(settings["ENRICHMENT_LASTFM_URL"], params=params) as response:
        assert response.status == 200
    assert dict(sandbox.lastfm.controls.calls) == {"track.getInfo": 1}


async def test_fault_added_over_http(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """POST /_sandbox/faults activates a rule; DELETE clears every rule."""
    faults = f"{sandbox.musicbrainz.admin_url}/faults"
    status, body = await _admin(
        http, "POST", faults, {"endpoint": "isrc", "kind": "status", "status": 502, "times": 2}
    )
    assert status == 201
    assert body["faults"][0]["remaining"] == 2
    url = f"{sandbox.musicbrainz.base_url}/ws/2/isrc/{STROBE.isrc}?fmt=json"
    async with http.get(url) as response:
        assert response.status == 502
    assert (await _admin(http, "GET", faults))[1]["faults"][0]["remaining"] == 1
    assert await _admin(http, "DELETE", faults) == (200, {"faults": []})
    async with http.get(url) as response:
        assert response.status == 200


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "body is not valid JSON"),
        ('{"kind": "explode"}', "'kind' must be one of"),
        ('{"kind": "status", "colour": 1}', "unknown fault field(s): colour"),
        ('{"kind": "status", "times": 0}', "'times' must be a positive integer"),
        ('{"kind": "status", "status": "503"}', "'status' must be an integer HTTP status"),
    ],
)
async def test_bad_fault_is_400(
    http: aiohttp.ClientSession, sandbox: Sandbox, raw: str, message: str
) -> None:
    """Bad fault bodies are refused with 400 and a message naming the problem."""
    status, body = await _admin(http, "POST", f"{sandbox.lastfm.admin_url}/faults", raw=raw)
    assert status == 400
    assert message in body["error"]
    assert not sandbox.lastfm.controls.faults.snapshot()


async def test_config_over_http(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """PUT /_sandbox/config merges known knobs and refuses unknown keys or bad values."""
    config = f"{sandbox.spotify.admin_url}/config"
    status, body = await _admin(http, "PUT", config, {"audio_features": "ok"})
    assert (status, body["config"]["audio_features"], body["config"]["profile"]) == (
        200,
        "ok",
        "dev",
    )
    status, body = await _admin(http, "PUT", config, {"colour": "blue"})
    assert status == 400
    assert "unknown config key 'colour'" in body["error"]
    status, body = await _admin(http, "PUT", config, {"audio_features": "sometimes"})
    assert status == 400
    assert sandbox.spotify.controls.config["audio_features"] == "ok"


async def test_latency_over_http(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """PUT /_sandbox/latency sets a per-endpoint delay; a negative one is 400."""
    latency = f"{sandbox.lastfm.admin_url}/latency"
    status, body = await _admin(http, "PUT", latency, {"endpoint": "track.search", "ms": 80})
    assert (status, body["latency_ms"]["track.search"]) == (200, 80.0)
    assert sandbox.lastfm.controls.latency_for("track.search") == 80.0
    assert sandbox.lastfm.controls.latency_for("track.getInfo") == 0.0
    assert (await _admin(http, "PUT", latency, {"ms": -1}))[0] == 400


async def test_reset_restores_defaults(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """POST /_sandbox/reset clears faults, counts, latency and knobs."""
    controls = sandbox.lastfm.controls
    controls.faults.add(FaultRule(kind="hang"))
    controls.update_config({"error_status": "semantic"})
    controls.set_latency(50)
    controls.calls["track.search"] += 1
    assert await _admin(http, "POST", f"{sandbox.lastfm.admin_url}/reset") == (200, {"reset": True})
    assert (controls.faults.take("track.getInfo"), controls.config["error_status"]) == (None, "200")
    assert (controls.latency_for("x"), dict(controls.calls)) == (0.0, {})


def test_fault_book_order_and_consumption() -> None:
    """take() returns the first matching rule and drops counted rules when used up."""
    book = FaultBook()
    once = FaultRule(endpoint="search", kind="status", status=500, times=1)
    always = FaultRule(kind="malformed")
    book.add(once)
    book.add(always)
    assert book.take("track") == always
    assert book.take("search") == once
    assert book.take("search") == always
    book.clear()
    assert book.take("search") is None
