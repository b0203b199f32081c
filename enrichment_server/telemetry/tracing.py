"""OpenTelemetry traces: a span per RPC (continuing the caller's trace) and per upstream
lookup and HTTP attempt.

Spans cost about a fifth of a cached RPC's time on this machine (reference: verified.md),
so the provider samples with a parent-based ratio (``ENRICHMENT_TRACE_SAMPLE_RATIO``):
a caller's sampled trace is always continued, new traces are sampled at the ratio. Spans
are exported over OTLP/HTTP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; otherwise
nothing leaves the process.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import Token
from dataclasses import dataclass

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, Status, StatusCode

from enrichment_server.telemetry.interceptor import RpcInfo

SERVICE_NAME = "metadata-enrichment"
#: gRPC codes that make a server span an error (OpenTelemetry semantic conventions).
_SERVER_ERRORS = frozenset(
    {"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"}
)


def build_tracer_provider(
    sample_ratio: float, otlp_endpoint: str = "", exporters: Sequence[SpanExporter] = ()
) -> TracerProvider:
    """A provider sampling at ``sample_ratio``; OTLP export only when an endpoint is set."""
    provider = TracerProvider(
        sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
        resource=Resource.create({"service.name": SERVICE_NAME}),
    )
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


@dataclass(frozen=True, slots=True)
class _Opened:
    span: trace.Span
    token: Token[Context]


class TracingObserver:
    """Starts the RPC's server span from the caller's ``traceparent`` and makes it current."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start(self, info: RpcInfo) -> object:
        """Open the span and attach it to the handler's context."""
        parent = propagate.extract(info.metadata)
        span = self._tracer.start_span(
            f"{info.service}/{info.method}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={
                "rpc.system": "grpc",
                "rpc.service": info.service,
                "rpc.method": info.method,
            },
        )
        return _Opened(span, otel_context.attach(trace.set_span_in_context(span, parent)))

    def finish(self, info: RpcInfo, token: object, code: str) -> None:
        """Record the status code, end the span, restore the context."""
        assert isinstance(token, _Opened)
        span, attached = token.span, token.token
        span.set_attribute("rpc.grpc.status_code", code)
        if code in _SERVER_ERRORS:
            span.set_status(Status(StatusCode.ERROR, code))
        span.end()
        otel_context.detach(attached)


def current_trace_id() -> str | None:
    """The current trace id as 32 hex digits (for log lines), or None outside a trace."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None
