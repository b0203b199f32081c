"""Why a track matches what it does: every source's candidates and how each scored.

The waterfall keeps only the winner; an operator asking "why this Spotify id?" (or "why
nothing?") needs the losers too, as beets' importer shows candidates with their
distance penalties. ``Explainer`` repeats each source's text search for the track through
the same callers (so a cached upstream answer is reused and nothing new is asked when
the cache has it), scores every candidate with the matcher, and says which one is taken
against the threshold or why none is. Identification by an existing id or ISRC is exact
and not explained here.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from enrichment_server.deadline import Deadline
from enrichment_server.domain import Source
from enrichment_server.enrichment.matching import Matcher, score_parts
from enrichment_server.enrichment.normalise import NormalisedTrack, normalise
from enrichment_server.enrichment.waterfall import Waterfall
from enrichment_server.errors import UpstreamError
from enrichment_server.resilience.pipeline import CallContext

#: (id, artist credit, title, duration ms) of one candidate.
Described = tuple[str, str, str, int | None]
Search = Callable[[CallContext, str, str], Awaitable[Sequence[Any]]]


@dataclass(frozen=True, slots=True)
class ScoredCandidate:
    """One candidate a source returned, and how it scored."""

    id: str
    artist: str
    title: str
    duration_ms: int | None
    score: float
    artist_score: float
    title_score: float
    version_factor: float
    duration_clash: bool
    taken: bool


@dataclass(frozen=True, slots=True)
class SourceVerdict:
    """A source's search, its scored candidates (best first), and the outcome."""

    source: Source
    query: str
    candidates: tuple[ScoredCandidate, ...]
    verdict: str
    from_cache: bool
    failed: bool


def _spotify(track: Any) -> Described:
    return track.id, track.artist_credit, track.name, track.duration_ms


def _musicbrainz(recording: Any) -> Described:
    return recording.id, recording.artist_credit_text, recording.title, recording.length


def _deezer(track: Any) -> Described:
    return str(track.id), track.artist_credit, track.title, track.duration_ms


def _getsongbpm(song: Any) -> Described:
    return song.id, song.artist_name, song.title, None


def _lastfm(track: Any) -> Described:
    return track.mbid or "", track.artist.name, track.name, None


class Explainer:
    """Explains matches with the waterfall's current clients and the service's matcher."""

    def __init__(self, waterfall: Waterfall, matcher: Matcher) -> None:
        self._waterfall = waterfall
        self._matcher = matcher

    @property
    def threshold(self) -> float:
        """The score a candidate needs."""
        return self._matcher.threshold

    def _searches(self) -> dict[Source, tuple[Search, Callable[[Any], Described]]]:
        sources = self._waterfall.sources
        found: dict[Source, tuple[Search, Callable[[Any], Described]]] = {}
        if sources.spotify is not None:
            found[Source.SPOTIFY] = (sources.spotify.search, _spotify)
        if sources.musicbrainz is not None:
            found[Source.MUSICBRAINZ] = (sources.musicbrainz.search, _musicbrainz)
        if sources.deezer is not None:
            found[Source.DEEZER] = (sources.deezer.search, _deezer)
        if sources.getsongbpm is not None:
            found[Source.GETSONGBPM] = (sources.getsongbpm.search, _getsongbpm)
        if sources.lastfm is not None:
            info = sources.lastfm.track_info

            async def lastfm(ctx: CallContext, artist: str, title: str) -> list[Any]:
                answer = await info(ctx, artist, title)
                return [answer] if answer is not None else []

            found[Source.LASTFM] = (lastfm, _lastfm)
        return found

    async def explain(self, artist: str, title: str, deadline: Deadline) -> list[SourceVerdict]:
        """Every enabled source's explanation, asked concurrently within ``deadline``."""
        query = normalise(artist, title)
        searches = self._searches()
        verdicts = await asyncio.gather(
            *(
                self._one(source, search, describe, query, deadline)
                for source, (search, describe) in searches.items()
            )
        )
        return list(verdicts)

    async def _one(
        self,
        source: Source,
        search: Search,
        describe: Callable[[Any], Described],
        query: NormalisedTrack,
        deadline: Deadline,
    ) -> SourceVerdict:
        ctx = CallContext(deadline)
        asked = f"{query.search_artist} - {query.search_title}"
        try:
            hits = await search(ctx, query.search_artist, query.search_title)
        except UpstreamError as exc:
            verdict = f"failed: {exc.kind}: {exc}"
            return SourceVerdict(source, asked, (), verdict, False, True)
        scored = sorted((self._score(query, describe(hit)) for hit in hits), key=lambda c: -c.score)
        best = scored[0] if scored else None
        if best is not None and best.score >= self.threshold:
            scored[0] = _taken(best)
            verdict = f"taken: {best.artist} - {best.title} (score {best.score:.3f})"
        elif best is not None:
            verdict = f"none taken: the best score {best.score:.3f} is below {self.threshold}"
        else:
            verdict = "no candidates returned"
        from_cache = ctx.network_calls == 0
        return SourceVerdict(source, asked, tuple(scored), verdict, from_cache, False)

    def _score(self, query: NormalisedTrack, described: Described) -> ScoredCandidate:
        id_, artist, title, duration_ms = described
        parts = score_parts(query, normalise(artist, title), candidate_duration_ms=duration_ms)
        return ScoredCandidate(
            id=id_,
            artist=artist,
            title=title,
            duration_ms=duration_ms,
            score=parts.total,
            artist_score=parts.artist,
            title_score=parts.title,
            version_factor=parts.version_factor,
            duration_clash=parts.duration_clash,
            taken=False,
        )


def _taken(candidate: ScoredCandidate) -> ScoredCandidate:
    return dataclasses.replace(candidate, taken=True)
