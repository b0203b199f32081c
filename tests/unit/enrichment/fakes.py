"""Fake source clients for waterfall tests: scripted answers, delays on the loop's clock.

Each fake has the public methods the waterfall calls on the real client and records every
call with the loop time it started at. Under ``looptime`` that time is virtual, so "MusicBrainz
asked at 0.2 s" is exact and the test never waits for real time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TypeVar, cast

from enrichment_server.enrichment.waterfall import SourceSet
from enrichment_server.resilience.pipeline import CallContext
from enrichment_server.sources.deezer import DeezerAlbum, DeezerClient, DeezerTrack
from enrichment_server.sources.getsongbpm import GetSongBpmClient, GsbSong
from enrichment_server.sources.lastfm import LastfmClient, LastfmTag, LastfmTrack
from enrichment_server.sources.musicbrainz import MbRecording, MbReleaseDetail, MusicBrainzClient
from enrichment_server.sources.spotify import SpotifyClient, SpotifyFeatures, SpotifyTrack

T = TypeVar("T")
#: A delay long enough to outlast any deadline in these tests: the call never answers.
HANG = 1e6


@dataclass(frozen=True, slots=True)
class Call:
    """One call a fake received: the method, its arguments, when (loop time) it started."""

    method: str
    args: tuple[object, ...]
    at: float


class FakeSource:
    """Scripted behaviour shared by the fakes: per-method delay or exception, and a call log."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.delays: dict[str, float] = {}
        self.errors: dict[str, Exception] = {}

    def called(self, method: str) -> list[Call]:
        """The calls of ``method``, in order."""
        return [c for c in self.calls if c.method == method]

    async def _answer(self, method: str, answer: T, *args: object) -> T:
        self.calls.append(Call(method, args, asyncio.get_running_loop().time()))
        delay = self.delays.get(method, 0.0)
        if delay:
            await asyncio.sleep(delay)
        if method in self.errors:
            raise self.errors[method]
        return answer


class FakeSpotify(FakeSource):
    """``SpotifyClient``'s lookups."""

    def __init__(self, track: SpotifyTrack | None = None) -> None:
        super().__init__()
        self.hits = [track] if track else []
        self.features: SpotifyFeatures | None = None

    async def search(self, ctx: CallContext, artist: str, title: str) -> list[SpotifyTrack]:
        """Text search."""
        return await self._answer("search", self.hits, artist, title)

    async def search_isrc(self, ctx: CallContext, isrc: str) -> list[SpotifyTrack]:
        """``isrc:`` search: the hits carrying that ISRC."""
        hits = [t for t in self.hits if t.external_ids.isrc == isrc]
        return await self._answer("search_isrc", hits, isrc)

    async def track(self, ctx: CallContext, spotify_id: str) -> SpotifyTrack | None:
        """Track by id."""
        found = next((t for t in self.hits if t.id == spotify_id), None)
        return await self._answer("track", found, spotify_id)

    async def audio_features(self, ctx: CallContext, spotify_id: str) -> SpotifyFeatures | None:
        """Audio features of a track."""
        return await self._answer("audio_features", self.features, spotify_id)


class FakeMusicBrainz(FakeSource):
    """``MusicBrainzClient``'s lookups."""

    def __init__(self, recording: MbRecording | None = None) -> None:
        super().__init__()
        self.hits = [recording] if recording else []
        self.release_detail: MbReleaseDetail | None = None

    async def search(self, ctx: CallContext, artist: str, title: str) -> list[MbRecording]:
        """Scored text search."""
        return await self._answer("search", self.hits, artist, title)

    async def by_isrc(self, ctx: CallContext, isrc: str) -> list[MbRecording]:
        """Recordings carrying an ISRC."""
        hits = [r for r in self.hits if isrc in r.isrcs]
        return await self._answer("by_isrc", hits, isrc)

    async def recording(self, ctx: CallContext, mbid: str) -> MbRecording | None:
        """Recording by MBID."""
        found = next((r for r in self.hits if r.id == mbid), None)
        return await self._answer("recording", found, mbid)

    async def release(self, ctx: CallContext, mbid: str) -> MbReleaseDetail | None:
        """Release detail (labels)."""
        return await self._answer("release", self.release_detail, mbid)


class FakeLastfm(FakeSource):
    """``LastfmClient``'s lookups."""

    def __init__(self, info: LastfmTrack | None = None, tags: list[LastfmTag] | None = None):
        super().__init__()
        self.info = info
        self.tags = tags or []

    async def track_info(self, ctx: CallContext, artist: str, title: str) -> LastfmTrack | None:
        """track.getInfo."""
        return await self._answer("track_info", self.info, artist, title)

    async def top_tags(self, ctx: CallContext, artist: str, title: str) -> list[LastfmTag]:
        """track.getTopTags."""
        return await self._answer("top_tags", self.tags, artist, title)


class FakeDeezer(FakeSource):
    """``DeezerClient``'s lookups."""

    def __init__(self, track: DeezerTrack | None = None, album: DeezerAlbum | None = None):
        super().__init__()
        self.hits = [track] if track else []
        self.album_detail = album

    async def search(self, ctx: CallContext, artist: str, title: str) -> list[DeezerTrack]:
        """Text search."""
        return await self._answer("search", self.hits, artist, title)

    async def track(self, ctx: CallContext, deezer_id: int) -> DeezerTrack | None:
        """Track by id."""
        found = next((t for t in self.hits if t.id == deezer_id), None)
        return await self._answer("track", found, deezer_id)

    async def by_isrc(self, ctx: CallContext, isrc: str) -> DeezerTrack | None:
        """Track by ISRC."""
        found = next((t for t in self.hits if t.isrc == isrc), None)
        return await self._answer("by_isrc", found, isrc)

    async def album(self, ctx: CallContext, album_id: int) -> DeezerAlbum | None:
        """Album detail."""
        return await self._answer("album", self.album_detail, album_id)


class FakeGetSongBpm(FakeSource):
    """``GetSongBpmClient``'s search."""

    def __init__(self, song: GsbSong | None = None) -> None:
        super().__init__()
        self.hits = [song] if song else []

    async def search(self, ctx: CallContext, artist: str, title: str) -> list[GsbSong]:
        """Title search."""
        return await self._answer("search", self.hits, artist, title)


def source_set(
    spotify: FakeSpotify | None = None,
    musicbrainz: FakeMusicBrainz | None = None,
    lastfm: FakeLastfm | None = None,
    deezer: FakeDeezer | None = None,
    getsongbpm: FakeGetSongBpm | None = None,
) -> SourceSet:
    """A ``SourceSet`` of fakes (duck-typed stand-ins for the HTTP clients)."""
    return SourceSet(
        spotify=cast(SpotifyClient | None, spotify),
        musicbrainz=cast(MusicBrainzClient | None, musicbrainz),
        lastfm=cast(LastfmClient | None, lastfm),
        deezer=cast(DeezerClient | None, deezer),
        getsongbpm=cast(GetSongBpmClient | None, getsongbpm),
    )
