"""Items/s through ``APIEnrichmentPipeline`` against a running service, cold then warm.

``python -m bench.pipeline --target 127.0.0.1:50051 [--tracks tracks.json]
[--concurrency 100]``. The tracks (JSON ``[{"artist": ..., "title": ...}]``; default: every
track of the fixture site) go through ``process_item`` with ``concurrency`` items in
flight, as Scrapy's ``CONCURRENT_ITEMS`` would (and an in-flight window of that size:
``ENRICHMENT_MAX_IN_FLIGHT``); the first pass meets a cold service cache,
the second a warm one. The ids carry a run-unique suffix so "cold" is really cold.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from enrichment_sandbox.sites import DEFAULT_ROOT
from scrapers.items import TrackItem
from scrapers.parsing import parse_line
from scrapers.pipelines.enrichment import APIEnrichmentPipeline, EnrichmentConfig

__all__ = ["BenchResult", "bench", "fixture_tracks"]


@dataclass(frozen=True, slots=True)
class BenchResult:
    """One pass: items, seconds, items/s and the outcome counters."""

    label: str
    items: int
    seconds: float
    outcomes: dict[str, int]

    @property
    def items_per_s(self) -> float:
        """Throughput."""
        return self.items / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        rate = f"{self.items_per_s:.0f} items/s"
        return f"{self.label}: {self.items} items in {self.seconds:.2f}s = {rate} {self.outcomes}"


class _Stats:
    """A minimal stats collector."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        """Add ``count`` to ``key``."""
        self.values[key] += count


def fixture_tracks(root: Path = DEFAULT_ROOT) -> list[tuple[str, str]]:
    """Distinct (artist, title) pairs of the 1001tracklists fixture pages."""
    found: dict[str, tuple[str, str]] = {}
    for page in sorted((root / "1001tracklists" / "tracklist").rglob("*.html")):
        for line in page.read_text().split('itemprop="name" content="')[1:]:
            parsed = parse_line(line.split('"', 1)[0])
            for track in parsed.tracks if parsed else ():
                found.setdefault(track.track_id, (track.artist, track.title))
    return list(found.values())


async def _pass(
    pipeline: APIEnrichmentPipeline,
    label: str,
    tracks: Sequence[tuple[str, str]],
    run: str,
    concurrency: int,
) -> BenchResult:
    """Push every track through the pipeline with ``concurrency`` in flight."""
    pipeline.stats = stats = _Stats()
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, artist: str, title: str) -> None:
        async with gate:
            item = TrackItem(track_id=f"bench-{run}-{index}", artist_name=artist, track_title=title)
            await pipeline.process_item(item)

    started = time.perf_counter()
    await asyncio.gather(*(one(i, a, t) for i, (a, t) in enumerate(tracks)))
    seconds = time.perf_counter() - started
    outcomes = {k.removeprefix("enrichment/"): v for k, v in sorted(stats.values.items())}
    return BenchResult(label, len(tracks), seconds, outcomes)


async def bench(
    target: str, tracks: Sequence[tuple[str, str]], concurrency: int = 100
) -> list[BenchResult]:
    """A cold pass then a warm pass of ``tracks`` through the pipeline at ``target``."""
    pipeline = APIEnrichmentPipeline(
        EnrichmentConfig(target, 30.0, fallback_enabled=False, max_in_flight=concurrency),
        _Stats(),
    )
    await pipeline.open_spider()
    run = uuid.uuid4().hex[:8]
    try:
        return [
            await _pass(pipeline, "cold", tracks, run, concurrency),
            await _pass(pipeline, "warm", tracks, run, concurrency),
        ]
    finally:
        await pipeline.close_spider()


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: print both passes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--tracks", type=Path, help='JSON [{"artist": ..., "title": ...}]')
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args(argv)
    tracks = (
        [(t["artist"], t["title"]) for t in json.loads(args.tracks.read_text())]
        if args.tracks
        else fixture_tracks()
    )
    for result in asyncio.run(bench(args.target, tracks, args.concurrency)):
        print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
