"""A shared call never outlives every caller that wanted it (issue 12 item 13)."""

from __future__ import annotations

import asyncio

import pytest

from enrichment_server.deadline import Deadline
from enrichment_server.resilience.coalesce import Coalescer
from tests.unit.resilience.test_coalesce import Gate, _settle


async def test_the_last_caller_cancelled_cancels_the_shared_call() -> None:
    """issue 12 item 13: when every waiting caller's RPC is cancelled, so is the call."""
    coalescer: Coalescer[str] = Coalescer()
    gate = Gate()
    callers = [asyncio.create_task(coalescer.run("k", gate, Deadline.after(10))) for _ in "ab"]
    await gate.started.wait()
    callers[0].cancel()
    await _settle()
    assert not gate.cancelled  # the other caller still wants it
    callers[1].cancel()
    await asyncio.wait(callers)
    await _settle()
    assert gate.cancelled
    assert all(caller.cancelled() for caller in callers)


async def test_a_cancelled_caller_leaves_the_call_to_those_still_waiting() -> None:
    """issue 12 item 13: one caller cancelled does not take the others' answer away."""
    coalescer: Coalescer[str] = Coalescer()
    gate = Gate("kept")
    leaving = asyncio.create_task(coalescer.run("k", gate, Deadline.after(10)))
    staying = asyncio.create_task(coalescer.run("k", gate, Deadline.after(10)))
    await gate.started.wait()
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    gate.release.set()
    assert await staying == "kept"
    assert not gate.cancelled
