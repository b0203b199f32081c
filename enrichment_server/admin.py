"""``enrichment.v1.EnrichmentAdminService``: operator RPCs behind a bearer token.

The token is compared in constant time. With no token configured every admin call is
refused with FAILED_PRECONDITION and a message saying how to enable the API, so a
forgotten setting never leaves the admin API open.
"""

from __future__ import annotations

import hmac

import grpc
import structlog

from enrichment_client.pb.enrichment.v1 import admin_pb2 as admin_pb
from enrichment_client.pb.enrichment.v1 import admin_pb2_grpc as admin_grpc
from enrichment_server.convert import SOURCE
from enrichment_server.resilience.breaker import BreakerState
from enrichment_server.resilience.registry import BreakerRegistry

log = structlog.get_logger("enrichment.admin")
_SOURCE_BY_PB = {v: k for k, v in SOURCE.items()}
BREAKER_STATE = {
    BreakerState.CLOSED: admin_pb.BREAKER_STATE_CLOSED,
    BreakerState.OPEN: admin_pb.BREAKER_STATE_OPEN,
    BreakerState.HALF_OPEN: admin_pb.BREAKER_STATE_HALF_OPEN,
}


async def require_admin(context: grpc.aio.ServicerContext[object, object], token: str) -> None:
    """Abort unless the call carries ``authorization: Bearer <token>``."""
    if not token:
        await context.abort(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the admin API is disabled: set ENRICHMENT_ADMIN_TOKEN on the server and send "
            "'authorization: Bearer <token>'",
        )
    sent = dict(context.invocation_metadata() or ()).get("authorization", "")
    scheme, _, presented = str(sent).partition(" ")
    expected = token.encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.encode(), expected):
        log.warning("admin_refused", peer=context.peer(), reason="missing or wrong token")
        await context.abort(
            grpc.StatusCode.UNAUTHENTICATED,
            "admin RPCs need the metadata 'authorization: Bearer <ENRICHMENT_ADMIN_TOKEN>'",
        )


class AdminServicer(admin_grpc.EnrichmentAdminServiceServicer):
    """Implements the admin RPCs."""

    def __init__(self, breakers: BreakerRegistry, token: str) -> None:
        self._breakers = breakers
        self._token = token

    async def ResetBreaker(
        self,
        request: admin_pb.ResetBreakerRequest,
        context: grpc.aio.ServicerContext[object, object],
    ) -> admin_pb.ResetBreakerResponse:
        """Reset one source's breaker (or all) here and in the shared hint."""
        await require_admin(context, self._token)
        source = _SOURCE_BY_PB.get(request.source)
        if request.source and source is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "unknown source")
        if source is not None and source not in self._breakers.sources:
            await context.abort(
                grpc.StatusCode.NOT_FOUND, f"no breaker for {source}: the source is not enabled"
            )
        resets = await self._breakers.reset(source)
        log.info("breaker_reset_by_operator", sources=[str(s) for s, _, _ in resets])
        return admin_pb.ResetBreakerResponse(
            resets=[
                admin_pb.BreakerReset(
                    source=SOURCE[s], previous=BREAKER_STATE[old], current=BREAKER_STATE[new]
                )
                for s, old, new in resets
            ]
        )
