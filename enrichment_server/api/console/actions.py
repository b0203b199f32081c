"""What an operator can do from the console, through the same servicers as grpcurl.

Mutations go through the admin and enrichment servicers (``LocalContext`` with the
configured token), so a reset, replay, purge, credential change or re-enrichment from the
console is logged, validated and recorded exactly like the RPC. Reads use the store's
queries directly. Each action returns a short sentence for the page's flash message.
"""

from __future__ import annotations

from typing import Any

from enrichment_client.pb.enrichment.v1 import admin_pb2 as admin_pb
from enrichment_client.pb.enrichment.v1 import enrichment_pb2 as pb
from enrichment_server.api import seed
from enrichment_server.api.convert import SOURCE
from enrichment_server.api.http import HttpBackends
from enrichment_server.api.http_seed import reset_document
from enrichment_server.api.local_call import LocalAbort, LocalContext
from enrichment_server.credentials import Credentials
from enrichment_server.deadline import Deadline
from enrichment_server.domain import Source
from enrichment_server.errors import UpstreamError
from enrichment_server.resilience.pipeline import CallContext

#: A credential test is one search for a track every catalogue has.
PROBE = ("deadmau5", "Strobe")
PROBE_DEADLINE_S = 10.0
_STATE = {"due": admin_pb.DEAD_LETTER_STATE_DUE, "parked": admin_pb.DEAD_LETTER_STATE_PARKED}


class ActionRefused(Exception):
    """The servicer refused the action; the message says why (shown to the operator)."""


class Operator:
    """Console actions for one request's peer (the servicers log it)."""

    def __init__(self, backends: HttpBackends, peer: str) -> None:
        self._b = backends
        token = backends.settings.admin_token.get_secret_value()
        self._context = LocalContext({"authorization": f"Bearer {token}"}, peer)

    async def _call(self, method: Any, request: Any) -> Any:
        try:
            return await method(request, self._context)
        except LocalAbort as exc:
            raise ActionRefused(exc.details) from None

    async def reset(self, source: str) -> str:
        """Reset one source's breaker (``all``: every breaker)."""
        which = SOURCE[Source(source)] if source != "all" else pb.SOURCE_UNSPECIFIED
        answer = await self._call(
            self._b.admin.ResetBreaker, admin_pb.ResetBreakerRequest(source=which)
        )
        resets = reset_document(source, answer)["resets"]
        moves = [f"{r['source']}: {r['previous_state']} -> {r['current_state']}" for r in resets]
        return "breaker reset: " + ", ".join(moves)

    async def replay(self, ids: list[int], all_parked: bool) -> str:
        """Make the chosen dead letters (or every parked one) due now."""
        request = admin_pb.ReplayDeadLettersRequest(ids=ids, all_parked=all_parked)
        answer = await self._call(self._b.admin.ReplayDeadLetters, request)
        return f"{answer.replayed} dead letter(s) replayed: due now, attempts reset"

    async def purge(self, ids: list[int], state: str | None) -> str:
        """Delete the chosen dead letters (or every one in ``state``, or all)."""
        request = admin_pb.PurgeDeadLettersRequest(ids=ids)
        if state in _STATE:
            request.state = _STATE[state]
        elif not ids:
            request.all = True
        answer = await self._call(self._b.admin.PurgeDeadLetters, request)
        return f"{answer.purged} dead letter(s) purged"

    async def set_credential(self, source: str, name: str, value: str) -> str:
        """Store (or rotate) a credential; the answer shows it masked."""
        if source not in set(Source):
            raise ActionRefused(f"unknown source {source!r}")
        request = admin_pb.SetCredentialRequest(source=SOURCE[Source(source)], name=name)
        request.value = value
        answer = await self._call(self._b.admin.SetCredential, request)
        return f"{source}/{name} set: {answer.credential.masked_value}"

    async def test_source(self, source: str) -> str:
        """One cheap upstream call (a search, cache bypassed) with the credentials in use."""
        sources = self._b.waterfall.sources
        clients: dict[str, Any] = {
            "spotify": (sources.spotify, "search"),
            "lastfm": (sources.lastfm, "track_info"),
            "getsongbpm": (sources.getsongbpm, "search"),
            "musicbrainz": (sources.musicbrainz, "search"),
            "deezer": (sources.deezer, "search"),
        }
        client, method = clients.get(source, (None, ""))
        if client is None:
            return f"{source}: not enabled (no credentials, or switched off)"
        context = CallContext(Deadline.after(PROBE_DEADLINE_S), force_refresh=True)
        try:
            found = await getattr(client, method)(context, *PROBE)
        except UpstreamError as exc:
            return f"{source}: failed: {exc.kind}: {exc}"
        count = len(found) if isinstance(found, list) else int(found is not None)
        return f"{source}: ok, the upstream answered ({count} result(s) for the probe)"

    async def explain(
        self, track_id: str, artist: str, title: str
    ) -> admin_pb.ExplainMatchResponse:
        """``ExplainMatch`` for a stored track, or for an artist and title."""
        request = admin_pb.ExplainMatchRequest(
            track_id=track_id, artist_name=artist, track_title=title
        )
        answer: admin_pb.ExplainMatchResponse = await self._call(
            self._b.admin.ExplainMatch, request
        )
        return answer

    async def re_enrich(self, track_id: str) -> dict[str, Any]:
        """``Enrich`` with ``force_refresh`` for a stored track; the seed-shaped answer."""
        detail = await self._b.store.track_detail(track_id)
        if detail is None:
            raise ActionRefused(f"no track {track_id!r}")
        track = detail["track"]
        request = pb.EnrichRequest(
            track_id=track_id,
            artist_name=track["artist_name"],
            track_title=track["track_title"],
            force_refresh=True,
        )
        answer = await self._call(self._b.enrich.Enrich, request)
        return seed.enrich_response(answer, None)


def credential_names() -> list[tuple[str, str]]:
    """(source, name) of every credential the Settings panel can set."""
    return sorted(Credentials.FIELDS)
