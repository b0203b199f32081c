"""A grpc.aio server interceptor emitting go-grpc-prometheus metrics.

py-grpc-prometheus is sync-only and OpenTelemetry's grpc instrumentation has no
metrics (resilience-grpc.md 3.6), so this small interceptor keeps existing dashboards
working: ``grpc_server_started_total``, ``grpc_server_handled_total{grpc_code}`` and
``grpc_server_handling_seconds``, labelled by type, service and method.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias

import grpc

from enrichment_server.telemetry.metrics import Metrics

#: grpc ships no type stubs; handlers are ``grpc.RpcMethodHandler`` at run time.
Handler: TypeAlias = Any


def _names(method: str) -> tuple[str, str]:
    service, _, name = method.lstrip("/").rpartition("/")
    return service, name


def _code(context: Any, error: BaseException | None) -> str:
    code = context.code()
    if code is None:
        return "OK" if error is None else "UNKNOWN"
    name = getattr(code, "name", None)
    return str(name) if name else str(code)


class MetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Counts and times every RPC the server handles."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def intercept_service(
        self, continuation: Callable[[Any], Awaitable[Handler]], details: Any
    ) -> Handler:
        """Wrap the method's handler (unary or streaming) with the metrics."""
        handler = await continuation(details)
        if handler is None:
            return handler
        service, method = _names(details.method)
        if handler.unary_unary or handler.stream_unary:
            kind = "unary" if handler.unary_unary else "client_stream"
            inner = handler.unary_unary or handler.stream_unary
            wrapped = self._wrap_unary(inner, (kind, service, method))
            factory = (
                grpc.unary_unary_rpc_method_handler
                if handler.unary_unary
                else grpc.stream_unary_rpc_method_handler
            )
        else:
            kind = "server_stream" if handler.unary_stream else "bidi_stream"
            inner = handler.unary_stream or handler.stream_stream
            wrapped = self._wrap_stream(inner, (kind, service, method))
            factory = (
                grpc.unary_stream_rpc_method_handler
                if handler.unary_stream
                else grpc.stream_stream_rpc_method_handler
            )
        return factory(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _wrap_unary(self, inner: Any, labels: tuple[str, str, str]) -> Any:
        async def call(request: Any, context: Any) -> Any:
            started = self._start(labels)
            error: BaseException | None = None
            try:
                return await inner(request, context)
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._finish(labels, started, _code(context, error))

        return call

    def _wrap_stream(self, inner: Any, labels: tuple[str, str, str]) -> Any:
        async def call(request: Any, context: Any) -> AsyncIterator[Any]:
            started = self._start(labels)
            error: BaseException | None = None
            try:
                async for item in inner(request, context):
                    yield item
            except BaseException as exc:
                error = exc
                raise
            finally:
                self._finish(labels, started, _code(context, error))

        return call

    def _start(self, labels: tuple[str, str, str]) -> float:
        self._metrics.grpc_started.labels(*labels).inc()
        return time.perf_counter()

    def _finish(self, labels: tuple[str, str, str], started: float, code: str) -> None:
        self._metrics.grpc_handled.labels(*labels, code).inc()
        self._metrics.grpc_seconds.labels(*labels).observe(time.perf_counter() - started)
