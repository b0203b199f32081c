"""The HTTP port: ``/metrics``, the seed's operator endpoints and ``POST /enrich``, the console.

Routes (the seed's names, so its curl recipes run as written):

* ``GET /metrics``: Prometheus exposition (unless ``ENRICHMENT_METRICS_ENABLED=false``).
  The seed routes below live in ``http_seed.py``.
* ``GET /health``: ``healthy`` / ``degraded`` (a breaker not closed: upstream trouble, still
  200, so a load balancer keeps every pod) / ``unhealthy`` (503: not serving, or the
  database unreachable: our own failure), with ``api_clients`` per source.
* ``GET /stats``: ``GetStats``'s numbers in the seed's shape.
* ``POST /enrich``: the seed's JSON contract through the ``Enrich`` servicer (``seed.py``).
* ``POST /enrich/reset-circuit-breaker/{source}``: the ``ResetBreaker`` servicer, same
  bearer token, same answers (``all`` resets every breaker).
* ``/`` and ``/console/...``: the operator console (``api/console``).

Every request gets one log line (method, route, status, duration, trace id; never a query
string), a SERVER span continuing the caller's ``traceparent``, and
``http_server_requests_total`` / ``http_server_request_duration_seconds``.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import web
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from enrichment_server.api.admin import AdminServicer
from enrichment_server.api.health import Health
from enrichment_server.api.servicer import EnrichmentServicer
from enrichment_server.config import Settings
from enrichment_server.enrichment.waterfall import Waterfall
from enrichment_server.errors import FieldViolation
from enrichment_server.resilience.registry import BreakerRegistry
from enrichment_server.store import Store
from enrichment_server.telemetry.metrics import Metrics
from enrichment_server.telemetry.tracing import current_trace_id

log = structlog.get_logger("enrichment.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Every answer: no framing, no sniffing, no referrer; scripts and styles only from here.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True, slots=True)
class HttpBackends:
    """What the HTTP surface serves from: the same objects the gRPC services use."""

    settings: Settings
    metrics: Metrics
    tracer: trace.Tracer
    health: Health
    store: Store
    breakers: BreakerRegistry
    enrich: EnrichmentServicer
    admin: AdminServicer
    cache_backend: str
    waterfall: Waterfall


def json_error(
    status: int, message: str, violations: Sequence[FieldViolation] = ()
) -> web.Response:
    """An error answer: ``{"error": ..., "field_violations": [{"field", "description"}]}``."""
    body: dict[str, Any] = {"error": message}
    if violations:
        body["field_violations"] = [
            {"field": v.field, "description": v.description} for v in violations
        ]
    return web.json_response(body, status=status)


def peer(request: web.Request) -> str:
    """The caller's address as grpc would spell it (for the servicers' logs)."""
    return f"ipv4:{request.remote or 'unknown'}"


def route_of(request: web.Request) -> str:
    """The matched route's template (``/enrich/reset-circuit-breaker/{source}``)."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


def observe(backends: HttpBackends) -> Any:
    """Middleware: a span, a log line, metrics and the security headers for every request."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        route, started = route_of(request), time.perf_counter()
        parent = propagate.extract(dict(request.headers))
        span = backends.tracer.start_span(
            f"{request.method} {route}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": request.method, "http.route": route},
        )
        attached = otel_context.attach(trace.set_span_in_context(span, parent))
        status = 500
        try:
            response = await _answer(request, handler)
            status = response.status
            response.headers.update(SECURITY_HEADERS)
            if route.startswith("/console") and not route.startswith("/console/static"):
                response.headers["Cache-Control"] = "no-store"  # nothing kept after sign-out
            return response
        finally:
            trace_id = current_trace_id()
            span.set_attribute("http.response.status_code", status)
            span.end()
            otel_context.detach(attached)
            seconds = time.perf_counter() - started
            backends.metrics.http_request(request.method, route, status, seconds)
            log.info(
                "http_request",
                method=request.method,
                route=route,
                path=request.path,  # never the query string
                status=status,
                duration_ms=round(seconds * 1000, 1),
                trace_id=trace_id,
                peer=request.remote,
            )

    return middleware


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The handler's response; aiohttp's HTTP exceptions and our crashes as responses."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        return web.json_response({"error": exc.reason}, status=exc.status)
    except Exception:
        log.exception("http_handler_crashed", route=route_of(request))
        return json_error(500, "internal error (logged with this request's trace id)")


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The gRPC server's certificate for the HTTP port too (None: plaintext).

    Client certificates (``ENRICHMENT_TLS_CLIENT_CA_FILE``) are required on gRPC only:
    Prometheus and browsers reach this port with a server certificate alone.
    """
    if not settings.tls_cert_file:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_cert_file, settings.tls_key_file)
    return context


def build_app(backends: HttpBackends) -> web.Application:
    """The aiohttp application: seed endpoints and console behind the observing middleware."""
    # The routes build on this module's backends and helpers, hence imported here.
    from enrichment_server.api.console import Console
    from enrichment_server.api.http_seed import SeedEndpoints

    app = web.Application(middlewares=[observe(backends)])
    endpoints = SeedEndpoints(backends)
    endpoints.install(app)
    Console(backends, endpoints).install(app)
    return app


async def serve_http(backends: HttpBackends) -> tuple[web.AppRunner, int]:
    """Serve on ``ENRICHMENT_HTTP_HOST:PORT`` (TLS with the gRPC certificate when set);
    return the runner (to clean up) and the bound port."""
    settings = backends.settings
    runner = web.AppRunner(build_app(backends), access_log=None)
    await runner.setup()
    site = web.TCPSite(
        runner, settings.http_host, settings.http_port, ssl_context=tls_context(settings)
    )
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    server = site._server  # aiohttp exposes the bound port only through the server
    sockets = getattr(server, "sockets", None) or []
    bound = int(sockets[0].getsockname()[1]) if sockets else settings.http_port
    return runner, bound
