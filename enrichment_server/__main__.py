"""``enrichment-server``: serve (default), ``migrate`` the database, or ``generate-key``.

enrichment-server                 serve until SIGTERM/SIGINT (migrates at start)
enrichment-server migrate         apply the database migrations and exit
enrichment-server generate-key    print a new ENRICHMENT_SECRET_KEY
enrichment-server check-config    validate the settings (exit 2 naming each bad variable)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys

import structlog

from enrichment_server.app import App, StartupError
from enrichment_server.config import Settings, SettingsError, load_settings
from enrichment_server.crypto import generate_key
from enrichment_server.store import migrate
from enrichment_server.telemetry.logs import configure_logging


async def serve(settings: Settings) -> None:
    """Run until a termination signal, then shut down gracefully."""
    app = App(settings)
    await app.start()
    # Everything built at start (models, schemas, the catalogue of SQL statements) lives
    # as long as the process: freezing it keeps full collections from walking it. Measured
    # under the chaos load: event-loop stalls of ~110 ms (gen-2 collections) fell to ~14 ms,
    # and answers stopped missing 1 s deadlines.
    gc.collect()
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    structlog.get_logger(__name__).info("signal_received")
    await app.stop()


def _fail(message: str) -> None:
    print(f"enrichment-server: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    parser = argparse.ArgumentParser(prog="enrichment-server", description=__doc__.splitlines()[0])
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "migrate", "generate-key", "check-config"],
    )
    command = parser.parse_args(argv).command
    if command == "generate-key":
        print(generate_key())
        return
    try:
        settings = load_settings()
    except SettingsError as exc:
        _fail(str(exc))
        return
    if command == "check-config":
        print("configuration valid")
        return
    configure_logging(settings.log_level, settings.log_format)
    try:
        if command == "migrate":
            asyncio.run(migrate(settings.database_url))
            print(f"migrated {settings.database_url.partition('://')[0]} database")
        else:
            asyncio.run(serve(settings))
    except StartupError as exc:
        _fail(str(exc))


if __name__ == "__main__":
    main()
