"""Tracklists inside free text: video and track descriptions, Reddit posts, archive items.

Such text mixes the tracklist with links, credits and chatter. ``tracklist_lines`` keeps
the lines that are tracklist entries, rewritten into the shape ``scrapers.parsing`` reads
("[cue] 01. Artist - Title"; it then reads cues, numbering and "w/", and skips "ID - ID"):

* after a heading ("Tracklist", "Track list", "Tracklisting", "Setlist", "Tracks",
  "Playlist", with or without a colon or decoration): the following block of
  track-shaped lines, up to the first line that is neither blank nor track-shaped (or
  holds a link, or is a credit such as "Mixed by ..."); a block that starts numbered or
  cued ends at the first line that is not;
* without a heading: only lines that start with a cue or a number ("00:00 A - T",
  "01. A - T", or a run of "1 A - T", "2 A - T"...), so "Follow Eric Prydz - https://..."
  never becomes a track;
* ``whole=True`` (a field that is nothing but a tracklist): every track-shaped line.

Uploaders write entries many ways; each is rewritten to "Artist - Title" when the line
is otherwise an entry: "01.Artist - Title" (no space after the number), "1 Artist -
Title" (bare numbers, only in a run of at least two), "#1", "1)", "(00:00)", "00:00 -",
"Artist / Title", "Artist – Title", "Artist-Title" (one hyphen only), "Artist -Title" and
"Artist- Title" (one-sided spaces). Markdown bullets, bold and escapes ("1\\.") are
cleaned first; ``html_text`` turns an HTML description into lines.
"""

from __future__ import annotations

import html
import itertools
import re

__all__ = ["clean_line", "entry_shape", "html_text", "tracklist_lines"]

#: "... Tracklist:" may end a sentence; "Tracks" / "Playlist" only stand alone.
_HEADING = re.compile(
    r"(?:(?:^|[\s.:!-])(?:full\s+)?(?:track\s?-?\s?list(?:ing)?|set\s?list)"
    r"|^[\W_]*(?:tracks|play\s?list))(?:\s*\([^)]*\))?[\W_]*$",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://|www\.|\.com/|@\w", re.IGNORECASE)
_BULLET = re.compile(r"^(?:[*+•·>]|-(?=\s))\s*")
_EMPHASIS = re.compile(r"\*\*|__|`")
_ESCAPE = re.compile(r"\\([.\-*_#()\[\]!+])")
_CUE = r"\[?\(?(?:\d{1,2}:)?\d{1,3}:\d{2}\)?\]?"
_CUE_PREFIX = re.compile(rf"^({_CUE})\s*[-–—|:]?\s+")
_NUMBER_PREFIX = re.compile(r"^(?:#\s*)?(\d{1,3})\s*[.)]\s*(?=[^\d\s])|^#\s*(\d{1,3})\s+")
_BARE_NUMBER = re.compile(r"^(\d{1,3})\s+(?=\S)")
_WITH = re.compile(r"^w/\s*", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s[-–—]\s")
_ONE_SIDED = re.compile(r"(?<=\S)\s+[-–—](?=[^\s\d-])|(?<=[^\s-])[-–—]\s+(?=\S)")
_SLASH = re.compile(r"\s/\s")
_DASH_RUN = re.compile(r"[–—]")
_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")
#: Lines that are credits, links or calls to action, never tracks (they end a block).
_NOT_A_TRACK = re.compile(
    r"^(?:mixed|mastered|recorded|produced|artwork|art|photo|video|directed|filmed|follow|"
    r"subscribe|buy|download|stream|listen|thanks|thank you|booking|bookings|contact|"
    r"support|out now|tickets|doors|comments?|reply|instagram|facebook|twitter|tiktok|"
    r"soundcloud|spotify|bandcamp|youtube|website|email)\b",
    re.IGNORECASE,
)
_BREAK = re.compile(r"<br\s*/?>|</(?:p|div|li|h\d)>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def clean_line(line: str) -> str:
    """A line without Markdown bullets, emphasis or escapes, whitespace collapsed."""
    text = _ESCAPE.sub(r"\1", _EMPHASIS.sub("", line)).strip()
    return " ".join(_BULLET.sub("", text).split())


def html_text(markup: str) -> str:
    """Plain text of an HTML fragment, one line per ``<br>`` / paragraph / list item."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", markup)))


def _split_prefix(line: str, bare: bool) -> tuple[str, str]:
    """("[cue] 01." prefix in the parser's spelling, the rest of the line)."""
    prefix: list[str] = []
    for _ in range(3):
        if match := _CUE_PREFIX.match(line):
            prefix.append("[" + match.group(1).strip("[]()") + "]")
        elif match := _NUMBER_PREFIX.match(line):
            prefix.append(f"{match.group(1) or match.group(2)}.")
        elif bare and (match := _BARE_NUMBER.match(line)):
            prefix.append(f"{match.group(1)}.")
        elif match := _WITH.match(line):
            prefix.append("w/")
        else:
            break
        line = line[match.end() :]
    return " ".join(prefix), line.strip()


def entry_shape(text: str) -> str | None:
    """``text`` as "Artist - Title" if it is written as one credit, else None."""
    if not text or _URL.search(text) or _NOT_A_TRACK.match(text):
        return None
    if _SEPARATOR.search(text):
        return text
    for pattern in (_ONE_SIDED, _SLASH, _DASH_RUN):
        if len(pattern.findall(text)) == 1:
            return " - ".join(part.strip() for part in pattern.split(text, maxsplit=1))
    if len(_HYPHEN.findall(text)) == 1 and text.count("-") == 1:
        return " - ".join(part.strip() for part in text.split("-", 1))
    return None


def _entry(line: str, bare: bool = False) -> tuple[bool, str | None]:
    """(prefixed with a cue or number, the line as the parser reads it or None)."""
    prefix, rest = _split_prefix(line, bare)
    shaped = entry_shape(rest)
    if shaped is None:
        return bool(prefix), None
    return bool(prefix) and prefix != "w/", f"{prefix} {shaped}".strip()


def _bare_run(lines: list[str]) -> bool:
    """Whether at least two lines start with consecutive bare numbers (1, 2...)."""
    numbers = [int(m.group(1)) for line in lines if (m := _BARE_NUMBER.match(line))]
    return len(numbers) >= 2 and all(b == a + 1 for a, b in itertools.pairwise(numbers))


def _after_heading(lines: list[str]) -> list[str]:
    """The block of entries following a heading; numbered / cued blocks stay so."""
    bare = _bare_run(lines)
    block: list[str] = []
    numbered = False
    for line in lines:
        if not line:
            continue
        if _HEADING.search(line) and block:
            break
        prefixed, entry = _entry(line, bare)
        if entry is None or (block and numbered and not prefixed and not line.startswith("w/")):
            if block:
                break
            continue
        numbered = numbered or (not block and prefixed)
        block.append(entry)
    return block


def tracklist_lines(text: str, *, whole: bool = False) -> list[str]:
    """The entries of ``text``, in the parser's line shape (see the module docstring)."""
    lines = [clean_line(line) for line in text.splitlines()]
    if whole:
        return [entry for line in lines if line if (entry := _entry(line)[1])]
    for index, line in enumerate(lines):
        if _HEADING.search(line):
            found = _after_heading(lines[index + 1 :])
            if found:
                return found
    bare = _bare_run(lines)
    entries = (_entry(line, bare) for line in lines if line)
    return [entry for prefixed, entry in entries if prefixed and entry]
