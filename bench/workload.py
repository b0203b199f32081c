"""The requests of each workload, built from the sandbox's catalogue (326 tracks).

Distinct queries are catalogue tracks as scrapers write them (exact, then with
"(Original Mix)", label and case/accents noise: each variant is a different search for
the upstreams but the same recording), mixed with plausible tracks that no upstream has.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from enrichment_client import make_request, pb
from enrichment_sandbox.catalogue import CatalogueTrack, load_catalogue

ABSENT_SHARE = 0.2
"""Share of distinct queries that are absent from every upstream."""
_WORDS_A = ("Midnight", "Velvet", "Neon", "Hollow", "Amber", "Silent", "Golden", "Distant")
_WORDS_B = ("Harbour", "Signal", "Orchard", "Current", "Meridian", "Lantern", "Tide", "Atlas")
_WORDS_C = ("Dreams", "Motion", "Rising", "Pulse", "Return", "Horizon", "Fever", "Gravity")


@dataclass(frozen=True, slots=True)
class Query:
    """One distinct row as a scraper found it."""

    artist: str
    title: str
    kind: str
    """``catalogue`` (variant 0), ``variant`` (same recording, other spelling), ``absent``."""


def _strip_accents(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if not unicodedata.combining(c))


_VARIANTS: tuple[Callable[[CatalogueTrack], tuple[str, str]], ...] = (
    lambda t: (t.artist, t.title),
    lambda t: (t.artist, f"{t.title} (Original Mix)"),
    lambda t: (_strip_accents(t.artist).lower(), t.title),
    lambda t: (t.artist, f"{t.title} [{t.label}]"),
    lambda t: (t.artist.upper(), f"{t.title} (Original Mix)"),
)


def _absent(rng: random.Random, index: int) -> Query:
    artist = f"{rng.choice(_WORDS_A)} {rng.choice(_WORDS_B)} {index}"
    return Query(artist, f"{rng.choice(_WORDS_C)} {rng.choice(_WORDS_C)}", "absent")


def distinct_queries(count: int, seed: int) -> list[Query]:
    """``count`` different rows: every catalogue track once, then variants; 20 % absent."""
    rng = random.Random(seed)
    tracks = list(load_catalogue().tracks)
    rng.shuffle(tracks)
    queries: list[Query] = []
    seen: set[tuple[str, str]] = set()
    absent = 0
    for round_ in range(len(_VARIANTS)):
        for track in tracks:
            if len(queries) >= count:
                return queries
            if rng.random() < ABSENT_SHARE:
                absent += 1
                queries.append(_absent(rng, absent))
            artist, title = _VARIANTS[round_](track)
            if (artist, title) not in seen:  # a variant may spell a row as it already was
                seen.add((artist, title))
                queries.append(Query(artist, title, "catalogue" if round_ == 0 else "variant"))
    while len(queries) < count:
        absent += 1
        queries.append(_absent(rng, absent))
    return queries[:count]


def zipf_indices(requests: int, distinct: int, exponent: float, seed: int) -> list[int]:
    """``requests`` draws over ``distinct`` items with weight ``1 / rank**exponent``.

    Ranks are shuffled over the items, so popularity is unrelated to the query's kind.
    """
    rng = random.Random(seed + 1)
    ranks = list(range(distinct))
    rng.shuffle(ranks)
    weights = list(accumulate(1.0 / (rank + 1) ** exponent for rank in ranks))
    return rng.choices(range(distinct), cum_weights=weights, k=requests)


def first_occurrences(indices: Sequence[int]) -> list[int]:
    """The distinct items of ``indices`` in the order they first appear."""
    return list(dict.fromkeys(indices))


def to_requests(queries: Sequence[Query], indices: Sequence[int]) -> list[pb.EnrichRequest]:
    """``EnrichRequest`` per index; a query keeps one ``track_id`` however often it recurs."""
    return [
        make_request(queries[i].artist, queries[i].title, track_id=f"bench-{i}") for i in indices
    ]


def kinds(queries: Sequence[Query], indices: Sequence[int]) -> dict[str, int]:
    """How many of the (distinct) ``indices`` are of each kind."""
    out: dict[str, int] = {}
    for i in set(indices):
        out[queries[i].kind] = out.get(queries[i].kind, 0) + 1
    return out
