"""Protobuf <-> domain conversion (the only module besides the servicer that sees pb2)."""

from __future__ import annotations

import dataclasses

from google.protobuf import any_pb2, duration_pb2, timestamp_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb
from enrichment_server.api.validation import RawRequest
from enrichment_server.domain import EnrichmentResult, ErrorKind, Source, Status, TrackMetadata
from enrichment_server.errors import InvalidRequest

STATUS = {
    Status.COMPLETED: pb.ENRICHMENT_STATUS_COMPLETED,
    Status.PARTIAL: pb.ENRICHMENT_STATUS_PARTIAL,
    Status.NOT_FOUND: pb.ENRICHMENT_STATUS_NOT_FOUND,
    Status.FAILED: pb.ENRICHMENT_STATUS_FAILED,
}
SOURCE = {
    Source.SPOTIFY: pb.SOURCE_SPOTIFY,
    Source.MUSICBRAINZ: pb.SOURCE_MUSICBRAINZ,
    Source.LASTFM: pb.SOURCE_LASTFM,
    Source.DEEZER: pb.SOURCE_DEEZER,
    Source.GETSONGBPM: pb.SOURCE_GETSONGBPM,
}
ERROR_CODE = {
    ErrorKind.UNAVAILABLE: pb.ERROR_CODE_UNAVAILABLE,
    ErrorKind.RATE_LIMITED: pb.ERROR_CODE_RATE_LIMITED,
    ErrorKind.QUOTA_EXCEEDED: pb.ERROR_CODE_QUOTA_EXCEEDED,
    ErrorKind.DEADLINE_EXCEEDED: pb.ERROR_CODE_DEADLINE_EXCEEDED,
    ErrorKind.MALFORMED_RESPONSE: pb.ERROR_CODE_MALFORMED_RESPONSE,
    ErrorKind.UNAUTHENTICATED: pb.ERROR_CODE_UNAUTHENTICATED,
    ErrorKind.CIRCUIT_OPEN: pb.ERROR_CODE_CIRCUIT_OPEN,
    ErrorKind.REJECTED: pb.ERROR_CODE_REJECTED,
    ErrorKind.LOCAL_RATE_LIMIT: pb.ERROR_CODE_LOCAL_RATE_LIMIT,
    ErrorKind.NOT_A_TRACK: pb.ERROR_CODE_NOT_A_TRACK,
}
#: Domain fields copied as they are onto TrackMetadata (``major`` becomes ``mode``).
_PLAIN_FIELDS = tuple(f.name for f in dataclasses.fields(TrackMetadata) if f.name != "major")


def raw_request(message: pb.EnrichRequest) -> RawRequest:
    """The request's fields as sent; unset optional fields stay None."""

    has = message.HasField
    return RawRequest(
        track_id=message.track_id,
        artist_name=message.artist_name,
        track_title=message.track_title,
        existing_spotify_id=(message.existing_spotify_id if has("existing_spotify_id") else None),
        existing_isrc=message.existing_isrc if has("existing_isrc") else None,
        existing_musicbrainz_id=(
            message.existing_musicbrainz_id if has("existing_musicbrainz_id") else None
        ),
        force_refresh=message.force_refresh,
        priority=message.priority,
    )


def metadata_message(metadata: TrackMetadata) -> pb.TrackMetadata:
    """Only fields that were found are set, so "absent" stays distinguishable from 0."""
    message = pb.TrackMetadata()
    for name in _PLAIN_FIELDS:
        value = getattr(metadata, name)
        if isinstance(value, tuple):
            getattr(message, name).extend(value)
        elif value is not None:
            setattr(message, name, value)
    if metadata.major is not None:
        message.mode = pb.KEY_MODE_MAJOR if metadata.major else pb.KEY_MODE_MINOR
    return message


def _duration(seconds: float) -> duration_pb2.Duration:
    message = duration_pb2.Duration()
    message.FromNanoseconds(round(seconds * 1e9))
    return message


def response_message(result: EnrichmentResult) -> pb.EnrichResponse:
    """The wire form of one result."""
    enriched_at = timestamp_pb2.Timestamp()
    enriched_at.FromDatetime(result.enriched_at)
    errors = []
    for failure in result.errors:
        error = pb.SourceError(
            source=SOURCE[failure.source] if failure.source else pb.SOURCE_UNSPECIFIED,
            code=ERROR_CODE[failure.kind],
            message=failure.message,
            retriable=failure.retriable,
        )
        if failure.retry_after is not None:
            error.retry_after.CopyFrom(_duration(failure.retry_after))
        errors.append(error)
    return pb.EnrichResponse(
        track_id=result.track_id,
        status=STATUS[result.status],
        sources_used=[SOURCE[s] for s in result.sources_used],
        metadata=metadata_message(result.metadata),
        provenance={name: SOURCE[source] for name, source in result.provenance.items()},
        errors=errors,
        duration=_duration(result.duration_s),
        cached=result.cached,
        enriched_at=enriched_at,
    )


def bad_request_status(error: InvalidRequest) -> status_pb2.Status:
    """A google.rpc.Status(INVALID_ARGUMENT) carrying a BadRequest naming every bad field."""
    detail = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations
        ]
    )
    packed = any_pb2.Any()
    packed.Pack(detail)
    return status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=str(error), details=[packed])


def item_error(error: InvalidRequest) -> pb.ItemError:
    """The per-item form of a BadRequest inside an EnrichBatch stream."""
    return pb.ItemError(
        code=code_pb2.INVALID_ARGUMENT,
        message=str(error),
        field_violations=[
            pb.FieldViolation(field=v.field, description=v.description) for v in error.violations
        ],
    )
