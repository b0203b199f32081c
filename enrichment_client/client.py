"""``EnrichmentClient``: one channel, typed calls, a default deadline, its own errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import grpc

from enrichment_client.errors import ServiceUnavailable, translate
from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb
from enrichment_client.pb.enrichment.v1 import enrichment_pb2_grpc as pb_grpc
from enrichment_client.priority import Priority

DEFAULT_TIMEOUT_S = 30.0


def normalise_target(target: str) -> str:
    """Accept ``host:port``, ``http://host:port`` (the seed's URL form) and gRPC targets.

    ``dns:///name:port`` is passed through: with the client's round_robin policy a
    headless Kubernetes Service then spreads calls over every pod.
    """
    for scheme in ("http://", "https://", "grpc://"):
        if target.startswith(scheme):
            return target[len(scheme) :].rstrip("/")
    return target


def trace_metadata() -> tuple[tuple[str, str], ...]:
    """W3C ``traceparent`` of the caller's current span, when OpenTelemetry is installed.

    The client depends on grpcio and protobuf only; a caller that uses OpenTelemetry
    gets its trace continued by the server, others send nothing extra.
    """
    try:
        from opentelemetry import propagate
    except ImportError:  # pragma: no cover - optional dependency
        return ()
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return tuple(carrier.items())


def make_request(
    artist: str,
    title: str,
    *,
    track_id: str = "",
    spotify_id: str | None = None,
    isrc: str | None = None,
    musicbrainz_id: str | None = None,
    force_refresh: bool = False,
    priority: Priority | None = None,
) -> pb.EnrichRequest:
    """An ``EnrichRequest``; None leaves an optional identifier (or the priority) unset."""
    request = pb.EnrichRequest(
        track_id=track_id, artist_name=artist, track_title=title, force_refresh=force_refresh
    )
    if priority is not None:
        request.priority = pb.Priority.ValueType(priority.value)
    if spotify_id is not None:
        request.existing_spotify_id = spotify_id
    if isrc is not None:
        request.existing_isrc = isrc
    if musicbrainz_id is not None:
        request.existing_musicbrainz_id = musicbrainz_id
    return request


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """PEM bytes for a TLS channel: the CA to trust and, for mTLS, a client identity."""

    root_certificates: bytes | None = None
    certificate_chain: bytes | None = None
    private_key: bytes | None = None

    @classmethod
    def from_files(
        cls, ca: str | None = None, cert: str | None = None, key: str | None = None
    ) -> TlsConfig:
        """Read the PEM files (any may be None)."""

        def read(path: str | None) -> bytes | None:
            return Path(path).read_bytes() if path else None

        return cls(read(ca), read(cert), read(key))


def open_channel(address: str, tls: TlsConfig | None = None) -> grpc.aio.Channel:
    """A channel with client-side round_robin over every address ``address`` resolves to."""
    options = [("grpc.lb_policy_name", "round_robin")]
    if tls is None:
        return grpc.aio.insecure_channel(address, options=options)
    credentials = grpc.ssl_channel_credentials(
        tls.root_certificates, tls.private_key, tls.certificate_chain
    )
    return grpc.aio.secure_channel(address, credentials, options=options)


class EnrichmentClient:
    """Async client for ``enrichment.v1.EnrichmentService``. Use ``connect``."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float) -> None:
        self._channel = channel
        self._stub = pb_grpc.EnrichmentServiceStub(channel)
        self.timeout_s = timeout_s

    @classmethod
    async def connect(
        cls,
        target: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        tls: TlsConfig | None = None,
        wait_ready_s: float | None = None,
    ) -> EnrichmentClient:
        """Open a channel (TLS, or mTLS with a client certificate, when ``tls`` is given).

        ``wait_ready_s`` waits for the connection; otherwise it is made on first use.
        """
        address = normalise_target(target)
        channel = open_channel(address, tls)
        if wait_ready_s is not None:
            try:
                await asyncio.wait_for(channel.channel_ready(), wait_ready_s)
            except TimeoutError:
                await channel.close()
                raise ServiceUnavailable(
                    "UNAVAILABLE", f"no connection to {address} within {wait_ready_s}s"
                ) from None
        return cls(channel, timeout_s)

    async def enrich(
        self,
        artist: str,
        title: str,
        *,
        track_id: str = "",
        spotify_id: str | None = None,
        isrc: str | None = None,
        musicbrainz_id: str | None = None,
        force_refresh: bool = False,
        priority: Priority | None = None,
        timeout_s: float | None = None,
    ) -> pb.EnrichResponse:
        """Enrich one track; raises ``InvalidArgument`` (with every bad field) on bad input.

        ``priority`` (default: interactive) decides who gets scarce upstream quota first.
        """
        request = make_request(
            artist,
            title,
            track_id=track_id,
            spotify_id=spotify_id,
            isrc=isrc,
            musicbrainz_id=musicbrainz_id,
            force_refresh=force_refresh,
            priority=priority,
        )
        return await self.enrich_request(request, timeout_s=timeout_s)

    async def enrich_request(
        self, request: pb.EnrichRequest, *, timeout_s: float | None = None
    ) -> pb.EnrichResponse:
        """Send a prepared ``EnrichRequest``."""
        try:
            response: pb.EnrichResponse = await self._stub.Enrich(
                request, timeout=timeout_s or self.timeout_s, metadata=trace_metadata()
            )
        except grpc.aio.AioRpcError as exc:
            raise translate(exc) from None
        return response

    async def enrich_many(
        self,
        requests: Iterable[pb.EnrichRequest] | AsyncIterable[pb.EnrichRequest],
        *,
        timeout_s: float | None = None,
    ) -> AsyncIterator[pb.EnrichBatchResponse]:
        """Stream requests; yield each answer as it finishes (match them by ``index``)."""

        async def messages() -> AsyncIterator[pb.EnrichBatchRequest]:
            if isinstance(requests, AsyncIterable):
                async for request in requests:
                    yield pb.EnrichBatchRequest(request=request)
            else:
                for request in requests:
                    yield pb.EnrichBatchRequest(request=request)

        call = self._stub.EnrichBatch(
            messages(), timeout=timeout_s or self.timeout_s, metadata=trace_metadata()
        )
        try:
            async for answer in call:
                yield answer
        except grpc.aio.AioRpcError as exc:
            raise translate(exc) from None
        finally:
            call.cancel()

    async def close(self) -> None:
        """Close the channel."""
        await self._channel.close()

    async def __aenter__(self) -> EnrichmentClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
