"""Placeholder rows ("ID - ID", "Artist - ID", "Unknown - ?") never reach an upstream.

issue 12 item 16: they spent MusicBrainz quota on nothing when a caller other than our
scrapers sent them. Now: NOT_FOUND, one documented non-retriable NOT_A_TRACK entry, no
upstream request, no dead letter.
"""

from __future__ import annotations

import pytest

from enrichment_client import pb
from enrichment_server.store import Store
from tests.integration.conftest import Stack


@pytest.mark.parametrize(
    ("artist", "title", "field"),
    [
        ("ID", "ID", "artist_name"),
        ("Eric Prydz", "ID", "track_title"),
        ("Unknown", "?", "artist_name"),
        ("Unknown Artist", "Strobe", "artist_name"),
        ("deadmau5", "  id  ", "track_title"),
        ("Eric Prydz", "Track ID", "track_title"),
    ],
)
async def test_placeholders_are_not_found_without_any_upstream_call(
    stack: Stack, artist: str, title: str, field: str
) -> None:
    """issue 12 item 16: NOT_FOUND, a NOT_A_TRACK entry naming the field, no upstream call."""
    response = await stack.client.enrich(artist, title, track_id="p-1")
    sandbox = stack.sandbox
    calls = [
        sum(sandbox.spotify.controls.calls.values()),
        sum(sandbox.musicbrainz.controls.calls.values()),
        sum(sandbox.deezer.controls.calls.values()),
    ]
    assert calls == [0, 0, 0]
    assert response.status == pb.ENRICHMENT_STATUS_NOT_FOUND
    [error] = response.errors
    assert (error.source, error.code, error.retriable) == (
        pb.SOURCE_UNSPECIFIED,
        pb.ERROR_CODE_NOT_A_TRACK,
        False,
    )
    assert field in error.message
    assert "no source was asked" in error.message
    store = await Store.open(stack.app.settings.database_url, migrate_schema=False)
    try:
        stats = await store.stats()
    finally:
        await store.close()
    assert (stats.statuses.get("not_found"), stats.dead_letters_due) == (1, 0)


async def test_names_that_merely_contain_a_placeholder_word_are_enriched(stack: Stack) -> None:
    """A real title with "ID" or "?" inside it is a track: the upstreams are asked."""
    await stack.client.enrich("Daft Punk", "ID Unknown?")
    assert sum(stack.sandbox.musicbrainz.controls.calls.values()) > 0
