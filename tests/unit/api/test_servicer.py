"""The servicer on a real grpc.aio server (port 0) with a fake waterfall, via the real client.

What is pinned is the boundary's job: proto to domain, domain to proto, bad input to
INVALID_ARGUMENT naming the field, the caller's deadline (less the answer's margin) handed
down, one count per result, and batch answers tagged by index.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import grpc
import pytest

from enrichment_client import EnrichmentClient, InvalidArgument, make_request, pb
from enrichment_client.pb.enrichment.v1 import enrichment_pb2_grpc as pb_grpc
from enrichment_server.api import decoding
from enrichment_server.api.servicer import (
    RESPONSE_MARGIN_MAX_S,
    RESPONSE_MARGIN_S,
    EnrichmentServicer,
    ServicerOptions,
    response_margin,
)
from enrichment_server.deadline import Deadline
from enrichment_server.domain import (
    EnrichmentRequest,
    EnrichmentResult,
    ErrorKind,
    Source,
    SourceFailure,
    Status,
    TrackMetadata,
)
from enrichment_server.enrichment.waterfall import Waterfall
from tests.unit.telemetry.recording_hooks import RecordingHooks


@dataclass
class FakeWaterfall:
    """Answers every request PARTIAL (Spotify rate-limited, MusicBrainz found it)."""

    seen: list[tuple[EnrichmentRequest, float]] = field(default_factory=list)

    async def enrich(self, request: EnrichmentRequest, deadline: Deadline) -> EnrichmentResult:
        """Record the request and the time it was given; answer with a fixed result."""
        self.seen.append((request, deadline.remaining()))
        failure = SourceFailure(Source.SPOTIFY, ErrorKind.RATE_LIMITED, "slow down", True, 3.0)
        return EnrichmentResult(
            track_id=request.track_id or "generated",
            status=Status.PARTIAL,
            metadata=TrackMetadata(musicbrainz_id="mb1", title=request.title, bpm=128.0),
            provenance={"musicbrainz_id": Source.MUSICBRAINZ, "title": Source.MUSICBRAINZ},
            sources_used=(Source.MUSICBRAINZ,),
            errors=(failure,),
            duration_s=0.25,
            cached=False,
            enriched_at=datetime(2026, 12, 3, tzinfo=UTC),
        )


@dataclass
class Rig:
    """A served servicer, its fakes and a connected client."""

    waterfall: FakeWaterfall
    hooks: RecordingHooks
    client: EnrichmentClient
    target: str


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    """The servicer registered as the app registers it, on 127.0.0.1:0."""
    waterfall, hooks = FakeWaterfall(), RecordingHooks()
    servicer = EnrichmentServicer(
        cast(Waterfall, waterfall), ServicerOptions(default_deadline_s=30.0), hooks=hooks
    )
    server = grpc.aio.server()
    decoding.register(pb_grpc.add_EnrichmentServiceServicer_to_server, servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    target = f"127.0.0.1:{port}"
    try:
        async with await EnrichmentClient.connect(target, timeout_s=20) as client:
            yield Rig(waterfall, hooks, client, target)
    finally:
        await server.stop(None)


async def test_a_request_reaches_the_waterfall_as_domain_values(rig: Rig) -> None:
    """Artist, title and ids arrive validated and normalised (ISRC upper-cased)."""
    await rig.client.enrich("deadmau5", "Strobe", track_id="t1", isrc="gbum71029604")
    [(request, _)] = rig.waterfall.seen
    assert (request.track_id, request.artist, request.title) == ("t1", "deadmau5", "Strobe")
    assert request.isrc == "GBUM71029604"


async def test_the_result_comes_back_as_the_proto_answer(rig: Rig) -> None:
    """Status, metadata, provenance and each source's error with its Retry-After."""
    answer = await rig.client.enrich("deadmau5", "Strobe", track_id="t1")
    assert answer.status == pb.ENRICHMENT_STATUS_PARTIAL
    assert (answer.metadata.musicbrainz_id, answer.metadata.bpm) == ("mb1", 128.0)
    assert answer.provenance["musicbrainz_id"] == pb.SOURCE_MUSICBRAINZ
    [error] = answer.errors
    assert (error.source, error.code, error.retriable) == (
        pb.SOURCE_SPOTIFY,
        pb.ERROR_CODE_RATE_LIMITED,
        True,
    )
    assert error.retry_after.ToTimedelta().total_seconds() == 3.0


async def test_bad_input_is_invalid_argument_naming_the_field(rig: Rig) -> None:
    """An empty artist: INVALID_ARGUMENT with a BadRequest field violation; no enrichment."""
    with pytest.raises(InvalidArgument) as caught:
        await rig.client.enrich("", "Strobe")
    assert [v.field for v in caught.value.violations] == ["artist_name"]
    assert rig.waterfall.seen == []
    assert rig.hooks.tasks == []


async def test_the_waterfall_gets_the_callers_deadline_less_the_margin(rig: Rig) -> None:
    """A 20-s caller deadline: the waterfall gets less than that (the margin is kept back)."""
    await rig.client.enrich("deadmau5", "Strobe", timeout_s=20)
    [(_, given)] = rig.waterfall.seen
    # grpc's time_remaining() can read ~0.1 s high (its clock is not ours): the margin's
    # arithmetic is pinned exactly by the test of response_margin below.
    assert given < 20 - RESPONSE_MARGIN_S
    assert given > 10  # the caller's, not the 30-s default (a busy machine costs < 10 s)


async def test_without_a_caller_deadline_the_default_applies(rig: Rig) -> None:
    """No deadline on the call: the server's default (30 s here) bounds the waterfall."""
    async with grpc.aio.insecure_channel(rig.target) as channel:
        stub = pb_grpc.EnrichmentServiceStub(channel)
        await stub.Enrich(make_request("deadmau5", "Strobe"))
    [(_, given)] = rig.waterfall.seen
    assert 20 < given <= 30


@pytest.mark.parametrize(
    ("remaining", "margin"),
    [(0.2, RESPONSE_MARGIN_S), (1.0, 0.1), (2.0, 0.2), (60.0, RESPONSE_MARGIN_MAX_S)],
)
def test_the_margin_is_a_tenth_of_the_time_within_bounds(remaining: float, margin: float) -> None:
    """10 % of the time left, never under 50 ms nor over 250 ms."""
    assert response_margin(remaining) == pytest.approx(margin)


async def test_each_result_is_counted_once_with_its_status(rig: Rig) -> None:
    """The hooks see one finished task per enrichment, with its status and duration."""
    await rig.client.enrich("deadmau5", "Strobe")
    await rig.client.enrich("Röyksopp", "Eple")
    assert rig.hooks.tasks == [("partial", 0.25), ("partial", 0.25)]


async def test_a_batch_answers_every_item_by_index_bad_ones_as_item_errors(rig: Rig) -> None:
    """Three items, the middle one invalid: three answers; the bad one is an ItemError."""
    requests = [
        make_request("deadmau5", "Strobe", track_id="a"),
        make_request("", "Nameless", track_id="b"),
        make_request("Röyksopp", "Eple", track_id="c"),
    ]
    answers = [a async for a in rig.client.enrich_many(requests)]
    by_index = {a.index: a for a in answers}
    assert sorted(by_index) == [0, 1, 2]
    assert by_index[0].response.status == pb.ENRICHMENT_STATUS_PARTIAL
    assert by_index[2].response.metadata.title == "Eple"
    assert by_index[1].WhichOneof("outcome") == "error"
    assert by_index[1].track_id == "b"
    assert sorted(request.track_id for request, _ in rig.waterfall.seen) == ["a", "c"]


async def test_a_batch_keeps_going_while_one_item_is_slow(rig: Rig) -> None:
    """Items run concurrently: a held first item does not stop the second from answering."""
    release = asyncio.Event()
    original = rig.waterfall.enrich

    async def held(request: EnrichmentRequest, deadline: Deadline) -> EnrichmentResult:
        if request.track_id == "slow":
            await release.wait()
        return await original(request, deadline)

    rig.waterfall.enrich = held  # type: ignore[method-assign]
    requests = [
        make_request("deadmau5", "Strobe", track_id="slow"),
        make_request("Röyksopp", "Eple", track_id="fast"),
    ]
    order: list[str] = []
    async for answer in rig.client.enrich_many(requests):
        order.append(answer.track_id)
        release.set()
    assert order == ["fast", "slow"]
