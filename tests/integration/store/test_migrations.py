"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection, make_url

from enrichment_server.store import Store, create_engine, migrate
from enrichment_server.store.migrate import main as migrate_main
from enrichment_server.store.models import Base


def _diff(connection: Connection, metadata: sa.MetaData) -> list[Any]:
    """Alembic's autogenerate differences between the database and ``metadata``."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def _schema_diff(url: str, metadata: sa.MetaData = Base.metadata) -> list[Any]:
    """Differences between the database at ``url`` and ``metadata``."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_diff, metadata)
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables at all (a fresh Postgres database, or a new file)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    session_url = make_url(request.getfixturevalue("postgres_url"))
    name = f"{session_url.database}_m{uuid.uuid4().hex[:6]}"
    admin = create_engine(session_url.render_as_string(False), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield session_url.set(database=name).render_as_string(False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


async def test_migrate_builds_the_model_schema(empty_url: str) -> None:
    """Upgrading a fresh database to head leaves no autogenerate diff against the models."""
    await migrate(empty_url)
    assert await _schema_diff(empty_url) == []


async def test_migrate_is_idempotent(empty_url: str) -> None:
    """A second migrate at head changes nothing and does not fail."""
    await migrate(empty_url)
    await migrate(empty_url)
    engine = create_engine(empty_url)
    async with engine.connect() as conn:
        version = (await conn.execute(sa.text("SELECT version_num FROM alembic_version"))).all()
    await engine.dispose()
    assert version == [("0003",)]


async def test_schema_comparison_notices_a_model_change(empty_url: str) -> None:
    """The comparison is not vacuous: a column the migrations lack shows up as a diff."""
    await migrate(empty_url)
    changed = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["tracks"].append_column(sa.Column("mood", sa.Text()))
    diff = await _schema_diff(empty_url, changed)
    assert [(op[0], op[2], op[3].name) for op in diff] == [("add_column", "tracks", "mood")]


async def test_store_open_migrates_first(tmp_path: Path) -> None:
    """Store.open on a new SQLite file creates the schema and is ready to use."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    try:
        assert await store.has_credentials() is False
        assert (await store.stats()).total_tracks == 0
    finally:
        await store.close()


def test_migrate_command(tmp_path: Path) -> None:
    """``python -m enrichment_server.store.migrate URL`` migrates; no URL is a usage error."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert migrate_main([url]) == 0
    assert (tmp_path / "cli.db").stat().st_size > 0
    assert migrate_main([]) == 2


@pytest.mark.integration
async def test_concurrent_migrations_on_postgres_do_not_race(postgres_url: str) -> None:
    """Three replicas migrating at once (an advisory lock serialises them) all succeed."""
    engine = create_engine(postgres_url)
    async with engine.begin() as conn:
        tables = (
            "credential_refusals, dead_letters, enrichment_status, api_credentials, tracks,"
            " alembic_version"
        )
        await conn.execute(sa.text(f"DROP TABLE IF EXISTS {tables} CASCADE"))
    await engine.dispose()
    await asyncio.gather(*(migrate(postgres_url) for _ in range(3)))
    engine = create_engine(postgres_url)
    async with engine.connect() as conn:
        version = (await conn.execute(sa.text("SELECT count(*) FROM alembic_version"))).scalar_one()
    await engine.dispose()
    assert version == 1
