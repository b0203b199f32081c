"""One grpc.aio server interceptor that reports every RPC to observers (metrics, traces).

py-grpc-prometheus is sync-only and OpenTelemetry's grpc instrumentation has no metrics
(resilience-grpc.md 3.6), so this small interceptor wraps each handler (unary and
streaming) once and tells each ``RpcObserver`` when the RPC starts and how it ended.
``MetricsObserver`` keeps go-grpc-prometheus names, so existing dashboards work:
``grpc_server_started_total``, ``grpc_server_handled_total{grpc_code}`` and
``grpc_server_handling_seconds``, labelled by type, service and method.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

import grpc

from enrichment_server.telemetry.metrics import Metrics

#: grpc ships no type stubs; handlers are ``grpc.RpcMethodHandler`` at run time.
Handler: TypeAlias = Any


@dataclass(frozen=True, slots=True)
class RpcInfo:
    """What an observer learns about an RPC when it starts."""

    kind: str
    service: str
    method: str
    metadata: dict[str, str]


class RpcObserver(Protocol):
    """Told about every RPC; ``start`` returns whatever ``finish`` needs back."""

    def start(self, info: RpcInfo) -> object:
        """The RPC begins (runs in the handler's task and context)."""
        ...

    def finish(self, info: RpcInfo, token: object, code: str) -> None:
        """The RPC ended with the gRPC status ``code`` name."""
        ...


class MetricsObserver:
    """go-grpc-prometheus counters and histogram."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def start(self, info: RpcInfo) -> object:
        """Count the start; remember the time."""
        self._metrics.grpc_started.labels(info.kind, info.service, info.method).inc()
        return time.perf_counter()

    def finish(self, info: RpcInfo, token: object, code: str) -> None:
        """Count the outcome; observe the handling time."""
        labels = (info.kind, info.service, info.method)
        self._metrics.grpc_handled.labels(*labels, code).inc()
        assert isinstance(token, float)
        self._metrics.grpc_seconds.labels(*labels).observe(time.perf_counter() - token)


def _code(context: Any, error: BaseException | None) -> str:
    code = context.code()
    if code is None:
        return "OK" if error is None else "UNKNOWN"
    name = getattr(code, "name", None)
    return str(name) if name else str(code)


def _info(kind: str, details: Any) -> RpcInfo:
    service, _, method = details.method.lstrip("/").rpartition("/")
    metadata = {str(k): str(v) for k, v in (details.invocation_metadata or ())}
    return RpcInfo(kind, service, method, metadata)


class ObservingInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps every handler so each observer sees its start and end."""

    def __init__(self, observers: Sequence[RpcObserver]) -> None:
        self._observers = tuple(observers)

    async def intercept_service(
        self, continuation: Callable[[Any], Awaitable[Handler]], details: Any
    ) -> Handler:
        """Wrap the method's handler (unary or streaming)."""
        handler = await continuation(details)
        if handler is None:
            return handler
        for attr, kind, factory, streaming in _KINDS:
            inner = getattr(handler, attr)
            if inner is not None:
                info = _info(kind, details)
                wrap = self._wrap_stream if streaming else self._wrap_unary
                return factory(
                    wrap(inner, info),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
        return handler

    def _wrap_unary(self, inner: Any, info: RpcInfo) -> Any:
        async def call(request: Any, context: Any) -> Any:
            tokens = [o.start(info) for o in self._observers]
            error: BaseException | None = None
            try:
                return await inner(request, context)
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._finish(info, tokens, _code(context, error))

        return call

    def _wrap_stream(self, inner: Any, info: RpcInfo) -> Any:
        """Response-streaming handlers come in two shapes: async generators (ours) and
        coroutines that ``await context.write(...)`` (grpcio's ``Health/Watch``). The
        wrapper keeps the shape, since grpc.aio picks its calling convention from it."""
        if not inspect.isasyncgenfunction(inner):
            return self._wrap_unary(inner, info)

        async def call(request: Any, context: Any) -> AsyncIterator[Any]:
            tokens = [o.start(info) for o in self._observers]
            error: BaseException | None = None
            try:
                async for item in inner(request, context):
                    yield item
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._finish(info, tokens, _code(context, error))

        return call

    def _finish(self, info: RpcInfo, tokens: list[object], code: str) -> None:
        # Observers finish in reverse start order (a tracing context is detached last-in).
        for observer, token in reversed(list(zip(self._observers, tokens, strict=True))):
            observer.finish(info, token, code)


_KINDS = (
    ("unary_unary", "unary", grpc.unary_unary_rpc_method_handler, False),
    ("stream_unary", "client_stream", grpc.stream_unary_rpc_method_handler, False),
    ("unary_stream", "server_stream", grpc.unary_stream_rpc_method_handler, True),
    ("stream_stream", "bidi_stream", grpc.stream_stream_rpc_method_handler, True),
)
