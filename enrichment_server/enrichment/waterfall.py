"""The enrichment waterfall: which sources are asked what, in which order, concurrently.

Stages (DESIGN section 4):

* Last.fm needs only artist and title, so it starts at once, beside everything else.
* Identify on Spotify: an existing Spotify id, else an ``isrc:`` search, else a text
  search whose candidates must pass the matcher (a top hit is never taken on trust).
* Cross-reference on MusicBrainz: an existing MBID, else the ISRC (given, or from
  Spotify; so it waits for Spotify only when it has neither), else a scored search.
  Spotify audio features and the MusicBrainz release (label) follow their match.
* Merge by per-field precedence (``merge.py``).

Each source's failure is recorded and the others go on: one source down never discards
what the others found.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from enrichment_server.deadline import Deadline
from enrichment_server.domain import (
    EnrichmentRequest,
    EnrichmentResult,
    ErrorKind,
    Source,
    SourceFailure,
)
from enrichment_server.enrichment.identity import Identity, ask_with_fallback
from enrichment_server.enrichment.matching import (
    Matcher,
    NormalisedTrack,
    credits_remixer,
    normalise,
)
from enrichment_server.enrichment.merge import (
    PRECEDENCE,
    Findings,
    Precedence,
    decide_status,
    merge,
)
from enrichment_server.enrichment.placeholders import placeholder_answer, placeholder_field
from enrichment_server.enrichment.results import ResultCache, result_key
from enrichment_server.errors import UpstreamError
from enrichment_server.resilience.pipeline import CallContext
from enrichment_server.sources.deezer import DeezerClient, DeezerTrack
from enrichment_server.sources.findings import (
    deezer_findings,
    getsongbpm_findings,
    lastfm_findings,
    musicbrainz_findings,
    pick_release,
    spotify_features_findings,
    spotify_findings,
)
from enrichment_server.sources.getsongbpm import GetSongBpmClient
from enrichment_server.sources.lastfm import LastfmClient
from enrichment_server.sources.musicbrainz import MbRecording, MusicBrainzClient
from enrichment_server.sources.spotify import SpotifyClient, SpotifyTrack
from enrichment_server.telemetry.hooks import Hooks, NullHooks

log = structlog.get_logger(__name__)
#: Share of the remaining deadline MusicBrainz waits for Spotify's ISRC before searching.
SPOTIFY_PATIENCE = 0.4
#: Share of the remaining deadline MusicBrainz waits for Deezer's label before it spends
#: a scarce call (1 request/s) on its own release lookup for one.
LABEL_PATIENCE = 0.3


@dataclass(slots=True)
class SourceSet:
    """The configured sources; a disabled source is None. Mutable: a credential set at
    run time swaps a client in place, and the next enrichment uses it."""

    spotify: SpotifyClient | None = None
    musicbrainz: MusicBrainzClient | None = None
    lastfm: LastfmClient | None = None
    deezer: DeezerClient | None = None
    getsongbpm: GetSongBpmClient | None = None


@dataclass(slots=True)
class _Run:
    """State of one enrichment while its stages run."""

    request: EnrichmentRequest
    query: NormalisedTrack
    ctx: CallContext
    findings: dict[Source, Findings] = field(default_factory=dict)
    failures: dict[Source, SourceFailure] = field(default_factory=dict)
    finished: set[Source] = field(default_factory=set)
    identity: Identity = field(default_factory=Identity)
    deezer_done: asyncio.Event = field(default_factory=asyncio.Event)

    def found(self, source: Source, values: Findings) -> None:
        self.findings.setdefault(source, {}).update(values)

    async def guarded(self, source: Source, stage: Awaitable[None]) -> None:
        """Run one source's stage; record its failure instead of propagating it."""
        try:
            await stage
            self.finished.add(source)
        except UpstreamError as exc:
            self.finished.add(source)
            self.failures.setdefault(source, exc.to_failure())
        except Exception:
            # A bug in one adapter must not discard the other sources' data: report it
            # as a retriable failure of that source and keep the traceback in the log.
            log.exception("source_stage_crashed", source=str(source))
            failure = SourceFailure(source, ErrorKind.UNAVAILABLE, "internal error", True)
            self.failures.setdefault(source, failure)
            self.finished.add(source)

    def cut_off(self, enabled: Iterable[Source]) -> None:
        """The deadline came: every enabled source that had not finished failed retriably
        (what the others found is kept)."""
        for source in set(enabled) - self.finished:
            failure = SourceFailure(
                source, ErrorKind.DEADLINE_EXCEEDED, "deadline reached before the answer", True
            )
            self.failures.setdefault(source, failure)


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a finished future's exception as retrieved (it is handled where awaited)."""
    if not future.cancelled():
        future.exception()


class Waterfall:
    """Enriches one track from every configured source."""

    def __init__(
        self,
        sources: SourceSet,
        matcher: Matcher,
        clock: Callable[[], float] = time.monotonic,
        precedence: Precedence = PRECEDENCE,
        results: ResultCache | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        self._sources = sources
        self._matcher = matcher
        self._clock = clock
        self._precedence = precedence
        self._results = results
        self._hooks: Hooks = hooks or NullHooks()

    def _enabled(self) -> list[Source]:
        sources = self._sources
        clients = {
            Source.SPOTIFY: sources.spotify,
            Source.MUSICBRAINZ: sources.musicbrainz,
            Source.LASTFM: sources.lastfm,
            Source.DEEZER: sources.deezer,
            Source.GETSONGBPM: sources.getsongbpm,
        }
        return [source for source, client in clients.items() if client is not None]

    @property
    def sources(self) -> SourceSet:
        """The clients in use now (the console's credential test calls one)."""
        return self._sources

    def replace_sources(self, sources: SourceSet) -> None:
        """Use these clients from the next enrichment on (a credential changed).

        Remembered results were computed without the new credential (a source skipped or
        refused): none of them may be served any more.
        """
        self._sources = sources
        if self._results is not None:
            self._results.clear()

    async def enrich(self, request: EnrichmentRequest, deadline: Deadline) -> EnrichmentResult:
        """Ask every source, merge what they found, and decide the status."""
        placeholder = placeholder_field(request)
        if placeholder is not None:
            return placeholder_answer(request, placeholder)
        started = self._clock()
        query = normalise(request.artist, request.title)
        key = result_key(request, query)
        if self._results is not None and not request.force_refresh:
            remembered = self._results.get(key, request.track_id)
            self._hooks.result_lookup(hit=remembered is not None)
            if remembered is not None:
                return remembered
        result = await self._enrich(request, query, deadline, started)
        if self._results is not None:
            self._results.put(key, result)
        return result

    async def _enrich(
        self, request: EnrichmentRequest, query: NormalisedTrack, deadline: Deadline, started: float
    ) -> EnrichmentResult:
        run = _Run(request, query, CallContext(deadline, priority=request.priority))
        run.ctx.force_refresh = request.force_refresh
        stages = asyncio.gather(self._lastfm(run), self._getsongbpm(run), self._identify(run))
        # A cancelled gather ends with CancelledError set as its exception, and wait_for
        # (3.11) cancels it without reading it: asyncio then logs "_GatheringFuture
        # exception was never retrieved" at error level for a normal cut-off or cancel
        # (issue 12 item 18). Reading it here marks it retrieved.
        stages.add_done_callback(_retrieve)
        try:
            # Each call respects the deadline, but timers fire late on a loaded loop: the
            # whole waterfall is cut off at the deadline too, keeping what it found.
            await asyncio.wait_for(stages, deadline.remaining())
        except TimeoutError:
            run.cut_off(self._enabled())
        merged = merge(run.findings, self._precedence)
        failures = tuple(run.failures[s] for s in Source if s in run.failures)
        return EnrichmentResult(
            track_id=request.track_id,
            status=decide_status(merged, failures),
            metadata=merged.metadata,
            provenance=merged.provenance,
            sources_used=merged.sources_used,
            errors=failures,
            duration_s=self._clock() - started,
            cached=run.ctx.network_calls == 0 and run.ctx.cache_hits > 0,
            enriched_at=datetime.now(UTC),
        )

    async def _identify(self, run: _Run) -> None:
        """Identify and cross-reference; then tell the describing stages who it was."""
        try:
            await self._identify_and_crossref(run)
        finally:
            run.identity.close()

    async def _identify_and_crossref(self, run: _Run) -> None:
        """Spotify and MusicBrainz; MusicBrainz waits for Spotify only to learn the ISRC."""
        if run.request.isrc or run.request.musicbrainz_id:
            await asyncio.gather(
                self._spotify(run),
                self._musicbrainz(run, run.request.isrc),
                self._deezer(run, run.request.isrc),
            )
            return
        # Spotify's ISRC makes MusicBrainz exact, but a slow Spotify must not starve a
        # healthy MusicBrainz: wait for it at most a share of the time left, then search.
        spotify = asyncio.ensure_future(self._spotify(run))
        try:
            patience = run.ctx.deadline.remaining() * SPOTIFY_PATIENCE
            try:
                track = await asyncio.wait_for(asyncio.shield(spotify), patience)
            except TimeoutError:
                track = None
            isrc = track.external_ids.isrc if track is not None else None
            await asyncio.gather(self._musicbrainz(run, isrc), self._deezer(run, isrc), spotify)
        finally:
            # Cut off (or the caller gone) while waiting for Spotify: the shield kept the
            # task alive, and nothing started for an RPC may outlive it.
            await _end(spotify)

    async def _spotify(self, run: _Run) -> SpotifyTrack | None:
        client = self._sources.spotify
        if client is None:
            return None
        matched: list[SpotifyTrack] = []

        async def stage() -> None:
            track, confidence = await self._identify_spotify(client, run)
            if track is None:
                return
            matched.append(track)
            run.identity.offer(track.artist_credit, track.name)
            run.found(Source.SPOTIFY, spotify_findings(track, confidence))
            features = await client.audio_features(run.ctx, track.id)
            if features is not None:
                run.found(Source.SPOTIFY, spotify_features_findings(features))

        await run.guarded(Source.SPOTIFY, stage())
        return matched[0] if matched else None

    async def _identify_spotify(
        self, client: SpotifyClient, run: _Run
    ) -> tuple[SpotifyTrack | None, float]:
        request, ctx = run.request, run.ctx
        if request.spotify_id:
            return await client.track(ctx, request.spotify_id), 1.0
        if request.isrc:
            tracks = await client.search_isrc(ctx, request.isrc)
            if tracks:
                # Every hit carries the ISRC; the best-scoring one is the canonical release.
                best = Matcher(0.0).best(run.query, tracks, _describe_spotify)
                return (best.candidate if best else None), 1.0
        tracks = await client.search(ctx, run.query.search_artist, run.query.search_title)
        match = self._matcher.best(run.query, tracks, _describe_spotify)
        if match is None and credits_remixer(run.query):
            # "Lane 8 - Innerbloom (Lane 8 Remix)": Spotify often credits only the original
            # artist, so artist:"Lane 8" finds nothing; the title and remix credit suffice.
            tracks = await client.search(ctx, "", run.query.search_title)
            match = self._matcher.best(run.query, tracks, _describe_spotify)
        return (match.candidate, match.score) if match else (None, 0.0)

    async def _musicbrainz(self, run: _Run, isrc: str | None) -> None:
        client = self._sources.musicbrainz
        if client is None:
            return

        async def stage() -> None:
            recording, confidence = await self._identify_musicbrainz(client, run, isrc)
            if recording is None:
                return
            run.identity.offer(recording.artist_credit_text, recording.title)
            run.found(Source.MUSICBRAINZ, musicbrainz_findings(recording, confidence, isrc))
            release = pick_release(recording)
            if release is not None and not await self._label_known(run):
                detail = await client.release(run.ctx, release.id)
                if detail is not None and detail.label_info and detail.label_info[0].label:
                    run.found(Source.MUSICBRAINZ, {"label": detail.label_info[0].label.name})

        await run.guarded(Source.MUSICBRAINZ, stage())

    async def _label_known(self, run: _Run) -> bool:
        """Whether Deezer's album already gave the label (next after MusicBrainz in the
        label's precedence): then MusicBrainz's release lookup would spend a scarce call
        (1 request/s) for nothing (README, "MusicBrainz economy"). Waits for Deezer at
        most a share of the time left."""
        patience = run.ctx.deadline.remaining() * LABEL_PATIENCE
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.deezer_done.wait(), patience)
        return bool(run.findings.get(Source.DEEZER, {}).get("label"))

    async def _identify_musicbrainz(
        self, client: MusicBrainzClient, run: _Run, isrc: str | None
    ) -> tuple[MbRecording | None, float]:
        ctx, query = run.ctx, run.query
        if run.request.musicbrainz_id:
            return await client.recording(ctx, run.request.musicbrainz_id), 1.0
        if isrc:
            recordings = await client.by_isrc(ctx, isrc)
            match = Matcher(0.0).best(query, recordings, _describe_mb)
            if match is not None:
                return match.candidate, 1.0
        recordings = await client.search(ctx, query.search_artist, query.search_title)
        found = self._matcher.best(query, recordings, _describe_mb)
        return (found.candidate, found.score) if found else (None, 0.0)

    async def _deezer(self, run: _Run, isrc: str | None) -> None:
        """Deezer by ISRC when known, else a scored search; then its album (label, genres)."""
        client = self._sources.deezer
        if client is None:
            run.deezer_done.set()
            return

        async def stage() -> None:
            track, confidence = None, 1.0
            if isrc:
                track = await client.by_isrc(run.ctx, isrc)
            if track is None:
                query = run.query
                hits = await client.search(run.ctx, query.search_artist, query.search_title)
                match = self._matcher.best(query, hits, _describe_deezer)
                if match is None:
                    return
                # Search hits lack ISRC and BPM: the full track has them.
                track, confidence = await client.track(run.ctx, match.candidate.id), match.score
            if track is None:
                return
            album = await client.album(run.ctx, track.album.id) if track.album else None
            run.found(Source.DEEZER, deezer_findings(track, album, confidence))

        try:
            await run.guarded(Source.DEEZER, stage())
        finally:
            run.deezer_done.set()

    async def _getsongbpm(self, run: _Run) -> None:
        """GetSongBPM searches by title only: its hits must pass the matcher on the artist.
        A miss on the row's text is asked again with the identified names (``identity.py``)."""
        client = self._sources.getsongbpm
        if client is None:
            return

        async def ask(query: NormalisedTrack) -> bool:
            hits = await client.search(run.ctx, query.search_artist, query.search_title)
            match = self._matcher.best(query, hits, lambda s: (s.artist_name, s.title, None))
            if match is not None:
                run.found(Source.GETSONGBPM, getsongbpm_findings(match.candidate, match.score))
            return match is not None

        await run.guarded(Source.GETSONGBPM, ask_with_fallback(run.identity, run.query, ask))

    async def _lastfm(self, run: _Run) -> None:
        client = self._sources.lastfm
        if client is None:
            return

        async def ask(query: NormalisedTrack) -> bool:
            artist, title = query.search_artist, query.search_title
            info_or_error, tags_or_error = await asyncio.gather(
                client.track_info(run.ctx, artist, title),
                client.top_tags(run.ctx, artist, title),
                return_exceptions=True,
            )
            if isinstance(info_or_error, BaseException):
                raise info_or_error
            if isinstance(tags_or_error, BaseException):
                raise tags_or_error
            info, tags = info_or_error, tags_or_error
            if info is None:
                return False
            # autocorrect=1 may answer for another track: verify what came back.
            match = self._matcher.best(query, [info], lambda t: (t.artist.name, t.name, None))
            if match is not None:
                run.found(Source.LASTFM, lastfm_findings(info, tags, match.score))
            return match is not None

        await run.guarded(Source.LASTFM, ask_with_fallback(run.identity, run.query, ask))


async def _end(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` if it is still running and wait until it has ended."""
    if not task.done():
        task.cancel()
        await asyncio.wait({task})


def _describe_spotify(track: SpotifyTrack) -> tuple[str, str, int | None]:
    return track.artist_credit, track.name, track.duration_ms


def _describe_deezer(track: DeezerTrack) -> tuple[str, str, int | None]:
    return track.artist_credit, track.title, track.duration_ms


def _describe_mb(recording: MbRecording) -> tuple[str, str, int | None]:
    return recording.artist_credit_text, recording.title, recording.length
