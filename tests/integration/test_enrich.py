"""End to end through the real client, a real grpc.aio server and the sandbox upstreams."""

from __future__ import annotations

import pytest

from enrichment_client import InvalidArgument, make_request, pb
from enrichment_sandbox.catalogue import CatalogueTrack, load_catalogue
from enrichment_server.enrichment.musical_key import key_from_pitch_class
from tests.integration.conftest import Stack


def track(artist: str, title: str) -> CatalogueTrack:
    """The catalogue record (the sandbox's ground truth) for an exact artist and title."""
    return next(t for t in load_catalogue().tracks if (t.artist, t.title) == (artist, title))


async def test_known_track_is_completed_with_ids_key_and_tags(stack: Stack) -> None:
    """A catalogue track comes back COMPLETED with every source's identifiers and DJ fields."""
    truth = track("deadmau5", "Strobe")
    response = await stack.client.enrich("deadmau5", "Strobe (Original Mix)", track_id="t-1")
    meta = response.metadata
    assert response.status == pb.ENRICHMENT_STATUS_COMPLETED
    assert response.track_id == "t-1"
    assert (meta.spotify_id, meta.isrc, meta.musicbrainz_id) == (
        truth.spotify_id,
        truth.isrc,
        truth.mbid,
    )
    expected_key = key_from_pitch_class(truth.pitch_class, truth.mode)
    assert expected_key is not None
    assert (meta.musical_key, meta.camelot_key, meta.open_key) == (
        expected_key.name,
        expected_key.camelot,
        expected_key.open_key,
    )
    assert meta.bpm == pytest.approx(truth.tempo, abs=0.01)
    assert meta.label == truth.label
    assert meta.genres[0] == truth.tags[0][0]
    assert set(response.sources_used) == {
        pb.SOURCE_SPOTIFY,
        pb.SOURCE_MUSICBRAINZ,
        pb.SOURCE_LASTFM,
        pb.SOURCE_DEEZER,  # the label: MusicBrainz spends no call on one Deezer gave
    }
    assert response.provenance["label"] == pb.SOURCE_DEEZER
    assert response.provenance["spotify_id"] == pb.SOURCE_SPOTIFY
    assert response.provenance["musicbrainz_id"] == pb.SOURCE_MUSICBRAINZ
    assert response.provenance["genres"] == pb.SOURCE_LASTFM
    assert not response.errors
    assert response.enriched_at.seconds > 0


@pytest.mark.parametrize(
    ("artist", "title", "expected"),
    [
        ("Royksopp", "Eple", ("Röyksopp", "Eple")),
        ("KÖLSCH", "grey", ("Kölsch", "Grey")),
        ("Bicep ft. Clara La San", "Saku", ("Bicep feat. Clara La San", "Saku")),
        ("Bicep", "Saku (feat. Clara La San)", ("Bicep feat. Clara La San", "Saku")),
        ("deadmau5", "Strobe [mau5trap]", ("deadmau5", "Strobe")),
        ("deadmau5", "Strobe - Radio Edit", ("deadmau5", "Strobe (Radio Edit)")),
        ("Eric Prydz", "Opus (Original Mix)", ("Eric Prydz", "Opus")),
        ("Daft Punk", "One More Tiime", ("Daft Punk", "One More Time")),
    ],
)
async def test_near_miss_variants_match_the_right_track(
    stack: Stack, artist: str, title: str, expected: tuple[str, str]
) -> None:
    """Accents, feat. spellings, '(Original Mix)', labels and typos still find the track."""
    truth = track(*expected)
    response = await stack.client.enrich(artist, title)
    assert response.metadata.spotify_id == truth.spotify_id
    assert response.metadata.musicbrainz_id == truth.mbid


@pytest.mark.parametrize(
    ("artist", "title"),
    [
        ("Unknown Artist", "Strobe"),
        ("Nobody Here", "A Track That Does Not Exist"),
        ("deadmau5", "Strobe (Four Tet Remix)"),
    ],
)
async def test_absent_track_is_not_found_never_a_wrong_match(
    stack: Stack, artist: str, title: str
) -> None:
    """A query absent from the catalogue is NOT_FOUND even when searches return near-misses."""
    response = await stack.client.enrich(artist, title)
    assert response.status == pb.ENRICHMENT_STATUS_NOT_FOUND
    assert not response.metadata.HasField("spotify_id")
    assert not response.metadata.HasField("musicbrainz_id")
    assert list(response.sources_used) == []


async def test_remix_is_not_confused_with_the_original(stack: Stack) -> None:
    """'Strobe (Club Edit)' resolves to the edit's own ids, not the original's."""
    edit = track("deadmau5", "Strobe (Club Edit)")
    response = await stack.client.enrich("deadmau5", "Strobe (Club Edit)")
    assert response.metadata.spotify_id == edit.spotify_id
    assert response.metadata.spotify_id != track("deadmau5", "Strobe").spotify_id


async def test_blank_artist_is_invalid_argument_naming_the_field(stack: Stack) -> None:
    """An empty artist is INVALID_ARGUMENT with a BadRequest naming artist_name."""
    with pytest.raises(InvalidArgument) as caught:
        await stack.client.enrich("   ", "Strobe")
    assert [v.field for v in caught.value.violations] == ["artist_name"]


async def test_every_bad_field_is_reported_at_once(stack: Stack) -> None:
    """Blank title, malformed ISRC, Spotify id and MBID are all named in one error."""
    with pytest.raises(InvalidArgument) as caught:
        await stack.client.enrich(
            "deadmau5", "", isrc="XX", spotify_id="not-an-id", musicbrainz_id="nope"
        )
    assert {v.field for v in caught.value.violations} == {
        "track_title",
        "existing_isrc",
        "existing_spotify_id",
        "existing_musicbrainz_id",
    }


async def test_existing_identifiers_are_used_directly(stack: Stack) -> None:
    """An existing Spotify id and MBID are looked up, not searched, and trusted (confidence 1)."""
    truth = track("Röyksopp", "Eple")
    response = await stack.client.enrich(
        "whatever", "scraped badly", spotify_id=truth.spotify_id, musicbrainz_id=truth.mbid
    )
    assert response.status == pb.ENRICHMENT_STATUS_COMPLETED
    assert response.metadata.isrc == truth.isrc
    assert response.metadata.match_confidence == 1.0
    calls = stack.sandbox.spotify.controls.calls
    assert calls["track"] == 1
    assert calls["search"] == 0


async def test_existing_isrc_finds_spotify_and_musicbrainz(stack: Stack) -> None:
    """An ISRC alone (with a poor title) resolves through isrc: search and /isrc lookup."""
    truth = track("Kölsch", "Grey")
    response = await stack.client.enrich("Kolsch", "Grey (Original Mix)", isrc=truth.isrc.lower())
    assert response.metadata.spotify_id == truth.spotify_id
    assert response.metadata.musicbrainz_id == truth.mbid
    assert stack.sandbox.musicbrainz.controls.calls["isrc"] == 1


def upstream_calls(stack: Stack) -> dict[str, int]:
    """Requests each sandbox upstream has received so far."""
    return {name: sum(up.controls.calls.values()) for name, up in stack.sandbox.upstreams().items()}


async def test_second_call_is_served_from_cache(stack: Stack) -> None:
    """A repeated track is answered from the cache: cached=true and no upstream traffic."""
    first = await stack.client.enrich("deadmau5", "Strobe")
    before = upstream_calls(stack)
    second = await stack.client.enrich("deadmau5", "Strobe")
    after = upstream_calls(stack)
    assert not first.cached
    assert second.cached
    assert before == after
    assert second.metadata == first.metadata


async def test_force_refresh_asks_the_upstreams_again(stack: Stack) -> None:
    """force_refresh skips cached answers."""
    await stack.client.enrich("deadmau5", "Strobe")
    searches = stack.sandbox.spotify.controls.calls["search"]
    response = await stack.client.enrich("deadmau5", "Strobe", force_refresh=True)
    assert not response.cached
    assert stack.sandbox.spotify.controls.calls["search"] == searches + 1


async def test_batch_streams_every_result_and_item_errors(stack: Stack) -> None:
    """EnrichBatch answers each request once, tagged by index; a bad item does not end it."""
    requests = [
        make_request("deadmau5", "Strobe", track_id="a"),
        make_request("", "Nothing", track_id="bad"),
        make_request("Röyksopp", "Eple", track_id="b"),
        make_request("Nobody Here", "Nothing At All", track_id="c"),
    ]
    answers = {a.index: a async for a in stack.client.enrich_many(requests)}
    assert sorted(answers) == [0, 1, 2, 3]
    assert answers[1].WhichOneof("outcome") == "error"
    assert answers[1].error.code == 3
    assert [v.field for v in answers[1].error.field_violations] == ["artist_name"]
    assert answers[0].response.status == pb.ENRICHMENT_STATUS_COMPLETED
    assert answers[3].response.status == pb.ENRICHMENT_STATUS_NOT_FOUND
    assert [answers[i].track_id for i in range(4)] == ["a", "bad", "b", "c"]


async def test_empty_track_id_gets_a_stable_derived_id(stack: Stack) -> None:
    """Without a track_id the server derives the same id for the same artist and title."""
    first = await stack.client.enrich("deadmau5", "Strobe")
    second = await stack.client.enrich("DEADMAU5", "strobe")
    assert first.track_id.startswith("auto-")
    assert first.track_id == second.track_id


async def test_without_audio_features_bpm_and_key_come_from_deezer_and_getsongbpm(
    stack: Stack,
) -> None:
    """A new Spotify app (audio features 403) still gets BPM and key, with their provenance."""
    stack.sandbox.spotify.controls.update_config({"audio_features": "forbidden"})
    truth = track("Kölsch", "Grey")
    response = await stack.client.enrich("Kolsch", "Grey")
    meta = response.metadata
    expected_key = key_from_pitch_class(truth.pitch_class, truth.mode)
    assert expected_key is not None
    assert response.status == pb.ENRICHMENT_STATUS_COMPLETED
    assert meta.bpm == pytest.approx(truth.tempo, abs=1.0)
    assert response.provenance["bpm"] in (pb.SOURCE_DEEZER, pb.SOURCE_GETSONGBPM)
    assert (meta.musical_key, meta.camelot_key, meta.open_key) == (
        expected_key.name,
        expected_key.camelot,
        expected_key.open_key,
    )
    assert response.provenance["camelot_key"] == pb.SOURCE_GETSONGBPM
    assert response.provenance["open_key"] == pb.SOURCE_GETSONGBPM
    assert pb.SOURCE_DEEZER in response.sources_used
    assert pb.SOURCE_GETSONGBPM in response.sources_used
