"""The MusicBrainz imitation: User-Agent rule, Lucene search, ISRC/recording/release lookups."""

from __future__ import annotations

import aiohttp
import pytest

from enrichment_sandbox import mb_query
from enrichment_sandbox.mb_query import Clause
from enrichment_sandbox.runner import Sandbox
from tests.unit.sandbox.support import HIDDEN, JSON, SAKU, STROBE, get_json

HELP = "For usage, please see: https://musicbrainz.org/development/mmd"


def _ws(sandbox: Sandbox) -> str:
    return sandbox.settings()["ENRICHMENT_MUSICBRAINZ_URL"]


async def _mb(
    http: aiohttp.ClientSession, sandbox: Sandbox, path: str, **params: str
) -> tuple[int, JSON]:
    status, body, _ = await get_json(
        http, f"{_ws(sandbox)}{path}", params={"fmt": "json", **params}
    )
    return status, body


async def test_missing_user_agent_is_403(sandbox: Sandbox) -> None:
    """No User-Agent gives 403 unless require_user_agent is switched off."""
    url = f"{_ws(sandbox)}/recording/{STROBE.mbid}?fmt=json"
    async with aiohttp.ClientSession(skip_auto_headers=["User-Agent"]) as bare:
        async with bare.get(url) as response:
            assert response.status == 403
            assert set(await response.json()) == {"error", "help"}
        sandbox.musicbrainz.controls.update_config({"require_user_agent": False})
        async with bare.get(url) as response:
            assert response.status == 200


async def test_search_envelope_track_singular_and_score(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Search has created/count/offset/recordings, score, artist-credit-id, media[].track."""
    status, body = await _mb(
        http, sandbox, "/recording", query='recording:"Strobe" AND artist:"deadmau5"'
    )
    assert status == 200
    assert set(body) == {"created", "count", "offset", "recordings"}
    assert body["count"] == 1
    hit = body["recordings"][0]
    assert (hit["id"], hit["score"], hit["isrcs"]) == (STROBE.mbid, 100, [STROBE.isrc])
    assert "artist-credit-id" in hit
    medium = hit["releases"][0]["media"][0]
    assert "track" in medium
    assert "tracks" not in medium
    assert medium["track"][0]["title"] == "Strobe"
    assert hit["tags"] == [
        {"count": 3, "name": "progressive house"},
        {"count": 1, "name": "electronic"},
    ]


async def test_search_joinphrase_and_and_semantics(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Credits keep " feat. "; AND requires every clause; a missing artist gives count 0."""
    status, body = await _mb(http, sandbox, "/recording", query='recording:saku AND artist:"Bicep"')
    assert status == 200
    credit = body["recordings"][0]["artist-credit"]
    assert [(c["name"], c.get("joinphrase", "")) for c in credit] == [
        ("Bicep", " feat. "),
        ("Clara La San", ""),
    ]
    status, body = await _mb(
        http, sandbox, "/recording", query='recording:"Strobe" AND artist:"Nobody Else"'
    )
    assert (status, body["count"], body["recordings"]) == (200, 0, [])


async def test_search_id_fields_and_near_miss(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """isrc:/arid:/rid: match exactly; an OR-ed title query still scores partial hits."""
    for query in (f"isrc:{SAKU.isrc}", f"arid:{SAKU.artist_mbids[1]}", f"rid:{SAKU.mbid}"):
        _, body = await _mb(http, sandbox, "/recording", query=query)
        assert [r["id"] for r in body["recordings"]] == [SAKU.mbid], query
    _, body = await _mb(
        http, sandbox, "/recording", query='recording:"Strobe" artist:"Nobody Else"'
    )
    assert [r["id"] for r in body["recordings"]] == [STROBE.mbid]
    assert 0 < body["recordings"][0]["score"] < 100
    assert HIDDEN.mbid not in {r["id"] for r in body["recordings"]}  # not on MusicBrainz


@pytest.mark.parametrize(
    "query", ['recording:"Strobe', "recording:Strobe AND", "NOT artist:x", "artist:"]
)
async def test_search_bad_syntax_is_400(
    http: aiohttp.ClientSession, sandbox: Sandbox, query: str
) -> None:
    """Queries outside the supported Lucene subset are 400 with the error shape."""
    status, body = await _mb(http, sandbox, "/recording", query=query)
    assert status == 400
    assert body["help"] == HELP


def test_lucene_escapes_and_groups() -> None:
    """Backslash escapes and field:(terms) parse; AND binds adjacent clauses."""
    parsed = mb_query.parse(r'recording:"AC\/DC \"live\"" AND artist:(Four Tet) strobe')
    assert parsed == [
        [Clause("recording", 'AC/DC "live"'), Clause("artist", "Four Tet")],
        [Clause(None, "strobe")],
    ]


async def test_isrc_lookup(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Bad ISRC 400 "Invalid isrc."; unknown 404 Not Found; known gives bare recordings."""
    assert await _mb(http, sandbox, "/isrc/NOTANISRC") == (
        400,
        {"error": "Invalid isrc.", "help": HELP},
    )
    assert await _mb(http, sandbox, "/isrc/GBAAA9999999") == (
        404,
        {"error": "Not Found", "help": HELP},
    )
    status, body = await _mb(http, sandbox, f"/isrc/{STROBE.isrc}")
    assert status == 200
    assert body["isrc"] == STROBE.isrc
    assert set(body["recordings"][0]) == {
        "id",
        "title",
        "length",
        "disambiguation",
        "video",
        "first-release-date",
    }
    _, body = await _mb(http, sandbox, f"/isrc/{STROBE.isrc}", inc="artist-credits releases isrcs")
    recording = body["recordings"][0]
    assert recording["artist-credit"][0]["joinphrase"] == ""
    assert recording["isrcs"] == [STROBE.isrc]
    assert recording["releases"][0]["id"] == STROBE.release_mbid


async def test_recording_lookup_inc_validation(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """inc=labels is refused with MusicBrainz's exact text; bad and unknown MBIDs 400/404."""
    status, body = await _mb(http, sandbox, f"/recording/{STROBE.mbid}", inc="isrcs labels")
    assert (status, body["error"]) == (
        400,
        "labels is not a valid inc parameter for the recording resource.",
    )
    assert await _mb(http, sandbox, "/recording/not-a-uuid") == (
        400,
        {"error": "Invalid mbid.", "help": HELP},
    )
    status, _ = await _mb(http, sandbox, "/recording/00000000-0000-4000-8000-000000000000")
    assert status == 404


async def test_recording_lookup_incs_joined_by_plus(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A literal + joins incs; each inc adds its key and lookups never carry a score."""
    url = f"{_ws(sandbox)}/recording/{STROBE.mbid}?fmt=json&inc=isrcs%2Btags%2Bgenres%2Breleases"
    status, body, _ = await get_json(http, url)
    assert status == 200
    assert body["isrcs"] == [STROBE.isrc]
    assert body["genres"][0]["name"] == "progressive house"
    assert body["releases"][0]["title"] == STROBE.album
    assert "score" not in body
    assert "artist-credit" not in body


async def test_release_lookup_label_info(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """A release lookup with inc=labels+release-groups carries label-info and release-group."""
    status, body = await _mb(
        http, sandbox, f"/release/{STROBE.release_mbid}", inc="labels release-groups"
    )
    assert status == 200
    info = body["label-info"][0]
    assert info["catalog-number"] == "MAU5-001"
    assert (info["label"]["name"], info["label"]["sort-name"]) == ("mau5trap", "mau5trap")
    assert {"id", "disambiguation", "label-code", "type", "type-id"} <= set(info["label"])
    assert body["release-group"]["id"] == STROBE.release_group_mbid


async def test_xml_unless_json_requested(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """Without fmt=json the answer is XML; Accept: application/json also gives JSON."""
    url = f"{_ws(sandbox)}/recording/{STROBE.mbid}"
    async with http.get(url) as response:
        assert response.content_type == "application/xml"
        assert (await response.text()).startswith("<?xml")
    async with http.get(url, headers={"Accept": "application/json"}) as response:
        assert (await response.json())["id"] == STROBE.mbid


async def test_real_rate_limiter(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """With rate_limit_per_s=1 a burst's second request gets the 503 with rate headers."""
    sandbox.musicbrainz.controls.update_config({"rate_limit_per_s": 1})
    first, _ = await _mb(http, sandbox, f"/recording/{STROBE.mbid}")
    status, body, headers = await get_json(http, f"{_ws(sandbox)}/recording/{STROBE.mbid}?fmt=json")
    assert (first, status) == (200, 503)
    assert body["error"].startswith("Your requests are exceeding the allowable rate limit.")
    assert {
        "Retry-After",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
    } <= set(headers)
