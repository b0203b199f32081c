"""Baseline (a): a bare ``grpc.aio`` server answering ``Enrich`` with a canned response.

No validation, no telemetry, no work: the ceiling of one Python gRPC server process for
messages of the real size. The response is the serialized ``EnrichResponse`` named by
``BENCH_ECHO_RESPONSE`` (the bench captures one from the real server), else one built
here from a catalogue track with every field set. ``python -m bench.echo`` serves on
``ENRICHMENT_GRPC_PORT`` until SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from google.protobuf.duration_pb2 import Duration
from grpc_health.v1 import health, health_pb2_grpc

from enrichment_client import pb
from enrichment_client.pb.enrichment.v1 import enrichment_pb2_grpc as pb_grpc
from enrichment_sandbox.catalogue import load_catalogue


def canned_response() -> pb.EnrichResponse:
    """A COMPLETED answer for the first catalogue track, every metadata field set."""
    t = load_catalogue().tracks[0]
    meta = pb.TrackMetadata(
        spotify_id=t.spotify_id, isrc=t.isrc, musicbrainz_id=t.mbid, title=t.title,
        artist=t.artist, artists=list(t.artists), album=t.album, label=t.label,
        release_date=t.release_date, duration_ms=t.duration_ms, bpm=t.tempo,
        pitch_class=t.pitch_class, mode=pb.KeyMode.Value("KEY_MODE_MAJOR"),
        musical_key="B Major", camelot_key="1B", open_key="6d", energy=t.energy,
        danceability=t.danceability, valence=t.valence, genres=[n for n, _ in t.tags],
        lastfm_listeners=t.listeners, lastfm_playcount=t.playcount, match_confidence=1.0,
    )  # fmt: skip
    sources = [pb.SOURCE_SPOTIFY, pb.SOURCE_MUSICBRAINZ, pb.SOURCE_LASTFM, pb.SOURCE_DEEZER]
    provenance = {f.name: pb.SOURCE_SPOTIFY for f, _ in meta.ListFields()}
    return pb.EnrichResponse(
        track_id="bench-0", status=pb.ENRICHMENT_STATUS_COMPLETED, sources_used=sources,
        metadata=meta, provenance=provenance, duration=Duration(nanos=1_000_000), cached=True,
    )  # fmt: skip


def load_response() -> pb.EnrichResponse:
    """The response to send back (see the module docstring)."""
    path = os.environ.get("BENCH_ECHO_RESPONSE")
    if path:
        return pb.EnrichResponse.FromString(Path(path).read_bytes())
    return canned_response()


class EchoServicer(pb_grpc.EnrichmentServiceServicer):
    """``Enrich`` returns the same message every time."""

    def __init__(self, response: pb.EnrichResponse) -> None:
        """Answer with ``response``."""
        self._response = response

    async def Enrich(  # noqa: N802 - the generated servicer's method name
        self, request: pb.EnrichRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.EnrichResponse:
        """The canned answer."""
        return self._response

    async def EnrichBatch(  # noqa: N802 - the generated servicer's method name
        self,
        request_iterator: AsyncIterator[pb.EnrichBatchRequest],
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[pb.EnrichBatchResponse]:
        """Not part of the ceiling measurement."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "the echo baseline is unary only")
        yield pb.EnrichBatchResponse()  # pragma: no cover - abort raises


async def serve_baseline(servicer: pb_grpc.EnrichmentServiceServicer) -> None:
    """Serve ``servicer`` (and a SERVING health check) on ``ENRICHMENT_GRPC_PORT``."""
    server = grpc.aio.server()
    pb_grpc.add_EnrichmentServiceServicer_to_server(servicer, server)
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    server.add_insecure_port(f"127.0.0.1:{os.environ['ENRICHMENT_GRPC_PORT']}")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(1)


def main() -> None:
    """Entry point of ``python -m bench.echo``."""
    asyncio.run(serve_baseline(EchoServicer(load_response())))


if __name__ == "__main__":
    main()
