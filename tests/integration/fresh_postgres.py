"""A clean slate on the session's Postgres database for a test that runs a server on it."""

from __future__ import annotations

import sqlalchemy as sa

from enrichment_server.store import create_engine, migrate
from enrichment_server.store.models import Base


async def fresh_postgres(url: str) -> str:
    """Migrate ``url`` and empty every table (other tests share the session database)."""
    await migrate(url)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
            await conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()
    return url
