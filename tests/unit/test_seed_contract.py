"""The seed's HTTP JSON maps onto EnrichRequest: field names, priority lanes, bad types."""

from __future__ import annotations

import pytest

from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb
from enrichment_server.api.seed import enrich_request
from enrichment_server.errors import InvalidRequest


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        (1, pb.PRIORITY_BACKGROUND),
        (3, pb.PRIORITY_BACKGROUND),
        (4, pb.PRIORITY_BULK),
        (7, pb.PRIORITY_BULK),
        (8, pb.PRIORITY_INTERACTIVE),
        (10, pb.PRIORITY_INTERACTIVE),
        (None, pb.PRIORITY_UNSPECIFIED),
    ],
)
def test_seed_priority_becomes_the_request_priority(priority: int | None, expected: int) -> None:
    """1-3 background, 4-7 bulk, 8-10 interactive; absent leaves the default."""
    body = {"artist_name": "a", "track_title": "b", "priority": priority}
    message, _ = enrich_request(body)
    assert message.priority == expected


def test_seed_fields_keep_their_names_and_empty_ids_are_not_sent() -> None:
    """The seed's names land on the same fields; "" and null identifiers stay unset."""
    body = {
        "track_id": "t-1",
        "artist_name": "deadmau5",
        "track_title": "Strobe",
        "existing_spotify_id": "",
        "existing_isrc": "GBTDG0900141",
        "existing_musicbrainz_id": None,
    }
    message, lane = enrich_request(body)
    assert (message.track_id, message.artist_name, message.track_title) == (
        "t-1",
        "deadmau5",
        "Strobe",
    )
    assert message.existing_isrc == "GBTDG0900141"
    assert not message.HasField("existing_spotify_id")
    assert not message.HasField("existing_musicbrainz_id")
    assert lane is None


def test_every_wrongly_typed_field_is_named() -> None:
    """Numbers for strings, a string for force_refresh, 0 or true as priority: all named."""
    body = {"artist_name": 1, "track_title": ["x"], "force_refresh": "yes", "priority": True}
    with pytest.raises(InvalidRequest) as caught:
        enrich_request(body)
    fields = [v.field for v in caught.value.violations]
    assert fields == ["artist_name", "track_title", "force_refresh", "priority"]
    with pytest.raises(InvalidRequest):
        enrich_request([1, 2])
