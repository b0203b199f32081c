"""Crawl the local fixture sites through both pipelines and return the enriched tracklists.

``await crawl_fixture_site(target, database_url)`` serves the recorded pages and API
answers of every source on 127.0.0.1 and runs a real crawl of every spider
(``python -m scrapers.crawl`` in a subprocess: Scrapy's reactor gets a process of its
own) with the enrichment service at ``target`` and the database at ``database_url``
(which must have the service's schema: start the service on it first); it returns one
row per tracklist entry. CLI: ``python -m enrichment_sandbox.crawl_demo --target 127.0.0.1:50051
--database-url sqlite+aiosqlite:///enrichment.db``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from enrichment_sandbox.sites import DEFAULT_ROOT, KEYED_SITES, FixtureSites
from scrapers.store import create_engine

__all__ = ["crawl_fixture_site", "format_row"]

DEMO_API_KEY = "demo-setlistfm-key"
#: The directory holding the ``scrapers`` package (put on the crawl's PYTHONPATH).
PROJECT_ROOT = Path(__file__).resolve().parents[1]
ROWS = sa.text(
    "SELECT s.setlist_id, s.name AS setlist, l.position, l.cue_time, t.track_id,"
    " t.artist_name, t.track_title, t.spotify_id, t.bpm, t.musical_key, t.camelot_key,"
    " t.label, st.status FROM setlist_tracks l JOIN setlists s ON s.setlist_id = l.setlist_id"
    " JOIN tracks t ON t.track_id = l.track_id"
    " LEFT JOIN enrichment_status st ON st.track_id = t.track_id"
    " ORDER BY s.date, s.setlist_id, l.position"
)


async def _run_crawl(settings: dict[str, str]) -> None:
    """``python -m scrapers.crawl`` with ``settings``; raises if it fails."""
    root = PROJECT_ROOT
    args = [f"--set={name}={value}" for name, value in settings.items()]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scrapers.crawl", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await process.communicate()
    except BaseException:  # cancelled (the demo was told to stop): the crawl stops too
        if process.returncode is None:
            process.terminate()
            await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(f"crawl failed ({process.returncode}):\n{output.decode()[-4000:]}")


async def crawl_fixture_site(
    target: str, database_url: str, *, fixtures: Path = DEFAULT_ROOT
) -> list[dict[str, Any]]:
    """Crawl the fixture site into ``database_url`` via the service at ``target``; the rows."""
    keys = dict.fromkeys(KEYED_SITES, DEMO_API_KEY)
    with FixtureSites(fixtures, api_keys=keys) as sites:
        await _run_crawl(
            sites.crawl_settings(DEMO_API_KEY)
            | {
                "METADATA_ENRICHMENT_URL": target,
                "ENRICHMENT_DATABASE_URL": database_url,
                "LOG_LEVEL": "INFO",
            }
        )
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(ROWS)).mappings()]
    finally:
        await engine.dispose()


def format_row(row: dict[str, Any]) -> str:
    """One tracklist entry as a printable line."""
    bpm = f"{row['bpm']:.0f}" if row["bpm"] is not None else "-"
    return (
        f"{row['position']:>3} {row['cue_time'] or '':>8}  "
        f"{row['artist_name']} - {row['track_title']}"
        f"  [{row['status'] or 'saved'}] spotify={row['spotify_id'] or '-'} bpm={bpm}"
        f" key={row['musical_key'] or '-'} ({row['camelot_key'] or '-'})"
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: crawl and print every tracklist."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--database-url", default="sqlite+aiosqlite:///enrichment.db")
    args = parser.parse_args(argv)
    current = None
    for row in asyncio.run(crawl_fixture_site(args.target, args.database_url)):
        if row["setlist_id"] != current:
            current = row["setlist_id"]
            print(f"\n{row['setlist']}")
        print(format_row(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
