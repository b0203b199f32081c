"""One exception tree for the service; retryability is a property of the type.

::

    EnrichmentError
    ├── InvalidRequest              bad caller input -> INVALID_ARGUMENT (never retried)
    └── UpstreamError               one source failed; becomes a SourceFailure, never an RPC error
        ├── UpstreamUnavailable     5xx, connection errors, "try again" bodies   (retriable)
        │   ├── RateLimited         429 / MusicBrainz 503 throttling; has retry_after
        │   │   └── ClientThrottled our own limiter had no slot before the deadline
        │   ├── MalformedResponse   a body we cannot parse                       (retriable)
        │   └── DeadlineExceeded    the caller's deadline ran out                (retriable)
        ├── QuotaExceeded           quota exhausted: retriable later, never within the call
        ├── Unauthenticated         credentials refused: configuration error     (not retriable)
        └── UpstreamRejected        other 4xx: our request was wrong             (not retriable)
"""

from __future__ import annotations

from dataclasses import dataclass

from enrichment_server.domain import ErrorKind, Source, SourceFailure


class EnrichmentError(Exception):
    """Base of every error this service raises on purpose."""


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad request field."""

    field: str
    description: str


class InvalidRequest(EnrichmentError):
    """The caller's request is invalid; every bad field is listed."""

    def __init__(self, violations: list[FieldViolation]) -> None:
        self.violations = violations
        fields = ", ".join(v.field for v in violations)
        super().__init__(f"invalid request: {fields}")


class UpstreamError(EnrichmentError):
    """A source could not answer. Subclasses fix ``kind`` and retryability."""

    kind: ErrorKind = ErrorKind.UNAVAILABLE
    retriable: bool = True
    #: Whether the in-call retry loop may try again (QuotaExceeded: retriable later, not now).
    retry_now: bool = True

    def __init__(
        self,
        source: Source,
        message: str,
        *,
        retry_after: float | None = None,
        credential: str | None = None,
    ) -> None:
        self.source = source
        self.message = message
        self.retry_after = retry_after
        self.credential = credential
        super().__init__(f"{source}: {message}")

    def to_failure(self) -> SourceFailure:
        """The caller-facing record of this failure."""
        return SourceFailure(
            source=self.source,
            kind=self.kind,
            message=self.message,
            retriable=self.retriable,
            retry_after=self.retry_after,
            credential=self.credential,
        )


class UpstreamUnavailable(UpstreamError):
    """5xx, connection failure, or a body that says "try again later"."""


class RateLimited(UpstreamUnavailable):
    """The source throttled us; ``retry_after`` says for how long when known."""

    kind = ErrorKind.RATE_LIMITED


class ClientThrottled(RateLimited):
    """Our own limiter had no slot before the deadline (the upstream was not called):
    asking again cannot help now, and a retry queue must not count it as an attempt."""

    kind = ErrorKind.LOCAL_RATE_LIMIT
    retry_now = False


class MalformedResponse(UpstreamUnavailable):
    """The source answered with a body we could not understand."""

    kind = ErrorKind.MALFORMED_RESPONSE


class DeadlineExceeded(UpstreamUnavailable):
    """The request's deadline left no time for this call."""

    kind = ErrorKind.DEADLINE_EXCEEDED
    retry_now = False


class QuotaExceeded(UpstreamError):
    """A quota window is exhausted: retrying within the call only burns more quota."""

    kind = ErrorKind.QUOTA_EXCEEDED
    retry_now = False


class Unauthenticated(UpstreamError):
    """Credentials were refused: a configuration error that retries cannot fix."""

    kind = ErrorKind.UNAUTHENTICATED
    retriable = False
    retry_now = False


class UpstreamRejected(UpstreamError):
    """A 4xx other than not-found: the request itself was wrong."""

    kind = ErrorKind.REJECTED
    retriable = False
    retry_now = False
