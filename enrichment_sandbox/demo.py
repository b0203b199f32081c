"""``enrichment-demo``: the whole path, offline, in real processes.

1. ``enrichment-sandbox`` starts local imitations of Spotify, MusicBrainz, Last.fm,
   Deezer and GetSongBPM.
2. ``enrichment-server`` starts on the documented ports (gRPC 50051, metrics 9090) with the
   documented database file (``enrichment.db`` in the current directory), configured by the
   sandbox's settings, so the README's ops recipes work as written beside it.
3. The ``enrichment_client`` sends a sample of scraped-looking rows over ``EnrichBatch``
   (``demo_sample.py``), prints what came back, and sends them again to show the cache.
4. A real Scrapy crawl of local fixture sites (pages and API answers of all ten
   sources: 1001tracklists, MixesDB, setlist.fm, Reddit, Mixcloud, ...) sends every
   tracklist entry through the thin-client pipeline into the same server and persists
   the tracklists in the same database; the enriched tracklists are printed
   from that database. No request leaves the machine (SCRAPERS_LOOPBACK_ONLY).
5. Every child process (sandbox, server, crawl) is stopped with SIGTERM at the end, and
   also when the demo itself gets SIGTERM or SIGINT (``--keep-running`` serves until then).

A taken port stops the demo at once with exit status 2 and the option that moves it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import secrets
import signal
import socket
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from enrichment_sandbox.demo_sample import run_sample
from enrichment_sandbox.runner import read_settings

#: Seconds a child gets between SIGTERM and SIGKILL (the server drains within its grace).
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class DemoOptions:
    """Where the demo's server listens and keeps its database (the README's defaults)."""

    port: int = 50051
    metrics_port: int = 9090
    database: Path = Path("enrichment.db")
    keep_running: bool = False
    #: The console's sign-in token: ENRICHMENT_ADMIN_TOKEN if set, else one for this run.
    admin_token: str = field(
        default_factory=lambda: os.environ.get("ENRICHMENT_ADMIN_TOKEN") or secrets.token_hex(16)
    )

    @property
    def database_url(self) -> str:
        """The SQLite URL of the database file (absolute: the crawl runs elsewhere)."""
        return f"sqlite+aiosqlite:///{self.database.resolve()}"


class PortTaken(Exception):
    """A port the demo needs is already in use; the message says which and how to move."""


def check_ports(options: DemoOptions) -> None:
    """Raise ``PortTaken`` unless both ports can be bound on 127.0.0.1 right now."""
    for flag, port in (("--port", options.port), ("--metrics-port", options.metrics_port)):
        with socket.socket() as sock:
            # As the servers bind (SO_REUSEADDR): only a listening socket makes it fail.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as exc:
                raise PortTaken(
                    f"port {port} on 127.0.0.1 is taken ({exc.strerror}): another "
                    f"enrichment-server or demo is running? Stop it, or pass {flag} <free port>"
                ) from None


@dataclass
class Children:
    """The processes the demo started; ``stop`` ends every one that still runs."""

    processes: list[asyncio.subprocess.Process] = field(default_factory=list)

    def add(self, process: asyncio.subprocess.Process) -> asyncio.subprocess.Process:
        """Own ``process`` from now on."""
        self.processes.append(process)
        return process

    async def stop(self) -> None:
        """SIGTERM to each child still running (newest first), SIGKILL after the timeout."""
        for process in reversed(self.processes):
            if process.returncode is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()


async def _start_sandbox(children: Children) -> dict[str, str]:
    process = children.add(
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "enrichment_sandbox", stdout=asyncio.subprocess.PIPE
        )
    )
    assert process.stdout is not None
    return await read_settings(process.stdout)


def _enable_audio_features(settings: dict[str, str]) -> None:
    """Play an extended-quota Spotify app (new apps get 403 from audio features)."""
    origin = settings["ENRICHMENT_SPOTIFY_API_URL"].removesuffix("/v1")
    request = urllib.request.Request(  # noqa: S310 - the sandbox's own loopback URL
        f"{origin}/_sandbox/config",
        data=json.dumps({"audio_features": "ok"}).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310
        pass


async def _start_server(
    sandbox: dict[str, str], options: DemoOptions, log_path: Path, children: Children
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        **sandbox,
        "ENRICHMENT_GRPC_HOST": "127.0.0.1",
        "ENRICHMENT_GRPC_PORT": str(options.port),
        "ENRICHMENT_METRICS_HOST": "127.0.0.1",
        "ENRICHMENT_METRICS_PORT": str(options.metrics_port),
        "ENRICHMENT_DATABASE_URL": options.database_url,
        "ENRICHMENT_ADMIN_TOKEN": options.admin_token,
        # The sandbox is local: pace it faster than the real services allow
        # (MusicBrainz 1/s, GetSongBPM ~0.8/s, Deezer 10/s, Last.fm a few per second).
        "ENRICHMENT_MUSICBRAINZ_RATE_PER_S": "20",
        "ENRICHMENT_GETSONGBPM_RATE_PER_S": "50",
        "ENRICHMENT_DEEZER_RATE_PER_S": "50",
        "ENRICHMENT_LASTFM_RATE_PER_S": "50",
        "ENRICHMENT_LOG_FORMAT": "json",
    }
    with log_path.open("wb") as log:
        return children.add(
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "enrichment_server", env=env, stderr=log
            )
        )


async def _crawl(target: str, database_url: str) -> None:
    """Crawl the fixture site through the pipelines; print the enriched tracklists."""
    from enrichment_sandbox.crawl_demo import crawl_fixture_site, format_row

    print("\ncrawling the local fixture sites of all ten sources...")
    started = time.perf_counter()
    rows = await crawl_fixture_site(target, database_url)
    setlist = None
    for row in rows:
        if row["setlist"] != setlist:
            setlist = row["setlist"]
            print(f"\n{setlist}")
        print(format_row(row))
    enriched = sum(1 for row in rows if row["spotify_id"])
    print(
        f"\n{len(rows)} tracklist entries crawled in {time.perf_counter() - started:.1f} s,"
        f" {enriched} with a Spotify id; stored in {database_url}"
    )


async def _until_server_exits(server: asyncio.subprocess.Process, log_path: Path) -> int:
    """Wait for the server to end; report it (it should outlive the demo's work)."""
    code = await server.wait()
    text = await asyncio.to_thread(log_path.read_text, "utf-8", "replace")
    tail = text.strip().splitlines()[-3:]
    print(f"enrichment-server exited with status {code}:", *tail, sep="\n  ", file=sys.stderr)
    return 2


async def _run(options: DemoOptions, children: Children) -> int:
    settings = await _start_sandbox(children)
    _enable_audio_features(settings)
    log_path = Path(tempfile.mkdtemp(prefix="enrichment-demo-")) / "server.log"
    server = await _start_server(settings, options, log_path, children)
    print(
        f"sandbox upstreams: {settings['ENRICHMENT_SPOTIFY_API_URL']} (Spotify), "
        f"{settings['ENRICHMENT_MUSICBRAINZ_URL']} (MusicBrainz), "
        f"{settings['ENRICHMENT_LASTFM_URL']} (Last.fm)"
    )
    target = f"127.0.0.1:{options.port}"
    print(f"enrichment-server: {target} (log: {log_path})")
    print(
        f"operator console: http://127.0.0.1:{options.metrics_port}/ "
        f"(sign in with the token {options.admin_token})\n"
    )
    work = asyncio.ensure_future(_work(target, options))
    watch = asyncio.ensure_future(_until_server_exits(server, log_path))
    done, _ = await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
    if watch in done:
        work.cancel()
        await asyncio.gather(work, return_exceptions=True)
        return watch.result()
    watch.cancel()
    return work.result()


async def _work(target: str, options: DemoOptions) -> int:
    status = await run_sample(target)
    await _crawl(target, options.database_url)
    if options.keep_running:
        print(
            f"\nserving on {target} (console http://127.0.0.1:{options.metrics_port}/ with the"
            f" token {options.admin_token}, metrics /metrics on the same port, database"
            f" {options.database}); the README's ops recipes work as written."
            " Ctrl-C or SIGTERM stops the demo and every process it started.",
            flush=True,
        )
        await asyncio.Event().wait()
    return status


async def demo(options: DemoOptions) -> int:
    """Run the demo; return the exit status. SIGTERM/SIGINT stop it and all its children."""
    check_ports(options)
    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []

    def stop(sig: int) -> None:
        received.append(sig)
        task.cancel()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig)
    children = Children()
    try:
        return await _run(options, children)
    except asyncio.CancelledError:
        if not received:
            raise
        task.uncancel()
        # Asked to stop: a --keep-running demo ends normally, an interrupted one reports it.
        return 0 if options.keep_running else 128 + received[0]
    finally:
        await children.stop()
        server_codes = [p.returncode for p in children.processes[1:2]]
        if server_codes:
            print(f"server stopped (exit {server_codes[0]})", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    parser = argparse.ArgumentParser(prog="enrichment-demo", description=__doc__.splitlines()[0])
    defaults = DemoOptions()
    parser.add_argument("--port", type=int, default=defaults.port, help="gRPC port (50051)")
    parser.add_argument(
        "--metrics-port", type=int, default=defaults.metrics_port, help="metrics port (9090)"
    )
    parser.add_argument(
        "--database",
        type=Path,
        default=defaults.database,
        help="SQLite file of the server and the crawl (enrichment.db, as the recipes use)",
    )
    parser.add_argument("--keep-running", action="store_true", help="serve until Ctrl-C or SIGTERM")
    args = parser.parse_args(argv)
    # A line at a time even into a pipe (`| tee`, a test reading it): progress shows live.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    options = DemoOptions(args.port, args.metrics_port, args.database, args.keep_running)
    try:
        sys.exit(asyncio.run(demo(options)))
    except PortTaken as exc:
        print(f"enrichment-demo: {exc}", file=sys.stderr)
        sys.exit(2)
