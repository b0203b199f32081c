"""Persistence: tracks, enrichment status, the dead-letter queue, credentials.

SQLAlchemy 2 async on SQLite (default, ``sqlite+aiosqlite:///path.db``) or Postgres
(``postgresql+asyncpg://...``); schema managed by the Alembic scripts in
``migrations/`` through ``migrate(url)``.
"""

from enrichment_server.store.engine import DEFAULT_URL, create_engine
from enrichment_server.store.migrate import migrate
from enrichment_server.store.repository import Store
from enrichment_server.store.types import Backoff, DeadLetter, MaskedCredential, StoreStats

__all__ = [
    "DEFAULT_URL",
    "Backoff",
    "DeadLetter",
    "MaskedCredential",
    "Store",
    "StoreStats",
    "create_engine",
    "migrate",
]
