"""Requests that cannot be decoded are the caller's error, never ours (issue 12 item 4).

grpcio decodes each request message before our code runs; a message whose string field
holds invalid UTF-8 (or any other undecodable bytes) raised there and was answered
``UNKNOWN``, and in a stream it ended the whole stream. ``register`` installs a service's
handlers with a decoder that never raises: an undecodable message becomes an
``Undecodable`` naming the bad fields. A unary RPC answers it ``INVALID_ARGUMENT`` with a
``google.rpc.BadRequest`` before the servicer is called; a streaming RPC receives it as
one item of the stream (``EnrichBatch`` answers it with an ``ItemError`` and goes on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message
from grpc_status import rpc_status

from enrichment_server.api.convert import bad_request_status
from enrichment_server.errors import FieldViolation, InvalidRequest

__all__ = ["Undecodable", "describe_undecodable", "register"]

#: Nesting deeper than this is reported as one violation rather than walked further.
MAX_DEPTH = 32
_WIRE_SIZES = {1: 8, 5: 4}


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A request message that could not be decoded, with the fields found to be bad."""

    violations: tuple[FieldViolation, ...]

    def error(self) -> InvalidRequest:
        """The ``InvalidRequest`` this message is answered with."""
        return InvalidRequest(list(self.violations))


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it; ``ValueError`` when truncated."""
    value = shift = 0
    while pos < len(data) and shift < 64:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise ValueError("truncated varint")


def _walk(descriptor: Descriptor, data: bytes, prefix: str, depth: int) -> list[FieldViolation]:
    """Violations found by walking the wire format against ``descriptor``."""
    found: list[FieldViolation] = []
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        field = descriptor.fields_by_number.get(tag >> 3)
        name = f"{prefix}{field.name if field else f'#{tag >> 3}'}"
        wire = tag & 7
        if wire == 0:
            _, pos = _varint(data, pos)
        elif wire in _WIRE_SIZES:
            pos += _WIRE_SIZES[wire]
        elif wire == 2:
            length, pos = _varint(data, pos)
            chunk, pos = data[pos : pos + length], pos + length
            found += _chunk(field, name, chunk, depth)
        else:
            raise ValueError(f"wire type {wire}")
        if pos > len(data):
            raise ValueError("truncated field")
    return found


def _chunk(
    field: FieldDescriptor | None, name: str, chunk: bytes, depth: int
) -> list[FieldViolation]:
    """Violations inside one length-delimited field."""
    if field is None:
        return []
    if field.type == FieldDescriptor.TYPE_STRING:
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError:
            return [FieldViolation(name, "must be valid UTF-8")]
    elif field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type is not None:
        if depth >= MAX_DEPTH:
            return [FieldViolation(name, "is nested too deeply")]
        return _walk(field.message_type, chunk, f"{name}.", depth + 1)
    return []


def describe_undecodable(descriptor: Descriptor, data: bytes) -> tuple[FieldViolation, ...]:
    """Which fields of ``data`` make it undecodable as ``descriptor`` (at least one entry)."""
    try:
        found = _walk(descriptor, data, "", 0)
    except (ValueError, IndexError):
        found = []
    if found:
        return tuple(found)
    return (FieldViolation(descriptor.name, f"is not a decodable {descriptor.full_name}"),)


def _tolerant(parse: Callable[[bytes], Message]) -> Callable[[bytes], Message | Undecodable]:
    """``parse`` that answers ``Undecodable`` instead of raising."""
    descriptor: Descriptor = getattr(parse, "__self__").DESCRIPTOR  # noqa: B009 (bound classmethod)

    def decode(data: bytes) -> Message | Undecodable:
        try:
            return parse(data)
        except (DecodeError, RecursionError, UnicodeDecodeError):
            return Undecodable(describe_undecodable(descriptor, data))

    return decode


def _refusing(behaviour: Callable[..., Any]) -> Callable[..., Any]:
    """A unary handler that answers an ``Undecodable`` with INVALID_ARGUMENT itself."""

    async def handle(request: object, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        if isinstance(request, Undecodable):
            status = bad_request_status(request.error())
            await context.abort_with_status(rpc_status.to_status(status))
        return await behaviour(request, context)

    return handle


class _Capture:
    """Stands in for the server while a generated ``add_..._to_server`` registers."""

    def __init__(self) -> None:
        self.service = ""
        self.handlers: dict[str, grpc.RpcMethodHandler] = {}

    def add_generic_rpc_handlers(self, handlers: object) -> None:
        """Ignored: the registered handlers below carry the same methods."""

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        """Keep the method handlers to rewrap them."""
        self.service, self.handlers = service, handlers


def register(
    add_to_server: Callable[[Any, Any], None], servicer: object, server: grpc.aio.Server
) -> None:
    """``add_to_server(servicer, server)`` with decoding that never raises."""
    capture = _Capture()
    add_to_server(servicer, capture)
    wrapped: dict[str, grpc.RpcMethodHandler] = {}
    for method, handler in capture.handlers.items():
        changes: dict[str, Any] = {"request_deserializer": _tolerant(handler.request_deserializer)}
        if handler.unary_unary is not None:
            changes["unary_unary"] = _refusing(handler.unary_unary)
        wrapped[method] = handler._replace(**changes)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(capture.service, wrapped),)
    )
    server.add_registered_method_handlers(capture.service, wrapped)
