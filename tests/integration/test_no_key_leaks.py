"""No credential leaves the service in any text, whatever an upstream does (issue 12 item 9).

A real server process runs against the in-process sandbox with DEBUG logs, every span
sampled and exported to a local OTLP receiver, and a SQLite file; then every fault mode
the sandbox has is switched on for the three upstreams that take a credential (Spotify's
client id and secret, the Last.fm and GetSongBPM keys, which travel in the query
string). After each mode the answer is searched, and at the end the logs, every database
row, the metrics page and the exported spans.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from enrichment_client import EnrichmentClient, pb
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from tests.integration.processes import server_process

#: Every fault the sandbox can inject, as each upstream renders it.
FAULT_MODES: dict[str, FaultRule] = {
    "status_500": FaultRule(kind="status", status=500),
    "status_401": FaultRule(kind="status", status=401),
    "status_403": FaultRule(kind="status", status=403),
    "hang": FaultRule(kind="hang"),
    "rate_limit": FaultRule(kind="rate_limit"),
    "malformed": FaultRule(kind="malformed"),
    "error_in_200": FaultRule(kind="error_in_200"),
    "garbled": FaultRule(kind="garbled"),
    "echo_400": FaultRule(kind="echo", status=400),
    "echo_500": FaultRule(kind="echo", status=500),
    # Last: an exhausted quota keeps the source's breaker open for the quota window.
    "quota": FaultRule(kind="quota"),
}
KEYED_UPSTREAMS = ("spotify", "lastfm", "getsongbpm")


class Spans:
    """A local OTLP/HTTP receiver keeping the raw export bodies."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.url = ""

    async def traces(self, request: web.Request) -> web.Response:
        """Keep one export request."""
        self.bodies.append(await request.read())
        return web.Response(body=b"", content_type="application/x-protobuf")


@pytest.fixture
async def spans() -> AsyncIterator[Spans]:
    """The receiver, on a free loopback port."""
    got = Spans()
    app = web.Application()
    app.router.add_post("/v1/traces", got.traces)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    got.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    yield got
    await runner.cleanup()


def secrets_of(sandbox: Sandbox) -> dict[str, str]:
    """Every credential the server is given, and Spotify's Basic form of the pair."""
    env = sandbox.settings()
    found = {
        name: value
        for name, value in env.items()
        if name.endswith(("_SECRET", "_API_KEY", "_CLIENT_ID"))
    }
    pair = f"{env['ENRICHMENT_SPOTIFY_CLIENT_ID']}:{env['ENRICHMENT_SPOTIFY_CLIENT_SECRET']}"
    found["basic"] = base64.b64encode(pair.encode()).decode()
    assert len(found) == 5
    return found


def assert_clean(where: str, text: str, secrets: dict[str, str]) -> None:
    """``text`` contains none of ``secrets``."""
    for name, value in secrets.items():
        assert value not in text, f"{name} leaked into {where}"


def database_text(path: Path) -> str:
    """Every row of every table of a SQLite file, as text."""
    with sqlite3.connect(path) as db:
        return "\n".join(db.iterdump())


def metrics_port(log: Path) -> int:
    """The metrics port the server logged at start."""
    for line in log.read_text().splitlines():
        if '"server_started"' in line:
            return int(json.loads(line)["http_port"])
    raise AssertionError("no server_started line")


async def test_no_credential_in_answers_rows_logs_metrics_or_spans(
    sandbox: Sandbox, spans: Spans, tmp_path: Path
) -> None:
    """issue 12 item 9: after every fault mode no key is in answers, rows, logs, metrics or
    exported spans."""
    secrets = secrets_of(sandbox)
    settings = sandbox.settings() | {
        "ENRICHMENT_LOG_LEVEL": "DEBUG",
        "ENRICHMENT_TRACE_SAMPLE_RATIO": "1.0",
        "OTEL_EXPORTER_OTLP_ENDPOINT": spans.url,
        "ENRICHMENT_HTTP_TIMEOUT_S": "0.5",
        "ENRICHMENT_DEFAULT_DEADLINE_S": "4",
        "ENRICHMENT_MUSICBRAINZ_RATE_PER_S": "100",
        # Unthrottled: at GetSongBPM's 0.8/s default each mode waited ~1.25 s for a slot.
        "ENRICHMENT_GETSONGBPM_RATE_PER_S": "0",
        "ENRICHMENT_LASTFM_RATE_PER_S": "0",
        "ENRICHMENT_HTTP_MAX_ATTEMPTS": "1",
        # Every mode must reach the upstreams: no breaker may open on the modes before it.
        "ENRICHMENT_BREAKER_MIN_CALLS": "100000",
        "ENRICHMENT_BREAKER_CONSECUTIVE_FAILURES": "100000",
    }
    log = tmp_path / "server.log"
    answers: dict[str, pb.EnrichResponse] = {}
    async with (
        server_process(settings, log) as target,
        await EnrichmentClient.connect(target, timeout_s=10) as client,
    ):
        for mode, rule in FAULT_MODES.items():
            for name in KEYED_UPSTREAMS:
                sandbox.upstreams()[name].controls.faults.add(rule)
            answers[mode] = await client.enrich(
                "deadmau5", "Strobe", track_id=f"leak-{mode}", force_refresh=True
            )
            for name in KEYED_UPSTREAMS:
                sandbox.upstreams()[name].controls.faults.clear()
            assert_clean(f"the answer under {mode}", str(answers[mode]), secrets)
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{metrics_port(log)}/metrics") as resp,
        ):
            metrics = await resp.text()
    # Each mode really failed the keyed sources, so its error texts were exercised.
    garbled = {e.source: e.message for e in answers["garbled"].errors}
    assert {pb.SOURCE_SPOTIFY, pb.SOURCE_LASTFM, pb.SOURCE_GETSONGBPM} <= set(garbled)
    for mode, answer in answers.items():
        messages = " ".join(e.message for e in answer.errors)
        assert len(answer.errors) >= 3, mode
        assert mode == "quota" or "circuit open" not in messages, mode
    assert "enrichment_tasks_total" in metrics
    assert spans.bodies, "the server exported no span"
    assert_clean("the metrics", metrics, secrets)
    assert_clean("the logs", log.read_text(), secrets)
    assert_clean("the database", database_text(log.with_suffix(".db")), secrets)
    exported = b"".join(spans.bodies)
    for name, value in secrets.items():
        assert value.encode() not in exported, f"{name} leaked into the exported spans"
