"""The tracklist-line parser and the deterministic track id (examples + properties)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapers.parsing import format_cue, parse_cue, parse_line, parse_tracklist
from scrapers.trackid import TRACK_ID_PATTERN, fold, track_id

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PROPERTIES = settings(max_examples=150, deadline=None, database=None)


def test_full_line_with_number_remix_and_label() -> None:
    """Number, artist, title, remix, remixer and label are all read."""
    line = parse_line("01. Eric Prydz - Opus (Four Tet Remix) [Pryda]")
    assert line is not None
    assert line.number == 1
    (track,) = line.tracks
    assert (track.artist, track.title, track.label) == (
        "Eric Prydz",
        "Opus (Four Tet Remix)",
        "Pryda",
    )
    assert (track.version, track.remixer) == ("Four Tet Remix", "Four Tet")


@pytest.mark.parametrize(
    ("line", "seconds"),
    [("[01:02:03] A - B", 3723), ("12:34 A - B", 754), ("[045] A - B", 2700), ("[0:00] A - B", 0)],
)
def test_cue_formats(line: str, seconds: int) -> None:
    """Bracketed, bare and MixesDB-minute cues become seconds."""
    parsed = parse_line(line)
    assert parsed is not None
    assert parsed.cue_seconds == seconds


@pytest.mark.parametrize(
    "line", ["ID - ID", "03. ID - ID", "? - ?", "Eric Prydz - ID", "id - Opus"]
)
def test_unknowns_are_skipped(line: str) -> None:
    """ "ID - ID" and half-known lines leave nothing to enrich."""
    assert parse_line(line) is None


def test_mashups_and_played_with() -> None:
    """ "vs." between two credits is two tracks; "w/" marks a track played with the previous."""
    entries = parse_tracklist(["01. Opus - X", "A - One vs. B - Two", "w/ C - Three", "ID - ID"])
    assert [e.track.artist for e in entries] == ["Opus", "A", "B", "C"]
    assert [e.mashup for e in entries] == [False, True, True, True]
    assert [e.position for e in entries] == [1, 2, 3, 4]
    single = parse_line("Eric Prydz vs. Pryda - Power Drive")
    assert single is not None
    assert single.tracks[0].artists == ("Eric Prydz", "Pryda")


@pytest.mark.parametrize(
    "line",
    [
        "Bicep feat. Clara La San - Saku",
        "Bicep ft. Clara La San - Saku",
        "Bicep featuring Clara La San - Saku",
        "Bicep (feat. Clara La San) - Saku",
        "Bicep - Saku (feat. Clara La San)",
        "Bicep - Saku ft. Clara La San",
    ],
)
def test_feat_variants_agree(line: str) -> None:
    """Every way of writing a featured artist gives the same credit and id."""
    parsed = parse_line(line)
    assert parsed is not None
    (track,) = parsed.tracks
    assert (track.artist, track.title, track.featured) == (
        "Bicep feat. Clara La San",
        "Saku",
        ("Clara La San",),
    )
    assert track.track_id == track_id("Bicep", "Saku")


def test_track_id_is_stable_and_not_a_uuid() -> None:
    """The id is a fixed function of the credit (same value in every process)."""
    assert track_id("deadmau5", "Strobe") == "trk-5c0311713f16198edb933fed"
    assert not UUID.match(track_id("deadmau5", "Strobe"))


def test_track_id_separates_versions() -> None:
    """Remixes and edits are other tracks; "(Original Mix)" and labels are not."""
    base = track_id("Eric Prydz", "Opus")
    assert track_id("Eric Prydz", "Opus (Original Mix)") == base
    assert track_id("ERIC PRYDZ", "Opus [Pryda]") == base
    assert track_id("Eric Prydz", "Opus (Four Tet Remix)") != base
    assert track_id("Eric Prydz", "Opus (Radio Edit)") != base


def test_cue_round_trip() -> None:
    """format_cue writes what parse_cue reads."""
    assert format_cue(3723) == "1:02:03"
    assert parse_cue("1:02:03") == 3723
    assert format_cue(None) is None


# --- properties --------------------------------------------------------------------------

WORD = st.text(
    alphabet=st.characters(codec="latin-1", categories=["Lu", "Ll", "Nd"]), min_size=1, max_size=8
)
NAME = (
    st.lists(WORD, min_size=1, max_size=3)
    .map(" ".join)
    .filter(
        lambda s: (
            fold(s) not in {"id", "unknown"}
            and not re.search(r"\b(?:vs|x|ft|feat|featuring|and|w)\b", s, re.I)
        )
    )
)


@PROPERTIES
@given(st.text(max_size=200))
def test_parser_never_raises(text: str) -> None:
    """Any text parses to None or to tracks with valid ids."""
    parsed = parse_line(text)
    for track in parsed.tracks if parsed else ():
        assert TRACK_ID_PATTERN.match(track.track_id)
        assert track.artist
        assert track.title


@PROPERTIES
@given(
    NAME, NAME, st.integers(1, 99), st.integers(0, 3 * 3600), st.sampled_from(["", "Pryda", "Data"])
)
def test_formatted_line_round_trips(
    artist: str, title: str, number: int, cue: int, label: str
) -> None:
    """A line built from parts parses back to those parts."""
    suffix = f" [{label}]" if label else ""
    parsed = parse_line(f"{number:02d}. [{format_cue(cue)}] {artist} - {title}{suffix}")
    assert parsed is not None
    (track,) = parsed.tracks
    assert (parsed.number, parsed.cue_seconds) == (number, cue)
    assert (track.artist, track.title, track.label) == (artist, title, label or None)


@PROPERTIES
@given(NAME, NAME, st.sampled_from(["feat.", "ft.", "featuring"]), NAME)
def test_track_id_ignores_presentation(artist: str, title: str, feat: str, guest: str) -> None:
    """Case, spacing, numbering, cues, feat. credits and "(Original Mix)" keep the id."""
    expected = track_id(artist, title)
    variants = [
        f"  {artist.upper()}   -  {title.lower()} ",
        f"07. [1:00:00] {artist} {feat} {guest} - {title} (Original Mix)",
        f"{artist} - {title} ({feat} {guest}) [Some Label]",
    ]
    for line in variants:
        parsed = parse_line(line)
        assert parsed is not None, line
        assert parsed.tracks[0].track_id == expected, line


@PROPERTIES
@given(NAME, NAME, NAME, NAME)
def test_track_id_distinguishes_remixers(artist: str, title: str, one: str, two: str) -> None:
    """Two different remixers make two different tracks."""
    first = track_id(artist, f"{title} ({one} Remix)")
    second = track_id(artist, f"{title} ({two} Remix)")
    assert (first == second) == (fold(one) == fold(two))
    assert TRACK_ID_PATTERN.match(first)


@PROPERTIES
@given(
    st.sampled_from(["ID", "id", "Id", "?", "Unknown"]),
    st.sampled_from(["ID", "?", "Unknown Track"]),
)
def test_unknowns_always_skipped(artist: str, title: str) -> None:
    """Any spelling of an unknown artist or title is skipped."""
    assert parse_line(f"05. {artist} - {title}") is None


# --- credit keywords inside words (issue 17 item 10) ----------------------------------------

#: Every credit keyword the parser splits on.
KEYWORDS = ["feat", "ft", "featuring", "vs", "x", "with", "and", "w"]
LETTERS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=4
)


@st.composite
def inner_keyword_word(draw: st.DrawFn) -> str:
    """A word holding a credit keyword inside it ("Shift", "Swift", "Defeat", "Boxer")."""
    keyword = draw(st.sampled_from(KEYWORDS))
    keyword = draw(st.sampled_from([keyword, keyword.upper(), keyword.title()]))
    before, after = draw(LETTERS), draw(LETTERS)
    if not before and not after:
        after = draw(st.sampled_from(["a", "K3Y", "er"]))
    return before + keyword + after


INNER_NAME = st.lists(inner_keyword_word(), min_size=1, max_size=3).map(" ".join)


@pytest.mark.parametrize(
    ("line", "artist", "title"),
    [
        ("Central Cee - One Up (Shift K3Y Remix)", "Central Cee", "One Up (Shift K3Y Remix)"),
        ("Tensnake - Loft (Swift Edit)", "Tensnake", "Loft (Swift Edit)"),
        ("Defeat Sound - Craftwork With Wax", "Defeat Sound", "Craftwork With Wax"),
    ],
)
def test_keywords_inside_words_are_not_credits(line: str, artist: str, title: str) -> None:
    """The real lines of issue 17 item 10 keep their artist and title whole."""
    parsed = parse_line(line)
    assert parsed is not None
    (track,) = parsed.tracks
    assert (track.artist, track.title, track.featured) == (artist, title, ())


@PROPERTIES
@given(INNER_NAME, INNER_NAME, INNER_NAME, st.booleans())
def test_keywords_inside_words_never_split(
    artist: str, title: str, remixer: str, remix: bool
) -> None:
    """A keyword inside a word (issue 17 item 10) is never read as feat., vs., x, with or &."""
    full_title = f"{title} ({remixer} Remix)" if remix else title
    parsed = parse_line(f"{artist} - {full_title}")
    assert parsed is not None
    (track,) = parsed.tracks
    assert (track.artist, track.title, track.featured) == (artist, full_title, ())
    assert track.artists == (artist,)
    assert track.remixer == (remixer if remix else None)
    assert track.track_id == track_id(f"{artist} feat. Guest", full_title)
