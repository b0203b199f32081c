"""grpc.health.v1 service names and their lifecycle.

``liveness`` answers while the event loop runs; ``readiness`` is SERVING once started and
NOT_SERVING from the start of a graceful shutdown. Neither depends on upstream health:
every replica sees the same upstreams, so tying readiness to them would take every pod
out of the Service at once.
"""

from __future__ import annotations

from grpc_health.v1 import _async as health_aio
from grpc_health.v1 import health_pb2

from enrichment_client.pb.enrichment.v1 import enrichment_pb2

SERVICE_NAME = enrichment_pb2.DESCRIPTOR.services_by_name["EnrichmentService"].full_name
LIVENESS = "liveness"
READINESS = "readiness"
SERVED_NAMES = ("", SERVICE_NAME, LIVENESS, READINESS)


class Health:
    """Owns the health servicer and the statuses it reports."""

    def __init__(self) -> None:
        self.servicer = health_aio.HealthServicer()
        self.is_serving = False
        """True between the start and the beginning of a graceful shutdown."""

    async def serving(self) -> None:
        """Report every name SERVING (the server is started)."""
        self.is_serving = True
        for name in SERVED_NAMES:
            await self.servicer.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def upstream(self, source: str, serving: bool) -> None:
        """Mirror a source's breaker under ``upstream.<source>`` (not part of readiness)."""
        status = health_pb2.HealthCheckResponse.SERVING
        if not serving:
            status = health_pb2.HealthCheckResponse.NOT_SERVING
        await self.servicer.set(f"upstream.{source}", status)

    async def shutting_down(self) -> None:
        """Report every name NOT_SERVING, for good (a graceful shutdown began)."""
        self.is_serving = False
        await self.servicer.enter_graceful_shutdown()
