"""HTML building blocks of the console: escaping, the page frame, forms, tables.

Everything interpolated into a page goes through ``esc``; no inline script or style
exists (the Content-Security-Policy forbids both), so behaviour lives in
``static/console.js`` and looks in ``static/console.css``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from typing import Any

from enrichment_server.api.console.auth import Session

NAV = (
    ("/console/", "Overview"),
    ("/console/dead-letters", "Dead letters"),
    ("/console/tracks", "Tracks"),
    ("/console/why", "Why this match"),
    ("/console/settings", "Settings"),
)


def esc(value: object) -> str:
    """Text safe inside HTML content and quoted attributes."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return escape(str(value), quote=True)


def csrf_field(session: Session) -> str:
    """The hidden CSRF field every state-changing form carries."""
    return f'<input type="hidden" name="csrf" value="{esc(session.csrf)}">'


def post_form(
    action: str,
    session: Session,
    button: str,
    fields: dict[str, object] | None = None,
    **attrs: str,
) -> str:
    """A one-button POST form with hidden fields and the CSRF token."""
    hidden = "".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, v in (fields or {}).items()
    )
    extra = "".join(f' {k.replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    return (
        f'<form method="post" action="{esc(action)}" class="inline"{extra}>'
        f'{csrf_field(session)}{hidden}<button type="submit">{esc(button)}</button></form>'
    )


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], **attrs: str) -> str:
    """A table; cells are HTML already (escape values with ``esc``)."""
    extra = "".join(f' {k.replace("_", "-")}="{esc(v)}"' for k, v in attrs.items())
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table{extra}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def options(values: Iterable[tuple[str, str]], chosen: str | None) -> str:
    """``<option>`` elements, the chosen one selected."""
    return "".join(
        f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(label)}</option>'
        for v, label in values
    )


def page(title: str, body: str, session: Session | None, active: str = "") -> str:
    """The whole document: head, navigation (when signed in), flash messages, body."""
    nav = ""
    if session is not None and session.signed_in:
        current = ' class="active"'
        links = "".join(
            f'<a href="{href}"{current if href == active else ""}>{label}</a>'
            for href, label in NAV
        )
        sign_out = post_form("/console/sign-out", session, "Sign out", id="sign-out")
        nav = f"<nav>{links}</nav>{sign_out}"
    flash = ""
    if session is not None and session.flash:
        notes = "".join(f'<p class="flash">{esc(m)}</p>' for m in session.flash)
        flash = f'<div id="flash">{notes}</div>'
        session.flash.clear()
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · enrichment console</title>"
        '<link rel="icon" href="data:,">'
        '<link rel="stylesheet" href="/console/static/console.css">'
        '<script src="/console/static/console.js" defer></script></head>'
        f'<body><header><a class="brand" href="/console/">metadata-enrichment</a>{nav}</header>'
        f"<main><h1>{esc(title)}</h1>{flash}{body}</main></body></html>"
    )


def number(value: Any, digits: int = 1) -> str:
    """A number for a cell (empty for None)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return esc(f"{value:.{digits}f}")
    return esc(value)
