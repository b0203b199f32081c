"""Spotify Web API: client-credentials token, track search, track lookup, audio features.

Quirks handled (reference: upstream-apis.md section 1): tokens live 3600 s and are
refreshed 60 s early; any 401 refreshes the token once and retries, whatever its message;
a bad client secret is a 400 ``invalid_client`` from the token endpoint; search ``limit``
is at most 10 for development-mode apps; a 429 whose body says ``QUOTA_EXCEEDED`` is an
exhausted quota, not a pause; audio features answer 403 to apps created after
2024-11-27, which switches the feature off for this credential (not a failure).
"""

from __future__ import annotations

import asyncio
import base64
import math
import time

import structlog
from pydantic import Field, TypeAdapter

from enrichment_server.deadline import Clock, Deadline
from enrichment_server.domain import Source
from enrichment_server.errors import (
    DeadlineExceeded,
    QuotaExceeded,
    UpstreamRejected,
    UpstreamUnavailable,
)
from enrichment_server.resilience.pipeline import CallContext, Lookup, TtlKind, UpstreamCaller
from enrichment_server.sources.base import HttpSource, Model, is_empty, is_none
from enrichment_server.sources.http import HttpResponse, Transport

log = structlog.get_logger(__name__)
SEARCH_LIMIT = 10
TOKEN_EARLY_REFRESH_S = 60.0
DEFAULT_TOKEN_LIFETIME_S = 3600.0
MAX_TOKEN_LIFETIME_S = 86400.0


class SpotifyArtist(Model):
    """A simplified artist."""

    id: str | None = None
    name: str


class SpotifyAlbum(Model):
    """A simplified album."""

    id: str | None = None
    name: str
    release_date: str | None = None
    release_date_precision: str | None = None
    label: str | None = None


class SpotifyExternalIds(Model):
    """``external_ids``: where the ISRC lives."""

    isrc: str | None = None


class SpotifyTrack(Model):
    """A TrackObject, reduced to the fields we use."""

    id: str
    name: str
    artists: list[SpotifyArtist]
    album: SpotifyAlbum
    duration_ms: int | None = None
    external_ids: SpotifyExternalIds = Field(default_factory=SpotifyExternalIds)

    @property
    def artist_credit(self) -> str:
        """Artists joined the way a tracklist writes them."""
        return ", ".join(a.name for a in self.artists)


class SpotifyFeatures(Model):
    """An audio-features object."""

    tempo: float | None = None
    key: int | None = None
    mode: int | None = None
    energy: float | None = None
    danceability: float | None = None
    valence: float | None = None


class _Paging(Model):
    items: list[SpotifyTrack]


class _SearchPage(Model):
    tracks: _Paging


class _Token(Model):
    access_token: str
    token_type: str
    expires_in: float | None = None

    @property
    def lifetime_s(self) -> float:
        """``expires_in`` when believable; else Spotify's documented hour (a 401 refreshes
        the token anyway): NaN, infinite, negative or absurd values are treated as absent."""
        value = self.expires_in
        if value is None or not math.isfinite(value) or not 0 < value <= MAX_TOKEN_LIFETIME_S:
            return DEFAULT_TOKEN_LIFETIME_S
        return value


TRACKS = TypeAdapter(list[SpotifyTrack])
TRACK = TypeAdapter(SpotifyTrack | None)
FEATURES = TypeAdapter(SpotifyFeatures | None)
_SEARCH = TypeAdapter(_SearchPage)
_TRACK_BODY = TypeAdapter(SpotifyTrack)
_FEATURES_BODY = TypeAdapter(SpotifyFeatures)
_TOKEN = TypeAdapter(_Token)


class SpotifyClient(HttpSource):
    """Spotify lookups; one instance per credential."""

    source = Source.SPOTIFY

    def __init__(
        self,
        caller: UpstreamCaller,
        transport: Transport,
        http_timeout_s: float,
        *,
        api_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        market: str,
        clock: Clock = time.monotonic,
    ) -> None:
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        super().__init__(
            caller,
            transport,
            http_timeout_s,
            credentials=(client_id, client_secret),
            derived=(basic,),
        )
        self._api = api_url.rstrip("/")
        self._token_url = token_url
        self._basic = f"Basic {basic}"
        self._market = market
        self._clock = clock
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()
        self.audio_features_enabled = True

    async def search(self, ctx: CallContext, artist: str, title: str) -> list[SpotifyTrack]:
        """Tracks matching ``track:`` + ``artist:`` filters, best first (unverified)."""
        query = f"track:{_clean(title)}"
        if artist.strip():  # blank: the title alone (a row crediting a remix's remixer)
            query += f" artist:{_clean(artist)}"
        lookup = Lookup(f"search:{query.casefold()}", TtlKind.SEARCH)
        return await self._caller.lookup(
            ctx, lookup, TRACKS, lambda d: self._search(d, query), is_empty
        )

    async def search_isrc(self, ctx: CallContext, isrc: str) -> list[SpotifyTrack]:
        """Tracks carrying ``isrc`` (an album, a single and a compilation may share one)."""
        query = f"isrc:{isrc}"
        lookup = Lookup(f"isrc:{isrc}", TtlKind.ISRC)
        return await self._caller.lookup(
            ctx, lookup, TRACKS, lambda d: self._search(d, query), is_empty
        )

    async def track(self, ctx: CallContext, spotify_id: str) -> SpotifyTrack | None:
        """The track with this id, or None when Spotify does not know it."""
        lookup = Lookup(f"track:{spotify_id}", TtlKind.BY_ID)
        return await self._caller.lookup(
            ctx, lookup, TRACK, lambda d: self._track(d, spotify_id), is_none
        )

    async def audio_features(self, ctx: CallContext, spotify_id: str) -> SpotifyFeatures | None:
        """Tempo, key and mood; None when unknown or when this app has no access (403)."""
        if not self.audio_features_enabled:
            return None
        lookup = Lookup(f"features:{spotify_id}", TtlKind.BY_ID)
        return await self._caller.lookup(
            ctx, lookup, FEATURES, lambda d: self._features(d, spotify_id), is_none
        )

    async def _search(self, deadline: Deadline, query: str) -> list[SpotifyTrack]:
        params = {"q": query, "type": "track", "limit": str(SEARCH_LIMIT), "market": self._market}
        resp = await self._api_get(deadline, "/search", params)
        self._check(resp)
        return list(self._parse(resp, _SEARCH).tracks.items)

    async def _track(self, deadline: Deadline, spotify_id: str) -> SpotifyTrack | None:
        resp = await self._api_get(deadline, f"/tracks/{spotify_id}", {"market": self._market})
        if resp.status == 404:
            return None
        self._check(resp)
        return self._parse(resp, _TRACK_BODY)

    async def _features(self, deadline: Deadline, spotify_id: str) -> SpotifyFeatures | None:
        resp = await self._api_get(deadline, f"/audio-features/{spotify_id}", None)
        if resp.status == 403:
            if self.audio_features_enabled:
                log.warning(
                    "spotify_audio_features_forbidden", action="disabled for this credential"
                )
            self.audio_features_enabled = False
            return None
        if resp.status == 404:
            return None
        self._check(resp)
        return self._parse(resp, _FEATURES_BODY)

    async def _api_get(
        self, deadline: Deadline, path: str, params: dict[str, str] | None
    ) -> HttpResponse:
        """GET with the bearer token; on any 401 refresh the token once and retry."""
        token = await self._bearer(deadline)
        resp = await self._send(deadline, self._api + path, params=params, headers=_auth(token))
        if resp.status == 401:
            token = await self._bearer(deadline, stale=token)
            resp = await self._send(deadline, self._api + path, params=params, headers=_auth(token))
        return resp

    async def _bearer(self, deadline: Deadline, stale: str | None = None) -> str:
        """A live token; one caller fetches while the others wait, each within its deadline.

        The wait is bounded by the caller's deadline, and the fetch by its own (never
        zero) HTTP timeout, so a hanging token endpoint holds the lock for at most one
        HTTP timeout and Spotify recovers as soon as the endpoint does.
        """
        try:
            async with asyncio.timeout(deadline.remaining()):
                await self._token_lock.acquire()
        except TimeoutError:
            raise DeadlineExceeded(self.source, "deadline reached waiting for a token") from None
        try:
            fresh = self._clock() < self._token_expires - TOKEN_EARLY_REFRESH_S
            if self._token is not None and fresh and self._token != stale:
                return self._token
            token = await self._fetch_token(deadline)
            self._token = token.access_token
            self._token_expires = self._clock() + token.lifetime_s
            return token.access_token
        finally:
            self._token_lock.release()

    async def _fetch_token(self, deadline: Deadline) -> _Token:
        resp = await self._send(
            deadline,
            self._token_url,
            method="POST",
            headers={"Authorization": self._basic},
            data={"grant_type": "client_credentials"},
        )
        if resp.status in (400, 401, 403):
            raise self._refused(f"token endpoint refused the credentials: {self._error_text(resp)}")
        self._check(resp)
        token = self._parse(resp, _TOKEN)
        if token.token_type.casefold() != "bearer":
            raise UpstreamRejected(
                self.source, self._redact(f"unexpected token type {token.token_type!r}")
            )
        return token

    def _check(self, resp: HttpResponse) -> None:
        """Raise the ``UpstreamError`` an unsuccessful status means."""
        if resp.status < 400:
            return
        reason = self._error_text(resp)
        if resp.status == 429:
            if "QUOTA_EXCEEDED" in reason:
                raise QuotaExceeded(self.source, "quota exhausted until its window resets")
            raise self._throttled(resp, "rate limited (429)")
        if resp.status >= 500:
            raise UpstreamUnavailable(self.source, f"HTTP {resp.status}: {reason}")
        if resp.status == 401:
            raise self._refused(f"HTTP 401 after a token refresh: {reason}")
        raise UpstreamRejected(self.source, f"HTTP {resp.status}: {reason}")


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _clean(value: str) -> str:
    """Field-filter values: quotes removed (beets does the same), whitespace collapsed."""
    return " ".join(value.replace('"', " ").split())
