"""Upstream headers parsed defensively: no Retry-After value ends an RPC (issue 12 item 5)."""

from __future__ import annotations

import math

import pytest

from enrichment_client import make_request, pb
from enrichment_sandbox.controls import FaultRule
from tests.integration.conftest import Stack

#: The longest pause an answer may announce (the edge clamps longer ones).
A_DAY_S = 86400.0
#: Retry-After texts an upstream (or a proxy in front of it) has been seen to send, or
#: that a hostile one could: none may reach a caller as UNKNOWN.
HOSTILE_RETRY_AFTER = [
    "inf",
    "-inf",
    "NaN",
    "-5",
    "1e400",
    "1e12",
    "99999999999999999999999",
    "Wed, 21 Oct 2015 07:28:00 GMT",  # in the past
    "Mon, 01 Jan 99999 00:00:00 GMT",  # beyond datetime's range
    "soon",
]
#: (source, upstream name, the endpoint its fault targets) for every source that
#: reads Retry-After.
SOURCES = [
    (pb.SOURCE_SPOTIFY, "spotify", "search"),
    (pb.SOURCE_MUSICBRAINZ, "musicbrainz", "*"),
    (pb.SOURCE_LASTFM, "lastfm", "*"),
    (pb.SOURCE_DEEZER, "deezer", "*"),
    (pb.SOURCE_GETSONGBPM, "getsongbpm", "*"),
]


def _check_retry_after(response: pb.EnrichResponse) -> None:
    """Every error's retry_after, when present, is a finite, clamped duration."""
    for error in response.errors:
        if error.HasField("retry_after"):
            seconds = error.retry_after.ToTimedelta().total_seconds()
            assert math.isfinite(seconds)
            assert 0 <= seconds <= A_DAY_S


@pytest.mark.parametrize("value", HOSTILE_RETRY_AFTER)
@pytest.mark.parametrize(("source", "upstream", "endpoint"), SOURCES)
async def test_a_hostile_retry_after_is_an_answer_not_unknown(
    stack: Stack, value: str, source: int, upstream: str, endpoint: str
) -> None:
    """issue 12 item 5: any Retry-After text on a throttled answer gives a normal answer."""
    controls = stack.sandbox.upstreams()[upstream].controls
    controls.faults.add(FaultRule(endpoint=endpoint, kind="rate_limit", retry_after_header=value))
    response = await stack.client.enrich("deadmau5", "Strobe", force_refresh=True)
    assert response.status in (pb.ENRICHMENT_STATUS_PARTIAL, pb.ENRICHMENT_STATUS_FAILED)
    assert source in {e.source for e in response.errors}
    _check_retry_after(response)


async def test_a_batch_survives_an_infinite_retry_after(stack: Stack) -> None:
    """issue 12 item 5: `Retry-After: inf` during EnrichBatch answers every item."""
    stack.sandbox.spotify.controls.faults.add(
        FaultRule(endpoint="search", kind="rate_limit", retry_after_header="inf")
    )
    names = [("deadmau5", "Strobe"), ("Röyksopp", "Eple"), ("Kölsch", "Grey")]
    requests = [make_request(a, t, track_id=f"t{i}") for i, (a, t) in enumerate(names)]
    answers = [a async for a in stack.client.enrich_many(requests)]
    assert sorted(a.track_id for a in answers) == ["t0", "t1", "t2"]
    assert all(a.HasField("response") for a in answers)
    for answer in answers:
        _check_retry_after(answer.response)


async def test_a_past_http_date_means_retry_at_once(stack: Stack) -> None:
    """issue 12 item 5: a Retry-After date in the past is "now": retried, then COMPLETED."""
    controls = stack.sandbox.spotify.controls
    controls.faults.add(
        FaultRule(
            endpoint="search",
            kind="rate_limit",
            retry_after_header="Wed, 21 Oct 2015 07:28:00 GMT",
            times=1,
        )
    )
    response = await stack.client.enrich("Kölsch", "Grey")
    assert response.status == pb.ENRICHMENT_STATUS_COMPLETED
    assert controls.calls["search"] == 2
