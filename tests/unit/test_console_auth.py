"""Console sessions expire and end, sign-in failures are throttled, secrets compare safely."""

from __future__ import annotations

from enrichment_server.api.console.auth import (
    FREE_FAILURES,
    LOCKOUT_S,
    MAX_LOCKOUT_S,
    Sessions,
    Throttle,
    same_secret,
)


class FakeClock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_expires_after_its_lifetime() -> None:
    """A session is found until its lifetime passes, then forgotten."""
    clock = FakeClock()
    sessions = Sessions(60.0, clock)
    session = sessions.sign_in(None)
    clock.now += 59.9
    assert sessions.get(session.id) is session
    clock.now += 0.2
    assert sessions.get(session.id) is None


def test_signing_in_replaces_the_anonymous_session() -> None:
    """The sign-in form's session ends at sign-in (no fixation); sign-out ends the new one."""
    sessions = Sessions(60.0, FakeClock())
    anonymous = sessions.anonymous()
    signed_in = sessions.sign_in(anonymous)
    assert not anonymous.signed_in
    assert signed_in.signed_in
    assert signed_in.id != anonymous.id
    assert signed_in.csrf != anonymous.csrf
    assert sessions.get(anonymous.id) is None
    sessions.end(signed_in)
    assert sessions.get(signed_in.id) is None


def test_failed_sign_ins_are_throttled_and_a_success_clears_them() -> None:
    """Free tries first, then a lockout doubling per failure up to the cap."""
    clock = FakeClock()
    throttle = Throttle(clock)
    for _ in range(FREE_FAILURES - 1):
        throttle.failed("10.0.0.1")
    assert throttle.wait_s("10.0.0.1") == 0.0
    throttle.failed("10.0.0.1")
    assert throttle.wait_s("10.0.0.1") == LOCKOUT_S
    assert throttle.wait_s("10.0.0.2") == 0.0  # another address is not locked out
    clock.now += LOCKOUT_S
    assert throttle.wait_s("10.0.0.1") == 0.0
    throttle.failed("10.0.0.1")
    assert throttle.wait_s("10.0.0.1") == 2 * LOCKOUT_S
    for _ in range(20):
        throttle.failed("10.0.0.1")
    assert throttle.wait_s("10.0.0.1") == MAX_LOCKOUT_S
    throttle.succeeded("10.0.0.1")
    assert throttle.wait_s("10.0.0.1") == 0.0


def test_secrets_compare_whole_and_never_match_empty() -> None:
    """Equal secrets match; a prefix, a different value or an empty expectation do not."""
    assert same_secret("abc123", "abc123")
    assert not same_secret("abc", "abc123")
    assert not same_secret("abc124", "abc123")
    assert not same_secret("", "")
