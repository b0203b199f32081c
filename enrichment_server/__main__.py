"""``enrichment-server``: read settings, configure logging, serve until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import signal
import sys

import structlog

from enrichment_server.app import App
from enrichment_server.config import Settings, SettingsError, load_settings
from enrichment_server.telemetry.logs import configure_logging


async def serve(settings: Settings) -> None:
    """Run until a termination signal, then shut down gracefully."""
    app = App(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    structlog.get_logger(__name__).info("signal_received")
    await app.stop()


def main() -> None:
    """Console-script entry point."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"enrichment-server: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
