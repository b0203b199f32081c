"""Bring a database to the latest schema: ``await migrate(url)``.

Used by the server at start and by ``python -m enrichment_server.store.migrate URL``.
The Alembic scripts ship inside this package, so no ``alembic.ini`` is needed.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from enrichment_server.store.engine import create_engine

__all__ = ["MIGRATIONS_DIR", "alembic_config", "migrate"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Postgres advisory-lock key: replicas starting together migrate one at a time (the
#: others then find the schema current); the lock ends with the transaction.
MIGRATION_LOCK_KEY = 0x656E7269636831  # "enrich1"


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged scripts (no ini file)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _upgrade(connection: Connection, config: Config) -> None:
    """Run ``upgrade head`` on a connection ``env.py`` picks up from the attributes."""
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def migrate(url: str) -> None:
    """Apply every pending revision to the database at ``url``; idempotent."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                lock = sa.text("SELECT pg_advisory_xact_lock(:key)")
                await connection.execute(lock, {"key": MIGRATION_LOCK_KEY})
            await connection.run_sync(_upgrade, alembic_config())
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m enrichment_server.store.migrate URL``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m enrichment_server.store.migrate DATABASE_URL", file=sys.stderr)
        return 2
    asyncio.run(migrate(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
