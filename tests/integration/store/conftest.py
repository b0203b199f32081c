"""Store fixtures: every store test runs on SQLite (a temp file) and on real Postgres.

Postgres runs get the session database from ``postgres_url`` (tests/conftest.py),
migrated, with every table emptied before the test; those runs carry the
``integration`` mark so ``-m "not integration"`` leaves only SQLite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from enrichment_server.store import Store, create_engine, migrate
from enrichment_server.store.models import Base

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.integration)]


async def _empty(url: str) -> None:
    """Delete every row of the service's tables."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
            await conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database of either kind. The Postgres one is the session's shared
    database: it is emptied before and after, so no row (an encrypted credential above all)
    is left for the servers of later tests."""
    if request.param == "sqlite":
        sqlite_url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
        await migrate(sqlite_url)
        yield sqlite_url
        return
    url = str(request.getfixturevalue("postgres_url"))
    await migrate(url)
    await _empty(url)
    try:
        yield url
    finally:
        await _empty(url)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """A ``Store`` on the test database, closed afterwards."""
    store = Store(create_engine(db_url))
    try:
        yield store
    finally:
        await store.close()
