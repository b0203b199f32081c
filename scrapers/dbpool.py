"""One bounded connection pool per process, and which write failures are worth a retry.

``python -m scrapers.crawl`` runs every spider in one process; each spider's
``PersistencePipeline`` used to open its own engine (SQLAlchemy's default: 5 pooled + 10
overflow connections), so ten spiders could hold 150 connections and Postgres answered
"too many clients already". Now ``SharedEngines`` hands every pipeline of the process the
same engine per database URL: at most ``SCRAPERS_DB_POOL_SIZE`` connections (no overflow),
a write waiting up to ``SCRAPERS_DB_POOL_TIMEOUT_S`` for a free one. ``crawl.py`` puts one
``SharedEngines`` in the settings (``SCRAPERS_SHARED_ENGINES``); a plain ``scrapy crawl``
(one spider per process) gets a private one.

Budget: (processes running spiders) x ``SCRAPERS_DB_POOL_SIZE`` + the service's replicas x
their pool must stay below Postgres's ``max_connections`` minus its reserved slots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["PoolConfig", "SharedEngines", "create_engine", "is_transient"]

#: SQLSTATE classes of failures that may pass: connection exceptions (08), insufficient
#: resources (53: "too many clients", "too many connections for role"), operator
#: intervention (57P01 admin shutdown...), serialization failures and deadlocks (40).
TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57P", "40001", "40P01")


@dataclass(frozen=True, slots=True)
class PoolConfig:
    """The pool's bounds (``SCRAPERS_DB_POOL_SIZE``, ``SCRAPERS_DB_POOL_TIMEOUT_S``)."""

    size: int = 5
    timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Any) -> PoolConfig:
        """Read a Scrapy ``Settings`` object; a size below 1 is refused."""
        config = cls(
            size=settings.getint("SCRAPERS_DB_POOL_SIZE", 5),
            timeout_s=settings.getfloat("SCRAPERS_DB_POOL_TIMEOUT_S", 30.0),
        )
        if config.size < 1 or config.timeout_s <= 0:
            raise ValueError(
                "SCRAPERS_DB_POOL_SIZE must be >= 1 and SCRAPERS_DB_POOL_TIMEOUT_S > 0"
            )
        return config


def create_engine(url: str, pool: PoolConfig | None = None) -> AsyncEngine:
    """An engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs.

    With ``pool`` the engine never opens more than ``pool.size`` connections.
    """
    bounds: dict[str, Any] = {}
    if pool is not None:
        bounds = {"pool_size": pool.size, "max_overflow": 0, "pool_timeout": pool.timeout_s}
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30.0}, **bounds)
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_pre_ping=True, **bounds)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Foreign keys on (as the service has them) and WAL for concurrent readers."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def is_transient(exc: BaseException) -> bool:
    """Whether a failed write may succeed if tried again (connection, capacity, lock)."""
    if isinstance(exc, sa.exc.TimeoutError | OSError | TimeoutError):
        return True  # no free pooled connection in time; the database unreachable
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", "") or "")
    if state:
        return state.startswith(TRANSIENT_SQLSTATE_PREFIXES)
    # SQLite has no SQLSTATE: "database is locked" and I/O errors are OperationalError.
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)


class SharedEngines:
    """The engines of one process, one per database URL, shared by every pipeline."""

    def __init__(self, pool: PoolConfig) -> None:
        self.pool = pool
        self._engines: dict[str, AsyncEngine] = {}
        self._users: dict[str, int] = {}

    def acquire(self, url: str) -> AsyncEngine:
        """The engine for ``url`` (created on first use); pair with ``release``."""
        if url not in self._engines:
            self._engines[url] = create_engine(url, self.pool)
            self._users[url] = 0
        self._users[url] += 1
        return self._engines[url]

    async def release(self, url: str) -> None:
        """One user less; the last one closes the pool."""
        self._users[url] -= 1
        if self._users[url] == 0:
            del self._users[url]
            await self._engines.pop(url).dispose()

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        """Scrapy deep-copies the settings for each crawler: the registry stays one object."""
        return self
