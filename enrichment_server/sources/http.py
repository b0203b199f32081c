"""The HTTP edge: a one-method transport and the translation of what it returns.

``Transport`` is the only interface the source clients see; ``AiohttpTransport`` is the
real one. Transport-level failures (connection refused, reset, timeout, a garbled
answer) are translated once, here, into ``TransportError`` whose text never carries a
URL's query string or a credential the request carried (aiohttp quotes the full URL in
some of its errors, and Last.fm and GetSongBPM put ``api_key`` there). Each source turns
statuses and bodies into the service's ``UpstreamError`` tree.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Protocol

import aiohttp

from enrichment_server.sources.redact import redact, secrets_of

#: Longest ``Retry-After`` believed; a longer one is clamped (a year-long pause is a bug).
MAX_RETRY_AFTER_S = 86400.0


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
        """Send the request; read the whole body within ``timeout_s``.

        aiohttp reads a total of 0 as "no timeout": with no time left nothing is sent.
        """
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise TransportError("no time left to send the request", timeout=True)
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        try:
            async with self._session.request(
                method, url, params=params, headers=headers, data=data, timeout=timeout
            ) as resp:
                body = await resp.read()
                lowered = {k.lower(): v for k, v in resp.headers.items()}
                return HttpResponse(resp.status, lowered, body)
        except TimeoutError:
            raise TransportError(f"no answer within {timeout_s:.2f}s", timeout=True) from None
        except aiohttp.ClientError as exc:
            # ``from None``: the original exception's text (and so any traceback logged
            # later) may quote the full URL, query string and credentials included.
            text = redact(f"{type(exc).__name__}: {exc}", secrets_of(params, headers, data))
            raise TransportError(text) from None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), else None.

    Defensive: NaN, infinities, negative numbers and unparseable text are treated as
    absent; a date in the past is 0; anything longer than ``MAX_RETRY_AFTER_S`` is
    clamped to it.
    """
    if not value:
        return None
    value = value.strip()
    seconds = _delta_seconds(value)
    if seconds is None:
        seconds = _until_date(value, time.time() if now is None else now)
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_S)


def _delta_seconds(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _until_date(value: str, now: float) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a zone-less one means the same
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - now)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


async def close_quietly(session: aiohttp.ClientSession) -> None:
    """Close a session and let its connector finish closing its sockets."""
    await session.close()
    await asyncio.sleep(0)
