"""The Spotify imitation: token flow, bearer checks, search, tracks and audio features."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from enrichment_sandbox import derived
from enrichment_sandbox.catalogue import load_catalogue
from enrichment_sandbox.runner import Sandbox
from enrichment_sandbox.spotify import SpotifyImitation
from enrichment_sandbox.spotify_render import track_object
from enrichment_sandbox.spotify_search import parse_query
from tests.unit.sandbox.support import CATALOGUE, JSON, SAKU, STROBE, get_json, spotify_token


def _api(sandbox: Sandbox) -> str:
    return sandbox.settings()["ENRICHMENT_SPOTIFY_API_URL"]


async def _bearer(http: aiohttp.ClientSession, sandbox: Sandbox) -> dict[str, str]:
    return {"Authorization": f"Bearer {await spotify_token(http, sandbox)}"}


async def _post_token(
    http: aiohttp.ClientSession, sandbox: Sandbox, data: dict[str, str], auth: str | None
) -> tuple[int, JSON]:
    url = sandbox.settings()["ENRICHMENT_SPOTIFY_TOKEN_URL"]
    headers = {"Authorization": auth} if auth else {}
    async with http.post(url, data=data, headers=headers) as response:
        return response.status, await response.json()


async def test_token_basic_auth_issues_bearer(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """Client credentials over Basic auth give exactly access_token/token_type/expires_in."""
    auth = aiohttp.encode_basic_auth(sandbox.client_id, sandbox.client_secret)
    status, body = await _post_token(http, sandbox, {"grant_type": "client_credentials"}, auth)
    assert status == 200
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600


async def test_token_form_credentials_accepted(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """client_id/client_secret form fields work instead of Basic auth."""
    form = {
        "grant_type": "client_credentials",
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
    }
    status, body = await _post_token(http, sandbox, form, None)
    assert status == 200
    assert body["access_token"]


async def test_token_bad_secret_is_400_invalid_client(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A wrong secret is HTTP 400 invalid_client (not 401), as live Spotify answers."""
    auth = aiohttp.encode_basic_auth(sandbox.client_id, "wrong")
    status, body = await _post_token(http, sandbox, {"grant_type": "client_credentials"}, auth)
    assert (status, body) == (
        400,
        {"error": "invalid_client", "error_description": "Invalid client secret"},
    )


async def test_token_missing_grant_is_unsupported_grant_type(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """No grant_type gives 400 unsupported_grant_type."""
    auth = aiohttp.encode_basic_auth(sandbox.client_id, sandbox.client_secret)
    status, body = await _post_token(http, sandbox, {}, auth)
    assert status == 400
    assert body == {
        "error": "unsupported_grant_type",
        "error_description": "grant_type parameter is missing",
    }


async def test_missing_or_garbage_token_is_401(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """No token and an unknown token both give 401 "Invalid access token"."""
    url = f"{_api(sandbox)}/tracks/{STROBE.spotify_id}"
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        status, body, _ = await get_json(http, url, headers=headers)
        assert (status, body) == (
            401,
            {"error": {"status": 401, "message": "Invalid access token"}},
        )


async def test_expire_tokens_knob(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """PUT config expire_tokens=true makes issued tokens 401 "expired"; a new token works."""
    headers = await _bearer(http, sandbox)
    url = f"{_api(sandbox)}/tracks/{STROBE.spotify_id}"
    async with http.put(
        f"{sandbox.spotify.admin_url}/config", json={"expire_tokens": True}
    ) as response:
        assert response.status == 200
        assert (await response.json())["config"]["expire_tokens"] is False
    status, body, _ = await get_json(http, url, headers=headers)
    assert (status, body["error"]["message"]) == (401, "The access token expired")
    status, _, _ = await get_json(http, url, headers=await _bearer(http, sandbox))
    assert status == 200


async def test_token_ttl_expires_by_clock(http: aiohttp.ClientSession) -> None:
    """A token stops working once the injected clock passes its token_ttl."""
    now = [1000.0]
    imitation = SpotifyImitation(
        CATALOGUE, client_id="id", client_secret="secret", clock=lambda: now[0]
    )
    token = imitation.issue_token()
    async with TestServer(imitation.app, host="127.0.0.1") as server:
        url = str(server.make_url(f"/v1/tracks/{STROBE.spotify_id}"))
        headers = {"Authorization": f"Bearer {token}"}
        assert (await get_json(http, url, headers=headers))[0] == 200
        now[0] += 3600
        status, body, response_headers = await get_json(http, url, headers=headers)
    assert (status, body["error"]["message"]) == (401, "The access token expired")
    assert "invalid_token" in response_headers["WWW-Authenticate"]


def test_parse_query_filters_and_free_text() -> None:
    """Quoted and unquoted filters split correctly; leftovers become free text."""
    parsed = parse_query('track:Strobe artist:"Four Tet" remix isrc:GBTDG0900141')
    assert parsed.filters == {"track": "Strobe", "artist": "Four Tet", "isrc": "GBTDG0900141"}
    assert parsed.free_text == "remix"
    unquoted = parse_query("artist:Eric Prydz track:Opus (Four Tet Remix)")
    assert unquoted.filters == {"artist": "Eric Prydz", "track": "Opus (Four Tet Remix)"}
    assert unquoted.free_text == ""


async def _search(http: aiohttp.ClientSession, sandbox: Sandbox, **params: str) -> tuple[int, JSON]:
    status, body, _ = await get_json(
        http,
        f"{_api(sandbox)}/search",
        params={"type": "track", **params},
        headers=await _bearer(http, sandbox),
    )
    return status, body


async def test_search_returns_near_misses_for_absent_track(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A query for a track not in the catalogue still returns same-title tracks by others."""
    status, body = await _search(http, sandbox, q="track:Strobe artist:Somebody Else")
    assert status == 200
    names = [(item["name"], item["artists"][0]["name"]) for item in body["tracks"]["items"]]
    assert ("Strobe", "deadmau5") in names
    assert all(artist != "Somebody Else" for _, artist in names)


async def test_search_ranks_best_match_first(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """The exact title/artist match outranks a partial one."""
    status, body = await _search(http, sandbox, q="track:Strobe artist:deadmau5")
    assert status == 200
    items = body["tracks"]["items"]
    assert items[0]["id"] == STROBE.spotify_id
    assert items[0]["external_ids"] == {"isrc": STROBE.isrc}
    assert len(items) == 2  # "Strobe Light" by someone else is a near miss, ranked second


async def test_search_isrc_is_exact(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """isrc: only returns tracks with that ISRC."""
    status, body = await _search(http, sandbox, q=f"isrc:{SAKU.isrc}")
    assert status == 200
    assert [item["id"] for item in body["tracks"]["items"]] == [SAKU.spotify_id]
    assert [a["name"] for a in body["tracks"]["items"][0]["artists"]] == ["Bicep", "Clara La San"]


async def test_search_limit_above_10_is_400(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """limit=11 is 400 "Invalid limit" in the dev-mode profile, allowed when extended."""
    status, body = await _search(http, sandbox, q="strobe", limit="11")
    assert (status, body) == (400, {"error": {"status": 400, "message": "Invalid limit"}})
    sandbox.spotify.controls.update_config({"profile": "extended"})
    status, body = await _search(http, sandbox, q="strobe", limit="11")
    assert status == 200
    assert "popularity" in body["tracks"]["items"][0]


async def test_search_paging_envelope(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """The paging object has href/items/limit/next/offset/previous/total with working links."""
    status, body = await _search(http, sandbox, q="strobe", limit="1")
    page = body["tracks"]
    assert status == 200
    assert set(page) == {"href", "items", "limit", "next", "offset", "previous", "total"}
    assert (page["limit"], page["offset"], page["total"], page["previous"]) == (1, 0, 2, None)
    async with http.get(page["next"], headers=await _bearer(http, sandbox)) as response:
        second = (await response.json())["tracks"]
    assert (second["offset"], second["next"]) == (1, None)
    assert second["previous"] is not None


async def test_search_requires_track_type(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """type must be present and include track."""
    status, body, _ = await get_json(
        http,
        f"{_api(sandbox)}/search",
        params={"q": "strobe"},
        headers=await _bearer(http, sandbox),
    )
    assert (status, body["error"]["status"]) == (400, 400)
    status, _ = await _search(http, sandbox, q="strobe", type="album")
    assert status == 400


@pytest.mark.parametrize(
    ("track_id", "status", "message"),
    [("short", 400, "invalid id"), ("0000000000000000000000", 404, "non existing id")],
)
async def test_track_errors(
    http: aiohttp.ClientSession, sandbox: Sandbox, track_id: str, status: int, message: str
) -> None:
    """A malformed id is 400 "invalid id"; an unknown well-formed one 404 "non existing id"."""
    got, body, _ = await get_json(
        http, f"{_api(sandbox)}/tracks/{track_id}", headers=await _bearer(http, sandbox)
    )
    assert (got, body) == (status, {"error": {"status": status, "message": message}})


async def test_track_dev_mode_shape(http: aiohttp.ClientSession, sandbox: Sandbox) -> None:
    """GET /tracks/{id} is a full TrackObject without popularity/available_markets."""
    status, body, _ = await get_json(
        http, f"{_api(sandbox)}/tracks/{STROBE.spotify_id}", headers=await _bearer(http, sandbox)
    )
    assert status == 200
    assert body["uri"] == f"spotify:track:{STROBE.spotify_id}"
    assert (body["duration_ms"], body["external_ids"]["isrc"], body["type"]) == (
        635320,
        STROBE.isrc,
        "track",
    )
    assert isinstance(body["track_number"], int)
    assert "popularity" not in body
    assert "available_markets" not in body
    album = body["album"]
    assert [image["width"] for image in album["images"]] == [640, 300, 64]
    assert (album["id"], album["release_date_precision"]) == (STROBE.spotify_album_id, "day")
    assert body["artists"][0]["id"] == STROBE.spotify_artist_ids[0]


def test_a_credited_remixer_has_the_catalogues_artist_id() -> None:
    """A remixer Spotify lists in ``artists[]`` carries the id the catalogue gives that artist
    on their own records: the imitation and the catalogue derive ids one way."""
    tracks = load_catalogue().tracks
    catalogue_ids = {
        name: artist_id
        for t in tracks
        for name, artist_id in zip(t.artists, t.spotify_artist_ids, strict=True)
    }
    layout = derived.ReleaseLayout(tracks)
    checked = []
    for t in tracks:
        credited = track_object("http://api", t, layout.of(t))["artists"]
        assert isinstance(credited, list)
        remixers = [a for a in credited if a["name"] == t.remixer]
        if remixers and t.remixer in catalogue_ids:
            assert remixers[0]["id"] == catalogue_ids[t.remixer], t.title
            checked.append(t.remixer)
    assert len(checked) >= 2


async def test_track_missing_from_spotify_is_404(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A catalogue record with on_spotify=False is unknown to the imitation."""
    status, _, _ = await get_json(
        http, f"{_api(sandbox)}/tracks/3Cz0aFmQw5Xb2Rt7Yu1Io9", headers=await _bearer(http, sandbox)
    )
    assert status == 404


async def test_audio_features_forbidden_by_default(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """New apps get 403 with the body exactly {"error":{"status":403}} (no message)."""
    url = f"{_api(sandbox)}/audio-features/{STROBE.spotify_id}"
    async with http.get(url, headers=await _bearer(http, sandbox)) as response:
        assert response.status == 403
        assert await response.text() == '{"error":{"status":403}}'


async def test_audio_features_ok_and_not_found_modes(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """ok serves the record's features; records without analysis and not_found mode give 404."""
    headers = await _bearer(http, sandbox)
    sandbox.spotify.controls.update_config({"audio_features": "ok"})
    status, body, _ = await get_json(
        http, f"{_api(sandbox)}/audio-features/{STROBE.spotify_id}", headers=headers
    )
    assert status == 200
    assert (body["tempo"], body["key"], body["mode"], body["type"]) == (
        128.0,
        9,
        0,
        "audio_features",
    )
    status, _, _ = await get_json(
        http, f"{_api(sandbox)}/audio-features/{SAKU.spotify_id}", headers=headers
    )
    assert status == 404
    sandbox.spotify.controls.update_config({"audio_features": "not_found"})
    status, _, _ = await get_json(
        http, f"{_api(sandbox)}/audio-features/{STROBE.spotify_id}", headers=headers
    )
    assert status == 404


async def test_unknown_api_path_is_spotify_404(
    http: aiohttp.ClientSession, sandbox: Sandbox
) -> None:
    """A path the imitation does not serve answers Spotify's 404 "Service not found"."""
    status, body, _ = await get_json(http, f"{_api(sandbox)}/albums/{STROBE.spotify_album_id}")
    assert (status, body) == (404, {"error": {"status": 404, "message": "Service not found"}})
