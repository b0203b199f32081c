"""The seed's curl and psql recipes ("Testing & Verification", "Monitoring",
"Troubleshooting") run as written against a live server on Postgres.

Only the host and port, the ``docker compose exec postgres`` prefix with its
``-U musicdb_user -d musicdb`` (our database instead) and the admin token header on the
reset differ (issue 18). The spider recipe belongs to the scrapers' tests and the
Redis cache-clearing one would empty the shared Redis of other tests, so they are not here.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from enrichment_client import EnrichmentClient
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import App, running
from tests.integration.conftest import sandbox_settings

pytestmark = pytest.mark.integration
TOKEN = "seed-recipe-token"
SEED_URL = "http://localhost:8022"
SEED_PSQL = "docker compose exec postgres psql -U musicdb_user -d musicdb"
#: The seed's recipes, copied as they are written there (continuation lines included).
SEED_RECIPES = {
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
    """A server on Postgres with one enriched and one failed track."""

    app: App
    database_url: str


@pytest.fixture
async def live(sandbox: Sandbox, postgres_url: str) -> AsyncIterator[Live]:
    """deadmau5 - Strobe enriched; a second track failed while every upstream answered 503."""
    settings = sandbox_settings(
        sandbox,
        database_url=postgres_url,
        admin_token=TOKEN,
        breaker_consecutive_failures=100,
        http_max_attempts=1,
    )
    async with running(settings) as app:
        async with await EnrichmentClient.connect(f"127.0.0.1:{app.port}") as client:
            await client.enrich("deadmau5", "Strobe", track_id="seed-strobe")
            for upstream in sandbox.upstreams().values():
                upstream.controls.faults.add(FaultRule(kind="status", status=503))
            await client.enrich("deadmau5", "Ghosts 'n' Stuff", track_id="seed-failed")
            for upstream in sandbox.upstreams().values():
                upstream.controls.faults.clear()
        try:
            yield Live(app, postgres_url)
        finally:
            assert app.store is not None
            async with app.store.engine.begin() as conn:  # the session's database is shared
                await conn.execute(sa.text("DELETE FROM tracks"))


def adapt(recipe: str, live: Live) -> str:
    """Host and port, the psql connection, and the token header: nothing else changes."""
    url = make_url(live.database_url)
    psql = f"psql -h {url.host} -p {url.port or 5432} -U {url.username} -d {url.database}"
    line = recipe.replace(SEED_URL, f"http://127.0.0.1:{live.app.http_port}")
    line = line.replace(SEED_PSQL, psql)
    if "reset-circuit-breaker" in line:
        line = line.replace("curl ", 'curl -H "Authorization: Bearer $ENRICHMENT_ADMIN_TOKEN" ', 1)
    return line


def run(line: str) -> str:
    """Run one recipe in bash (pipefail: a grep finding nothing fails it); its stdout."""
    env = {**os.environ, "ENRICHMENT_ADMIN_TOKEN": TOKEN, "PGPASSWORD": ""}
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        check=False,
    )
    assert done.returncode == 0, (line, done.stderr)
    return done.stdout


async def test_the_seed_recipes_run_as_written(live: Live) -> None:
    """Each recipe exits 0 and prints what the seed says it shows."""
    out = {
        name: await asyncio.to_thread(run, adapt(recipe, live))
        for name, recipe in SEED_RECIPES.items()
    }
    for name, text in out.items():
        print(f"--- {name}: {adapt(SEED_RECIPES[name], live)}\n{text[:1200]}")
    assert json.loads(out["health"])["status"] == "healthy"
    coverage = json.loads(out["coverage"])
    assert {"spotify_id", "isrc", "audio_features"} <= set(coverage)
    assert coverage["spotify_id"] == 50.0
    assert json.loads(out["stats"])["track_stats"]["by_status"] == {"completed": 1, "failed": 1}
    assert 'enrichment_tasks_total{status="completed"} 1.0' in out["tasks"]
    assert json.loads(out["breakers"])["spotify"]["state"] == "closed"
    assert 'enrichment_api_duration_seconds_count{source="spotify"}' in out["latency"]
    assert "Strobe" in out["tracks"]
    assert "B Major" in out["tracks"]
    assert out["failed"].count("failed") == 1
    assert json.loads(out["reset"])["current_state"] == "closed"
