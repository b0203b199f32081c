"""The writer-thread recorder: durable writes, and no identical rewrites of final results."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from enrichment_server.domain import (
    EnrichmentRequest,
    EnrichmentResult,
    ErrorKind,
    Source,
    SourceFailure,
    Status,
    TrackMetadata,
)
from enrichment_server.recorder import ThreadedRecorder
from enrichment_server.store import Backoff, create_engine, migrate


def outcome(status: Status) -> EnrichmentResult:
    """A result for track t-1 (PARTIAL ones carry a retriable error)."""
    errors: tuple[SourceFailure, ...] = ()
    if status is Status.PARTIAL:
        errors = (SourceFailure(Source.LASTFM, ErrorKind.UNAVAILABLE, "down", True),)
    return EnrichmentResult(
        track_id="t-1",
        status=status,
        metadata=TrackMetadata(spotify_id="41Xji81wFy3cM7ggbGczQW"),
        provenance={"spotify_id": Source.SPOTIFY},
        sources_used=(Source.SPOTIFY,),
        errors=errors,
        duration_s=0.1,
        cached=False,
        enriched_at=datetime.now(UTC),
    )


async def attempts(url: str) -> int:
    """The status row's attempt count."""
    engine = create_engine(url)
    async with engine.connect() as conn:
        query = sa.text("SELECT attempts FROM enrichment_status WHERE track_id = 't-1'")
        value = (await conn.execute(query)).scalar_one()
    await engine.dispose()
    return int(value)


async def test_identical_final_outcomes_are_written_once(tmp_path: Path) -> None:
    """Two identical COMPLETED results: one write, one skip; a PARTIAL is always written."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    await migrate(url)
    recorder = ThreadedRecorder(url, max_attempts=5, backoff=Backoff())
    await recorder.start()
    request = EnrichmentRequest("t-1", "deadmau5", "Strobe")
    try:
        await recorder.record(request, outcome(Status.COMPLETED))
        await recorder.record(request, outcome(Status.COMPLETED))
        completed_attempts = await attempts(url)
        await recorder.record(request, outcome(Status.PARTIAL))
        await recorder.record(request, outcome(Status.PARTIAL))
    finally:
        await recorder.close()
    assert recorder.skipped == 1
    assert completed_attempts == 1
    assert await attempts(url) == 3
    assert recorder.failures == 0


async def test_a_final_outcome_is_rewritten_after_the_row_changed(tmp_path: Path) -> None:
    """issue 12 item 1: A, then B on the same id (a PARTIAL), then A's identical result
    again: A is written back, never skipped as "already written" over B's row."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    await migrate(url)
    recorder = ThreadedRecorder(url, max_attempts=5, backoff=Backoff())
    await recorder.start()
    strobe = EnrichmentRequest("t-1", "deadmau5", "Strobe")
    opus = EnrichmentRequest("t-1", "Eric Prydz", "Opus")
    try:
        await recorder.record(strobe, outcome(Status.COMPLETED))
        await recorder.record(opus, outcome(Status.PARTIAL))
        await recorder.record(strobe, outcome(Status.COMPLETED))
    finally:
        await recorder.close()
    engine = create_engine(url)
    async with engine.connect() as conn:
        query = sa.text("SELECT artist_name FROM tracks WHERE track_id = 't-1'")
        name = (await conn.execute(query)).scalar_one()
    await engine.dispose()
    assert (name, recorder.skipped) == ("deadmau5", 0)
