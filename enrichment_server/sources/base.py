"""What every HTTP source shares: sending within the deadline and parsing bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sized
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from enrichment_server.crypto import credential_fingerprint
from enrichment_server.deadline import Deadline
from enrichment_server.domain import Source
from enrichment_server.errors import (
    DeadlineExceeded,
    MalformedResponse,
    RateLimited,
    Unauthenticated,
    UpstreamUnavailable,
)
from enrichment_server.resilience.pipeline import UpstreamCaller
from enrichment_server.sources.http import (
    HttpResponse,
    Transport,
    TransportError,
    parse_retry_after,
)
from enrichment_server.sources.redact import redact

T = TypeVar("T")


class Model(BaseModel):
    """Base of the upstream wire models: frozen, unknown fields ignored, aliases allowed."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class HttpSource:
    """A source client: a caller (cache, retries...) plus the transport it fetches with.

    ``credentials`` are the values this client sends (keys, client id and secret): no
    error text it produces may contain them (``redact``), whatever an upstream echoes,
    and a refusal of them carries their fingerprint (``credential``) so the track can be
    re-enriched once they change. ``derived`` are further forms to redact (Basic auth).
    """

    source: Source

    def __init__(
        self,
        caller: UpstreamCaller,
        transport: Transport,
        http_timeout_s: float,
        *,
        credentials: tuple[str, ...] = (),
        derived: tuple[str, ...] = (),
    ) -> None:
        self._caller = caller
        self._transport = transport
        self._http_timeout_s = http_timeout_s
        self._credentials = credentials + derived
        self.credential = (
            credential_fingerprint(str(self.source), *credentials) if credentials else None
        )

    async def _send(
        self,
        deadline: Deadline,
        url: str,
        *,
        method: str = "GET",
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """Send within the time the deadline leaves; transport failures become retriable.

        With no time left nothing is sent (a timeout of 0 would mean "none" to aiohttp).
        """
        remaining = deadline.remaining()
        if remaining <= 0:
            raise DeadlineExceeded(self.source, "no time left to send the request")
        timeout = min(self._http_timeout_s, remaining)
        try:
            return await self._transport.request(
                method, url, params=params, headers=headers, data=data, timeout_s=timeout
            )
        except TransportError as exc:
            if exc.timeout and deadline.remaining() <= 0.001:
                raise DeadlineExceeded(self.source, "deadline reached during the call") from None
            raise UpstreamUnavailable(self.source, self._redact(str(exc))) from None

    def _refused(self, message: str) -> Unauthenticated:
        """The error for a refused credential, naming which credential it was."""
        return Unauthenticated(self.source, self._redact(message), credential=self.credential)

    def _redact(self, text: str) -> str:
        """``text`` without query strings or this client's credentials."""
        return redact(text, self._credentials)

    def _error_text(self, resp: HttpResponse) -> str:
        """The error body's message (``error_text``), redacted: bodies may echo a request."""
        return self._redact(error_text(resp))

    def _parse(self, resp: HttpResponse, adapter: TypeAdapter[T]) -> T:
        """Validate the body against the wire model; a mismatch is a malformed response."""
        try:
            return adapter.validate_json(resp.body)
        except ValidationError as exc:
            detail = exc.errors()[0]
            where = ".".join(str(p) for p in detail["loc"]) or "body"
            message = f"unexpected body from HTTP {resp.status}: {where}: {detail['msg']}"
            raise MalformedResponse(self.source, self._redact(message)) from None

    def _throttled(self, resp: HttpResponse, message: str) -> RateLimited:
        """A ``RateLimited`` carrying the response's ``Retry-After``."""
        retry_after = parse_retry_after(resp.headers.get("retry-after"))
        return RateLimited(self.source, message, retry_after=retry_after)


class EndpointSource(HttpSource):
    """A source reached at one configured base URL, identifying itself by User-Agent."""

    extra_headers: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        caller: UpstreamCaller,
        transport: Transport,
        http_timeout_s: float,
        *,
        base_url: str,
        user_agent: str,
        credentials: tuple[str, ...] = (),
    ) -> None:
        super().__init__(caller, transport, http_timeout_s, credentials=credentials)
        self._base = base_url
        self._headers = {"User-Agent": user_agent, **self.extra_headers}

    def _url(self, path: str) -> str:
        """``path`` (starting with ``/``) below the base URL."""
        return self._base.rstrip("/") + path


def error_text(resp: HttpResponse) -> str:
    """The error body's message in any upstream's shape, else a short excerpt.

    Spotify: ``{"error": {"status", "message", "reason"?}}``; token endpoint and
    MusicBrainz: ``{"error": "...", "error_description"?}``; Last.fm: ``{"error": N,
    "message"}``. A body may echo our request: sources pass this through ``redact``
    (``HttpSource._error_text``) before it goes anywhere.
    """
    excerpt = resp.body[:120].decode("utf-8", "replace")
    try:
        body = json.loads(resp.body)
    except ValueError:
        return excerpt
    if not isinstance(body, dict):
        return excerpt
    error = body.get("error")
    if isinstance(error, dict):
        parts = [str(error.get("message", "")), str(error.get("reason", ""))]
        return " ".join(p for p in parts if p) or f"status {error.get('status')}"
    if isinstance(error, str):
        return f"{error}: {body.get('error_description', '')}".strip(": ")
    if "message" in body:
        return f"error {error}: {body['message']}"
    return excerpt


def is_empty(value: Sized) -> bool:
    """Cache-TTL test for list answers: an empty list is a "not found"."""
    return len(value) == 0


def is_none(value: object) -> bool:
    """Cache-TTL test for single answers: None is a "not found"."""
    return value is None
