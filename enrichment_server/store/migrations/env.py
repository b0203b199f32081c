"""Alembic environment: runs revisions on a connection handed over by ``migrate``.

``enrichment_server.store.migrate`` opens an async engine and passes its synchronous
connection in ``config.attributes["connection"]`` (Alembic's "connection sharing"
recipe), so migrations run inside the caller's event loop. Run from the ``alembic`` CLI
instead (with ``sqlalchemy.url`` set), this file opens its own async engine.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from enrichment_server.store.models import Base


def run_on(connection: Connection) -> None:
    """Apply the pending revisions on ``connection`` in one transaction."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    """CLI path: open an engine for ``url``, migrate, and dispose of it."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_on)
            await connection.commit()
    finally:
        await engine.dispose()


def main() -> None:
    """Entry point Alembic calls when it loads this file."""
    if context.is_offline_mode():
        raise RuntimeError("offline (SQL script) migrations are not supported")
    shared = context.config.attributes.get("connection")
    if isinstance(shared, Connection):
        run_on(shared)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set sqlalchemy.url, or call enrichment_server.store.migrate")
    asyncio.run(run_with_own_engine(url))


main()
