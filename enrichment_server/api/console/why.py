"""The "Why this match" page: each source's candidates, how each scored, what was taken."""

from __future__ import annotations

from enrichment_client.pb.enrichment.v1 import admin_pb2 as admin_pb
from enrichment_server.api import seed
from enrichment_server.api.console.html import esc, number, table


def form(track_id: str, artist: str, title: str) -> str:
    """Ask by stored track id, or by artist and title."""
    return (
        '<form method="get" action="/console/why" id="why-form">'
        f'<label>track id <input name="track_id" value="{esc(track_id)}"></label> or '
        f'<label>artist <input name="artist" value="{esc(artist)}"></label> '
        f'<label>title <input name="title" value="{esc(title)}"></label> '
        '<button type="submit">Explain</button></form>'
    )


def _row(candidate: admin_pb.MatchCandidate) -> list[str]:
    duration = candidate.duration_ms if candidate.HasField("duration_ms") else None
    return [
        "✔" if candidate.taken else "",
        esc(candidate.id),
        esc(candidate.artist),
        esc(candidate.title),
        esc(f"{duration / 1000:.0f} s" if duration else ""),
        number(candidate.artist_score, 3),
        number(candidate.title_score, 3),
        number(candidate.version_factor, 2),
        "clash" if candidate.duration_clash else "",
        f"<strong>{number(candidate.score, 3)}</strong>",
    ]


def explanation(answer: admin_pb.ExplainMatchResponse) -> str:
    """One section per source: the search, the verdict, the scored candidates."""
    head = (
        f"<p>Explaining <strong>{esc(answer.artist_name)} — {esc(answer.track_title)}"
        f'</strong>; a candidate is taken at a score of <span id="threshold">'
        f"{number(answer.threshold, 2)}</span> or more (artist and title similarity, "
        "times the version factor, lowered when the lengths clash).</p>"
    )
    headers = [
        "taken",
        "id",
        "artist",
        "title",
        "length",
        "artist",
        "title",
        "version",
        "length",
        "score",
    ]
    sections = []
    for source in answer.sources:
        name = seed.source_name(source.source)
        origin = "from the cache" if source.from_cache else "asked upstream"
        sections.append(
            f'<section id="why-{esc(name)}"><h2>{esc(name)}</h2><p>search '
            f"<code>{esc(source.query)}</code> ({origin}): "
            f'<span class="verdict">{esc(source.verdict)}</span></p>'
            + table(headers, [_row(c) for c in source.candidates])
            + "</section>"
        )
    return head + "".join(sections)
