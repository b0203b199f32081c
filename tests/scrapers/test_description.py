"""The free-text tracklist reader: each format uploaders use, and its accuracy on a set."""

from __future__ import annotations

import pytest

from scrapers.parsing import parse_line
from scrapers.spiders.description import entry_shape, tracklist_lines
from tests.scrapers.descriptions import DESCRIPTIONS


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("Artist / Title", "Artist - Title"),
        ("Artist-Title", "Artist - Title"),
        ("Kate Bush -Running Up That Hill", "Kate Bush - Running Up That Hill"),
        ("The Chemical Brothers- Galvanize", "The Chemical Brothers - Galvanize"),
        ("Aphex Twin – Xtal", "Aphex Twin – Xtal"),
        ("Jean-Michel Jarre - Oxygene", "Jean-Michel Jarre - Oxygene"),
        ("Jean-Michel Jarre-Oxygene", None),
        ("Follow me - https://example.com", None),
        ("Mastered by Someone - at the studio", None),
        ("Intro", None),
    ],
)
def test_entry_shapes(written: str, read: str | None) -> None:
    """Slashes, lone hyphens and one-sided dashes become "A - T"; links and credits don't."""
    assert entry_shape(written) == read


def test_prefixes_in_every_spelling() -> None:
    """ "01.A", "1 A" (a run), "#1", "1)", "(00:00)", "00:00 -" all reach the parser."""
    text = "1 A - One\n2 B - Two\n#3 C - Three\n4) D - Four\n05.E - Five\n(06:00) F - Six"
    lines = tracklist_lines(text + "\n07:00 - G - Seven")
    parsed = [parse_line(line) for line in lines]
    assert [p.number for p in parsed if p] == [1, 2, 3, 4, 5, None, None]
    assert [p.cue_seconds for p in parsed if p][-2:] == [360, 420]


def test_a_lone_number_is_not_a_prefix() -> None:
    """Without a run of bare numbers, "2 Unlimited - Get Ready" keeps its artist."""
    assert tracklist_lines("Tracklist:\n2 Unlimited - Get Ready\nA - B") == [
        "2 Unlimited - Get Ready",
        "A - B",
    ]


def test_badly_spaced_line_does_not_end_the_block() -> None:
    """The real failure of issue 17 item 11: "Kate Bush -Running..." cut the list short."""
    text = "Tracklist:\n1. A - One\n2. Kate Bush -Running Up That Hill\n3. C - Three"
    assert len(tracklist_lines(text)) == 3


def test_labelled_descriptions() -> None:
    """On the labelled set: exact count for >= 90 %, and no list found where there is none."""
    exact = false_positives = 0
    for style, text, expected in DESCRIPTIONS:
        found = tracklist_lines(text)
        exact += len(found) == expected
        false_positives += expected == 0 and bool(found)
        for line in found:
            assert parse_line(line) is not None or "ID - ID" in line, (style, line)
    accuracy = exact / len(DESCRIPTIONS)
    print(
        f"\n{len(DESCRIPTIONS)} labelled descriptions: exact count {exact} ({accuracy:.2f}),"
        f" false positives {false_positives}"
    )
    assert len(DESCRIPTIONS) >= 40
    assert accuracy >= 0.9
    assert false_positives == 0
