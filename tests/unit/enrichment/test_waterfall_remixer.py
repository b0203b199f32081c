"""A row crediting a remix's remixer as its artist finds the remix Spotify credits only to
the original artist: when ``artist:`` on the remixer finds nothing, the title alone is asked."""

from __future__ import annotations

import asyncio

import pytest

from enrichment_server.deadline import Deadline
from enrichment_server.domain import EnrichmentRequest
from enrichment_server.enrichment.matching import Matcher
from enrichment_server.enrichment.waterfall import Waterfall
from enrichment_server.resilience.pipeline import CallContext
from enrichment_server.sources.spotify import SpotifyTrack
from tests.unit.enrichment.fakes import FakeSpotify, source_set

pytestmark = pytest.mark.looptime
REMIX = SpotifyTrack.model_validate(
    {
        "id": "remix",
        "name": "Innerbloom - Lane 8 Remix",
        "artists": [{"name": "RÜFÜS DU SOL"}],
        "album": {"name": "Innerbloom (Remixes)"},
        "duration_ms": 531_000,
        "external_ids": {"isrc": "AUSIO1600001"},
    }
)


class ArtistFilteredSpotify(FakeSpotify):
    """Spotify's ``artist:`` filter: only tracks crediting that artist come back."""

    async def search(self, ctx: CallContext, artist: str, title: str) -> list[SpotifyTrack]:
        """Hits whose artists include ``artist`` (all hits without an artist filter)."""
        wanted = [t for t in self.hits if not artist or artist in t.artist_credit]
        return await self._answer("search", wanted, artist, title)


async def _enrich(artist: str, title: str) -> tuple[str | None, list[tuple[object, ...]]]:
    spotify = ArtistFilteredSpotify(REMIX)
    loop = asyncio.get_running_loop()
    waterfall = Waterfall(source_set(spotify, None, None, None, None), Matcher(), clock=loop.time)
    request = EnrichmentRequest(track_id="t1", artist=artist, title=title)
    result = await waterfall.enrich(request, Deadline.after(10, clock=loop.time))
    return result.metadata.spotify_id, [call.args for call in spotify.called("search")]


async def test_the_remixer_as_artist_finds_the_remix_by_title() -> None:
    """artist:"Lane 8" finds nothing; the title-only search finds the remix and it matches."""
    found, searches = await _enrich("Lane 8", "Innerbloom (Lane 8 Remix)")
    assert found == "remix"
    assert searches == [
        ("Lane 8", "Innerbloom (Lane 8 Remix)"),
        ("", "Innerbloom (Lane 8 Remix)"),
    ]


async def test_other_rows_are_not_searched_by_title_alone() -> None:
    """A row whose artist is not its version's remixer gets no title-only search (and no
    match: Spotify's hit is another artist's)."""
    found, searches = await _enrich("Four Tet", "Innerbloom (Lane 8 Remix)")
    assert found is None
    assert searches == [("Four Tet", "Innerbloom (Lane 8 Remix)")]
