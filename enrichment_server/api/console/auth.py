"""Console sign-in: server-side sessions, CSRF tokens and a throttle on failed sign-ins.

* The operator signs in with ``ENRICHMENT_ADMIN_TOKEN`` (compared in constant time).
* A session lives on the server (this replica's memory); the browser holds only its random
  id in an HttpOnly, SameSite=Strict cookie (Secure under TLS). It expires after
  ``ENRICHMENT_CONSOLE_SESSION_S`` and at sign-out. Signing in replaces the anonymous
  session (no fixation).
* Every session, the anonymous one of the sign-in form included, has a CSRF token; every
  state-changing request must carry it (form field ``csrf`` or header ``X-CSRF-Token``),
  compared in constant time.
* After ``FREE_FAILURES`` failed sign-ins from one address, it must wait ``LOCKOUT_S``
  before the next try, twice as long after each further failure (up to ``MAX_LOCKOUT_S``);
  a success clears the count.

Clocks are injected so tests drive expiry and lockouts without sleeping.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "enrichment_console"
FREE_FAILURES = 5
LOCKOUT_S = 30.0
MAX_LOCKOUT_S = 900.0
#: Anonymous sessions (a sign-in form shown) kept at most; the oldest go first.
MAX_ANONYMOUS = 1000
Clock = Callable[[], float]


@dataclass(slots=True)
class Session:
    """One browser's session: its CSRF token, whether signed in, and when it ends."""

    id: str
    csrf: str
    signed_in: bool
    expires_at: float
    flash: list[str] = field(default_factory=list)

    @property
    def handle(self) -> str:
        """A short, non-secret name for audit lines (a hash prefix, never the id)."""
        return hashlib.sha256(self.id.encode()).hexdigest()[:10]


def same_secret(presented: str, expected: str) -> bool:
    """Constant-time equality of two secrets (False for an empty expectation)."""
    return bool(expected) and hmac.compare_digest(presented.encode(), expected.encode())


class Sessions:
    """Server-side sessions of this replica."""

    def __init__(self, lifetime_s: float, clock: Clock = time.monotonic) -> None:
        self._lifetime_s = lifetime_s
        self._clock = clock
        self._sessions: dict[str, Session] = {}

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, or None (unknown or expired: forgotten)."""
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.expires_at <= self._clock():
            del self._sessions[session_id]
            return None
        return session

    def anonymous(self) -> Session:
        """A new session that is not signed in (it carries the sign-in form's CSRF token)."""
        anonymous = [s for s in self._sessions.values() if not s.signed_in]
        for stale in anonymous[: max(0, len(anonymous) - MAX_ANONYMOUS + 1)]:
            del self._sessions[stale.id]
        return self._new(signed_in=False)

    def sign_in(self, previous: Session | None) -> Session:
        """A new signed-in session; the previous one (anonymous) ends."""
        if previous is not None:
            self._sessions.pop(previous.id, None)
        return self._new(signed_in=True)

    def end(self, session: Session) -> None:
        """Sign out: the session is gone on this replica."""
        self._sessions.pop(session.id, None)

    def _new(self, *, signed_in: bool) -> Session:
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            signed_in=signed_in,
            expires_at=self._clock() + self._lifetime_s,
        )
        self._sessions[session.id] = session
        return session

    @property
    def lifetime_s(self) -> float:
        """How long a session lives."""
        return self._lifetime_s


class Throttle:
    """Failed sign-ins per client address, and how long it must wait before the next."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, tuple[int, float]] = {}

    def wait_s(self, client: str) -> float:
        """Seconds until ``client`` may try again (0: now)."""
        failures, last = self._failures.get(client, (0, 0.0))
        if failures < FREE_FAILURES:
            return 0.0
        lockout = min(MAX_LOCKOUT_S, LOCKOUT_S * 2.0 ** (failures - FREE_FAILURES))
        return max(0.0, last + lockout - self._clock())

    def failed(self, client: str) -> None:
        """Count a failed sign-in."""
        failures, _ = self._failures.get(client, (0, 0.0))
        self._failures[client] = (failures + 1, self._clock())

    def succeeded(self, client: str) -> None:
        """A good sign-in clears the count."""
        self._failures.pop(client, None)
