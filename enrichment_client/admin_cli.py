"""Admin subcommands of the ``enrichment`` CLI (they need ``--token``).

    enrichment --token "$T" stats
    enrichment --token "$T" reset-breaker [--source spotify]
    enrichment --token "$T" dlq list [--source S] [--state due|parked] [--page-size N]
    enrichment --token "$T" dlq replay (--id N ... | --source S | --all-parked)
    enrichment --token "$T" dlq purge (--id N ... | --source S | --state parked | --all)
    enrichment --token "$T" credentials list
    printf %s "$VALUE" | enrichment --token "$T" credentials set --source lastfm --name api_key

A credential's value is read from standard input, never from the command line (where
process listings and shell history would keep it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import json_format

from enrichment_client.client import TlsConfig, normalise_target, open_channel
from enrichment_client.errors import translate
from enrichment_client.pb.enrichment.v1 import admin_pb2, admin_pb2_grpc, enrichment_pb2

#: CLI source names -> enum values ("spotify" -> SOURCE_SPOTIFY).
SOURCES = {
    name.removeprefix("SOURCE_").lower(): number
    for name, number in enrichment_pb2.Source.items()
    if number != enrichment_pb2.SOURCE_UNSPECIFIED
}
STATES = {"due": admin_pb2.DEAD_LETTER_STATE_DUE, "parked": admin_pb2.DEAD_LETTER_STATE_PARKED}
Command = Callable[[argparse.Namespace, TlsConfig | None], Awaitable[str]]


def add_commands(commands: Any) -> None:
    """Register the admin subcommands on the CLI's subparsers."""
    commands.add_parser("stats", help="coverage, statuses, DLQ depth, breakers")
    reset = commands.add_parser("reset-breaker", help="reset a source's circuit breaker")
    reset.add_argument("--source", default="all", choices=["all", *SOURCES])
    dlq = commands.add_parser("dlq", help="dead letters").add_subparsers(
        dest="dlq_command", required=True
    )
    listing = dlq.add_parser("list", help="list dead letters")
    listing.add_argument("--page-size", type=int, default=50)
    listing.add_argument("--page-token", default="")
    for sub in (listing, dlq.add_parser("replay", help="retry now"), dlq.add_parser("purge")):
        sub.add_argument("--source", choices=list(SOURCES))
        sub.add_argument("--state", choices=list(STATES))
        sub.add_argument("--id", type=int, action="append", default=[], dest="ids")
    dlq.choices["replay"].add_argument("--all-parked", action="store_true")
    dlq.choices["purge"].add_argument("--all", action="store_true", dest="purge_all")
    creds = commands.add_parser("credentials", help="stored credentials").add_subparsers(
        dest="credentials_command", required=True
    )
    creds.add_parser("list", help="masked listing")
    setter = creds.add_parser("set", help="store a credential read from stdin")
    setter.add_argument("--source", required=True, choices=list(SOURCES))
    setter.add_argument("--name", required=True, help="client_id, client_secret, api_key")


async def _call(args: argparse.Namespace, tls: TlsConfig | None, method: str, request: Any) -> str:
    metadata = (("authorization", f"Bearer {args.token}"),)
    async with open_channel(normalise_target(args.target), tls) as channel:
        stub = admin_pb2_grpc.EnrichmentAdminServiceStub(channel)
        try:
            response = await getattr(stub, method)(request, timeout=args.timeout, metadata=metadata)
        except grpc.aio.AioRpcError as exc:
            raise translate(exc) from None
    return json_format.MessageToJson(response, preserving_proto_field_name=True)


def _source(name: str | None) -> enrichment_pb2.Source.ValueType:
    return SOURCES[name] if name else enrichment_pb2.SOURCE_UNSPECIFIED


async def stats(args: argparse.Namespace, tls: TlsConfig | None) -> str:
    """GetStats."""
    return await _call(args, tls, "GetStats", admin_pb2.GetStatsRequest())


async def reset_breaker(args: argparse.Namespace, tls: TlsConfig | None) -> str:
    """ResetBreaker."""
    source = None if args.source == "all" else args.source
    request = admin_pb2.ResetBreakerRequest(source=_source(source))
    return await _call(args, tls, "ResetBreaker", request)


async def dlq(args: argparse.Namespace, tls: TlsConfig | None) -> str:
    """ListDeadLetters, ReplayDeadLetters or PurgeDeadLetters."""
    source = _source(args.source)
    state = STATES.get(args.state or "", admin_pb2.DEAD_LETTER_STATE_UNSPECIFIED)
    if args.dlq_command == "list":
        request: Any = admin_pb2.ListDeadLettersRequest(
            source=source, state=state, page_size=args.page_size, page_token=args.page_token
        )
        return await _call(args, tls, "ListDeadLetters", request)
    if args.dlq_command == "replay":
        request = admin_pb2.ReplayDeadLettersRequest(
            ids=args.ids, source=source, all_parked=args.all_parked or args.state == "parked"
        )
        return await _call(args, tls, "ReplayDeadLetters", request)
    request = admin_pb2.PurgeDeadLettersRequest(
        ids=args.ids, source=source, state=state, all=args.purge_all
    )
    return await _call(args, tls, "PurgeDeadLetters", request)


async def credentials(args: argparse.Namespace, tls: TlsConfig | None) -> str:
    """ListCredentials, or SetCredential with the value from standard input."""
    if args.credentials_command == "list":
        return await _call(args, tls, "ListCredentials", admin_pb2.ListCredentialsRequest())
    value = sys.stdin.read().strip()
    request = admin_pb2.SetCredentialRequest(
        source=_source(args.source), name=args.name, value=value
    )
    return await _call(args, tls, "SetCredential", request)


COMMANDS: dict[str, Command] = {
    "stats": stats,
    "reset-breaker": reset_breaker,
    "dlq": dlq,
    "credentials": credentials,
}
