"""The run: sandbox, then each server and baseline in turn, each workload measured.

Order: the service with a warmed track set (hot unary, a py-spy profile, EnrichBatch vs
unary), the echo ceiling (answering with a response captured from the service), a fresh
service for the cold workload (the Zipf workload's distinct tracks, each once), a fresh
service for the Zipf workload, the naive enricher on the same Zipf requests, and a fresh
service draining a backlog under an interactive trickle (``backlog.py``).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp

from bench import profile
from bench.backlog import run_backlog
from bench.config import BenchConfig
from bench.load import run_batch, run_unary
from bench.measure import Measurement, Probe, measure
from bench.observe import SandboxAdmin
from bench.procs import Server, sandbox_process, server_env, start_server
from bench.workload import (
    distinct_queries,
    first_occurrences,
    kinds,
    to_requests,
    zipf_indices,
)
from enrichment_client import EnrichmentClient, pb

CLIENT_TIMEOUT_S = 30.0
MB_URL = "ENRICHMENT_MUSICBRAINZ_URL"
WARMUP_S = 1.0


async def _client(stack: AsyncExitStack, server: Server) -> EnrichmentClient:
    client = await EnrichmentClient.connect(
        server.target, timeout_s=CLIENT_TIMEOUT_S, wait_ready_s=10
    )
    return await stack.enter_async_context(client)


async def _hot_phase(
    config: BenchConfig, probe: Probe, env: dict[str, str], workdir: Path, name: str = "hot"
) -> tuple[list[Measurement], dict[str, object], Path]:
    """Warm a track set, then hot unary and its profile; for ``hot``, EnrichBatch vs unary."""
    queries = distinct_queries(config.zipf_distinct, config.seed)
    hot = to_requests(queries, range(min(config.hot_tracks, len(queries))))
    async with AsyncExitStack() as stack:
        server = await stack.enter_async_context(
            start_server(f"server-{name}", "enrichment_server", env, workdir / name)
        )
        client = await _client(stack, server)
        warm = await measure(
            probe, server, f"{name}_warmup", hot, lambda: run_unary(client, hot, 32)
        )
        captured = workdir / "captured-response.bin"
        captured.write_bytes((await client.enrich_request(hot[0])).SerializeToString())
        await run_unary(client, hot, config.hot_concurrency, WARMUP_S)
        hot_m = await measure(
            probe, server, name, hot,
            lambda: run_unary(client, hot, config.hot_concurrency, config.hot_s),
        )  # fmt: skip
        prof = await _profile(config, client, server, hot, name)
        if name != "hot":
            return [warm, hot_m], prof, captured
        batch = [hot[i % len(hot)] for i in range(config.batch_requests)]
        batch_m = await measure(
            probe, server, "batch_stream", batch, lambda: run_batch(client, batch)
        )
        unary_m = await measure(
            probe, server, "batch_unary", batch, lambda: run_unary(client, batch, 32)
        )
    return [warm, hot_m, batch_m, unary_m], prof, captured


async def _profile(
    config: BenchConfig,
    client: EnrichmentClient,
    server: Server,
    hot: Sequence[pb.EnrichRequest],
    name: str,
) -> dict[str, object]:
    """py-spy on the server during a separate hot run (so the measured one is unperturbed)."""
    if not config.profile:
        return {}
    output = config.out_dir / f"profile-{name}.txt"
    duration = max(2.0, min(6.0, config.hot_s))
    recording = asyncio.create_task(profile.record(server.process.pid, duration, output))
    await run_unary(client, hot, config.hot_concurrency, duration + 0.5)
    if not await recording:
        return {}
    return {"file": str(output), **profile.summarize(output)}


async def _echo_phase(
    config: BenchConfig, probe: Probe, captured: Path, workdir: Path
) -> Measurement:
    """The bare grpc.aio ceiling, answering with the captured response."""
    env = {"BENCH_ECHO_RESPONSE": str(captured)}
    async with AsyncExitStack() as stack:
        server = await stack.enter_async_context(
            start_server("echo", "bench.echo", env, workdir / "echo", metrics=False)
        )
        client = await _client(stack, server)
        request = to_requests(distinct_queries(1, config.seed), [0])
        await run_unary(client, request, config.hot_concurrency, WARMUP_S)
        return await measure(
            probe, server, "echo", request,
            lambda: run_unary(client, request, config.hot_concurrency, config.echo_s),
        )  # fmt: skip


async def _fresh_phase(
    name: str,
    module: str,
    probe: Probe,
    env: dict[str, str],
    workdir: Path,
    requests: Sequence[pb.EnrichRequest],
    concurrency: int,
    duration_s: float | None = None,
) -> Measurement:
    """A new server process (empty cache and database) for one workload."""
    async with AsyncExitStack() as stack:
        metrics = module == "enrichment_server"
        server = await stack.enter_async_context(
            start_server(name, module, env, workdir / name, metrics=metrics)
        )
        client = await _client(stack, server)
        m = await measure(
            probe, server, name, requests,
            lambda: run_unary(client, requests, concurrency, duration_s),
        )  # fmt: skip
        m.extra["high_water_mark_bytes"] = server.rss.high_water_mark()
        return m


async def _phases(
    config: BenchConfig,
    probe: Probe,
    env: dict[str, str],
    workdir: Path,
    workloads: tuple[list[pb.EnrichRequest], list[pb.EnrichRequest]],
) -> tuple[list[Measurement], dict[str, dict[str, object]]]:
    """Every server and baseline in turn (see the module docstring)."""
    cold, zipf = workloads
    hot, prof, captured = await _hot_phase(config, probe, env, workdir)
    measurements, profiles = list(hot), {"hot": prof}
    if config.diagnose:
        no_record = {**env, "ENRICHMENT_RECORD_RESULTS": "false"}
        diag, profiles["hot_no_record"], _ = await _hot_phase(
            config, probe, no_record, workdir, "hot_no_record"
        )
        measurements += diag
    measurements.append(await _echo_phase(config, probe, captured, workdir))
    c = config.concurrency
    for name, requests in (("cold", cold), ("zipf", zipf)):
        measurements.append(
            await _fresh_phase(name, "enrichment_server", probe, env, workdir, requests, c)
        )
    measurements.append(
        await _fresh_phase("naive", "bench.naive", probe, env, workdir, zipf, c, config.naive_s)
    )
    measurements += await run_backlog(config, probe, env, workdir)
    return measurements, profiles


async def run_bench(
    config: BenchConfig,
) -> tuple[list[Measurement], dict[str, dict[str, object]]]:
    """Every workload and baseline; returns the measurements and the profile summaries.

    MusicBrainz runs in a sandbox process of its own: in the shared one, the other
    imitations' work delays its event loop, which then timestamps evenly paced requests
    in bunches (measured: 19.6 req/s sent evenly were counted as 25-27 in one second).
    """
    config.out_dir.mkdir(parents=True, exist_ok=True)
    queries = distinct_queries(config.zipf_distinct, config.seed)
    draws = zipf_indices(
        config.zipf_requests, config.zipf_distinct, config.zipf_exponent, config.seed
    )
    workloads = (to_requests(queries, first_occurrences(draws)), to_requests(queries, draws))
    with tempfile.TemporaryDirectory(prefix="enrichment-bench-") as tmp:
        workdir = Path(tmp)
        async with (
            aiohttp.ClientSession() as http,
            sandbox_process(config, workdir / "sandbox.log") as upstreams,
            sandbox_process(config, workdir / "sandbox-mb.log") as mb_only,
        ):
            settings = {**upstreams, MB_URL: mb_only[MB_URL]}
            probe = Probe(http, SandboxAdmin(http, settings))
            await probe.sandbox.configure("musicbrainz", {"rate_limit_per_s": config.mb_rate_per_s})
            env = server_env(config, settings)
            measurements, profiles = await _phases(config, probe, env, workdir, workloads)
    for m in measurements:
        if m.name == "zipf":
            m.extra["kinds"] = kinds(queries, draws)
    return measurements, profiles
