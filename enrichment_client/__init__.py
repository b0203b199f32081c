"""Typed asyncio client for the metadata-enrichment service (depends on grpcio only).

::

    async with await EnrichmentClient.connect("127.0.0.1:50051") as client:
        response = await client.enrich("deadmau5", "Strobe", track_id="t-1")
"""

from enrichment_client.client import (
    EnrichmentClient,
    TlsConfig,
    make_request,
    normalise_target,
    open_channel,
)
from enrichment_client.errors import (
    DeadlineExceeded,
    EnrichmentClientError,
    FieldViolation,
    InvalidArgument,
    ServiceUnavailable,
)
from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb
from enrichment_client.priority import LOCAL_REFUSALS, Priority, refused_locally

__all__ = [
    "LOCAL_REFUSALS",
    "DeadlineExceeded",
    "EnrichmentClient",
    "EnrichmentClientError",
    "FieldViolation",
    "InvalidArgument",
    "Priority",
    "ServiceUnavailable",
    "TlsConfig",
    "make_request",
    "normalise_target",
    "open_channel",
    "pb",
    "refused_locally",
]
