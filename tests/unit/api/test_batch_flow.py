"""EnrichBatch takes requests only as fast as the caller reads answers (issue 12 item 12)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, cast

from enrichment_client import make_request, pb
from enrichment_server.api.servicer import EnrichmentServicer, ServicerOptions
from enrichment_server.deadline import Deadline
from enrichment_server.domain import EnrichmentRequest, EnrichmentResult
from enrichment_server.enrichment.waterfall import Waterfall
from tests.unit.api.test_servicer import FakeWaterfall

CONCURRENCY = 4
#: Loop turns given to the server while the caller reads nothing. Each item needs a few
#: turns (read, enrich, queue), so an unbounded server takes in hundreds of items here.
TURNS = 3000


class IdleContext:
    """A servicer context with no deadline (the batch's own calls never read more)."""

    def time_remaining(self) -> float | None:
        """No deadline."""
        return None


async def test_a_caller_that_does_not_read_stops_the_reading() -> None:
    """issue 12 item 12: with no answer read, at most 2 x batch_concurrency (+1 being read)
    requests are taken from the stream: the answers queue is bounded, flow control does the
    rest."""
    pulled = 0

    async def endless() -> AsyncIterator[pb.EnrichBatchRequest]:
        nonlocal pulled
        while True:
            pulled += 1
            yield pb.EnrichBatchRequest(request=make_request("deadmau5", "Strobe"))

    servicer = EnrichmentServicer(
        cast(Waterfall, FakeWaterfall()), ServicerOptions(batch_concurrency=CONCURRENCY)
    )
    answers = cast(
        AsyncGenerator[pb.EnrichBatchResponse, None],
        servicer.EnrichBatch(endless(), cast(Any, IdleContext())),
    )
    first = await anext(answers)  # the stream is running
    for _ in range(TURNS):
        await asyncio.sleep(0)
    taken = pulled
    more = [await anext(answers) for _ in range(3 * CONCURRENCY)]  # reading frees the flow
    await answers.aclose()
    assert first.HasField("response")
    assert taken <= 2 * CONCURRENCY + 2, taken
    assert len({answer.index for answer in more}) == 3 * CONCURRENCY


class ThreeThenTell(FakeWaterfall):
    """``FakeWaterfall`` that sets ``three`` once it has answered three requests."""

    def __init__(self) -> None:
        super().__init__()
        self.three = asyncio.Event()

    async def enrich(self, request: EnrichmentRequest, deadline: Deadline) -> EnrichmentResult:
        """Answer as the fake does; tell after the third."""
        result = await super().enrich(request, deadline)
        if len(self.seen) >= 3:
            self.three.set()
        return result


async def test_answers_computed_before_the_stream_fails_are_sent_first() -> None:
    """issue 12 item 4: when the request stream itself breaks, the answers already computed
    leave before the stream's error."""
    fake = ThreeThenTell()

    async def breaking() -> AsyncIterator[pb.EnrichBatchRequest]:
        for i in range(3):
            yield pb.EnrichBatchRequest(request=make_request("deadmau5", f"Strobe {i}"))
        await fake.three.wait()  # the three are enriched before the stream breaks
        raise ConnectionResetError("the caller's stream broke")

    servicer = EnrichmentServicer(cast(Waterfall, fake), ServicerOptions(batch_concurrency=8))
    received: list[pb.EnrichBatchResponse] = []
    try:
        async for answer in servicer.EnrichBatch(breaking(), cast(Any, IdleContext())):
            received.append(answer)
    except BaseException as exc:  # the TaskGroup wraps it in an ExceptionGroup
        error: BaseException | None = exc
    else:
        error = None
    assert sorted(answer.index for answer in received) == [0, 1, 2]
    assert error is not None
    assert "the caller's stream broke" in repr(error)
