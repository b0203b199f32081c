"""The GetSongBPM imitation: string tempo, Unicode keys, title-only search, miss objects."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from enrichment_sandbox import derived
from enrichment_sandbox.catalogue import Catalogue, load_catalogue
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.getsongbpm_render import key_of, open_key, song_object
from enrichment_sandbox.runner import Sandbox
from enrichment_server.enrichment.musical_key import MusicalKey
from tests.unit.sandbox.support import CAFE, CATALOGUE, HIDDEN, JSON, SAKU, STROBE, get_json

COVER = dataclasses.replace(
    SAKU,
    title="Strobe",
    artist="Piano Tribute Band",
    artists=("Piano Tribute Band",),
    mbid="6f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
    pitch_class=6,
    mode=0,
    tempo=91.6,
)
MISS = {"search": {"error": "no result"}}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """The test catalogue plus a same-title "Strobe" by another artist (in F♯ minor)."""
    async with Sandbox(Catalogue((*CATALOGUE.tracks, COVER))) as running:
        yield running


async def _call(
    http: aiohttp.ClientSession,
    sandbox: Sandbox,
    path: str,
    *,
    key: str | None = None,
    **params: str,
) -> tuple[int, JSON]:
    settings = sandbox.settings()
    query = {"api_key": settings["ENRICHMENT_GETSONGBPM_API_KEY"] if key is None else key}
    url = settings["ENRICHMENT_GETSONGBPM_URL"] + path
    status, body, _ = await get_json(http, url, params={**query, **params})
    return status, body


async def _search(http: aiohttp.ClientSession, sandbox: Sandbox, lookup: str) -> JSON:
    status, body = await _call(http, sandbox, "search/", type="both", lookup=lookup)
    assert status == 200
    return body


async def test_song_wire_types(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Search hits carry a string tempo, "4/4", key_of/open_key and 0..100 danceability."""
    body = await _search(http, sandbox, "song:Strobe artist:deadmau5")
    song = next(s for s in body["search"] if s["artist"]["name"] == "deadmau5")
    assert (song["id"], song["title"], song["tempo"], song["time_sig"]) == (
        derived.gsb_song_id(STROBE),
        "Strobe",
        "128",
        "4/4",
    )
    assert (song["key_of"], song["open_key"]) == ("Am", "1m")  # STROBE: A minor
    assert set(song["artist"]) >= {"id", "name", "uri", "genres", "from", "mbid"}
    assert song["artist"]["mbid"] == STROBE.artist_mbids[0]
    assert song["album"] == {
        "title": STROBE.album,
        "uri": song["album"]["uri"],
        "year": "2009",
    }
    assert len(song["id"]) == 6


async def test_search_matches_title_only(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """type=both ignores the artist: same-title songs by others come back, exact titles first."""
    body = await _search(http, sandbox, "song:Strobe artist:deadmau5")
    found = [(s["title"], s["artist"]["name"]) for s in body["search"]]
    assert found == [
        ("Strobe", "deadmau5"),
        ("Strobe", "Piano Tribute Band"),
        (HIDDEN.title, "Nobody Known"),
    ]


async def test_unicode_keys(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """key_of spells sharps and flats with ♯ and ♭; open_key is the Open Key code."""
    body = await _search(http, sandbox, "song:Strobe artist:Piano Tribute Band")
    cover = next(s for s in body["search"] if s["artist"]["name"] == "Piano Tribute Band")
    assert (cover["key_of"], cover["open_key"], cover["tempo"]) == ("F♯m", "4m", "92")
    assert [key_of(3, True), key_of(9, True), key_of(1, False), key_of(10, True)] == [
        "E♭",
        "A",
        "C♯m",
        "B♭",
    ]


def test_open_key_agrees_with_the_service_keys_module() -> None:
    """The sandbox's own Open Key table matches the service's musical_key module, all 24 keys."""
    for pitch_class in range(12):
        for major in (True, False):
            assert open_key(pitch_class, major) == MusicalKey(pitch_class, major).open_key


def test_no_key_without_a_pitch_class() -> None:
    """Pitch class -1 (no key detected) leaves key_of and open_key out entirely."""
    song = song_object(CAFE)
    assert "key_of" not in song
    assert "open_key" not in song
    assert song["tempo"] == "133"


def test_danceability_is_a_percentage_sometimes_missing() -> None:
    """danceability is an int 0..100, missing for some songs of the bundled catalogue."""
    songs = [song_object(t) for t in load_catalogue().tracks]
    values = [s["danceability"] for s in songs if "danceability" in s]
    assert all(isinstance(v, int) and 0 <= v <= 100 for v in values)
    assert 0 < len(songs) - len(values) < len(songs) / 4


async def test_type_song_takes_the_title_alone(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """type=song looks up a bare title."""
    status, body = await _call(http, sandbox, "search/", type="song", lookup="saku")
    assert status == 200
    assert [s["title"] for s in body["search"]] == ["Saku"]


async def test_miss_is_an_object(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """No hit is {"search": {"error": "no result"}} at HTTP 200, not an empty list."""
    assert await _search(http, sandbox, "song:Nothing Like It artist:deadmau5") == MISS


@pytest.mark.parametrize(
    "params",
    [
        {"type": "multi", "lookup": "song:Strobe artist:deadmau5"},
        {"type": "both", "lookup": "Strobe deadmau5"},
        {"type": "both", "lookup": "song:Strobe"},
        {"type": "song"},
    ],
)
async def test_malformed_request_is_400(
    http: aiohttp.ClientSession, sandbox: Sandbox, params: dict[str, str]
) -> None:
    """A bad type or a lookup not in the strict format is 400 {"error": "..."}."""
    status, body = await _call(http, sandbox, "search/", **params)
    assert status == 400
    assert set(body) == {"error"}
    assert isinstance(body["error"], str)


@pytest.mark.parametrize("key", ["", "wrong-key"])
async def test_bad_api_key_is_401(http: aiohttp.ClientSession, sandbox: Sandbox, key: str) -> None:
    """A missing or wrong api_key is 401 {"error": "..."} (and the call is counted)."""
    status, body = await _call(http, sandbox, "song/", key=key, id=derived.gsb_song_id(STROBE))
    assert status == 401
    assert set(body) == {"error"}
    assert sandbox.getsongbpm.controls.calls["song"] == 1


async def test_song_by_id(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """/song/?id= gives {"song": {...}}; an unknown id gives the no-result object."""
    status, body = await _call(http, sandbox, "song/", id=derived.gsb_song_id(SAKU))
    assert (status, body["song"]["title"], body["song"]["key_of"]) == (200, "Saku", "D")
    assert await _call(http, sandbox, "song/", id="zzzzzz") == (
        200,
        {"song": {"error": "no result"}},
    )


async def test_counters(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """search and song are counted separately; admin requests are not counted."""
    await _search(http, sandbox, "song:Strobe artist:deadmau5")
    await _call(http, sandbox, "song/", id=derived.gsb_song_id(STROBE))
    await _call(http, sandbox, "song/", id="nope")
    await get_json(http, f"{sandbox.getsongbpm.admin_url}/calls")
    assert dict(sandbox.getsongbpm.controls.calls) == {"search": 1, "song": 2}


async def test_throttling_faults(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """rate_limit is 429 + Retry-After 1; quota is 429 with the hourly Retry-After."""
    url = sandbox.settings()["ENRICHMENT_GETSONGBPM_URL"] + "song/"
    params = {"api_key": sandbox.getsongbpm_api_key, "id": derived.gsb_song_id(STROBE)}
    sandbox.getsongbpm.controls.faults.add(FaultRule(kind="rate_limit", times=1))
    status, body, headers = await get_json(http, url, params=params)
    assert (status, body, headers["Retry-After"]) == (429, {"error": "Too many requests"}, "1")
    sandbox.getsongbpm.controls.faults.add(FaultRule(kind="quota", times=1))
    status, body, headers = await get_json(http, url, params=params)
    assert (status, headers["Retry-After"]) == (429, "3600")
    assert "limit" in body["error"]


async def test_status_and_error_in_200(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """A status fault carries {"error": reason}; error_in_200 is a bare error in a 200."""
    sandbox.getsongbpm.controls.faults.add(FaultRule(kind="status", status=503, times=1))
    assert await _call(http, sandbox, "song/", id="x") == (503, {"error": "Service Unavailable"})
    sandbox.getsongbpm.controls.faults.add(FaultRule(kind="error_in_200", times=1))
    status, body = await _call(http, sandbox, "song/", id="x")
    assert status == 200
    assert set(body) == {"error"}


async def test_malformed_and_hang(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """malformed is an unparseable 200; hang never answers (a client timeout cuts it)."""
    url = f"{sandbox.getsongbpm.base_url}/song/"
    params = {"api_key": sandbox.getsongbpm_api_key, "id": derived.gsb_song_id(STROBE)}
    sandbox.getsongbpm.controls.faults.add(FaultRule(kind="malformed", times=1))
    async with http.get(url, params=params) as response:
        assert response.status == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(await response.text())
    sandbox.getsongbpm.controls.faults.add(FaultRule(kind="hang", times=1))
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(
            url, params=params, timeout=aiohttp.ClientTimeout(total=0.2)
        ) as response:
            await response.read()
