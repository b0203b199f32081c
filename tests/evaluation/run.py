"""Precision/recall of Spotify matching over the labelled queries, end to end.

::

    make evaluate      # or: .venv/bin/python -m tests.evaluation

Starts the sandbox upstreams and a real server in-process, streams every query of
``queries.json`` through ``EnrichmentClient.enrich_many`` and compares the returned
Spotify id with the label. A false positive (a wrong id, or any id for an absent track)
is the costly error: it poisons the graph built from it. A false negative only leaves a
track unenriched. ``report.py`` prints the tables and holds the floors; ``python -m
tests.evaluation`` exits 1 when a floor is missed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from enrichment_client import EnrichmentClient, make_request, pb
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from tests.integration.conftest import sandbox_settings

QUERIES_PATH = Path(__file__).with_name("queries.json")
STREAM_TIMEOUT_S = 120.0
Verdict = Literal["TP", "FP", "FN", "TN"]
UNTHROTTLED: dict[str, object] = {
    "lastfm_rate_per_s": 0.0,
    "deezer_rate_per_s": 0.0,
    "getsongbpm_rate_per_s": 0.0,
}
"""Rate limits off (0: no limiter). The providers' real quotas (5, 8, 0.8 req/s) would
leave ~400 streamed queries waiting for slots until their deadlines: a slow run and noisy
statuses that say nothing about matching. Settings ignore keys they do not know."""


@dataclass(frozen=True, slots=True)
class Query:
    """One labelled row: the Spotify id it must resolve to, or None when absent."""

    artist: str
    title: str
    expect: str | None
    category: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the server answered for one query."""

    query: Query
    got: str | None
    confidence: float | None
    status: str
    bpm: float | None = None
    camelot: str | None = None

    @property
    def verdict(self) -> Verdict:
        """TP/FP/FN/TN against the label; any id for an absent track is an FP."""
        if self.got is None:
            return "TN" if self.query.expect is None else "FN"
        return "TP" if self.got == self.query.expect else "FP"


@dataclass(frozen=True, slots=True)
class Counts:
    """A confusion matrix with the two ratios derived from it."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> Counts:
        """Tally the verdicts of ``outcomes``."""
        verdicts = [o.verdict for o in outcomes]
        return cls(*(verdicts.count(v) for v in ("TP", "FP", "FN", "TN")))

    @property
    def total(self) -> int:
        """Number of queries counted."""
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        """TP / (TP + FP); None when nothing was matched."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """TP / (TP + FN); None when no query expects an id."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass(frozen=True, slots=True)
class Report:
    """Every outcome of one evaluation run, and how long it took."""

    outcomes: tuple[Outcome, ...]
    duration_s: float

    @property
    def overall(self) -> Counts:
        """The confusion matrix over every query."""
        return Counts.of(self.outcomes)

    def by_category(self) -> dict[str, Counts]:
        """The confusion matrix of each category, in first-seen order."""
        categories = dict.fromkeys(o.query.category for o in self.outcomes)
        return {c: Counts.of(o for o in self.outcomes if o.query.category == c) for c in categories}

    @property
    def confusions(self) -> list[Outcome]:
        """The false positives, then the false negatives."""
        return [o for v in ("FP", "FN") for o in self.outcomes if o.verdict == v]


def load_queries(path: Path = QUERIES_PATH) -> list[Query]:
    """The labelled queries in ``path``."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [Query(r["artist"], r["title"], r["expect"], r["category"]) for r in rows]


def _outcome(query: Query, answer: pb.EnrichBatchResponse) -> Outcome:
    """Turn a batch answer (a response or an item error) into an ``Outcome``."""
    if answer.WhichOneof("outcome") == "error":
        return Outcome(query, None, None, f"ERROR {answer.error.code}: {answer.error.message}")
    response = answer.response
    meta = response.metadata
    status = pb.EnrichmentStatus.Name(response.status).removeprefix("ENRICHMENT_STATUS_")
    failures = [
        f"{pb.Source.Name(e.source).removeprefix('SOURCE_').lower()}: {e.message}"
        for e in response.errors
    ]
    return Outcome(
        query,
        meta.spotify_id if meta.HasField("spotify_id") else None,
        meta.match_confidence if meta.HasField("match_confidence") else None,
        f"{status} ({'; '.join(failures)})" if failures else status,
        meta.bpm if meta.HasField("bpm") else None,
        meta.camelot_key if meta.HasField("camelot_key") else None,
    )


async def evaluate(queries: Sequence[Query]) -> Report:
    """Send every query through a real server over the sandbox and score the answers."""
    started = time.monotonic()
    requests = [make_request(q.artist, q.title, track_id=f"q-{i}") for i, q in enumerate(queries)]
    answers: dict[int, pb.EnrichBatchResponse] = {}
    async with (
        Sandbox() as sandbox,
        running(sandbox_settings(sandbox, **UNTHROTTLED)) as app,
    ):
        client = await EnrichmentClient.connect(f"127.0.0.1:{app.port}", timeout_s=10)
        async with client:
            async for answer in client.enrich_many(requests, timeout_s=STREAM_TIMEOUT_S):
                answers[answer.index] = answer
    missing = sorted(set(range(len(queries))) - set(answers))
    if missing:
        raise RuntimeError(f"the stream ended without answers for indexes {missing}")
    outcomes = tuple(_outcome(q, answers[i]) for i, q in enumerate(queries))
    return Report(outcomes, time.monotonic() - started)
