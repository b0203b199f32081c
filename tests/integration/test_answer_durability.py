"""No answer promises a retry that is not durable (issue 12 item 2), on SQLite and Postgres.

The database is made to refuse dead letters by the database itself (a trigger on SQLite,
a CHECK constraint on Postgres), never by patching the service: a retriable answer must
then be UNAVAILABLE, and a final one still answered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from google.rpc import code_pb2

from enrichment_client import EnrichmentClient, InvalidArgument, ServiceUnavailable, pb
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from enrichment_server.store import create_engine
from tests.integration.conftest import sandbox_settings
from tests.integration.fresh_postgres import fresh_postgres

REFUSE = {
    "sqlite": "CREATE TRIGGER refuse BEFORE INSERT ON dead_letters "
    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    "postgresql": "ALTER TABLE dead_letters ADD CONSTRAINT refuse CHECK (false) NOT VALID",
}
ACCEPT = {
    "sqlite": "DROP TRIGGER IF EXISTS refuse",
    "postgresql": "ALTER TABLE dead_letters DROP CONSTRAINT IF EXISTS refuse",
}


@dataclass
class Served:
    """A running server, its client and its database URL."""

    client: EnrichmentClient
    database_url: str

    async def sql(self, statements: dict[str, str]) -> None:
        """Run the statement for this database's dialect."""
        engine = create_engine(self.database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.text(statements[conn.dialect.name]))
        finally:
            await engine.dispose()

    async def count(self, table: str, track_id: str) -> int:
        """Rows of ``table`` for ``track_id``."""
        engine = create_engine(self.database_url)
        try:
            async with engine.connect() as conn:
                query = sa.text(f"SELECT count(*) FROM {table} WHERE track_id = :t")  # noqa: S608
                return int((await conn.execute(query, {"t": track_id})).scalar_one())
        finally:
            await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
async def served(request: pytest.FixtureRequest, sandbox: Sandbox) -> AsyncIterator[Served]:
    """A server on SQLite or Postgres whose Deezer always fails (so answers are PARTIAL)."""
    sandbox.deezer.controls.faults.add(FaultRule(kind="status", status=500))
    overrides: dict[str, object] = {}
    if request.param == "postgres":
        url = str(request.getfixturevalue("postgres_url"))
        await fresh_postgres(url)
        overrides["database_url"] = url
    settings = sandbox_settings(sandbox, **overrides)
    async with running(settings) as app:
        client = await EnrichmentClient.connect(f"127.0.0.1:{app.port}", timeout_s=10)
        async with client:
            served = Served(client, settings.database_url)
            try:
                yield served
            finally:
                await served.sql(ACCEPT)  # the Postgres database is shared by the session
    engine = create_engine(settings.database_url)
    async with engine.begin() as conn:
        for table in ("dead_letters", "enrichment_status", "tracks"):
            await conn.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608
    await engine.dispose()


async def test_nul_in_track_id_is_invalid_argument(served: Served) -> None:
    """issue 12 item 2: a NUL in track_id is refused before anything is answered or stored."""
    with pytest.raises(InvalidArgument) as info:
        await served.client.enrich("deadmau5", "Strobe", track_id="t\x00-1")
    assert [v.field for v in info.value.violations] == ["track_id"]
    assert await served.count("tracks", "t-1") == 0  # nor stored with the NUL dropped


async def test_retriable_answer_needs_a_durable_dead_letter(served: Served) -> None:
    """issue 12 item 2: PARTIAL is UNAVAILABLE while dead letters cannot be stored, then
    answered (with its dead letter committed) once they can."""
    await served.sql(REFUSE)
    with pytest.raises(ServiceUnavailable):
        await served.client.enrich("deadmau5", "Strobe", track_id="d-1")
    assert await served.count("dead_letters", "d-1") == 0
    await served.sql(ACCEPT)
    response = await served.client.enrich("deadmau5", "Strobe", track_id="d-1")
    assert response.status == pb.ENRICHMENT_STATUS_PARTIAL
    assert await served.count("dead_letters", "d-1") == 1


async def test_batch_item_without_a_durable_dead_letter_is_an_item_error(
    served: Served,
) -> None:
    """issue 12 item 2: in a batch, such an item is an UNAVAILABLE ItemError; the rest go on."""
    await served.sql(REFUSE)
    requests = [
        pb.EnrichRequest(track_id="b-1", artist_name="deadmau5", track_title="Strobe"),
        pb.EnrichRequest(track_id="b-2", artist_name="", track_title="blank artist"),
    ]
    answers = [answer async for answer in served.client.enrich_many(requests)]
    by_id = {answer.index: answer for answer in answers}
    assert by_id[0].error.code == code_pb2.UNAVAILABLE
    assert by_id[1].error.code == code_pb2.INVALID_ARGUMENT
    assert await served.count("dead_letters", "b-1") == 0
