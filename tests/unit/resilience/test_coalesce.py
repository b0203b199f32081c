"""Unit tests for enrichment_server.resilience.coalesce.Coalescer."""

from __future__ import annotations

import asyncio

import pytest

from enrichment_server.deadline import Deadline
from enrichment_server.domain import Priority
from enrichment_server.resilience.coalesce import Coalescer, SharedCall


class Gate:
    """A factory whose calls block until released, counting how often it was called."""

    def __init__(self, value: str = "value") -> None:
        self.value = value
        self.calls = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.error: BaseException | None = None
        self.cancelled = False
        self.shared: SharedCall | None = None

    async def __call__(self, shared: SharedCall) -> str:
        self.calls += 1
        self.shared = shared
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        if self.error is not None:
            raise self.error
        return self.value


async def _settle() -> None:
    """Let every ready task run until it blocks (no clock time passes)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_same_key_calls_factory_once_and_shares_result() -> None:
    """Concurrent runs of one key call the factory once; all get its value."""
    coalescer: Coalescer[str] = Coalescer()
    gate = Gate("shared")
    waiters = [asyncio.create_task(coalescer.run("k", gate, Deadline.after(10))) for _ in range(4)]
    await _settle()
    gate.release.set()
    assert await asyncio.gather(*waiters) == ["shared"] * 4
    assert gate.calls == 1
    assert coalescer.joined == 3


async def test_different_keys_run_separately() -> None:
    """Runs with different keys each call their own factory."""
    coalescer: Coalescer[str] = Coalescer()
    gate_a, gate_b = Gate("a"), Gate("b")
    task_a = asyncio.create_task(coalescer.run("a", gate_a, Deadline.after(10)))
    task_b = asyncio.create_task(coalescer.run("b", gate_b, Deadline.after(10)))
    await _settle()
    gate_a.release.set()
    gate_b.release.set()
    assert list(await asyncio.gather(task_a, task_b)) == ["a", "b"]
    assert (gate_a.calls, gate_b.calls) == (1, 1)
    assert coalescer.joined == 0


async def test_exception_delivered_to_all_waiters() -> None:
    """A failing shared call raises the same exception in every waiter."""
    coalescer: Coalescer[str] = Coalescer()
    gate = Gate()
    gate.error = LookupError("upstream broke")
    waiters = [asyncio.create_task(coalescer.run("k", gate, Deadline.after(10))) for _ in range(3)]
    await _settle()
    gate.release.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, LookupError) and str(r) == "upstream broke" for r in results)
    assert gate.calls == 1


async def test_cancelling_one_waiter_keeps_shared_task_for_others() -> None:
    """Cancelling the caller that started the call does not cancel it for the joiners."""
    coalescer: Coalescer[str] = Coalescer()
    gate = Gate("kept")
    first = asyncio.create_task(coalescer.run("k", gate, Deadline.after(10)))
    await gate.started.wait()
    second = asyncio.create_task(coalescer.run("k", gate, Deadline.after(10)))
    await _settle()
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    gate.release.set()
    assert await second == "kept"
    assert not gate.cancelled
    assert gate.calls == 1


async def test_short_wait_times_out_while_others_get_value() -> None:
    """A waiter with a zero wait budget gets TimeoutError; the others still get the value."""
    coalescer: Coalescer[str] = Coalescer()
    gate = Gate("late")
    patient = asyncio.create_task(coalescer.run("k", gate, Deadline.after(10)))
    await gate.started.wait()
    with pytest.raises(TimeoutError):
        await coalescer.run("k", gate, Deadline.after(0))
    gate.release.set()
    assert await patient == "late"
    assert not gate.cancelled
    assert gate.calls == 1


async def test_starter_timing_out_does_not_cancel_shared_call() -> None:
    """The caller that started the call may time out; a joiner still gets the value."""
    coalescer: Coalescer[str] = Coalescer()
    gate = Gate("survives")
    with pytest.raises(TimeoutError):
        await coalescer.run("k", gate, Deadline.after(0))
    joiner = asyncio.create_task(coalescer.run("k", gate, Deadline.after(10)))
    await _settle()
    gate.release.set()
    assert await joiner == "survives"
    assert gate.calls == 1
    assert coalescer.joined == 1


async def test_key_forgotten_after_completion() -> None:
    """Once a call completes a later run with the same key calls the factory again."""
    coalescer: Coalescer[str] = Coalescer()
    gate = Gate("v")
    gate.release.set()
    assert await coalescer.run("k", gate, Deadline.after(10)) == "v"
    await _settle()
    assert await coalescer.run("k", gate, Deadline.after(10)) == "v"
    assert gate.calls == 2
    assert coalescer.joined == 0


async def test_key_forgotten_after_failure() -> None:
    """A failed call is not remembered: the next run calls the factory again."""
    coalescer: Coalescer[str] = Coalescer()
    gate = Gate("second time")
    gate.error = LookupError("first time")
    gate.release.set()
    with pytest.raises(LookupError):
        await coalescer.run("k", gate, Deadline.after(10))
    await _settle()
    gate.error = None
    assert await coalescer.run("k", gate, Deadline.after(10)) == "second time"
    assert gate.calls == 2


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_joiner_with_a_longer_deadline_extends_the_shared_call() -> None:
    """A 0.6 s caller starts, an 8 s caller joins: the call now runs to the 8 s deadline
    (capped by cap_s), and the short caller's departure does not shorten it again."""
    clock = FakeClock()
    coalescer: Coalescer[str] = Coalescer(cap_s=5.0)
    gate = Gate("answer")
    short = asyncio.create_task(coalescer.run("k", gate, Deadline(clock.now + 0.6, clock)))
    await gate.started.wait()
    assert gate.shared is not None
    shared_deadline = gate.shared.deadline
    assert shared_deadline.remaining() == pytest.approx(0.6)
    long = asyncio.create_task(coalescer.run("k", gate, Deadline(clock.now + 8.0, clock)))
    await _settle()
    assert shared_deadline.remaining() == pytest.approx(5.0)  # 8 s, capped at 5 s
    short.cancel()
    await asyncio.gather(short, return_exceptions=True)
    assert shared_deadline.remaining() == pytest.approx(5.0)
    gate.release.set()
    assert await long == "answer"
    assert not gate.cancelled


async def test_an_urgent_joiner_lifts_the_shared_lane() -> None:
    """A background lookup joined by an interactive caller runs in the interactive lane."""
    coalescer: Coalescer[str] = Coalescer()
    gate = Gate()
    first = asyncio.create_task(coalescer.run("k", gate, Deadline.after(10), Priority.BACKGROUND))
    await gate.started.wait()
    shared = gate.shared
    assert shared is not None
    assert shared.lane == Priority.BACKGROUND
    second = asyncio.create_task(coalescer.run("k", gate, Deadline.after(10)))
    await _settle()
    assert shared.lane == Priority.INTERACTIVE  # type: ignore[comparison-overlap]
    gate.release.set()
    assert await asyncio.gather(first, second) == ["value", "value"]
