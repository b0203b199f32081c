"""DJ metadata comes from the identified track, not the raw row (issue 16, item 7).

GetSongBPM and Last.fm are asked with the row's text at once; when that finds nothing and
Spotify or MusicBrainz identified the track, they are asked again with its canonical names.
"""

from __future__ import annotations

import pytest

from enrichment_sandbox.catalogue import CatalogueTrack, load_catalogue
from enrichment_server.enrichment.musical_key import key_from_pitch_class
from tests.integration.conftest import Stack


def track(artist: str, title: str) -> CatalogueTrack:
    """The catalogue record (the sandbox's ground truth) for an exact artist and title."""
    return next(t for t in load_catalogue().tracks if (t.artist, t.title) == (artist, title))


@pytest.mark.parametrize(
    ("artist", "title", "expected"),
    [
        ("Daft Punk", "One More Tiime", ("Daft Punk", "One More Time")),
        (
            "Chemical Brothers",
            "Block Rockin Beats",
            ("The Chemical Brothers", "Block Rockin' Beats"),
        ),
        ("Lane 8", "Innerbloom (Lane 8 Remix)", ("RÜFÜS DU SOL", "Innerbloom (Lane 8 Remix)")),
    ],
)
async def test_a_row_getsongbpm_misses_gets_its_key_from_the_canonical_names(
    stack: Stack, artist: str, title: str, expected: tuple[str, str]
) -> None:
    """A typo, a missing "The", the remixer as artist: key and BPM still arrive, through a
    second GetSongBPM search with the identified names."""
    truth = track(*expected)
    response = await stack.client.enrich(artist, title)
    key = key_from_pitch_class(truth.pitch_class, truth.mode)
    assert key is not None
    assert response.metadata.spotify_id == truth.spotify_id
    assert response.metadata.camelot_key == key.camelot
    assert response.metadata.bpm == pytest.approx(truth.tempo, abs=0.5)
    assert stack.sandbox.getsongbpm.controls.calls["search"] == 2


async def test_a_row_found_as_written_is_not_asked_twice(stack: Stack) -> None:
    """When the row's own text finds the song, there is no second GetSongBPM search."""
    response = await stack.client.enrich("deadmau5", "Strobe")
    assert response.metadata.HasField("camelot_key")
    assert stack.sandbox.getsongbpm.controls.calls["search"] == 1


async def test_an_unidentified_row_is_not_asked_twice(stack: Stack) -> None:
    """Nobody identified the track: no canonical names, so no second search."""
    response = await stack.client.enrich("Tiësto vs. deadmau5", "Adagio for Strings vs. Strobe")
    assert not response.metadata.HasField("spotify_id")
    assert not response.metadata.HasField("camelot_key")
    assert stack.sandbox.getsongbpm.controls.calls["search"] == 1
