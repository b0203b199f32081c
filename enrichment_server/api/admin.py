"""``enrichment.v1.EnrichmentAdminService``: operator RPCs behind a bearer token.

The token is compared in constant time. With no token configured every admin call is
refused with FAILED_PRECONDITION and a message saying how to enable the API, so a
forgotten setting never leaves the admin API open. Only this module and ``servicer.py``
touch protobuf messages.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import grpc
import structlog
from google.protobuf import timestamp_pb2
from grpc_status import rpc_status

from enrichment_client.pb.enrichment.v1 import admin_pb2 as admin_pb
from enrichment_client.pb.enrichment.v1 import admin_pb2_grpc as admin_grpc
from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb
from enrichment_server.api import selection
from enrichment_server.api.convert import ERROR_CODE, SOURCE, bad_request_status
from enrichment_server.api.explain import TrackNotFound, explain_match
from enrichment_server.api.selection import Selection
from enrichment_server.domain import Source
from enrichment_server.enrichment.explain import Explainer
from enrichment_server.errors import FieldViolation, InvalidRequest
from enrichment_server.resilience.breaker import BreakerState
from enrichment_server.resilience.registry import BreakerRegistry
from enrichment_server.store import DeadLetter, MaskedCredential, Store

log = structlog.get_logger("enrichment.admin")
Context = Any  # grpc.aio.ServicerContext; grpc ships no type stubs
_SOURCE_BY_PB = {v: k for k, v in SOURCE.items()}
_KIND_BY_PB = {v: k for k, v in ERROR_CODE.items()}
#: Stored names -> wire values; anything else (None: a crash of our own) is UNSPECIFIED.
_SOURCE_BY_NAME = {str(k): v for k, v in SOURCE.items()}
_CODE_BY_NAME = {str(k): v for k, v in ERROR_CODE.items()}
BREAKER_STATE = {
    BreakerState.CLOSED: admin_pb.BREAKER_STATE_CLOSED,
    BreakerState.OPEN: admin_pb.BREAKER_STATE_OPEN,
    BreakerState.HALF_OPEN: admin_pb.BREAKER_STATE_HALF_OPEN,
}
_STATE = {"due": admin_pb.DEAD_LETTER_STATE_DUE, "parked": admin_pb.DEAD_LETTER_STATE_PARKED}
_STATE_BY_PB = {v: k for k, v in _STATE.items()}


class CredentialManager(Protocol):
    """Stores a credential and puts it into effect (the ``App``)."""

    async def set_credential(self, source: Source, name: str, value: str) -> MaskedCredential:
        """Encrypt, store and apply; ``ValueError`` for an unknown name or no key."""
        ...


async def require_admin(context: Context, token: str) -> None:
    """Abort unless the call carries ``authorization: Bearer <token>``."""
    if not token:
        await context.abort(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the admin API is disabled: set ENRICHMENT_ADMIN_TOKEN on the server and send "
            "'authorization: Bearer <token>'",
        )
    sent = dict(context.invocation_metadata() or ()).get("authorization", "")
    scheme, _, presented = str(sent).partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.encode(), token.encode()):
        log.warning("admin_refused", peer=context.peer(), reason="missing or wrong token")
        await context.abort(
            grpc.StatusCode.UNAUTHENTICATED,
            "admin RPCs need the metadata 'authorization: Bearer <ENRICHMENT_ADMIN_TOKEN>'",
        )


def _timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    if moment is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def dead_letter_message(entry: DeadLetter) -> admin_pb.DeadLetter:
    """The wire form of a dead letter, with its per-source errors."""
    errors = []
    for error in entry.errors:
        # A crashed attempt is stored with source None and kind "internal" (issue 12 item 7).
        source = _SOURCE_BY_NAME.get(str(error.get("source")), pb.SOURCE_UNSPECIFIED)
        code = _CODE_BY_NAME.get(str(error.get("kind")), pb.ERROR_CODE_UNSPECIFIED)
        message = str(error.get("message") or "")
        retriable = bool(error.get("retriable"))
        errors.append(
            pb.SourceError(source=source, code=code, message=message, retriable=retriable)
        )
    return admin_pb.DeadLetter(
        id=entry.id,
        track_id=entry.track_id,
        artist_name=entry.request.artist,
        track_title=entry.request.title,
        state=_STATE.get(entry.state, admin_pb.DEAD_LETTER_STATE_UNSPECIFIED),
        attempts=entry.attempts,
        next_attempt_at=_timestamp(entry.next_attempt_at),
        last_error=entry.last_error or "",
        errors=errors,
        created_at=_timestamp(entry.created_at),
        updated_at=_timestamp(entry.updated_at),
    )


def _selection(request: Any, bad: list[FieldViolation]) -> Selection:
    """The dead letters a List/Replay/Purge request selects; violations added to ``bad``."""
    source = selection.enum_value("source", request.source, _SOURCE_BY_PB, bad)
    kind = selection.enum_value("error_code", request.error_code, _KIND_BY_PB, bad)
    state = None
    if "state" in request.DESCRIPTOR.fields_by_name:
        state = selection.enum_value("state", request.state, _STATE_BY_PB, bad)
    chosen = selection.ids(request.ids, bad) if "ids" in request.DESCRIPTOR.fields_by_name else None
    return Selection(chosen, str(source) if source else None, str(kind) if kind else None, state)


async def _refuse(context: Context, error: InvalidRequest) -> None:
    """INVALID_ARGUMENT with a BadRequest naming each bad field (raises)."""
    log.info("admin_rejected", fields=[v.field for v in error.violations])
    await context.abort_with_status(rpc_status.to_status(bad_request_status(error)))


class AdminServicer(admin_grpc.EnrichmentAdminServiceServicer):
    """Implements the admin RPCs."""

    def __init__(
        self,
        breakers: BreakerRegistry,
        token: str,
        store: Store,
        credentials: CredentialManager,
        cache_hit_rate: Callable[[], float],
        explainer: Explainer | None = None,
    ) -> None:
        self._explainer = explainer
        self._breakers = breakers
        self._token = token
        self._store = store
        self._credentials = credentials
        self._cache_hit_rate = cache_hit_rate

    async def ResetBreaker(
        self, request: admin_pb.ResetBreakerRequest, context: Context
    ) -> admin_pb.ResetBreakerResponse:
        """Reset one source's breaker (or all) here and in the shared hint."""
        await require_admin(context, self._token)
        bad: list[FieldViolation] = []
        source = selection.enum_value("source", request.source, _SOURCE_BY_PB, bad)
        if bad:
            await _refuse(context, InvalidRequest(bad))
        if source is not None and source not in self._breakers.sources:
            await context.abort(
                grpc.StatusCode.NOT_FOUND, f"no breaker for {source}: the source is not enabled"
            )
        resets = await self._breakers.reset(source)
        log.info("breaker_reset_by_operator", sources=[str(s) for s, _, _ in resets])
        return admin_pb.ResetBreakerResponse(
            resets=[
                admin_pb.BreakerReset(
                    source=SOURCE[s], previous=BREAKER_STATE[old], current=BREAKER_STATE[new]
                )
                for s, old, new in resets
            ]
        )

    async def GetStats(
        self, request: admin_pb.GetStatsRequest, context: Context
    ) -> admin_pb.GetStatsResponse:
        """Coverage, statuses, dead-letter depth, cache hit rate, breaker states."""
        await require_admin(context, self._token)
        stats = await self._store.stats()
        return admin_pb.GetStatsResponse(
            total_tracks=stats.total_tracks,
            coverage_percentages=stats.coverage,
            tracks_by_status=stats.statuses,
            dead_letters_due=stats.dead_letters_due,
            dead_letters_parked=stats.dead_letters_parked,
            cache_hit_rate=self._cache_hit_rate(),
            breakers=[
                admin_pb.BreakerStatus(source=SOURCE[s], state=BREAKER_STATE[state])
                for s, state in self._breakers.states().items()
            ],
        )

    async def ListDeadLetters(
        self, request: admin_pb.ListDeadLettersRequest, context: Context
    ) -> admin_pb.ListDeadLettersResponse:
        """A page of dead letters, oldest first."""
        await require_admin(context, self._token)
        bad: list[FieldViolation] = []
        chosen = _selection(request, bad)
        page = selection.page(request.page_size, request.page_token, bad)
        if bad:
            await _refuse(context, InvalidRequest(bad))
        entries, token = await self._store.list_dead_letters(
            chosen.source, chosen.kind, chosen.state, page.size, page.token
        )
        return admin_pb.ListDeadLettersResponse(
            dead_letters=[dead_letter_message(e) for e in entries], next_page_token=token or ""
        )

    async def ReplayDeadLetters(
        self, request: admin_pb.ReplayDeadLettersRequest, context: Context
    ) -> admin_pb.ReplayDeadLettersResponse:
        """Make the selected entries due now, with a fresh attempt budget."""
        await require_admin(context, self._token)
        bad: list[FieldViolation] = []
        chosen = _selection(request, bad)
        if not bad and chosen.empty and not request.all_parked:
            bad.append(
                FieldViolation("ids", "select entries: ids, source, error_code or all_parked")
            )
        if bad:
            await _refuse(context, InvalidRequest(bad))
        replayed = await self._store.replay(
            chosen.ids,
            source=chosen.source,
            kind=chosen.kind,
            parked_only=request.all_parked,
            now=datetime.now(UTC),
        )
        log.info("dead_letters_replayed", count=replayed)
        return admin_pb.ReplayDeadLettersResponse(replayed=replayed)

    async def PurgeDeadLetters(
        self, request: admin_pb.PurgeDeadLettersRequest, context: Context
    ) -> admin_pb.PurgeDeadLettersResponse:
        """Delete the selected entries."""
        await require_admin(context, self._token)
        bad: list[FieldViolation] = []
        chosen = _selection(request, bad)
        if not bad and chosen.empty and not request.all:
            bad.append(
                FieldViolation("ids", "select entries: ids, source, error_code, state, or all=true")
            )
        if bad:
            await _refuse(context, InvalidRequest(bad))
        purged = await self._store.purge(
            chosen.ids, source=chosen.source, kind=chosen.kind, state=chosen.state
        )
        log.info("dead_letters_purged", count=purged)
        return admin_pb.PurgeDeadLettersResponse(purged=purged)

    async def SetCredential(
        self, request: admin_pb.SetCredentialRequest, context: Context
    ) -> admin_pb.SetCredentialResponse:
        """Encrypt, store and apply a credential (never logged, never returned)."""
        await require_admin(context, self._token)
        source = _SOURCE_BY_PB.get(request.source)
        try:
            selection.credential(source, request.name, request.value)
        except InvalidRequest as exc:
            await _refuse(context, exc)
        assert source is not None  # checked by selection.credential
        try:
            masked = await self._credentials.set_credential(source, request.name, request.value)
        except ValueError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        log.info("credential_set", source=str(source), name=request.name)
        return admin_pb.SetCredentialResponse(credential=_credential_message(masked))

    async def ListCredentials(
        self, request: admin_pb.ListCredentialsRequest, context: Context
    ) -> admin_pb.ListCredentialsResponse:
        """Stored credentials, masked."""
        await require_admin(context, self._token)
        stored = await self._store.list_credentials()
        return admin_pb.ListCredentialsResponse(
            credentials=[_credential_message(c) for c in stored]
        )

    async def ExplainMatch(
        self, request: admin_pb.ExplainMatchRequest, context: Context
    ) -> admin_pb.ExplainMatchResponse:
        """Each source's candidates and scores for a track (``api/explain.py``)."""
        await require_admin(context, self._token)
        if self._explainer is None:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "no explainer configured")
            raise AssertionError("abort raises")  # pragma: no cover
        try:
            return await explain_match(request, self._explainer, self._store)
        except InvalidRequest as exc:
            await _refuse(context, exc)
        except TrackNotFound as exc:
            await context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        raise AssertionError("abort raises")  # pragma: no cover


def _credential_message(credential: MaskedCredential) -> admin_pb.Credential:
    return admin_pb.Credential(
        source=_SOURCE_BY_NAME.get(credential.source, pb.SOURCE_UNSPECIFIED),
        name=credential.name,
        masked_value=credential.masked,
        updated_at=_timestamp(credential.updated_at),
    )
