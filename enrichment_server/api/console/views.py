"""The data behind the console's pages: the overview's numbers and the effective settings."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError

from enrichment_server.api.console.sampler import Sampler
from enrichment_server.api.http import HttpBackends
from enrichment_server.api.http_seed import SeedEndpoints
from enrichment_server.config import Settings
from enrichment_server.credentials import Credentials

#: What the overview shows while the database cannot answer.
_NO_STATS: dict[str, Any] = {
    "track_stats": {"total_tracks": 0, "coverage_percentages": {}, "by_status": {}},
    "dead_letters": {"due": 0, "parked": 0},
    "cache_hit_rate": 0.0,
}


def rate_limit(settings: Settings, source: str) -> str:
    """A source's configured request rate, as the overview shows it."""
    rate = getattr(settings, f"{source}_rate_per_s", 0.0)
    return f"{rate:g}/s" if rate else "no limit"


def _hide_password(url: str) -> str:
    """A URL with any password replaced (database and Redis URLs may carry one)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def effective_settings(settings: Settings) -> list[tuple[str, str]]:
    """Every setting as the service runs with it; secrets only say whether they are set."""
    shown = []
    credentials = set(Credentials.FIELDS.values())  # a client id is listed masked too
    for name in sorted(Settings.model_fields):
        value = getattr(settings, name)
        if isinstance(value, SecretStr) or name in credentials:
            secret = value.get_secret_value() if isinstance(value, SecretStr) else value
            text = "(set)" if secret else "(not set)"
        elif name.endswith("_url") or name == "otlp_endpoint":
            text = _hide_password(str(value))
        else:
            text = str(value)
        shown.append((name, text))
    return shown


class ConsoleData:
    """Gathers what the overview shows, from the same sources as /health and /stats."""

    def __init__(self, backends: HttpBackends, endpoints: SeedEndpoints, sampler: Sampler) -> None:
        self._b = backends
        self._endpoints = endpoints
        self._sampler = sampler

    async def overview(self) -> dict[str, Any]:
        """Health, stats, per-source breaker/limit/calls/errors/latency, throughput series."""
        health, _ = await self._endpoints.health_document()
        try:
            stats = await self._endpoints.stats_document()
        except (OSError, SQLAlchemyError, TimeoutError):  # the readiness card says why
            stats = _NO_STATS
        window = self._sampler.window()
        sources = {}
        for source, state in self._b.breakers.states().items():
            recent = window["sources"].get(str(source), {})
            sources[str(source)] = {
                "state": str(state),
                "rate_limit": rate_limit(self._b.settings, str(source)),
                "calls": recent.get("calls", 0.0),
                "errors": recent.get("errors", 0.0),
                "latency_ms": recent.get("latency_ms", 0.0),
                "wait_ms": recent.get("wait_ms", 0.0),
                "lanes": recent.get("lanes", "idle"),
            }
        minutes = max(0.0, time.time() - window["since"]) / 60
        return {
            "health": health,
            "stats": stats,
            "sources": sources,
            "throughput": window["throughput"],
            "window_minutes": round(minutes, 1),
        }
