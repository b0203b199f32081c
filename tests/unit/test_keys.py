"""Unit tests for enrichment_server.enrichment.musical_key: names, Camelot, Open Key and parsing."""

from __future__ import annotations

import pytest

from enrichment_server.enrichment.musical_key import MusicalKey, key_from_pitch_class, parse_key

# (pitch class, major?, name, Camelot, Open Key) — the reference table, all 24 keys.
KEY_TABLE = [
    (0, True, "C Major", "8B", "1d"),
    (1, True, "Db Major", "3B", "8d"),
    (2, True, "D Major", "10B", "3d"),
    (3, True, "Eb Major", "5B", "10d"),
    (4, True, "E Major", "12B", "5d"),
    (5, True, "F Major", "7B", "12d"),
    (6, True, "F# Major", "2B", "7d"),
    (7, True, "G Major", "9B", "2d"),
    (8, True, "Ab Major", "4B", "9d"),
    (9, True, "A Major", "11B", "4d"),
    (10, True, "Bb Major", "6B", "11d"),
    (11, True, "B Major", "1B", "6d"),
    (0, False, "C Minor", "5A", "10m"),
    (1, False, "C# Minor", "12A", "5m"),
    (2, False, "D Minor", "7A", "12m"),
    (3, False, "Eb Minor", "2A", "7m"),
    (4, False, "E Minor", "9A", "2m"),
    (5, False, "F Minor", "4A", "9m"),
    (6, False, "F# Minor", "11A", "4m"),
    (7, False, "G Minor", "6A", "11m"),
    (8, False, "G# Minor", "1A", "6m"),
    (9, False, "A Minor", "8A", "1m"),
    (10, False, "Bb Minor", "3A", "8m"),
    (11, False, "B Minor", "10A", "3m"),
]
ALL_KEYS = [MusicalKey(pc, major) for pc, major, *_ in KEY_TABLE]


@pytest.mark.parametrize(("pitch_class", "major", "name", "camelot", "open_key"), KEY_TABLE)
def test_key_table(pitch_class: int, major: bool, name: str, camelot: str, open_key: str) -> None:
    """Every key's name, Camelot code and Open Key code follow the reference table."""
    key = MusicalKey(pitch_class, major)
    assert (key.name, key.camelot, key.open_key) == (name, camelot, open_key)


def test_table_codes_are_unique() -> None:
    """The 24 keys map to 24 distinct names, Camelot codes and Open Key codes."""
    for attribute in ("name", "camelot", "open_key"):
        assert len({getattr(key, attribute) for key in ALL_KEYS}) == 24


@pytest.mark.parametrize("key", ALL_KEYS, ids=lambda key: key.name)
def test_name_round_trip(key: MusicalKey) -> None:
    """Parsing a key's own name gives the same key back."""
    assert parse_key(key.name) == key


@pytest.mark.parametrize("key", ALL_KEYS, ids=lambda key: key.camelot)
def test_camelot_round_trip(key: MusicalKey) -> None:
    """Parsing a key's Camelot code gives the same key back."""
    assert parse_key(key.camelot) == key


@pytest.mark.parametrize("key", ALL_KEYS, ids=lambda key: key.open_key)
def test_open_key_round_trip(key: MusicalKey) -> None:
    """Parsing a key's Open Key code gives the same key back."""
    assert parse_key(key.open_key) == key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("F♯m", MusicalKey(6, False)),
        ("F#m", MusicalKey(6, False)),
        ("Gbm", MusicalKey(6, False)),
        ("A Minor", MusicalKey(9, False)),
        ("a min", MusicalKey(9, False)),
        ("Am", MusicalKey(9, False)),
        ("C major", MusicalKey(0, True)),
        ("Cmaj", MusicalKey(0, True)),
        ("C", MusicalKey(0, True)),
        ("E♭", MusicalKey(3, True)),
        ("Ebm", MusicalKey(3, False)),
        ("Bbm", MusicalKey(10, False)),
        ("bb", MusicalKey(10, True)),
        ("Bm", MusicalKey(11, False)),
        ("C# Minor", MusicalKey(1, False)),
        ("Db minor", MusicalKey(1, False)),
        ("A flat major", MusicalKey(8, True)),
        ("Cb", MusicalKey(11, True)),
        ("  D   Minor  ", MusicalKey(2, False)),
        ("8A", MusicalKey(9, False)),
        ("8a", MusicalKey(9, False)),
        ("12B", MusicalKey(4, True)),
        ("1B", MusicalKey(11, True)),
        ("1m", MusicalKey(9, False)),
        ("6d", MusicalKey(11, True)),
        ("12m", MusicalKey(2, False)),
    ],
)
def test_parse_key_spellings(text: str, expected: MusicalKey) -> None:
    """Common key spellings, Camelot and Open Key codes parse to the right key."""
    assert parse_key(text) == expected


@pytest.mark.parametrize(
    "text",
    ["H", "13A", "0A", "", "   ", "-1", "unknown", "C#x", "Am7", "13m", "8C", "Cmajorr", "CM"],
)
def test_parse_key_rejects(text: str) -> None:
    """Anything that is not a key yields None rather than a guess or an exception."""
    assert parse_key(text) is None


@pytest.mark.parametrize(
    ("pitch_class", "mode", "expected"),
    [
        (9, 0, MusicalKey(9, False)),
        (0, 1, MusicalKey(0, True)),
        (11, 1, MusicalKey(11, True)),
        (-1, 1, None),
        (-1, 0, None),
        (12, 1, None),
        (None, 1, None),
        (5, None, None),
        (5, 2, None),
        (5, -1, None),
    ],
)
def test_key_from_pitch_class(
    pitch_class: int | None, mode: int | None, expected: MusicalKey | None
) -> None:
    """Spotify's (key, mode) pair maps to a key; -1, None or unknown modes give None."""
    assert key_from_pitch_class(pitch_class, mode) == expected


@pytest.mark.parametrize("pitch_class", [-1, 12])
def test_musical_key_rejects_bad_pitch_class(pitch_class: int) -> None:
    """Constructing a key with a pitch class outside 0..11 raises ValueError."""
    with pytest.raises(ValueError, match="pitch_class"):
        MusicalKey(pitch_class, True)
