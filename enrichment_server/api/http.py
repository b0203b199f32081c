"""The HTTP port: ``/metrics``, the seed's operator endpoints and ``POST /enrich``, the console.

Routes (the seed's names, so its curl recipes run as written):

* ``GET /metrics``: Prometheus exposition (unless ``ENRICHMENT_METRICS_ENABLED=false``).
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

import asyncio
import json
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from aiohttp import web
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

from enrichment_client.pb.enrichment.v1 import admin_pb2 as admin_pb
from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb
from enrichment_server.api import seed
from enrichment_server.api.admin import AdminServicer
from enrichment_server.api.convert import SOURCE
from enrichment_server.api.health import Health
from enrichment_server.api.local_call import LocalAbort, LocalContext
from enrichment_server.api.servicer import EnrichmentServicer
from enrichment_server.config import Settings
from enrichment_server.domain import Source
from enrichment_server.enrichment.waterfall import Waterfall
from enrichment_server.errors import FieldViolation, InvalidRequest
from enrichment_server.resilience.breaker import BreakerState
from enrichment_server.resilience.registry import BreakerRegistry
from enrichment_server.store import Store
from enrichment_server.telemetry.metrics import Metrics, exposition
from enrichment_server.telemetry.tracing import current_trace_id

log = structlog.get_logger("enrichment.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: How long /health waits for the database before calling it unreachable.
DATABASE_PROBE_S = 2.0
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
#: The reset endpoint's "admin API disabled" is the operator's missing setting, not a bad
#: request: 403 says "not allowed here" better than Google's generic 400.
_RESET_STATUS_OVERRIDES = {"FAILED_PRECONDITION": 403}


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


class SeedEndpoints:
    """The seed's operator endpoints and ``POST /enrich``."""

    def __init__(self, backends: HttpBackends) -> None:
        self._b = backends

    def install(self, app: web.Application) -> None:
        """Add the routes to ``app``."""
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/health", self.health)
        app.router.add_get("/stats", self.stats)
        app.router.add_post("/enrich", self.enrich)
        app.router.add_post("/enrich/reset-circuit-breaker/{source}", self.reset)

    async def metrics(self, request: web.Request) -> web.Response:
        """Prometheus text exposition."""
        if not self._b.settings.metrics_enabled:
            return json_error(404, "metrics are off (ENRICHMENT_METRICS_ENABLED=false)")
        body, content_type = exposition(self._b.metrics)
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def _database_ok(self) -> bool:
        try:
            await asyncio.wait_for(self._b.store.ping(), DATABASE_PROBE_S)
        except Exception:  # any failure to answer is "unreachable" for a probe
            log.warning("health_database_unreachable", exc_info=True)
            return False
        return True

    async def health(self, request: web.Request) -> web.Response:
        """The seed's health document; 503 only for our own failure."""
        body, status = await self.health_document()
        return web.json_response(body, status=status)

    async def health_document(self) -> tuple[dict[str, Any], int]:
        """The health body and its HTTP status (the console's overview shows the same)."""
        serving = self._b.health.is_serving
        database = await self._database_ok()
        states = self._b.breakers.states()
        clients = {
            str(s): {"state": str(state), "healthy": state is BreakerState.CLOSED}
            for s, state in states.items()
        }
        if not (serving and database):
            status, code = "unhealthy", 503
        elif any(state is not BreakerState.CLOSED for state in states.values()):
            status, code = "degraded", 200
        else:
            status, code = "healthy", 200
        body = {
            "status": status,
            "service": "metadata-enrichment",
            "serving": serving,
            "database": "ok" if database else "unreachable",
            "cache": self._b.cache_backend,
            "api_clients": clients,
            "timestamp": datetime.now(UTC).isoformat(),
        }
        return body, code

    async def stats(self, request: web.Request) -> web.Response:
        """``GetStats`` in the seed's shape."""
        return web.json_response(await self.stats_document())

    async def stats_document(self) -> dict[str, Any]:
        """The numbers of ``GetStats`` (same store query, same hit rate, same breakers)."""
        stats = await self._b.store.stats()
        coverage = {name: round(value, 2) for name, value in stats.coverage.items()}
        # The seed's "audio_features" (tempo and key from Spotify's endpoint): here BPM.
        coverage["audio_features"] = coverage.get("bpm", 0.0)
        return {
            "track_stats": {
                "total_tracks": stats.total_tracks,
                "coverage_percentages": coverage,
                "by_status": stats.statuses,
            },
            "dead_letters": {
                "due": stats.dead_letters_due,
                "parked": stats.dead_letters_parked,
            },
            "cache_hit_rate": round(self._b.metrics.cache_hit_rate(), 4),
            "circuit_breakers": {str(s): str(v) for s, v in self._b.breakers.states().items()},
            "timestamp": datetime.now(UTC).isoformat(),
        }

    async def enrich(self, request: web.Request) -> web.Response:
        """The seed's ``POST /enrich`` through the ``Enrich`` servicer."""
        try:
            body = await request.json(loads=json.loads)
        except (ValueError, UnicodeDecodeError):
            return json_error(400, "invalid request: body", [_not_json()])
        try:
            message, lane = seed.enrich_request(body)
        except InvalidRequest as exc:
            return json_error(400, str(exc), exc.violations)
        context = LocalContext(_passed_headers(request), peer(request))
        try:
            response = await self._b.enrich.Enrich(message, context)
        except LocalAbort as exc:
            found = [FieldViolation(f, d) for f, d in exc.violations]
            return json_error(exc.http_status, exc.details, found)
        return web.json_response(seed.enrich_response(response, lane))

    async def reset(self, request: web.Request) -> web.Response:
        """``ResetBreaker`` with the caller's ``Authorization`` header."""
        name = request.match_info["source"]
        if name != "all" and name not in set(Source):
            known = ", ".join(["all", *sorted(Source)])
            return json_error(404, f"unknown source {name!r}; known: {known}")
        which = SOURCE[Source(name)] if name != "all" else pb.SOURCE_UNSPECIFIED
        context = LocalContext(_passed_headers(request), peer(request))
        try:
            answer = await self._b.admin.ResetBreaker(
                admin_pb.ResetBreakerRequest(source=which), context
            )
        except LocalAbort as exc:
            status = _RESET_STATUS_OVERRIDES.get(exc.code.name, exc.http_status)
            return json_error(status, exc.details)
        return web.json_response(reset_document(name, answer))


def reset_document(name: str, answer: admin_pb.ResetBreakerResponse) -> dict[str, Any]:
    """The reset answer: each breaker's state before and after."""

    def state(value: int) -> str:
        return admin_pb.BreakerState.Name(value).removeprefix("BREAKER_STATE_").lower()  # type: ignore[arg-type]

    resets = [
        {
            "source": seed.source_name(r.source),
            "previous_state": state(r.previous),
            "current_state": state(r.current),
        }
        for r in answer.resets
    ]
    body: dict[str, Any] = {"status": "reset", "source": name, "resets": resets}
    if len(resets) == 1:
        body |= {k: resets[0][k] for k in ("previous_state", "current_state")}
    return body


def _not_json() -> FieldViolation:
    return FieldViolation("body", "must be a JSON object (Content-Type: application/json)")


def _passed_headers(request: web.Request) -> dict[str, str]:
    """The headers a servicer may read as metadata: the token and the trace context."""
    wanted = ("authorization", "traceparent", "tracestate")
    return {k.lower(): v for k, v in request.headers.items() if k.lower() in wanted}


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
    from enrichment_server.api.console import Console  # the console builds on this module

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
