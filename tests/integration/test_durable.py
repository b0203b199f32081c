"""Durable state through the real server: stats, the dead-letter queue, recovery after
kill -9, and credentials set at run time, on the machine's Postgres."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from enrichment_client import EnrichmentClient, pb
from enrichment_sandbox.catalogue import load_catalogue
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from enrichment_server.crypto import CredentialCipher, generate_key
from enrichment_server.store import Store, create_engine
from tests.integration.conftest import sandbox_settings
from tests.integration.processes import (
    SERVER,
    START_TIMEOUT_S,
    free_port,
    sandbox_process,
    wait_serving,
)
from tests.integration.test_ops import grpcurl

pytestmark = pytest.mark.integration
TOKEN = "t0ken-for-tests-only"
ADMIN = "enrichment.v1.EnrichmentAdminService"
TABLES = ("dead_letters", "enrichment_status", "api_credentials", "tracks")


@pytest.fixture
async def database(postgres_url: str) -> str:
    """The session's Postgres database, migrated and emptied for this test."""
    store = await Store.open(postgres_url)
    await store.close()
    engine = create_engine(postgres_url)
    async with engine.begin() as conn:
        await conn.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    await engine.dispose()
    return postgres_url


def admin(target: str, method: str, body: object) -> list[str]:
    """grpcurl arguments for an admin call with the token."""
    header = f"authorization: Bearer {TOKEN}"
    return ["-plaintext", "-H", header, "-d", json.dumps(body), target, f"{ADMIN}/{method}"]


async def call(target: str, method: str, body: object) -> dict[str, Any]:
    """An admin RPC through the real grpcurl; its JSON answer."""
    result = await grpcurl(*admin(target, method, body))
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


async def test_stats_and_dead_letters_over_grpcurl(sandbox: Sandbox, database: str) -> None:
    """GetStats and ListDeadLetters return the documented fields after real traffic."""
    sandbox.spotify.controls.faults.add(FaultRule(kind="status", status=500))
    settings = sandbox_settings(sandbox, database_url=database, admin_token=TOKEN)
    async with running(settings) as app:
        target = f"127.0.0.1:{app.port}"
        async with await EnrichmentClient.connect(target) as client:
            answers = [await client.enrich(t.artist, t.title) for t in load_catalogue().tracks[:4]]
        stats = await call(target, "GetStats", {})
        page = await call(target, "ListDeadLetters", {"source": "SOURCE_SPOTIFY"})
    assert {a.status for a in answers} == {pb.ENRICHMENT_STATUS_PARTIAL}
    assert stats["total_tracks"] == "4"  # int64 is a JSON string
    assert set(stats["coverage_percentages"]) >= {"spotify_id", "isrc", "musicbrainz_id", "bpm"}
    assert stats["tracks_by_status"] == {"partial": "4"}
    assert stats["dead_letters_due"] == "4"
    assert {b["source"] for b in stats["breakers"]} >= {"SOURCE_SPOTIFY"}
    entries = page["dead_letters"]
    assert len(entries) == 4
    first = entries[0]
    assert first["state"] == "DEAD_LETTER_STATE_DUE"
    assert first["attempts"] == 1
    assert first["errors"][0]["source"] == "SOURCE_SPOTIFY"


async def test_a_failing_source_parks_then_an_operator_replay_succeeds(
    sandbox: Sandbox, database: str
) -> None:
    """Attempts back off, the entry parks after N, a replay re-queues it, and it succeeds
    once the fault is cleared: the dead letter is gone and the track is completed."""
    spotify = sandbox.spotify.controls
    spotify.faults.add(FaultRule(endpoint="search", kind="status", status=503))
    settings = sandbox_settings(
        sandbox,
        database_url=database,
        admin_token=TOKEN,
        workers_enabled=True,
        dlq_interval_s=0.1,
        dlq_backoff_base_s=0.2,
        dlq_max_attempts=3,
        breaker_consecutive_failures=100,
        breaker_min_calls=1000,
    )
    async with running(settings) as app:
        target = f"127.0.0.1:{app.port}"
        async with await EnrichmentClient.connect(target) as client:
            first = await client.enrich("deadmau5", "Strobe", track_id="strobe-1")
            parked = await _wait_for_state(target, "strobe-1", "DEAD_LETTER_STATE_PARKED")
            # A second failing track parks too: the worker made two more passes since, and
            # none of them touched the parked entry (its attempt count is unchanged).
            await client.enrich("Röyksopp", "Eple", track_id="eple-1")
        await _wait_for_state(target, "eple-1", "DEAD_LETTER_STATE_PARKED")
        still = await _wait_for_state(target, "strobe-1", "DEAD_LETTER_STATE_PARKED")
        spotify.faults.clear()
        replay = await call(target, "ReplayDeadLetters", {"all_parked": True})
        await _wait_for_empty_queue(target)
        stats = await call(target, "GetStats", {})
    assert first.status == pb.ENRICHMENT_STATUS_PARTIAL
    assert parked["attempts"] == still["attempts"] == 3
    assert replay["replayed"] == "2"
    assert stats["tracks_by_status"] == {"completed": "2"}


async def _wait_for_state(target: str, track_id: str, state: str) -> dict[str, Any]:
    for _ in range(300):
        entries = (await call(target, "ListDeadLetters", {})).get("dead_letters", [])
        mine = [e for e in entries if e["track_id"] == track_id]
        if mine and mine[0]["state"] == state:
            found: dict[str, Any] = mine[0]
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{track_id}'s dead letter never reached {state}")


async def _wait_for_empty_queue(target: str) -> None:
    for _ in range(300):
        if not (await call(target, "ListDeadLetters", {})).get("dead_letters"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the dead-letter queue never emptied")


async def _dead_letter_count(url: str) -> int:
    engine = create_engine(url)
    async with engine.connect() as conn:
        count = (await conn.execute(sa.text("SELECT count(*) FROM dead_letters"))).scalar_one()
    await engine.dispose()
    return int(count)


async def test_kill_9_mid_replay_loses_nothing(database: str, tmp_path: Path) -> None:
    """kill -9 while replays are in flight: every entry is still queued, and a restarted
    server replays them all (queued before = queued after + completed)."""
    async with sandbox_process() as sandbox:
        base = sandbox | {
            "ENRICHMENT_DATABASE_URL": database,
            "ENRICHMENT_DLQ_INTERVAL_S": "0.1",
            "ENRICHMENT_DLQ_BACKOFF_BASE_S": "0.1",
            "ENRICHMENT_DEFAULT_DEADLINE_S": "3",
            "ENRICHMENT_BREAKER_CONSECUTIVE_FAILURES": "1000",
            "ENRICHMENT_BREAKER_MIN_CALLS": "1000",
            "ENRICHMENT_LASTFM_RATE_PER_S": "0",
            "ENRICHMENT_DEEZER_RATE_PER_S": "0",
            "ENRICHMENT_GETSONGBPM_RATE_PER_S": "0",
            "ENRICHMENT_MUSICBRAINZ_RATE_PER_S": "1000",
        }
        origin = sandbox["ENRICHMENT_SPOTIFY_API_URL"].removesuffix("/v1")
        await _spotify_admin(origin, "POST", "faults", {"kind": "status", "status": 500})
        first = await _start(base, tmp_path / "a.log")
        tracks = load_catalogue().tracks[:12]
        async with await EnrichmentClient.connect(first[1]) as client:
            await asyncio.gather(*(client.enrich(t.artist, t.title) for t in tracks))
        queued_before = await _dead_letter_count(database)
        # Slow, healthy Spotify: replays are in flight when the process dies (a request
        # that reached Spotify after the latency was set is held there for 1.5 s).
        await _spotify_admin(origin, "PUT", "latency", {"endpoint": "*", "ms": 1500})
        calls = await _spotify_calls(origin)
        await _spotify_admin(origin, "DELETE", "faults", None)
        for _ in range(600):
            if await _spotify_calls(origin) > calls:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no replay reached Spotify within 30 s")
        first[0].send_signal(signal.SIGKILL)
        await first[0].wait()
        queued_after_kill = await _dead_letter_count(database)
        await _spotify_admin(origin, "PUT", "latency", {"endpoint": "*", "ms": 0})
        second = await _start(base, tmp_path / "b.log")
        for _ in range(150):
            if await _dead_letter_count(database) == 0:
                break
            await asyncio.sleep(0.1)
        second[0].send_signal(signal.SIGTERM)
        await second[0].wait()
    completed = await _count_status(database, "completed")
    remaining = await _dead_letter_count(database)
    print(json.dumps({"queued_before": queued_before, "queued_after_kill": queued_after_kill,
                      "queued_at_end": remaining, "completed": completed}))  # fmt: skip
    assert queued_before == len(tracks)
    assert queued_after_kill == queued_before  # the kill lost nothing
    assert remaining == 0
    assert queued_before == remaining + completed  # before = after + successes


async def _count_status(url: str, status: str) -> int:
    engine = create_engine(url)
    async with engine.connect() as conn:
        query = sa.text("SELECT count(*) FROM enrichment_status WHERE status = :s")
        count = (await conn.execute(query, {"s": status})).scalar_one()
    await engine.dispose()
    return int(count)


async def _spotify_admin(origin: str, method: str, path: str, body: object) -> None:
    url = f"{origin}/_sandbox/{path}"
    async with aiohttp.ClientSession() as http, http.request(method, url, json=body) as resp:
        assert resp.status < 300, await resp.text()


async def _spotify_calls(origin: str) -> int:
    """Requests the sandbox's Spotify has received so far (counted as they arrive)."""
    url = f"{origin}/_sandbox/calls"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return sum((await resp.json())["calls"].values())


async def _start(settings: dict[str, str], log: Path) -> tuple[asyncio.subprocess.Process, str]:
    """A server process (killed by the test itself, not by a context manager)."""
    port = free_port()
    env = {
        **os.environ,
        **settings,
        "ENRICHMENT_GRPC_HOST": "127.0.0.1",
        "ENRICHMENT_GRPC_PORT": str(port),
        "ENRICHMENT_METRICS_PORT": "0",
        "ENRICHMENT_LOG_FORMAT": "json",
    }
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(SERVER, env=env, stderr=sink)
    await wait_serving(f"127.0.0.1:{port}", START_TIMEOUT_S, process)
    return process, f"127.0.0.1:{port}"


async def test_a_credential_set_at_run_time_is_used_without_restart(
    sandbox: Sandbox, database: str
) -> None:
    """No Last.fm key at start: SetCredential stores it encrypted, the next call uses Last.fm,
    the listing is masked, and the plaintext is nowhere in the database."""
    secret = sandbox.lastfm_api_key
    settings = sandbox_settings(
        sandbox, database_url=database, admin_token=TOKEN, secret_key=generate_key()
    )
    settings = settings.model_copy(update={"lastfm_api_key": SecretStr("")})
    async with running(settings) as app:
        target = f"127.0.0.1:{app.port}"
        async with await EnrichmentClient.connect(target) as client:
            before = await client.enrich("deadmau5", "Strobe", force_refresh=True)
            body = {"source": "SOURCE_LASTFM", "name": "api_key", "value": secret}
            stored = await call(target, "SetCredential", body)
            after = await client.enrich("deadmau5", "Strobe", force_refresh=True)
        listed = await call(target, "ListCredentials", {})
    assert pb.SOURCE_LASTFM not in before.sources_used
    assert pb.SOURCE_LASTFM in after.sources_used
    masked = stored["credential"]["masked_value"]
    assert masked.endswith(secret[-4:])
    assert secret not in masked
    assert listed["credentials"][0]["masked_value"] == masked
    engine = create_engine(database)
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT * FROM api_credentials"))).all()
    await engine.dispose()
    stored_bytes = b"".join(
        bytes(v) for row in rows for v in row if isinstance(v, bytes | memoryview)
    )
    assert secret not in repr(rows)
    assert secret.encode() not in stored_bytes


def test_stored_credentials_without_the_key_refuse_to_start(tmp_path: Path) -> None:
    """A database holding encrypted credentials and no ENRICHMENT_SECRET_KEY: exit 2, and
    the message says which variable to set."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'creds.db'}"
    key = generate_key()

    async def store_one() -> None:

        store = await Store.open(url)
        await store.set_credential(
            "lastfm",
            "api_key",
            "abcdef123456",
            CredentialCipher.from_key(key),
            now=datetime.now(UTC),
        )
        await store.close()

    asyncio.run(store_one())
    env = {**os.environ, "ENRICHMENT_DATABASE_URL": url, "ENRICHMENT_GRPC_PORT": "0"}
    env.pop("ENRICHMENT_SECRET_KEY", None)
    result = subprocess.run([SERVER], capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 2
    assert "ENRICHMENT_SECRET_KEY" in result.stderr
