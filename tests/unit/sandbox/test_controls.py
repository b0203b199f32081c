"""The sandbox's own bookkeeping used to check rates at the upstream."""

from __future__ import annotations

from enrichment_sandbox.controls import Controls


def test_max_in_window_counts_the_densest_one_second_span() -> None:
    """Arrivals at 0, 0.5, 0.9, 1.2, 3.0 s: the densest 1 s window holds 3."""
    controls = Controls()
    for t in (0.0, 0.5, 0.9, 1.2, 3.0):
        controls.arrivals.append((t, "search"))
    assert controls.max_in_window(1.0) == 3
    assert controls.max_in_window(0.35) == 2


def test_max_in_window_is_zero_without_traffic_and_reset_clears_it() -> None:
    """No arrivals means 0; reset() forgets earlier arrivals."""
    controls = Controls()
    assert controls.max_in_window() == 0
    controls.arrivals.append((1.0, "search"))
    controls.reset()
    assert controls.max_in_window() == 0
