"""The matcher's precision/recall floors over the labelled set, and the set's own shape."""

from __future__ import annotations

from collections import Counter

import pytest

from enrichment_sandbox.catalogue import load_catalogue
from tests.evaluation.build_queries import MINIMUMS, build, dump
from tests.evaluation.report import describe, misses
from tests.evaluation.run import QUERIES_PATH, evaluate, load_queries


def test_query_file_is_complete_and_labelled_from_the_catalogue() -> None:
    """>= 320 queries, each category at its minimum, every expected id a Spotify-listed record."""
    queries = load_queries()
    spotify_ids = {t.spotify_id for t in load_catalogue().tracks if t.on_spotify}
    per_category = Counter(q.category for q in queries)
    assert len(queries) >= 320
    assert {c: per_category[c] for c in MINIMUMS if per_category[c] < MINIMUMS[c]} == {}
    assert set(per_category) == set(MINIMUMS)
    assert [q for q in queries if q.expect is not None and q.expect not in spotify_ids] == []
    assert all(q.expect is None for q in queries if q.category == "absent")


def test_query_file_is_what_the_builder_generates() -> None:
    """queries.json is up to date: regenerating it gives the same bytes."""
    assert QUERIES_PATH.read_text(encoding="utf-8") == dump(build())


@pytest.mark.integration
@pytest.mark.timeout(120)
async def test_matching_meets_every_floor() -> None:
    """Through a real server over the sandbox: every floor of ``report.py`` is met
    (precision, recall overall and per category, no hard-negative FP, BPM + Camelot)."""
    report = await evaluate(load_queries())
    confusions = "\n".join(describe(o) for o in report.confusions)
    assert report.overall.total == len(load_queries())
    assert misses(report) == [], confusions
