"""The README's ops recipes, run line by line against a live server (they stay true)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

from enrichment_client import EnrichmentClient
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from enrichment_server.crypto import generate_key
from tests.integration.conftest import sandbox_settings

README = Path(__file__).resolve().parents[2] / "README.md"
TOKEN = "recipe-token"


def recipes() -> list[str]:
    """The commands of the first sh block under "## Ops recipes"."""
    text = README.read_text()
    section = text[text.index("## Ops recipes") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    lines = [line.strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def run(line: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One recipe through bash (pipefail: a failing grep fails the recipe)."""
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def test_the_recipe_block_covers_the_runbook() -> None:
    """Health, stats, breakers, DLQ, credentials, the status table and metrics are there."""
    text = "\n".join(recipes())
    for needle in (
        "health",
        " stats",
        "reset-breaker",
        "ResetBreaker",
        "dlq list",
        "dlq replay",
        "credentials set",
        "enrichment_status",
        "enrichment_api_duration_seconds",
        "enrichment_tasks_total",
    ):
        assert needle in text, needle


async def test_every_recipe_runs_against_a_live_server(sandbox: Sandbox, tmp_path: Path) -> None:
    """Each README recipe exits 0 against a server with a token, a key and some history."""
    database = tmp_path / "enrichment.db"
    settings = sandbox_settings(
        sandbox,
        database_url=f"sqlite+aiosqlite:///{database}",
        admin_token=TOKEN,
        secret_key=generate_key(),
    )
    sandbox.spotify.controls.faults.add(FaultRule(kind="status", status=500, times=3))
    async with running(settings) as app:
        async with await EnrichmentClient.connect(f"127.0.0.1:{app.port}") as client:
            await client.enrich("Röyksopp", "Eple")  # a dead letter for the DLQ recipes
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "ENRICHMENT_ADMIN_TOKEN": TOKEN,
            "LASTFM_API_KEY": sandbox.lastfm_api_key,
        }
        results = {}
        for line in recipes():
            concrete = (
                line.replace("127.0.0.1:50051", f"127.0.0.1:{app.port}")
                .replace("127.0.0.1:9090", f"127.0.0.1:{app.metrics_port}")
                .replace("enrichment.db", str(database))
            )
            results[line] = await asyncio.to_thread(run, concrete, env)
    failed = {line: r.stderr[-300:] for line, r in results.items() if r.returncode != 0}
    assert not failed, failed
    outputs = {line: r.stdout for line, r in results.items()}
    stats = next(out for line, out in outputs.items() if line.endswith(" stats"))
    assert '"coverage_percentages"' in stats
    listing = next(out for line, out in outputs.items() if "dlq list" in line)
    assert '"SOURCE_SPOTIFY"' in listing
    credentials = next(out for line, out in outputs.items() if "credentials list" in line)
    assert sandbox.lastfm_api_key[-4:] in credentials
    assert sandbox.lastfm_api_key not in credentials
