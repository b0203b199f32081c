"""The subset of MusicBrainz's Lucene search syntax the recording search imitation accepts.

Supported: ``field:value``, ``field:"a phrase"``, ``field:(several terms)``, unfielded
terms (matched against title, artist and release), backslash escapes, and the operators
``AND`` / ``&&`` / ``OR`` / ``||`` (adjacent terms are OR-ed, as in Lucene). ``NOT``,
``-term`` and bare parentheses are refused with :class:`QuerySyntaxError` (HTTP 400).

Scoring: a clause scores its token overlap with the field (identifier fields such as
``arid`` or ``isrc`` match exactly); an AND-group scores its mean but 0 if any clause
misses; the query scores the mean over its OR-ed groups, as an integer 0..100.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from enrichment_sandbox.catalogue import CatalogueTrack
from enrichment_sandbox.text import overlap, token_set, tokens

_AND = frozenset({"AND", "&&"})
_OR = frozenset({"OR", "||"})
_UNSUPPORTED = frozenset({"NOT", "!"})
_STOP = frozenset(' \t\r\n"()')


class QuerySyntaxError(ValueError):
    """The query is outside the supported Lucene subset or malformed."""


@dataclass(frozen=True, slots=True)
class Clause:
    """One ``field:value`` (``field`` None for an unfielded term)."""

    field: str | None
    value: str


Query = list[list[Clause]]
"""OR-ed groups of AND-ed clauses."""

_Fields = Callable[[CatalogueTrack], tuple[str, ...]]


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The phrase whose opening quote is at ``start`` and the position after its close."""
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif char == '"':
            return "".join(out), i + 1
        else:
            out.append(char)
            i += 1
    raise QuerySyntaxError("unterminated quoted phrase")


def _read_word(text: str, start: int) -> tuple[str, int, bool]:
    """A bare word, the position after it, and whether it ended at an unescaped ``:``."""
    out: list[str] = []
    i = start
    while i < len(text) and text[i] not in _STOP:
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if text[i] == ":" and out:
            return "".join(out), i + 1, True
        out.append(text[i])
        i += 1
    return "".join(out), i, False


def _read_value(text: str, start: int) -> tuple[str, int]:
    """A field's value: a phrase, a parenthesised term list, or one word."""
    if start < len(text) and text[start] == '"':
        return _read_quoted(text, start)
    if start < len(text) and text[start] == "(":
        close = text.find(")", start)
        if close == -1:
            raise QuerySyntaxError("unbalanced parenthesis")
        return text[start + 1 : close].replace("\\", ""), close + 1
    word, end, _ = _read_word(text, start)
    if not word:
        raise QuerySyntaxError("a field has no value")
    return word, end


def _lex(text: str) -> list[Clause | str]:
    """Clauses and operator strings, in order."""
    items: list[Clause | str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char == '"':
            value, i = _read_quoted(text, i)
            items.append(Clause(None, value))
        elif char in "()":
            raise QuerySyntaxError("parenthesised groups are not supported here")
        else:
            word, i, is_field = _read_word(text, i)
            if is_field:
                value, i = _read_value(text, i)
                items.append(Clause(word.lower(), value))
            else:
                items.append(_operator_or_term(word))
    return items


def _operator_or_term(word: str) -> Clause | str:
    if word in _AND:
        return "AND"
    if word in _OR:
        return "OR"
    if word in _UNSUPPORTED or word.startswith("-"):
        raise QuerySyntaxError(f"negation ({word!r}) is not supported")
    return Clause(None, word.lstrip("+"))


def parse(text: str) -> Query:
    """Parse ``text`` into OR-ed groups of AND-ed clauses."""
    groups: Query = []
    pending: str | None = "START"
    for item in _lex(text):
        if isinstance(item, str):
            if pending is not None:
                raise QuerySyntaxError(f"misplaced operator {item}")
            pending = item
            continue
        if pending == "AND":
            groups[-1].append(item)
        else:
            groups.append([item])
        pending = None
    if pending == "START":
        raise QuerySyntaxError("empty query")
    if pending is not None:
        raise QuerySyntaxError(f"query ends with operator {pending}")
    return groups


_EXACT: dict[str, _Fields] = {
    "arid": lambda t: t.artist_mbids,
    "rid": lambda t: (t.mbid,),
    "reid": lambda t: (t.release_mbid,),
    "rgid": lambda t: (t.release_group_mbid,),
    "isrc": lambda t: (t.isrc,),
}
_TEXT: dict[str | None, _Fields] = {
    None: lambda t: (t.title, t.artist, *t.artists, t.album),
    "recording": lambda t: (t.title,),
    "recordingaccent": lambda t: (t.title,),
    "artist": lambda t: (t.artist, *t.artists),
    "artistname": lambda t: t.artists,
    "creditname": lambda t: t.artists,
    "release": lambda t: (t.album,),
    "tag": lambda t: tuple(name for name, _ in t.mb_tags),
}


def clause_score(clause: Clause, track: CatalogueTrack) -> float:
    """0..1: how well ``track`` satisfies ``clause`` (unknown fields never match)."""
    exact = _EXACT.get(clause.field or "")
    if exact is not None:
        wanted = clause.value.strip().casefold()
        return 1.0 if any(v.casefold() == wanted for v in exact(track)) else 0.0
    if clause.field in ("firstreleasedate", "date"):
        return 1.0 if track.release_date.startswith(clause.value.strip()) else 0.0
    text = _TEXT.get(clause.field)
    if text is None:
        return 0.0
    return overlap(tokens(clause.value), token_set(text(track)))


def score(query: Query, track: CatalogueTrack) -> int:
    """0..100: the MusicBrainz-style search score of ``track`` for ``query``."""
    total = 0.0
    for group in query:
        scores = [clause_score(c, track) for c in group]
        if all(s > 0 for s in scores):
            total += sum(scores) / len(scores)
    return round(100 * total / len(query))
