"""Runtime controls of one upstream imitation: fault switches, latency, call counts, knobs.

One :class:`Controls` object belongs to one imitation. Tests in the same process drive it
directly; other processes use the ``/_sandbox/`` HTTP routes (see ``admin.py``), which
edit the same object. The request pipeline that applies it lives in ``middleware.py``.
"""

from __future__ import annotations

import asyncio
import collections
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Literal, get_args

FaultKind = Literal[
    "status", "hang", "rate_limit", "malformed", "error_in_200", "quota", "garbled", "echo"
]
"""What an injected fault does (see :class:`FaultRule`)."""

FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))
ANY_ENDPOINT = "*"


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRule:
    """One injected fault.

    ``kind``: ``status`` answers ``status`` with the upstream's own error body; ``hang``
    never answers (about an hour; the client's timeout must cut it); ``rate_limit`` is the
    upstream's throttling response; ``malformed`` is HTTP 200 with a truncated JSON body;
    ``error_in_200`` is an error inside a 200 (Last.fm) or a 500 (the others);
    ``quota`` is Spotify's QUOTA_EXCEEDED 429 / Last.fm's suspended key (error 26);
    ``garbled`` is a broken HTTP answer on the wire (an invalid status line), which HTTP
    clients report with the full request URL; ``echo`` is ``status`` with an error body
    quoting the whole request (URL with its query string, headers, form) back.
    ``retry_after_header`` sets ``Retry-After`` to that exact text (``"inf"``, ``"NaN"``,
    ``"-5"``, ``"1e400"``, an HTTP date...), for clients that must parse it defensively.
    ``times`` None keeps the fault until cleared; otherwise each matching request
    consumes one.
    """

    endpoint: str = ANY_ENDPOINT
    kind: FaultKind
    status: int = 503
    retry_after: float | None = None
    retry_after_header: str | None = None
    times: int | None = None

    def matches(self, endpoint: str) -> bool:
        """Whether this rule applies to a request for ``endpoint``."""
        return self.endpoint in (ANY_ENDPOINT, endpoint)

    @classmethod
    def from_json(cls, data: object) -> FaultRule:
        """Validate a decoded JSON object into a rule; ``ValueError`` says what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a fault must be a JSON object")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(sorted(unknown))}")
        kind = data.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"'kind' must be one of {sorted(FAULT_KINDS)}")
        endpoint = data.get("endpoint", ANY_ENDPOINT)
        if not isinstance(endpoint, str) or not endpoint:
            raise ValueError("'endpoint' must be a non-empty string")
        return cls(
            endpoint=endpoint,
            kind=kind,
            status=_http_status(data.get("status", 503)),
            retry_after=_optional_seconds(data.get("retry_after")),
            retry_after_header=_optional_header(data.get("retry_after_header")),
            times=_optional_times(data.get("times")),
        )


def _http_status(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise ValueError("'status' must be an integer HTTP status (100..599)")
    return value


def _optional_seconds(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError("'retry_after' must be a non-negative number of seconds or null")
    return float(value)


def _optional_header(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or any(ch in value for ch in "\r\n\0"):
        raise ValueError("'retry_after_header' must be a single-line string or null")
    return value


def _optional_times(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("'times' must be a positive integer or null")
    return value


@dataclass(slots=True)
class _ActiveFault:
    rule: FaultRule
    remaining: int | None


class FaultBook:
    """The active fault rules of one imitation, consulted in the order they were added."""

    def __init__(self) -> None:
        """Start with no faults."""
        self._active: list[_ActiveFault] = []

    def add(self, rule: FaultRule) -> None:
        """Activate ``rule`` (after any already active)."""
        self._active.append(_ActiveFault(rule, rule.times))

    def clear(self) -> None:
        """Deactivate every rule."""
        self._active.clear()

    def take(self, endpoint: str) -> FaultRule | None:
        """The first rule matching ``endpoint``, consuming one use of a counted rule."""
        for active in self._active:
            if not active.rule.matches(endpoint):
                continue
            if active.remaining is not None:
                active.remaining -= 1
                if active.remaining <= 0:
                    self._active.remove(active)
            return active.rule
        return None

    def snapshot(self) -> list[dict[str, object]]:
        """The active rules as JSON-ready objects, with their remaining uses."""
        return [
            {
                **{f.name: getattr(a.rule, f.name) for f in fields(FaultRule)},
                "remaining": a.remaining,
            }
            for a in self._active
        ]


@dataclass(frozen=True, slots=True)
class Knob:
    """One app-specific config key: its default and what values it accepts."""

    default: object
    accepts: Callable[[object], bool]
    description: str

    @classmethod
    def choice(cls, default: str, *others: str, description: str) -> Knob:
        """A knob taking one of a few strings."""
        allowed = frozenset((default, *others))
        return cls(
            default, lambda v: v in allowed, f"{description} ({' | '.join(sorted(allowed))})"
        )

    @classmethod
    def flag(cls, default: bool, *, description: str) -> Knob:
        """A boolean knob."""
        return cls(default, lambda v: isinstance(v, bool), f"{description} (true | false)")

    @classmethod
    def number(cls, default: float | None, *, description: str) -> Knob:
        """A positive number knob; ``null`` is accepted when the default is None."""
        nullable = default is None

        def accepts(v: object) -> bool:
            if v is None:
                return nullable
            return (
                isinstance(v, int | float)
                and not isinstance(v, bool)
                and math.isfinite(v)
                and v > 0
            )

        return cls(
            default, accepts, f"{description} (a positive number{' or null' if nullable else ''})"
        )


ConfigListener = Callable[[Mapping[str, object]], None]
"""Called with the changed keys after every successful config update."""


@dataclass
class Controls:
    """Shared runtime controls of one imitation.

    ``faults`` holds injected failures, ``latency_ms`` maps an endpoint name (or ``"*"``,
    the default) to an added delay, ``calls`` counts requests per endpoint name (admin
    requests excluded) and ``config`` holds the imitation's knobs, validated against
    ``knobs``. ``closing`` is set on shutdown so hanging requests end promptly.
    """

    knobs: Mapping[str, Knob] = field(default_factory=dict)
    faults: FaultBook = field(default_factory=FaultBook)
    latency_ms: dict[str, float] = field(default_factory=dict)
    calls: collections.Counter[str] = field(default_factory=collections.Counter)
    arrivals: collections.deque[tuple[float, str]] = field(
        default_factory=lambda: collections.deque(maxlen=100_000)
    )
    """(monotonic time, endpoint) of each counted request, for rate checks at the upstream."""
    config: dict[str, object] = field(default_factory=dict)
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    _listeners: list[ConfigListener] = field(default_factory=list)
    _default_latency: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Fill ``config`` with the knob defaults and remember the starting latency."""
        self.config = {name: knob.default for name, knob in self.knobs.items()} | self.config
        self._default_latency = dict(self.latency_ms)

    def max_in_window(self, window_s: float = 1.0) -> int:
        """The most requests that arrived within any ``window_s`` span (sliding window)."""
        times = sorted(t for t, _ in self.arrivals)
        best, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= window_s:
                start += 1
            best = max(best, end - start + 1)
        return best

    def latency_for(self, endpoint: str) -> float:
        """Delay in ms for ``endpoint``: its own setting, else the ``"*"`` default, else 0."""
        return self.latency_ms.get(endpoint, self.latency_ms.get(ANY_ENDPOINT, 0.0))

    def set_latency(
        self, ms: float, endpoint: str = ANY_ENDPOINT, *, default: bool = False
    ) -> None:
        """Delay every request for ``endpoint`` (``"*"``: all without their own) by ``ms``.

        With ``default`` the value also survives :meth:`reset`.
        """
        if not ms >= 0 or not math.isfinite(ms):
            raise ValueError("latency must be a non-negative number of milliseconds")
        self.latency_ms[endpoint] = float(ms)
        if default:
            self._default_latency[endpoint] = float(ms)

    def update_config(self, changes: Mapping[str, object]) -> None:
        """Merge knob values; ``ValueError`` (and no change) on an unknown key or bad value."""
        for key, value in changes.items():
            knob = self.knobs.get(key)
            if knob is None:
                raise ValueError(f"unknown config key {key!r}; known: {sorted(self.knobs)}")
            if not knob.accepts(value):
                raise ValueError(f"bad value {value!r} for {key!r}: {knob.description}")
        self.config.update(changes)
        for listener in self._listeners:
            listener(changes)

    def number(self, key: str) -> float | None:
        """The numeric knob ``key`` as a float (None when it is null)."""
        value = self.config[key]
        return float(value) if isinstance(value, int | float) else None

    def on_config(self, listener: ConfigListener) -> None:
        """Call ``listener`` after each successful :meth:`update_config`."""
        self._listeners.append(listener)

    def reset(self) -> None:
        """Back to the starting state: no faults, no counts, default latency and knobs."""
        self.faults.clear()
        self.calls.clear()
        self.arrivals.clear()
        self.latency_ms = dict(self._default_latency)
        self.config = {name: knob.default for name, knob in self.knobs.items()}
