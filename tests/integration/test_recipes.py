"""The README's ops recipes, run literally against ``enrichment-demo --keep-running`` started
as the README says (only its two ports replaced by free ones), and the Redis clean-up recipe
against a real Redis holding keys with spaces."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import redis

from enrichment_server.crypto import generate_key
from tests.integration.demo_process import DemoProcess, survivors
from tests.redis_server import RedisServer

README = Path(__file__).resolve().parents[2] / "README.md"
TOKEN = "recipe-token-0123456789"
LASTFM_KEY = "recipe-lastfm-key-0123"


def _sh_blocks() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Ops recipes") : text.index("### TLS")]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def _commands(block: str) -> list[str]:
    lines = [line.strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def recipes() -> list[str]:
    """The commands of the runbook block (the one starting "# Service unavailable?")."""
    (block,) = [b for b in _sh_blocks() if b.startswith("# Service unavailable?")]
    return _commands(block)


def setup() -> list[str]:
    """The README's set-up commands for the recipes (the block starting the demo)."""
    (block,) = [b for b in _sh_blocks() if "enrichment-demo --keep-running" in b]
    return _commands(block)


def run(line: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """One recipe through bash (pipefail: a failing grep fails the recipe)."""
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=cwd,
    )


def test_the_recipe_block_covers_the_runbook() -> None:
    """Health, stats, breakers, DLQ, credentials, the status table and metrics are there,
    and the set-up exports what the recipes need before starting the demo."""
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
    steps = setup()
    assert [s.split("=")[0] for s in steps[:2]] == [
        "export ENRICHMENT_ADMIN_TOKEN",
        "export ENRICHMENT_SECRET_KEY",
    ]
    assert steps[-1] == "enrichment-demo --keep-running &"


def _inject_spotify_failures(demo_output: str) -> None:
    """Through the sandbox's fault switch (its URL is printed by the demo): 500 x3."""
    match = re.search(r"sandbox upstreams: (http://127\.0\.0\.1:\d+)/v1 \(Spotify\)", demo_output)
    assert match is not None, demo_output[:500]
    request = urllib.request.Request(  # noqa: S310 - the sandbox's loopback URL
        f"{match.group(1)}/_sandbox/faults",
        data=json.dumps({"kind": "status", "status": 500, "times": 3}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5):  # noqa: S310
        pass


# A whole demo run (sample + ten-site crawl in real processes): minutes on a busy machine.
@pytest.mark.timeout(600)
def test_every_recipe_runs_against_the_demo(tmp_path: Path) -> None:
    """Each README recipe exits 0, as written, beside `enrichment-demo --keep-running` run from
    the same directory with the README's exports; SIGTERM then stops the demo and every
    process it started."""
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "ENRICHMENT_ADMIN_TOKEN": TOKEN,
        "ENRICHMENT_SECRET_KEY": generate_key(),
        "LASTFM_API_KEY": LASTFM_KEY,
    }
    with DemoProcess(tmp_path, "--keep-running", env=env) as demo:
        demo.wait_for("serving on")
        _inject_spotify_failures(demo.output)
        target = f"127.0.0.1:{demo.port}"
        dead = run(
            f"enrichment --target {target} enrich --artist Bicep --title Glue --force-refresh",
            env,
            tmp_path,
        )
        assert dead.returncode == 0, dead.stderr
        results = {}
        for line in recipes():
            concrete = line.replace("127.0.0.1:50051", target).replace(
                "127.0.0.1:9090", f"127.0.0.1:{demo.metrics_port}"
            )
            results[line] = run(concrete, env, tmp_path)
        children = demo.children()
        code = demo.stop(signal.SIGTERM)
    failed = {line: r.stderr[-300:] for line, r in results.items() if r.returncode != 0}
    assert not failed, failed
    outputs = {line: r.stdout for line, r in results.items()}
    watch = next(out for line, out in outputs.items() if "Health/Watch" in line)
    assert '"status": "SERVING"' in watch  # and the stream stayed open until -max-time
    stats = next(out for line, out in outputs.items() if line.endswith(" stats"))
    assert '"coverage_percentages"' in stats
    listing = next(out for line, out in outputs.items() if "dlq list" in line)
    assert '"SOURCE_SPOTIFY"' in listing
    credentials = next(out for line, out in outputs.items() if "credentials list" in line)
    assert LASTFM_KEY[-4:] in credentials
    assert LASTFM_KEY not in credentials
    assert len(children) >= 2, [c.cmdline() for c in children]
    assert code == 0
    assert survivors(children) == []


def _redis_recipe() -> str:
    (line,) = [c for b in _sh_blocks() for c in _commands(b) if "redis-cli --scan" in c]
    return line


def test_redis_clean_up_recipe_deletes_keys_with_spaces() -> None:
    """The clean-up recipe, on a private Redis, deletes all 25 cache keys, spaces included
    (the plain `xargs` form left the search keys), and nothing outside the prefix."""
    keys = [f"enrichment:v1:spotify:search:artist {i} title {i}" for i in range(10)]
    keys += [f"enrichment:v1:musicbrainz:isrc:GBAAA00000{i:02d}" for i in range(10)]
    keys += [f"enrichment:v1:lastfm:info:dj {i} - track" for i in range(5)]
    with RedisServer() as server:
        client = redis.Redis(port=server.port)
        client.set("other:app:key with space", b"keep")

        def fill() -> None:
            for key in keys:
                client.set(key, b"x")

        def run_recipe(line: str) -> int:
            concrete = line.replace("redis-cli", f"redis-cli -p {server.port}")
            done = subprocess.run(["bash", "-c", concrete], capture_output=True, timeout=30)
            assert done.returncode == 0, done.stderr
            return len(client.keys("enrichment:v1:*"))

        fill()
        naive = _redis_recipe().replace("xargs -r -d '\\n'", "xargs -r")
        assert naive != _redis_recipe()
        assert run_recipe(naive) == 15  # the old recipe: the keys with spaces stay
        fill()
        assert run_recipe(_redis_recipe()) == 0
        assert client.get("other:app:key with space") == b"keep"
        client.close()
