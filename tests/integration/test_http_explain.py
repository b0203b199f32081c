"""ExplainMatch: every source's candidates with their scores against the threshold, from the
cache when it has the answers; refused without the token, for bad input or an unknown track."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_status import rpc_status

from enrichment_client import EnrichmentClient
from enrichment_client.pb.enrichment.v1 import admin_pb2, admin_pb2_grpc
from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import App, running
from tests.integration.conftest import sandbox_settings
from tests.integration.test_ops import grpcurl

TOKEN = secrets.token_hex(16)
AUTH = (("authorization", f"Bearer {TOKEN}"),)


@pytest.fixture
async def app(sandbox: Sandbox) -> AsyncIterator[App]:
    """A server with an admin token and deadmau5 - Strobe enriched as track "strobe"."""
    async with running(sandbox_settings(sandbox, admin_token=TOKEN)) as started:
        async with await EnrichmentClient.connect(f"127.0.0.1:{started.port}") as client:
            await client.enrich("deadmau5", "Strobe", track_id="strobe")
        yield started


async def explain(
    app: App, request: admin_pb2.ExplainMatchRequest, metadata: tuple[tuple[str, str], ...] = AUTH
) -> admin_pb2.ExplainMatchResponse:
    """ExplainMatch over gRPC."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = admin_pb2_grpc.EnrichmentAdminServiceStub(channel)
        answer: admin_pb2.ExplainMatchResponse = await stub.ExplainMatch(request, metadata=metadata)
        return answer


def by_source(answer: admin_pb2.ExplainMatchResponse) -> dict[int, admin_pb2.SourceExplanation]:
    """The explanations keyed by source."""
    return {s.source: s for s in answer.sources}


async def test_a_stored_track_is_explained_from_the_cache(app: App, sandbox: Sandbox) -> None:
    """The taken Spotify candidate scores at or above the threshold; no new upstream call."""
    calls = sum(sandbox.spotify.controls.calls.values())
    answer = await explain(app, admin_pb2.ExplainMatchRequest(track_id="strobe"))
    assert (answer.artist_name, answer.track_title) == ("deadmau5", "Strobe")
    assert answer.threshold == pytest.approx(0.82)
    spotify = by_source(answer)[pb.SOURCE_SPOTIFY]
    assert spotify.from_cache
    assert sum(sandbox.spotify.controls.calls.values()) == calls
    taken = [c for c in spotify.candidates if c.taken]
    assert len(taken) == 1
    assert taken[0] == spotify.candidates[0]
    assert taken[0].score >= answer.threshold
    assert (taken[0].artist, taken[0].title) == ("deadmau5", "Strobe")
    assert taken[0].id == "41Xji81wFy3cM7ggbGczQW"
    assert spotify.verdict.startswith("taken: deadmau5 - Strobe")
    assert {s.source for s in answer.sources} == {
        pb.SOURCE_SPOTIFY,
        pb.SOURCE_MUSICBRAINZ,
        pb.SOURCE_LASTFM,
        pb.SOURCE_DEEZER,
        pb.SOURCE_GETSONGBPM,
    }


async def test_a_wrong_artist_is_explained_as_no_match(app: App) -> None:
    """Same title, wrong artist: candidates come back, none reaches the threshold."""
    request = admin_pb2.ExplainMatchRequest(artist_name="Unknown Artist", track_title="Strobe")
    answer = await explain(app, request)
    spotify = by_source(answer)[pb.SOURCE_SPOTIFY]
    assert spotify.candidates
    assert not any(c.taken for c in spotify.candidates)
    assert spotify.candidates[0].score < answer.threshold
    assert spotify.candidates[0].title_score == pytest.approx(1.0)
    assert spotify.candidates[0].artist_score < 0.5
    assert spotify.verdict.startswith("none taken")


async def test_explain_match_refuses_what_it_cannot_explain(app: App) -> None:
    """No token: UNAUTHENTICATED; blank artist: INVALID_ARGUMENT naming it; unknown: NOT_FOUND."""
    with pytest.raises(grpc.aio.AioRpcError) as no_token:
        await explain(app, admin_pb2.ExplainMatchRequest(track_id="strobe"), metadata=())
    assert no_token.value.code() == grpc.StatusCode.UNAUTHENTICATED
    blank = admin_pb2.ExplainMatchRequest(artist_name=" ", track_title="Strobe")
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await explain(app, blank)
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(invalid.value)
    assert status is not None
    assert "artist_name" in invalid.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await explain(app, admin_pb2.ExplainMatchRequest(track_id="nope"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_grpcurl_users_have_explain_match(app: App) -> None:
    """Through reflection alone, grpcurl with the token explains a stored track as JSON."""
    result = await grpcurl(
        "-plaintext",
        "-H",
        f"authorization: Bearer {TOKEN}",
        "-d",
        '{"track_id": "strobe"}',
        f"127.0.0.1:{app.port}",
        "enrichment.v1.EnrichmentAdminService/ExplainMatch",
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    spotify = next(s for s in answer["sources"] if s["source"] == "SOURCE_SPOTIFY")
    taken = [c for c in spotify["candidates"] if c.get("taken")]
    assert [c["id"] for c in taken] == ["41Xji81wFy3cM7ggbGczQW"]
    assert taken[0]["score"] >= answer["threshold"]
