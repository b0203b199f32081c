"""DeezerClient against the running Deezer imitation (real transport, caller and cache)."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Mapping

import aiohttp
import pytest

from enrichment_sandbox import derived
from enrichment_sandbox.catalogue import Catalogue
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.cache.memory import MemoryCache
from enrichment_server.deadline import Deadline
from enrichment_server.domain import Source
from enrichment_server.errors import (
    MalformedResponse,
    RateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from enrichment_server.resilience.pipeline import CallContext, TtlPolicy, UpstreamCaller
from enrichment_server.resilience.retry import RetryPolicy
from enrichment_server.sources.deezer import DeezerClient, DeezerTrack
from enrichment_server.sources.http import AiohttpTransport, HttpResponse
from tests.unit.sandbox.support import CATALOGUE, SAKU, STROBE, without_deezer_tempo

NO_BPM = without_deezer_tempo("Mystery Groove")
WRONG = {"error": {"type": "ParameterException", "message": "Wrong parameter", "code": 500}}


class RecordingSleep:
    """Records retry delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """The imitations over the test catalogue plus a track without a Deezer BPM."""
    async with Sandbox(Catalogue((*CATALOGUE.tracks, NO_BPM))) as running:
        yield running


@pytest.fixture
def sleep() -> RecordingSleep:
    """The retry policy's sleep."""
    return RecordingSleep()


@pytest.fixture
async def client(sandbox: Sandbox, sleep: RecordingSleep) -> AsyncIterator[DeezerClient]:
    """A DeezerClient wired as the app wires it, pointed at the sandbox."""
    retry = RetryPolicy(rng=random.Random(1), sleep=sleep)
    caller = UpstreamCaller(Source.DEEZER, MemoryCache(100), TtlPolicy(), retry)
    async with aiohttp.ClientSession() as session:
        yield DeezerClient(
            caller,
            AiohttpTransport(session),
            2.0,
            base_url=sandbox.settings()["ENRICHMENT_DEEZER_URL"],
            user_agent="enrichment-tests/1.0 (tests@example.org)",
        )


def _ctx() -> CallContext:
    return CallContext(Deadline.after(10.0))


async def test_track_converts_units(client: DeezerClient) -> None:
    """A found track has its ISRC, duration in ms (seconds x 1000), bpm and album."""
    track = await client.track(_ctx(), derived.deezer_track_id(STROBE))
    assert track is not None
    assert (track.isrc, track.duration_ms, track.bpm) == (STROBE.isrc, 635_000, 128.0)
    assert (track.album.id, track.album.title) == (derived.deezer_album_id(STROBE), STROBE.album)
    assert track.release_date == "2009-09-22"
    assert track.artist_credit == "deadmau5"


async def test_bpm_zero_is_none(client: DeezerClient) -> None:
    """Deezer's bpm 0 (unknown) is exposed as None, also after a cache round trip."""
    ctx = _ctx()
    track = await client.track(ctx, derived.deezer_track_id(NO_BPM))
    again = await client.track(ctx, derived.deezer_track_id(NO_BPM))
    assert track is not None
    assert again is not None
    assert (track.bpm, again.bpm) == (None, None)
    assert ctx.cache_hits == 1


async def test_by_isrc_with_contributors(client: DeezerClient) -> None:
    """ISRC lookup (any case) gives the full track; the credit lists featured artists."""
    track = await client.by_isrc(_ctx(), SAKU.isrc.lower())
    assert track is not None
    assert track.id == derived.deezer_track_id(SAKU)
    assert track.title == "Saku (feat. Clara La San)"
    assert track.artist_credit == "Bicep, Clara La San"


async def test_search_escapes_quotes(client: DeezerClient, sandbox: Sandbox) -> None:
    """Quotes in the title are removed from the advanced query; items lack isrc and bpm."""
    found = await client.search(_ctx(), "deadmau5", '"Strobe"')
    assert [t.id for t in found] == [derived.deezer_track_id(STROBE)]
    assert (found[0].isrc, found[0].bpm, found[0].duration_ms) == (None, None, 635_000)
    assert sandbox.deezer.controls.calls["search"] == 1


async def test_search_by_title_alone(client: DeezerClient) -> None:
    """An empty artist is left out of the query instead of sending artist:""."""
    found = await client.search(_ctx(), "", "Saku")
    assert [t.id for t in found] == [derived.deezer_track_id(SAKU)]


async def test_search_without_hits_is_empty(client: DeezerClient) -> None:
    """{"data": [], "total": 0} is an empty list."""
    assert await client.search(_ctx(), "Nobody", "Nothing At All") == []


async def test_album_label_and_genres(client: DeezerClient) -> None:
    """The album gives label, UPC, release date and genre names from {data: [...]}."""
    album = await client.album(_ctx(), derived.deezer_album_id(STROBE))
    assert album is not None
    assert (album.label, album.upc, album.release_date) == (
        "mau5trap",
        derived.barcode(STROBE),
        "2009-09-22",
    )
    assert album.genre_names == ["House", "Electro"]


async def test_error_800_is_none_and_cached(client: DeezerClient, sandbox: Sandbox) -> None:
    """Error 800 (inside a 200) is None for ids, ISRCs and albums; the miss is cached."""
    ctx = _ctx()
    assert await client.track(ctx, 1) is None
    assert await client.track(ctx, 1) is None
    assert await client.by_isrc(ctx, "USXXX0000001") is None
    assert await client.album(ctx, 7) is None
    assert dict(sandbox.deezer.controls.calls) == {"track": 1, "isrc": 1, "album": 1}


async def test_code_4_is_rate_limited_after_retries(
    client: DeezerClient, sandbox: Sandbox, sleep: RecordingSleep
) -> None:
    """Error 4 at HTTP 200 is RateLimited without retry_after, raised after 3 attempts."""
    sandbox.deezer.controls.faults.add(FaultRule(kind="rate_limit"))
    with pytest.raises(RateLimited) as caught:
        await client.track(_ctx(), derived.deezer_track_id(STROBE))
    assert caught.value.retry_after is None
    assert sandbox.deezer.controls.calls["track"] == 3
    assert len(sleep.delays) == 2


async def test_code_4_once_then_success(client: DeezerClient, sandbox: Sandbox) -> None:
    """One error 4 is retried and the second attempt's answer is returned."""
    sandbox.deezer.controls.faults.add(FaultRule(kind="quota", times=1))
    track = await client.by_isrc(_ctx(), STROBE.isrc)
    assert isinstance(track, DeezerTrack)
    assert sandbox.deezer.controls.calls["isrc"] == 2


async def test_malformed_body(client: DeezerClient, sandbox: Sandbox) -> None:
    """A truncated JSON body is MalformedResponse."""
    sandbox.deezer.controls.faults.add(FaultRule(kind="malformed"))
    with pytest.raises(MalformedResponse):
        await client.album(_ctx(), derived.deezer_album_id(STROBE))


@pytest.mark.parametrize("kind", ["status", "error_in_200"])
async def test_5xx_and_busy_are_unavailable(
    client: DeezerClient, sandbox: Sandbox, kind: str
) -> None:
    """An HTTP 5xx (HTML body) and error 700 are UpstreamUnavailable, not rate limits."""
    sandbox.deezer.controls.faults.add(FaultRule(kind=kind, status=502))  # type: ignore[arg-type]
    with pytest.raises(UpstreamUnavailable) as caught:
        await client.search(_ctx(), "deadmau5", "Strobe")
    assert not isinstance(caught.value, RateLimited | MalformedResponse)
    assert sandbox.deezer.controls.calls["search"] == 3


class CannedTransport:
    """A transport answering every request with one fixed HTTP 200 body."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.requests = 0

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        timeout_s: float,
    ) -> HttpResponse:
        self.requests += 1
        return HttpResponse(200, {"content-type": "application/json"}, self.body)


async def test_other_codes_are_rejected(sleep: RecordingSleep) -> None:
    """Error 500 "Wrong parameter" inside a 200 is UpstreamRejected and never retried."""
    transport = CannedTransport(json.dumps(WRONG).encode())
    retry = RetryPolicy(rng=random.Random(1), sleep=sleep)
    caller = UpstreamCaller(Source.DEEZER, MemoryCache(10), TtlPolicy(), retry)
    client = DeezerClient(
        caller, transport, 2.0, base_url="https://api.deezer.com", user_agent="tests/1.0"
    )
    with pytest.raises(UpstreamRejected, match="Wrong parameter"):
        await client.search(_ctx(), "deadmau5", "Strobe")
    assert transport.requests == 1
