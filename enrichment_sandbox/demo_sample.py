"""The demo's sample: scraped-looking rows sent over ``EnrichBatch``, printed as answered."""

from __future__ import annotations

import time

from enrichment_client import EnrichmentClient, make_request, pb

#: Scraped-looking rows: (artist, title, what the row exercises).
SAMPLE: tuple[tuple[str, str, str], ...] = (
    ("deadmau5", "Strobe (Original Mix)", "'(Original Mix)' noise"),
    ("Royksopp", "Eple", "accent stripped (Röyksopp)"),
    ("Eric Prydz", "Opus (Four Tet Remix)", "a named remix"),
    ("Eric Prydz", "Opus [Pryda]", "bracketed label noise"),
    ("Bicep ft. Clara La San", "Saku", "'ft.' for 'feat.'"),
    ("Kolsch", "Grey", "accent stripped (Kölsch)"),
    ("Fred Again", "Marea (We've Lost Dancing)", "punctuation ('Fred again..')"),
    ("Daft Punk", "One More Tiime", "a typo"),
    ("Kings of Tomorrow", "Finally", "same title as CeCe Peniston's"),
    ("Lane 8", "Brightest Lights (feat. POLIÇA)", "'feat.' inside the title"),
    ("Jean Michel Jarre", "Oxygene Pt. 4", "accents and 'Pt.'"),
    ("Daft Punk", "Strobe", "same title, wrong artist: must not match"),
    ("Nobody Here", "A Track That Does Not Exist", "not in any catalogue"),
)


def _describe(index: int, query: tuple[str, str, str], response: pb.EnrichResponse) -> str:
    artist, title, why = query
    meta = response.metadata
    status = pb.EnrichmentStatus.Name(response.status).removeprefix("ENRICHMENT_STATUS_")
    sources = ", ".join(
        pb.Source.Name(s).removeprefix("SOURCE_").lower() for s in response.sources_used
    )
    lines = [
        f"[{index:2}] {artist} - {title}   ({why})",
        f"     status={status}  sources: {sources or '-'}",
    ]
    if meta.HasField("spotify_id") or meta.HasField("musicbrainz_id"):
        lines.append(
            f"     matched: {meta.artist} - {meta.title}  (confidence {meta.match_confidence:.2f})"
        )
        lines.append(
            f"     spotify_id={meta.spotify_id or '-'}  isrc={meta.isrc or '-'}  "
            f"musicbrainz_id={meta.musicbrainz_id or '-'}"
        )
        key = (
            f"{meta.musical_key} ({meta.camelot_key} / {meta.open_key})"
            if meta.HasField("musical_key")
            else "-"
        )
        bpm = f"{meta.bpm:g}" if meta.HasField("bpm") else "-"
        lines.append(
            f"     key={key}  bpm={bpm}  label={meta.label or '-'}"
            f"  released={meta.release_date or '-'}"
        )
        lines.append(f"     tags: {', '.join(meta.genres) or '-'}")
    for error in response.errors:
        lines.append(
            f"     error: {pb.Source.Name(error.source)} {error.message}"
            f" (retriable={error.retriable})"
        )
    return "\n".join(lines)


async def run_sample(target: str) -> int:
    """Send the sample twice (cold, then cached); print every answer and the summary."""
    requests = [make_request(a, t, track_id=f"demo-{i}") for i, (a, t, _) in enumerate(SAMPLE)]
    # A slow start (a busy machine) is waited for; a failed one ends the demo sooner (demo.py
    # watches the server process).
    async with await EnrichmentClient.connect(target, timeout_s=60, wait_ready_s=120) as client:
        started = time.perf_counter()
        first = {r.index: r.response async for r in client.enrich_many(requests)}
        cold = time.perf_counter() - started
        for index, query in enumerate(SAMPLE):
            print(_describe(index, query, first[index]))
        started = time.perf_counter()
        second = {r.index: r.response async for r in client.enrich_many(requests)}
        warm = time.perf_counter() - started
    counts: dict[str, int] = {}
    for response in first.values():
        name = pb.EnrichmentStatus.Name(response.status).removeprefix("ENRICHMENT_STATUS_")
        counts[name] = counts.get(name, 0) + 1
    cached = sum(r.cached for r in second.values())
    print(f"\n{len(SAMPLE)} rows: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    print(
        f"first pass {cold * 1000:.0f} ms; second pass {warm * 1000:.0f} ms,"
        f" {cached} answered from cache"
    )
    return 0
