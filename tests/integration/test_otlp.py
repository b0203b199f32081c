"""Traces as a tracing backend receives them: a local OTLP/HTTP receiver gets the spans of
one Enrich, with the OTEL_* resource and headers and the semantic-convention attributes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from enrichment_client import EnrichmentClient
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from tests.integration.conftest import sandbox_settings

BIN = Path(sys.executable).parent


@dataclass
class Receiver:
    """What the OTLP receiver got: the export requests and their HTTP headers."""

    url: str
    requests: list[ExportTraceServiceRequest] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def spans(self) -> list[Span]:
        """Every span received."""
        return [
            span
            for request in self.requests
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]

    def resource(self) -> dict[str, str]:
        """The resource attributes of the first export."""
        attrs = self.requests[0].resource_spans[0].resource.attributes
        return {a.key: a.value.string_value for a in attrs}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An OTLP/HTTP trace receiver on a free loopback port, in its own thread (as a collector
    is its own process: the server flushes spans synchronously at shutdown)."""
    got = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.headers.append({k.lower(): v for k, v in self.headers.items()})
            got.requests.append(ExportTraceServiceRequest.FromString(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    got.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield got
    server.shutdown()
    server.server_close()


def attributes(span: Span) -> dict[str, object]:
    """A span's attributes as plain values."""
    out: dict[str, object] = {}
    for a in span.attributes:
        kind = a.value.WhichOneof("value")
        out[a.key] = getattr(a.value, kind) if kind else None
    return out


async def test_otlp_receiver_gets_semantic_convention_client_spans(
    sandbox: Sandbox, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLIENT spans per HTTP attempt carry http.request.method, server.address, url.template
    (no query, no key) and http.response.status_code; the RPC span an integer
    rpc.grpc.status_code; OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES and
    OTEL_EXPORTER_OTLP_HEADERS are honoured; reflection adds no span."""
    monkeypatch.setenv("OTEL_SERVICE_NAME", "enrichment-under-test")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=ci")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=ops")
    sandbox.spotify.controls.faults.add(
        FaultRule(endpoint="search", kind="status", status=503, times=1)
    )
    settings = sandbox_settings(sandbox, trace_sample_ratio=1.0, otlp_endpoint=receiver.url)
    async with running(settings) as app:
        target = f"127.0.0.1:{app.port}"
        async with await EnrichmentClient.connect(target) as client:
            await client.enrich("deadmau5", "Strobe")
        listed = await asyncio.to_thread(
            subprocess.run,
            [str(BIN / "grpcurl"), "-plaintext", target, "list"],
            capture_output=True,
            timeout=30,
        )
        assert listed.returncode == 0
    # running() stops the app, which flushes the batch processor to the receiver.
    spans = receiver.spans()
    assert receiver.resource()["service.name"] == "enrichment-under-test"
    assert receiver.resource()["deployment.environment"] == "ci"
    assert all(h.get("x-tenant") == "ops" for h in receiver.headers)
    server = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    assert [s.name for s in server] == ["enrichment.v1.EnrichmentService/Enrich"]
    assert attributes(server[0])["rpc.grpc.status_code"] == 0
    client_spans = [attributes(s) for s in spans if s.kind == Span.SPAN_KIND_CLIENT]
    for attrs in client_spans:
        print(attrs)
        assert attrs["http.request.method"] in ("GET", "POST")
        assert attrs["server.address"] == "127.0.0.1"
        assert isinstance(attrs["http.response.status_code"], int)
        assert "?" not in str(attrs["url.template"])
        assert "?" not in str(attrs["url.full"])
    templates = {a["url.template"] for a in client_spans}
    assert {"/v1/search", "/ws/2/isrc/{id}", "/2.0/"} <= templates
    failed = [a for a in client_spans if a["http.response.status_code"] == 503]
    assert len(failed) == 1
    assert failed[0]["error.type"] == "503"
    exported = str([attributes(s) for s in spans])
    assert sandbox.lastfm_api_key not in exported
    assert "api_key" not in exported
