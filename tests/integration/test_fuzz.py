"""Fuzzing Enrich and EnrichBatch with arbitrary strings and raw bytes in every field.

Acceptance of issue 12: a real grpc.aio server over the sandbox, with results written to
its database, called through a raw channel; no answer is UNKNOWN or INTERNAL and the
server logs no traceback. Bounded: a fixed number of examples, short deadlines.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enrichment_client import pb
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from tests.integration.conftest import sandbox_settings
from tests.integration.fresh_postgres import fresh_postgres

ENRICH = "/enrichment.v1.EnrichmentService/Enrich"
BATCH = "/enrichment.v1.EnrichmentService/EnrichBatch"
FORBIDDEN = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
#: EnrichRequest's string fields by number (1 track_id ... 6 existing_musicbrainz_id).
STRING_FIELDS = (1, 2, 3, 4, 5, 6)
DEADLINE_S = 3.0
HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
FUZZ_ENRICH = settings(max_examples=150, deadline=None, suppress_health_check=HEALTH)
FUZZ_BATCH = settings(max_examples=50, deadline=None, suppress_health_check=HEALTH)
#: Protobuf strings cannot hold lone surrogates; raw bytes below cover what they would be.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
SHORT_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
#: Names that pass validation often, so the waterfall, the store and the answer run too.
NAME = st.text(st.characters(categories=("L", "N", "Zs", "Pd", "Po", "Mn")), max_size=60)
#: Catalogue names, so some requests match and are written with every field.
KNOWN = st.sampled_from(
    [("deadmau5", "Strobe"), ("Eric Prydz", "Opus"), ("Röyksopp", "Eple"), ("ID", "ID")]
)
codes: collections.Counter[str] = collections.Counter()


def _same(data: bytes) -> bytes:
    return data


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """One length-delimited field on the wire."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


@st.composite
def text_request(draw: st.DrawFn) -> bytes:
    """An EnrichRequest whose every field is an arbitrary string (or unset), serialised:
    wild text, plausible names, or catalogue tracks (so answers are written too)."""
    kind = draw(st.sampled_from(["wild", "names", "known"]))
    if kind == "known":
        artist, title = draw(KNOWN)
    else:
        names = TEXT if kind == "wild" else NAME
        artist, title = draw(names), draw(names)
    message = pb.EnrichRequest(
        track_id=draw(SHORT_TEXT if kind == "wild" else NAME),
        artist_name=artist,
        track_title=title,
        force_refresh=draw(st.booleans()),
    )
    for name in ("existing_spotify_id", "existing_isrc", "existing_musicbrainz_id"):
        value = draw(st.none() | (SHORT_TEXT if kind == "wild" else st.none()))
        if value is not None:
            setattr(message, name, value)
    return message.SerializeToString()


@st.composite
def byte_request(draw: st.DrawFn) -> bytes:
    """An EnrichRequest whose string fields hold arbitrary bytes (invalid UTF-8 included),
    or, sometimes, bytes that are not a message at all."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=200))
    chosen = draw(st.lists(st.sampled_from(STRING_FIELDS), min_size=1, max_size=6))
    return b"".join(field(number, draw(st.binary(max_size=60))) for number in chosen)


ANY_REQUEST = text_request() | byte_request()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.integration)])
async def channel(
    request: pytest.FixtureRequest, sandbox: Sandbox
) -> AsyncIterator[grpc.aio.Channel]:
    """A server (results recorded in SQLite or Postgres, short default deadline) and a raw
    channel to it."""
    overrides: dict[str, object] = {"default_deadline_s": 2.0, "result_cache_max_entries": 0}
    if request.param == "postgres":
        url = str(request.getfixturevalue("postgres_url"))
        await fresh_postgres(url)
        overrides["database_url"] = url
    settings_ = sandbox_settings(sandbox, **overrides)
    async with (
        running(settings_) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as raw,
    ):
        yield raw
    if request.param == "postgres":
        await fresh_postgres(str(overrides["database_url"]))  # leave no rows behind


@pytest.fixture
def no_tracebacks(capfd: pytest.CaptureFixture[str]) -> Iterator[None]:
    """After the test, nothing the server printed holds a traceback or an unhandled error."""
    codes.clear()
    loop = asyncio.get_event_loop()
    unhandled: list[object] = []
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context.get("message")))
    yield
    loop.set_exception_handler(None)
    output = "".join(capfd.readouterr())
    assert "Traceback" not in output
    assert unhandled == []
    print(dict(codes))


def _count(code: grpc.StatusCode) -> None:
    codes[code.name] += 1
    assert code not in FORBIDDEN


@pytest.mark.timeout(300)
@FUZZ_ENRICH
@given(request=ANY_REQUEST)
async def test_enrich_never_answers_unknown_or_internal(
    channel: grpc.aio.Channel, no_tracebacks: None, request: bytes
) -> None:
    """Arbitrary strings and bytes in every field: an answer or INVALID_ARGUMENT (or a
    deadline), never UNKNOWN/INTERNAL, and no traceback on the server."""
    call = channel.unary_unary(
        ENRICH, request_serializer=_same, response_deserializer=pb.EnrichResponse.FromString
    )
    try:
        response = await call(request, timeout=DEADLINE_S)
        _count(grpc.StatusCode.OK)
        codes[pb.EnrichmentStatus.Name(response.status)] += 1
    except grpc.aio.AioRpcError as exc:
        _count(exc.code())


@pytest.mark.timeout(300)
@FUZZ_BATCH
@given(items=st.lists(ANY_REQUEST, min_size=1, max_size=8))
async def test_enrich_batch_answers_every_item(
    channel: grpc.aio.Channel, no_tracebacks: None, items: list[bytes]
) -> None:
    """A stream of arbitrary items: one answer per item, the stream ends OK."""

    async def messages() -> AsyncIterator[bytes]:
        for item in items:
            yield field(1, item)  # EnrichBatchRequest.request

    call = channel.stream_stream(
        BATCH, request_serializer=_same, response_deserializer=pb.EnrichBatchResponse.FromString
    )
    try:
        answers = [answer async for answer in call(messages(), timeout=DEADLINE_S * 3)]
    except grpc.aio.AioRpcError as exc:
        _count(exc.code())
        return
    _count(grpc.StatusCode.OK)
    assert sorted(answer.index for answer in answers) == list(range(len(items)))
    for answer in answers:
        codes["batch item " + ("error" if answer.HasField("error") else "answer")] += 1
