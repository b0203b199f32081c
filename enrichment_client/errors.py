"""The client's own exception tree; callers never need to import grpc.

::

    EnrichmentClientError        any failed call (``code`` is the gRPC status name)
    ├── InvalidArgument          bad input; ``violations`` lists every bad field
    ├── ServiceUnavailable       server down, unreachable or shutting down: retry later
    └── DeadlineExceeded         the call's deadline passed
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2, status_pb2

_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad request field, as the server's google.rpc.BadRequest names it."""

    field: str
    description: str


class EnrichmentClientError(Exception):
    """A call failed; ``code`` is the gRPC status code name (e.g. "UNAVAILABLE")."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class InvalidArgument(EnrichmentClientError):
    """The server refused the request; ``violations`` says why, field by field."""

    def __init__(self, message: str, violations: list[FieldViolation]) -> None:
        super().__init__("INVALID_ARGUMENT", message)
        self.violations = violations


class ServiceUnavailable(EnrichmentClientError):
    """The service could not be reached or is shutting down: safe to retry later."""


class DeadlineExceeded(EnrichmentClientError):
    """The call did not finish within its deadline."""


def _violations(error: grpc.aio.AioRpcError) -> list[FieldViolation]:
    """The BadRequest field violations carried in the status details, if any."""
    for key, value in error.trailing_metadata() or ():
        if key != _DETAILS_KEY or not isinstance(value, bytes):
            continue
        status = status_pb2.Status.FromString(value)
        found = []
        for detail in status.details:
            bad = error_details_pb2.BadRequest()
            if detail.Unpack(bad):
                found += [FieldViolation(v.field, v.description) for v in bad.field_violations]
        return found
    return []


def translate(error: grpc.aio.AioRpcError) -> EnrichmentClientError:
    """The client error for a failed gRPC call (translated once, at the boundary)."""
    code = error.code()
    message = error.details() or ""
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgument(message, _violations(error))
    if code == grpc.StatusCode.UNAVAILABLE:
        return ServiceUnavailable(code.name, message)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return DeadlineExceeded(code.name, message)
    return EnrichmentClientError(code.name, message)
