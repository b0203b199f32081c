"""Regenerate ``queries.json``, the labelled evaluation set, from the sandbox catalogue.

::

    .venv/bin/python -m tests.evaluation.build_queries

Hand-written variants come first (``variants.py``, and ``dj_variants.py`` for the rows
DJs really write: versions, parts, remixers as artists, collaborations, mashups); seeded
generators then add exact rows, accent-stripped rows, version-noise suffixes and keyboard
typos. The same seed and catalogue always give the same file. Only records that Spotify
lists under a unique (artist, title) are positives: an ``on_spotify=false`` record has no
obtainable id, and the two "FISHER - Losing It" releases share artist and title, so either
id would be right.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from enrichment_sandbox.catalogue import CatalogueTrack, load_catalogue
from tests.evaluation import dj_variants, variants
from tests.evaluation.variants import Row

SEED = 20_260_214
QUERIES_PATH = Path(__file__).with_name("queries.json")
Query = dict[str, str | None]

QUOTAS = {
    "exact": 45,
    "accents": 40,
    "punctuation": 0,
    "feat": 0,
    "version_noise": 36,
    "remix": 0,
    "same_title": 0,
    "typos": 36,
    "absent": 0,
    "extended": 0,
    "versions": 0,
    "parts": 0,
    "remixer_artist": 0,
    "collab": 0,
    "case_punct": 0,
    "mashup": 0,
}
"""Rows per category, hand-written ones included (0: the hand-written list only)."""

MINIMUMS = {category: 25 for category in QUOTAS} | {"absent": 50}
"""The least number of queries each category must hold."""

_ASCII_FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss"})
_NOISE = (
    "{title} (Original Mix)",
    "{title} [{label}]",
    "{title} - Original Mix",
    "{title} (Original Mix) [{label}]",
    "{title} (Album Version)",
    "{title} - Remastered",
)
"""Annotations that name the plain recording. "(Extended Mix)" is not noise: it names a
separate recording (the ``extended`` category labels those rows by hand)."""
_NEIGHBOURS = {
    "a": "qsz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj",
    "i": "uo", "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o",
    "q": "w", "r": "et", "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc",
    "y": "tu", "z": "x",
}  # fmt: skip


def positives() -> dict[tuple[str, str], CatalogueTrack]:
    """Records usable as right answers, by exact (artist, title)."""
    tracks = load_catalogue().tracks
    counts: dict[tuple[str, str], int] = {}
    for track in tracks:
        counts[track.artist, track.title] = counts.get((track.artist, track.title), 0) + 1
    return {
        (t.artist, t.title): t for t in tracks if t.on_spotify and counts[t.artist, t.title] == 1
    }


def ascii_fold(text: str) -> str:
    """``text`` with accents dropped and ø/æ/ß transliterated, as a plain keyboard types it."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _is_original(title: str) -> bool:
    """Whether a catalogue title carries no version annotation (no brackets, no dash)."""
    return not any(mark in title for mark in ("(", "[", " - "))


def _typo_word(word: str, rng: random.Random) -> str:
    """``word`` with one keyboard slip (never at its first letter)."""
    at = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "swap", "double", "neighbour"))
    if kind == "drop":
        return word[:at] + word[at + 1 :]
    if kind == "swap" and word[at] != word[at + 1]:
        return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    if kind == "neighbour" and word[at].lower() in _NEIGHBOURS:
        return word[:at] + rng.choice(_NEIGHBOURS[word[at].lower()]) + word[at + 1 :]
    return word[:at] + word[at] + word[at:]


def typo(text: str, rng: random.Random, edits: int) -> str | None:
    """``text`` with up to ``edits`` slips in words of 5+ letters; None if it has none."""
    words = text.split(" ")
    eligible = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha() and w.isascii()]
    if not eligible:
        return None
    chosen = rng.sample(eligible, min(edits, len(eligible)))
    if len(chosen) < edits and len(words[chosen[0]]) >= 7:
        chosen.append(chosen[0])  # two slips in one word only when it is long enough
    for index in chosen:
        words[index] = _typo_word(words[index], rng)
    return " ".join(words)


def _row(artist: str, title: str, track: CatalogueTrack | None, category: str) -> Query:
    return {
        "artist": artist,
        "title": title,
        "expect": track.spotify_id if track else None,
        "category": category,
    }


def _exact(tracks: list[CatalogueTrack], rng: random.Random) -> Iterator[Row]:
    for track in rng.sample(tracks, len(tracks)):
        yield track.artist, track.title, (track.artist, track.title)


def _accents(tracks: list[CatalogueTrack], rng: random.Random) -> Iterator[Row]:
    del rng  # every accented record is used, in catalogue order
    for track in tracks:
        artist, title = ascii_fold(track.artist), ascii_fold(track.title)
        if (artist, title) != (track.artist, track.title):
            yield artist, title, (track.artist, track.title)


def _version_noise(tracks: list[CatalogueTrack], rng: random.Random) -> Iterator[Row]:
    for track in rng.sample(tracks, len(tracks)):
        if _is_original(track.title) and track.label:
            template = rng.choice(_NOISE)
            yield (
                track.artist,
                template.format(title=track.title, label=track.label),
                (
                    track.artist,
                    track.title,
                ),
            )


def _typos(tracks: list[CatalogueTrack], rng: random.Random) -> Iterator[Row]:
    for track in rng.sample(tracks, len(tracks)):
        edits = 2 if rng.random() < 0.3 else 1
        if rng.random() < 0.65:
            changed = typo(track.title, rng, edits)
            row = (track.artist, changed) if changed else None
        else:
            changed = typo(track.artist, rng, edits)
            row = (changed, track.title) if changed else None
        if row is not None:
            yield *row, (track.artist, track.title)


Generator = Callable[[list[CatalogueTrack], random.Random], Iterable[Row]]
_GENERATED: dict[str, Generator] = {
    "exact": _exact,
    "accents": _accents,
    "version_noise": _version_noise,
    "typos": _typos,
}
_HAND: dict[str, list[Row]] = {
    "accents": variants.ACCENTS,
    "punctuation": variants.PUNCTUATION,
    "feat": variants.FEAT,
    "version_noise": variants.VERSION_NOISE,
    "remix": variants.REMIX,
    "same_title": variants.SAME_TITLE,
    "typos": variants.TYPOS,
    "absent": variants.ABSENT,
    "extended": dj_variants.EXTENDED,
    "versions": dj_variants.VERSIONS,
    "parts": dj_variants.PARTS,
    "remixer_artist": dj_variants.REMIXER_ARTIST,
    "collab": dj_variants.COLLAB,
    "case_punct": dj_variants.CASE_PUNCT,
    "mashup": dj_variants.MASHUP,
}


class _Collector:
    """Accumulates rows, refusing unknown targets and repeated (artist, title) queries."""

    def __init__(self, known: dict[tuple[str, str], CatalogueTrack]) -> None:
        self.known = known
        self.rows: list[Query] = []
        self.seen: set[tuple[str, str]] = set()
        self.titles = {t.title.casefold() for t in load_catalogue().tracks}
        self.artists = {t.artist.casefold() for t in load_catalogue().tracks}

    def add(self, row: Row, category: str, *, strict: bool) -> bool:
        """Add ``row``; a hand-written (strict) row that cannot be added is an error."""
        artist, title, target = row
        if (artist, title) in self.seen:
            if strict:
                raise ValueError(f"duplicate query {artist!r} - {title!r}")
            return False
        if target is not None and target not in self.known:
            raise ValueError(f"{target!r} is not a usable catalogue record")
        self.seen.add((artist, title))
        self.rows.append(_row(artist, title, self.known[target] if target else None, category))
        return True

    def plausible_typo(self, row: Row) -> bool:
        """A generated typo must not spell another catalogue title or artist."""
        artist, title, _ = row
        return title.casefold() not in self.titles or artist.casefold() not in self.artists


def build(seed: int = SEED) -> list[Query]:
    """Every labelled query: all hand-written rows, then generated ones up to each quota."""
    known = positives()
    tracks = list(known.values())
    collector = _Collector(known)
    for category, rows in _HAND.items():
        for row in rows:
            collector.add(row, category, strict=True)
    for category, generate in _GENERATED.items():
        rng = random.Random(f"{seed}-{category}")
        count = sum(1 for r in collector.rows if r["category"] == category)
        for row in generate(tracks, rng):
            if count >= QUOTAS[category]:
                break
            if category == "typos" and not collector.plausible_typo(row):
                continue
            count += collector.add(row, category, strict=False)
    order = list(QUOTAS)
    return sorted(collector.rows, key=lambda r: order.index(str(r["category"])))


def dump(queries: list[Query]) -> str:
    """The commit-ready JSON text: sorted keys, indent 1, UTF-8 kept."""
    return json.dumps(queries, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    """Write ``queries.json`` and print the rows per category."""
    queries = build()
    QUERIES_PATH.write_text(dump(queries), encoding="utf-8")
    counts: dict[str, int] = {}
    for query in queries:
        counts[str(query["category"])] = counts.get(str(query["category"]), 0) + 1
    print(f"{len(queries)} queries -> {QUERIES_PATH}: {counts}")


if __name__ == "__main__":
    main()
