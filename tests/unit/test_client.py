"""enrichment_client against a scripted grpc.aio server on port 0: what it sends, and how
each gRPC failure becomes the client's own error (callers never import grpc)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from enrichment_client import (
    DeadlineExceeded,
    EnrichmentClient,
    EnrichmentClientError,
    InvalidArgument,
    ServiceUnavailable,
    make_request,
    pb,
)
from enrichment_client.client import normalise_target
from enrichment_client.pb.enrichment.v1 import enrichment_pb2_grpc as pb_grpc


@dataclass
class ScriptedService(pb_grpc.EnrichmentServiceServicer):
    """Answers Enrich by echoing the title, or fails as ``fail_with`` says; records calls."""

    fail_with: grpc.StatusCode | None = None
    hang: bool = False
    received: list[pb.EnrichRequest] = field(default_factory=list)
    deadlines: list[float | None] = field(default_factory=list)

    async def Enrich(  # noqa: N802 - the generated base class's name
        self, request: pb.EnrichRequest, context: grpc.aio.ServicerContext[object, object]
    ) -> pb.EnrichResponse:
        """Echo, fail or hang."""
        self.received.append(request)
        self.deadlines.append(context.time_remaining())
        if self.hang:
            await asyncio.Event().wait()
        if self.fail_with is grpc.StatusCode.INVALID_ARGUMENT:
            await context.abort_with_status(rpc_status.to_status(_bad_artist()))
        if self.fail_with is not None:
            await context.abort(self.fail_with, "scripted failure")
        answer = pb.EnrichResponse(track_id=request.track_id)
        answer.metadata.title = request.track_title
        return answer

    async def EnrichBatch(  # noqa: N802 - the generated base class's name
        self,
        request_iterator: AsyncIterator[pb.EnrichBatchRequest],
        context: grpc.aio.ServicerContext[object, object],
    ) -> AsyncIterator[pb.EnrichBatchResponse]:
        """Answer each item in reverse order of arrival, tagged by index."""
        items = [message.request async for message in request_iterator]
        for index in reversed(range(len(items))):
            response = pb.EnrichResponse(track_id=items[index].track_id)
            yield pb.EnrichBatchResponse(
                index=index, track_id=items[index].track_id, response=response
            )


def _bad_artist() -> status_pb2.Status:
    """INVALID_ARGUMENT with a BadRequest naming artist_name."""
    bad = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(
                field="artist_name", description="must not be empty"
            )
        ]
    )
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message="bad request")
    status.details.add().Pack(bad)
    return status


@pytest.fixture
async def served() -> AsyncIterator[tuple[ScriptedService, str]]:
    """The scripted service on 127.0.0.1:0, and its target."""
    service = ScriptedService()
    server = grpc.aio.server()
    pb_grpc.add_EnrichmentServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield service, f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


async def test_enrich_sends_the_fields_and_returns_the_answer(
    served: tuple[ScriptedService, str],
) -> None:
    """Identifiers travel in their fields; unset ones stay unset; the answer comes back."""
    service, target = served
    async with await EnrichmentClient.connect(target) as client:
        answer = await client.enrich("deadmau5", "Strobe", track_id="t1", isrc="GBUM71029604")
    [sent] = service.received
    assert (sent.artist_name, sent.track_title, sent.existing_isrc) == (
        "deadmau5",
        "Strobe",
        "GBUM71029604",
    )
    assert not sent.HasField("existing_spotify_id")
    assert (answer.track_id, answer.metadata.title) == ("t1", "Strobe")


async def test_every_call_carries_a_deadline(served: tuple[ScriptedService, str]) -> None:
    """The connection's default applies when a call names none; a call's own wins."""
    service, target = served
    async with await EnrichmentClient.connect(target, timeout_s=40) as client:
        await client.enrich("a", "b")
        await client.enrich("a", "b", timeout_s=5)
    default, own = service.deadlines
    # grpc's time_remaining() reads up to ~0.1 s high: bounds, not exact values.
    assert default is not None
    assert 30 < default < 41
    assert own is not None
    assert own < 6


async def test_invalid_argument_carries_the_field_violations(
    served: tuple[ScriptedService, str],
) -> None:
    """INVALID_ARGUMENT + BadRequest: InvalidArgument listing each bad field."""
    service, target = served
    service.fail_with = grpc.StatusCode.INVALID_ARGUMENT
    async with await EnrichmentClient.connect(target) as client:
        with pytest.raises(InvalidArgument) as caught:
            await client.enrich("", "Strobe")
    [violation] = caught.value.violations
    assert (violation.field, violation.description) == ("artist_name", "must not be empty")


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (grpc.StatusCode.UNAVAILABLE, ServiceUnavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, DeadlineExceeded),
        (grpc.StatusCode.INTERNAL, EnrichmentClientError),
    ],
)
async def test_status_codes_become_client_errors(
    served: tuple[ScriptedService, str], code: grpc.StatusCode, error: type[Exception]
) -> None:
    """Each failure is the client's own exception type, carrying the code's name."""
    service, target = served
    service.fail_with = code
    async with await EnrichmentClient.connect(target) as client:
        with pytest.raises(error) as caught:
            await client.enrich("a", "b")
    assert type(caught.value) is error
    assert isinstance(caught.value, EnrichmentClientError)
    assert caught.value.code == code.name


async def test_a_missed_deadline_is_deadline_exceeded(served: tuple[ScriptedService, str]) -> None:
    """A server that never answers: DeadlineExceeded once the call's own deadline passes."""
    service, target = served
    service.hang = True
    async with await EnrichmentClient.connect(target) as client:
        with pytest.raises(DeadlineExceeded):
            await client.enrich("a", "b", timeout_s=0.2)


async def test_a_server_that_is_not_there_is_service_unavailable() -> None:
    """Nothing listening: ServiceUnavailable, not a grpc exception."""
    with socket_closed_port() as port:
        async with await EnrichmentClient.connect(f"127.0.0.1:{port}") as client:
            with pytest.raises(ServiceUnavailable):
                await client.enrich("a", "b", timeout_s=5)


async def test_enrich_many_yields_answers_as_they_come_tagged_by_index(
    served: tuple[ScriptedService, str],
) -> None:
    """A stream of three: three answers, matched to requests by index, in any order."""
    _, target = served
    requests = [make_request("a", f"t{i}", track_id=f"id{i}") for i in range(3)]
    async with await EnrichmentClient.connect(target) as client:
        answers = [a async for a in client.enrich_many(requests)]
    assert [a.index for a in answers] == [2, 1, 0]
    assert {a.index: a.track_id for a in answers} == {0: "id0", 1: "id1", 2: "id2"}


@pytest.mark.parametrize(
    ("given", "target"),
    [
        ("127.0.0.1:50051", "127.0.0.1:50051"),
        ("http://enrichment:50051/", "enrichment:50051"),
        ("grpc://enrichment:50051", "enrichment:50051"),
        ("dns:///enrichment-headless:50051", "dns:///enrichment-headless:50051"),
    ],
)
def test_targets_in_the_forms_people_write_them(given: str, target: str) -> None:
    """URL forms lose their scheme; gRPC name-resolver targets pass through."""
    assert normalise_target(given) == target


class socket_closed_port:  # noqa: N801 - used as a context manager, reads as a phrase
    """A loopback port that was free a moment ago and has no listener."""

    def __enter__(self) -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        return None
