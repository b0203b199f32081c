"""Unit tests for enrichment.matching: normalisation, scoring and candidate choice."""

from __future__ import annotations

import pytest

from enrichment_server.enrichment.matching import (
    DEFAULT_THRESHOLD,
    Match,
    Matcher,
    NormalisedTrack,
    normalise,
    score,
)

Row = tuple[str, str]

SAME_TRACK: list[tuple[Row, Row]] = [
    # accents and special letters
    (("Royksopp", "Eple"), ("Röyksopp", "Eple")),
    (("Kolsch", "Grey"), ("Kölsch", "Grey")),
    (("Mo", "Final Song"), ("MØ", "Final Song")),
    (("Sigur Ros", "Hoppipolla"), ("Sigur Rós", "Hoppípolla")),
    (("Moderat", "Bad Kingdom"), ("Moderat", "Bad Kingdom")),
    # featured-artist variants
    (("Bicep ft. Clara La San", "Saku"), ("Bicep, Clara La San", "Saku")),
    (("Bicep featuring Clara La San", "Saku"), ("Bicep, Clara La San", "Saku")),
    (("Bicep & Clara La San", "Saku"), ("Bicep, Clara La San", "Saku")),
    (("Bicep feat. Clara La San", "Saku"), ("Bicep", "Saku (feat. Clara La San)")),
    (("Bicep", "Saku (feat. Clara La San)"), ("Bicep, Clara La San", "Saku")),
    (("Bicep ft. Clara La San", "Saku"), ("Bicep", "Saku")),
    (("Bicep", "Saku"), ("Bicep, Clara La San", "Saku")),
    (("Fred again.. x Four Tet", "Baby again.."), ("Fred again.., Four Tet", "Baby again..")),
    (("Disclosure vs. Sam Smith", "Latch"), ("Disclosure, Sam Smith", "Latch")),
    # annotation noise
    (("deadmau5", "Strobe (Original Mix)"), ("deadmau5", "Strobe")),
    (("deadmau5", "Strobe [MAU5TRAP]"), ("deadmau5", "Strobe")),
    (("deadmau5", "Strobe (Original Mix) [MAU5TRAP]"), ("deadmau5", "Strobe")),
    (("Kerri Chandler", "Rain [Free Download]"), ("Kerri Chandler", "Rain")),
    (("deadmau5", "Strobe (Extended Mix)"), ("deadmau5", "Strobe")),
    (("Daft Punk", "One More Time (Album Version)"), ("Daft Punk", "One More Time")),
    (
        ("The Chemical Brothers", "Hey Boy Hey Girl"),
        ("The Chemical Brothers", "Hey Boy Hey Girl - 2012 Remaster"),
    ),
    (("New Order", "Blue Monday (Remastered)"), ("New Order", "Blue Monday - Remastered 2015")),
    # Spotify " - Version" style against bracketed versions
    (("deadmau5", "Strobe (Radio Edit)"), ("deadmau5", "Strobe - Radio Edit")),
    (("Jamie xx", "Gosh (Club Edit)"), ("Jamie xx", "Gosh - Club Edit")),
    (("Bonobo", "Kerala (Four Tet Remix)"), ("Bonobo", "Kerala - Four Tet Remix")),
    (("Caribou", "Sun [Kieran Hebden Rmx]"), ("Caribou", "Sun - Kieran Hebden Remix")),
    (("Skrillex", "Rumble (VIP)"), ("Skrillex", "Rumble - VIP Mix")),
    # typos, case and punctuation
    (("deadmau5", "Strobbe"), ("deadmau5", "Strobe")),
    (("Deadmau5", "STROBE"), ("deadmau5", "Strobe")),
    (("dead mau5", "Strobe"), ("deadmau5", "Strobe")),
    (
        ("Fred again..", "Delilah (pull me out of this)"),
        ("Fred Again", "Delilah (Pull Me Out Of This)"),
    ),
    (
        ("Daft Punk", "Dont Stop Til You Get Enough"),
        ("Daft Punk", "Don't Stop 'Til You Get Enough"),
    ),
    (("Chemical Brothers", "Galvanize"), ("The Chemical Brothers", "Galvanize")),
    (("Jay-Z", "Dirt Off Your Shoulder"), ("JAY Z", "Dirt Off Your Shoulder")),
    (("A$AP Rocky", "Praise the Lord"), ("ASAP Rocky", "Praise The Lord")),
    (("Simon & Garfunkel", "Mrs. Robinson"), ("Simon and Garfunkel", "Mrs Robinson")),
    (("Artist", "Song (Pt. 2)"), ("Artist", "Song (Part 2)")),
    (("Artist", "Rock & Roll"), ("Artist", "Rock and Roll")),
]

DIFFERENT_TRACK: list[tuple[Row, Row]] = [
    # remix / edit versus original, in both directions
    (("deadmau5", "Strobe"), ("deadmau5", "Strobe - Club Edit")),
    (("deadmau5", "Strobe"), ("deadmau5", "Strobe (Radio Edit)")),
    (("Bonobo", "Kerala (Four Tet Remix)"), ("Bonobo", "Kerala")),
    (("Bonobo", "Kerala (Four Tet Remix)"), ("Bonobo", "Kerala - Radio Edit")),
    (("Skrillex", "Rumble"), ("Skrillex", "Rumble (VIP)")),
    (("Artist", "Song"), ("Artist", "Song - Live at Brixton")),
    (("Artist", "Song (Dub)"), ("Artist", "Song (Remix)")),
    # different remixers or kinds of rework
    (("Bonobo", "Kerala (Four Tet Remix)"), ("Bonobo", "Kerala (Maceo Plex Remix)")),
    (("Disclosure", "Latch (Kerri Chandler Remix)"), ("Disclosure", "Latch (Kerri Chandler Dub)")),
    (("Artist", "Song (Adam Remix)"), ("Artist", "Song (Adan Remix)")),
    (("Artist", "Song (Ben Edit)"), ("Artist", "Song (Ben Remix)")),
    # same title by a different artist
    (("Kings of Tomorrow", "Finally"), ("CeCe Peniston", "Finally")),
    (("Kings of Tomorrow", "Finally"), ("Kings of Leon", "Finally")),
    (("deadmau5", "Strobe"), ("Unknown Artist", "Strobe")),
    (("Bicep", "Glue"), ("Biffy Clyro", "Glue")),
    (("Bicep ft. Clara La San", "Saku"), ("Clara La San", "Saku")),
    # different titles or numbered parts
    (("deadmau5", "Strobe"), ("deadmau5", "Ghosts 'n' Stuff")),
    (("Artist", "Song (Part 1)"), ("Artist", "Song (Part 2)")),
    (("Artist", "Home"), ("Artist", "Hope")),
    (("Artist", "Strobe"), ("Artist", "Strobe 2")),
]


@pytest.mark.parametrize(("query", "candidate"), SAME_TRACK, ids=lambda row: " - ".join(row))
def test_same_track_matches(query: Row, candidate: Row) -> None:
    """Spelling, credit and annotation variants of one recording score at or above threshold."""
    assert score(normalise(*query), normalise(*candidate)) >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(("query", "candidate"), DIFFERENT_TRACK, ids=lambda row: " - ".join(row))
def test_different_track_rejected(query: Row, candidate: Row) -> None:
    """Other versions, remixers, artists or titles score below threshold."""
    assert score(normalise(*query), normalise(*candidate)) < DEFAULT_THRESHOLD


@pytest.mark.parametrize(("query", "candidate"), SAME_TRACK + DIFFERENT_TRACK)
def test_score_is_in_unit_interval(query: Row, candidate: Row) -> None:
    """Scores always lie in [0, 1]."""
    assert 0.0 <= score(normalise(*query), normalise(*candidate)) <= 1.0


@pytest.mark.parametrize(
    ("artist", "title"),
    [("deadmau5", "Strobe"), ("Röyksopp", "Eple"), ("Bicep, Clara La San", "Saku (VIP)")],
)
def test_identical_rows_score_one(artist: str, title: str) -> None:
    """A row compared with itself scores exactly 1."""
    track = normalise(artist, title)
    assert score(track, track) == pytest.approx(1.0)


def test_empty_rows_score_zero() -> None:
    """Rows with no artist and no title never match anything."""
    assert score(normalise("", ""), normalise("deadmau5", "Strobe")) == 0.0


@pytest.mark.parametrize(
    ("artist", "title", "expected"),
    [
        (
            "deadmau5",
            "Strobe (Original Mix)",
            NormalisedTrack(("deadmau5",), "strobe", "", "deadmau5", "Strobe"),
        ),
        (
            "deadmau5",
            "Strobe - Radio Edit",
            NormalisedTrack(
                ("deadmau5",), "strobe", "radio edit", "deadmau5", "Strobe (Radio Edit)"
            ),
        ),
        (
            "Bicep ft. Clara La San",
            "Saku [Ninja Tune]",
            NormalisedTrack(("bicep", "clara la san"), "saku", "", "Bicep", "Saku"),
        ),
        (
            "Bicep",
            "Saku (feat. Clara La San)",
            NormalisedTrack(("bicep", "clara la san"), "saku", "", "Bicep", "Saku"),
        ),
        ("Röyksopp", "Eple", NormalisedTrack(("royksopp",), "eple", "", "Röyksopp", "Eple")),
        (
            "Fred again..",
            "Baby again..",
            NormalisedTrack(("fred again",), "baby again", "", "Fred again..", "Baby again.."),
        ),
        (
            "Bonobo",
            "Kerala (Four Tet Remix) [Ninja Tune]",
            NormalisedTrack(
                ("bonobo",), "kerala", "four tet remix", "Bonobo", "Kerala (Four Tet Remix)"
            ),
        ),
        (
            "Caribou",
            "Sun (Kieran Hebden RMX)",
            NormalisedTrack(
                ("caribou",), "sun", "kieran hebden remix", "Caribou", "Sun (Kieran Hebden RMX)"
            ),
        ),
        (
            "Skrillex",
            "Rumble (VIP Mix)",
            NormalisedTrack(("skrillex",), "rumble", "vip", "Skrillex", "Rumble (VIP Mix)"),
        ),
        (
            "Artist",
            "Song (Pt. 2)",
            NormalisedTrack(
                ("artist",), "song 2", "", "Artist", "Song (Pt. 2)", short_title="song"
            ),
        ),
        (
            "The Chemical Brothers",
            "Galvanize - 2012 Remaster",
            NormalisedTrack(
                ("the chemical brothers",), "galvanize", "", "The Chemical Brothers", "Galvanize"
            ),
        ),
        (
            "Ørjan Nilsen & Æther",
            "Straße",
            NormalisedTrack(
                ("orjan nilsen", "aether"), "strasse", "", "Ørjan Nilsen & Æther", "Straße"
            ),
        ),
        (
            "Łukasz & Ke$ha",
            "Don't",
            NormalisedTrack(("lukasz", "kesha"), "dont", "", "Łukasz & Ke$ha", "Don't"),
        ),
    ],
)
def test_normalise_values(artist: str, title: str, expected: NormalisedTrack) -> None:
    """normalise() splits credits, strips noise and keeps display strings for search."""
    assert normalise(artist, title) == expected


@pytest.mark.parametrize(
    ("credit", "artists"),
    [
        ("A & B", ("a", "b")),
        ("A and B", ("a", "b")),
        ("A x B", ("a", "b")),
        ("A vs B", ("a", "b")),
        ("A vs. B", ("a", "b")),
        ("A, B, C", ("a", "b", "c")),
        ("A with B", ("a", "b")),
        ("A feat. B", ("a", "b")),
        ("A feat B", ("a", "b")),
        ("A ft. B", ("a", "b")),
        ("A featuring B & C", ("a", "b", "c")),
        ("A (feat. B)", ("a", "b")),
        ("A & B feat. A", ("a", "b")),
    ],
)
def test_artist_credit_splitting(credit: str, artists: tuple[str, ...]) -> None:
    """Every credit separator yields individual artists in credit order without duplicates."""
    assert normalise(credit, "Song").artists == artists


def test_featured_from_title_follows_credit() -> None:
    """Artists featured in the title come after the credited artists."""
    assert normalise("A & B", "Song (ft. C)").artists == ("a", "b", "c")


@pytest.mark.parametrize(
    ("title", "base_title"),
    [
        ("Song (Part 1)", "song 1"),
        ("Song - Part 2", "song 2"),
        ("Intro (Interlude)", "intro interlude"),
        ("Feat of Clay", "feat of clay"),
    ],
)
def test_unknown_annotations_stay_in_title(title: str, base_title: str) -> None:
    """Parenthesised or dashed text that is not a version keyword remains part of the title."""
    assert normalise("Artist", title).base_title == base_title


def test_leading_the_is_kept() -> None:
    """Normalisation keeps a leading "the" in artist names."""
    assert normalise("The xx", "Intro").artists == ("the xx",)


def test_duration_penalty_rejects_far_durations() -> None:
    """Durations more than 15 % apart pull an otherwise perfect match below threshold."""
    track = normalise("deadmau5", "Strobe")
    penalised = score(track, track, query_duration_ms=634_000, candidate_duration_ms=200_000)
    assert penalised < DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("query_ms", "candidate_ms"),
    [(634_000, 600_000), (None, 200_000), (634_000, None), (None, None), (0, 200_000)],
)
def test_duration_close_or_missing_does_not_penalise(
    query_ms: int | None, candidate_ms: int | None
) -> None:
    """Durations within 15 %, or any missing duration, leave the score untouched."""
    track = normalise("deadmau5", "Strobe")
    value = score(track, track, query_duration_ms=query_ms, candidate_duration_ms=candidate_ms)
    assert value == pytest.approx(1.0)


Candidate = tuple[str, str, int | None]


def _describe(candidate: Candidate) -> Candidate:
    """Identity describer for tuple candidates."""
    return candidate


DECOYS: list[Candidate] = [
    ("Unknown Artist", "Strobe", 634_000),
    ("deadmau5", "Strobe - Club Edit", 400_000),
    ("deadmau5", "Strobe - Radio Edit", 200_000),
    ("deadmau5", "Ghosts 'n' Stuff", 380_000),
]


def test_matcher_picks_right_candidate_among_decoys() -> None:
    """Matcher.best returns the original among remix, edit and wrong-artist decoys."""
    right: Candidate = ("deadmau5", "Strobe", 634_000)
    match = Matcher().best(
        normalise("deadmau5", "Strobe (Original Mix)"), [*DECOYS, right], _describe
    )
    assert match is not None
    assert match.candidate is right
    assert match.score >= DEFAULT_THRESHOLD


def test_matcher_picks_requested_version() -> None:
    """Matcher.best returns the radio edit when the query asks for the radio edit."""
    match = Matcher().best(normalise("deadmau5", "Strobe (Radio Edit)"), DECOYS, _describe)
    assert match is not None
    assert match.candidate == ("deadmau5", "Strobe - Radio Edit", 200_000)


def test_matcher_returns_none_when_nothing_passes() -> None:
    """Matcher.best returns None when every candidate is below threshold."""
    assert Matcher().best(normalise("deadmau5", "Strobe"), DECOYS[:2], _describe) is None


def test_matcher_returns_none_for_no_candidates() -> None:
    """Matcher.best returns None for an empty candidate list."""
    assert Matcher().best(normalise("deadmau5", "Strobe"), [], _describe) is None


def test_matcher_first_wins_ties() -> None:
    """Among equally good candidates the first one is returned."""
    first: Candidate = ("deadmau5", "Strobe", None)
    second: Candidate = ("deadmau5", "Strobe", None)
    match = Matcher().best(normalise("deadmau5", "Strobe"), [first, second], _describe)
    assert match is not None
    assert match.candidate is first
    assert match.score == pytest.approx(1.0)


def test_matcher_uses_query_duration() -> None:
    """Matcher.best applies the duration penalty from the query duration."""
    candidates: list[Candidate] = [("deadmau5", "Strobe", 200_000)]
    query = normalise("deadmau5", "Strobe")
    assert Matcher().best(query, candidates, _describe, query_duration_ms=634_000) is None
    assert Matcher().best(query, candidates, _describe) is not None


def test_matcher_threshold_is_configurable() -> None:
    """A lower threshold accepts what the default rejects."""
    query = normalise("Kings of Tomorrow", "Finally")
    candidates: list[Candidate] = [("Kings of Leon", "Finally", None)]
    assert Matcher().best(query, candidates, _describe) is None
    assert Matcher(threshold=0.5).best(query, candidates, _describe) is not None


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
def test_matcher_rejects_bad_threshold(threshold: float) -> None:
    """Thresholds outside [0, 1] are refused."""
    with pytest.raises(ValueError, match="threshold"):
        Matcher(threshold)


def test_match_is_a_frozen_value() -> None:
    """Match compares by value and cannot be mutated."""
    match = Match("x", 0.9)
    assert match == Match("x", 0.9)
    with pytest.raises(AttributeError):
        match.score = 1.0  # type: ignore[misc]


def test_default_threshold_value() -> None:
    """The default threshold is 0.82 and Matcher uses it."""
    assert DEFAULT_THRESHOLD == 0.82
    assert Matcher().threshold == DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    ("query", "candidate", "matches"),
    [
        (("&ME", "The Rapture Pt.III"), ("&ME", "The Rapture Pt.II"), False),
        (("&ME", "The Rapture Pt.III"), ("&ME", "The Rapture Pt. III"), True),
        (("Artist", "Song Part I"), ("Artist", "Song Part II"), False),
        (("Donna Summer", "I Feel Love"), ("Donna Summer", "I Feel Love"), True),
        (
            ("Axwell & Ingrosso", "More Than You Know"),
            ("Axwell /\\ Ingrosso", "More Than You Know"),
            True,
        ),
        (
            ("Moloko", "Sing It Back (Boris Dlugosch Remix)"),
            ("Moloko", "Sing It Back (Boris Dlugosch Mix)"),
            True,
        ),
        (
            ("Moloko", "Sing It Back (Boris Dlugosch Remix)"),
            ("Moloko", "Sing It Back (Boris Dlugosch Dub)"),
            False,
        ),
    ],
)
def test_evaluation_confusions_are_resolved(
    query: tuple[str, str], candidate: tuple[str, str], matches: bool
) -> None:
    """Cases the evaluation set exposed: Roman part numbers, the '/\\' duo, Mix == Remix."""
    value = score(normalise(*query), normalise(*candidate))
    assert (value >= DEFAULT_THRESHOLD) is matches, value
