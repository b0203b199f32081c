"""The seed's curl and psql recipes ("Testing & Verification", "Monitoring",
"Troubleshooting") run as written against a live server on Postgres, the crawl included
(its MixesDB is a local one with a deadmau5 mix).

Only the host and port, the ``docker compose exec postgres`` / ``scraper-mixesdb`` prefixes
(psql's ``-U musicdb_user -d musicdb`` become our database; the crawl gets the environment
compose gives the scraper containers) and the admin token header on the reset differ
(issue 18). The Redis cache-clearing recipe would empty the shared Redis of other tests, so
it is not here.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from enrichment_client import EnrichmentClient
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_sandbox.sites import FixtureSites
from enrichment_server.app import App, running
from tests.integration.conftest import sandbox_settings

pytestmark = pytest.mark.integration
TOKEN = "seed-recipe-token"
SEED_URL = "http://localhost:8022"
SEED_PSQL = "docker compose exec postgres psql -U musicdb_user -d musicdb"
SEED_SCRAPER = "docker compose exec scraper-mixesdb "
SCRAPERS_DIR = Path(__file__).resolve().parents[2] / "scrapers"
#: A MixesDB artist category and one mix, in the site's markup (the spider's fixtures have
#: Eric Prydz only; the seed's recipe asks for Deadmau5).
CATEGORY = """<html><head><title>Category:Deadmau5 - MixesDB</title></head><body>
<h1 id="firstHeading">Category:Deadmau5</h1><ul id="catMixesList">
<li><a href="/w/2009-10-03_-_deadmau5_@_Electric_Daisy_Carnival">2009-10-03 - deadmau5</a></li>
</ul></body></html>"""
MIX = """<html><head><title>2009-10-03 - deadmau5 @ Electric Daisy Carnival - MixesDB</title>
</head><body><h1 id="firstHeading">2009-10-03 - deadmau5 @ Electric Daisy Carnival</h1>
<div class="mw-parser-output"><div class="mw-heading mw-heading2"><h2 id="Tracklist">Tracklist
</h2></div><ol><li>[00] deadmau5 - Strobe</li><li>[10] deadmau5 &amp; Kaskade - I Remember</li>
</ol><div class="mw-heading mw-heading2"><h2 id="Comments">Comments</h2></div></div>
</body></html>"""
#: The seed's recipes, copied as they are written there (continuation lines included).
SEED_RECIPES = {
    "crawl": (
        "docker compose exec scraper-mixesdb scrapy crawl mixesdb -a artist_name='Deadmau5' "
        "-a limit=5"
    ),
    "health": "curl http://localhost:8022/health",
    "stats": "curl http://localhost:8022/stats",
    "coverage": "curl http://localhost:8022/stats | jq '.track_stats.coverage_percentages'",
    "tasks": "curl http://localhost:8022/metrics | grep enrichment_tasks_total",
    "breakers": "curl http://localhost:8022/health | jq '.api_clients'",
    "latency": "curl http://localhost:8022/metrics | grep api_duration_seconds",
    "tracks": (
        "docker compose exec postgres psql -U musicdb_user -d musicdb -c \\\n"
        '  "SELECT title, artist, spotify_id, bpm, key FROM tracks '
        "WHERE artist ILIKE '%deadmau5%' LIMIT 5;\""
    ),
    "failed": (
        "docker compose exec postgres psql -U musicdb_user -d musicdb -c \\\n"
        '  "SELECT status, is_retriable, error_message FROM enrichment_status '
        "WHERE status = 'failed' LIMIT 10;\""
    ),
    "reset": "curl -X POST http://localhost:8022/enrich/reset-circuit-breaker/spotify",
}


@dataclass
class Live:
    """A server on Postgres with a failed track, and a MixesDB to crawl."""

    app: App
    database_url: str
    mixesdb_url: str


@pytest.fixture
async def live(sandbox: Sandbox, postgres_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    """A failed track (every upstream answered 503) and a local MixesDB with a deadmau5 mix."""
    settings = sandbox_settings(
        sandbox,
        database_url=postgres_url,
        admin_token=TOKEN,
        breaker_consecutive_failures=100,
        http_max_attempts=1,
    )
    async with running(settings) as app:
        async with await EnrichmentClient.connect(f"127.0.0.1:{app.port}") as client:
            for upstream in sandbox.upstreams().values():
                upstream.controls.faults.add(FaultRule(kind="status", status=503))
            await client.enrich("deadmau5", "Ghosts 'n' Stuff", track_id="seed-failed")
            for upstream in sandbox.upstreams().values():
                upstream.controls.faults.clear()
        site = tmp_path / "mixesdb"
        (site / "w").mkdir(parents=True)
        (site / "robots.txt").write_text("User-agent: *\nDisallow: /w/Special:\n")
        (site / "w" / "Category:Deadmau5").write_text(CATEGORY)
        (site / "w" / "2009-10-03_-_deadmau5_@_Electric_Daisy_Carnival").write_text(MIX)
        try:
            with FixtureSites(tmp_path) as sites:
                yield Live(app, postgres_url, sites.base_urls["mixesdb"])
        finally:
            assert app.store is not None
            async with app.store.engine.begin() as conn:  # the session's database is shared
                for table in ("setlist_tracks", "setlists"):  # the crawl's, when it made them
                    exists = sa.text("SELECT to_regclass(:name)").bindparams(name=table)
                    if (await conn.execute(exists)).scalar():
                        await conn.execute(sa.table(table).delete())
                await conn.execute(sa.text("DELETE FROM tracks"))


def adapt(recipe: str, live: Live) -> str:
    """Host and port, the psql connection, and the token header: nothing else changes."""
    url = make_url(live.database_url)
    psql = f"psql -h {url.host} -p {url.port or 5432} -U {url.username} -d {url.database}"
    line = recipe.replace(SEED_URL, f"http://127.0.0.1:{live.app.http_port}")
    line = line.replace(SEED_PSQL, psql).replace(SEED_SCRAPER, "")
    if "reset-circuit-breaker" in line:
        line = line.replace("curl ", 'curl -H "Authorization: Bearer $ENRICHMENT_ADMIN_TOKEN" ', 1)
    return line


def run(line: str, live: Live) -> str:
    """Run one recipe in bash (pipefail: a grep finding nothing fails it) in the scrapers'
    directory with the environment compose gives the containers; its stdout."""
    env = {
        **os.environ,
        "ENRICHMENT_ADMIN_TOKEN": TOKEN,
        "PGPASSWORD": "",
        "METADATA_ENRICHMENT_URL": f"127.0.0.1:{live.app.port}",
        "ENRICHMENT_DATABASE_URL": live.database_url,
        "MIXESDB_BASE_URL": live.mixesdb_url,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=SCRAPERS_DIR,
        check=False,
    )
    assert done.returncode == 0, (line, done.stderr[-3000:])
    return done.stdout


async def test_the_seed_recipes_run_as_written(live: Live) -> None:
    """Each recipe exits 0 and prints what the seed says it shows."""
    out = {
        name: await asyncio.to_thread(run, adapt(recipe, live), live)
        for name, recipe in SEED_RECIPES.items()
    }
    for name, text in out.items():
        print(f"--- {name}: {adapt(SEED_RECIPES[name], live)}\n{text[:1200]}")
    assert json.loads(out["health"])["status"] == "healthy"
    coverage = json.loads(out["coverage"])
    assert {"spotify_id", "isrc", "audio_features"} <= set(coverage)
    assert 0 < coverage["spotify_id"] < 100
    by_status = json.loads(out["stats"])["track_stats"]["by_status"]
    assert by_status["failed"] == 1
    assert by_status["completed"] >= 1
    assert 'enrichment_tasks_total{status="completed"}' in out["tasks"]
    assert json.loads(out["breakers"])["spotify"]["state"] == "closed"
    assert 'enrichment_api_duration_seconds_count{source="spotify"}' in out["latency"]
    assert "(2 rows)" in out["tracks"]  # the crawled mix's two deadmau5 tracks
    assert "Strobe" in out["tracks"]
    assert "B Major" in out["tracks"]
    assert out["failed"].count("failed") == 1
    assert json.loads(out["reset"])["current_state"] == "closed"
