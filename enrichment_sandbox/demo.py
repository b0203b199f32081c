"""``enrichment-demo``: the whole path, offline, in real processes.

1. ``enrichment-sandbox`` starts local imitations of Spotify, MusicBrainz, Last.fm,
   Deezer and GetSongBPM.
2. ``enrichment-server`` starts on a free port, configured by the sandbox's settings.
3. The ``enrichment_client`` sends a sample of scraped-looking rows over ``EnrichBatch``
   (accents stripped, "feat." spelt differently, "(Original Mix)" and label noise, a
   remix, a typo, a track that does not exist), prints what came back, and sends the
   same rows again to show the cache answering.
4. A real Scrapy crawl of local fixture sites (pages and API answers of all ten
   sources: 1001tracklists, MixesDB, setlist.fm, Reddit, Mixcloud, ...) sends every
   tracklist entry through the thin-client pipeline into the same server and persists
   the tracklists in the same SQLite database; the enriched tracklists are printed
   from that database. No request leaves the machine (SCRAPERS_LOOPBACK_ONLY).
5. Both processes are stopped with SIGTERM (graceful shutdown).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from enrichment_client import EnrichmentClient, make_request, pb
from enrichment_sandbox.runner import read_settings

#: Scraped-looking rows: (artist, title, what the row exercises).
SAMPLE: tuple[tuple[str, str, str], ...] = (
    ("deadmau5", "Strobe (Original Mix)", "'(Original Mix)' noise"),
    ("Royksopp", "Eple", "accent stripped (Röyksopp)"),
    ("Eric Prydz", "Opus (Four Tet Remix)", "a named remix"),
    ("Eric Prydz", "Opus [Pryda]", "bracketed label noise"),
    ("Bicep ft. Clara La San", "Saku", "'ft.' for 'feat.'"),
    ("Kolsch", "Grey", "accent stripped (Kölsch)"),
    ("Fred Again", "Marea (We've Lost Dancing)", "punctuation ('Fred again..')"),
    ("Daft Punk", "One More Tiime", "a typo"),
    ("Kings of Tomorrow", "Finally", "same title as CeCe Peniston's"),
    ("Lane 8", "Brightest Lights (feat. POLIÇA)", "'feat.' inside the title"),
    ("Jean Michel Jarre", "Oxygene Pt. 4", "accents and 'Pt.'"),
    ("Unknown Artist", "Strobe", "same title, wrong artist: must not match"),
    ("Nobody Here", "A Track That Does Not Exist", "not in any catalogue"),
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _start_sandbox() -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "enrichment_sandbox", stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    settings = await read_settings(process.stdout)
    return process, settings


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
    sandbox: dict[str, str], port: int, log_path: Path
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        **sandbox,
        "ENRICHMENT_GRPC_HOST": "127.0.0.1",
        "ENRICHMENT_GRPC_PORT": str(port),
        # The sandbox is local: pace it faster than the real services allow
        # (MusicBrainz 1/s, GetSongBPM ~0.8/s, Deezer 10/s).
        "ENRICHMENT_MUSICBRAINZ_RATE_PER_S": "20",
        "ENRICHMENT_GETSONGBPM_RATE_PER_S": "50",
        "ENRICHMENT_DEEZER_RATE_PER_S": "50",
        "ENRICHMENT_LOG_FORMAT": "json",
        # Embedded default: a SQLite file (here a fresh one beside the log).
        "ENRICHMENT_DATABASE_URL": _database_url(log_path),
        "ENRICHMENT_LASTFM_RATE_PER_S": "50",
        "ENRICHMENT_METRICS_HOST": "127.0.0.1",
        "ENRICHMENT_METRICS_PORT": "0",
    }
    log_path.with_suffix(".db").unlink(missing_ok=True)  # every demo starts empty
    with log_path.open("wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "enrichment_server", env=env, stderr=log
        )


def _database_url(log_path: Path) -> str:
    return f"sqlite+aiosqlite:///{log_path.with_suffix('.db')}"


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


def _describe(index: int, query: tuple[str, str, str], response: pb.EnrichResponse) -> str:
    artist, title, why = query
    meta = response.metadata
    status = pb.EnrichmentStatus.Name(response.status).removeprefix("ENRICHMENT_STATUS_")
    sources = ", ".join(
        pb.Source.Name(s).removeprefix("SOURCE_").lower() for s in response.sources_used
    )
    lines = [
        f"[{index:2}] {artist} - {title}   ({why})",
        f"     status={status}  sources: {sources or '-'}",
    ]
    if meta.HasField("spotify_id") or meta.HasField("musicbrainz_id"):
        lines.append(
            f"     matched: {meta.artist} - {meta.title}  (confidence {meta.match_confidence:.2f})"
        )
        lines.append(
            f"     spotify_id={meta.spotify_id or '-'}  isrc={meta.isrc or '-'}  "
            f"musicbrainz_id={meta.musicbrainz_id or '-'}"
        )
        key = (
            f"{meta.musical_key} ({meta.camelot_key} / {meta.open_key})"
            if meta.HasField("musical_key")
            else "-"
        )
        bpm = f"{meta.bpm:g}" if meta.HasField("bpm") else "-"
        lines.append(
            f"     key={key}  bpm={bpm}  label={meta.label or '-'}"
            f"  released={meta.release_date or '-'}"
        )
        lines.append(f"     tags: {', '.join(meta.genres) or '-'}")
    for error in response.errors:
        lines.append(
            f"     error: {pb.Source.Name(error.source)} {error.message}"
            f" (retriable={error.retriable})"
        )
    return "\n".join(lines)


async def _run_sample(target: str) -> int:
    requests = [make_request(a, t, track_id=f"demo-{i}") for i, (a, t, _) in enumerate(SAMPLE)]
    async with await EnrichmentClient.connect(target, timeout_s=60, wait_ready_s=20) as client:
        started = time.perf_counter()
        first = {r.index: r.response async for r in client.enrich_many(requests)}
        cold = time.perf_counter() - started
        for index, query in enumerate(SAMPLE):
            print(_describe(index, query, first[index]))
        started = time.perf_counter()
        second = {r.index: r.response async for r in client.enrich_many(requests)}
        warm = time.perf_counter() - started
    counts: dict[str, int] = {}
    for response in first.values():
        name = pb.EnrichmentStatus.Name(response.status).removeprefix("ENRICHMENT_STATUS_")
        counts[name] = counts.get(name, 0) + 1
    cached = sum(r.cached for r in second.values())
    print(f"\n{len(SAMPLE)} rows: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    print(
        f"first pass {cold * 1000:.0f} ms; second pass {warm * 1000:.0f} ms,"
        f" {cached} answered from cache"
    )
    return 0


async def demo(port: int, keep_running: bool) -> int:
    """Run the demo; return the exit status."""
    sandbox, settings = await _start_sandbox()
    server = None
    log_path = Path(tempfile.gettempdir()) / "enrichment-demo-server.log"
    try:
        _enable_audio_features(settings)
        port = port or _free_port()
        server = await _start_server(settings, port, log_path)
        print(
            f"sandbox upstreams: {settings['ENRICHMENT_SPOTIFY_API_URL']} (Spotify), "
            f"{settings['ENRICHMENT_MUSICBRAINZ_URL']} (MusicBrainz), "
            f"{settings['ENRICHMENT_LASTFM_URL']} (Last.fm)"
        )
        print(f"enrichment-server: 127.0.0.1:{port} (log: {log_path})\n")
        status = await _run_sample(f"127.0.0.1:{port}")
        await _crawl(f"127.0.0.1:{port}", _database_url(log_path))
        if keep_running:
            print(
                f"\nserving on 127.0.0.1:{port}; try: grpcurl -plaintext 127.0.0.1:{port} list"
                "  (Ctrl-C stops)"
            )
            await asyncio.to_thread(signal.sigwait, {signal.SIGINT, signal.SIGTERM})
        return status
    finally:
        for process in (server, sandbox):
            if process is not None and process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)
        if server is not None:
            print(f"server stopped (exit {server.returncode})")


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    parser = argparse.ArgumentParser(prog="enrichment-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="gRPC port (default: a free one)")
    parser.add_argument("--keep-running", action="store_true", help="serve until Ctrl-C")
    args = parser.parse_args(argv)
    sys.exit(asyncio.run(demo(args.port, args.keep_running)))
