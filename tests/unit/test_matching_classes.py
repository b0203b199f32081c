"""The matcher on rows as DJ tracklists write them: each class with its hard negatives beside
the positives (Pt. 2 vs Pt. 3, extended mix vs radio edit, remix vs original, a mashup vs
each of its parts, shared surnames vs a namesake)."""

from __future__ import annotations

import pytest

from enrichment_server.enrichment.matching import (
    DEFAULT_THRESHOLD,
    EXTENDED_MIN_MS,
    Matcher,
    normalise,
    score,
)

Row = tuple[str, str]
Case = tuple[Row, Row, bool]
Candidate = tuple[str, str, int | None]


def _matches(query: Row, candidate: Row, candidate_ms: int | None = None) -> bool:
    value = score(normalise(*query), normalise(*candidate), candidate_duration_ms=candidate_ms)
    return value >= DEFAULT_THRESHOLD


PARTS: list[Case] = [
    (("Joris Voorn", "Caldera Part 2"), ("Joris Voorn", "Caldera, Pt. 2"), True),
    (("Joris Voorn", "Caldera Pt. 1"), ("Joris Voorn", "Caldera, Pt. 1"), True),
    (("Joris Voorn", "Caldera (Part One)"), ("Joris Voorn", "Caldera, Pt. 1"), True),
    (("Jean-Michel Jarre", "Oxygène (Part IV)"), ("Jean-Michel Jarre", "Oxygène, Pt. 4"), True),
    (("Jean-Michel Jarre", "Oxygene Pt. II"), ("Jean-Michel Jarre", "Oxygène, Pt. 2"), True),
    (("Jean-Michel Jarre", "Oxygene 4"), ("Jean-Michel Jarre", "Oxygène, Pt. 4"), True),
    (("Stephan Bodzin", "Parallel II"), ("Stephan Bodzin", "Parallel, Pt. 2"), True),
    (("Stephan Bodzin", "Parallel Pt. 2"), ("Stephan Bodzin", "Parallel II"), True),
    (("Artist", "Song No. 3"), ("Artist", "Song, Pt. III"), True),
    # hard negatives: another number, or a number against none
    (("Joris Voorn", "Caldera Pt. 2"), ("Joris Voorn", "Caldera, Pt. 3"), False),
    (("Joris Voorn", "Caldera Part II"), ("Joris Voorn", "Caldera, Pt. 1"), False),
    (("Jean-Michel Jarre", "Oxygène Part V"), ("Jean-Michel Jarre", "Oxygène, Pt. 4"), False),
    (("Stephan Bodzin", "Parallel III"), ("Stephan Bodzin", "Parallel II"), False),
    (("Stephan Bodzin", "Parallel"), ("Stephan Bodzin", "Parallel II"), False),
    (("Artist", "Song Part One"), ("Artist", "Song Part Two"), False),
]

VERSIONS: list[Case] = [
    (
        ("Meduza", "Piece of Your Heart (Extended Mix)"),
        ("Meduza", "Piece of Your Heart - Extended Mix"),
        True,
    ),
    (
        ("Meduza", "Piece of Your Heart - Extended Version"),
        ("Meduza", "Piece of Your Heart (Extended Mix)"),
        True,
    ),
    (("Meduza", "Piece of Your Heart (Original Mix)"), ("Meduza", "Piece of Your Heart"), True),
    (("Camelphat", "Cola (Dub Mix)"), ("Camelphat", "Cola - Dub"), True),
    (("Disclosure", "Latch (Instrumental Mix)"), ("Disclosure", "Latch (instrumental)"), True),
    (("Calvin Harris", "Promises (A Cappella)"), ("Calvin Harris", "Promises - Acapella"), True),
    (("Chase & Status", "Blind Faith (VIP Mix)"), ("Chase & Status", "Blind Faith - VIP"), True),
    (("Joel Corry", "Head & Heart (Club Mix)"), ("Joel Corry", "Head & Heart - Club Mix"), True),
    # hard negatives: the extended mix vs the radio edit, one version vs another
    (
        ("Meduza", "Piece of Your Heart (Extended Mix)"),
        ("Meduza", "Piece of Your Heart - Radio Edit"),
        False,
    ),
    (("Meduza", "Piece of Your Heart"), ("Meduza", "Piece of Your Heart - Extended Mix"), False),
    (
        ("Meduza", "Piece of Your Heart (Original Mix)"),
        ("Meduza", "Piece of Your Heart (Extended Mix)"),
        False,
    ),
    (("Camelphat", "Cola (Dub)"), ("Camelphat", "Cola - Instrumental"), False),
    (("Disclosure", "Latch (Instrumental)"), ("Disclosure", "Latch"), False),
    (("Calvin Harris", "Promises (Acapella)"), ("Calvin Harris", "Promises"), False),
    (("Chase & Status", "Blind Faith (VIP)"), ("Chase & Status", "Blind Faith"), False),
    (
        ("Joel Corry", "Head & Heart (Club Mix)"),
        ("Joel Corry", "Head & Heart - Extended Mix"),
        False,
    ),
]

REMIXER_AS_ARTIST: list[Case] = [
    (("Lane 8", "Innerbloom (Lane 8 Remix)"), ("RÜFÜS DU SOL", "Innerbloom - Lane 8 Remix"), True),
    (("Four Tet", "Opus (Four Tet Remix)"), ("Eric Prydz", "Opus (Four Tet remix)"), True),
    (("Four Tet", "Opus - Four Tet Rmx"), ("Eric Prydz, Four Tet", "Opus - Four Tet Remix"), True),
    (
        ("Boris Dlugosch", "Sing It Back (Boris Dlugosch Mix)"),
        ("Moloko", "Sing It Back (Boris Dlugosch Remix)"),
        True,
    ),
    # hard negatives: the remix vs the original, another remixer, a plain row by the remixer
    (("Lane 8", "Innerbloom (Lane 8 Remix)"), ("RÜFÜS DU SOL", "Innerbloom"), False),
    (
        ("Lane 8", "Innerbloom (Lane 8 Remix)"),
        ("RÜFÜS DU SOL", "Innerbloom - What So Not Remix"),
        False,
    ),
    (
        ("Lane 8", "Innerbloom (Four Tet Remix)"),
        ("RÜFÜS DU SOL", "Innerbloom - Four Tet Remix"),
        False,
    ),
    (("Lane 8", "Innerbloom"), ("RÜFÜS DU SOL", "Innerbloom - Lane 8 Remix"), False),
    (("Four Tet", "Opus"), ("Eric Prydz", "Opus"), False),
]

MASHUPS: list[Case] = [
    (
        ("Tiësto vs. deadmau5", "Adagio For Strings vs. Strobe"),
        ("Tiësto", "Adagio for Strings"),
        False,
    ),
    (("Tiësto vs. deadmau5", "Adagio For Strings vs. Strobe"), ("deadmau5", "Strobe"), False),
    (
        ("Tiësto vs deadmau5", "Adagio For Strings vs Strobe (Original Mix)"),
        ("Tiësto", "Adagio for Strings"),
        False,
    ),
    (("Tiësto", "Adagio for Strings (Strobe Mashup)"), ("Tiësto", "Adagio for Strings"), False),
    (
        ("Tiësto", "Adagio for Strings"),
        ("Tiësto vs. deadmau5", "Adagio for Strings vs. Strobe"),
        False,
    ),
    # "vs." between artists alone is a collaboration; a released mashup matches itself
    (
        ("Avicii vs. Nicky Romero", "I Could Be the One"),
        ("Avicii, Nicky Romero", "I Could Be the One"),
        True,
    ),
    (
        ("Tiësto vs. deadmau5", "Adagio For Strings vs. Strobe"),
        ("Tiësto & deadmau5", "Adagio for Strings vs Strobe"),
        True,
    ),
]

COLLABORATIONS: list[Case] = [
    (
        ("Axwell Λ Ingrosso", "More Than You Know"),
        ("Axwell /\\ Ingrosso", "More Than You Know"),
        True,
    ),
    (("Axwell Λ Ingrosso", "More Than You Know"), ("Axwell, Ingrosso", "More Than You Know"), True),
    (
        ("Axwell Ingrosso", "More Than You Know"),
        ("Axwell /\\ Ingrosso", "More Than You Know"),
        True,
    ),
    (
        ("Paul & Fritz Kalkbrenner", "Sky and Sand"),
        ("Paul Kalkbrenner, Fritz Kalkbrenner", "Sky and Sand"),
        True,
    ),
    (
        ("Fritz & Paul Kalkbrenner", "Sky and Sand"),
        ("Paul Kalkbrenner & Fritz Kalkbrenner", "Sky and Sand"),
        True,
    ),
    (
        ("Fritz Kalkbrenner", "Sky and Sand"),
        ("Paul Kalkbrenner, Fritz Kalkbrenner", "Sky and Sand"),
        True,
    ),
    (("Elderbrook & CamelPhat", "Cola"), ("Camelphat, Elderbrook", "Cola"), True),
    (("Kita Alexander", "Atmosphere"), ("FISHER, Kita Alexander", "Atmosphere"), True),
    (("CamelPhat / Elderbrook", "Cola"), ("Camelphat, Elderbrook", "Cola"), True),
    (("Calvin Harris + Sam Smith", "Promises"), ("Calvin Harris, Sam Smith", "Promises"), True),
    (("Calvin Harris X Sam Smith", "Promises"), ("Calvin Harris, Sam Smith", "Promises"), True),
    (("Camelphat with Elderbrook", "Cola"), ("Camelphat, Elderbrook", "Cola"), True),
    # hard negatives: a namesake sharing the surname, a collaborator's solo title
    (("Fritz Kalkbrenner", "Aaron"), ("Paul Kalkbrenner", "Aaron"), False),
    (("Paul & Fritz Kalkbrenner", "Aaron"), ("Fritz Kalkbrenner", "Aaron"), False),
    (("Kita Alexander", "Losing It"), ("FISHER", "Losing It"), False),
    (("Ingrosso", "More Than You Know"), ("Axwell", "More Than You Know"), False),
]

CASE_AND_PUNCTUATION: list[Case] = [
    (("ATB", "9PM (Till I Come)"), ("ATB", "9 PM (Till I Come)"), True),
    (("ATB", "9 P.M. (Till I Come)"), ("ATB", "9 PM (Till I Come)"), True),
    (("A.T.B.", "9pm (till i come)"), ("ATB", "9 PM (Till I Come)"), True),
    (
        ("Crystal Waters", "Gypsy Woman (She’s Homeless)"),
        ("Crystal Waters", "Gypsy Woman (She's Homeless)"),
        True,
    ),
    (("Mr. Oizo", "Flat-Beat"), ("Mr Oizo", "Flat Beat"), True),
    (
        ("Spiller feat. Sophie Ellis Bextor", "Groovejet"),
        ("Spiller, Sophie Ellis-Bextor", "Groovejet"),
        True,
    ),
    # hard negatives: another number glued or not
    (("ATB", "8PM (Till I Come)"), ("ATB", "9 PM (Till I Come)"), False),
    (("Duke Dumont", "Need U (99%)"), ("Duke Dumont", "Need U (100%)"), False),
]


@pytest.mark.parametrize(
    ("query", "candidate", "expected"),
    [*PARTS, *VERSIONS, *REMIXER_AS_ARTIST, *MASHUPS, *COLLABORATIONS, *CASE_AND_PUNCTUATION],
    ids=lambda value: " - ".join(value) if isinstance(value, tuple) else str(value),
)
def test_dj_rows(query: Row, candidate: Row, expected: bool) -> None:
    """Each class of DJ row matches its recording and none of the hard negatives beside it."""
    assert _matches(query, candidate) is expected


def _describe(candidate: Candidate) -> Candidate:
    return candidate


def test_extended_row_prefers_the_listed_extended_mix() -> None:
    """With both listed, an "(Extended Mix)" row gets the extended recording, not the plain."""
    plain: Candidate = ("Meduza", "Piece of Your Heart", 152_000)
    extended: Candidate = ("Meduza", "Piece of Your Heart - Extended Mix", 282_000)
    query = normalise("Meduza", "Piece of Your Heart (Extended Mix)")
    match = Matcher().best(query, [plain, extended], _describe)
    assert match is not None
    assert match.candidate is extended


def test_plain_row_prefers_the_plain_recording() -> None:
    """With both listed, a plain or "(Original Mix)" row never gets the extended mix."""
    extended: Candidate = ("Meduza", "Piece of Your Heart - Extended Mix", 282_000)
    plain: Candidate = ("Meduza", "Piece of Your Heart", 152_000)
    for title in ("Piece of Your Heart", "Piece of Your Heart (Original Mix)"):
        match = Matcher().best(normalise("Meduza", title), [extended, plain], _describe)
        assert match is not None
        assert match.candidate is plain


@pytest.mark.parametrize(
    ("plain_ms", "expected"),
    [(EXTENDED_MIN_MS, True), (543_000, True), (None, True), (EXTENDED_MIN_MS - 1, False)],
)
def test_extended_row_falls_back_to_a_full_length_plain_title(
    plain_ms: int | None, expected: bool
) -> None:
    """Alone, a plain title is the extended mix only when it is long enough (else a radio cut)."""
    assert _matches(("Eric Prydz", "Opus (Extended Mix)"), ("Eric Prydz", "Opus"), plain_ms) is (
        expected
    )


@pytest.mark.parametrize(
    ("plain_ms", "expected"),
    [(152_000, True), (EXTENDED_MIN_MS - 1, True), (EXTENDED_MIN_MS, False), (None, False)],
)
def test_radio_edit_row_falls_back_to_a_single_length_plain_title(
    plain_ms: int | None, expected: bool
) -> None:
    """Alone, a plain title is the radio edit only when it is known to be single length."""
    row, plain = ("Meduza", "Piece of Your Heart (Radio Edit)"), ("Meduza", "Piece of Your Heart")
    assert _matches(row, plain, plain_ms) is expected


def test_radio_edit_row_prefers_a_listed_radio_edit_and_never_takes_the_extended_mix() -> None:
    """A listed radio edit beats the short plain title; the extended mix is never the edit."""
    plain: Candidate = ("Avicii", "Levels", 199_000)
    extended: Candidate = ("Avicii", "Levels - Extended Mix", 338_000)
    edit: Candidate = ("Avicii", "Levels - Radio Edit", 199_000)
    query = normalise("Avicii", "Levels (Radio Edit)")
    best = Matcher().best(query, [plain, extended, edit], _describe)
    assert best is not None
    assert best.candidate is edit
    assert Matcher().best(query, [extended], _describe) is None


def test_extended_fallback_scores_below_a_listed_extended_mix() -> None:
    """The fallback carries a lower confidence than the extended recording itself."""
    query = normalise("Eric Prydz", "Opus (Extended Mix)")
    fallback = score(query, normalise("Eric Prydz", "Opus"), candidate_duration_ms=543_000)
    listed = score(query, normalise("Eric Prydz", "Opus - Extended Mix"))
    assert DEFAULT_THRESHOLD <= fallback < listed


def test_mashup_is_flagged_and_collaborations_are_not() -> None:
    """Two titles joined by "vs." make a mashup; "vs." between artists alone does not."""
    assert normalise("Tiësto vs. deadmau5", "Adagio For Strings vs. Strobe").mashup
    assert not normalise("Avicii vs. Nicky Romero", "I Could Be the One").mashup
    assert normalise("Avicii vs. Nicky Romero", "x").artists == ("avicii", "nicky romero")


def test_every_separator_djs_use_splits_the_credit() -> None:
    """&, and, x, X, vs., with, feat., ft., /, Λ, /\\, + and commas all separate artists."""
    separators = [" & ", " and ", " x ", " X ", " vs. ", " vs ", " with ", " feat. ", " ft. "]
    separators += [" / ", "/", " Λ ", " /\\ ", ", ", " + "]
    for separator in separators:
        assert normalise(f"Alpha{separator}Beta Gamma", "T").artists == ("alpha", "beta gamma")


def test_part_numbers_fold_to_digits() -> None:
    """Arabic, Roman, "Part", "Pt.", "Pt", "No." and number words fold to one spelling."""
    spellings = ["Caldera Part 2", "Caldera Pt. 2", "Caldera Pt 2", "Caldera (Part II)"]
    spellings += ["Caldera, Pt. Two", "Caldera No. 2", "Caldera II", "Caldera 2"]
    assert {normalise("A", title).base_title for title in spellings} == {"caldera 2"}


@pytest.mark.parametrize(
    ("query", "candidate", "expected"),
    [
        (("Spiller", "Groovejet"), ("Spiller", "Groovejet (If This Ain't Love)"), True),
        (
            ("Crystal Waters", "Gypsy Woman"),
            ("Crystal Waters", "Gypsy Woman (She's Homeless)"),
            True,
        ),
        # the row's own unknown bracket may be a version nobody lists: no dropping it
        (
            ("Daft Punk", "One More Time (Romanthony's Unplugged)"),
            ("Daft Punk", "One More Time"),
            False,
        ),
        # numbers inside a dropped subtitle still count
        (("Duke Dumont", "Need U"), ("Duke Dumont", "Need U (100%)"), False),
        (("Jean-Michel Jarre", "Oxygène"), ("Jean-Michel Jarre", "Oxygène (Part IV)"), False),
    ],
)
def test_a_dropped_subtitle(query: Row, candidate: Row, expected: bool) -> None:
    """Tracklists drop subtitles: the row may omit the candidate's, never add its own."""
    assert _matches(query, candidate) is expected


def test_a_lone_numeral_closing_a_title_is_a_part_number() -> None:
    """ "Caldera I" is part 1, while "I Feel Love" keeps its word."""
    assert normalise("Joris Voorn", "Caldera I").base_title == "caldera 1"
    assert normalise("Donna Summer", "I Feel Love").base_title == "i feel love"


@pytest.mark.parametrize(
    ("query", "candidate", "candidate_ms", "expected"),
    [
        (
            ("Lane 8", "Innerbloom (Lane 8 Extended Remix)"),
            ("RÜFÜS DU SOL", "Innerbloom - Lane 8 Remix"),
            531_000,
            True,
        ),
        (
            ("Lane 8", "Innerbloom (Lane 8 Extended Remix)"),
            ("RÜFÜS DU SOL", "Innerbloom - Lane 8 Remix"),
            200_000,
            False,
        ),
        (
            ("Lane 8", "Innerbloom (Lane 8 Extended Remix)"),
            ("RÜFÜS DU SOL", "Innerbloom"),
            578_000,
            False,
        ),
        (
            ("Tiësto", "Silence (Tiësto's In Search Of Sunrise Remix)"),
            ("Delerium", "Silence - Tiësto's In Search of Sunrise Remix"),
            None,
            True,
        ),
        (
            ("Tiësto", "Silence (Tiësto's In Search Of Sunrise Remix)"),
            ("Delerium", "Silence"),
            None,
            False,
        ),
    ],
)
def test_extended_remixes_and_possessive_remixers(
    query: Row, candidate: Row, candidate_ms: int | None, expected: bool
) -> None:
    """An extended remix falls back to a full-length listing of that remix only; a
    remixer credited with a possessive ("Tiësto's ... Remix") counts as the row's artist."""
    assert _matches(query, candidate, candidate_ms) is expected


@pytest.mark.parametrize(
    ("query", "candidate", "expected"),
    [
        (("Meduza", "Piece of Your Heart (Orginal Mix)"), ("Meduza", "Piece of Your Heart"), True),
        (("Meduza", "Piece of Your Heart (Main Mix)"), ("Meduza", "Piece of Your Heart"), True),
        (
            ("Meduza", "Piece of Your Heart (Extnded Mix)"),
            ("Meduza", "Piece of Your Heart - Extended Mix"),
            True,
        ),
        (("Avicii", "Levels (Radoi Edit)"), ("Avicii", "Levels - Radio Edit"), True),
        (("Eric Prydz", "Opus (Four Tet Remixx)"), ("Eric Prydz", "Opus - Four Tet Remix"), True),
        # a misspelled descriptor still names its own version, never another
        (
            ("Meduza", "Piece of Your Heart (Extnded Mix)"),
            ("Meduza", "Piece of Your Heart - Radio Edit"),
            False,
        ),
        (("Avicii", "Levels (Radoi Edit)"), ("Avicii", "Levels - Extended Mix"), False),
    ],
)
def test_misspelled_version_words(query: Row, candidate: Row, expected: bool) -> None:
    """ "Orginal Mix", "Extnded Mix", "Radoi Edit": a descriptor's typo keeps its meaning."""
    assert _matches(query, candidate) is expected
