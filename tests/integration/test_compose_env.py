"""compose.yaml's stack without Docker: the sandbox and the server started with the environment
and arguments compose gives them enrich tracks with every source (the sandbox accepts the
credentials compose passes to both). Only what needs Docker is replaced: the compose service
names of Redis and Postgres (a private Redis and a SQLite file stand in) and fixed ports
(free ones, renumbered consistently in the sandbox's arguments and the server's URLs)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml

from enrichment_client import EnrichmentClient, pb
from tests.integration.processes import free_port, wait_serving
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ``${NAME}`` / ``${NAME:-default}`` interpolation."""
    return _VARIABLE.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)


def compose_services(env: Mapping[str, str]) -> dict[str, Any]:
    """compose.yaml's services, YAML anchors and merge keys resolved, values interpolated."""
    services: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    for service in services.values():
        environment = service.get("environment") or {}
        service["environment"] = {k: interpolate(str(v), env) for k, v in environment.items()}
    return services


@asynccontextmanager
async def process(argv: list[str], env: Mapping[str, str], log: Path) -> AsyncIterator[None]:
    """A child process with ``env`` (plus PATH), stopped with SIGTERM on exit."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ENRICHMENT_")}
    with log.open("wb") as sink:
        child = await asyncio.create_subprocess_exec(
            *argv, env={**base, **env}, stdout=sink, stderr=sink
        )
    try:
        yield
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
            await asyncio.wait_for(child.wait(), 30)


async def test_compose_environment_enriches_with_every_source(tmp_path: Path) -> None:
    """Sandbox + server as compose configures them: Spotify, Last.fm and GetSongBPM accept
    the compose credentials, so a known track is COMPLETED with their data."""
    services = compose_services(env={})
    server_env: dict[str, str] = dict(services["server"]["environment"])
    sandbox = services["sandbox"]
    args = [str(a) for a in sandbox["command"]]
    renumbered: dict[str, str] = {}
    for index, arg in enumerate(args):
        flag, _, fixed = arg.partition("=")
        if flag.endswith("-port"):
            renumbered[fixed] = str(free_port())
            args[index] = f"{flag}={renumbered[fixed]}"
    for name, value in server_env.items():
        for old, new in renumbered.items():
            value = value.replace(f"127.0.0.1:{old}", f"127.0.0.1:{new}")
        server_env[name] = value
    assert set(sandbox["environment"]) == {
        "ENRICHMENT_SPOTIFY_CLIENT_ID",
        "ENRICHMENT_SPOTIFY_CLIENT_SECRET",
        "ENRICHMENT_LASTFM_API_KEY",
        "ENRICHMENT_GETSONGBPM_API_KEY",
    }
    assert all(server_env[k] == v for k, v in sandbox["environment"].items())
    port = free_port()
    with RedisServer() as redis:
        assert server_env["ENRICHMENT_REDIS_URL"] == "redis://redis:6379/0"
        server_env |= {
            "ENRICHMENT_REDIS_URL": redis.url,
            "ENRICHMENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'compose.db'}",
            "ENRICHMENT_GRPC_HOST": "127.0.0.1",
            "ENRICHMENT_GRPC_PORT": str(port),
            "ENRICHMENT_METRICS_HOST": "127.0.0.1",
            "ENRICHMENT_METRICS_PORT": str(free_port()),
        }
        (entrypoint,) = sandbox["entrypoint"]
        async with (
            process([str(BIN / entrypoint), *args], sandbox["environment"], tmp_path / "sb.log"),
            process([str(BIN / "enrichment-server")], server_env, tmp_path / "server.log"),
        ):
            await wait_serving(f"127.0.0.1:{port}", 30)
            async with await EnrichmentClient.connect(f"127.0.0.1:{port}") as client:
                response = await client.enrich("deadmau5", "Strobe", track_id="compose-1")
    print((tmp_path / "server.log").read_text()[-1500:])
    assert response.status == pb.ENRICHMENT_STATUS_COMPLETED, response.errors
    assert {pb.SOURCE_SPOTIFY, pb.SOURCE_LASTFM} <= set(response.sources_used)
    assert not response.errors
    assert response.metadata.spotify_id == "41Xji81wFy3cM7ggbGczQW"
