"""OpenTelemetry traces: a span per RPC (continuing the caller's trace), a span per upstream
lookup and attempt, and a CLIENT span per HTTP request (``telemetry/http_spans.py``).

The standard ``OTEL_*`` environment variables are honoured, as operators expect of any
OpenTelemetry SDK: ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` (the service name
defaults to ``metadata-enrichment``), ``OTEL_TRACES_SAMPLER`` / ``OTEL_TRACES_SAMPLER_ARG``
(when unset: a parent-based ratio of ``ENRICHMENT_TRACE_SAMPLE_RATIO``, since spans cost
about a fifth of a cached RPC's time on this machine, reference: verified.md),
``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` and the OTLP
``*_HEADERS`` / ``*_TIMEOUT`` / ``*_COMPRESSION`` variables (read by the OTLP/HTTP exporter
itself), ``OTEL_TRACES_EXPORTER=none`` and ``OTEL_SDK_DISABLED=true``. Without an endpoint
nothing leaves the process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextvars import Token
from dataclasses import dataclass

import grpc
import structlog
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
    _get_from_env_or_default,
)
from opentelemetry.trace import SpanKind, Status, StatusCode

from enrichment_server.telemetry.interceptor import RpcInfo

log = structlog.get_logger(__name__)
SERVICE_NAME = "metadata-enrichment"
#: gRPC codes that make a server span an error (OpenTelemetry semantic conventions).
_SERVER_ERRORS = frozenset(
    {"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"}
)
#: Services whose calls get no span: reflection (grpcurl's look-ups) and health probes are
#: tooling, not work, and must not add spans to a caller's trace.
UNTRACED_SERVICES = frozenset(
    {
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
        "grpc.health.v1.Health",
    }
)
_STATUS_NUMBERS = {code.name: int(code.value[0]) for code in grpc.StatusCode}


def build_tracer_provider(
    sample_ratio: float,
    otlp_endpoint: str = "",
    exporters: Sequence[SpanExporter] = (),
    environ: Mapping[str, str] | None = None,
) -> TracerProvider:
    """A provider configured from the ``OTEL_*`` variables and our settings (module doc)."""
    env = os.environ if environ is None else environ
    provider = TracerProvider(sampler=_sampler(sample_ratio, env), resource=_resource())
    exporter = _otlp_exporter(otlp_endpoint, env)
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    for extra in exporters:
        provider.add_span_processor(BatchSpanProcessor(extra))
    return provider


def _sampler(sample_ratio: float, env: Mapping[str, str]) -> Sampler:
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return ALWAYS_OFF
    if env.get("OTEL_TRACES_SAMPLER"):
        return _get_from_env_or_default()  # the SDK's own parsing of sampler + argument
    return ParentBased(TraceIdRatioBased(sample_ratio))


def _resource() -> Resource:
    """``OTEL_SERVICE_NAME`` / ``OTEL_RESOURCE_ATTRIBUTES`` first, our name as the default."""
    detected = Resource.create()
    if str(detected.attributes.get("service.name", "")).startswith("unknown_service"):
        return Resource.create({"service.name": SERVICE_NAME})
    return detected


def _otlp_exporter(otlp_endpoint: str, env: Mapping[str, str]) -> SpanExporter | None:
    traces_endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
    if not (otlp_endpoint or traces_endpoint):
        return None
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return None
    protocol = env.get(
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "")
    )
    if protocol and protocol != "http/protobuf":
        log.warning("otlp_protocol_unsupported", protocol=protocol, using="http/protobuf")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # The exporter reads OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, TIMEOUT, COMPRESSION itself; a
    # traces-specific endpoint is used as given, a generic one gets the signal path.
    endpoint = traces_endpoint or otlp_endpoint.rstrip("/") + "/v1/traces"
    return OTLPSpanExporter(endpoint=endpoint)


@dataclass(frozen=True, slots=True)
class _Opened:
    span: trace.Span
    token: Token[Context]


class TracingObserver:
    """Starts the RPC's server span from the caller's ``traceparent`` and makes it current."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start(self, info: RpcInfo) -> object:
        """Open the span and attach it to the handler's context (none for tooling calls)."""
        if info.service in UNTRACED_SERVICES:
            return None
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
        """Record the status code (an integer, per the conventions), end, restore context."""
        if token is None:
            return
        assert isinstance(token, _Opened)
        span, attached = token.span, token.token
        span.set_attribute("rpc.grpc.status_code", _STATUS_NUMBERS.get(code, 2))
        if code in _SERVER_ERRORS:
            span.set_status(Status(StatusCode.ERROR, code))
        span.end()
        otel_context.detach(attached)


def current_trace_id() -> str | None:
    """The current trace id as 32 hex digits (for log lines), or None outside a trace."""
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None
