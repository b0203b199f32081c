"""``python -m enrichment_server.rematch``: reports by default, forgets only with --apply."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from enrichment_server.domain import EnrichmentRequest, TrackMetadata
from enrichment_server.rematch import main
from enrichment_server.store import Store, create_engine, migrate
from tests.integration.store.support import T0, backoff, result


async def _seed(url: str) -> None:
    await migrate(url)
    store = Store(create_engine(url))
    try:
        request = EnrichmentRequest(
            track_id="t1", artist="Meduza", title="Piece of Your Heart (Extended Mix)"
        )
        meta = TrackMetadata(
            spotify_id="a" * 22, artist="Meduza", title="Piece of Your Heart", duration_ms=152_000
        )
        await store.record(
            request, result("t1", metadata=meta), now=T0, max_attempts=5, backoff=backoff()
        )
    finally:
        await store.close()


def test_report_then_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The dry run names the stale match; --apply forgets it; a second pass finds none."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'rematch.db'}"
    asyncio.run(_seed(url))
    monkeypatch.setenv("ENRICHMENT_DATABASE_URL", url)
    assert main([]) == 0
    dry = capsys.readouterr().out
    assert "t1: 'Meduza' - 'Piece of Your Heart (Extended Mix)'" in dry
    assert "1 stored matches checked, 1 stale, would be forgotten" in dry
    assert main(["--apply"]) == 0
    assert "1 stale, forgotten" in capsys.readouterr().out
    assert main([]) == 0
    assert "0 stored matches checked, 0 stale" in capsys.readouterr().out
