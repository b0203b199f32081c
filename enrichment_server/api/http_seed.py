"""The seed's operator endpoints and ``POST /enrich`` on the HTTP port (``api/http.py``).

``/health`` and ``/stats`` answer from the same objects as the health service and
``GetStats``; ``/enrich`` and the breaker reset call the gRPC servicers in process
(``LocalContext``), so validation, the token check, recording and metrics are the RPCs'.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import structlog
from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from enrichment_client.pb.enrichment.v1 import admin_pb2 as admin_pb
from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb
from enrichment_server.api import seed
from enrichment_server.api.convert import SOURCE
from enrichment_server.api.http import HttpBackends, json_error, peer
from enrichment_server.api.local_call import LocalAbort, LocalContext
from enrichment_server.domain import Source
from enrichment_server.errors import FieldViolation, InvalidRequest
from enrichment_server.resilience.breaker import BreakerState
from enrichment_server.telemetry.metrics import exposition

log = structlog.get_logger("enrichment.http")
#: How long /health waits for the database before calling it unreachable.
DATABASE_PROBE_S = 2.0
#: The reset endpoint's "admin API disabled" is the operator's missing setting, not a bad
#: request: 403 says "not allowed here" better than Google's generic 400.
_RESET_STATUS_OVERRIDES = {"FAILED_PRECONDITION": 403}


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
        """``GetStats`` in the seed's shape; 503 when the database cannot answer."""
        try:
            return web.json_response(await self.stats_document())
        except (OSError, SQLAlchemyError, TimeoutError):
            log.warning("stats_database_unreachable", exc_info=True)
            return json_error(503, "the database cannot be reached: statistics unavailable")

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
