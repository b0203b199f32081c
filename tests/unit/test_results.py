"""The in-process cache of final results."""

from __future__ import annotations

from datetime import UTC, datetime

from enrichment_server.domain import (
    EnrichmentRequest,
    EnrichmentResult,
    ErrorKind,
    Source,
    SourceFailure,
    Status,
    TrackMetadata,
)
from enrichment_server.enrichment.matching import normalise
from enrichment_server.enrichment.results import ResultCache, result_key


def result(status: Status, errors: tuple[SourceFailure, ...] = ()) -> EnrichmentResult:
    """A result for track "a" with one field found."""
    return EnrichmentResult(
        track_id="a",
        status=status,
        metadata=TrackMetadata(spotify_id="41Xji81wFy3cM7ggbGczQW"),
        provenance={"spotify_id": Source.SPOTIFY},
        sources_used=(Source.SPOTIFY,),
        errors=errors,
        duration_s=0.2,
        cached=False,
        enriched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def key(artist: str, title: str, **ids: str) -> str:
    """The cache key of a request."""
    request = EnrichmentRequest("x", artist, title, **ids)  # type: ignore[arg-type]
    return result_key(request, normalise(artist, title))


def test_a_final_result_comes_back_for_another_track_id_marked_cached() -> None:
    """COMPLETED is kept; a hit is re-addressed to the asking track and marked cached."""
    cache = ResultCache(10, 60, clock=lambda: 0.0)
    cache.put(key("deadmau5", "Strobe"), result(Status.COMPLETED))
    hit = cache.get(key("deadmau5", "Strobe"), "b")
    assert hit is not None
    assert (hit.track_id, hit.cached, hit.duration_s) == ("b", True, 0.0)
    assert hit.metadata.spotify_id == "41Xji81wFy3cM7ggbGczQW"


def test_partial_failed_and_errored_results_are_never_kept() -> None:
    """A retry must really retry: PARTIAL, FAILED and results with errors are not kept."""
    cache = ResultCache(10, 60, clock=lambda: 0.0)
    error = SourceFailure(Source.LASTFM, ErrorKind.UNAVAILABLE, "down", True)
    cache.put("p", result(Status.PARTIAL, (error,)))
    cache.put("f", result(Status.FAILED, (error,)))
    cache.put("c", result(Status.COMPLETED, (error,)))
    assert [cache.get(k, "x") for k in ("p", "f", "c")] == [None, None, None]


def test_spelling_variants_share_an_entry_but_versions_and_ids_do_not() -> None:
    """Accents and "(Original Mix)" normalise away; a remix or a given id is another key."""
    assert key("Royksopp", "Eple (Original Mix)") == key("Röyksopp", "Eple")
    assert key("deadmau5", "Strobe (Club Edit)") != key("deadmau5", "Strobe")
    assert key("deadmau5", "Strobe", isrc="GBTDG0900141") != key("deadmau5", "Strobe")


def test_entries_expire_and_the_oldest_is_evicted() -> None:
    """After the TTL an entry is gone; beyond max_entries the least recently used goes."""
    now = [0.0]
    cache = ResultCache(2, 60, clock=lambda: now[0])
    for name in ("a", "b"):
        cache.put(name, result(Status.NOT_FOUND))
    assert cache.get("a", "x") is not None  # "a" is now the most recent
    cache.put("c", result(Status.COMPLETED))
    assert cache.get("b", "x") is None
    now[0] = 61.0
    assert cache.get("a", "x") is None
    assert ResultCache(0, 60).get("a", "x") is None
