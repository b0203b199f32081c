"""``enrichment-sandbox``: run the upstream imitations until SIGINT/SIGTERM.

Serves Spotify, MusicBrainz, Last.fm, Deezer and GetSongBPM imitations. Prints one
``NAME=VALUE`` line per setting to stdout (all ten of ``Sandbox.settings()``, ready for
``export`` or an env file), logs the admin URLs to stderr, and serves until told to stop.
Each upstream has ``--latency-<name>-ms`` and ``--<name>-port`` options::

    enrichment-sandbox --latency-spotify-ms 80 --deezer-port 8702 > sandbox.env

The upstream credentials it accepts are made up per run, unless its environment sets them
under the server's names (``ENRICHMENT_SPOTIFY_CLIENT_ID``, ``..._CLIENT_SECRET``,
``ENRICHMENT_LASTFM_API_KEY``, ``ENRICHMENT_GETSONGBPM_API_KEY``): compose.yaml passes the same
values to the server and the sandbox that way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from enrichment_sandbox.catalogue import Catalogue, CatalogueTrack, load_catalogue
from enrichment_sandbox.runner import CREDENTIAL_NAMES, UPSTREAMS, Sandbox, is_loopback

log = logging.getLogger("enrichment_sandbox")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; refuses a non-loopback ``--host``."""
    parser = argparse.ArgumentParser(
        prog="enrichment-sandbox",
        description="Local imitations of Spotify, MusicBrainz, Last.fm, Deezer and GetSongBPM.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    parser.add_argument(
        "--catalogue",
        type=Path,
        metavar="JSON",
        help='a {"tracks": [...]} file instead of the bundled catalogue',
    )
    for name in UPSTREAMS:
        parser.add_argument(
            f"--latency-{name}-ms",
            type=float,
            default=0.0,
            metavar="MS",
            help=f"added {name} latency",
        )
        parser.add_argument(
            f"--{name}-port",
            type=int,
            default=0,
            metavar="PORT",
            help=f"{name} port (0 = any free)",
        )
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        parser.error(
            f"--host must be a loopback address (the sandbox is never exposed), not {args.host!r}"
        )
    return args


def read_catalogue(path: Path) -> Catalogue:
    """A catalogue from a JSON file shaped like the bundled ``catalogue.json``."""
    names = {f.name for f in fields(CatalogueTrack)}
    tracks = []
    for raw in json.loads(path.read_text("utf-8"))["tracks"]:
        # JSON has lists where the records hold tuples (and tuples of (name, weight) pairs).
        data = {k: _tuples(v) for k, v in raw.items() if k in names}
        tracks.append(CatalogueTrack(**data))
    return Catalogue(tuple(tracks))


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


async def serve(args: argparse.Namespace) -> None:
    """Start the sandbox, announce it, and wait for SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    latency = {name: getattr(args, f"latency_{name}_ms") for name in UPSTREAMS}
    ports = {name: getattr(args, f"{name}_port") for name in UPSTREAMS}
    catalogue = read_catalogue(args.catalogue) if args.catalogue else load_catalogue()
    credentials = {name: os.environ.get(name, "") for name in CREDENTIAL_NAMES}
    async with Sandbox(
        catalogue, host=args.host, latency_ms=latency, ports=ports, credentials=credentials
    ) as sandbox:
        for key, value in sandbox.settings().items():
            print(f"{key}={value}")
        sys.stdout.flush()
        for name, upstream in sandbox.upstreams().items():
            log.info("%s admin: %s/calls | /faults | /latency | /config", name, upstream.admin_url)
        await stop.wait()
        log.info("stopping the sandbox")


def main() -> None:
    """Console-script entry point."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    asyncio.run(serve(parse_args()))


if __name__ == "__main__":
    main()
