"""enrichment_client's priorities and ``refused_locally`` (what the scrapers rely on)."""

from __future__ import annotations

import pytest

from enrichment_client import Priority, make_request, pb, refused_locally


@pytest.mark.parametrize("name", ["bulk", "BULK", "PRIORITY_BULK", " Bulk "])
def test_priority_parses_the_names_people_type(name: str) -> None:
    """Settings and the CLI accept the lane name in any case, with or without prefix."""
    assert Priority.parse(name) is Priority.BULK


def test_unknown_priority_names_the_choices() -> None:
    """A typo says which names exist."""
    with pytest.raises(ValueError, match="interactive, bulk, background"):
        Priority.parse("urgent")


def test_make_request_sets_the_priority_only_when_given() -> None:
    """No priority leaves the field unset (interactive); a given one is sent."""
    assert make_request("a", "b").priority == pb.PRIORITY_UNSPECIFIED
    assert make_request("a", "b", priority=Priority.BACKGROUND).priority == pb.PRIORITY_BACKGROUND


def _answer(status: int, *codes: tuple[int, bool]) -> pb.EnrichResponse:
    answer = pb.EnrichResponse()
    answer.status = pb.EnrichmentStatus.ValueType(status)
    for code, retriable in codes:
        answer.errors.add(code=pb.ErrorCode.ValueType(code), retriable=retriable)
    return answer


def test_refused_locally_only_when_every_retriable_error_is_ours() -> None:
    """Our limiter or breaker alone: deferred; any upstream failure among them: not."""
    ours = (pb.ERROR_CODE_LOCAL_RATE_LIMIT, True)
    breaker = (pb.ERROR_CODE_CIRCUIT_OPEN, True)
    upstream = (pb.ERROR_CODE_UNAVAILABLE, True)
    credential = (pb.ERROR_CODE_UNAUTHENTICATED, False)
    partial, failed = pb.ENRICHMENT_STATUS_PARTIAL, pb.ENRICHMENT_STATUS_FAILED
    assert refused_locally(_answer(partial, ours))
    assert refused_locally(_answer(failed, ours, breaker, credential))
    assert not refused_locally(_answer(partial, ours, upstream))
    assert not refused_locally(_answer(pb.ENRICHMENT_STATUS_COMPLETED, ours))
    assert not refused_locally(_answer(failed, credential))
