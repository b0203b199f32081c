"""The path of every upstream lookup: cache -> coalesce -> breaker -> limiter -> HTTP.

A cache hit returns before any limiter or network work. Only successful answers are
cached (a definite "not found" included, with its shorter TTL); an ``UpstreamError`` is
never cached, so a retry really asks again. Each attempt (retries included) passes the
breaker and the limiter; retries also draw on the source's retry budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from pydantic import TypeAdapter, ValidationError

from enrichment_server.cache.memory import Cache
from enrichment_server.deadline import Clock, Deadline
from enrichment_server.domain import Priority, Source
from enrichment_server.errors import ClientThrottled, DeadlineExceeded, UpstreamError
from enrichment_server.resilience.budget import RetryBudget
from enrichment_server.resilience.coalesce import DEFAULT_CAP_S, Coalescer, SharedCall
from enrichment_server.resilience.guard import Guard
from enrichment_server.resilience.ratelimit import RateLimiter
from enrichment_server.resilience.retry import MIN_ATTEMPT_S, RetryPolicy
from enrichment_server.telemetry.hooks import Hooks, NullHooks

T = TypeVar("T")
CACHE_PREFIX = "enrichment:v1"


class TtlKind(enum.StrEnum):
    """Which TTL an answer gets (DESIGN section 5)."""

    SEARCH = "search"
    BY_ID = "by_id"
    ISRC = "isrc"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class TtlPolicy:
    """Seconds to keep each kind of answer."""

    search_s: float = 7 * 86400
    by_id_s: float = 30 * 86400
    isrc_s: float = 90 * 86400
    not_found_s: float = 86400

    def seconds(self, kind: TtlKind) -> float:
        """TTL for ``kind``."""
        return {
            TtlKind.SEARCH: self.search_s,
            TtlKind.BY_ID: self.by_id_s,
            TtlKind.ISRC: self.isrc_s,
            TtlKind.NOT_FOUND: self.not_found_s,
        }[kind]


@dataclass(slots=True)
class CallContext:
    """Per-enrichment state shared by every lookup of one track."""

    deadline: Deadline
    force_refresh: bool = False
    priority: Priority = Priority.INTERACTIVE
    cache_hits: int = 0
    network_calls: int = 0
    sources_called: set[Source] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Lookup:
    """One cacheable upstream question: its cache key and TTL kind."""

    key: str
    kind: TtlKind


class UpstreamCaller:
    """Runs lookups for one source through cache, coalescing, limiter and retries."""

    def __init__(
        self,
        source: Source,
        cache: Cache,
        ttl: TtlPolicy,
        retry: RetryPolicy,
        limiter: RateLimiter | None = None,
        guard: Guard | None = None,
        budget: RetryBudget | None = None,
        clock: Clock = time.monotonic,
        hooks: Hooks | None = None,
        tracer: trace.Tracer | None = None,
        shared_cap_s: float = DEFAULT_CAP_S,
    ) -> None:
        """``shared_cap_s``: how far a caller joining an in-flight lookup may extend it
        (the HTTP timeout)."""
        self.source = source
        self._cache = cache
        self._ttl = ttl
        self._retry = retry
        self._limiter = limiter
        self.guard = guard
        self._budget = budget
        self._clock = clock
        self._hooks: Hooks = hooks or NullHooks()
        self._tracer = tracer or trace.NoOpTracer()
        self._shared_cap_s = shared_cap_s
        self._coalescer: Coalescer[bytes] = Coalescer(shared_cap_s)

    async def lookup(
        self,
        ctx: CallContext,
        lookup: Lookup,
        adapter: TypeAdapter[T],
        fetch: Callable[[Deadline], Awaitable[T]],
        is_empty: Callable[[T], bool],
    ) -> T:
        """The answer to ``lookup``: from the cache, or fetched (and cached) once."""
        endpoint = lookup.key.partition(":")[0]
        # INTERNAL: a lookup may be a cache hit; each HTTP request below it is a CLIENT span.
        with self._span(
            f"{self.source} {endpoint}",
            attributes={"enrichment.source": str(self.source), "enrichment.endpoint": endpoint},
        ) as span:
            cached = None if ctx.force_refresh else await self._cached(lookup, adapter)
            span.set_attribute("enrichment.cache_hit", cached is not None)
            self._hooks.cache_lookup(self.source, hit=cached is not None)
            if cached is not None:
                ctx.cache_hits += 1
                return cached[0]
            ctx.network_calls += 1
            ctx.sources_called.add(self.source)
            return await self._fetch(ctx, lookup, adapter, fetch, is_empty)

    def _span(
        self, name: str, *, kind: SpanKind = SpanKind.INTERNAL, attributes: dict[str, Any]
    ) -> AbstractContextManager[trace.Span]:
        """A child span, only inside a sampled trace: creating spans that are dropped cost
        ~9 % of a hot request (measured by make bench)."""
        if not trace.get_current_span().is_recording():
            return contextlib.nullcontext(trace.INVALID_SPAN)
        return self._tracer.start_as_current_span(name, kind=kind, attributes=attributes)

    async def _cached(self, lookup: Lookup, adapter: TypeAdapter[T]) -> tuple[T] | None:
        """The cached answer (in a 1-tuple, since None is a valid answer), if any."""
        raw = await self._cache.get(f"{CACHE_PREFIX}:{self.source}:{lookup.key}")
        if raw is None:
            return None
        try:
            return (adapter.validate_json(raw),)
        except ValidationError:
            return None  # an entry from an incompatible build: fetch afresh

    async def _fetch(
        self,
        ctx: CallContext,
        lookup: Lookup,
        adapter: TypeAdapter[T],
        fetch: Callable[[Deadline], Awaitable[T]],
        is_empty: Callable[[T], bool],
    ) -> T:
        """Fetch once for every concurrent caller of the same key, then cache the answer."""
        key = f"{CACHE_PREFIX}:{self.source}:{lookup.key}"
        attempts = itertools.count(1)

        async def fetch_and_store(shared: SharedCall) -> bytes:
            # The longest deadline (and most urgent lane) of every caller waiting on it.
            deadline = shared.deadline
            value = await self._retry.run(
                lambda: self._attempt(fetch, deadline, next(attempts), shared),
                deadline,
                self._budget,
                on_retry=lambda: self._hooks.retry(self.source),
            )
            raw = adapter.dump_json(value, by_alias=True)
            kind = TtlKind.NOT_FOUND if is_empty(value) else lookup.kind
            await self._cache.set(key, raw, self._ttl.seconds(kind))
            return raw

        try:
            raw = await self._coalescer.run(key, fetch_and_store, ctx.deadline, ctx.priority)
        except TimeoutError:
            raise DeadlineExceeded(self.source, "deadline reached waiting for the answer") from None
        return adapter.validate_json(raw)

    async def _attempt(
        self,
        fetch: Callable[[Deadline], Awaitable[T]],
        deadline: Deadline,
        number: int,
        shared: SharedCall,
    ) -> T:
        """One try, in its own span: breaker permit, limiter slot, the HTTP exchange."""
        with self._span(
            f"{self.source} attempt", attributes={"enrichment.attempt": number}
        ) as span:
            if self.guard is not None:
                span.set_attribute("enrichment.breaker_state", str(self.guard.breaker.state))
            try:
                value = await self._attempt_untraced(fetch, deadline, shared)
            except UpstreamError as error:
                span.set_attribute("enrichment.outcome", str(error.kind))
                span.set_status(Status(StatusCode.ERROR, str(error.kind)))
                raise
            span.set_attribute("enrichment.outcome", "ok")
            return value

    async def _attempt_untraced(
        self, fetch: Callable[[Deadline], Awaitable[T]], deadline: Deadline, shared: SharedCall
    ) -> T:
        if deadline.remaining() < MIN_ATTEMPT_S:
            raise DeadlineExceeded(self.source, "no time left for another attempt")
        permit = await self.guard.admit() if self.guard is not None else None
        started = self._clock()
        try:
            await self._pace(deadline, shared.lane)
            started = self._clock()  # the limiter's wait is ours, not the upstream's latency
            value = await self._until(deadline, fetch(deadline.later(self._shared_cap_s)))
        except BaseException as error:
            elapsed = self._clock() - started
            if permit is not None and self.guard is not None:
                self.guard.failed(permit, error, elapsed)
            outcome = str(error.kind) if isinstance(error, UpstreamError) else "cancelled"
            self._hooks.upstream_call(self.source, outcome, elapsed)
            raise
        elapsed = self._clock() - started
        if permit is not None and self.guard is not None:
            self.guard.succeeded(permit, elapsed)
        self._hooks.upstream_call(self.source, "ok", elapsed)
        return value

    async def _until(self, deadline: Deadline, exchange: Awaitable[T]) -> T:
        """Await one HTTP exchange until the live shared ``deadline`` passes. The exchange
        itself may run up to the HTTP timeout: a caller joining while it is on the wire
        moves the shared deadline later, and must not inherit the first caller's."""
        task = asyncio.ensure_future(exchange)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=deadline.remaining())
                if done:
                    return task.result()
                if deadline.expired():
                    raise DeadlineExceeded(self.source, "deadline reached during the call")
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def _pace(self, deadline: Deadline, lane: Priority) -> None:
        # A slot so late that the request could not complete wastes upstream quota.
        if self._limiter is None:
            return
        usable = Deadline(deadline.expires_at - MIN_ATTEMPT_S, deadline.clock)
        waited_from = self._clock()
        granted = await self._limiter.acquire(usable, lane)
        waited = self._clock() - waited_from
        self._hooks.limiter_wait(self.source, waited)
        self._hooks.limiter_lane(self.source, lane.name.lower(), granted, waited)
        if not granted:
            raise ClientThrottled(
                self.source,
                f"our own rate limit for {self.source}: no {lane.name.lower()} slot before the"
                " deadline (the upstream was not called)",
            )

    @property
    def coalesced_calls(self) -> int:
        """Callers that shared another caller's in-flight lookup."""
        return self._coalescer.joined
