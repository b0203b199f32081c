"""Fixtures shared by every test package: access to the machine's real services.

Redis: tests use db 15 of the local Redis (``ENRICHMENT_TEST_REDIS_URL`` overrides) and
keep to a unique key prefix per test that they delete afterwards, so tests never FLUSHDB
and may run next to each other. Absent services skip locally but fail under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
#: A database the test user may connect to and CREATE DATABASE from (trust auth locally).
DEFAULT_TEST_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _service_missing(reason: str) -> None:
    """Skip the test, or fail it in CI where the services must be present."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the machine's Redis (db 15 by default), checked with a PING."""
    url = os.environ.get("ENRICHMENT_TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1) as client:
            client.ping()
    except redis.RedisError as exc:
        _service_missing(f"Redis not reachable at {url}: {exc}")
    return url


async def _postgres_admin(admin_url: str, statement: str) -> None:
    """Run one statement on ``admin_url`` outside a transaction (as CREATE DATABASE needs)."""
    engine = create_async_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 2}
    )
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


def _postgres_admin_sync(admin_url: str, statement: str) -> None:
    """``_postgres_admin`` from synchronous code, even when an event loop is running.

    Async fixtures request ``postgres_url`` while pytest-asyncio's loop runs, where
    ``asyncio.run`` is refused; a short-lived thread has a loop of its own.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _postgres_admin(admin_url, statement)).result()


#: Empties every table of the test database (the schema and Alembic's version stay), after
#: ending any connection a previous test left behind (it could hold a lock TRUNCATE waits on).
_EMPTY_TABLES = """
DO $$
DECLARE tables text;
BEGIN
  PERFORM pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid();
  SELECT string_agg(format('%I', tablename), ', ') INTO tables
    FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version';
  IF tables IS NOT NULL THEN
    EXECUTE 'TRUNCATE ' || tables || ' RESTART IDENTITY CASCADE';
  END IF;
END $$
"""


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """SQLAlchemy URL of a fresh Postgres database for this session, dropped afterwards.

    The server comes from ``ENRICHMENT_TEST_POSTGRES_URL``: a ``postgresql://`` URL of any
    database the user may run CREATE DATABASE from. Each session gets its own
    ``enrichment_test_<random>`` database, so parallel sessions and leftovers never meet.
    Absent Postgres skips, or fails in CI. Tests take it through ``postgres_url``.
    """
    server_url = os.environ.get("ENRICHMENT_TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)
    admin_url = server_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    name = f"enrichment_test_{uuid.uuid4().hex[:12]}"
    try:
        _postgres_admin_sync(admin_url, f'CREATE DATABASE "{name}"')
    except (OSError, SQLAlchemyError, TimeoutError) as exc:
        shown = make_url(admin_url).render_as_string(hide_password=True)
        _service_missing(f"Postgres not usable at {shown}: {exc}")
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        # FORCE: a test that failed mid-way may have left a pooled connection open.
        _postgres_admin_sync(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """The session's Postgres database with every table emptied before this test.

    One test's rows (stored credentials, dead letters, tracks) never reach the next: a
    leftover encrypted credential once stopped later servers from starting, and a leftover
    dead letter showed up in another test's listing, depending on the order tests ran in.
    """
    _postgres_admin_sync(postgres_database, _EMPTY_TABLES)
    return postgres_database


def pytest_sessionstart(session: pytest.Session) -> None:
    """Mark "no current event loop" as deliberate before any test runs.

    looptime's hook asks the loop policy for the current loop around every test, also a
    synchronous one; before the first asyncio test, Python 3.11's policy would then create a
    loop that nobody closes (a ResourceWarning, an error under ``-W error``). With the loop
    explicitly unset the policy answers "none" instead, which looptime expects.
    """
    asyncio.set_event_loop(None)
