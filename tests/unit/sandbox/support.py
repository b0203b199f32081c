"""A small fixed catalogue and HTTP helpers shared by the sandbox tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import aiohttp

from enrichment_sandbox import derived, ids
from enrichment_sandbox.catalogue import Catalogue, CatalogueTrack
from enrichment_sandbox.runner import Sandbox


def with_deezer_tempo(track: CatalogueTrack, *, known: bool) -> CatalogueTrack:
    """``track`` if Deezer knows its tempo (bpm not 0) exactly when ``known``, else ``track``
    under the first MBID derived from its own for which that holds: ``derived.deezer_bpm``
    hashes the MBID, so a hand-written MBID settles it by chance."""
    candidate, attempt = track, 0
    while (derived.deezer_bpm(candidate) != 0) != known:
        attempt += 1
        candidate = dataclasses.replace(track, mbid=ids.stable_uuid(track.mbid, str(attempt)))
    return candidate


def without_deezer_tempo(title: str) -> CatalogueTrack:
    """A made-up record (on SAKU's release shape) whose Deezer bpm is 0."""
    record = dataclasses.replace(
        SAKU,
        title=title,
        artist="Anon Crew",
        artists=("Anon Crew",),
        mbid="0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c00",
        isrc="GBXYZ2400001",
        release_mbid="0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        album="Mystery Groove",
    )
    return with_deezer_tempo(record, known=False)


STROBE = CatalogueTrack(
    artist="deadmau5",
    artists=("deadmau5",),
    title="Strobe",
    spotify_id="41Xji81wFy3cM7ggbGczQW",
    spotify_artist_ids=("2CIMQHirSU0MQqyYHq0eOx",),
    spotify_album_id="5nJkPnm8ZdNbXzQ1rXyYx3",
    isrc="GBTDG0900141",
    mbid="7b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
    artist_mbids=("4a00ec9d-c635-463a-8cd4-eb61725f0c60",),
    release_mbid="c3d4e5f6-0718-4293-a4b5-c6d7e8f90a1b",
    release_group_mbid="e5f6a7b8-c9d0-41e2-b3f4-a5b6c7d8e9f0",
    album="For Lack of a Better Name",
    label="mau5trap",
    catalog_number="MAU5-001",
    release_date="2009-09-22",
    duration_ms=635320,
    tempo=128.0,
    pitch_class=9,
    mode=0,
    energy=0.602,
    danceability=0.551,
    valence=0.0812,
    tags=(("progressive house", 100), ("electronic", 71), ("house", 38)),
    listeners=812345,
    playcount=6543210,
    lastfm_mbid="3c1f5e2a-8b7d-4c9e-a0f1-2d3e4f5a6b7c",
    mb_tags=(("progressive house", 3), ("electronic", 1)),
)
STROBE = with_deezer_tempo(STROBE, known=True)
SAKU = CatalogueTrack(
    artist="Bicep feat. Clara La San",
    artists=("Bicep", "Clara La San"),
    title="Saku",
    spotify_id="0a1B2c3D4e5F6g7H8i9J0k",
    spotify_artist_ids=("73A3bLnfnz5BoQjb4gNCga", "1lXxw9Y4Kq3mZp2Lw6bRtU"),
    spotify_album_id="6Ab4x7Qd9Vt2Lm3Np8Rs1W",
    isrc="GBCFB2000123",
    mbid="1d2e3f40-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
    artist_mbids=("2f1b8f1c-d6a0-4b5e-9c3a-7e8d9f0a1b2c", "8e7d6c5b-4a39-4281-9f0e-1d2c3b4a5968"),
    release_mbid="9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
    release_group_mbid="0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
    album="Isles",
    label="Ninja Tune",
    catalog_number="ZEN12345",
    release_date="2021-01-22",
    duration_ms=291000,
    tempo=124.5,
    pitch_class=2,
    mode=1,
    energy=0.7,
    danceability=0.65,
    valence=0.3,
    tags=(("electronic", 100), ("breakbeat", 40)),
    listeners=150000,
    playcount=900000,
    audio_features=False,
)
CAFE = CatalogueTrack(
    artist="Energy 52",
    artists=("Energy 52",),
    title="Café del Mar",
    spotify_id="3Cz0aFmQw5Xb2Rt7Yu1Io9",
    spotify_artist_ids=("5Pq8Rs2Tu4Vw6Xy8Za0Bc",),
    spotify_album_id="2Lk9Jh8Gf7Ds6Ap5Qo4Wi",
    isrc="DEA819300012",
    mbid="5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
    artist_mbids=("6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",),
    release_mbid="4d3c2b1a-0f9e-4d8c-b7a6-958473625140",
    release_group_mbid="7c6b5a49-3827-4160-a5f4-e3d2c1b0a998",
    album="Café del Mar",
    label="Eye Q Records",
    catalog_number="EYEQ 019",
    release_date="1993-06-01",
    duration_ms=540000,
    tempo=133.0,
    pitch_class=-1,
    mode=1,
    energy=0.8,
    danceability=0.6,
    valence=0.4,
    tags=(("trance", 100),),
    listeners=300000,
    playcount=1500000,
    on_spotify=False,
)
HIDDEN = CatalogueTrack(
    artist="Nobody Known",
    artists=("Nobody Known",),
    title="Strobe Light",
    spotify_id="7Yt6Re5Wq4Az3Sx2Dc1Fv0",
    spotify_artist_ids=("9Ik8Uj7Yh6Tg5Rf4Ed3Ws2",),
    spotify_album_id="1Qa2Ws3Ed4Rf5Tg6Yh7Uj8",
    isrc="USABC2300001",
    mbid="a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    artist_mbids=("b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",),
    release_mbid="c3d4e5f6-a7b8-4c9d-8e1f-2a3b4c5d6e7f",
    release_group_mbid="d4e5f6a7-b8c9-4d0e-9f2a-3b4c5d6e7f8a",
    album="Strobe Light",
    label="Self-released",
    catalog_number="none",
    release_date="2023-03-03",
    duration_ms=200000,
    tempo=120.0,
    pitch_class=0,
    mode=1,
    energy=0.5,
    danceability=0.5,
    valence=0.5,
    tags=(),
    listeners=12,
    playcount=30,
    on_musicbrainz=False,
    on_lastfm=False,
)
CATALOGUE = Catalogue((STROBE, SAKU, CAFE, HIDDEN))

JSON = dict[str, Any]


async def spotify_token(http: aiohttp.ClientSession, sandbox: Sandbox) -> str:
    """A fresh access token from the Spotify imitation, via the real token flow."""
    headers = {"Authorization": aiohttp.encode_basic_auth(sandbox.client_id, sandbox.client_secret)}
    url = sandbox.settings()["ENRICHMENT_SPOTIFY_TOKEN_URL"]
    async with http.post(
        url, headers=headers, data={"grant_type": "client_credentials"}
    ) as response:
        assert response.status == 200
        body: JSON = await response.json()
    return str(body["access_token"])


async def get_json(
    http: aiohttp.ClientSession, url: str, **kwargs: Any
) -> tuple[int, JSON, Mapping[str, str]]:
    """GET ``url`` and return (status, decoded JSON body, headers)."""
    async with http.get(url, **kwargs) as response:
        return response.status, await response.json(content_type=None), response.headers
