"""A stored row always describes one track, whatever a caller does with its track_id.

issue 12 item 1: ``{track_id: x, deadmau5 / Strobe}`` then ``{track_id: x, Eric Prydz /
Opus}`` kept "deadmau5 / Strobe" beside Opus's ids. Now the latest name is the row's
identity and nothing found for the other track stays; on SQLite and on Postgres.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from enrichment_client import EnrichmentClient, pb
from enrichment_sandbox.catalogue import CatalogueTrack, load_catalogue
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from enrichment_server.store import create_engine
from tests.integration.conftest import sandbox_settings
from tests.integration.fresh_postgres import fresh_postgres

STROBE = ("deadmau5", "Strobe")
OPUS = ("Eric Prydz", "Opus")


def truth(name: tuple[str, str]) -> CatalogueTrack:
    """The sandbox catalogue's record of ``name``."""
    return next(t for t in load_catalogue().tracks if (t.artist, t.title) == name)


@dataclass
class Served:
    """A server's client and its database."""

    client: EnrichmentClient
    database_url: str

    async def row(self, track_id: str) -> dict[str, Any]:
        """The tracks row (and its status attempts) for ``track_id``."""
        engine = create_engine(self.database_url)
        try:
            async with engine.connect() as conn:
                query = sa.text(
                    "SELECT t.*, s.attempts FROM tracks t "
                    "JOIN enrichment_status s ON s.track_id = t.track_id WHERE t.track_id = :t"
                )
                return dict((await conn.execute(query, {"t": track_id})).mappings().one())
        finally:
            await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
async def served(request: pytest.FixtureRequest, sandbox: Sandbox) -> AsyncIterator[Served]:
    """A server on SQLite or Postgres (no result cache, so every call writes)."""
    sandbox.spotify.controls.update_config({"audio_features": "ok"})
    overrides: dict[str, object] = {"result_cache_max_entries": 0}
    if request.param == "postgres":
        url = str(request.getfixturevalue("postgres_url"))
        await fresh_postgres(url)
        overrides["database_url"] = url
    settings = sandbox_settings(sandbox, **overrides)
    async with running(settings) as app:
        client = await EnrichmentClient.connect(f"127.0.0.1:{app.port}", timeout_s=10)
        async with client:
            yield Served(client, settings.database_url)
    engine = create_engine(settings.database_url)
    async with engine.begin() as conn:
        for table in ("dead_letters", "enrichment_status", "tracks"):
            await conn.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608
    await engine.dispose()


def assert_describes(row: dict[str, Any], name: tuple[str, str]) -> None:
    """The row's name is ``name`` and every identifier and DJ field is that track's."""
    expected = truth(name)
    assert (row["artist_name"], row["track_title"]) == name
    assert (row["spotify_id"], row["isrc"], row["musicbrainz_id"]) == (
        expected.spotify_id,
        expected.isrc,
        expected.mbid,
    )
    assert row["bpm"] == pytest.approx(expected.tempo, abs=0.01)
    assert row["label"] == expected.label
    sources = row["sources"]
    provenance = json.loads(sources) if isinstance(sources, str) else sources
    assert set(provenance) >= {"spotify_id", "isrc", "musicbrainz_id"}
    assert all(row[field] is not None for field in provenance)


@pytest.mark.parametrize(("first", "second"), [(STROBE, OPUS), (OPUS, STROBE)])
async def test_latest_name_replaces_the_row(
    served: Served, first: tuple[str, str], second: tuple[str, str]
) -> None:
    """issue 12 item 1: either order, the row ends as the second track, with none of the first."""
    for artist, title in (first, second):
        response = await served.client.enrich(artist, title, track_id="x")
        assert response.status == pb.ENRICHMENT_STATUS_COMPLETED
    row = await served.row("x")
    assert_describes(row, second)
    assert row["attempts"] == 1  # the first track's attempts went with it


async def test_same_name_in_another_spelling_keeps_the_row(served: Served) -> None:
    """Case, accents and spacing do not make another track: the row is enriched in place."""
    await served.client.enrich("deadmau5", "Strobe", track_id="y")
    await served.client.enrich("DEADMAU5 ", "  strobe", track_id="y")
    row = await served.row("y")
    assert_describes(row, STROBE)
    assert row["attempts"] == 2


async def test_batch_with_one_id_for_two_tracks(served: Served) -> None:
    """issue 12 item 1: one EnrichBatch naming two tracks with one id leaves one whole track."""
    requests = [
        pb.EnrichRequest(track_id="z", artist_name=a, track_title=t) for a, t in (STROBE, OPUS)
    ]
    answers = [answer async for answer in served.client.enrich_many(requests)]
    assert {answer.index for answer in answers} == {0, 1}
    row = await served.row("z")
    name = (row["artist_name"], row["track_title"])
    assert name in (STROBE, OPUS)
    assert_describes(row, name)


async def test_concurrent_calls_with_one_id(served: Served) -> None:
    """issue 12 item 1: two concurrent calls, one id: the row is whichever committed last,
    whole, never a mix (repeated so the writes really interleave)."""
    for round_ in range(3):
        track_id = f"c-{round_}"
        await asyncio.gather(
            served.client.enrich(*STROBE, track_id=track_id, force_refresh=True),
            served.client.enrich(*OPUS, track_id=track_id, force_refresh=True),
        )
        row = await served.row(track_id)
        name = (row["artist_name"], row["track_title"])
        assert name in (STROBE, OPUS)
        assert_describes(row, name)
