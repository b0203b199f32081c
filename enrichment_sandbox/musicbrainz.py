"""An aiohttp imitation of the MusicBrainz WS/2 API (JSON), rooted at ``/ws/2``.

Routes and call-counter names: ``GET /ws/2/recording?query=`` (``recording_search``),
``/ws/2/recording/{mbid}`` (``recording``), ``/ws/2/isrc/{isrc}`` (``isrc``),
``/ws/2/release/{mbid}`` (``release``). JSON only with ``fmt=json`` or
``Accept: application/json`` (else a small XML body). Knobs: ``require_user_agent``
(default true: no User-Agent → 403) and ``rate_limit_per_s`` (default null = off; when
set, requests beyond it get the proxy's 503 throttling response).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from aiohttp import web

from enrichment_sandbox import mb_query, mb_render
from enrichment_sandbox.admin import add_admin_routes
from enrichment_sandbox.catalogue import Catalogue, CatalogueTrack
from enrichment_sandbox.controls import Controls, FaultRule, Knob
from enrichment_sandbox.derived import ReleaseLayout
from enrichment_sandbox.middleware import control_middleware, json_response, seconds_header

MB_KNOBS: Mapping[str, Knob] = {
    "require_user_agent": Knob.flag(True, description="403 for requests without a User-Agent"),
    "rate_limit_per_s": Knob.number(None, description="real request-rate limit, null = off"),
}
HELP = "For usage, please see: https://musicbrainz.org/development/mmd"
RATE_LIMIT_TEXT = (
    "Your requests are exceeding the allowable rate limit. "
    "Please see http://wiki.musicbrainz.org/XMLWebService for more information."
)
_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_ISRC = re.compile(r"^[A-Z]{2}[A-Z0-9]{3}\d{7}$")
_LOOKUP_INC = frozenset(
    {"artists", "releases", "artist-credits", "isrcs", "aliases", "tags", "user-tags", "genres"}
    | {"user-genres", "ratings", "user-ratings", "release-groups", "media", "puids"}
)
VALID_INC = {
    "recording": _LOOKUP_INC | {"work-level-rels", "annotation"},
    "isrc": _LOOKUP_INC | {"discids"},
    "release": _LOOKUP_INC | {"labels", "recordings", "discids", "work-level-rels", "annotation"},
}
"""Accepted ``inc`` values per resource (besides any ``*-rels``), after musicbrainz-server."""
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def _wants_json(request: web.Request) -> bool:
    fmt = request.query.get("fmt")
    if fmt is not None:
        return fmt.lower() == "json"
    return "application/json" in request.headers.get("Accept", "")


def mb_response(request: web.Request, body: dict[str, object], status: int = 200) -> web.Response:
    """``body`` as JSON when the client asked for it, else a small XML stand-in."""
    if _wants_json(request):
        return json_response(body, status=status)
    if "error" in body:
        texts = "".join(
            f"<text>{escape(str(body[k]))}</text>" for k in ("error", "help") if k in body
        )
        xml = f"{_XML_HEAD}<error>{texts}</error>"
    else:
        xml = f'{_XML_HEAD}<metadata xmlns="http://musicbrainz.org/ns/mmd-2.0#"/>'
    return web.Response(text=xml, status=status, content_type="application/xml", charset="utf-8")


def mb_error(request: web.Request, status: int, message: str) -> web.Response:
    """The musicbrainz-server error shape ``{"error": ..., "help": ...}``."""
    return mb_response(request, {"error": message, "help": HELP}, status)


def throttled(retry_after: float, limit: float = 1.0) -> web.Response:
    """The front proxy's 503 (JSON whatever the format, as the proxy does not negotiate)."""
    headers = {
        "Retry-After": seconds_header(retry_after),
        "X-RateLimit-Limit": seconds_header(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(math.ceil(time.time() + retry_after)),
    }
    return json_response({"error": RATE_LIMIT_TEXT}, status=503, headers=headers)


class MusicBrainzFaults:
    """Renders injected faults as MusicBrainz does."""

    def status(self, request: web.Request, endpoint: str, status: int) -> web.Response:
        """The server's error shape with the status's reason phrase."""
        return mb_error(request, status, web.Response(status=status).reason)

    def rate_limit(self, request: web.Request, endpoint: str, rule: FaultRule) -> web.Response:
        """The proxy's 503 with ``Retry-After`` (default 1 s) and ``X-RateLimit-*``."""
        return throttled(1.0 if rule.retry_after is None else rule.retry_after)

    def error_in_200(self, request: web.Request, endpoint: str) -> web.Response:
        """MusicBrainz does not hide errors in 200s; a plain 500 instead."""
        return self.status(request, endpoint, 500)

    def quota(self, request: web.Request, endpoint: str, rule: FaultRule) -> web.Response:
        """MusicBrainz has no quota; its nearest equivalent is the throttling 503."""
        return self.rate_limit(request, endpoint, rule)


class TokenBucket:
    """A request-rate limiter: ``rate`` per second, bursts of up to ``max(1, rate)``."""

    def __init__(self, rate: float, clock: Callable[[], float]) -> None:
        """Start full."""
        self.rate = rate
        self._clock = clock
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._stamp = clock()

    def acquire(self) -> float:
        """0 when a request may pass (consuming a token), else seconds until one may."""
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


def _parse_inc(request: web.Request, entity: str) -> set[str] | str:
    """The requested incs, or the error text for the first invalid one."""
    raw = request.query.get("inc", "")
    incs = {part for part in re.split(r"[+\s]+", raw) if part}
    for inc in sorted(incs):
        if inc not in VALID_INC[entity] and not inc.endswith("-rels"):
            return f"{inc} is not a valid inc parameter for the {entity} resource."
    return incs


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(request.query.get(name, default))
    except ValueError:
        value = default
    return max(low, min(high, value))


class MusicBrainzImitation:
    """The MusicBrainz app serving ``catalogue`` (only ``on_musicbrainz`` records)."""

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        controls: Controls | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Build the app; ``clock`` (seconds) drives the optional rate limiter."""
        self.catalogue = catalogue
        self.controls = controls or Controls(knobs=MB_KNOBS)
        self._clock = clock
        self._bucket: TokenBucket | None = None
        self.layout = ReleaseLayout(catalogue.tracks)
        self.app = self._build_app()

    def _build_app(self) -> web.Application:
        middleware = control_middleware(
            self.controls, MusicBrainzFaults(), _route_name, self._precheck
        )
        app = web.Application(middlewares=[middleware])
        app.router.add_get("/ws/2/recording", self._search, name="recording_search")
        app.router.add_get("/ws/2/recording/{mbid}", self._recording, name="recording")
        app.router.add_get("/ws/2/isrc/{isrc}", self._isrc, name="isrc")
        app.router.add_get("/ws/2/release/{mbid}", self._release, name="release")
        add_admin_routes(app, self.controls)
        return app

    async def _precheck(self, request: web.Request, endpoint: str) -> web.Response | None:
        """The proxy's throttle, then the User-Agent rule."""
        wait = self._throttle_wait()
        if wait > 0:
            return throttled(wait, self.controls.number("rate_limit_per_s") or 1.0)
        if (
            self.controls.config["require_user_agent"]
            and not request.headers.get("User-Agent", "").strip()
        ):
            return mb_error(
                request,
                403,
                "User-Agent header is required; see https://musicbrainz.org/doc/MusicBrainz_API",
            )
        return None

    def _throttle_wait(self) -> float:
        rate = self.controls.number("rate_limit_per_s")
        if rate is None:
            self._bucket = None
            return 0.0
        if self._bucket is None or self._bucket.rate != rate:
            self._bucket = TokenBucket(rate, self._clock)
        return self._bucket.acquire()

    def _tracks(self) -> list[CatalogueTrack]:
        return [t for t in self.catalogue.tracks if t.on_musicbrainz]

    async def _search(self, request: web.Request) -> web.Response:
        text = request.query.get("query", "")
        if not text.strip():
            return mb_error(request, 400, "Missing required parameter: query")
        try:
            query = mb_query.parse(text)
        except mb_query.QuerySyntaxError as exc:
            return mb_error(request, 400, f"Invalid query: {exc}")
        limit = _int_param(request, "limit", 25, 1, 100)
        offset = _int_param(request, "offset", 0, 0, 10_000)
        scored = [(mb_query.score(query, t), i, t) for i, t in enumerate(self._tracks())]
        hits = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
        created = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        body: dict[str, object] = {
            "created": created,
            "count": len(hits),
            "offset": offset,
            "recordings": [
                mb_render.search_recording(t, self.layout.of(t), s)
                for s, _, t in hits[offset : offset + limit]
            ],
        }
        return mb_response(request, body)

    async def _recording(self, request: web.Request) -> web.Response:
        inc = _parse_inc(request, "recording")
        if isinstance(inc, str):
            return mb_error(request, 400, inc)
        mbid = request.match_info["mbid"]
        if not _MBID.match(mbid):
            return mb_error(request, 400, "Invalid mbid.")
        track = self.catalogue.by_mbid(mbid.lower())
        if track is None or not track.on_musicbrainz:
            return mb_error(request, 404, "Not Found")
        return mb_response(request, mb_render.lookup_recording(track, inc, self.layout))

    async def _isrc(self, request: web.Request) -> web.Response:
        isrc = request.match_info["isrc"].upper()
        if not _ISRC.match(isrc):
            return mb_error(request, 400, "Invalid isrc.")
        inc = _parse_inc(request, "isrc")
        if isinstance(inc, str):
            return mb_error(request, 400, inc)
        tracks = [t for t in self.catalogue.by_isrc(isrc) if t.on_musicbrainz]
        if not tracks:
            return mb_error(request, 404, "Not Found")
        recordings = [mb_render.lookup_recording(t, inc, self.layout) for t in tracks]
        return mb_response(request, {"isrc": isrc, "recordings": recordings})

    async def _release(self, request: web.Request) -> web.Response:
        inc = _parse_inc(request, "release")
        if isinstance(inc, str):
            return mb_error(request, 400, inc)
        mbid = request.match_info["mbid"]
        if not _MBID.match(mbid):
            return mb_error(request, 400, "Invalid mbid.")
        on_release = [t for t in self._tracks() if t.release_mbid == mbid.lower()]
        if not on_release:
            return mb_error(request, 404, "Not Found")
        release = mb_render.lookup_release(on_release[0], inc, self.layout, on_release)
        if "labels" in inc:
            release["label-info"] = mb_render.label_info(on_release[0])
        return mb_response(request, release)


def _route_name(request: web.Request) -> str | None:
    name = request.match_info.route.name
    return name if isinstance(name, str) else None
