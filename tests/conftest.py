"""Fixtures shared by every test package: access to the machine's real services.

Redis: tests use db 15 of the local Redis (``ENRICHMENT_TEST_REDIS_URL`` overrides) and
keep to a unique key prefix per test that they delete afterwards, so tests never FLUSHDB
and may run next to each other. Absent services skip locally but fail under ``CI=true``.
"""

from __future__ import annotations

import os

import pytest
import redis

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


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
