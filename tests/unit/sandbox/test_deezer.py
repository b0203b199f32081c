"""The Deezer imitation: int ids, seconds, bpm 0, errors inside HTTP 200, advanced search."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from enrichment_sandbox import derived
from enrichment_sandbox.catalogue import Catalogue, load_catalogue
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.deezer import parse_query
from enrichment_sandbox.runner import Sandbox
from tests.unit.sandbox.support import (
    CATALOGUE,
    HIDDEN,
    JSON,
    SAKU,
    STROBE,
    get_json,
    without_deezer_tempo,
)

NO_BPM = without_deezer_tempo("Mystery Groove (Dub Mix)")
NO_DATA = {"error": {"type": "DataException", "message": "no data", "code": 800}}
QUOTA = {"error": {"type": "Exception", "message": "Quota limit exceeded", "code": 4}}
WRONG = {"error": {"type": "ParameterException", "message": "Wrong parameter", "code": 500}}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """The test catalogue plus one track Deezer has no BPM for."""
    async with Sandbox(Catalogue((*CATALOGUE.tracks, NO_BPM))) as running:
        yield running


async def _get(
    http: aiohttp.ClientSession, sandbox: Sandbox, path: str, **params: str
) -> tuple[int, JSON]:
    status, body, _ = await get_json(
        http, sandbox.settings()["ENRICHMENT_DEEZER_URL"] + path, params=params
    )
    return status, body


async def test_full_track_wire_types(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """/track/{id}: int id, duration in whole seconds, float bpm and gain, ISRC, album ref."""
    track_id = derived.deezer_track_id(STROBE)
    status, body = await _get(http, sandbox, f"/track/{track_id}")
    assert status == 200
    assert (body["id"], body["title"], body["isrc"], body["duration"]) == (
        track_id,
        "Strobe",
        STROBE.isrc,
        635,
    )
    assert isinstance(body["id"], int)
    assert isinstance(body["duration"], int)
    assert isinstance(body["bpm"], float)
    assert body["bpm"] == 128.0
    assert isinstance(body["gain"], float)
    assert body["release_date"] == "2009-09-22"
    assert body["album"]["id"] == derived.deezer_album_id(STROBE)
    assert body["album"]["title"] == STROBE.album
    assert body["artist"]["name"] == "deadmau5"
    assert body["contributors"][0]["role"] == "Main"
    assert body["type"] == "track"


async def test_bpm_zero_when_unknown(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """A track without a Deezer tempo reports bpm 0 (a float), not a missing field."""
    _, body = await _get(http, sandbox, f"/track/{derived.deezer_track_id(NO_BPM)}")
    assert body["bpm"] == 0
    assert isinstance(body["bpm"], float)


def test_about_a_quarter_of_the_catalogue_has_bpm_zero() -> None:
    """bpm 0 is deterministic and hits roughly 25 % of the bundled catalogue."""
    tracks = load_catalogue().tracks
    zero = [t for t in tracks if derived.deezer_bpm(t) == 0]
    assert 0.15 < len(zero) / len(tracks) < 0.35
    assert zero == [t for t in tracks if derived.deezer_bpm(t) == 0]


async def test_featured_artist_and_version_in_titles(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Featured artists join the title and contributors; the version moves to title_version."""
    _, body = await _get(http, sandbox, f"/track/isrc:{SAKU.isrc}")
    assert (body["title"], body["title_short"], body["title_version"]) == (
        "Saku (feat. Clara La San)",
        "Saku",
        "",
    )
    assert [(c["name"], c["role"]) for c in body["contributors"]] == [
        ("Bicep", "Main"),
        ("Clara La San", "Featured"),
    ]
    _, body = await _get(http, sandbox, f"/track/{derived.deezer_track_id(NO_BPM)}")
    assert (body["title_short"], body["title_version"]) == ("Mystery Groove", "(Dub Mix)")


async def test_isrc_lookup_ignores_case(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """/track/isrc:{ISRC} finds the full track whatever the ISRC's case."""
    status, body = await _get(http, sandbox, f"/track/isrc:{STROBE.isrc.lower()}")
    assert status == 200
    assert (body["id"], body["isrc"]) == (derived.deezer_track_id(STROBE), STROBE.isrc)


@pytest.mark.parametrize("path", ["/track/1", "/track/isrc:USXXX0000001", "/album/7", "/track/x"])
async def test_unknown_ids_are_800_inside_200(
    http: aiohttp.ClientSession, sandbox: Sandbox, path: str
) -> None:
    """Unknown ids and ISRCs answer HTTP 200 with error 800 "no data"."""
    assert await _get(http, sandbox, path) == (200, NO_DATA)


async def test_search_advanced_syntax_items_lack_details(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """artist:"" track:"" finds the track; items lack isrc, bpm, release_date, contributors."""
    status, body = await _get(http, sandbox, "/search", q='artist:"deadmau5" track:"strobe"')
    assert status == 200
    assert body["total"] == 1
    assert "next" not in body
    item = body["data"][0]
    assert item["id"] == derived.deezer_track_id(STROBE)
    assert isinstance(item["duration"], int)
    assert not {"isrc", "bpm", "gain", "release_date", "contributors"} & set(item)


async def test_search_plain_text_is_fuzzy(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Plain text matches titles, artists and albums: "strobe" finds both Strobe titles."""
    _, body = await _get(http, sandbox, "/search/track", q="strobe")
    titles = [item["title"] for item in body["data"]]
    assert titles == ["Strobe", HIDDEN.title]
    _, strict = await _get(http, sandbox, "/search", q="strobe lights", strict="on")
    assert strict == {"data": [], "total": 0}


async def test_search_without_hits(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """No hits is exactly {"data": [], "total": 0}."""
    body = await _get(http, sandbox, "/search", q='artist:"nobody" track:"nothing at all"')
    assert body == (200, {"data": [], "total": 0})


async def test_search_paging(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """index/limit page the hits; next only while more follow, prev after the first page."""
    _, first = await _get(http, sandbox, "/search", q="strobe", limit="1")
    assert (first["total"], len(first["data"])) == (2, 1)
    assert "prev" not in first
    assert first["next"].endswith("/search?q=strobe&index=1&limit=1")
    _, last = await _get(http, sandbox, "/search", q="strobe", limit="1", index="1")
    assert [item["title"] for item in last["data"]] == [HIDDEN.title]
    assert "next" not in last
    assert "index=0" in last["prev"]


@pytest.mark.parametrize(
    "params",
    [{}, {"q": "  "}, {"q": "strobe", "index": "x"}, {"q": "strobe", "limit": "0"}],
)
async def test_bad_query_is_wrong_parameter(
    http: aiohttp.ClientSession, sandbox: Sandbox, params: dict[str, str]
) -> None:
    """A missing query or a bad index/limit is error 500 "Wrong parameter" inside a 200."""
    assert await _get(http, sandbox, "/search", **params) == (200, WRONG)


def test_parse_query_filters_and_free_text() -> None:
    """Quoted and bare filters are split from the free text; a bad number is refused."""
    query = parse_query('artist:"Four Tet" track:Baby remix dur_min:100')
    assert query is not None
    assert query.filters == {"artist": "Four Tet", "track": "Baby", "dur_min": "100"}
    assert query.free_text == "remix"
    assert parse_query("bpm_min:fast") is None


async def test_album_label_genres_upc(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """/album/{id}: label, UPC, genres {data: [...]} from the first two tags, release date."""
    album_id = derived.deezer_album_id(STROBE)
    status, body = await _get(http, sandbox, f"/album/{album_id}")
    assert status == 200
    assert (body["id"], body["label"], body["upc"], body["release_date"]) == (
        album_id,
        "mau5trap",
        derived.barcode(STROBE),
        "2009-09-22",
    )
    assert [(g["id"], g["name"]) for g in body["genres"]["data"]] == [
        (111, "House"),
        (106, "Electro"),
    ]
    assert body["tracks"]["data"][0]["id"] == derived.deezer_track_id(STROBE)
    _, by_upc = await _get(http, sandbox, f"/album/upc:{derived.barcode(STROBE)}")
    assert by_upc["id"] == album_id


async def test_calls_counted_per_endpoint(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Counters: track, isrc, search (both paths) and album; admin calls are not counted."""
    await _get(http, sandbox, f"/track/{derived.deezer_track_id(STROBE)}")
    await _get(http, sandbox, f"/track/isrc:{STROBE.isrc}")
    await _get(http, sandbox, "/search", q="strobe")
    await _get(http, sandbox, "/search/track", q="strobe")
    await _get(http, sandbox, f"/album/{derived.deezer_album_id(STROBE)}")
    await get_json(http, f"{sandbox.deezer.admin_url}/calls")
    assert dict(sandbox.deezer.controls.calls) == {"track": 1, "isrc": 1, "search": 2, "album": 1}


@pytest.mark.parametrize("kind", ["rate_limit", "quota"])
async def test_throttling_is_code_4_inside_200(
    http: aiohttp.ClientSession, sandbox: Sandbox, kind: str
) -> None:
    """rate_limit and quota faults are error 4 at HTTP 200 with no Retry-After."""
    sandbox.deezer.controls.faults.add(FaultRule(kind=kind))  # type: ignore[arg-type]
    url = f"{sandbox.deezer.base_url}/track/{derived.deezer_track_id(STROBE)}"
    status, body, headers = await get_json(http, url)
    assert (status, body) == (200, QUOTA)
    assert "Retry-After" not in headers


async def test_error_in_200_is_service_busy(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """The error_in_200 fault is error 700 inside a 200."""
    sandbox.deezer.controls.faults.add(FaultRule(kind="error_in_200"))
    status, body = await _get(http, sandbox, "/search", q="strobe")
    assert status == 200
    assert body["error"]["code"] == 700


async def test_status_fault_is_a_proxy_page(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """A status fault answers that status with an HTML page, not Deezer JSON."""
    sandbox.deezer.controls.faults.add(FaultRule(kind="status", status=502))
    async with http.get(f"{sandbox.deezer.base_url}/search", params={"q": "x"}) as response:
        assert response.status == 502
        assert response.content_type == "text/html"
        assert "Bad Gateway" in await response.text()


async def test_malformed_and_hang(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """malformed is an unparseable 200; hang never answers (a client timeout cuts it)."""
    url = f"{sandbox.deezer.base_url}/track/{derived.deezer_track_id(STROBE)}"
    sandbox.deezer.controls.faults.add(FaultRule(kind="malformed", times=1))
    async with http.get(url) as response:
        assert response.status == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(await response.text())
    sandbox.deezer.controls.faults.add(FaultRule(kind="hang", times=1))
    with pytest.raises(asyncio.TimeoutError):
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=0.2)) as response:
            await response.read()


async def test_quota_knob_throttles_bursts(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """With quota_per_5s=2 the third request within 5 s gets error 4."""
    sandbox.deezer.controls.update_config({"quota_per_5s": 2})
    answers = [(await _get(http, sandbox, "/search", q="strobe"))[1] for _ in range(3)]
    assert [a.get("error") is None for a in answers] == [True, True, False]
    assert answers[2] == QUOTA


async def test_settings_point_at_all_five_upstreams(sandbox: Sandbox) -> None:
    """settings() has 10 entries; Deezer is a bare origin, GetSongBPM ends in "/" with a key."""
    settings = sandbox.settings()
    assert len(settings) == 10
    assert settings["ENRICHMENT_DEEZER_URL"] == sandbox.deezer.base_url
    assert settings["ENRICHMENT_GETSONGBPM_URL"] == f"{sandbox.getsongbpm.base_url}/"
    assert settings["ENRICHMENT_GETSONGBPM_API_KEY"] == sandbox.getsongbpm_api_key
    assert len(sandbox.getsongbpm_api_key) == 32
    assert list(sandbox.upstreams())[-2:] == ["deezer", "getsongbpm"]
