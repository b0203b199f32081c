"""``python -m enrichment_server.rematch``: re-judge stored matches with the current matcher.

::

    python -m enrichment_server.rematch            # report only: what would be forgotten
    python -m enrichment_server.rematch --apply    # forget them; the scheduler re-enriches

After a matcher change (``MATCHER_VERSION``), matches written by the older matcher stay in
``tracks``. This pass scores each stored row (as the scraper saved it) against the
recording it was matched to, with the current matcher and ``ENRICHMENT_MATCH_THRESHOLD``;
a match it would not make is forgotten (``store/rematch.py``) and the track goes back to
``pending``, so the scheduler enriches it again. It reads ``ENRICHMENT_DATABASE_URL`` like
the server; it never calls an upstream.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from enrichment_server.config import SettingsError, load_settings
from enrichment_server.enrichment.matching import Matcher, normalise
from enrichment_server.store import create_engine
from enrichment_server.store.rematch import StoredMatch, forget_matches, stored_matches

__all__ = ["RematchReport", "is_stale", "main", "rematch"]

BATCH = 500


@dataclass(slots=True)
class RematchReport:
    """What a pass looked at and what it found stale."""

    checked: int = 0
    stale: list[StoredMatch] = field(default_factory=list)
    forgotten: int = 0


def is_stale(match: StoredMatch, matcher: Matcher) -> bool:
    """Whether the current matcher would refuse this stored match."""
    query = normalise(match.row_artist, match.row_title)
    found = matcher.best(query, [match], lambda m: (m.artist, m.title, m.duration_ms))
    return found is None


async def rematch(
    engine: AsyncEngine, matcher: Matcher, *, apply: bool, now: datetime, batch: int = BATCH
) -> RematchReport:
    """One pass over every stored match, a page per transaction; forget the stale ones
    when ``apply``."""
    report, after = RematchReport(), ""
    while True:
        async with engine.begin() as conn:
            page = await stored_matches(conn, after=after, limit=batch)
            stale = [match for match in page if is_stale(match, matcher)]
            if apply:
                report.forgotten += await forget_matches(conn, (m.track_id for m in stale), now)
        report.checked += len(page)
        report.stale += stale
        if len(page) < batch:
            return report
        after = page[-1].track_id


def _describe(match: StoredMatch) -> str:
    matched = f"{match.artist!r} - {match.title!r}"
    return f"{match.track_id}: {match.row_artist!r} - {match.row_title!r} -> {matched}"


async def _run(apply: bool) -> RematchReport:
    settings = load_settings()
    engine = create_engine(settings.database_url)
    try:
        matcher = Matcher(settings.match_threshold)
        return await rematch(engine, matcher, apply=apply, now=datetime.now(UTC))
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Print every stale match and the totals; forget them with ``--apply``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--apply", action="store_true", help="forget the stale matches")
    args = parser.parse_args(argv)
    try:
        report = asyncio.run(_run(args.apply))
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    for match in report.stale:
        print(_describe(match))
    verb = "forgotten" if args.apply else "would be forgotten (run with --apply)"
    print(f"{report.checked} stored matches checked, {len(report.stale)} stale, {verb}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
