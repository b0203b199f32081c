"""Undecodable request bytes are the caller's error: INVALID_ARGUMENT, never UNKNOWN."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status

from enrichment_client import make_request, pb
from enrichment_client.pb.enrichment.v1 import admin_pb2 as admin_pb
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from tests.integration.conftest import Stack, sandbox_settings

ENRICH = "/enrichment.v1.EnrichmentService/Enrich"
BATCH = "/enrichment.v1.EnrichmentService/EnrichBatch"
ADMIN = "/enrichment.v1.EnrichmentAdminService/"
#: Field 2 (artist_name), length 1, the byte 0xff: not UTF-8.
BAD_ARTIST = b"\x12\x01\xff"
ADMIN_METHODS = [
    "ResetBreaker",
    "GetStats",
    "ListDeadLetters",
    "ReplayDeadLetters",
    "PurgeDeadLetters",
    "SetCredential",
    "ListCredentials",
]


def _same(data: bytes) -> bytes:
    return data


def bad_request_fields(error: grpc.aio.AioRpcError) -> list[str]:
    """The BadRequest field names an INVALID_ARGUMENT carries."""
    status = rpc_status.from_call(error)
    assert status is not None
    detail = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(detail)
    return [v.field for v in detail.field_violations]


@pytest.fixture
async def channel(stack: Stack) -> AsyncIterator[grpc.aio.Channel]:
    """A raw channel to the stack's server (bytes in, bytes out)."""
    async with grpc.aio.insecure_channel(stack.target) as raw:
        yield raw


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (BAD_ARTIST, "artist_name"),
        (b"\x0a\x02\xc3\x28" + b"\x12\x01a\x1a\x01b", "track_id"),
        (b"\x22\x03\xed\xa0\x80\x12\x01a\x1a\x01b", "existing_spotify_id"),
        (b"\x12\x05abc", "EnrichRequest"),  # truncated
        (b"\x0f\xff\xff", "EnrichRequest"),  # wire type 7 does not exist
    ],
)
async def test_enrich_with_undecodable_bytes_is_invalid_argument(
    channel: grpc.aio.Channel, payload: bytes, field: str
) -> None:
    """issue 12 item 4: undecodable Enrich bytes are INVALID_ARGUMENT naming the field."""
    call = channel.unary_unary(ENRICH, request_serializer=_same, response_deserializer=_same)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call(payload, timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_request_fields(info.value) == [field]


async def test_batch_with_an_undecodable_item_answers_every_item(
    channel: grpc.aio.Channel,
) -> None:
    """issue 12 item 4: 10 valid items then one undecodable: 11 answers, the bad one an error."""
    good = [
        pb.EnrichBatchRequest(
            request=make_request("deadmau5", "Strobe", track_id=f"t-{i}")
        ).SerializeToString()
        for i in range(10)
    ]
    bad = b"\x0a" + bytes([len(BAD_ARTIST)]) + BAD_ARTIST  # field 1 (request) wrapping it

    async def messages() -> AsyncIterator[bytes]:
        for message in [*good, bad]:
            yield message

    call = channel.stream_stream(
        BATCH, request_serializer=_same, response_deserializer=pb.EnrichBatchResponse.FromString
    )
    answers = [answer async for answer in call(messages(), timeout=30)]
    by_index = {answer.index: answer for answer in answers}
    assert sorted(by_index) == list(range(11))
    assert all(by_index[i].HasField("response") for i in range(10))
    error = by_index[10].error
    assert error.code == code_pb2.INVALID_ARGUMENT
    assert [(v.field, v.description) for v in error.field_violations] == [
        ("artist_name", "must be valid UTF-8")
    ]


async def test_admin_rpcs_with_undecodable_bytes_are_invalid_argument(sandbox: Sandbox) -> None:
    """issue 12 item 4: every admin RPC answers undecodable bytes with INVALID_ARGUMENT."""
    token = secrets.token_hex(16)
    async with (
        running(sandbox_settings(sandbox, admin_token=token)) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as raw,
    ):
        for method in ADMIN_METHODS:
            call = raw.unary_unary(
                ADMIN + method, request_serializer=_same, response_deserializer=_same
            )
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await call(
                    b"\x0f\xff", metadata=(("authorization", f"Bearer {token}"),), timeout=10
                )
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, method
        call = raw.unary_unary(
            ADMIN + "SetCredential", request_serializer=_same, response_deserializer=_same
        )
        with pytest.raises(grpc.aio.AioRpcError) as info:
            # field 2 of SetCredentialRequest is the credential's name
            await call(BAD_ARTIST, metadata=(("authorization", f"Bearer {token}"),))
    assert admin_pb.SetCredentialRequest.DESCRIPTOR.fields_by_number[2].name == "name"
    assert bad_request_fields(info.value) == ["name"]
