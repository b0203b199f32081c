"""Operators' selections checked before any query (issue 12 item 7).

A selection the store cannot run (an enum value this server does not know, a page token
it never issued, an id beyond the column's range, a credential name that does not
exist) is ``InvalidRequest``, answered INVALID_ARGUMENT with a ``google.rpc.BadRequest``
naming each bad field, exactly as ``Enrich`` answers bad input. Nothing here touches the
database, so no driver error (overflow, bad encoding) can reach the caller as UNKNOWN.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from enrichment_server.credentials import Credentials
from enrichment_server.domain import Source
from enrichment_server.errors import FieldViolation, InvalidRequest

__all__ = ["MAX_ID", "MAX_PAGE", "Page", "Selection", "credential", "enum_value", "ids", "page"]

#: ``dead_letters.id`` is an INTEGER on both engines: a larger id cannot exist.
MAX_ID = 2**31 - 1
MAX_PAGE = 500
DEFAULT_PAGE = 50
MAX_CREDENTIAL_CHARS = 4096
E = TypeVar("E")


@dataclass(frozen=True, slots=True)
class Selection:
    """Which dead letters an operator means (None: no condition)."""

    ids: list[int] | None
    source: str | None
    kind: str | None
    state: str | None

    @property
    def empty(self) -> bool:
        """No selector at all."""
        return not (self.ids or self.source or self.kind or self.state)


@dataclass(frozen=True, slots=True)
class Page:
    """A page size within bounds and the id the page starts after (as the store's token)."""

    size: int
    token: str | None


def enum_value(
    field: str, value: int, known: Mapping[Any, E], bad: list[FieldViolation]
) -> E | None:
    """``known[value]``; None for 0 (unspecified); a violation for a value not known."""
    if value == 0:
        return None
    if value not in known:
        bad.append(FieldViolation(field, f"unknown value {value}"))
        return None
    return known[value]


def ids(values: Iterable[int], bad: list[FieldViolation]) -> list[int] | None:
    """Entry ids, each between 1 and ``MAX_ID``."""
    chosen = list(values)
    for position, value in enumerate(chosen):
        if not 1 <= value <= MAX_ID:
            bad.append(FieldViolation(f"ids[{position}]", f"must be between 1 and {MAX_ID}"))
    return chosen or None


def page(size: int, token: str, bad: list[FieldViolation]) -> Page:
    """A page size (0: the default, at most ``MAX_PAGE``) and a token this server issued."""
    if size < 0:
        bad.append(FieldViolation("page_size", "must not be negative"))
    if token and not (token.isascii() and token.isdigit() and 0 < int(token) <= MAX_ID):
        bad.append(FieldViolation("page_token", "is not a next_page_token from this service"))
    return Page(min(MAX_PAGE, size or DEFAULT_PAGE), token or None)


def credential(source: Source | None, name: str, value: str) -> None:
    """A credential to store: a known (source, name) and a value without control characters."""
    bad: list[FieldViolation] = []
    if source is None:
        bad.append(FieldViolation("source", "is required (a known source)"))
    if not name:
        bad.append(FieldViolation("name", "is required"))
    elif source is not None and (str(source), name) not in Credentials.FIELDS:
        known = ", ".join(n for s, n in sorted(Credentials.FIELDS) if s == str(source))
        bad.append(FieldViolation("name", f"not a credential of {source} (known: {known})"))
    if not value.strip():
        bad.append(FieldViolation("value", "is required, not blank"))
    elif len(value) > MAX_CREDENTIAL_CHARS:
        bad.append(FieldViolation("value", f"must be at most {MAX_CREDENTIAL_CHARS} characters"))
    elif any(unicodedata.category(c) in ("Cc", "Cs") or c.isspace() for c in value):
        bad.append(FieldViolation("value", "must not contain spaces or control characters"))
    check(bad)


def check(bad: list[FieldViolation]) -> None:
    """Raise ``InvalidRequest`` when anything is bad."""
    if bad:
        raise InvalidRequest(bad)
