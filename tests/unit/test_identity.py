"""Unit tests for enrichment_server.identity: the canonical re-ask of describing sources."""

from __future__ import annotations

import asyncio

from enrichment_server.enrichment.identity import Identity, ask_with_fallback
from enrichment_server.enrichment.matching import NormalisedTrack, normalise


class Asker:
    """A fake describing source: records what it was asked, finds only ``finds``."""

    def __init__(self, finds: NormalisedTrack | None) -> None:
        self.finds = finds
        self.asked: list[NormalisedTrack] = []

    async def __call__(self, query: NormalisedTrack) -> bool:
        self.asked.append(query)
        return query == self.finds


async def test_found_as_written_asks_once() -> None:
    """A hit on the row's own text needs no identity and no second call."""
    row = normalise("deadmau5", "Strobe")
    ask = Asker(finds=row)
    await ask_with_fallback(Identity(), row, ask)
    assert ask.asked == [row]


async def test_a_miss_is_asked_again_with_the_offered_names() -> None:
    """The row misses; the identified names are asked next and found."""
    row, canonical = (
        normalise("Daft Punk", "One More Tiime"),
        normalise("Daft Punk", "One More Time"),
    )
    identity, ask = Identity(), Asker(finds=canonical)
    waiting = asyncio.ensure_future(ask_with_fallback(identity, row, ask))
    await asyncio.sleep(0)  # let it ask the row and start waiting for the identity
    assert ask.asked == [row]
    identity.offer("Daft Punk", "One More Time")
    await waiting
    assert ask.asked == [row, canonical]


async def test_no_identity_means_no_second_call() -> None:
    """Every identifying stage ended without a match: the miss stands."""
    row = normalise("Nobody", "Nothing")
    identity, ask = Identity(), Asker(finds=None)
    identity.close()
    await ask_with_fallback(identity, row, ask)
    assert ask.asked == [row]


async def test_identical_canonical_names_are_not_asked_again() -> None:
    """The source already missed these very names: asking again would only cost a call."""
    row = normalise("deadmau5", "Strobe (Radio Edit)")
    identity, ask = Identity(), Asker(finds=None)
    identity.offer("deadmau5", "Strobe (Radio Edit)")
    await ask_with_fallback(identity, row, ask)
    assert ask.asked == [row]


async def test_the_first_offer_wins_and_close_after_it_changes_nothing() -> None:
    """Spotify's names, offered first, stay the identity; a later close does not erase them."""
    identity = Identity()
    identity.offer("Eric Prydz", "Opus")
    identity.offer("Someone Else", "Other")
    identity.close()
    assert await identity.wait() == normalise("Eric Prydz", "Opus")
