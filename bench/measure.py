"""One measured workload: counters reset before, load, counters and memory read after."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import aiohttp

from bench.load import LoadResult
from bench.observe import MetricsSnapshot, SandboxAdmin, UpstreamCalls, scrape
from bench.procs import Server
from enrichment_client import pb


@dataclass(slots=True)
class Measurement:
    """Everything observed during one workload."""

    name: str
    server: str
    load: LoadResult
    upstream: dict[str, UpstreamCalls]
    metrics: MetricsSnapshot | None
    peak_rss_bytes: int
    distinct_queries: int
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Probe:
    """What a measurement reads besides the load: the sandbox and the HTTP session."""

    http: aiohttp.ClientSession
    sandbox: SandboxAdmin


def distinct_count(requests: Sequence[pb.EnrichRequest], served: int) -> int:
    """Distinct (artist, title) among the first ``served`` requests (cycled if longer)."""
    if not requests:
        return 0
    indices = range(min(served, len(requests)))
    return len({(requests[i].artist_name, requests[i].track_title) for i in indices})


async def measure(
    probe: Probe,
    server: Server,
    name: str,
    requests: Sequence[pb.EnrichRequest],
    run: Callable[[], Awaitable[LoadResult]],
) -> Measurement:
    """Reset the sandbox counters, run the load, collect what changed."""
    await probe.sandbox.reset_calls()
    before = await scrape(probe.http, server.metrics_url) if server.metrics_url else None
    server.rss.reset_window()
    load = await run()
    server.rss.sample()
    upstream = await probe.sandbox.calls(window_s=1.0)
    metrics = None
    if before is not None:
        metrics = (await scrape(probe.http, server.metrics_url)).minus(before)
    served = load.completed + sum(load.failures.values())
    return Measurement(
        name=name,
        server=server.name,
        load=load,
        upstream=upstream,
        metrics=metrics,
        peak_rss_bytes=server.rss.window_peak,
        distinct_queries=distinct_count(requests, served),
    )
