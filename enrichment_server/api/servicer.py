"""The gRPC face of the service: requests in, results out, errors to status codes.

Bad input is INVALID_ARGUMENT with a google.rpc.BadRequest naming every bad field; an
upstream failure is never an RPC error (it is a PARTIAL/FAILED response). Python's gRPC
does not propagate deadlines, so the time remaining is read here and handed down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import structlog
from grpc_status import rpc_status

from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb
from enrichment_client.pb.enrichment.v1 import enrichment_pb2_grpc as pb_grpc
from enrichment_server.api.convert import (
    bad_request_status,
    item_error,
    raw_request,
    response_message,
)
from enrichment_server.api.validation import validate
from enrichment_server.deadline import Deadline
from enrichment_server.domain import EnrichmentRequest, EnrichmentResult
from enrichment_server.enrichment.waterfall import Waterfall
from enrichment_server.errors import InvalidRequest
from enrichment_server.recorder import Recorder
from enrichment_server.telemetry.hooks import Hooks, NullHooks
from enrichment_server.telemetry.tracing import current_trace_id

log = structlog.get_logger("enrichment.rpc")
#: Time kept back from the caller's deadline to merge, log, serialise and send the
#: answer, with room for event-loop lag under load (measured: 40 ms was too little on a
#: busy 2-core machine); 10 % of the budget, between 50 and 250 ms.
RESPONSE_MARGIN_S = 0.05
RESPONSE_MARGIN_SHARE = 0.1
RESPONSE_MARGIN_MAX_S = 0.25


def response_margin(remaining_s: float) -> float:
    """Time to keep back from ``remaining_s`` for everything after the waterfall."""
    return min(RESPONSE_MARGIN_MAX_S, max(RESPONSE_MARGIN_S, remaining_s * RESPONSE_MARGIN_SHARE))


@dataclass(frozen=True, slots=True)
class ServicerOptions:
    """Per-RPC limits."""

    default_deadline_s: float = 10.0
    batch_concurrency: int = 32


class EnrichmentServicer(pb_grpc.EnrichmentServiceServicer):
    """Implements ``enrichment.v1.EnrichmentService``."""

    def __init__(
        self,
        waterfall: Waterfall,
        options: ServicerOptions,
        hooks: Hooks | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self._waterfall = waterfall
        self._options = options
        self._hooks: Hooks = hooks or NullHooks()
        self._recorder = recorder
        self._writes: set[asyncio.Task[None]] = set()

    def _deadline(self, context: grpc.aio.ServicerContext[object, object]) -> Deadline:
        remaining = context.time_remaining()
        budget = self._options.default_deadline_s
        if remaining is not None:
            budget = min(budget, max(0.0, remaining - response_margin(remaining)))
        return Deadline.after(budget)

    async def Enrich(
        self, request: pb.EnrichRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.EnrichResponse:
        """Enrich one track."""
        try:
            domain_request = validate(raw_request(request))
        except InvalidRequest as exc:
            log.info("enrich_rejected", fields=[v.field for v in exc.violations])
            await context.abort_with_status(rpc_status.to_status(bad_request_status(exc)))
            raise AssertionError(
                "abort_with_status returns by raising"
            ) from exc  # pragma: no cover
        result = await self._waterfall.enrich(domain_request, self._deadline(context))
        await self._finished(domain_request, result, context)
        return response_message(result)

    async def EnrichBatch(
        self,
        request_iterator: AsyncIterator[pb.EnrichBatchRequest],
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[pb.EnrichBatchResponse]:
        """Enrich a stream of tracks; answers leave as each finishes, tagged by index."""
        results: asyncio.Queue[pb.EnrichBatchResponse | None] = asyncio.Queue()
        reader = asyncio.create_task(self._read_batch(request_iterator, context, results))
        try:
            while (item := await results.get()) is not None:
                yield item
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        await reader  # re-raise a failure of the request stream itself

    async def _read_batch(
        self,
        requests: AsyncIterator[pb.EnrichBatchRequest],
        context: grpc.aio.ServicerContext[object, object],
        results: asyncio.Queue[pb.EnrichBatchResponse | None],
    ) -> None:
        """Start one task per request, at most ``batch_concurrency`` at once."""
        slots = asyncio.Semaphore(self._options.batch_concurrency)
        try:
            async with asyncio.TaskGroup() as group:
                index = 0
                async for message in requests:
                    await slots.acquire()
                    group.create_task(self._one(index, message.request, context, results, slots))
                    index += 1
        finally:
            results.put_nowait(None)  # ends the response stream, also when reading failed

    async def _one(
        self,
        index: int,
        request: pb.EnrichRequest,
        context: grpc.aio.ServicerContext[object, object],
        results: asyncio.Queue[pb.EnrichBatchResponse | None],
        slots: asyncio.Semaphore,
    ) -> None:
        try:
            try:
                domain_request = validate(raw_request(request))
            except InvalidRequest as exc:
                answer = pb.EnrichBatchResponse(
                    index=index, track_id=request.track_id, error=item_error(exc)
                )
            else:
                result = await self._waterfall.enrich(domain_request, self._deadline(context))
                await self._finished(domain_request, result, context, index=index)
                answer = pb.EnrichBatchResponse(
                    index=index, track_id=result.track_id, response=response_message(result)
                )
            await results.put(answer)
        finally:
            slots.release()

    async def _finished(
        self,
        request: EnrichmentRequest,
        result: EnrichmentResult,
        context: grpc.aio.ServicerContext[object, object],
        **extra: object,
    ) -> None:
        """Count, log and record one result: durably before answering when the deadline
        allows, else the write finishes in the background (never past the deadline)."""
        self._hooks.task_finished(str(result.status), result.duration_s)
        _log_result(result, **extra)
        if self._recorder is None or self._recorder.already_written(request, result):
            return
        write = asyncio.ensure_future(self._recorder.record(request, result))
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)
        remaining = context.time_remaining()
        wait = None if remaining is None else max(0.0, remaining - RESPONSE_MARGIN_S)
        try:
            await asyncio.wait_for(asyncio.shield(write), wait)
        except TimeoutError:
            log.info("record_deferred", track_id=result.track_id)

    async def drain(self, timeout_s: float) -> None:
        """Wait (up to ``timeout_s``) for result writes still running in the background."""
        if self._writes:
            await asyncio.wait(set(self._writes), timeout=timeout_s)


def _log_result(result: EnrichmentResult, **extra: object) -> None:
    """The one canonical line per enrichment."""
    log.info(
        "enrich",
        track_id=result.track_id,
        status=str(result.status),
        duration_ms=round(result.duration_s * 1000, 1),
        cached=result.cached,
        sources=[str(s) for s in result.sources_used],
        errors=[f"{e.source}:{e.kind}" for e in result.errors],
        trace_id=current_trace_id(),
        **extra,
    )
