"""Baseline (b): the naive inline enricher, the seed's "before" design.

Behind the same gRPC interface: for every request, one upstream call after another
(Spotify search, MusicBrainz search, Last.fm ``track.getInfo``, Deezer search, GetSongBPM
search), the top hit of each taken as is. No cache, no coalescing, no rate limiting, no
retries, no matcher; an HTTP error just loses that source. Its own tiny aiohttp code
(it never imports the server's waterfall). ``python -m bench.naive`` reads the sandbox
settings (``ENRICHMENT_*``) and serves on ``ENRICHMENT_GRPC_PORT`` until SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import grpc

from bench.echo import serve_baseline
from enrichment_client import pb
from enrichment_client.pb.enrichment.v1 import enrichment_pb2_grpc as pb_grpc

TIMEOUT = aiohttp.ClientTimeout(total=5)
USER_AGENT = "naive-enricher/0.0 ( bench )"
Json = dict[str, Any]
Step = Callable[[str, str, pb.TrackMetadata], Awaitable[bool]]


class HttpError(Exception):
    """An upstream answered with an HTTP error status."""

    def __init__(self, status: int) -> None:
        """Remember the status."""
        super().__init__(f"HTTP {status}")
        self.status = status


class Upstreams:
    """One function per upstream: ask, take the top hit, copy a few fields."""

    def __init__(self, session: aiohttp.ClientSession, env: Mapping[str, str]) -> None:
        """``env``: the sandbox's ``ENRICHMENT_*`` settings."""
        self._session = session
        self._env = env
        self._token: str | None = None

    async def _get(self, url: str, params: Mapping[str, str], **headers: str) -> Json:
        async with self._session.get(url, params=params, headers=headers) as resp:
            if resp.status >= 400:
                raise HttpError(resp.status)
            body: Json = await resp.json(content_type=None)
            return body

    async def _bearer(self) -> str:
        if self._token is None:
            auth = aiohttp.BasicAuth(
                self._env["ENRICHMENT_SPOTIFY_CLIENT_ID"],
                self._env["ENRICHMENT_SPOTIFY_CLIENT_SECRET"],
            )
            data = {"grant_type": "client_credentials"}
            url = self._env["ENRICHMENT_SPOTIFY_TOKEN_URL"]
            async with self._session.post(url, data=data, auth=auth) as resp:
                if resp.status >= 400:
                    raise HttpError(resp.status)
                self._token = str((await resp.json())["access_token"])
        return self._token

    async def spotify(self, artist: str, title: str, meta: pb.TrackMetadata) -> bool:
        """Spotify search; the first item's id, ISRC, names, album, duration."""
        url = self._env["ENRICHMENT_SPOTIFY_API_URL"] + "/search"
        params = {"q": f"track:{title} artist:{artist}", "type": "track", "limit": "5"}
        body = await self._get(url, params, Authorization=f"Bearer {await self._bearer()}")
        items = body.get("tracks", {}).get("items", [])
        if not items:
            return False
        top = items[0]
        meta.spotify_id, meta.title = top["id"], top["name"]
        meta.artist = ", ".join(a["name"] for a in top.get("artists", []))
        meta.isrc = top.get("external_ids", {}).get("isrc", "")
        meta.album, meta.duration_ms = top["album"]["name"], top["duration_ms"]
        return True

    async def musicbrainz(self, artist: str, title: str, meta: pb.TrackMetadata) -> bool:
        """MusicBrainz recording search; the first recording's MBID."""
        url = self._env["ENRICHMENT_MUSICBRAINZ_URL"] + "/recording"
        query = f'recording:"{title}" AND artist:"{artist}"'
        params = {"query": query, "limit": "5", "fmt": "json"}
        recordings = (await self._get(url, params, **{"User-Agent": USER_AGENT}))["recordings"]
        if recordings:
            meta.musicbrainz_id = recordings[0]["id"]
        return bool(recordings)

    async def lastfm(self, artist: str, title: str, meta: pb.TrackMetadata) -> bool:
        """Last.fm ``track.getInfo``: listeners, play count, top tags."""
        key = self._env["ENRICHMENT_LASTFM_API_KEY"]
        params = {"method": "track.getInfo", "artist": artist, "track": title}
        body = await self._get(
            self._env["ENRICHMENT_LASTFM_URL"], {**params, "api_key": key, "format": "json"}
        )
        track = body.get("track")
        if not track:
            return False
        meta.lastfm_listeners = int(track.get("listeners", 0))
        meta.lastfm_playcount = int(track.get("playcount", 0))
        meta.genres.extend(t["name"] for t in track.get("toptags", {}).get("tag", []))
        return True

    async def deezer(self, artist: str, title: str, meta: pb.TrackMetadata) -> bool:
        """Deezer search; the first item's album title when Spotify gave none."""
        url = self._env["ENRICHMENT_DEEZER_URL"].rstrip("/") + "/search"
        body = await self._get(url, {"q": f'artist:"{artist}" track:"{title}"', "limit": "5"})
        data = body.get("data") or []
        if data and not meta.HasField("album"):
            meta.album = data[0].get("album", {}).get("title", "")
        return bool(data)

    async def getsongbpm(self, artist: str, title: str, meta: pb.TrackMetadata) -> bool:
        """GetSongBPM search; the first song's tempo."""
        params = {
            "api_key": self._env["ENRICHMENT_GETSONGBPM_API_KEY"],
            "type": "both",
            "lookup": f"song:{title} artist:{artist}",
        }
        body = await self._get(self._env["ENRICHMENT_GETSONGBPM_URL"] + "search/", params)
        songs = body.get("search")
        if not isinstance(songs, list) or not songs:
            return False
        meta.bpm = float(songs[0].get("tempo") or 0)
        return True


def _status(found: bool, failed: bool) -> pb.EnrichmentStatus.ValueType:
    if found:
        return pb.ENRICHMENT_STATUS_PARTIAL if failed else pb.ENRICHMENT_STATUS_COMPLETED
    return pb.ENRICHMENT_STATUS_FAILED if failed else pb.ENRICHMENT_STATUS_NOT_FOUND


def _error(source: pb.Source.ValueType, exc: Exception) -> pb.SourceError:
    status = exc.status if isinstance(exc, HttpError) else 0
    code = pb.ERROR_CODE_RATE_LIMITED if status in (429, 503) else pb.ERROR_CODE_UNAVAILABLE
    return pb.SourceError(source=source, code=code, message=str(exc) or "error", retriable=True)


class NaiveServicer(pb_grpc.EnrichmentServiceServicer):
    """``Enrich``: the five upstreams in turn, inline."""

    def __init__(self, upstreams: Upstreams) -> None:
        """Call ``upstreams``."""
        self._steps: tuple[tuple[pb.Source.ValueType, Step], ...] = (
            (pb.SOURCE_SPOTIFY, upstreams.spotify),
            (pb.SOURCE_MUSICBRAINZ, upstreams.musicbrainz),
            (pb.SOURCE_LASTFM, upstreams.lastfm),
            (pb.SOURCE_DEEZER, upstreams.deezer),
            (pb.SOURCE_GETSONGBPM, upstreams.getsongbpm),
        )

    async def Enrich(  # noqa: N802 - the generated servicer's method name
        self, request: pb.EnrichRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.EnrichResponse:
        """Enrich one track, one upstream after another."""
        started = time.perf_counter()
        response = pb.EnrichResponse(track_id=request.track_id)
        for source, step in self._steps:
            try:
                if await step(request.artist_name, request.track_title, response.metadata):
                    response.sources_used.append(source)
            except (aiohttp.ClientError, TimeoutError, HttpError, KeyError, ValueError) as exc:
                response.errors.append(_error(source, exc))
        response.status = _status(bool(response.sources_used), bool(response.errors))
        response.duration.FromNanoseconds(int((time.perf_counter() - started) * 1e9))
        return response

    async def EnrichBatch(  # noqa: N802 - the generated servicer's method name
        self,
        request_iterator: AsyncIterator[pb.EnrichBatchRequest],
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[pb.EnrichBatchResponse]:
        """The naive design had no batch API."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "the naive baseline is unary only")
        yield pb.EnrichBatchResponse()  # pragma: no cover - abort raises


async def serve() -> None:
    """Serve until SIGTERM."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=TIMEOUT, connector=connector) as session:
        await serve_baseline(NaiveServicer(Upstreams(session, os.environ)))


def main() -> None:
    """Entry point of ``python -m bench.naive``."""
    asyncio.run(serve())


if __name__ == "__main__":
    main()
