"""Unit tests for enrichment_server.api.convert: domain <-> protobuf messages."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from google.rpc import code_pb2, error_details_pb2

from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb
from enrichment_server.api.convert import (
    bad_request_status,
    item_error,
    metadata_message,
    raw_request,
    response_message,
)
from enrichment_server.api.validation import RawRequest
from enrichment_server.domain import (
    EnrichmentResult,
    ErrorKind,
    Source,
    SourceFailure,
    Status,
    TrackMetadata,
)
from enrichment_server.errors import FieldViolation, InvalidRequest

OPTIONAL_SCALARS = [
    f.name
    for f in dataclasses.fields(TrackMetadata)
    if f.name not in ("major", "artists", "genres")
]
ENRICHED_AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def has(message: pb.TrackMetadata, name: str) -> bool:
    """HasField for a field name held in a variable."""
    return message.HasField(name)  # type: ignore[arg-type]


def result(**changes: object) -> EnrichmentResult:
    """A small COMPLETED result with the given fields replaced."""
    base = EnrichmentResult(
        track_id="t-1",
        status=Status.COMPLETED,
        metadata=TrackMetadata(title="One More Time"),
        provenance={"title": Source.SPOTIFY},
        sources_used=(Source.SPOTIFY,),
        errors=(),
        duration_s=0.25,
        cached=False,
        enriched_at=ENRICHED_AT,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_empty_metadata_sets_nothing() -> None:
    """Empty TrackMetadata gives a message with no optional field set."""
    message = metadata_message(TrackMetadata())
    assert [name for name in OPTIONAL_SCALARS if has(message, name)] == []
    assert not message.HasField("mode")
    assert list(message.artists) == []
    assert list(message.genres) == []


def test_zero_differs_from_absent() -> None:
    """Zero-valued fields are set (HasField true), unlike absent ones."""
    message = metadata_message(TrackMetadata(pitch_class=0, energy=0.0, lastfm_listeners=0))
    assert message.HasField("pitch_class")
    assert message.pitch_class == 0
    assert message.HasField("energy")
    assert message.HasField("lastfm_listeners")
    assert not message.HasField("valence")
    assert not message.HasField("bpm")


def test_present_fields_are_copied() -> None:
    """Every present scalar is copied with its value."""
    metadata = TrackMetadata(
        spotify_id="4uLU6hMCjMI75M1A2tKUQC",
        isrc="GBDUW0000059",
        musicbrainz_id="4a00ec9d-c635-463a-8cd4-eb61725f0c60",
        title="One More Time",
        artist="Daft Punk",
        album="Discovery",
        label="Virgin",
        release_date="2001-03-12",
        duration_ms=320357,
        bpm=122.75,
        pitch_class=2,
        musical_key="D Major",
        camelot_key="10B",
        open_key="3d",
        energy=0.7,
        danceability=0.6,
        valence=0.5,
        lastfm_listeners=123456,
        lastfm_playcount=9876543210,
        match_confidence=0.97,
    )
    message = metadata_message(metadata)
    for name in OPTIONAL_SCALARS:
        assert has(message, name), name
        assert getattr(message, name) == pytest.approx(getattr(metadata, name)), name


@pytest.mark.parametrize(
    ("major", "mode"),
    [(True, pb.KEY_MODE_MAJOR), (False, pb.KEY_MODE_MINOR)],
)
def test_major_maps_to_mode(major: bool, mode: int) -> None:
    """major True/False becomes KEY_MODE_MAJOR/KEY_MODE_MINOR; the mode is set."""
    message = metadata_message(TrackMetadata(pitch_class=9, major=major))
    assert message.HasField("mode")
    assert message.mode == mode


def test_repeated_fields_copied_in_order() -> None:
    """artists and genres are copied in order."""
    message = metadata_message(
        TrackMetadata(artists=("Bicep", "Clara La San"), genres=("house", "uk garage"))
    )
    assert list(message.artists) == ["Bicep", "Clara La San"]
    assert list(message.genres) == ["house", "uk garage"]


def test_response_maps_status_sources_and_provenance() -> None:
    """Status, sources_used and provenance become the proto enum values."""
    message = response_message(
        result(
            status=Status.PARTIAL,
            provenance={"title": Source.SPOTIFY, "genres": Source.LASTFM},
            sources_used=(Source.SPOTIFY, Source.LASTFM),
            cached=True,
        )
    )
    assert message.track_id == "t-1"
    assert message.status == pb.ENRICHMENT_STATUS_PARTIAL
    assert list(message.sources_used) == [pb.SOURCE_SPOTIFY, pb.SOURCE_LASTFM]
    assert dict(message.provenance) == {"title": pb.SOURCE_SPOTIFY, "genres": pb.SOURCE_LASTFM}
    assert message.cached is True
    assert message.metadata.title == "One More Time"


@pytest.mark.parametrize(
    ("status", "wire"),
    [
        (Status.COMPLETED, pb.ENRICHMENT_STATUS_COMPLETED),
        (Status.PARTIAL, pb.ENRICHMENT_STATUS_PARTIAL),
        (Status.NOT_FOUND, pb.ENRICHMENT_STATUS_NOT_FOUND),
        (Status.FAILED, pb.ENRICHMENT_STATUS_FAILED),
    ],
)
def test_every_status_maps(status: Status, wire: int) -> None:
    """Each domain status has its own wire value."""
    assert response_message(result(status=status)).status == wire


def test_response_errors_with_retry_after() -> None:
    """Source failures map to SourceError with code, retriable and a retry_after Duration."""
    failures = (
        SourceFailure(Source.MUSICBRAINZ, ErrorKind.RATE_LIMITED, "503 slow down", True, 2.5),
        SourceFailure(Source.SPOTIFY, ErrorKind.UNAUTHENTICATED, "401", False),
    )
    message = response_message(result(errors=failures, status=Status.PARTIAL))
    limited, refused = message.errors
    assert limited.source == pb.SOURCE_MUSICBRAINZ
    assert limited.code == pb.ERROR_CODE_RATE_LIMITED
    assert limited.message == "503 slow down"
    assert limited.retriable is True
    assert limited.HasField("retry_after")
    assert (limited.retry_after.seconds, limited.retry_after.nanos) == (2, 500_000_000)
    assert refused.source == pb.SOURCE_SPOTIFY
    assert refused.code == pb.ERROR_CODE_UNAUTHENTICATED
    assert refused.retriable is False
    assert not refused.HasField("retry_after")


def test_every_error_kind_maps_to_distinct_code() -> None:
    """Every ErrorKind maps to its own non-UNSPECIFIED ErrorCode."""
    failures = tuple(SourceFailure(Source.DEEZER, kind, kind.value, True) for kind in ErrorKind)
    codes = [e.code for e in response_message(result(errors=failures)).errors]
    assert len(set(codes)) == len(ErrorKind)
    assert pb.ERROR_CODE_UNSPECIFIED not in codes


def test_response_duration_and_enriched_at() -> None:
    """duration and enriched_at are well-known types with the result's values."""
    message = response_message(result(duration_s=1.5))
    assert (message.duration.seconds, message.duration.nanos) == (1, 500_000_000)
    assert message.enriched_at.ToDatetime(tzinfo=UTC) == ENRICHED_AT


def test_duration_rounds_to_nearest_nanosecond() -> None:
    """A retry_after of 1.001 s is 1 s + 1 000 000 ns on the wire, not 1 ns short."""
    failure = SourceFailure(Source.MUSICBRAINZ, ErrorKind.RATE_LIMITED, "x", True, 1.001)
    error = response_message(result(errors=(failure,))).errors[0]
    assert error.retry_after.ToNanoseconds() == 1_001_000_000


def test_bad_request_status_lists_every_violation() -> None:
    """bad_request_status is INVALID_ARGUMENT (3) with a BadRequest of every violation."""
    error = InvalidRequest(
        [
            FieldViolation("artist_name", "must not be empty or blank"),
            FieldViolation("existing_isrc", "must be an ISRC"),
        ]
    )
    status = bad_request_status(error)
    assert status.code == code_pb2.INVALID_ARGUMENT == 3
    assert "artist_name" in status.message
    assert len(status.details) == 1
    detail = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(detail)
    assert [(v.field, v.description) for v in detail.field_violations] == [
        ("artist_name", "must not be empty or blank"),
        ("existing_isrc", "must be an ISRC"),
    ]


def test_item_error_lists_every_violation() -> None:
    """item_error carries code 3 and every field violation."""
    error = InvalidRequest(
        [FieldViolation("track_title", "blank"), FieldViolation("track_id", "long")]
    )
    item = item_error(error)
    assert item.code == 3
    assert [v.field for v in item.field_violations] == ["track_title", "track_id"]


def test_raw_request_unset_optionals_are_none() -> None:
    """Optional identifiers that were not set become None."""
    raw = raw_request(pb.EnrichRequest(track_id="t", artist_name="a", track_title="b"))
    assert raw == RawRequest(track_id="t", artist_name="a", track_title="b")
    assert raw.existing_spotify_id is None
    assert raw.existing_isrc is None
    assert raw.existing_musicbrainz_id is None


def test_raw_request_set_but_empty_is_empty_string() -> None:
    """Optional identifiers set to "" stay "" (distinct from unset)."""
    raw = raw_request(
        pb.EnrichRequest(
            track_id="t",
            artist_name="a",
            track_title="b",
            existing_spotify_id="",
            existing_isrc="",
            existing_musicbrainz_id="",
        )
    )
    assert (raw.existing_spotify_id, raw.existing_isrc, raw.existing_musicbrainz_id) == (
        "",
        "",
        "",
    )


def test_raw_request_copies_values_and_force_refresh() -> None:
    """Set identifiers and force_refresh are copied as sent."""
    raw = raw_request(
        pb.EnrichRequest(
            track_id="t",
            artist_name=" a ",
            track_title="b",
            existing_isrc="gb-tdg-09-00141",
            force_refresh=True,
        )
    )
    assert raw.artist_name == " a "
    assert raw.existing_isrc == "gb-tdg-09-00141"
    assert raw.force_refresh is True
