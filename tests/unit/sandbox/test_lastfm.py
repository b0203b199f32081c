"""The Last.fm imitation: string numbers, autocorrect, unknown-track modes, error statuses."""

from __future__ import annotations

import aiohttp
import pytest

from enrichment_sandbox.runner import Sandbox
from tests.unit.sandbox.support import CAFE, JSON, STROBE, get_json


async def _call(
    http: aiohttp.ClientSession,
    sandbox: Sandbox,
    method: str,
    *,
    api_key: str | None = None,
    **params: str,
) -> tuple[int, JSON]:
    settings = sandbox.settings()
    query = {
        "method": method,
        "api_key": api_key or settings["ENRICHMENT_LASTFM_API_KEY"],
        "format": "json",
    }
    status, body, _ = await get_json(
        http, settings["ENRICHMENT_LASTFM_URL"], params={**query, **params}
    )
    return status, body


async def test_get_info_numbers_are_strings(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """getInfo numbers are strings; album has @attr.position; up to 5 toptags without counts."""
    status, body = await _call(http, sandbox, "track.getInfo", artist="deadmau5", track="Strobe")
    track = body["track"]
    assert status == 200
    assert (track["duration"], track["listeners"], track["playcount"]) == (
        "635000",
        "812345",
        "6543210",
    )
    assert track["mbid"] == STROBE.lastfm_mbid
    assert track["streamable"] == {"#text": "0", "fulltrack": "0"}
    assert isinstance(track["album"]["@attr"]["position"], str)
    assert track["artist"]["name"] == "deadmau5"
    tags = track["toptags"]["tag"]
    assert 0 < len(tags) <= 5
    assert all(set(tag) == {"name", "url"} for tag in tags)


async def test_get_info_case_insensitive_and_autocorrect(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Case never matters; accents and "feat." parts only fold with autocorrect=1."""
    _, body = await _call(http, sandbox, "track.getInfo", artist="DEADMAU5", track="strobe")
    assert body["track"]["listeners"] == "812345"
    _, body = await _call(
        http, sandbox, "track.getInfo", artist="Energy 52 feat. X", track="cafe del mar"
    )
    assert body["track"]["listeners"] == "2"  # no autocorrect: the stub
    _, body = await _call(
        http,
        sandbox,
        "track.getInfo",
        artist="Energy 52 feat. X",
        track="cafe del mar",
        autocorrect="1",
    )
    assert (body["track"]["name"], body["track"]["artist"]["name"]) == (CAFE.title, "Energy 52")


async def test_unknown_track_stub_or_error_6(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Unknown tracks get the stub (listeners "2", no mbid/album) or error 6 when switched."""
    status, body = await _call(
        http, sandbox, "track.getInfo", artist="Fake Artist", track="Fake Track"
    )
    stub = body["track"]
    assert status == 200
    assert (stub["name"], stub["duration"], stub["listeners"], stub["toptags"]) == (
        "Fake Track",
        "0",
        "2",
        {"tag": []},
    )
    assert "mbid" not in stub
    assert "album" not in stub
    sandbox.lastfm.controls.update_config({"unknown_track": "error"})
    status, body = await _call(
        http, sandbox, "track.getInfo", artist="Fake Artist", track="Fake Track"
    )
    assert (status, body) == (200, {"error": 6, "message": "Track not found", "links": []})


async def test_error_status_modes(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Errors ride on 200 by default and on semantic statuses when switched; key errors are 403."""
    sandbox.lastfm.controls.update_config({"unknown_track": "error"})
    status, body = await _call(
        http, sandbox, "track.getInfo", api_key="wrong", artist="a", track="b"
    )
    assert (status, body["error"]) == (403, 10)
    assert (await _call(http, sandbox, "track.getInfo", artist="a", track="b"))[0] == 200
    assert (await _call(http, sandbox, "track.getInfo", artist="a"))[0] == 200
    sandbox.lastfm.controls.update_config({"error_status": "semantic"})
    assert (await _call(http, sandbox, "track.getInfo", artist="a", track="b"))[0] == 404
    status, body = await _call(http, sandbox, "track.getInfo", artist="a")
    assert (status, body["error"]) == (400, 6)
    status, body = await _call(http, sandbox, "track.noSuchMethod")
    assert (status, body["error"]) == (400, 3)


async def test_top_tags_counts_are_ints(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """getTopTags counts are JSON numbers; an unknown track is an empty list at 200."""
    status, body = await _call(http, sandbox, "track.getTopTags", artist="deadmau5", track="Strobe")
    assert status == 200
    assert body["toptags"]["tag"][0] == {
        "count": 100,
        "name": "progressive house",
        "url": "https://www.last.fm/tag/progressive+house",
    }
    assert all(isinstance(tag["count"], int) for tag in body["toptags"]["tag"])
    assert body["toptags"]["@attr"] == {"artist": "deadmau5", "track": "Strobe"}
    status, body = await _call(http, sandbox, "track.getTopTags", artist="Nobody", track="Nothing")
    assert (status, body["toptags"]["tag"]) == (200, [])


async def test_search_envelope(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """track.search: OpenSearch strings, artist a plain string, streamable "FIXME"."""
    status, body = await _call(http, sandbox, "track.search", track="strobe", limit="10")
    results = body["results"]
    assert status == 200
    assert (results["opensearch:totalResults"], results["opensearch:itemsPerPage"]) == ("1", "10")
    match = results["trackmatches"]["track"][0]
    assert (match["name"], match["artist"], match["streamable"]) == ("Strobe", "deadmau5", "FIXME")
    assert match["listeners"] == "812345"
    _, body = await _call(http, sandbox, "track.search", track="zzzz")
    assert (body["results"]["opensearch:totalResults"], body["results"]["trackmatches"]) == (
        "0",
        {"track": []},
    )


@pytest.mark.parametrize("fmt", ["JSON", "Json"])
async def test_format_is_case_insensitive(
    http: aiohttp.ClientSession, sandbox: Sandbox, fmt: str
) -> None:
    """format=JSON in any case gives JSON."""
    status, body = await _call(
        http, sandbox, "track.getInfo", artist="deadmau5", track="Strobe", format=fmt
    )
    assert (status, body["track"]["name"]) == (200, "Strobe")


async def test_xml_without_format(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Without format=json the body is Last.fm's XML (<lfm status=...>)."""
    settings = sandbox.settings()
    params = {"method": "track.getInfo", "api_key": "wrong", "artist": "a", "track": "b"}
    async with http.get(settings["ENRICHMENT_LASTFM_URL"], params=params) as response:
        text = await response.text()
    assert text.endswith(
        '<lfm status="failed"><error code="10">'
        "Invalid API key - You must be granted a valid key by last.fm</error></lfm>"
    )
