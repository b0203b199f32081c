"""The demo helper and the pipeline benchmark, against a real server on the sandbox."""

from __future__ import annotations

import pytest

from bench.pipeline import bench, fixture_tracks
from enrichment_sandbox.catalogue import load_catalogue
from enrichment_sandbox.crawl_demo import crawl_fixture_site, format_row
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from tests.integration.conftest import sandbox_settings
from tests.scrapers.support import EXPECTED_LINKS, EXPECTED_TRACKS, UNKNOWN_TRACKS

#: Whole crawls against real servers: minutes on a busy machine. The timeout only catches a
#: hang; nothing here asserts how long a crawl takes (that is bench/'s business).
pytestmark = pytest.mark.timeout(300)


async def test_demo_crawl_returns_enriched_rows(database_url: str, sandbox: Sandbox) -> None:
    """crawl_fixture_site returns every tracklist entry, enriched."""
    async with running(
        sandbox_settings(sandbox, database_url=database_url, lastfm_rate_per_s=0.0)
    ) as app:
        rows = await crawl_fixture_site(f"127.0.0.1:{app.port}", database_url)
    print("\n" + "\n".join(format_row(row) for row in rows[:5]))
    assert len(rows) == EXPECTED_LINKS
    enriched = {row["track_id"] for row in rows if row["spotify_id"] and row["camelot_key"]}
    assert len(enriched) == EXPECTED_TRACKS - UNKNOWN_TRACKS


async def test_pipeline_throughput_cold_and_warm(sandbox: Sandbox) -> None:
    """The pipeline benchmark runs a cold and a warm pass over every track, and the warm pass
    completes at least the catalogue's tracks."""
    catalogue = [(t.artist, t.title) for t in load_catalogue().tracks][:200]
    tracks = fixture_tracks() + catalogue
    settings = sandbox_settings(sandbox, lastfm_rate_per_s=0.0, record_results=False)
    async with running(settings) as app:
        cold, warm = await bench(f"127.0.0.1:{app.port}", tracks, concurrency=100)
    print(f"\n{cold}\n{warm}")
    assert cold.items == warm.items == len(tracks)
    # Which pass is faster is a speed claim: `python -m bench.pipeline` reports both rates on
    # a quiet machine; on a busy one a test comparing them would fail for the wrong reason.
    assert warm.outcomes.get("completed", 0) >= len(catalogue)
