"""Cancelling an EnrichBatch is normal: no error log, no traceback (issue 12 item 18)."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import pytest

from enrichment_client import make_request, pb
from enrichment_client.pb.enrichment.v1 import enrichment_pb2_grpc as pb_grpc
from tests.integration.conftest import Stack

ITEMS = 16


async def test_a_cancelled_batch_logs_no_error(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    """issue 12 item 18: the caller cancels a batch mid-flight; no "exception was never
    retrieved", nothing at error level, once every task has finished and been collected."""
    upstreams = (stack.sandbox.spotify, stack.sandbox.musicbrainz, stack.sandbox.deezer)
    for upstream in upstreams:
        upstream.controls.set_latency(300)

    def upstream_calls() -> int:
        """Requests the upstreams received (counted on arrival, then held 300 ms)."""
        return sum(sum(upstream.controls.calls.values()) for upstream in upstreams)

    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    caplog.set_level(logging.ERROR)
    stub = pb_grpc.EnrichmentServiceStub(stack.client._channel)

    async def items() -> Any:
        for i in range(ITEMS):
            yield pb.EnrichBatchRequest(request=make_request("deadmau5", f"Strobe {i}"))

    try:
        for _ in range(3):
            call = stub.EnrichBatch(items(), timeout=30)
            started = asyncio.Event()

            async def read(call: Any = call, started: asyncio.Event = started) -> None:
                started.set()
                async for _answer in call:
                    pass

            before = upstream_calls()
            reader = asyncio.create_task(read())
            await started.wait()
            while upstream_calls() == before:  # noqa: ASYNC110 - the sandbox only counts
                await asyncio.sleep(0.01)  # until items are in flight upstream
            call.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        await stack.app.stop(grace_s=5.0)  # every server task finishes
        gc.collect()
        for _ in range(10):
            await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert [c.get("message") for c in unhandled] == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
