"""The seed's HTTP JSON contract (``POST /enrich``, ``/stats``) <-> our protobuf messages.

A caller that spoke the original service's HTTP API switches by changing its URL only:
the request keeps the seed's field names, the answer keeps ``status`` completed /
partial / failed, ``metadata_acquired`` with the seed's names (``key`` is the key name,
e.g. "A Minor"), ``errors``, ``duration_seconds``, ``cached`` and ``timestamp``. What the
old three-valued status cannot say travels beside it (``enrichment_status``,
``retriable``). The README's mapping table documents every field.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb
from enrichment_server.errors import FieldViolation, InvalidRequest

#: Our precise status -> the seed's three values. NOT_FOUND (every source answered, none
#: matched) was "no enrichment data returned" in the seed: failed, but not retriable.
SEED_STATUS = {
    pb.ENRICHMENT_STATUS_COMPLETED: "completed",
    pb.ENRICHMENT_STATUS_PARTIAL: "partial",
    pb.ENRICHMENT_STATUS_NOT_FOUND: "failed",
    pb.ENRICHMENT_STATUS_FAILED: "failed",
}
_STRING_FIELDS = (
    "track_id",
    "artist_name",
    "track_title",
    "existing_spotify_id",
    "existing_isrc",
    "existing_musicbrainz_id",
)
#: Our metadata field -> the seed's name in ``metadata_acquired``.
_RENAMED = {"musical_key": "key", "major": "mode"}
#: The seed's ``priority`` (1-10, 10 most urgent) -> our lane, by lowest value of a band.
PRIORITY_LANES = ((8, "interactive"), (4, "bulk"), (1, "background"))
_PRIORITY = {
    "interactive": pb.PRIORITY_INTERACTIVE,
    "bulk": pb.PRIORITY_BULK,
    "background": pb.PRIORITY_BACKGROUND,
}


def lane_for(priority: int) -> str:
    """The lane a seed priority (1-10) maps to: 8-10 interactive, 4-7 bulk, 1-3 background."""
    return next(lane for floor, lane in PRIORITY_LANES if priority >= floor)


def _priority(value: object, bad: list[FieldViolation]) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10:
        bad.append(FieldViolation("priority", "must be an integer from 1 to 10"))
        return None
    return lane_for(value)


def enrich_request(body: object) -> tuple[pb.EnrichRequest, str | None]:
    """The protobuf request for a seed JSON body and its lane, or ``InvalidRequest``
    naming every field of the wrong JSON type (content is checked by the servicer)."""
    if not isinstance(body, dict):
        raise InvalidRequest([FieldViolation("body", "must be a JSON object")])
    bad: list[FieldViolation] = []
    values: dict[str, Any] = {}
    for name in _STRING_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            bad.append(FieldViolation(name, "must be a string"))
        elif value or name in ("artist_name", "track_title"):
            values[name] = value
    force = body.get("force_refresh", False)
    if not isinstance(force, bool):
        bad.append(FieldViolation("force_refresh", "must be true or false"))
    lane = _priority(body.get("priority"), bad)
    if bad:
        raise InvalidRequest(bad)
    message = pb.EnrichRequest(**values, force_refresh=bool(force))
    _set_priority(message, lane)
    return message, lane


def _set_priority(message: pb.EnrichRequest, lane: str | None) -> None:
    """The lane as ``EnrichRequest.priority`` (absent: interactive, the contract's default)."""
    if lane is not None:
        message.priority = _PRIORITY[lane]


def _present(message: Message) -> dict[str, Any]:
    """The fields set on ``message`` (scalars, and non-empty repeated ones)."""
    found: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if isinstance(value, Message | int | float | str | bool):
            if message.HasField(field.name):
                found[field.name] = value
        elif value:  # a repeated field
            found[field.name] = list(value)
    return found


def metadata_acquired(metadata: pb.TrackMetadata) -> dict[str, Any]:
    """Found fields under the seed's names; ``mode`` as "major" / "minor"."""
    found = _present(metadata)
    if "mode" in found:
        found["mode"] = "major" if found["mode"] == pb.KEY_MODE_MAJOR else "minor"
    return {_RENAMED.get(name, name): value for name, value in found.items()}


def source_name(value: int) -> str:
    """``SOURCE_SPOTIFY`` -> ``spotify``."""
    return pb.Source.Name(value).removeprefix("SOURCE_").lower()  # type: ignore[arg-type]


def enrich_response(response: pb.EnrichResponse, lane: str | None) -> dict[str, Any]:
    """The seed's response JSON for one result (plus our precise status and provenance)."""
    errors = [
        {
            "source": source_name(e.source),
            "code": pb.ErrorCode.Name(e.code).removeprefix("ERROR_CODE_").lower(),
            "message": e.message,
            "retriable": e.retriable,
        }
        for e in response.errors
    ]
    precise = pb.EnrichmentStatus.Name(response.status).removeprefix("ENRICHMENT_STATUS_")
    return {
        "track_id": response.track_id,
        "status": SEED_STATUS.get(response.status, "failed"),
        "enrichment_status": precise.lower(),
        "retriable": response.status in (pb.ENRICHMENT_STATUS_PARTIAL, pb.ENRICHMENT_STATUS_FAILED),
        "sources_used": [source_name(s) for s in response.sources_used],
        "metadata_acquired": metadata_acquired(response.metadata),
        "provenance": {
            _RENAMED.get(k, k): source_name(v) for k, v in sorted(response.provenance.items())
        },
        "errors": [f"{e['source']}: {e['code']}: {e['message']}" for e in errors],
        "error_details": errors,
        "duration_seconds": round(response.duration.ToTimedelta().total_seconds(), 4),
        "cached": response.cached,
        "timestamp": response.enriched_at.ToDatetime().isoformat() + "Z",
        "lane": lane or "interactive",
    }
