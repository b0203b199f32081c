"""The pipeline's in-flight window: fitted to the service's quota, so most items of a
crawl are enriched rather than deferred by the service's own quota (issue 15 item 2)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from scrapers.pipelines.window import START, InFlightWindow
from tests.scrapers.scripted_server import Script
from tests.scrapers.test_enrichment_outcomes import counted, pipeline_for, track


async def _finish(window: InFlightWindow, *, refused: bool) -> None:
    async with window.slot() as slot:
        slot.refused, slot.answered = refused, not refused


def test_a_window_needs_room_for_one_call() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        InFlightWindow(0)


async def test_slow_start_adds_a_call_per_answer_until_the_first_refusal() -> None:
    window = InFlightWindow(32)
    assert window.limit == START
    for _ in range(6):
        await _finish(window, refused=False)
    assert window.limit == START + 6
    await _finish(window, refused=True)
    assert (window.limit, window.slow_start) == ((START + 6) / 2, False)


async def test_answers_grow_the_limit_up_to_the_maximum() -> None:
    window = InFlightWindow(8)
    window.limit, window.slow_start = 4.0, False
    for _ in range(4):  # one window's worth of answers: about one more place
        await _finish(window, refused=False)
    assert 4.9 < window.limit < 5.0
    for _ in range(100):
        await _finish(window, refused=False)
    assert window.limit == 8.0


async def test_the_refusals_of_one_burst_halve_the_limit_once() -> None:
    """Calls that started before the first refusal was seen report the same congestion."""
    window = InFlightWindow(16)
    window.limit = 16.0
    slots = [window.slot() for _ in range(6)]
    started = [await slot.__aenter__() for slot in slots]
    for slot, held in zip(slots, started, strict=True):
        held.refused = True
        await slot.__aexit__(None, None, None)
    assert (window.limit, window.decreases) == (8.0, 1)
    await _finish(window, refused=True)  # started after the decrease: a new signal
    assert (window.limit, window.decreases) == (4.0, 2)


async def test_the_limit_never_falls_under_one_call() -> None:
    window = InFlightWindow(2)
    for _ in range(5):
        await _finish(window, refused=True)
    assert window.limit == 1.0
    await _finish(window, refused=False)  # and one call still goes through
    assert window.in_flight == 0


async def test_a_call_waits_for_a_place_and_a_failure_changes_nothing() -> None:
    """At the limit, the next call enters only once one ends; a call that raised (the
    service was unreachable) neither grows nor shrinks the window."""
    window, order = InFlightWindow(1), []

    async def call(name: str, release: asyncio.Event | None = None) -> None:
        with contextlib.suppress(ConnectionError):
            async with window.slot():
                order.append(f"{name} in")
                if release is not None:
                    await release.wait()
                    order.append(f"{name} out")
                    raise ConnectionError

    release = asyncio.Event()
    first = asyncio.create_task(call("first", release))
    second = asyncio.create_task(call("second"))
    release.set()
    await asyncio.gather(first, second)
    assert order == ["first in", "first out", "second in"]
    assert (window.limit, window.decreases, window.in_flight) == (1.0, 0, 0)


async def test_most_items_are_enriched_when_the_window_follows_the_quota() -> None:
    """A hundred items at once against a service whose quota holds four calls: the window
    finds the four, so most items are enriched (sent all at once, about 90 of them were
    deferred by the service's quota: saved pending, finished later)."""
    script = Script(capacity=4, service_s=0.01)
    async with pipeline_for(script, fallback=True, max_in_flight=100) as pipeline:
        tracks = [track(f"Artist {n}", f"Title {n}") for n in range(100)]
        await asyncio.gather(*(pipeline.process_item(item) for item in tracks))
    stats = counted(pipeline)
    assert stats["enrichment/completed"] >= 80
    assert stats["enrichment/completed"] + stats["enrichment/deferred"] == 100
    assert script.peak_in_flight <= 8
