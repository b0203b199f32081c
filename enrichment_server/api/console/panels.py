"""The Tracks and Settings pages (the seed's Settings panel for API keys)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from enrichment_server.api.console.auth import Session
from enrichment_server.api.console.html import csrf_field, esc, number, options, post_form, table
from enrichment_server.store import MaskedCredential

#: Track columns not shown as "fields" (bookkeeping, or shown elsewhere).
_NOT_FIELDS = {"track_id", "sources", "created_at", "updated_at", "enriched_at"}
#: Provenance is recorded under the domain's names; these columns take theirs from another.
_PROVENANCE_NAME = {"major": "major", "musical_key": "musical_key"}


def tracks(query: str, found: list[dict[str, Any]]) -> str:
    """The search form and its results."""
    form = (
        '<form method="get" action="/console/tracks" id="search"><label>artist, title or '
        f'track id <input type="search" name="q" value="{esc(query)}" required></label> '
        '<button type="submit">Search</button></form>'
    )
    if not query:
        return form
    rows = [
        [
            f'<a href="/console/tracks/{esc(quote(t["track_id"], safe=""))}">'
            f"{esc(t['track_id'])}</a>",
            esc(t["artist_name"]),
            esc(t["track_title"]),
            esc(t["status"] or "pending"),
            esc(t["spotify_id"]),
            number(t["bpm"]),
            esc(t["musical_key"]),
            number(t["match_confidence"], 2),
        ]
        for t in found
    ]
    headers = ["track id", "artist", "title", "status", "spotify id", "bpm", "key", "confidence"]
    empty = "" if found else '<p id="empty">No track matches.</p>'
    return form + table(headers, rows, id="results") + empty


def track(detail: dict[str, Any], session: Session) -> str:
    """One track: each field with its source, the match confidence, status, re-enrich."""
    fields, status = detail["track"], detail["status"]
    provenance = fields.get("sources") or {}
    rows = [
        [esc(name), esc(_shown(value)), esc(provenance.get(_PROVENANCE_NAME.get(name, name), ""))]
        for name, value in fields.items()
        if name not in _NOT_FIELDS and value not in (None, [], "")
    ]
    facts = (
        f"<p>Requested as <strong>{esc(fields['artist_name'])} — "
        f"{esc(fields['track_title'])}</strong>; match confidence "
        f'<span id="confidence">{number(fields.get("match_confidence"), 2)}</span>; enriched '
        f"{esc(fields.get('enriched_at'))}.</p>"
    )
    state = "<p>No enrichment recorded yet.</p>"
    if status is not None:
        state = (
            f'<p>Status <span class="state {esc(status["status"])}" id="track-status">'
            f"{esc(status['status'])}</span> after {esc(status['attempts'])} attempt(s)"
            f"{_next_attempt(status)}.</p>"
        )
        if status["error_message"]:
            state += f'<p class="error">{esc(status["error_message"])}</p>'
    action = post_form(
        f"/console/tracks/{quote(fields['track_id'], safe='')}/re-enrich",
        session,
        "Re-enrich now",
        id="re-enrich",
    )
    listing = table(["field", "value", "source"], rows, id="fields")
    why = esc(urlencode({"track_id": fields["track_id"]}))
    action += f' <a id="why" href="/console/why?{why}">Why this match?</a>'
    return facts + state + action + listing


def _next_attempt(status: dict[str, Any]) -> str:
    when = status["next_attempt_at"]
    return f"; next attempt {esc(when)}" if when else ""


def _shown(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def settings(
    credentials: list[MaskedCredential],
    names: list[tuple[str, str]],
    effective: list[tuple[str, str]],
    session: Session,
    can_store: bool,
) -> str:
    """Keys masked with their set time, the set/rotate form, test buttons, settings."""
    rows = [
        [esc(c.source), esc(c.name), f"<code>{esc(c.masked)}</code>", esc(c.updated_at)]
        for c in credentials
    ]
    stored = table(["source", "name", "value", "set at"], rows, id="credentials")
    if not credentials:
        stored += "<p>No key stored: the environment's are in use.</p>"
    choices = options(((f"{s}/{n}", f"{s} {n}") for s, n in names), None)
    form = (
        '<form method="post" action="/console/settings/credentials" id="set-credential">'
        f'{csrf_field(session)}<label>key <select name="credential">{choices}</select></label> '
        '<label>value <input type="password" name="value" autocomplete="off" required></label> '
        '<button type="submit">Set / rotate</button></form>'
    )
    if not can_store:
        form = (
            '<p class="warning">Keys cannot be stored: set <code>ENRICHMENT_SECRET_KEY</code> '
            "(<code>enrichment-server generate-key</code>) and restart.</p>"
        )
    sources = sorted({s for s, _ in names} | {"musicbrainz", "deezer"})
    tests = "".join(
        post_form("/console/settings/test", session, f"Test {s}", {"source": s}, id=f"test-{s}")
        for s in sources
    )
    listing = table(["setting", "value"], [[esc(k), esc(v)] for k, v in effective], id="effective")
    return (
        f"<section><h2>API keys</h2>{stored}{form}</section>"
        f"<section><h2>Test an upstream</h2><p>One search, cache bypassed, with the keys in "
        f"use.</p>{tests}</section><section><h2>Effective settings</h2>"
        f"<p>Read-only; secrets show only whether they are set.</p>{listing}</section>"
    )
