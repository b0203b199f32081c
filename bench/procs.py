"""Child processes of a run: the sandbox, the server, the baselines, and their memory.

Every process is started with ``sys.executable -m ...`` (the same virtualenv), on
loopback ports picked here, and stopped with SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.config import BenchConfig
from enrichment_sandbox.runner import read_settings


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports free right now (held together while chosen: two
    separate picks can return the same port, and the server then cannot bind both)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


async def wait_serving(target: str, timeout_s: float = 30.0) -> None:
    """Until the gRPC server at ``target`` answers its health check with SERVING."""
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout_s
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            with suppress(grpc.aio.AioRpcError):
                answer = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            if loop.time() > until:
                raise TimeoutError(f"{target} not SERVING within {timeout_s}s")
            await asyncio.sleep(0.1)


async def stop_process(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL after 20 s."""
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 20)
    except TimeoutError:
        process.kill()
        await process.wait()


@asynccontextmanager
async def sandbox_process(config: BenchConfig, log: Path) -> AsyncIterator[dict[str, str]]:
    """``enrichment-sandbox`` with the configured latencies; yields its settings."""
    latency = [f"--latency-{name}-ms={ms:g}" for name, ms in config.latency_ms.items()]
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "enrichment_sandbox", *latency,
            stdout=asyncio.subprocess.PIPE, stderr=sink,
        )  # fmt: skip
    assert process.stdout is not None
    try:
        yield await read_settings(process.stdout, exited=f"enrichment-sandbox exited; see {log}")
    finally:
        await stop_process(process)


@dataclass(slots=True)
class Server:
    """A started gRPC server process (the service or a baseline)."""

    name: str
    process: asyncio.subprocess.Process
    target: str
    metrics_url: str | None = None
    log: Path | None = None
    rss: RssSampler = field(init=False)

    def __post_init__(self) -> None:
        """Start sampling its memory."""
        self.rss = RssSampler(self.process.pid)


def server_env(config: BenchConfig, sandbox: Mapping[str, str]) -> dict[str, str]:
    """The service's environment: sandbox URLs, scaled rate limits, defaults otherwise
    (metrics, the per-RPC log line, traces sampled at the default ratio, results recorded).
    """
    other = f"{config.other_rate_per_s:g}"
    return {
        **os.environ,
        **sandbox,
        "ENRICHMENT_MUSICBRAINZ_RATE_PER_S": f"{config.mb_rate_per_s:g}",
        "ENRICHMENT_LASTFM_RATE_PER_S": other,
        "ENRICHMENT_DEEZER_RATE_PER_S": other,
        "ENRICHMENT_GETSONGBPM_RATE_PER_S": other,
        "ENRICHMENT_LOG_FORMAT": "json",
    }


@asynccontextmanager
async def start_server(
    name: str,
    module: str,
    env: Mapping[str, str],
    workdir: Path,
    args: Sequence[str] = (),
    *,
    metrics: bool = True,
) -> AsyncIterator[Server]:
    """``python -m module`` with ``env`` plus ``ENRICHMENT_GRPC_PORT`` and the metrics port
    (the baselines read the same variables); stderr goes to a log file."""
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    port, metrics_port = free_ports(2)
    database = f"sqlite+aiosqlite:///{workdir / 'enrichment.db'}"  # fresh per server
    full_env = {
        "ENRICHMENT_DATABASE_URL": database,
        **env,
        "ENRICHMENT_GRPC_HOST": "127.0.0.1",
        "ENRICHMENT_GRPC_PORT": str(port),
        "ENRICHMENT_METRICS_HOST": "127.0.0.1",
        "ENRICHMENT_METRICS_PORT": str(metrics_port),
    }
    log = workdir / f"{name}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, *args, env=full_env, stderr=sink
        )
    server = Server(name, process, f"127.0.0.1:{port}", log=log)
    server.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics" if metrics else None
    try:
        try:
            await wait_serving(server.target)
        except TimeoutError as exc:
            tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-2000:]
            raise TimeoutError(
                f"{exc}; exit code {process.returncode}; log tail:\n{tail}"
            ) from None
        server.rss.start()
        yield server
    finally:
        await server.rss.stop()
        await stop_process(process)


class RssSampler:
    """Samples a process's resident set size every ``interval_s`` (and its high-water mark)."""

    def __init__(self, pid: int, interval_s: float = 0.1) -> None:
        """Nothing is sampled until :meth:`start`."""
        self._process = psutil.Process(pid)
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self.window_peak = 0

    def start(self) -> None:
        """Begin sampling in the background."""
        self._task = asyncio.create_task(self._run())

    def reset_window(self) -> None:
        """Start a new per-workload peak."""
        self.window_peak = self.sample()

    def sample(self) -> int:
        """The RSS now, in bytes (0 once the process is gone); updates the window peak."""
        try:
            rss = int(self._process.memory_info().rss)
        except psutil.Error:
            return 0
        self.window_peak = max(self.window_peak, rss)
        return rss

    def high_water_mark(self) -> int:
        """The kernel's peak RSS of the process (``VmHWM``), in bytes; 0 if unknown."""
        with suppress(OSError):
            for line in Path(f"/proc/{self._process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return 0

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self._interval_s)

    async def stop(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
