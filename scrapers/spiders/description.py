"""Tracklists inside free text: video and track descriptions, Reddit posts, archive items.

Such text mixes the tracklist with links, credits and chatter. ``tracklist_lines`` keeps
the lines that look like tracklist entries and hands them to ``scrapers.parsing``
(which reads cues, numbering and "w/", and skips "ID - ID"):

* after a heading ending in "Tracklist" / "Track list" / "Setlist" (with or without a
  colon): the following block of track-shaped lines, up to the first line that is
  neither blank nor track-shaped (or holds a link); a block that starts numbered or
  cued ends at the first line that is not;
* without a heading: only lines that start with a cue or a number ("00:00 A - T",
  "01. A - T"), so "Follow Eric Prydz - https://..." never becomes a track;
* ``whole=True`` (a field that is nothing but a tracklist): every line with a separator.

Markdown bullets, bold and escapes ("1\\.") and "00:00 - A - T" cue dashes are cleaned
first; ``html_text`` turns an HTML description into lines.
"""

from __future__ import annotations

import html
import re

__all__ = ["clean_line", "html_text", "tracklist_lines"]

_HEADING = re.compile(r"\b(?:track\s?-?\s?list(?:ing)?|set\s?list)\s*:?\s*$", re.IGNORECASE)
_URL = re.compile(r"https?://|www\.|\.com/", re.IGNORECASE)
_BULLET = re.compile(r"^(?:[*+•·>]|-(?=\s))\s*")
_CUE_DASH = re.compile(r"^(\[?(?:\d{1,2}:)?\d{1,3}:\d{2}\]?)\s*[-–—|]\s+")
_EMPHASIS = re.compile(r"\*\*|__|`")
_ESCAPE = re.compile(r"\\([.\-*_#()\[\]!+])")
_PREFIX = re.compile(r"^(?:#\s*)?\d{1,3}\s*[.)]\s|^\[?(?:\d{1,2}:)?\d{1,3}:\d{2}\]?\s|^w/", re.I)
_SEPARATOR = re.compile(r"\s[-–—]\s")
_BREAK = re.compile(r"<br\s*/?>|</(?:p|div|li|h\d)>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def clean_line(line: str) -> str:
    """A line without Markdown bullets, emphasis, escapes or a dash after its cue."""
    text = _ESCAPE.sub(r"\1", _EMPHASIS.sub("", line)).strip()
    text = _BULLET.sub("", text)
    return _CUE_DASH.sub(r"\1 ", text).strip()


def html_text(markup: str) -> str:
    """Plain text of an HTML fragment, one line per ``<br>`` / paragraph / list item."""
    return html.unescape(_TAG.sub("", _BREAK.sub("\n", markup)))


def _is_track(line: str) -> bool:
    """True for a line shaped like "A - T", without a link."""
    return bool(_SEPARATOR.search(line)) and not _URL.search(line)


def _after_heading(lines: list[str], start: int) -> list[str]:
    """The block of track-shaped lines following a heading at ``start - 1``.

    When the block's first line is numbered or cued, every line of it must be.
    """
    block: list[str] = []
    for line in lines[start:]:
        if not line:
            continue
        prefixed = bool(_PREFIX.match(line))
        shaped = prefixed or bool(_SEPARATOR.search(line))
        if block and _PREFIX.match(block[0]):
            shaped = prefixed
        if _URL.search(line) or not shaped:
            if block:
                break
            continue
        block.append(line)
    return [line for line in block if _is_track(line)]


def tracklist_lines(text: str, *, whole: bool = False) -> list[str]:
    """The lines of ``text`` that are tracklist entries (see the module docstring)."""
    lines = [clean_line(line) for line in text.splitlines()]
    if whole:
        return [line for line in lines if _is_track(line)]
    for index, line in enumerate(lines):
        if _HEADING.search(line):
            found = _after_heading(lines, index + 1)
            if found:
                return found
    return [line for line in lines if _PREFIX.match(line) and _is_track(line)]
