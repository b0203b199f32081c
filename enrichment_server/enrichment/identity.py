"""The track's canonical identity, as the identifying sources name it, for the describing ones.

GetSongBPM and Last.fm are asked with the row's own text at once (they need nothing else).
A row with a typo, a missing "The", only its second artist or the remixer as artist then
finds nothing there, although Spotify or MusicBrainz identified the track. ``Identity``
carries the canonical "artist - title" from the identifying stages to the describing ones;
``ask_with_fallback`` asks once more with it, so a typo in the row never costs metadata.
The second call goes through the same cache and resilience pipeline as any lookup, and is
counted like any other call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from enrichment_server.enrichment.matching import NormalisedTrack, normalise

__all__ = ["Identity", "ask_with_fallback"]


class Identity:
    """The first canonical (artist credit, title) an identifying source offers, once known.

    ``wait`` answers as soon as one source offers a name, or None when every identifying
    stage has finished without one (``close``).
    """

    def __init__(self) -> None:
        """An identity nobody has offered yet."""
        self._known: asyncio.Future[NormalisedTrack | None] = (
            asyncio.get_running_loop().create_future()
        )

    def offer(self, artist: str, title: str) -> None:
        """A source identified the track under this credit and title (the first one wins)."""
        if not self._known.done():
            self._known.set_result(normalise(artist, title))

    def close(self) -> None:
        """Every identifying stage is over: a ``wait`` without an offer answers None."""
        if not self._known.done():
            self._known.set_result(None)

    async def wait(self) -> NormalisedTrack | None:
        """The canonical track, or None when no source identified it."""
        return await asyncio.shield(self._known)


def _same_search(left: NormalisedTrack, right: NormalisedTrack) -> bool:
    return (left.search_artist.casefold(), left.search_title.casefold()) == (
        right.search_artist.casefold(),
        right.search_title.casefold(),
    )


async def ask_with_fallback(
    identity: Identity,
    query: NormalisedTrack,
    ask: Callable[[NormalisedTrack], Awaitable[bool]],
) -> None:
    """``ask(query)``; when it found nothing, ``ask`` again with the canonical identity.

    ``ask`` searches with the track's ``search_artist``/``search_title``, verifies the hits
    against the same track and records what it found; it returns whether it found a match.
    No second call when nobody identified the track or the canonical names are the row's.
    """
    if await ask(query):
        return
    canonical = await identity.wait()
    if canonical is None or _same_search(canonical, query):
        return
    await ask(canonical)
