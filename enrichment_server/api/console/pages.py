"""The console's pages, rendered on the server from plain data (no template engine).

Each function takes what its page shows and returns the HTML body; ``html.page`` frames it.
Live numbers on the overview carry ``data-bind`` names that ``console.js`` refreshes
from ``/console/api/overview`` without a reload.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from enrichment_server.api.console.auth import Session
from enrichment_server.api.console.html import csrf_field, esc, number, post_form, table
from enrichment_server.store import DeadLetter


def disabled() -> str:
    """No admin token: say how to enable the console, do nothing else."""
    return (
        '<p class="warning" id="disabled">The operator console is off because no admin token '
        "is configured. Set <code>ENRICHMENT_ADMIN_TOKEN</code> (a long random value, e.g. "
        "<code>openssl rand -hex 32</code>) in the server's environment and restart it; then "
        "sign in here with that token.</p>"
    )


def sign_in(session: Session, message: str = "") -> str:
    """The sign-in form (the token goes in a password field, POSTed, never in a URL)."""
    note = f'<p class="error" id="sign-in-error">{esc(message)}</p>' if message else ""
    return (
        f'{note}<form method="post" action="/console/sign-in" id="sign-in">'
        f"{csrf_field(session)}<label>Admin token "
        '<input type="password" name="token" autocomplete="current-password" required '
        'autofocus></label> <button type="submit">Sign in</button></form>'
        "<p>The token is the server's <code>ENRICHMENT_ADMIN_TOKEN</code>.</p>"
    )


def _source_rows(overview: dict[str, Any], session: Session) -> list[list[str]]:
    rows = []
    for source, info in overview["sources"].items():

        def bind(field: str, value: object, source: str = source) -> str:
            return f'<span data-bind="{esc(source)}.{field}">{value}</span>'

        state = info["state"]
        reset = post_form(
            f"/console/breakers/{source}/reset", session, "Reset", id=f"reset-{source}"
        )
        rows.append(
            [
                esc(source),
                f'<span class="state {esc(state)}" data-bind="{esc(source)}.state">'
                f"{esc(state)}</span>",
                reset,
                esc(info["rate_limit"]),
                bind("calls", number(info["calls"], 0)),
                bind("errors", number(info["errors"], 0)),
                bind("latency_ms", number(info["latency_ms"])),
                bind("wait_ms", number(info["wait_ms"])),
                bind("lanes", esc(info["lanes"])),
            ]
        )
    return rows


def overview(data: dict[str, Any], session: Session) -> str:
    """Readiness, sources, cache, statuses, coverage, dead letters and the chart."""
    health, stats = data["health"], data["stats"]
    track_stats = stats["track_stats"]
    readiness = (
        f'<section class="cards"><div class="card"><h2>Readiness</h2>'
        f'<p class="status {esc(health["status"])}" data-bind="health.status">'
        f'{esc(health["status"])}</p><p>serving: <span data-bind="health.serving">'
        f'{esc(health["serving"])}</span> · database: <span data-bind="health.database">'
        f"{esc(health['database'])}</span> · cache: {esc(health['cache'])}</p></div>"
        f'<div class="card"><h2>Cache hit rate</h2><p class="big" data-bind="stats.hit_rate">'
        f"{number(100 * stats['cache_hit_rate'])} %</p></div>"
        f'<div class="card"><h2>Dead letters</h2><p><a href="/console/dead-letters?state=due">'
        f'due <span data-bind="dlq.due">{esc(stats["dead_letters"]["due"])}</span></a> · '
        f'<a href="/console/dead-letters?state=parked">parked <span data-bind="dlq.parked">'
        f"{esc(stats['dead_letters']['parked'])}</span></a></p></div></section>"
    )
    sources = table(
        [
            "source",
            "breaker",
            "",
            "rate limit",
            "calls (last 10 min)",
            "errors",
            "mean latency ms",
            "mean limiter wait ms",
            "quota lanes (last 10 min)",
        ],
        _source_rows(data, session),
        id="sources",
    )
    statuses = table(
        ["status", "tracks"],
        [[esc(k), esc(v)] for k, v in sorted(track_stats["by_status"].items())],
        id="statuses",
    )
    coverage = table(
        ["field", "coverage %"],
        [[esc(k), number(v)] for k, v in sorted(track_stats["coverage_percentages"].items())],
        id="coverage",
    )
    chart = (
        '<section><h2>Throughput (enrichments/s)</h2><canvas id="throughput" width="900" '
        'height="180" data-source="/console/api/overview"></canvas></section>'
    )
    totals = (
        f'<p><span data-bind="stats.total">{esc(track_stats["total_tracks"])}</span> tracks in '
        "the store.</p>"
    )
    return (
        f"{readiness}<section><h2>Sources</h2>{sources}</section>{chart}"
        f'<section class="cards"><div class="card"><h2>Statuses</h2>{totals}{statuses}</div>'
        f'<div class="card"><h2>Coverage</h2>{coverage}</div></section>'
    )


def _errors(entry: DeadLetter) -> str:
    items = "".join(
        f"<li>{esc(e.get('source'))}: {esc(e.get('kind'))}: {esc(e.get('message'))}</li>"
        for e in entry.errors
    )
    return f'<ul class="errors">{items}</ul>'


def dead_letters(
    entries: list[DeadLetter],
    filters: dict[str, str],
    next_token: str | None,
    session: Session,
    sources: list[str],
) -> str:
    """Filter form, the page of entries with checkboxes, replay and purge buttons."""

    def option(name: str, values: list[str]) -> str:
        chosen = filters.get(name, "")
        return "".join(
            f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(v or "any")}'
            "</option>"
            for v in ["", *values]
        )

    filter_form = (
        '<form method="get" action="/console/dead-letters" id="filter">'
        f'<label>source <select name="source">{option("source", sources)}</select></label> '
        f'<label>state <select name="state">{option("state", ["due", "parked"])}</select>'
        f'</label> <label>per page <input name="page_size" size="3" '
        f'value="{esc(filters.get("page_size", ""))}"></label> '
        '<button type="submit">Filter</button></form>'
    )
    rows = [
        [
            f'<input type="checkbox" name="ids" value="{e.id}" form="selection" '
            f'aria-label="select {e.id}">',
            esc(e.id),
            f'<a href="/console/tracks/{esc(quote(e.track_id, safe=""))}">{esc(e.track_id)}</a>',
            f"{esc(e.request.artist)} — {esc(e.request.title)}",
            f'<span class="state {esc(e.state)}">{esc(e.state)}</span>',
            esc(e.attempts),
            esc(e.next_attempt_at),
            _errors(e),
        ]
        for e in entries
    ]
    listing = table(
        ["", "id", "track", "artist — title", "state", "attempts", "next attempt", "errors"],
        rows,
        id="dead-letters",
    )
    selection = (
        f'<form method="post" id="selection" action="/console/dead-letters/replay">'
        f"{csrf_field(session)}"
        '<button type="submit">Replay selected</button> '
        '<button type="submit" formaction="/console/dead-letters/purge">Purge selected…'
        "</button></form>"
    )
    bulk = post_form(
        "/console/dead-letters/replay", session, "Replay all parked", {"all_parked": "1"}
    ) + post_form("/console/dead-letters/purge", session, "Purge all parked…", {"state": "parked"})
    more = ""
    if next_token:
        query = urlencode({**{k: v for k, v in filters.items() if v}, "page_token": next_token})
        more = f'<p><a id="next-page" href="/console/dead-letters?{esc(query)}">Next page</a></p>'
    empty = "" if entries else '<p id="empty">No dead letters match.</p>'
    return f"{filter_form}{selection}{bulk}{listing}{empty}{more}"


def confirm_purge(count: int, fields: dict[str, str], ids: list[int], session: Session) -> str:
    """The second step of a purge: how many entries, and a button that really deletes."""
    hidden = "".join(f'<input type="hidden" name="ids" value="{i}">' for i in ids)
    hidden += "".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in fields.items()
    )
    return (
        f'<p class="warning" id="confirm-text">Delete {count} dead letter(s) for good? Their '
        "tracks will not be retried automatically.</p>"
        f'<form method="post" action="/console/dead-letters/purge" id="confirm-purge">'
        f'{csrf_field(session)}{hidden}<input type="hidden" name="confirm" value="yes">'
        '<button type="submit" class="danger">Purge</button> '
        '<a href="/console/dead-letters">Cancel</a></form>'
    )
