"""Request coalescing: concurrent identical lookups share one upstream call.

The shared call runs as its own task, so one caller's cancellation (a client hanging up)
does not cancel it for the others; each caller waits on it only as long as its own
deadline allows, and a caller whose deadline passes leaves without cancelling it. When
the last waiting caller is cancelled (its RPC is gone), the call is cancelled too.

The shared call never runs under a deadline shorter than a waiting caller's: its
``SharedCall.deadline`` is the *longest* deadline among everyone who joined (each capped
joiner at ``cap_s`` from when it joined: the HTTP timeout), read afresh
each time the call asks how much time is left. So an 8 s caller that joins a 0.6 s
caller's lookup is served under its 8 s; the 0.6 s caller leaves at its own deadline
with its own error, and nobody gets a deadline error that belongs to another caller.
Likewise ``SharedCall.lane`` is the most urgent priority among the callers, so an
interactive caller joining a background lookup lifts it (from its next limiter wait on).
Across replicas the cache does the rest.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from enrichment_server.deadline import Clock, Deadline
from enrichment_server.domain import Priority

T = TypeVar("T")

#: Default cap on how far past "now" a joining caller may stretch the shared deadline.
DEFAULT_CAP_S = 30.0


class SharedCall:
    """What the callers waiting on one shared call want: time and urgency."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._expires_at = -math.inf
        self.lane = Priority.BACKGROUND
        self.waiters = 0
        """Callers waiting on the call right now."""

    def join(self, deadline: Deadline, lane: Priority, cap_s: float | None = None) -> None:
        """Count a caller in: its deadline (capped for a joiner) and lane may extend or
        lift the call."""
        expires_at = deadline.expires_at
        if cap_s is not None:
            expires_at = min(expires_at, self._clock() + cap_s)
        self._expires_at = max(self._expires_at, expires_at)
        self.lane = min(self.lane, lane)

    @property
    def deadline(self) -> Deadline:
        """The longest deadline among the callers so far, as a live view."""
        return _LiveDeadline(self)

    @property
    def expires_at(self) -> float:
        """The clock time the shared call must finish by."""
        return self._expires_at


class _LiveDeadline(Deadline):
    """A ``Deadline`` whose expiry follows a ``SharedCall`` as callers join."""

    __slots__ = ("_call",)

    def __init__(self, call: SharedCall) -> None:
        object.__setattr__(self, "_call", call)
        object.__setattr__(self, "clock", call._clock)

    @property
    def expires_at(self) -> float:
        """The shared call's current expiry (it only moves later)."""
        call: SharedCall = object.__getattribute__(self, "_call")
        return call.expires_at


class Coalescer(Generic[T]):
    """Maps a key to the one in-flight task computing it."""

    def __init__(self, cap_s: float = DEFAULT_CAP_S) -> None:
        self._cap_s = cap_s
        self._inflight: dict[str, tuple[asyncio.Task[T], SharedCall]] = {}
        self.joined = 0
        """How many callers shared an existing call (for stats and tests)."""

    async def run(
        self,
        key: str,
        factory: Callable[[SharedCall], Awaitable[T]],
        deadline: Deadline,
        lane: Priority = Priority.INTERACTIVE,
    ) -> T:
        """Await the in-flight call for ``key`` (starting one with ``factory`` if none) up
        to ``deadline``; ``TimeoutError`` when it passes (the call goes on for others)."""
        entry = self._inflight.get(key)
        if entry is None:
            shared = SharedCall(deadline.clock)  # the callers' clock (injected in tests)
            shared.join(deadline, lane)
            task = asyncio.ensure_future(factory(shared))
            self._inflight[key] = (task, shared)
            task.add_done_callback(lambda t: self._forget(key, t))
        else:
            task, shared = entry
            shared.join(deadline, lane, self._cap_s)
            self.joined += 1
        shared.waiters += 1
        try:
            return await asyncio.wait_for(asyncio.shield(task), deadline.remaining())
        except asyncio.CancelledError:
            if shared.waiters == 1 and not task.done():
                # The last caller is gone (its RPC cancelled): the call serves nobody, and
                # nothing started for an RPC may outlive it. (A caller that times out
                # leaves it running: it ends at the shared deadline, which is its own.)
                task.cancel()
            raise
        finally:
            shared.waiters -= 1

    def _forget(self, key: str, task: asyncio.Task[T]) -> None:
        entry = self._inflight.get(key)
        if entry is not None and entry[0] is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # mark retrieved: an unobserved failure is not an error to log
