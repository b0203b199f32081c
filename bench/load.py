"""The load generator: the real ``EnrichmentClient``, N concurrent callers, timings.

Unary: ``concurrency`` workers take the next request until the list is used up (or, with
a duration, cycle through it until time is up). Batch: the same list over one
``EnrichBatch`` stream, each item timed from when the stream took it to its answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import psutil

from enrichment_client import EnrichmentClient, EnrichmentClientError, pb


@dataclass(slots=True)
class LoadResult:
    """What the callers saw."""

    latencies_s: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    client_cpu_s: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    source_errors: Counter[str] = field(default_factory=Counter)
    cached: int = 0
    response_bytes: int = 0
    found: int = 0
    """Answers that identified the track (COMPLETED or PARTIAL)."""
    labelled: int = 0
    """Found answers that carry a record label (the label coverage's numerator)."""

    def record(self, response: pb.EnrichResponse, latency_s: float) -> None:
        """Count one answer."""
        self.latencies_s.append(latency_s)
        status = pb.EnrichmentStatus.Name(response.status).removeprefix("ENRICHMENT_STATUS_")
        self.statuses[status] += 1
        self.cached += response.cached
        if response.status in (pb.ENRICHMENT_STATUS_COMPLETED, pb.ENRICHMENT_STATUS_PARTIAL):
            self.found += 1
            self.labelled += response.metadata.HasField("label")
        for error in response.errors:
            source = pb.Source.Name(error.source).removeprefix("SOURCE_").lower()
            code = pb.ErrorCode.Name(error.code).removeprefix("ERROR_CODE_").lower()
            self.source_errors[f"{source}:{code}"] += 1
        self.response_bytes = max(self.response_bytes, response.ByteSize())

    @property
    def completed(self) -> int:
        """Answers received."""
        return len(self.latencies_s)


class LoadClock:
    """Wall time and this process's CPU time, from construction."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._cpu = sum(self._process.cpu_times()[:2])
        self._wall = time.perf_counter()

    def finish(self, result: LoadResult) -> LoadResult:
        result.elapsed_s = time.perf_counter() - self._wall
        result.client_cpu_s = sum(self._process.cpu_times()[:2]) - self._cpu
        return result


async def run_unary(
    client: EnrichmentClient,
    requests: Sequence[pb.EnrichRequest],
    concurrency: int,
    duration_s: float | None = None,
) -> LoadResult:
    """``Enrich`` each request once (or cycle for ``duration_s``) with ``concurrency`` callers."""
    result, clock = LoadResult(), LoadClock()
    counter = iter(range(1 << 62))
    until = time.perf_counter() + duration_s if duration_s is not None else None

    async def worker() -> None:
        for n in counter:
            if until is None and n >= len(requests):
                return
            if until is not None and time.perf_counter() >= until:
                return
            started = time.perf_counter()
            try:
                response = await client.enrich_request(requests[n % len(requests)])
            except EnrichmentClientError as exc:
                result.failures[type(exc).__name__] += 1
                continue
            result.record(response, time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return clock.finish(result)


async def run_batch(
    client: EnrichmentClient, requests: Sequence[pb.EnrichRequest], timeout_s: float = 600
) -> LoadResult:
    """Every request over one ``EnrichBatch`` stream."""
    result, clock = LoadResult(), LoadClock()
    sent: dict[int, float] = {}

    async def messages() -> AsyncIterator[pb.EnrichRequest]:
        for index, request in enumerate(requests):
            sent[index] = time.perf_counter()
            yield request

    try:
        async for answer in client.enrich_many(messages(), timeout_s=timeout_s):
            latency = time.perf_counter() - sent[answer.index]
            if answer.HasField("response"):
                result.record(answer.response, latency)
            else:
                result.failures["ItemError"] += 1
    except EnrichmentClientError as exc:
        result.failures[type(exc).__name__] += 1
    return clock.finish(result)
