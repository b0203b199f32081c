"""The request pipeline every imitation shares: count, delay, inject faults, then serve.

Each imitation supplies a :class:`FaultResponder` that renders faults in its own dialect
(Spotify's ``{"error":{"status":..}}``, MusicBrainz's proxy 503, Last.fm's error codes)
and a function naming the endpoint a request is for. Admin routes (``/_sandbox/``) and
unknown paths bypass the pipeline and are not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from enrichment_sandbox.controls import Controls, FaultRule

ADMIN_PREFIX = "/_sandbox/"
HANG_SECONDS = 3600.0
MALFORMED_BODY = '{"results": {"items": [{"id": "7b1c2d3e", "name": "Stro'
"""A JSON document cut off mid-string, as a dropped upstream connection leaves it."""

EndpointOf = Callable[[web.Request], str | None]
"""Names the endpoint a request is for (the call-counter key), or None to bypass."""

Precheck = Callable[[web.Request, str], Awaitable[web.StreamResponse | None]]
"""Runs after faults and before the handler; a response short-circuits the handler."""


class FaultResponder(Protocol):
    """Renders injected faults the way one upstream would."""

    def status(self, request: web.Request, endpoint: str, status: int) -> web.Response:
        """HTTP ``status`` with the upstream's own error body."""

    def rate_limit(self, request: web.Request, endpoint: str, rule: FaultRule) -> web.Response:
        """The upstream's throttling response."""

    def error_in_200(self, request: web.Request, endpoint: str) -> web.Response:
        """An error the upstream hides inside (or, lacking that habit, next to) a 200."""

    def quota(self, request: web.Request, endpoint: str, rule: FaultRule) -> web.Response:
        """The upstream's quota-exhausted / key-suspended response."""


def json_response(
    body: object, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A compact JSON response with ``application/json; charset=utf-8``."""
    return web.Response(
        text=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def seconds_header(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds as an integer, fractions kept (for fast tests)."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def malformed_response() -> web.Response:
    """HTTP 200 claiming JSON but carrying a truncated, unparseable body."""
    return web.Response(text=MALFORMED_BODY, content_type="application/json", charset="utf-8")


async def hang(controls: Controls) -> web.Response:
    """Answer nothing for about an hour (or until the imitation shuts down)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(controls.closing.wait(), HANG_SECONDS)
    return web.Response(status=504, text="sandbox hang ended")


async def apply_fault(
    request: web.Request,
    endpoint: str,
    rule: FaultRule,
    controls: Controls,
    responder: FaultResponder,
) -> web.Response:
    """The response ``rule`` calls for; a rule's ``retry_after`` always sets ``Retry-After``."""
    if rule.kind == "hang":
        return await hang(controls)
    if rule.kind == "garbled":
        return garbled(request)
    if rule.kind == "malformed":
        response = malformed_response()
    elif rule.kind == "rate_limit":
        response = responder.rate_limit(request, endpoint, rule)
    elif rule.kind == "error_in_200":
        response = responder.error_in_200(request, endpoint)
    elif rule.kind == "quota":
        response = responder.quota(request, endpoint, rule)
    elif rule.kind == "echo":
        response = await echo(request, rule.status)
    else:
        response = responder.status(request, endpoint, rule.status)
    if rule.retry_after is not None and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = seconds_header(rule.retry_after)
    if rule.retry_after_header is not None:
        response.headers["Retry-After"] = rule.retry_after_header
    return response


GARBLED_ANSWER = b"HTTP/1.1 2x0 Garbled\r\nContent-Length: 5\r\n\r\nhello"
"""An answer no HTTP parser accepts (the status code is not a number)."""


def garbled(request: web.Request) -> web.Response:
    """Write ``GARBLED_ANSWER`` straight to the socket and close it.

    The response returned afterwards goes nowhere (the transport is closed); it only
    ends the handler.
    """
    transport = request.transport
    if transport is not None:
        transport.write(GARBLED_ANSWER)
        transport.close()
    return web.Response(status=500, text="garbled")


async def echo(request: web.Request, status: int) -> web.Response:
    """An error body quoting the request back: URL, headers and form, as some APIs do."""
    form = dict(await request.post()) if request.can_read_body else {}
    body = {
        "error": {"status": status, "message": f"bad request to {request.url}"},
        "request": {
            "url": str(request.url),
            "headers": dict(request.headers),
            "form": {k: str(v) for k, v in form.items()},
        },
    }
    return json_response(body, status=status)


def control_middleware(
    controls: Controls,
    responder: FaultResponder,
    endpoint_of: EndpointOf,
    precheck: Precheck | None = None,
) -> Middleware:
    """The middleware applying ``controls`` to every non-admin request."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        endpoint = endpoint_of(request)
        if endpoint is None:
            return await handler(request)
        controls.calls[endpoint] += 1
        controls.arrivals.append((time.monotonic(), endpoint))
        delay = controls.latency_for(endpoint)
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        rule = controls.faults.take(endpoint)
        if rule is not None:
            return await apply_fault(request, endpoint, rule, controls, responder)
        if precheck is not None:
            early = await precheck(request, endpoint)
            if early is not None:
                return early
        return await handler(request)

    return middleware
