"""OpenTelemetry: the span tree of one cold Enrich, continuing the caller's trace."""

from __future__ import annotations

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from structlog.testing import capture_logs

from enrichment_client import EnrichmentClient
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from tests.integration.conftest import sandbox_settings


def render(spans: list[ReadableSpan]) -> str:
    """The span tree, indented, one span per line (printed for the acceptance report)."""
    children: dict[int | None, list[ReadableSpan]] = {}
    ids = {s.context.span_id for s in spans if s.context is not None}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        parent = span.parent.span_id if span.parent and span.parent.span_id in ids else None
        children.setdefault(parent, []).append(span)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for span in children.get(parent, []):
            attrs = {k: v for k, v in (span.attributes or {}).items() if k.startswith("enrich")}
            lines.append(f"{'  ' * depth}{span.name} {attrs}")
            assert span.context is not None
            walk(span.context.span_id, depth + 1)

    walk(None, 0)
    return "\n".join(lines)


async def test_cold_enrich_span_tree_continues_the_callers_trace(sandbox: Sandbox) -> None:
    """One cold Enrich: a server span under the caller's span, a span per upstream lookup,
    each with its attempt and the attempt's HTTP CLIENT span, and the trace id in the log."""
    exporter = InMemorySpanExporter()
    caller = TracerProvider().get_tracer("scraper")
    settings = sandbox_settings(sandbox, trace_sample_ratio=0.0)  # kept: the caller sampled
    async with (
        running(settings, span_exporters=[exporter]) as app,
        await EnrichmentClient.connect(f"127.0.0.1:{app.port}") as client,
    ):
        with caller.start_as_current_span("scrape item") as root, capture_logs() as logs:
            await client.enrich("deadmau5", "Strobe")
    spans = exporter.get_finished_spans()
    print(render(list(spans)))
    trace_id = root.get_span_context().trace_id
    server = [s for s in spans if s.kind is SpanKind.SERVER]
    assert [s.name for s in server] == ["enrichment.v1.EnrichmentService/Enrich"]
    assert server[0].context is not None
    assert server[0].context.trace_id == trace_id
    assert server[0].parent is not None
    assert server[0].parent.span_id == root.get_span_context().span_id
    lookups = [s for s in spans if s.attributes and "enrichment.cache_hit" in s.attributes]
    assert {s.name for s in lookups} >= {
        "spotify search",
        "musicbrainz isrc",
        "lastfm info",
        "lastfm tags",
    }
    for lookup in lookups:
        assert lookup.parent is not None
        assert lookup.parent.span_id == server[0].context.span_id
        assert lookup.attributes is not None
        assert lookup.attributes["enrichment.cache_hit"] is False
    attempts = [s for s in spans if s.name.endswith(" attempt")]
    assert len(attempts) == len(lookups)
    assert all(a.attributes and a.attributes["enrichment.outcome"] == "ok" for a in attempts)
    # Each attempt's HTTP request(s) are CLIENT spans below it (Spotify adds its token call).
    attempt_ids = {a.context.span_id for a in attempts if a.context is not None}
    http = [s for s in spans if s.kind is SpanKind.CLIENT]
    assert len(http) >= len(attempts)
    assert all(s.parent is not None and s.parent.span_id in attempt_ids for s in http)
    lines = [entry for entry in logs if entry["event"] == "enrich"]
    assert lines[0]["trace_id"] == format(trace_id, "032x")


async def test_unsampled_calls_export_nothing(sandbox: Sandbox) -> None:
    """With ratio 0 and no sampled caller, no span is exported."""
    exporter = InMemorySpanExporter()
    settings = sandbox_settings(sandbox, trace_sample_ratio=0.0)
    async with (
        running(settings, span_exporters=[exporter]) as app,
        await EnrichmentClient.connect(f"127.0.0.1:{app.port}") as client,
    ):
        await client.enrich("deadmau5", "Strobe")
    assert exporter.get_finished_spans() == ()
