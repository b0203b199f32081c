"""``ExplainMatch``: which track to explain, and the explanation on the wire.

The admin servicer checks the token and delegates here. A ``track_id`` explains a stored
track's requested artist and title; without one, ``artist_name`` and ``track_title`` are
explained as given (validated like an ``Enrich`` request: blank or over-long is
INVALID_ARGUMENT naming the field). An unknown track is NOT_FOUND.
"""

from __future__ import annotations

from enrichment_client.pb.enrichment.v1 import admin_pb2 as admin_pb
from enrichment_server.api.convert import SOURCE
from enrichment_server.api.validation import RawRequest, validate
from enrichment_server.deadline import Deadline
from enrichment_server.enrichment.explain import Explainer, ScoredCandidate, SourceVerdict
from enrichment_server.errors import InvalidRequest
from enrichment_server.store import Store

#: Time an explanation may take (its searches run concurrently).
EXPLAIN_DEADLINE_S = 10.0


class TrackNotFound(Exception):
    """``track_id`` names no stored track."""


async def subject(request: admin_pb.ExplainMatchRequest, store: Store) -> tuple[str, str]:
    """(artist, title) to explain; ``InvalidRequest`` or ``TrackNotFound`` otherwise."""
    if request.track_id:
        detail = await store.track_detail(request.track_id)
        if detail is None:
            raise TrackNotFound(f"no stored track {request.track_id!r}")
        return detail["track"]["artist_name"], detail["track"]["track_title"]
    checked = validate(RawRequest("", request.artist_name, request.track_title))
    return checked.artist, checked.title


def _candidate(candidate: ScoredCandidate) -> admin_pb.MatchCandidate:
    message = admin_pb.MatchCandidate(
        id=candidate.id,
        artist=candidate.artist,
        title=candidate.title,
        score=round(candidate.score, 4),
        artist_score=round(candidate.artist_score, 4),
        title_score=round(candidate.title_score, 4),
        version_factor=round(candidate.version_factor, 4),
        duration_clash=candidate.duration_clash,
        taken=candidate.taken,
    )
    if candidate.duration_ms is not None:
        message.duration_ms = candidate.duration_ms
    return message


def _source(verdict: SourceVerdict) -> admin_pb.SourceExplanation:
    return admin_pb.SourceExplanation(
        source=SOURCE[verdict.source],
        query=verdict.query,
        candidates=[_candidate(c) for c in verdict.candidates],
        verdict=verdict.verdict,
        from_cache=verdict.from_cache,
        failed=verdict.failed,
    )


async def explain_match(
    request: admin_pb.ExplainMatchRequest, explainer: Explainer, store: Store
) -> admin_pb.ExplainMatchResponse:
    """The explanation of the request's track (raises ``InvalidRequest``/``TrackNotFound``)."""
    artist, title = await subject(request, store)
    verdicts = await explainer.explain(artist, title, Deadline.after(EXPLAIN_DEADLINE_S))
    return admin_pb.ExplainMatchResponse(
        artist_name=artist,
        track_title=title,
        threshold=explainer.threshold,
        sources=[_source(v) for v in verdicts],
    )


__all__ = ["InvalidRequest", "TrackNotFound", "explain_match"]
