"""What the run reads from outside the load: sandbox call counters and server metrics.

The sandbox's ``/_sandbox/calls?window_s=1`` gives per-endpoint request counts and the
most requests that arrived in any 1-second window; the server's Prometheus ``/metrics``
gives cache hits/misses and upstream attempts by outcome (``rate_limited`` = a 503 from
the MusicBrainz imitation's throttle).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

#: How to get each sandbox upstream's origin from the settings it printed.
_ORIGINS = {
    "spotify": ("ENRICHMENT_SPOTIFY_API_URL", "/v1"),
    "musicbrainz": ("ENRICHMENT_MUSICBRAINZ_URL", "/ws/2"),
    "lastfm": ("ENRICHMENT_LASTFM_URL", "/2.0/"),
    "deezer": ("ENRICHMENT_DEEZER_URL", "/"),
    "getsongbpm": ("ENRICHMENT_GETSONGBPM_URL", "/"),
}


def sandbox_origins(settings: Mapping[str, str]) -> dict[str, str]:
    """``{upstream: "http://127.0.0.1:port"}`` from the sandbox's printed settings."""
    return {
        name: settings[variable].removesuffix(suffix).rstrip("/")
        for name, (variable, suffix) in _ORIGINS.items()
    }


@dataclass(frozen=True, slots=True)
class UpstreamCalls:
    """One upstream's counters since the last reset."""

    calls: dict[str, int]
    max_in_window: int

    @property
    def total(self) -> int:
        """Requests to every endpoint (the Spotify token endpoint included)."""
        return sum(self.calls.values())


class SandboxAdmin:
    """The ``/_sandbox`` admin API of the five imitations."""

    def __init__(self, session: aiohttp.ClientSession, settings: Mapping[str, str]) -> None:
        """``settings``: what ``enrichment-sandbox`` printed."""
        self._session = session
        self.origins = sandbox_origins(settings)

    async def reset_calls(self) -> None:
        """Zero every counter (and the arrival log behind ``max_in_window``)."""
        for origin in self.origins.values():
            async with self._session.delete(f"{origin}/_sandbox/calls") as resp:
                resp.raise_for_status()

    async def calls(self, window_s: float = 1.0) -> dict[str, UpstreamCalls]:
        """Every upstream's counters."""
        out = {}
        for name, origin in self.origins.items():
            url = f"{origin}/_sandbox/calls?window_s={window_s:g}"
            async with self._session.get(url) as resp:
                resp.raise_for_status()
                body = await resp.json()
            out[name] = UpstreamCalls(dict(body["calls"]), int(body["max_in_window"]))
        return out

    async def configure(self, upstream: str, changes: Mapping[str, object]) -> None:
        """``PUT /_sandbox/config`` on one imitation (e.g. MusicBrainz's rate limit)."""
        url = f"{self.origins[upstream]}/_sandbox/config"
        async with self._session.put(url, json=dict(changes)) as resp:
            resp.raise_for_status()


@dataclass(slots=True)
class MetricsSnapshot:
    """The server counters the report needs."""

    cache_hits: float = 0.0
    cache_misses: float = 0.0
    api_calls: dict[tuple[str, str], float] = field(default_factory=dict)

    def minus(self, before: MetricsSnapshot) -> MetricsSnapshot:
        """The increase since ``before``."""
        keys = set(self.api_calls) | set(before.api_calls)
        return MetricsSnapshot(
            self.cache_hits - before.cache_hits,
            self.cache_misses - before.cache_misses,
            {k: self.api_calls.get(k, 0.0) - before.api_calls.get(k, 0.0) for k in keys},
        )

    def outcome(self, source: str, outcome: str) -> float:
        """Upstream attempts of ``source`` that ended with ``outcome``."""
        return self.api_calls.get((source, outcome), 0.0)


def parse_metrics(text: str) -> MetricsSnapshot:
    """Pick cache hits/misses and upstream attempts out of a Prometheus exposition."""
    snapshot = MetricsSnapshot()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "enrichment_cache_hits_total":
                snapshot.cache_hits += sample.value
            elif sample.name == "enrichment_cache_misses_total":
                snapshot.cache_misses += sample.value
            elif sample.name == "enrichment_api_calls_total":
                key = (sample.labels.get("source", ""), sample.labels.get("outcome", ""))
                snapshot.api_calls[key] = snapshot.api_calls.get(key, 0.0) + sample.value
    return snapshot


async def scrape(session: aiohttp.ClientSession, url: str | None) -> MetricsSnapshot:
    """The server's counters now (empty when it has no metrics endpoint)."""
    if url is None:
        return MetricsSnapshot()
    async with session.get(url) as resp:
        resp.raise_for_status()
        return parse_metrics(await resp.text())
