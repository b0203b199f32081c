"""The ``RateLimiter`` protocol shared by every replica, with priority lanes, in Redis.

Design (README, "Quota and priority"): one key holds the next free slot (microseconds on
Redis's own clock, so every replica agrees); per lane a sorted set holds the waiters of
every replica in arrival order, and one more sorted set their expiry. A caller polls one
Lua script, which atomically:

1. forgets waiters whose expiry passed (a replica that died, a caller that gave up);
2. refuses (-1) a caller whose deadline comes before the next slot, removing it;
3. registers the caller in its lane (first arrival kept) with an expiry of
   ``min(deadline, now + heartbeat)``, refreshed by each poll;
4. when the slot is free, grants it (0) only to the head of the highest waiting lane,
   or of a lower lane owed its minimum share (grants it let pass are counted in Redis,
   so the share holds across replicas); anyone else is told how long to wait.

So an interactive caller on replica B that arrives after fifty background waiters on
replica A gets the next slot, and a background waiter never holds a slot: it is granted
one only when its turn comes at the slot's time, and only before its deadline.

If Redis fails, the in-process ``SpacingLimiter`` (same lanes, same rate) decides, so an
outage neither fails an RPC nor lets this process burst; replicas may then briefly
exceed the shared rate together.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as aredis

from enrichment_server.deadline import Clock, Deadline
from enrichment_server.domain import Priority
from enrichment_server.redis_conn import (
    DEFAULT_TIMEOUT_S,
    FAILED,
    WARN_EVERY_S,
    GuardedRedis,
    RedisFailure,
)
from enrichment_server.resilience.ratelimit import (
    LATE_TOLERANCE_S,
    MIN_SHARE,
    RateLimiter,
    SpacingLimiter,
    starvation_limit,
)

__all__ = ["RedisRateLimiter"]

Sleep = Callable[[float], Awaitable[None]]

# KEYS: slot, lane 0..2 queues, expiries, passed-counts hash.
# ARGV: interval_us, lane, waiter, max_wait_us, heartbeat_us, starvation_limit, poll_us,
#       front (1: re-queue at the head of the lane after losing a slot).
# Numbers are doubles in Lua (exact to 2**53 us, ~285 years); the slot is written with
# string.format('%d') since tostring() would render it in exponent form.
_TAKE_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, lane, me = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local max_wait, heartbeat = tonumber(ARGV[4]), tonumber(ARGV[5])
local starve, poll = tonumber(ARGV[6]), tonumber(ARGV[7])
local queue = KEYS[2 + lane]
local gone = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now)
for _, id in ipairs(gone) do
  for l = 2, 4 do redis.call('ZREM', KEYS[l], id) end
  redis.call('ZREM', KEYS[5], id)
end
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0') or 0)
if slot - now >= max_wait then
  redis.call('ZREM', queue, me)
  redis.call('ZREM', KEYS[5], me)
  return -1
end
if ARGV[8] == '1' then
  redis.call('ZADD', queue, 0, me)
else
  redis.call('ZADD', queue, 'NX', now, me)
end
redis.call('ZADD', KEYS[5], math.min(now + max_wait, now + heartbeat), me)
local ttl = math.ceil((heartbeat + interval) / 1000) + 1000
for l = 2, 6 do redis.call('PEXPIRE', KEYS[l], ttl) end
if slot > now then
  return slot - now
end
local waiting, chosen = {}, nil
for l = 0, 2 do
  if redis.call('ZCARD', KEYS[2 + l]) > 0 then
    waiting[l] = true
    if chosen == nil then
      chosen = l
    elseif chosen < l and tonumber(redis.call('HGET', KEYS[6], l) or '0') >= starve then
      chosen = l
      break
    end
  end
end
if redis.call('ZRANGE', KEYS[2 + chosen], 0, 0)[1] ~= me then
  return poll
end
redis.call('ZREM', queue, me)
redis.call('ZREM', KEYS[5], me)
for l = 0, 2 do
  if waiting[l] and l > chosen then
    redis.call('HINCRBY', KEYS[6], l, 1)
  else
    redis.call('HSET', KEYS[6], l, 0)
  end
end
local after = now + interval
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', math.ceil(interval / 1000) + 1000)
return 0
"""

_LEAVE_SCRIPT = """
for l = 1, #KEYS do redis.call('ZREM', KEYS[l], ARGV[1]) end
return 0
"""


class RedisRateLimiter:
    """The ``RateLimiter`` protocol for one source, shared by every replica (see module)."""

    def __init__(
        self,
        redis: aredis.Redis,
        key: str,
        rate_per_s: float,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sleep: Sleep = asyncio.sleep,
        fallback: RateLimiter | None = None,
        clock: Clock = time.monotonic,
        warn_every_s: float = WARN_EVERY_S,
        late_tolerance_s: float = LATE_TOLERANCE_S,
        min_share: float = MIN_SHARE,
        heartbeat_s: float | None = None,
    ) -> None:
        interval_us = max(1, round(1_000_000 / rate_per_s))
        self._key = key
        self._keys = [key, f"{key}:q0", f"{key}:q1", f"{key}:q2", f"{key}:exp", f"{key}:passed"]
        self._late_tolerance_s = late_tolerance_s
        # A waiter's entry outlives two slots without a poll only if its replica died
        # (``heartbeat_s``: how long an entry lives without a poll, for tests that must
        # not lose their waiters to a machine that stalls the process for a second).
        heartbeat_us = max(2 * interval_us, 1_000_000)
        if heartbeat_s is not None:
            heartbeat_us = max(1, round(heartbeat_s * 1_000_000))
        poll_us = min(50_000, max(2_000, interval_us // 10))
        self._args = [interval_us, heartbeat_us, starvation_limit(min_share), poll_us]
        self._sleep = sleep
        self._clock = clock
        self._fallback = fallback or SpacingLimiter(
            rate_per_s, clock=clock, sleep=sleep, min_share=min_share
        )
        self._guard = GuardedRedis(f"ratelimit:{key}", timeout_s, clock, warn_every_s)
        # register_script does no I/O; the Script object sends EVALSHA and falls back
        # to EVAL after NOSCRIPT, which is what a restarted (empty) Redis answers.
        self._take = redis.register_script(_TAKE_SCRIPT)
        self._leaving: set[asyncio.Task[None]] = set()
        self._leave = redis.register_script(_LEAVE_SCRIPT)

    async def acquire(self, deadline: Deadline, lane: Priority = Priority.INTERACTIVE) -> bool:
        """Poll for a shared slot in ``lane`` until granted; False if past the deadline.

        A grant is placed on the local clock at the moment the script was sent (the
        reply may be read late by a busy loop); being more than ``LATE_TOLERANCE_S``
        past it means the slot is lost, and the caller re-queues at its lane's head.
        """
        waiter, front = uuid.uuid4().hex, False
        try:
            while True:
                max_wait_us = math.floor(deadline.remaining() * 1_000_000)
                if max_wait_us <= 0:
                    await self._forget(waiter)
                    return False
                sent = self._clock()
                reply = await self._poll(waiter, lane, max_wait_us, front)
                if reply is FAILED:
                    return await self._fallback.acquire(deadline, lane)
                if reply < 0:
                    return False
                if reply == 0:
                    if self._clock() - sent <= self._late_tolerance_s:
                        return True
                    front = True
                    continue
                front = False
                await self._sleep(min(reply / 1_000_000, deadline.remaining()))
        except asyncio.CancelledError:
            leaving = asyncio.get_running_loop().create_task(self._forget(waiter))
            self._leaving.add(leaving)  # keep a reference until it is done
            leaving.add_done_callback(self._leaving.discard)
            raise

    async def _poll(
        self, waiter: str, lane: Priority, max_wait_us: int, front: bool
    ) -> int | RedisFailure:
        """The script's answer: 0 granted, -1 refused, else microseconds to wait."""
        interval_us, heartbeat_us, starve, poll_us = self._args
        args: list[str | int] = [interval_us, int(lane), waiter, max_wait_us, heartbeat_us]
        args += [starve, poll_us, "1" if front else "0"]
        reply = await self._guard.call("acquire", lambda: self._take(keys=self._keys, args=args))
        return reply if reply is FAILED else int(reply)

    async def _forget(self, waiter: str) -> None:
        """Leave every queue (best effort: an entry also expires on its own)."""
        await self._guard.call("leave", lambda: self._leave(keys=self._keys[1:5], args=[waiter]))
