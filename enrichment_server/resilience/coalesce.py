"""Request coalescing: concurrent identical lookups share one upstream call.

The shared call runs as its own task, so one caller's cancellation (a client hanging up)
does not cancel it for the others; each caller waits on it only as long as its own
deadline allows. Across replicas the cache does the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Coalescer(Generic[T]):
    """Maps a key to the one in-flight task computing it."""

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Task[T]] = {}
        self.joined = 0
        """How many callers shared an existing call (for stats and tests)."""

    async def run(self, key: str, factory: Callable[[], Awaitable[T]], wait_s: float) -> T:
        """Await the in-flight call for ``key``, starting one with ``factory`` if none."""
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(factory())
            self._inflight[key] = task
            task.add_done_callback(lambda t: self._forget(key, t))
        else:
            self.joined += 1
        return await asyncio.wait_for(asyncio.shield(task), wait_s)

    def _forget(self, key: str, task: asyncio.Task[T]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # mark retrieved: an unobserved failure is not an error to log
