"""A real ``grpc.aio`` EnrichmentService that answers what a test scripts.

It stands in for the enrichment service where a test needs an answer the real service
gives only under rare faults (``UNKNOWN``, ``INTERNAL``, ``CANCELLED``,
``RESOURCE_EXHAUSTED``...): the pipeline under test talks to it over a real channel, so
the error reaches it exactly as grpc delivers it. ``capacity`` imitates the service's own
quota: calls beyond it are refused as the real service refuses what its lanes cannot
serve before the deadline. ``failures`` is a queue of status codes
answered one per call; once it is empty every call is answered COMPLETED. ``hold`` keeps
calls waiting until ``release()`` (to prove calls overlap, and to provoke deadlines).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from enrichment_client import pb
from enrichment_client.pb.enrichment.v1 import enrichment_pb2_grpc

__all__ = ["Script", "scripted_server"]

_DETAILS_KEY = "grpc-status-details-bin"


@dataclass
class Script:
    """What the server answers, and what it saw."""

    failures: list[grpc.StatusCode] = field(default_factory=list)
    hold: bool = False
    #: Calls answered PARTIAL because the service's own quota had no slot for them.
    local_refusals: int = 0
    #: Calls the service's quota can hold at once: a call arriving when this many are
    #: inside is refused like ``local_refusals``; the others take ``service_s`` each.
    capacity: int | None = None
    service_s: float = 0.0
    #: The priority of every request received, in order.
    priorities: list[int] = field(default_factory=list)
    calls: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        """Let every held call (and every later one) answer."""
        self._released.set()

    async def wait_in_flight(self, count: int) -> None:
        """Return once ``count`` calls are inside the server at the same time."""
        async with self.arrived:
            await self.arrived.wait_for(lambda: self.in_flight >= count)

    async def wait_calls(self, count: int) -> None:
        """Return once the server has received ``count`` calls."""
        async with self.arrived:
            await self.arrived.wait_for(lambda: self.calls >= count)


def _bad_request(field_name: str) -> tuple[tuple[str, bytes], ...]:
    """Trailing metadata carrying a google.rpc.BadRequest that names ``field_name``."""
    bad = error_details_pb2.BadRequest(
        field_violations=[{"field": field_name, "description": "must not be blank"}]
    )
    detail = any_pb2.Any()
    detail.Pack(bad)
    status = status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT, message="invalid request", details=[detail]
    )
    return ((_DETAILS_KEY, status.SerializeToString()),)


def _refused_locally(request: pb.EnrichRequest, metadata: pb.TrackMetadata) -> pb.EnrichResponse:
    """PARTIAL: MusicBrainz got no slot of the service's own quota for this priority."""
    error = pb.SourceError(
        source=pb.SOURCE_MUSICBRAINZ,
        code=pb.ERROR_CODE_LOCAL_RATE_LIMIT,
        message="our own rate limit for musicbrainz: no bulk slot before the deadline",
        retriable=True,
    )
    return pb.EnrichResponse(
        track_id=request.track_id,
        status=pb.ENRICHMENT_STATUS_PARTIAL,
        metadata=metadata,
        errors=[error],
    )


class _Servicer(enrichment_pb2_grpc.EnrichmentServiceServicer):
    """Answers from a ``Script``."""

    def __init__(self, script: Script) -> None:
        self.script = script

    async def Enrich(  # noqa: N802 - the generated base class names it
        self, request: pb.EnrichRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.EnrichResponse:
        """The next scripted failure, else a COMPLETED answer naming the request's artist."""
        script = self.script
        async with script.arrived:
            script.calls += 1
            script.priorities.append(request.priority)
            script.in_flight += 1
            script.peak_in_flight = max(script.peak_in_flight, script.in_flight)
            script.arrived.notify_all()
        try:
            if script.hold:
                await script._released.wait()
            if script.failures:
                code = script.failures.pop(0)
                if code == grpc.StatusCode.INVALID_ARGUMENT:
                    context.set_trailing_metadata(_bad_request("artist_name"))
                await context.abort(code, f"scripted {code.name}")
            metadata = pb.TrackMetadata(artist=request.artist_name, title=request.track_title)
            if script.local_refusals:
                script.local_refusals -= 1
                return _refused_locally(request, metadata)
            if script.capacity is not None and script.in_flight > script.capacity:
                return _refused_locally(request, metadata)
            await asyncio.sleep(script.service_s)
            return pb.EnrichResponse(
                track_id=request.track_id,
                status=pb.ENRICHMENT_STATUS_COMPLETED,
                metadata=metadata,
            )
        finally:
            script.in_flight -= 1

    async def EnrichBatch(  # noqa: N802 - the generated base class names it
        self,
        request_iterator: AsyncIterator[pb.EnrichBatchRequest],
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[pb.EnrichBatchResponse]:
        """Not scripted: the pipeline sends unary calls."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not scripted")
        yield pb.EnrichBatchResponse()  # pragma: no cover - abort raised


@asynccontextmanager
async def scripted_server(script: Script) -> AsyncIterator[str]:
    """Serve ``script`` on 127.0.0.1 (a free port); yields the target address."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    enrichment_pb2_grpc.add_EnrichmentServiceServicer_to_server(_Servicer(script), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        script.release()
        await server.stop(None)
