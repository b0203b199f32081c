"""The HTTP edge: a one-method transport and the translation of what it returns.

``Transport`` is the only interface the source clients see; ``AiohttpTransport`` is the
real one. Transport-level failures (connection refused, reset, timeout) are translated
once, here, into ``TransportError``; each source turns statuses and bodies into the
service's ``UpstreamError`` tree.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp


class TransportError(Exception):
    """The request got no HTTP answer (connection failure or timeout)."""

    def __init__(self, message: str, *, timeout: bool = False) -> None:
        super().__init__(message)
        self.timeout = timeout


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """Status, lower-cased headers and the raw body of one answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport(Protocol):
    """Sends one HTTP request."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        timeout_s: float,
    ) -> HttpResponse:
        """The answer, or ``TransportError`` when none arrived within ``timeout_s``."""
        ...


class AiohttpTransport:
    """``Transport`` over one shared ``aiohttp.ClientSession`` (pooled connections)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        timeout_s: float,
    ) -> HttpResponse:
        """Send the request; read the whole body within ``timeout_s``."""
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        try:
            async with self._session.request(
                method, url, params=params, headers=headers, data=data, timeout=timeout
            ) as resp:
                body = await resp.read()
                lowered = {k.lower(): v for k, v in resp.headers.items()}
                return HttpResponse(resp.status, lowered, body)
        except TimeoutError as exc:
            raise TransportError(f"no answer within {timeout_s:.2f}s", timeout=True) from exc
        except aiohttp.ClientError as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


async def close_quietly(session: aiohttp.ClientSession) -> None:
    """Close a session and let its connector finish closing its sockets."""
    await session.close()
    await asyncio.sleep(0)
