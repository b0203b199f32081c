"""Run ``enrichment-server`` as a real process (for multi-replica and chaos tests)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from enrichment_sandbox.runner import read_settings

SERVER = str(Path(sys.executable).parent / "enrichment-server")


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: How long a server process may take to serve: imports alone take seconds on a busy machine.
START_TIMEOUT_S = 45.0


async def wait_serving(
    target: str, timeout_s: float, process: asyncio.subprocess.Process | None = None
) -> None:
    """Until the server at ``target`` answers its health check with SERVING; fails at once
    if ``process`` (the server) exits first."""
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout_s
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if process is not None and process.returncode is not None:
                raise RuntimeError(f"the server exited ({process.returncode}) before serving")
            try:
                answer = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                if loop.time() > until:
                    raise
            await asyncio.sleep(0.1)


@asynccontextmanager
async def sandbox_process() -> AsyncIterator[dict[str, str]]:
    """``enrichment-sandbox`` in its own process (its own event loop, so arrival times it
    records are not skewed by the test's load); yields the settings it printed."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "enrichment-sandbox"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        settings = await read_settings(process.stdout)
        yield settings
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)


@asynccontextmanager
async def server_process(settings: Mapping[str, str], log: Path) -> AsyncIterator[str]:
    """Start a server with ``settings`` (ENRICHMENT_* variables); yield its target.

    Its database defaults to a SQLite file beside ``log`` (settings may name another).
    """
    port = free_port()
    env = {
        **os.environ,
        "ENRICHMENT_DATABASE_URL": f"sqlite+aiosqlite:///{log.with_suffix('.db')}",
        **settings,
        "ENRICHMENT_GRPC_HOST": "127.0.0.1",
        "ENRICHMENT_GRPC_PORT": str(port),
        "ENRICHMENT_LOG_FORMAT": "json",
        "ENRICHMENT_METRICS_HOST": "127.0.0.1",
        "ENRICHMENT_METRICS_PORT": "0",
    }
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(SERVER, env=env, stderr=sink)
    target = f"127.0.0.1:{port}"
    try:
        try:
            await wait_serving(target, START_TIMEOUT_S, process)
        except Exception as exc:
            tail = log.read_text(errors="replace")[-2000:]  # noqa: ASYNC240 - a failure path
            raise AssertionError(f"server at {target} never served: {exc}\n{tail}") from exc
        yield target
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 30)
