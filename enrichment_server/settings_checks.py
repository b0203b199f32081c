"""Checks on setting values, alone and against each other (issue 12 items 8 and 17).

Plain functions, each raising ``ValueError`` with a message that never echoes a secret,
so they move with the settings they check whatever section those end up in. ``config.py``
calls them from its validators; a bad value stops the start with exit status 2 naming the
variable, before anything (database, sessions, ports) is opened.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import fields
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from enrichment_server.domain import Source
from enrichment_server.resilience.breaker import BreakerConfig

__all__ = [
    "ADMIN_TOKEN_MIN_CHARS",
    "admin_token",
    "breaker",
    "breaker_overrides",
    "credential_text",
    "database_url",
    "host",
    "not_above",
    "otlp_endpoint",
    "redis_url",
]

#: An admin token shorter than this is guessable; `secrets.token_hex(16)` gives 32.
ADMIN_TOKEN_MIN_CHARS = 16
_HOSTNAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)
DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
REDIS_SCHEMES = ("redis", "rediss", "unix")
#: BreakerConfig fields that are counts (the environment gives numbers).
BREAKER_COUNTS = frozenset(
    {"min_calls", "consecutive_failures", "half_open_probes", "half_open_successes"}
)
BREAKER_FIELDS = frozenset(f.name for f in fields(BreakerConfig))


def host(value: str) -> str:
    """An IP address or a DNS host name (what the server can bind)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOSTNAME.fullmatch(value):
            raise ValueError("must be an IP address or a host name") from None
    return value


def admin_token(value: str) -> str:
    """Empty (admin API off), or at least ``ADMIN_TOKEN_MIN_CHARS`` visible ASCII characters.

    Nothing is stripped: a token with spaces is refused, not silently changed, and a
    blank one does not switch the admin API on.
    """
    if not value:
        return value
    if not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
        raise ValueError("must be visible ASCII characters with no spaces (an HTTP/2 header)")
    if len(value) < ADMIN_TOKEN_MIN_CHARS:
        raise ValueError(f"must be at least {ADMIN_TOKEN_MIN_CHARS} characters")
    return value


def credential_text(value: str) -> str:
    """An upstream credential: no spaces or control characters (it travels in headers)."""
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("must not contain spaces or control characters")
    return value


def database_url(value: str) -> str:
    """A SQLAlchemy URL for one of the supported async drivers."""
    try:
        driver = make_url(value).drivername
    except ArgumentError:
        raise ValueError("is not a database URL (e.g. sqlite+aiosqlite:///enrichment.db)") from None
    if driver not in DATABASE_DRIVERS:
        raise ValueError(f"driver must be one of {', '.join(DATABASE_DRIVERS)}")
    return value


def redis_url(value: str) -> str:
    """Empty, or a ``redis://``, ``rediss://`` or ``unix://`` URL."""
    if value and urlsplit(value).scheme not in REDIS_SCHEMES:
        raise ValueError(f"scheme must be one of {', '.join(REDIS_SCHEMES)}")
    return value


def otlp_endpoint(value: str) -> str:
    """Empty, or an http(s) URL with a host."""
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    return value


def breaker(values: Mapping[str, float], where: str) -> BreakerConfig:
    """A ``BreakerConfig`` from settings values; ``ValueError`` naming ``where``."""
    unknown = sorted(set(values) - BREAKER_FIELDS)
    if unknown:
        raise ValueError(f"{where}: unknown breaker setting(s) {unknown}")
    typed: dict[str, Any] = {}
    for name, number in values.items():
        if name in BREAKER_COUNTS and number != int(number):
            raise ValueError(f"{where}: {name} must be a whole number")
        typed[name] = int(number) if name in BREAKER_COUNTS else float(number)
    try:
        return BreakerConfig(**typed)
    except (TypeError, ValueError):
        raise ValueError(
            f"{where}: need 0 < open_s <= max_open_s, rates in (0, 1], min_calls >= 1, "
            "max_half_open_s > 0"
        ) from None


def breaker_overrides(
    overrides: Mapping[str, Mapping[str, float]], defaults: Mapping[str, float]
) -> None:
    """Every override names a known source and makes a valid breaker with the defaults."""
    known = {str(source) for source in Source}
    for source, values in overrides.items():
        if source not in known:
            raise ValueError(f"unknown source {source!r} (known: {', '.join(sorted(known))})")
        breaker({**defaults, **values}, f"{source}")


def not_above(low: tuple[str, float], high: tuple[str, float]) -> None:
    """``low``'s value must not exceed ``high``'s (each given as (variable, value))."""
    if low[1] > high[1]:
        raise ValueError(f"{low[0]} ({low[1]}) must not exceed {high[0]} ({high[1]})")
