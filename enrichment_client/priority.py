"""Priorities of work competing for upstream quota, and telling our refusals apart.

The service gives a scarce upstream slot (MusicBrainz allows 1 request/s) to the highest
waiting priority first. A BULK or BACKGROUND request that gets no slot before its deadline
is answered with ``ERROR_CODE_LOCAL_RATE_LIMIT`` for that source: the service's own quota,
not an upstream failure. ``refused_locally`` says when an answer is incomplete only for such
reasons, so a caller can keep the item pending without counting a failed attempt.
"""

from __future__ import annotations

import enum

from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb

__all__ = ["LOCAL_REFUSALS", "Priority", "refused_locally"]


class Priority(enum.IntEnum):
    """``enrichment.v1.Priority`` (unset means INTERACTIVE)."""

    INTERACTIVE = pb.PRIORITY_INTERACTIVE
    BULK = pb.PRIORITY_BULK
    BACKGROUND = pb.PRIORITY_BACKGROUND

    @classmethod
    def parse(cls, name: str) -> Priority:
        """``"bulk"``, ``"BULK"`` or ``"PRIORITY_BULK"`` -> ``Priority.BULK``."""
        key = name.strip().upper().removeprefix("PRIORITY_")
        try:
            return cls[key]
        except KeyError:
            choices = ", ".join(p.name.lower() for p in cls)
            raise ValueError(f"unknown priority {name!r} (choose {choices})") from None


#: Error codes that mean the service itself declined to call the upstream (its rate
#: limiter or an open circuit breaker), so nothing was learnt about the track.
LOCAL_REFUSALS = frozenset({pb.ERROR_CODE_LOCAL_RATE_LIMIT, pb.ERROR_CODE_CIRCUIT_OPEN})


def refused_locally(response: pb.EnrichResponse) -> bool:
    """True when the answer is incomplete only because of the service's own refusals."""
    incomplete = response.status in (pb.ENRICHMENT_STATUS_PARTIAL, pb.ENRICHMENT_STATUS_FAILED)
    retriable = [error for error in response.errors if error.retriable]
    return incomplete and bool(retriable) and all(e.code in LOCAL_REFUSALS for e in retriable)
