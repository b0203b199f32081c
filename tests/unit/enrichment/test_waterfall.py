"""The waterfall with fake sources on a virtual clock: stage order, patience, cut-off, merge.

``looptime`` fakes the event loop's clock: sleeps, ``wait_for`` and the deadline all run on
virtual time, so "MusicBrainz waited 0.2 s for Spotify" is exact and costs no real time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from enrichment_server.deadline import Deadline
from enrichment_server.domain import EnrichmentRequest, ErrorKind, Source, Status
from enrichment_server.enrichment.matching import Matcher
from enrichment_server.enrichment.merge import PRECEDENCE
from enrichment_server.enrichment.results import ResultCache
from enrichment_server.enrichment.waterfall import SPOTIFY_PATIENCE, Waterfall
from enrichment_server.errors import RateLimited
from enrichment_server.sources.deezer import DeezerAlbum, DeezerTrack
from enrichment_server.sources.getsongbpm import GsbSong
from enrichment_server.sources.lastfm import LastfmTag, LastfmTrack
from enrichment_server.sources.musicbrainz import MbRecording, MbReleaseDetail
from enrichment_server.sources.spotify import SpotifyFeatures, SpotifyTrack
from tests.unit.enrichment.fakes import (
    HANG,
    FakeDeezer,
    FakeGetSongBpm,
    FakeLastfm,
    FakeMusicBrainz,
    FakeSpotify,
    source_set,
)
from tests.unit.telemetry.recording_hooks import RecordingHooks

pytestmark = pytest.mark.looptime
ISRC = "GBUM71029604"
SPOTIFY_TRACK = SpotifyTrack.model_validate(
    {
        "id": "sp1",
        "name": "Strobe",
        "artists": [{"name": "deadmau5"}],
        "album": {"name": "For Lack of a Better Name", "label": "Spotify Label"},
        "duration_ms": 637_000,
        "external_ids": {"isrc": ISRC},
    }
)
MB_RECORDING = MbRecording.model_validate(
    {
        "id": "mb1",
        "title": "Strobe",
        "length": 636_000,
        "artist-credit": [{"name": "deadmau5", "artist": {"id": "a1", "name": "deadmau5"}}],
        "isrcs": [ISRC],
        "releases": [{"id": "r1", "title": "For Lack of a Better Name", "status": "Official"}],
    }
)
MB_RELEASE = MbReleaseDetail.model_validate(
    {"id": "r1", "title": "For Lack of a Better Name", "label-info": [{"label": {"name": "Ultra"}}]}
)
DEEZER_TRACK = DeezerTrack.model_validate(
    {
        "id": 7,
        "title": "Strobe",
        "isrc": ISRC,
        "duration": 637,
        "bpm": 128.0,
        "artist": {"name": "deadmau5"},
        "album": {"id": 70, "title": "For Lack of a Better Name"},
    }
)
DEEZER_ALBUM = DeezerAlbum.model_validate(
    {"id": 70, "title": "For Lack of a Better Name", "label": "mau5trap", "genres": []}
)
LASTFM_TRACK = LastfmTrack.model_validate(
    {"name": "Strobe", "artist": {"name": "deadmau5"}, "listeners": "1000", "playcount": "5000"}
)
GSB_SONG = GsbSong.model_validate(
    {"id": "g1", "title": "Strobe", "tempo": "126", "artist": {"name": "deadmau5"}}
)


@dataclass
class Rig:
    """Five fake sources, all finding deadmau5 - Strobe at once unless a test says otherwise."""

    spotify: FakeSpotify = field(default_factory=lambda: FakeSpotify(SPOTIFY_TRACK))
    musicbrainz: FakeMusicBrainz = field(default_factory=lambda: FakeMusicBrainz(MB_RECORDING))
    lastfm: FakeLastfm = field(
        default_factory=lambda: FakeLastfm(
            LASTFM_TRACK, [LastfmTag(name="progressive house", count=100)]
        )
    )
    deezer: FakeDeezer = field(default_factory=lambda: FakeDeezer(DEEZER_TRACK, DEEZER_ALBUM))
    getsongbpm: FakeGetSongBpm = field(default_factory=lambda: FakeGetSongBpm(GSB_SONG))

    def waterfall(self, **options: object) -> Waterfall:
        """A waterfall over these fakes, timing itself on the (virtual) loop clock."""
        sources = source_set(
            self.spotify, self.musicbrainz, self.lastfm, self.deezer, self.getsongbpm
        )
        loop = asyncio.get_running_loop()
        return Waterfall(sources, Matcher(), clock=loop.time, **options)  # type: ignore[arg-type]


def request(**fields: str) -> EnrichmentRequest:
    """deadmau5 - Strobe, with any identifiers given."""
    return EnrichmentRequest(track_id="t1", artist="deadmau5", title="Strobe", **fields)  # type: ignore[arg-type]


def deadline(seconds: float) -> Deadline:
    """A deadline on the loop's (virtual) clock."""
    loop = asyncio.get_running_loop()
    return Deadline.after(seconds, clock=loop.time)


async def test_every_source_found_makes_a_completed_result() -> None:
    """All five sources answer: COMPLETED, no errors, every source used."""
    rig = Rig()
    rig.spotify.features = SpotifyFeatures(tempo=128.01, key=0, mode=1, energy=0.6)
    result = await rig.waterfall().enrich(request(), deadline(10))
    assert result.status == Status.COMPLETED
    assert result.errors == ()
    # GetSongBPM was asked, but every field it knows came from a source ranked above it.
    assert rig.getsongbpm.called("search")
    assert set(result.sources_used) == set(Source) - {Source.GETSONGBPM}
    assert (result.metadata.spotify_id, result.metadata.musicbrainz_id) == ("sp1", "mb1")
    assert result.metadata.isrc == ISRC


async def test_independent_sources_start_at_once() -> None:
    """Last.fm, GetSongBPM and Spotify are all asked at t=0, none waits for another."""
    rig = Rig()
    rig.spotify.delays["search"] = 0.5
    start = asyncio.get_running_loop().time()
    await rig.waterfall().enrich(request(), deadline(10))
    firsts = [rig.lastfm.calls[0], rig.getsongbpm.calls[0], rig.spotify.calls[0]]
    assert [c.at - start for c in firsts] == [0.0, 0.0, 0.0]


async def test_musicbrainz_and_deezer_wait_for_spotifys_isrc() -> None:
    """Without ISRC or MBID, MusicBrainz and Deezer look up Spotify's ISRC once it answers."""
    rig = Rig()
    rig.spotify.delays["search"] = 0.2
    start = asyncio.get_running_loop().time()
    result = await rig.waterfall().enrich(request(), deadline(10))
    [mb_call] = rig.musicbrainz.called("by_isrc")
    [deezer_call] = rig.deezer.called("by_isrc")
    assert mb_call.args == deezer_call.args == (ISRC,)
    assert mb_call.at - start == deezer_call.at - start == pytest.approx(0.2)
    assert rig.musicbrainz.called("search") == []  # the ISRC made the search unnecessary
    assert result.metadata.musicbrainz_id == "mb1"


async def test_a_given_isrc_means_nobody_waits_for_spotify() -> None:
    """With the ISRC in the request, Spotify, MusicBrainz and Deezer all start at t=0."""
    rig = Rig()
    rig.spotify.delays["search_isrc"] = 0.5
    start = asyncio.get_running_loop().time()
    await rig.waterfall().enrich(request(isrc=ISRC), deadline(10))
    assert rig.musicbrainz.called("by_isrc")[0].at == start
    assert rig.deezer.called("by_isrc")[0].at == start
    assert rig.spotify.called("search_isrc")[0].at == start
    assert rig.spotify.called("search") == []


async def test_a_given_spotify_id_is_looked_up_not_searched() -> None:
    """A request carrying a Spotify id fetches that track and never searches Spotify."""
    rig = Rig()
    result = await rig.waterfall().enrich(request(spotify_id="sp1"), deadline(10))
    assert [c.method for c in rig.spotify.calls] == ["track", "audio_features"]
    assert result.metadata.spotify_id == "sp1"
    assert result.metadata.match_confidence == 1.0


async def test_a_slow_spotify_is_waited_for_only_a_share_of_the_time_left() -> None:
    """Spotify hangs: MusicBrainz searches by text after SPOTIFY_PATIENCE of the deadline."""
    rig = Rig()
    rig.spotify.delays["search"] = HANG
    start = asyncio.get_running_loop().time()
    result = await rig.waterfall().enrich(request(), deadline(10))
    [search] = rig.musicbrainz.called("search")
    assert search.at - start == pytest.approx(10 * SPOTIFY_PATIENCE)
    assert rig.musicbrainz.called("by_isrc") == []  # no ISRC came
    assert result.metadata.musicbrainz_id == "mb1"
    assert result.status == Status.PARTIAL


async def test_cut_off_keeps_what_the_others_found() -> None:
    """MusicBrainz hangs past the deadline: its retriable DEADLINE_EXCEEDED, the rest kept."""
    rig = Rig()
    rig.musicbrainz.delays["by_isrc"] = HANG
    start = asyncio.get_running_loop().time()
    result = await rig.waterfall().enrich(request(), deadline(3))
    assert result.duration_s == pytest.approx(3)
    assert asyncio.get_running_loop().time() - start == pytest.approx(3)
    [error] = result.errors
    assert (error.source, error.kind, error.retriable) == (
        Source.MUSICBRAINZ,
        ErrorKind.DEADLINE_EXCEEDED,
        True,
    )
    assert result.status == Status.PARTIAL
    assert result.metadata.spotify_id == "sp1"
    assert result.metadata.lastfm_listeners == 1000
    assert result.metadata.musicbrainz_id is None


async def test_disabled_sources_are_neither_asked_nor_reported() -> None:
    """Only configured sources are asked; a cut-off blames none that is switched off."""
    rig = Rig()
    rig.spotify.delays["search"] = HANG
    sources = source_set(spotify=rig.spotify, lastfm=rig.lastfm)
    waterfall = Waterfall(sources, Matcher(), clock=asyncio.get_running_loop().time)
    result = await waterfall.enrich(request(), deadline(2))
    assert [e.source for e in result.errors] == [Source.SPOTIFY]
    assert result.sources_used == (Source.LASTFM,)


async def test_one_source_failing_is_reported_and_the_rest_kept() -> None:
    """A rate-limited Spotify: its error carries the kind and Retry-After; others still merge."""
    rig = Rig()
    rig.spotify.errors["search"] = RateLimited(Source.SPOTIFY, "slow down", retry_after=7)
    result = await rig.waterfall().enrich(request(), deadline(10))
    [error] = result.errors
    assert (error.source, error.kind, error.retry_after) == (
        Source.SPOTIFY,
        ErrorKind.RATE_LIMITED,
        7,
    )
    assert result.status == Status.PARTIAL
    assert Source.SPOTIFY not in result.sources_used
    assert result.metadata.musicbrainz_id == "mb1"  # found by text search instead
    assert result.metadata.label == "mau5trap"


async def test_a_crashing_adapter_is_a_retriable_failure_of_that_source_only() -> None:
    """A bug (not an UpstreamError) in Deezer's stage: UNAVAILABLE, retriable, no traceback out."""
    rig = Rig()
    rig.deezer.errors["album"] = KeyError("oops")
    result = await rig.waterfall().enrich(request(), deadline(10))
    [error] = result.errors
    assert (error.source, error.kind, error.retriable) == (
        Source.DEEZER,
        ErrorKind.UNAVAILABLE,
        True,
    )
    assert "oops" not in error.message
    assert result.metadata.spotify_id == "sp1"


async def test_a_wrong_search_hit_is_not_taken() -> None:
    """Spotify's top hit is another artist's track: no Spotify data, the others decide."""
    rig = Rig()
    rig.spotify.hits = [SPOTIFY_TRACK.model_copy(update={"id": "x", "name": "Ghosts 'n' Stuff"})]
    result = await rig.waterfall().enrich(request(), deadline(10))
    assert result.metadata.spotify_id is None
    assert Source.SPOTIFY not in result.sources_used
    assert result.metadata.musicbrainz_id == "mb1"


async def test_nothing_found_anywhere_is_not_found() -> None:
    """Every source answers with no match: NOT_FOUND, no errors."""
    rig = Rig(FakeSpotify(), FakeMusicBrainz(), FakeLastfm(), FakeDeezer(), FakeGetSongBpm())
    result = await rig.waterfall().enrich(request(), deadline(10))
    assert (result.status, result.errors, result.sources_used) == (Status.NOT_FOUND, (), ())


async def test_fields_follow_precedence_not_arrival_order() -> None:
    """Label: MusicBrainz's beats Spotify's, whoever answers last; Deezer's beats Spotify's
    (and then MusicBrainz is not asked for one)."""
    rig = Rig()
    rig.deezer.album_detail = DEEZER_ALBUM.model_copy(update={"label": None})
    rig.musicbrainz.release_detail = MB_RELEASE
    rig.musicbrainz.delays["release"] = 1.0
    result = await rig.waterfall().enrich(request(), deadline(10))
    assert (result.metadata.label, result.provenance["label"]) == ("Ultra", Source.MUSICBRAINZ)
    rig = Rig()
    rig.deezer.delays["album"] = 1.0
    result = await rig.waterfall().enrich(request(), deadline(10))
    assert (result.metadata.label, result.provenance["label"]) == ("mau5trap", Source.DEEZER)


async def test_musicbrainz_spends_no_call_on_a_label_deezer_gave() -> None:
    """MusicBrainz economy: with Deezer's album label known (even late), the release lookup
    is skipped; without one, MusicBrainz is asked for it."""
    rig = Rig()
    rig.musicbrainz.release_detail = MB_RELEASE
    rig.deezer.delays["album"] = 1.0  # arrives after MusicBrainz identified the recording
    result = await rig.waterfall().enrich(request(), deadline(10))
    assert rig.musicbrainz.called("release") == []
    assert (result.metadata.label, result.provenance["label"]) == ("mau5trap", Source.DEEZER)
    rig = Rig()
    rig.deezer.album_detail = None
    rig.musicbrainz.release_detail = MB_RELEASE
    result = await rig.waterfall().enrich(request(), deadline(10))
    assert len(rig.musicbrainz.called("release")) == 1
    assert result.metadata.label == "Ultra"


async def test_precedence_is_configurable() -> None:
    """A precedence preferring GetSongBPM's tempo takes it over Deezer's."""
    default = await Rig().waterfall().enrich(request(), deadline(10))
    assert (default.metadata.bpm, default.provenance["bpm"]) == (128.0, Source.DEEZER)
    precedence = dict(PRECEDENCE) | {("bpm",): (Source.GETSONGBPM, Source.DEEZER)}
    custom = await Rig().waterfall(precedence=precedence).enrich(request(), deadline(10))
    assert (custom.metadata.bpm, custom.provenance["bpm"]) == (126.0, Source.GETSONGBPM)


async def test_a_remembered_result_asks_no_source_until_forced() -> None:
    """The result cache answers a repeat without a call; force_refresh asks the sources again."""
    rig = Rig()
    loop = asyncio.get_running_loop()
    waterfall = rig.waterfall(results=ResultCache(10, 60, clock=loop.time))
    await waterfall.enrich(request(), deadline(10))
    calls = len(rig.lastfm.calls)
    again = await waterfall.enrich(request(), deadline(10))
    assert len(rig.lastfm.calls) == calls
    assert again.metadata.spotify_id == "sp1"
    await waterfall.enrich(request(force_refresh=True), deadline(10))  # type: ignore[arg-type]
    assert len(rig.lastfm.calls) > calls


async def test_result_cache_lookups_are_reported_to_the_hooks() -> None:
    """A miss then a hit, once per enrichment; nothing reported when caching is off."""
    loop = asyncio.get_running_loop()
    hooks = RecordingHooks()
    results = ResultCache(10, 60, clock=loop.time)
    waterfall = Rig().waterfall(results=results, hooks=hooks)
    for _ in range(2):
        await waterfall.enrich(request(), deadline(10))
    assert hooks.result_lookups == [False, True]
    uncached = RecordingHooks()
    await Rig().waterfall(hooks=uncached).enrich(request(), deadline(10))
    assert uncached.result_lookups == []
