"""A refused credential is recorded on the track; fixing it re-enriches exactly those tracks
(issue 12 item 14).

A real server (in-process App, background workers on, the scheduler every 0.2 s) over the
sandbox, whose Last.fm accepts only its own key. Credentials change through the real
SetCredential RPC, or through the environment and a restart.
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from typing import Any

import grpc
import sqlalchemy as sa

from enrichment_client import EnrichmentClient, pb
from enrichment_client.pb.enrichment.v1 import admin_pb2, admin_pb2_grpc
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import App, running
from enrichment_server.config import Settings
from enrichment_server.crypto import generate_key
from enrichment_server.store.models import CredentialRefusal, DeadLetterRow, EnrichmentStatusRow
from tests.integration.conftest import sandbox_settings

TOKEN = secrets.token_hex(16)
WRONG_KEY = "not-the-lastfm-key-0000000000000"
TRACKS = {"c": ("Kölsch", "Grey"), "a": ("deadmau5", "Strobe"), "b": ("Röyksopp", "Eple")}


def settings_for(sandbox: Sandbox, **overrides: object) -> Settings:
    """Workers on with a fast scheduler, a secret key for stored credentials, admin on."""
    values: dict[str, object] = {
        "workers_enabled": True,
        "scheduler_interval_s": 0.2,
        "secret_key": generate_key(),
        "admin_token": TOKEN,
    }
    return sandbox_settings(sandbox, **(values | overrides))


async def set_credential(app: App, source: int, value: str) -> None:
    """SetCredential through the admin RPC."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        await admin_pb2_grpc.EnrichmentAdminServiceStub(channel).SetCredential(
            admin_pb2.SetCredentialRequest(source=source, name="api_key", value=value),  # type: ignore[arg-type]
            metadata=[("authorization", f"Bearer {TOKEN}")],
        )


async def rows(app: App, query: sa.Executable) -> list[tuple[Any, ...]]:
    """Run a query on the app's database."""
    assert app.store is not None
    async with app.store.engine.connect() as conn:
        return [tuple(row) for row in (await conn.execute(query)).all()]


async def attempts(app: App) -> dict[str, int]:
    """Enrichment attempts recorded per track."""
    status = EnrichmentStatusRow
    found = await rows(app, sa.select(status.track_id, status.attempts))
    return {str(track): int(count) for track, count in found}


async def until(app: App, wanted: dict[str, int]) -> dict[str, int]:
    """Attempts per track once every track in ``wanted`` has at least that many (bounded)."""
    for _ in range(300):
        seen = await attempts(app)
        if all(seen.get(track, 0) >= count for track, count in wanted.items()):
            return seen
        await asyncio.sleep(0.05)
    return await attempts(app)


async def enrich(app: App, *track_ids: str) -> dict[str, pb.EnrichResponse]:
    """Enrich the named tracks through the real client."""
    async with await EnrichmentClient.connect(f"127.0.0.1:{app.port}", timeout_s=10) as client:
        return {
            track_id: await client.enrich(*TRACKS[track_id], track_id=track_id)
            for track_id in track_ids
        }


async def test_a_fixed_key_re_enriches_exactly_the_refused_tracks(sandbox: Sandbox) -> None:
    """issue 12 item 14: refusals are recorded (no dead letter); after SetCredential fixes
    the key, exactly the refused tracks are re-enriched in the background, with Last.fm."""
    async with running(settings_for(sandbox)) as app:
        fine = await enrich(app, "c")
        assert pb.SOURCE_LASTFM in fine["c"].sources_used
        await set_credential(app, pb.SOURCE_LASTFM, WRONG_KEY)
        refused = await enrich(app, "a", "b")
        for answer in refused.values():
            codes = {e.source: e.code for e in answer.errors}
            assert codes[pb.SOURCE_LASTFM] == pb.ERROR_CODE_UNAUTHENTICATED
            assert answer.status == pb.ENRICHMENT_STATUS_COMPLETED
        assert await until(app, {"a": 1, "b": 1, "c": 1}) == {"a": 1, "b": 1, "c": 1}
        recorded = await rows(app, sa.select(CredentialRefusal.track_id, CredentialRefusal.source))
        assert sorted(recorded) == [("a", "lastfm"), ("b", "lastfm")]
        assert await rows(app, sa.select(DeadLetterRow.track_id)) == []  # no attempt spent
        lastfm_calls = sum(sandbox.lastfm.controls.calls.values())
        await set_credential(app, pb.SOURCE_LASTFM, sandbox.lastfm_api_key)
        after = await until(app, {"a": 2, "b": 2})
        assert after == {"a": 2, "b": 2, "c": 1}  # c was never refused: not re-enriched
        assert sum(sandbox.lastfm.controls.calls.values()) > lastfm_calls
        assert await rows(app, sa.select(CredentialRefusal.track_id)) == []
        status = EnrichmentStatusRow
        used = dict(await rows(app, sa.select(status.track_id, status.sources)))
        assert "lastfm" in used["a"]
        assert "lastfm" in used["b"]


async def test_a_key_fixed_in_the_environment_re_enriches_after_a_restart(
    sandbox: Sandbox,
) -> None:
    """issue 12 item 14: a key refused, then fixed in the environment: the restarted
    server re-enriches the refused track in the background."""
    database = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='enrichment-')}/test.db"
    wrong = settings_for(sandbox, database_url=database, lastfm_api_key=WRONG_KEY)
    async with running(wrong) as app:
        await enrich(app, "a")
        assert await until(app, {"a": 1}) == {"a": 1}
    right = settings_for(sandbox, database_url=database)
    async with running(right) as app:
        assert await until(app, {"a": 2}) == {"a": 2}
        assert await rows(app, sa.select(CredentialRefusal.track_id)) == []


async def test_no_result_computed_without_a_source_is_served_after_its_key_is_set(
    sandbox: Sandbox,
) -> None:
    """issue 12 item 14: a result remembered while Last.fm had no key is not served once a
    key is set: the next call asks Last.fm."""
    async with running(settings_for(sandbox, lastfm_api_key="")) as app:
        first = await enrich(app, "c")
        assert pb.SOURCE_LASTFM not in first["c"].sources_used
        again = await enrich(app, "c")
        assert again["c"].cached  # remembered
        await set_credential(app, pb.SOURCE_LASTFM, sandbox.lastfm_api_key)
        after = await enrich(app, "c")
    assert not after["c"].cached
    assert pb.SOURCE_LASTFM in after["c"].sources_used
