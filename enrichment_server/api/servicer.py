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
from enrichment_server.api.decoding import Undecodable
from enrichment_server.api.validation import validate
from enrichment_server.deadline import Deadline
from enrichment_server.domain import EnrichmentRequest, EnrichmentResult
from enrichment_server.enrichment.waterfall import Waterfall
from enrichment_server.errors import FieldViolation, InvalidRequest
from enrichment_server.recorder import Recorder, RecordTimedOut, StoreUnavailable
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
    #: BULK/BACKGROUND stream items in flight on this replica, all streams together: what
    #: the upstream quota serves in one deadline (``workers.start.quota_pace``). Further
    #: items wait in their stream (flow control holds the caller back) instead of starting
    #: only to be refused by our own limiter. None: no pacing beyond batch_concurrency.
    paced_concurrency: int | None = None


#: Priorities whose stream items are paced to the quota (proto numbers: BULK, BACKGROUND).
_PACED = frozenset({pb.PRIORITY_BULK, pb.PRIORITY_BACKGROUND})


def _is_paced(message: pb.EnrichBatchRequest | Undecodable) -> bool:
    """A BULK or BACKGROUND item (an undecodable one is answered at once, unpaced)."""
    return isinstance(message, pb.EnrichBatchRequest) and message.request.priority in _PACED


class EnrichmentServicer(pb_grpc.EnrichmentServiceServicer):
    """Implements ``enrichment.v1.EnrichmentService``: converts and maps errors to codes.

    When a result is written, and whether it may be answered, is the recorder's decision
    (``Recorder.settle``); a ``StoreUnavailable`` from it becomes UNAVAILABLE.
    """

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
        paced = options.paced_concurrency
        self._paced = asyncio.Semaphore(paced) if paced is not None else None

    def _deadline(self, context: grpc.aio.ServicerContext[object, object]) -> Deadline:
        remaining = context.time_remaining()
        budget = self._options.default_deadline_s
        if remaining is not None:
            # Room for the answer, and for the recorder to make a retry durable before it.
            kept = response_margin(remaining)
            if self._recorder is not None:
                kept += self._recorder.allowance_s()
            budget = min(budget, max(0.0, remaining - kept))
        return Deadline.after(budget)

    async def Enrich(
        self,
        request: pb.EnrichRequest | Undecodable,
        context: grpc.aio.ServicerContext[object, object],
    ) -> pb.EnrichResponse:
        """Enrich one track."""
        try:
            domain_request = _domain_request(request)
            result = await self._enrich(domain_request, context)
        except InvalidRequest as exc:
            log.info("enrich_rejected", fields=[v.field for v in exc.violations])
            await context.abort_with_status(rpc_status.to_status(bad_request_status(exc)))
            raise AssertionError("abort_with_status raises") from exc  # pragma: no cover
        except StoreUnavailable as exc:
            await context.abort(_store_code(exc), str(exc))
            raise AssertionError("abort raises") from exc  # pragma: no cover
        return response_message(result)

    async def _enrich(
        self, request: EnrichmentRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> EnrichmentResult:
        """Run the waterfall, count and log the result, and let the recorder settle it."""
        result = await self._waterfall.enrich(request, self._deadline(context))
        self._hooks.task_finished(str(result.status), result.duration_s)
        _log_result(result)
        if self._recorder is not None:
            await self._recorder.settle(request, result, context.time_remaining())
        return result

    async def EnrichBatch(
        self,
        request_iterator: AsyncIterator[pb.EnrichBatchRequest | Undecodable],
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[pb.EnrichBatchResponse]:
        """Enrich a stream of tracks; answers leave as each finishes, tagged by index.

        At most ``batch_concurrency`` items are in flight and as many answers wait to be
        sent (issue 12 item 12): when the caller reads slowly, the reader stops taking
        requests and HTTP/2 flow control holds the caller back.
        """
        limit = self._options.batch_concurrency
        results: asyncio.Queue[pb.EnrichBatchResponse | None] = asyncio.Queue(maxsize=limit)
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
        requests: AsyncIterator[pb.EnrichBatchRequest | Undecodable],
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
                    paced = self._paced if _is_paced(message) else None
                    if paced is not None:
                        await paced.acquire()
                    group.create_task(self._one(index, message, context, results, slots, paced))
                    index += 1
        finally:
            # Ends the response stream after the answers already queued, also when reading
            # failed; not when the response stream itself is gone (nobody would read it).
            task = asyncio.current_task()
            if task is None or not task.cancelling():
                await results.put(None)

    async def _one(
        self,
        index: int,
        message: pb.EnrichBatchRequest | Undecodable,
        context: grpc.aio.ServicerContext[object, object],
        results: asyncio.Queue[pb.EnrichBatchResponse | None],
        slots: asyncio.Semaphore,
        paced: asyncio.Semaphore | None,
    ) -> None:
        try:
            await results.put(await self._answer(index, message, context))
        finally:
            slots.release()
            if paced is not None:
                paced.release()

    async def _answer(
        self,
        index: int,
        message: pb.EnrichBatchRequest | Undecodable,
        context: grpc.aio.ServicerContext[object, object],
    ) -> pb.EnrichBatchResponse:
        """One item's answer: a response, or an ItemError for bad input or no store."""
        track_id = "" if isinstance(message, Undecodable) else message.request.track_id
        try:
            domain_request = _domain_request(message)
            result = await self._enrich(domain_request, context)
        except InvalidRequest as exc:
            return pb.EnrichBatchResponse(index=index, track_id=track_id, error=item_error(exc))
        except StoreUnavailable as exc:
            error = pb.ItemError(code=_store_code(exc).value[0], message=str(exc))
            return pb.EnrichBatchResponse(index=index, track_id=track_id, error=error)
        response = response_message(result)
        return pb.EnrichBatchResponse(index=index, track_id=result.track_id, response=response)


def _store_code(error: StoreUnavailable) -> grpc.StatusCode:
    """UNAVAILABLE when the database failed, DEADLINE_EXCEEDED when time ran out."""
    if isinstance(error, RecordTimedOut):
        return grpc.StatusCode.DEADLINE_EXCEEDED
    return grpc.StatusCode.UNAVAILABLE


def _domain_request(
    message: pb.EnrichRequest | pb.EnrichBatchRequest | Undecodable,
) -> EnrichmentRequest:
    """The validated request; ``InvalidRequest`` for bad or undecodable input."""
    if isinstance(message, Undecodable):
        # A batch item's fields are named as in EnrichRequest, like a decoded bad item's.
        raise InvalidRequest(
            [
                FieldViolation(v.field.removeprefix("request."), v.description)
                for v in message.violations
            ]
        )
    if isinstance(message, pb.EnrichBatchRequest):
        message = message.request
    return validate(raw_request(message))


def _log_result(result: EnrichmentResult) -> None:
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
    )
