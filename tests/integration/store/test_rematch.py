"""Stored matches the current matcher would not make are found, forgotten and re-queued."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from enrichment_server.domain import EnrichmentRequest, Source, TrackMetadata
from enrichment_server.enrichment.matching import Matcher
from enrichment_server.rematch import rematch
from enrichment_server.store import Store
from enrichment_server.store.models import EnrichmentStatusRow, Track
from tests.integration.store.support import T0, backoff, result

ROWS = {
    # The wrong match: an "(Extended Mix)" row stored with the ~2:30 radio cut.
    "wrong-extended": (
        ("Meduza", "Piece of Your Heart (Extended Mix)"),
        ("Meduza, Goodboys", "Piece of Your Heart", 152_000),
    ),
    # A mashup stored as one of its parts.
    "wrong-mashup": (
        ("Tiësto vs. deadmau5", "Adagio for Strings vs. Strobe"),
        ("Tiësto", "Adagio for Strings", 575_000),
    ),
    # Right matches stay: a typo, the remixer as artist, a full-length extended fallback.
    "right-typo": (("Daft Punk", "One More Tiime"), ("Daft Punk", "One More Time", 320_000)),
    "right-remixer": (
        ("Lane 8", "Innerbloom (Lane 8 Remix)"),
        ("RÜFÜS DU SOL", "Innerbloom - Lane 8 Remix", 531_000),
    ),
    "right-extended": (("Eric Prydz", "Opus (Extended Mix)"), ("Eric Prydz", "Opus", 543_000)),
}


async def _store_matches(store: Store) -> None:
    for track_id, ((row_artist, row_title), (artist, title, duration_ms)) in ROWS.items():
        request = EnrichmentRequest(track_id=track_id, artist=row_artist, title=row_title)
        metadata = TrackMetadata(
            spotify_id=f"{track_id:x<22}"[:22],
            artist=artist,
            title=title,
            duration_ms=duration_ms,
            bpm=124.0,
            camelot_key="7A",
            match_confidence=1.0,
        )
        found = result(track_id, metadata=metadata, provenance={"spotify_id": Source.SPOTIFY})
        await store.record(request, found, now=T0, max_attempts=5, backoff=backoff())


async def test_a_dry_run_lists_the_wrong_matches_and_changes_nothing(store: Store) -> None:
    """Without apply: the two wrong matches are reported, every row keeps its fields."""
    await _store_matches(store)
    report = await rematch(store.engine, Matcher(), apply=False, now=T0)
    assert report.checked == len(ROWS)
    assert sorted(m.track_id for m in report.stale) == ["wrong-extended", "wrong-mashup"]
    assert report.forgotten == 0
    async with store.engine.connect() as conn:
        ids = (await conn.execute(sa.select(Track.spotify_id))).scalars().all()
    assert None not in ids


async def test_apply_forgets_the_wrong_matches_and_queues_them_again(store: Store) -> None:
    """With apply: the wrong rows lose every enriched field and are claimable as pending;
    the right ones are untouched."""
    await _store_matches(store)
    later = T0 + timedelta(hours=1)
    report = await rematch(store.engine, Matcher(), apply=True, now=later, batch=2)
    assert report.forgotten == 2
    async with store.engine.connect() as conn:
        tracks = {row.track_id: row for row in (await conn.execute(sa.select(Track))).all()}
        status_rows = await conn.execute(
            sa.select(EnrichmentStatusRow.track_id, EnrichmentStatusRow.status)
        )
        statuses = {track_id: status for track_id, status in status_rows.all()}
    for wrong in ("wrong-extended", "wrong-mashup"):
        assert (tracks[wrong].spotify_id, tracks[wrong].bpm, tracks[wrong].title) == (None,) * 3
        assert tracks[wrong].track_title == ROWS[wrong][0][1]
        assert statuses[wrong] == "pending"
    for right in ("right-typo", "right-remixer", "right-extended"):
        assert tracks[right].spotify_id is not None
        assert statuses[right] == "completed"
    claimed = await store.claim_unenriched("scheduler", 10, later, lease_s=60)
    assert sorted(r.track_id for r in claimed) == ["wrong-extended", "wrong-mashup"]
    assert all(r.spotify_id is None for r in claimed)
    again = await rematch(store.engine, Matcher(), apply=True, now=later)
    assert (again.checked, again.forgotten) == (3, 0)
