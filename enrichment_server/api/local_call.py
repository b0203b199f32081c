"""Calling our own gRPC servicers in process, for the HTTP surface.

``POST /enrich`` and the HTTP admin actions must give the same answers as the RPCs (same
validation, same token check, same recording, same metrics of the enrichment itself), so
they call the servicer methods directly with a ``LocalContext`` standing in for
``grpc.aio.ServicerContext``: the few methods the servicers use, an abort that raises
``LocalAbort`` carrying the status code, details and any ``google.rpc.BadRequest``.
No loopback channel: the HTTP port works the same whether gRPC runs with TLS or mTLS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import grpc
from google.rpc import error_details_pb2, status_pb2

#: gRPC code -> HTTP status, as Google's HTTP mapping (google/rpc/code.proto) has it.
HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
_STATUS_DETAILS_KEY = "grpc-status-details-bin"


class LocalAbort(Exception):
    """A servicer aborted the call: ``code``, ``details`` and the fields it named."""

    def __init__(
        self, code: grpc.StatusCode, details: str, violations: list[tuple[str, str]]
    ) -> None:
        super().__init__(details)
        self.code = code
        self.details = details
        self.violations = violations

    @property
    def http_status(self) -> int:
        """The HTTP status for this code (500 for codes with no better mapping)."""
        return HTTP_STATUS.get(self.code, 500)


def _violations(trailing: Any) -> list[tuple[str, str]]:
    """(field, description) pairs of a BadRequest packed in the status details, if any."""
    for key, value in trailing or ():
        if key != _STATUS_DETAILS_KEY:
            continue
        status = status_pb2.Status.FromString(value)
        found: list[tuple[str, str]] = []
        for detail in status.details:
            request = error_details_pb2.BadRequest()
            if detail.Unpack(request):
                found += [(v.field, v.description) for v in request.field_violations]
        return found
    return []


class LocalContext:
    """The parts of ``grpc.aio.ServicerContext`` our servicers use, for in-process calls."""

    def __init__(
        self,
        metadata: Mapping[str, str],
        peer: str,
        timeout_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metadata = tuple((k.lower(), v) for k, v in metadata.items())
        self._peer = peer
        self._clock = clock
        self._deadline = None if timeout_s is None else clock() + timeout_s

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        """The request's metadata (here: the HTTP headers we pass on)."""
        return self._metadata

    def peer(self) -> str:
        """The caller's address, as grpc spells it."""
        return self._peer

    def time_remaining(self) -> float | None:
        """Seconds left before the request's deadline, or None without one."""
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - self._clock())

    def code(self) -> None:
        """No status set: the servicers abort instead."""
        return None

    async def abort(self, code: grpc.StatusCode, details: str = "") -> NoReturn:
        """End the call with ``code``."""
        raise LocalAbort(code, details, [])

    async def abort_with_status(self, status: Any) -> NoReturn:
        """End the call with a ``grpc.Status`` (as ``grpc_status.rpc_status.to_status``)."""
        raise LocalAbort(status.code, status.details, _violations(status.trailing_metadata))
