"""BreakerRegistry.background_blocked: which sources background work leaves alone."""

from __future__ import annotations

import pytest

from enrichment_server.domain import Source
from enrichment_server.resilience.breaker import BreakerConfig, CircuitBreaker
from enrichment_server.resilience.guard import Guard
from enrichment_server.resilience.registry import BreakerRegistry


class Clock:
    """A clock the test moves by hand."""

    now = 100.0

    def __call__(self) -> float:
        return self.now


def test_open_breakers_and_taken_probe_slots_block_background_work() -> None:
    """OPEN blocks until it half-opens; HALF_OPEN offers its free probe slots and blocks
    briefly once they are all taken; CLOSED does not block."""
    clock = Clock()
    registry = BreakerRegistry(clock=clock)
    breakers = {
        source: CircuitBreaker(source, BreakerConfig(open_s=30.0, max_open_s=60.0), clock)
        for source in (Source.MUSICBRAINZ, Source.LASTFM)
    }
    for source, breaker in breakers.items():
        registry.add(source, Guard(breaker, clock=clock))
    assert registry.background_blocked() == {}
    breakers[Source.MUSICBRAINZ].force_open(clock.now + 30.0, "test")
    assert registry.background_blocked() == {"musicbrainz": pytest.approx(30.0)}
    assert registry.background_probes() == set()
    clock.now += 31.0  # MusicBrainz half-opens with 3 probe slots
    assert registry.background_blocked(half_open_wait_s=5.0) == {}
    assert registry.background_probes() == {"musicbrainz"}
    breakers[Source.MUSICBRAINZ].acquire()  # live callers probe: two slots left, then none
    breakers[Source.MUSICBRAINZ].acquire()
    assert registry.background_probes() == {"musicbrainz"}
    breakers[Source.MUSICBRAINZ].acquire()
    assert registry.background_blocked(half_open_wait_s=5.0) == {"musicbrainz": 5.0}
    assert registry.background_probes() == set()
