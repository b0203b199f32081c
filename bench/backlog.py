"""The "backlog" workload: tracks saved unenriched drain in the background while a live
caller keeps sending new tracks (issue 15).

A fresh server with its workers on first serves an interactive trickle alone (the idle
baseline). Then ``backlog_tracks`` distinct tracks are written to its database as a
crawl would leave them with the service down (status "pending"), and the scheduler and
dead-letter worker drain them at MusicBrainz's quota while the same trickle goes on with
other new tracks. The drain ends when every backlog track is completed or not found.

The backlog and the trickles use disjoint recordings (the first queries, then the rest
split in two), so no track is answered from another's cached lookups.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

from bench.config import BenchConfig
from bench.load import LoadClock, LoadResult
from bench.measure import Measurement, Probe
from bench.observe import scrape
from bench.procs import Server, start_server
from bench.workload import Query, distinct_queries, to_requests
from enrichment_client import LOCAL_REFUSALS, EnrichmentClient, EnrichmentClientError, pb
from enrichment_server.domain import EnrichmentRequest, ErrorKind
from enrichment_server.store import Store
from enrichment_server.store.claims import save_pending

__all__ = ["run_backlog"]

#: Workers look for new work this often (the production default is 30 s: the bench
#: measures the drain's pace, not how late it is noticed).
WORKER_INTERVAL_S = "0.5"
#: Own-refusal error kinds as stored on dead letters.
OWN_KINDS = frozenset(kind.value for kind in ErrorKind if kind.ours)


async def trickle(
    client: EnrichmentClient,
    requests: Sequence[pb.EnrichRequest],
    rate_per_s: float,
    stop: asyncio.Event | None = None,
) -> tuple[LoadResult, int]:
    """One new interactive request every ``1 / rate_per_s`` s until the list (or ``stop``)
    ends; the load seen and how many answers carried one of the service's own refusals."""
    result, clock, own = LoadResult(), LoadClock(), [0]

    async def one(request: pb.EnrichRequest) -> None:
        started = time.perf_counter()
        try:
            response = await client.enrich_request(request)
        except EnrichmentClientError as exc:
            result.failures[type(exc).__name__] += 1
            return
        result.record(response, time.perf_counter() - started)
        own[0] += any(error.code in LOCAL_REFUSALS for error in response.errors)

    tasks = []
    for request in requests:
        if stop is not None and stop.is_set():
            break
        tasks.append(asyncio.create_task(one(request)))
        await asyncio.sleep(1 / rate_per_s)
    await asyncio.gather(*tasks)
    return clock.finish(result), own[0]


def _database(server: Server) -> Path:
    """The SQLite file ``start_server`` gave this server (beside its log)."""
    assert server.log is not None
    return server.log.parent / "enrichment.db"


async def _save_backlog(server: Server, queries: Sequence[Query]) -> list[str]:
    """Write the backlog as pending tracks, in one transaction; their ids."""
    store = await Store.open(f"sqlite+aiosqlite:///{_database(server)}", migrate_schema=False)
    ids = [f"backlog-{i}" for i in range(len(queries))]
    now = datetime.now(UTC)
    try:
        async with store.engine.begin() as conn:
            for track_id, query in zip(ids, queries, strict=True):
                request = EnrichmentRequest(track_id, query.artist, query.title)
                await save_pending(conn, request, now)
    finally:
        await store.close()
    return ids


def _rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database, timeout=30) as conn:
        return list(conn.execute(sql).fetchall())


async def _wait_drained(server: Server, count: int, timeout_s: float) -> bool:
    """Poll the server's database until ``count`` backlog tracks are completed or found
    to exist nowhere (not_found)."""
    sql = (
        "SELECT count(*) FROM enrichment_status WHERE track_id LIKE 'backlog-%' "
        "AND status IN ('completed', 'not_found')"
    )
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        done = (await asyncio.to_thread(_rows, _database(server), sql))[0][0]
        if isinstance(done, int) and done >= count:
            return True
        await asyncio.sleep(0.1)
    return False


def _attempt_figures(database: Path) -> dict[str, int]:
    """Attempts charged beyond the one each track needs, parked entries, and dead-letter
    attempts whose errors were all our own refusals."""
    extra = _rows(
        database,
        "SELECT coalesce(sum(attempts - 1), 0) FROM enrichment_status "
        "WHERE track_id LIKE 'backlog-%' AND attempts > 1",
    )[0][0]
    letters = _rows(database, "SELECT state, attempts, error_kinds FROM dead_letters")
    charged_own = sum(
        int(str(attempts))
        for _, attempts, kinds in letters
        if set(json.loads(str(kinds) or "[]")) <= OWN_KINDS and int(str(attempts)) > 0
    )
    return {
        "extra_attempts": int(str(extra)),
        "parked": sum(state == "parked" for state, _, _ in letters),
        "charged_own_refusals": charged_own,
        "dead_letters_left": len(letters),
    }


async def run_backlog(
    config: BenchConfig, probe: Probe, env: dict[str, str], workdir: Path
) -> list[Measurement]:
    """The idle trickle, then the drain with the trickle (see the module docstring)."""
    n = config.backlog_tracks
    pool = distinct_queries(n + 2 * config.trickle_tracks, config.seed + 1)
    backlog, rest = pool[:n], pool[n:]
    idle_requests = to_requests(rest, range(0, len(rest), 2))
    busy_requests = to_requests(rest, range(1, len(rest), 2))
    env = {
        **env,
        "ENRICHMENT_SCHEDULER_INTERVAL_S": WORKER_INTERVAL_S,
        "ENRICHMENT_DLQ_INTERVAL_S": WORKER_INTERVAL_S,
    }
    async with AsyncExitStack() as stack:
        server = await stack.enter_async_context(
            start_server("server-backlog", "enrichment_server", env, workdir / "backlog")
        )
        client = await stack.enter_async_context(
            await EnrichmentClient.connect(server.target, timeout_s=30.0, wait_ready_s=10)
        )
        await probe.sandbox.reset_calls()
        idle_load, idle_own = await trickle(client, idle_requests, config.trickle_per_s)
        idle_upstream = await probe.sandbox.calls(window_s=1.0)
        await probe.sandbox.reset_calls()
        before = await scrape(probe.http, server.metrics_url)
        ids = await _save_backlog(server, backlog)
        started = time.perf_counter()
        stop = asyncio.Event()
        busy = asyncio.create_task(trickle(client, busy_requests, config.trickle_per_s, stop))
        bound_s = n * 2.0 / config.mb_rate_per_s
        drained = await _wait_drained(server, len(ids), max(60.0, 10 * bound_s))
        drain_s = time.perf_counter() - started
        stop.set()
        busy_load, busy_own = await busy
        upstream = await probe.sandbox.calls(window_s=1.0)
        metrics = (await scrape(probe.http, server.metrics_url)).minus(before)
        attempts = await asyncio.to_thread(_attempt_figures, _database(server))
    idle = Measurement(
        "trickle_idle", server.name, idle_load, idle_upstream, None, 0, len(idle_requests)
    )
    idle.extra["own_refusals_interactive"] = idle_own
    drain = Measurement(
        "backlog", server.name, busy_load, upstream, metrics, 0, n + busy_load.completed
    )
    drain.extra |= {
        "backlog_tracks": n,
        "drained": drained,
        "drain_s": round(drain_s, 3),
        "own_refusals_interactive": busy_own,
        **attempts,
    }
    return [idle, drain]
