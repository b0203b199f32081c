"""Musical key conversions between Spotify pitch classes, key names, Camelot and Open Key.

A key is a pitch class (0 = C .. 11 = B) plus a mode (major or minor). Names use ASCII
accidentals with the spellings DJs expect ("Db Major" but "C# Minor"); Camelot ("8A") and
Open Key ("1m") are the wheel notations used by harmonic-mixing software.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MusicalKey", "key_from_pitch_class", "parse_key"]

_MAJOR_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
_LETTER_PITCH = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_ACCIDENTAL_SHIFT = {"": 0, "#": 1, "b": -1}
_MODE_WORDS = {"": True, "maj": True, "major": True, "m": False, "min": False, "minor": False}

_NOTE_RE = re.compile(r"([A-Ga-g])([#b]?)\s*([A-Za-z]*)")
_WHEEL_RE = re.compile(r"(1[0-2]|0?[1-9])\s*([ABabDdMm])")


@dataclass(frozen=True, slots=True)
class MusicalKey:
    """A musical key: pitch class 0 (C) .. 11 (B) and whether the mode is major."""

    pitch_class: int
    major: bool

    def __post_init__(self) -> None:
        """Reject pitch classes outside 0..11."""
        if not 0 <= self.pitch_class <= 11:
            raise ValueError(f"pitch_class must be in 0..11, got {self.pitch_class}")

    @property
    def name(self) -> str:
        """ASCII key name, e.g. "A Minor", "Db Major", "C# Minor"."""
        if self.major:
            return f"{_MAJOR_NAMES[self.pitch_class]} Major"
        return f"{_MINOR_NAMES[self.pitch_class]} Minor"

    @property
    def camelot(self) -> str:
        """Camelot wheel code, e.g. "8A" for A minor, "8B" for C major."""
        return f"{_camelot_number(self)}{'B' if self.major else 'A'}"

    @property
    def open_key(self) -> str:
        """Open Key notation code, e.g. "1m" for A minor, "1d" for C major."""
        number = (_camelot_number(self) + 4) % 12 + 1
        return f"{number}{'d' if self.major else 'm'}"


def _camelot_number(key: MusicalKey) -> int:
    """Camelot wheel number (1..12) of ``key``."""
    return ((key.pitch_class * 7) % 12 + (7 if key.major else 4)) % 12 + 1


_ALL_KEYS = tuple(MusicalKey(pc, major) for major in (True, False) for pc in range(12))
_BY_CAMELOT = {key.camelot: key for key in _ALL_KEYS}
_BY_OPEN_KEY = {key.open_key: key for key in _ALL_KEYS}


def key_from_pitch_class(pitch_class: int | None, mode: int | None) -> MusicalKey | None:
    """Convert Spotify's (key, mode) encoding; -1, None or out-of-range values give None."""
    if pitch_class is None or mode is None or not 0 <= pitch_class <= 11:
        return None
    if mode not in (0, 1):
        return None
    return MusicalKey(pitch_class, mode == 1)


def parse_key(text: str) -> MusicalKey | None:
    """Parse a key name ("F#m", "A Minor"), Camelot ("8A") or Open Key ("1m"); never raises."""
    if not isinstance(text, str):
        return None
    cleaned = _clean_key_text(text)
    if not cleaned:
        return None
    wheel = _WHEEL_RE.fullmatch(cleaned)
    if wheel is not None:
        return _parse_wheel(int(wheel.group(1)), wheel.group(2))
    return _parse_note(cleaned)


def _clean_key_text(text: str) -> str:
    """Unify accidental symbols and spelled-out accidentals; collapse whitespace."""
    text = text.strip().replace("♯", "#").replace("♭", "b")
    text = re.sub(r"\s*\bsharp\b", "#", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*\bflat\b", "b", text, flags=re.IGNORECASE)
    return " ".join(text.split())


def _parse_wheel(number: int, letter: str) -> MusicalKey | None:
    """Look up a Camelot (A/B) or Open Key (m/d) code."""
    if letter in "ABab":
        return _BY_CAMELOT.get(f"{number}{letter.upper()}")
    return _BY_OPEN_KEY.get(f"{number}{letter.lower()}")


def _parse_note(text: str) -> MusicalKey | None:
    """Parse "<letter>[#|b][ ]<mode word>"; an upper-case lone "M" is ambiguous and rejected."""
    match = _NOTE_RE.fullmatch(text)
    if match is None:
        return None
    letter, accidental, mode_word = match.groups()
    if mode_word == "M":
        return None
    major = _MODE_WORDS.get(mode_word.lower())
    if major is None:
        return None
    pitch_class = (_LETTER_PITCH[letter.lower()] + _ACCIDENTAL_SHIFT[accidental]) % 12
    return MusicalKey(pitch_class, major)
