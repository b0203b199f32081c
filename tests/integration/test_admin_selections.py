"""Admin RPCs: crashed dead letters list fine; bad selections are INVALID_ARGUMENT + BadRequest."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from enrichment_client import pb
from enrichment_client.pb.enrichment.v1 import admin_pb2 as admin_pb
from enrichment_client.pb.enrichment.v1 import admin_pb2_grpc as admin_grpc
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from enrichment_server.domain import EnrichmentRequest
from enrichment_server.store import Backoff
from tests.integration.conftest import sandbox_settings
from tests.integration.fresh_postgres import fresh_postgres

TOKEN = secrets.token_hex(16)
AUTH = (("authorization", f"Bearer {TOKEN}"),)
TOO_BIG = str(2**70)


@dataclass
class Admin:
    """An admin stub on a server whose database holds one crashed dead letter."""

    stub: admin_grpc.EnrichmentAdminServiceStub


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
async def admin(request: pytest.FixtureRequest, sandbox: Sandbox) -> AsyncIterator[Admin]:
    """A server (SQLite or Postgres) with the admin API on and a crashed attempt stored."""
    overrides: dict[str, object] = {"admin_token": TOKEN, "secret_key": ""}
    if request.param == "postgres":
        url = str(request.getfixturevalue("postgres_url"))
        await fresh_postgres(url)
        overrides["database_url"] = url
    async with running(sandbox_settings(sandbox, **overrides)) as app:
        assert app.store is not None
        crashed = EnrichmentRequest(f"crash-{secrets.token_hex(4)}", "Daft Punk", "Aerodynamic")
        await app.store.record_crash(
            crashed, "boom", now=datetime.now(UTC), max_attempts=3, backoff=Backoff()
        )
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            yield Admin(admin_grpc.EnrichmentAdminServiceStub(channel))
    if request.param == "postgres":
        await fresh_postgres(str(overrides["database_url"]))  # leave no rows behind


def violations(error: grpc.aio.AioRpcError) -> list[str]:
    """The BadRequest field names of an INVALID_ARGUMENT."""
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    status = rpc_status.from_call(error)
    assert status is not None
    detail = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(detail)
    return [v.field for v in detail.field_violations]


async def test_a_crashed_dead_letter_is_listed(admin: Admin) -> None:
    """issue 12 item 7: an entry whose error has no source lists (source UNSPECIFIED)."""
    page = await admin.stub.ListDeadLetters(admin_pb.ListDeadLettersRequest(), metadata=AUTH)
    assert [e.track_title for e in page.dead_letters] == ["Aerodynamic"]
    [error] = page.dead_letters[0].errors
    assert (error.source, error.code, error.retriable) == (
        pb.SOURCE_UNSPECIFIED,
        pb.ERROR_CODE_UNSPECIFIED,
        True,
    )


@pytest.mark.parametrize(
    ("request_message", "fields"),
    [
        (admin_pb.ListDeadLettersRequest(page_token=TOO_BIG), ["page_token"]),
        (admin_pb.ListDeadLettersRequest(page_token="١٢"), ["page_token"]),
        (admin_pb.ListDeadLettersRequest(page_token="-1"), ["page_token"]),
        (admin_pb.ListDeadLettersRequest(page_size=-5), ["page_size"]),
        (
            admin_pb.ListDeadLettersRequest(source=99, error_code=77, state=9),  # type: ignore[arg-type]
            ["source", "error_code", "state"],
        ),
    ],
)
async def test_bad_list_selections_are_invalid_argument(
    admin: Admin, request_message: admin_pb.ListDeadLettersRequest, fields: list[str]
) -> None:
    """issue 12 item 7: huge/foreign page tokens, negative sizes, unknown enums: BadRequest."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await admin.stub.ListDeadLetters(request_message, metadata=AUTH)
    assert violations(info.value) == fields


async def test_bad_replay_and_purge_selections_are_invalid_argument(admin: Admin) -> None:
    """issue 12 item 7: ids beyond the column, unknown enums and empty selections: BadRequest."""
    cases = [
        (admin.stub.ReplayDeadLetters, admin_pb.ReplayDeadLettersRequest(ids=[2**40, 0])),
        (admin.stub.ReplayDeadLetters, admin_pb.ReplayDeadLettersRequest(source=42)),  # type: ignore[arg-type]
        (admin.stub.ReplayDeadLetters, admin_pb.ReplayDeadLettersRequest()),
        (admin.stub.PurgeDeadLetters, admin_pb.PurgeDeadLettersRequest(ids=[-3])),
        (admin.stub.PurgeDeadLetters, admin_pb.PurgeDeadLettersRequest(state=5)),  # type: ignore[arg-type]
        (admin.stub.PurgeDeadLetters, admin_pb.PurgeDeadLettersRequest()),
    ]
    expected = [["ids[0]", "ids[1]"], ["source"], ["ids"], ["ids[0]"], ["state"], ["ids"]]
    for (rpc, message), fields in zip(cases, expected, strict=True):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await rpc(message, metadata=AUTH)
        assert violations(info.value) == fields, message
    page = await admin.stub.ListDeadLetters(admin_pb.ListDeadLettersRequest(), metadata=AUTH)
    assert len(page.dead_letters) == 1  # nothing was purged or replayed by the bad calls


async def test_bad_breaker_and_credential_requests_are_invalid_argument(admin: Admin) -> None:
    """issue 12 item 7: an unknown source to reset and malformed credentials: BadRequest."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await admin.stub.ResetBreaker(admin_pb.ResetBreakerRequest(source=99), metadata=AUTH)  # type: ignore[arg-type]
    assert violations(info.value) == ["source"]
    cases = [
        (admin_pb.SetCredentialRequest(), ["source", "name", "value"]),
        (
            admin_pb.SetCredentialRequest(source=pb.SOURCE_SPOTIFY, name="api_key", value="x"),
            ["name"],
        ),
        (
            admin_pb.SetCredentialRequest(source=pb.SOURCE_LASTFM, name="api_key", value="a\x00b"),
            ["value"],
        ),
        (
            admin_pb.SetCredentialRequest(source=pb.SOURCE_LASTFM, name="n" * 5000, value="k"),
            ["name"],
        ),
    ]
    for message, fields in cases:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await admin.stub.SetCredential(message, metadata=AUTH)
        assert violations(info.value) == fields
