"""MusicBrainz WS/2 (JSON): recording search, ISRC lookup, recording and release lookups.

Quirks handled (reference: upstream-apis.md section 2): a meaningful User-Agent is
mandatory; JSON needs ``fmt=json``; throttling is an HTTP **503** (not 429), possibly
with ``Retry-After``; ISRCs are under ``isrcs`` (a list); search media list tracks under
``track`` while lookups say ``tracks``; labels need a release lookup (``inc=labels`` on a
recording is a 400). The 1 request/s pace is enforced by the caller's rate limiter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import Field, TypeAdapter

from enrichment_server.deadline import Deadline
from enrichment_server.domain import Source
from enrichment_server.errors import UpstreamRejected, UpstreamUnavailable
from enrichment_server.resilience.pipeline import CallContext, Lookup, TtlKind
from enrichment_server.sources.base import EndpointSource, Model, is_empty, is_none
from enrichment_server.sources.http import HttpResponse

SEARCH_LIMIT = 10
RECORDING_INC = "artist-credits+releases+release-groups+isrcs+tags+genres"
ISRC_INC = "artist-credits+releases+isrcs+tags+genres"
RELEASE_INC = "labels+release-groups"
# Characters with a meaning in Lucene syntax; inside a quoted phrase only " and \ matter.
_LUCENE_QUOTED = str.maketrans({'"': '\\"', "\\": "\\\\"})


class MbArtist(Model):
    """An artist reference."""

    id: str
    name: str


class MbCredit(Model):
    """One artist-credit entry."""

    name: str
    joinphrase: str = ""
    artist: MbArtist


class MbReleaseGroup(Model):
    """A release group."""

    id: str
    title: str | None = None
    primary_type: str | None = Field(None, alias="primary-type")


class MbRelease(Model):
    """A release as embedded in a recording."""

    id: str
    title: str
    status: str | None = None
    date: str | None = None
    release_group: MbReleaseGroup | None = Field(None, alias="release-group")


class MbTag(Model):
    """A folksonomy tag or genre with its vote count."""

    name: str
    count: int = 0


class MbRecording(Model):
    """A recording from a search, an ISRC lookup or a recording lookup."""

    id: str
    title: str
    score: int | None = None
    length: int | None = None
    artist_credit: list[MbCredit] = Field(default_factory=list, alias="artist-credit")
    first_release_date: str | None = Field(None, alias="first-release-date")
    releases: list[MbRelease] = Field(default_factory=list)
    isrcs: list[str] = Field(default_factory=list)
    tags: list[MbTag] = Field(default_factory=list)
    genres: list[MbTag] = Field(default_factory=list)

    @property
    def artist_credit_text(self) -> str:
        """The credit as displayed: names joined by their join phrases."""
        return "".join(c.name + c.joinphrase for c in self.artist_credit)


class MbLabel(Model):
    """A label reference."""

    id: str | None = None
    name: str


class MbLabelInfo(Model):
    """A release's label and catalogue number."""

    catalog_number: str | None = Field(None, alias="catalog-number")
    label: MbLabel | None = None


class MbReleaseDetail(Model):
    """A release lookup with ``inc=labels``."""

    id: str
    title: str
    date: str | None = None
    label_info: list[MbLabelInfo] = Field(default_factory=list, alias="label-info")


class _Search(Model):
    recordings: list[MbRecording]


class _IsrcLookup(Model):
    recordings: list[MbRecording]


RECORDINGS = TypeAdapter(list[MbRecording])
RECORDING = TypeAdapter(MbRecording | None)
RELEASE = TypeAdapter(MbReleaseDetail | None)
_SEARCH = TypeAdapter(_Search)
_ISRC = TypeAdapter(_IsrcLookup)
_RECORDING_BODY = TypeAdapter(MbRecording)
_RELEASE_BODY = TypeAdapter(MbReleaseDetail)


class MusicBrainzClient(EndpointSource):
    """MusicBrainz lookups."""

    source = Source.MUSICBRAINZ

    extra_headers: ClassVar[Mapping[str, str]] = {"Accept": "application/json"}

    async def search(self, ctx: CallContext, artist: str, title: str) -> list[MbRecording]:
        """Recordings matching title and artist, with MusicBrainz's score (unverified)."""
        query = f'recording:"{_quote(title)}" AND artist:"{_quote(artist)}"'
        lookup = Lookup(f"search:{query.casefold()}", TtlKind.SEARCH)
        params = {"query": query, "limit": str(SEARCH_LIMIT)}
        return await self._caller.lookup(
            ctx, lookup, RECORDINGS, lambda d: self._search(d, params), is_empty
        )

    async def by_isrc(self, ctx: CallContext, isrc: str) -> list[MbRecording]:
        """Recordings carrying ``isrc`` (one ISRC can map to several); [] when unknown."""
        lookup = Lookup(f"isrc:{isrc}", TtlKind.ISRC)
        return await self._caller.lookup(
            ctx, lookup, RECORDINGS, lambda d: self._isrc(d, isrc), is_empty
        )

    async def recording(self, ctx: CallContext, mbid: str) -> MbRecording | None:
        """The recording with this MBID, or None when unknown."""
        lookup = Lookup(f"recording:{mbid}", TtlKind.BY_ID)
        return await self._caller.lookup(
            ctx, lookup, RECORDING, lambda d: self._recording(d, mbid), is_none
        )

    async def release(self, ctx: CallContext, mbid: str) -> MbReleaseDetail | None:
        """A release with its labels, or None when unknown."""
        lookup = Lookup(f"release:{mbid}", TtlKind.BY_ID)
        return await self._caller.lookup(
            ctx, lookup, RELEASE, lambda d: self._release(d, mbid), is_none
        )

    async def _search(self, deadline: Deadline, params: dict[str, str]) -> list[MbRecording]:
        resp = await self._get(deadline, "/recording", params)
        self._check(resp)
        return list(self._parse(resp, _SEARCH).recordings)

    async def _isrc(self, deadline: Deadline, isrc: str) -> list[MbRecording]:
        resp = await self._get(deadline, f"/isrc/{isrc}", {"inc": ISRC_INC})
        if resp.status == 404:
            return []
        self._check(resp)
        return list(self._parse(resp, _ISRC).recordings)

    async def _recording(self, deadline: Deadline, mbid: str) -> MbRecording | None:
        resp = await self._get(deadline, f"/recording/{mbid}", {"inc": RECORDING_INC})
        if resp.status == 404:
            return None
        self._check(resp)
        return self._parse(resp, _RECORDING_BODY)

    async def _release(self, deadline: Deadline, mbid: str) -> MbReleaseDetail | None:
        resp = await self._get(deadline, f"/release/{mbid}", {"inc": RELEASE_INC})
        if resp.status == 404:
            return None
        self._check(resp)
        return self._parse(resp, _RELEASE_BODY)

    async def _get(self, deadline: Deadline, path: str, params: dict[str, str]) -> HttpResponse:
        return await self._send(
            deadline, self._url(path), params={**params, "fmt": "json"}, headers=self._headers
        )

    def _check(self, resp: HttpResponse) -> None:
        """Raise the ``UpstreamError`` an unsuccessful status means."""
        if resp.status < 400:
            return
        reason = self._error_text(resp)
        if resp.status in (429, 503):
            # MusicBrainz's front proxy throttles with 503 (rate limit or overload).
            raise self._throttled(resp, f"throttled (HTTP {resp.status}): {reason}")
        if resp.status >= 500:
            raise UpstreamUnavailable(self.source, f"HTTP {resp.status}: {reason}")
        raise UpstreamRejected(self.source, f"HTTP {resp.status}: {reason}")


def _quote(value: str) -> str:
    """Escape a value for use inside a quoted Lucene phrase."""
    return " ".join(value.split()).translate(_LUCENE_QUOTED)
