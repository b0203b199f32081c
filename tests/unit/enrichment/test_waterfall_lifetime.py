"""Nothing the waterfall starts outlives the enrichment (issue 12 item 13).

Fake sources on ``looptime``'s virtual clock: Spotify hangs, so MusicBrainz is waiting
for its ISRC (the shielded Spotify task) when the caller goes away.
"""

from __future__ import annotations

import asyncio

import pytest

from enrichment_server.enrichment.waterfall import SPOTIFY_PATIENCE
from tests.unit.enrichment.fakes import HANG
from tests.unit.enrichment.test_waterfall import Rig, deadline, request

pytestmark = pytest.mark.looptime


def others() -> set[asyncio.Task[object]]:
    """Every task on the loop but the test's own."""
    return asyncio.all_tasks() - {asyncio.current_task()}


async def test_a_cancelled_enrichment_leaves_no_spotify_task_behind() -> None:
    """issue 12 item 13: cancelled while MusicBrainz waits for Spotify, no task survives."""
    rig = Rig()
    rig.spotify.delays["search"] = HANG
    before = others()
    enrichment = asyncio.create_task(rig.waterfall().enrich(request(), deadline(10)))
    await asyncio.sleep(10 * SPOTIFY_PATIENCE / 2)  # virtual time: inside the patience wait
    assert rig.spotify.called("search")
    assert not rig.musicbrainz.called("search")  # still waiting for Spotify's ISRC
    enrichment.cancel()
    with pytest.raises(asyncio.CancelledError):
        await enrichment
    assert others() - before == set()


async def test_a_cut_off_enrichment_leaves_no_task_behind() -> None:
    """issue 12 item 13 (guard): at the deadline every stage is ended, not only abandoned."""
    rig = Rig()
    rig.spotify.delays["search"] = HANG
    rig.musicbrainz.delays["search"] = HANG
    before = others()
    result = await rig.waterfall().enrich(request(), deadline(3))
    assert result.errors  # Spotify and MusicBrainz were cut off
    assert others() - before == set()
