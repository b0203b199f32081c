"""GetSongBpmClient against the running GetSongBPM imitation (real transport and caller)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator

import aiohttp
import pytest

from enrichment_sandbox import derived
from enrichment_sandbox.catalogue import Catalogue
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.getsongbpm_render import song_object
from enrichment_sandbox.runner import Sandbox
from enrichment_server.cache.memory import MemoryCache
from enrichment_server.deadline import Deadline
from enrichment_server.domain import Source
from enrichment_server.enrichment.musical_key import MusicalKey
from enrichment_server.errors import (
    MalformedResponse,
    RateLimited,
    Unauthenticated,
    UpstreamUnavailable,
)
from enrichment_server.resilience.pipeline import CallContext, TtlPolicy, UpstreamCaller
from enrichment_server.resilience.retry import RetryPolicy
from enrichment_server.sources.getsongbpm import GetSongBpmClient, GsbSong
from enrichment_server.sources.http import AiohttpTransport
from tests.unit.sandbox.support import CAFE, CATALOGUE, SAKU, STROBE

COVER = dataclasses.replace(
    SAKU,
    title="Strobe",
    artist="Piano Tribute Band",
    artists=("Piano Tribute Band",),
    mbid="6f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f",
)
SHARP = dataclasses.replace(
    SAKU,
    title="Sharp Minor",
    artist="Anon Crew",
    artists=("Anon Crew",),
    mbid="0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c00",
    pitch_class=6,
    mode=0,
    tempo=123.6,
)


class RecordingSleep:
    """Records retry delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """The test catalogue plus a same-title cover and an F♯ minor song."""
    async with Sandbox(Catalogue((*CATALOGUE.tracks, COVER, SHARP))) as running:
        yield running


@pytest.fixture
def sleep() -> RecordingSleep:
    """The retry policy's sleep."""
    return RecordingSleep()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One pooled HTTP session, as the app holds."""
    async with aiohttp.ClientSession() as http:
        yield http


def _client(
    sandbox: Sandbox, session: aiohttp.ClientSession, sleep: RecordingSleep, api_key: str
) -> GetSongBpmClient:
    retry = RetryPolicy(rng=random.Random(1), sleep=sleep)
    caller = UpstreamCaller(Source.GETSONGBPM, MemoryCache(100), TtlPolicy(), retry)
    return GetSongBpmClient(
        caller,
        AiohttpTransport(session),
        2.0,
        base_url=sandbox.settings()["ENRICHMENT_GETSONGBPM_URL"],
        api_key=api_key,
        user_agent="enrichment-tests/1.0",
    )


@pytest.fixture
def client(
    sandbox: Sandbox, session: aiohttp.ClientSession, sleep: RecordingSleep
) -> GetSongBpmClient:
    """A client holding the key the sandbox accepts."""
    return _client(sandbox, session, sleep, sandbox.settings()["ENRICHMENT_GETSONGBPM_API_KEY"])


def _ctx() -> CallContext:
    return CallContext(Deadline.after(10.0))


async def test_search_filters_other_artists(client: GetSongBpmClient, sandbox: Sandbox) -> None:
    """The title-only search also returns a cover and "Strobe Light"; only deadmau5 is kept."""
    songs = await client.search(_ctx(), "deadmau5", "Strobe")
    assert [(s.title, s.artist_name) for s in songs] == [("Strobe", "deadmau5")]
    assert sandbox.getsongbpm.controls.calls["search"] == 1


async def test_tempo_string_and_key(client: GetSongBpmClient) -> None:
    """tempo "128" becomes 128.0; key_of "Am" parses to A minor (Camelot 8A)."""
    [song] = await client.search(_ctx(), "deadmau5", "Strobe")
    assert song.tempo == 128.0
    assert song.key == MusicalKey(9, major=False)
    assert song.key is not None
    assert song.key.camelot == "8A"
    sent = song_object(STROBE).get("danceability")
    assert song.danceability == (None if sent is None else int(str(sent)) / 100)


async def test_sharp_minor_key(client: GetSongBpmClient) -> None:
    """key_of "F♯m" is pitch class 6, minor: Camelot 11A, Open Key 4m."""
    song = await client.song(_ctx(), derived.gsb_song_id(SHARP))
    assert song is not None
    assert song.key_of == "F♯m"
    assert song.key == MusicalKey(6, major=False)
    assert (song.key.camelot, song.key.open_key) == ("11A", "4m")
    assert song.tempo == 124.0


def test_open_key_fallback_and_danceability_scale() -> None:
    """Without a usable key_of the Open Key code is used; danceability 64 is 0.64."""
    song = GsbSong.model_validate(
        {
            "id": "voKlYL",
            "title": "Strobe",
            "tempo": "",
            "key_of": "?",
            "open_key": "4m",
            "danceability": 64,
            "artist": {"name": "deadmau5", "from": "Canada"},
        }
    )
    assert song.key == MusicalKey(6, major=False)
    assert (song.tempo, song.danceability, song.artist.origin) == (None, 0.64, "Canada")


async def test_no_key_detected(client: GetSongBpmClient) -> None:
    """A song without key_of/open_key (pitch class -1) has key None."""
    song = await client.song(_ctx(), derived.gsb_song_id(CAFE))
    assert song is not None
    assert (song.key, song.tempo) == (None, 133.0)


async def test_miss_object_is_empty_and_cached(client: GetSongBpmClient, sandbox: Sandbox) -> None:
    """{"search": {"error": "no result"}} is [], cached: the repeat makes no call."""
    ctx = _ctx()
    assert await client.search(ctx, "deadmau5", "Nothing Like It") == []
    assert await client.search(ctx, "deadmau5", "Nothing Like It") == []
    assert sandbox.getsongbpm.controls.calls["search"] == 1
    assert ctx.cache_hits == 1


async def test_unknown_song_is_none(client: GetSongBpmClient) -> None:
    """{"song": {"error": "no result"}} is None."""
    assert await client.song(_ctx(), "zzzzzz") is None


async def test_wrong_key_is_unauthenticated_and_not_retried(
    sandbox: Sandbox, session: aiohttp.ClientSession, sleep: RecordingSleep
) -> None:
    """A 401 for a wrong api_key is Unauthenticated after exactly one call."""
    client = _client(sandbox, session, sleep, "not-the-key")
    with pytest.raises(Unauthenticated):
        await client.search(_ctx(), "deadmau5", "Strobe")
    assert sandbox.getsongbpm.controls.calls["search"] == 1
    assert sleep.delays == []


async def test_429_is_rate_limited_with_retry_after(
    client: GetSongBpmClient, sandbox: Sandbox, sleep: RecordingSleep
) -> None:
    """429 + Retry-After is RateLimited; the retries wait what the header says."""
    sandbox.getsongbpm.controls.faults.add(FaultRule(kind="rate_limit", retry_after=0.5))
    with pytest.raises(RateLimited) as caught:
        await client.song(_ctx(), derived.gsb_song_id(STROBE))
    assert caught.value.retry_after == 0.5
    assert sleep.delays == [0.5, 0.5]


async def test_quota_is_not_waited_for(
    client: GetSongBpmClient, sandbox: Sandbox, sleep: RecordingSleep
) -> None:
    """The hourly quota's Retry-After 3600 is beyond the retry cap: one call, no sleep."""
    sandbox.getsongbpm.controls.faults.add(FaultRule(kind="quota"))
    with pytest.raises(RateLimited):
        await client.song(_ctx(), derived.gsb_song_id(STROBE))
    assert sandbox.getsongbpm.controls.calls["song"] == 1
    assert sleep.delays == []


@pytest.mark.parametrize("kind", ["status", "error_in_200"])
async def test_5xx_and_bare_error_are_unavailable(
    client: GetSongBpmClient, sandbox: Sandbox, kind: str
) -> None:
    """HTTP 503 and a bare {"error": ...} in a 200 are UpstreamUnavailable (retried)."""
    sandbox.getsongbpm.controls.faults.add(FaultRule(kind=kind, status=503))  # type: ignore[arg-type]
    with pytest.raises(UpstreamUnavailable) as caught:
        await client.search(_ctx(), "deadmau5", "Strobe")
    assert not isinstance(caught.value, RateLimited | MalformedResponse)
    assert sandbox.getsongbpm.controls.calls["search"] == 3


async def test_malformed_body(client: GetSongBpmClient, sandbox: Sandbox) -> None:
    """A truncated JSON body is MalformedResponse."""
    sandbox.getsongbpm.controls.faults.add(FaultRule(kind="malformed"))
    with pytest.raises(MalformedResponse):
        await client.song(_ctx(), derived.gsb_song_id(STROBE))
