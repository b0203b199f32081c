"""A row describes one track: renames by callers, stale background writes, old mixed rows.

issue 12 item 1, at the store (SQLite and Postgres): a caller's result for another name
replaces the row's identity and clears the old track's fields; a background result for a
name the row no longer has changes nothing; rows mixed before the fix are found, cleared
and queued again by the rematch pass.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from enrichment_server.domain import EnrichmentRequest, Source, Status, TrackMetadata
from enrichment_server.enrichment.matching import Matcher
from enrichment_server.rematch import rematch
from enrichment_server.store import Store
from enrichment_server.store.models import DeadLetterRow, EnrichmentStatusRow, Track
from tests.integration.store.support import T0, backoff, failure, result

STROBE = EnrichmentRequest(track_id="x", artist="deadmau5", title="Strobe")
OPUS = EnrichmentRequest(track_id="x", artist="Eric Prydz", title="Opus")
STROBE_FOUND = TrackMetadata(
    spotify_id="5Yl3TmcZJsuzsoSKWXk2Ei", isrc="GBTDG0900141", artist="deadmau5",
    title="Strobe", bpm=128.0, genres=("progressive house",), lastfm_listeners=900_000,
)  # fmt: skip
OPUS_FOUND = TrackMetadata(
    spotify_id="3v2oAQomhOcYCPPHafS3KV", artist="Eric Prydz", title="Opus", bpm=126.0
)


async def track(store: Store) -> sa.Row[Track]:
    """The one tracks row."""
    async with store.engine.connect() as conn:
        return (await conn.execute(sa.select(Track))).one()


async def record(
    store: Store, request: EnrichmentRequest, metadata: TrackMetadata, *, rename: bool = False
) -> None:
    """Record a COMPLETED result of ``metadata`` for ``request``."""
    provenance = {name: Source.SPOTIFY for name in ("spotify_id", "bpm", "artist", "title")}
    found = result("x", metadata=metadata, provenance=provenance)
    await store.record(request, found, now=T0, max_attempts=5, backoff=backoff(), rename=rename)


async def test_a_callers_new_name_replaces_the_row_and_clears_the_old_fields(
    store: Store,
) -> None:
    """issue 12 item 1: after Strobe then Opus on one id, nothing of Strobe is left."""
    await record(store, STROBE, STROBE_FOUND, rename=True)
    await record(store, OPUS, OPUS_FOUND, rename=True)
    row = await track(store)
    assert (row.artist_name, row.track_title, row.spotify_id, row.bpm) == (
        "Eric Prydz", "Opus", OPUS_FOUND.spotify_id, 126.0,
    )  # fmt: skip
    assert (row.isrc, row.genres, row.lastfm_listeners) == (None, None, None)
    assert set(row.sources or {}) == {"spotify_id", "bpm", "artist", "title"}


async def test_the_old_tracks_retry_goes_with_it(store: Store) -> None:
    """issue 12 item 1: a dead letter and attempts of the old name do not carry over."""
    failed = result("x", Status.FAILED, errors=(failure(),))
    await store.record(STROBE, failed, now=T0, max_attempts=5, backoff=backoff(), rename=True)
    await store.record(STROBE, failed, now=T0, max_attempts=5, backoff=backoff(), rename=True)
    await record(store, OPUS, OPUS_FOUND, rename=True)
    async with store.engine.connect() as conn:
        letters = (
            await conn.execute(sa.select(sa.func.count()).select_from(DeadLetterRow))
        ).scalar()
        attempts = (await conn.execute(sa.select(EnrichmentStatusRow.attempts))).scalar_one()
    assert (letters, attempts) == (0, 1)


async def test_a_background_result_for_the_old_name_is_not_written(store: Store) -> None:
    """issue 12 item 1: a replay of the old name finishing after the rename changes nothing."""
    await record(store, STROBE, STROBE_FOUND, rename=True)
    await record(store, OPUS, OPUS_FOUND, rename=True)
    await record(store, STROBE, STROBE_FOUND)  # as the DLQ worker records: no rename
    row = await track(store)
    assert (row.artist_name, row.spotify_id, row.isrc) == (
        "Eric Prydz",
        OPUS_FOUND.spotify_id,
        None,
    )


async def test_the_same_name_spelled_differently_is_the_same_track(store: Store) -> None:
    """Case, accents and spacing aside, the name is the row's: its fields are kept."""
    await record(store, STROBE, STROBE_FOUND, rename=True)
    respelled = EnrichmentRequest(track_id="x", artist="DEADMAU5", title="  strobe ")
    await record(store, respelled, TrackMetadata(bpm=128.0), rename=True)
    row = await track(store)
    assert (row.artist_name, row.isrc, row.lastfm_listeners) == (
        "deadmau5",
        "GBTDG0900141",
        900_000,
    )


async def test_rows_mixed_before_the_fix_are_cleared_and_queued(store: Store) -> None:
    """issue 12 item 1: a row written mixed (Strobe's name, Opus's ids) by the old code is
    found by the rematch pass, cleared and queued as pending; a right row stays."""
    async with store.engine.begin() as conn:
        for track_id, (artist, title) in {
            "mixed": ("deadmau5", "Strobe"),
            "right": ("Eric Prydz", "Opus"),
        }.items():
            await conn.execute(sa.insert(Track).values(
                track_id=track_id, artist_name=artist, track_title=title,
                spotify_id=OPUS_FOUND.spotify_id, artist="Eric Prydz", title="Opus", bpm=126.0,
                created_at=T0, updated_at=T0,
            ))  # fmt: skip
    report = await rematch(store.engine, Matcher(), apply=True, now=T0 + timedelta(hours=1))
    assert [m.track_id for m in report.stale] == ["mixed"]
    async with store.engine.connect() as conn:
        rows = {r.track_id: r for r in (await conn.execute(sa.select(Track))).all()}
        status = (
            await conn.execute(sa.select(EnrichmentStatusRow.track_id, EnrichmentStatusRow.status))
        ).all()
    assert (rows["mixed"].spotify_id, rows["mixed"].bpm) == (None, None)
    assert rows["right"].spotify_id == OPUS_FOUND.spotify_id
    assert [tuple(s) for s in status] == [("mixed", "pending")]
