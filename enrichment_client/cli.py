"""``enrichment``: the ops CLI. Prints responses as protobuf JSON with the proto's field
names, exactly as grpcurl does.

    enrichment --target 127.0.0.1:50051 enrich --artist deadmau5 --title Strobe
    enrichment --target 127.0.0.1:50051 health [--service readiness]
    enrichment --target 127.0.0.1:50051 --token "$T" stats    (and reset-breaker, dlq,
        credentials: see enrichment_client/admin_cli.py)

``health`` exits 1 when the service answers but is not SERVING. Exit status: 0 on
success, else the gRPC code number (3 INVALID_ARGUMENT with the
violations on stderr, 4 deadline, 5 not found, 9 admin API disabled, 14 unavailable,
16 unauthenticated) or 1, so scripts can branch on them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

import grpc
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc

from enrichment_client.admin_cli import COMMANDS as ADMIN_COMMANDS
from enrichment_client.admin_cli import add_commands
from enrichment_client.client import EnrichmentClient, TlsConfig, normalise_target, open_channel
from enrichment_client.errors import EnrichmentClientError, InvalidArgument
from enrichment_client.priority import Priority

_EXIT = {
    "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5,
    "FAILED_PRECONDITION": 9,
    "UNAVAILABLE": 14,
    "UNAUTHENTICATED": 16,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="enrichment", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--target",
        default=os.environ.get("ENRICHMENT_TARGET", "127.0.0.1:50051"),
        help="host:port, http://host:port or dns:///host:port (env ENRICHMENT_TARGET)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="deadline in seconds")
    parser.add_argument("--ca", help="PEM CA to trust: use TLS (env ENRICHMENT_TLS_CA)")
    parser.add_argument("--cert", help="PEM client certificate for mTLS")
    parser.add_argument("--key", help="PEM private key of --cert")
    commands = parser.add_subparsers(dest="command", required=True)
    enrich = commands.add_parser("enrich", help="enrich one track")
    enrich.add_argument("--artist", required=True)
    enrich.add_argument("--title", required=True)
    enrich.add_argument("--track-id", default="")
    enrich.add_argument("--spotify-id")
    enrich.add_argument("--isrc")
    enrich.add_argument("--musicbrainz-id")
    enrich.add_argument("--force-refresh", action="store_true")
    enrich.add_argument(
        "--priority",
        type=Priority.parse,
        default=None,
        metavar="{interactive,bulk,background}",
        help="who gets scarce upstream quota first (default: interactive)",
    )
    health = commands.add_parser("health", help="grpc.health.v1 Check")
    health.add_argument("--service", default="", help='"", liveness, readiness, ...')
    parser.add_argument(
        "--token",
        default=os.environ.get("ENRICHMENT_ADMIN_TOKEN", ""),
        help="admin bearer token (env ENRICHMENT_ADMIN_TOKEN)",
    )
    add_commands(commands)
    return parser


def _tls(args: argparse.Namespace) -> TlsConfig | None:
    ca = args.ca or os.environ.get("ENRICHMENT_TLS_CA")
    if not (ca or args.cert):
        return None
    return TlsConfig.from_files(ca, args.cert, args.key)


async def _enrich(args: argparse.Namespace) -> str:
    connect = EnrichmentClient.connect(args.target, timeout_s=args.timeout, tls=_tls(args))
    async with await connect as client:
        response = await client.enrich(
            args.artist,
            args.title,
            track_id=args.track_id,
            spotify_id=args.spotify_id,
            isrc=args.isrc,
            musicbrainz_id=args.musicbrainz_id,
            force_refresh=args.force_refresh,
            priority=args.priority,
        )
    return json_format.MessageToJson(response, preserving_proto_field_name=True)


async def _health(args: argparse.Namespace) -> str:
    async with open_channel(normalise_target(args.target), _tls(args)) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service=args.service)
        try:
            response = await stub.Check(request, timeout=args.timeout)
        except grpc.aio.AioRpcError as exc:
            raise EnrichmentClientError(exc.code().name, exc.details() or "") from None
    return json_format.MessageToJson(response, preserving_proto_field_name=True)


async def _run(args: argparse.Namespace) -> str:
    if args.command == "enrich":
        return await _enrich(args)
    if args.command == "health":
        return await _health(args)
    return await ADMIN_COMMANDS[args.command](args, _tls(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        output = asyncio.run(_run(args))
        print(output)
    except InvalidArgument as exc:
        print(f"enrichment: {exc.code}: {exc.message}", file=sys.stderr)
        for violation in exc.violations:
            print(f"  {violation.field}: {violation.description}", file=sys.stderr)
        return _EXIT[exc.code]
    except EnrichmentClientError as exc:
        print(f"enrichment: {exc}", file=sys.stderr)
        return _EXIT.get(exc.code, 1)
    if args.command == "health" and '"SERVING"' not in output:
        return 1  # reachable but not serving: a failed check for probes and compose
    return 0


def run() -> None:
    """Console-script wrapper: exit with ``main``'s status."""
    sys.exit(main())


if __name__ == "__main__":
    run()
