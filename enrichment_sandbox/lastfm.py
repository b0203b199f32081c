"""An aiohttp imitation of the Last.fm API 2.0 (``/2.0/?method=...&api_key=...``).

Methods (also the call-counter names): ``track.getInfo``, ``track.getTopTags``,
``track.search``. ``format=json`` (any case) gives JSON, anything else XML. Errors are
``{"error":N,"message":...,"links":[]}``. Knobs: ``error_status`` (``200`` default: errors
ride on HTTP 200, as Last.fm documents; ``semantic``: 6 → 404/400, 29 → 429,
8/11/16 → 503) and ``unknown_track`` (``stub`` default | ``error``: error 6). Codes 10
and 26 (bad or suspended key) always come with 403, as logged from the real service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from enrichment_sandbox import lastfm_render as render
from enrichment_sandbox.admin import add_admin_routes
from enrichment_sandbox.catalogue import Catalogue, CatalogueTrack
from enrichment_sandbox.controls import Controls, FaultRule, Knob
from enrichment_sandbox.derived import ReleaseLayout
from enrichment_sandbox.middleware import control_middleware, json_response
from enrichment_sandbox.text import fold, overlap, strip_featuring, token_set, tokens

LASTFM_KNOBS: Mapping[str, Knob] = {
    "error_status": Knob.choice("200", "semantic", description="HTTP status of error bodies"),
    "unknown_track": Knob.choice("stub", "error", description="track.getInfo for unknown tracks"),
}
METHODS = ("track.getInfo", "track.getTopTags", "track.search")
_CANONICAL = {name.lower(): name for name in METHODS}
_SEMANTIC_STATUS = {2: 400, 3: 400, 5: 400, 6: 404, 7: 400, 8: 503, 11: 503, 16: 503, 29: 429}
_ALWAYS_STATUS = {4: 403, 9: 403, 10: 403, 13: 403, 17: 403, 26: 403}
_CODE_FOR_STATUS = {400: 6, 401: 4, 403: 10, 404: 6, 429: 29, 500: 8, 502: 8, 503: 11, 504: 16}
_MESSAGE_FOR_STATUS = {404: "Track not found"}


class LastfmError(Exception):
    """An error body to send; ``semantic_status`` overrides the code's usual status."""

    def __init__(self, code: int, message: str = "", semantic_status: int | None = None) -> None:
        """Error ``code`` with ``message`` (default: Last.fm's standard text for the code)."""
        super().__init__(code, message)
        self.code = code
        self.message = message or render.MESSAGES.get(code, "")
        self.semantic_status = semantic_status


def _wants_json(request: web.Request) -> bool:
    return request.query.get("format", "").lower() == "json"


def lastfm_response(
    request: web.Request, body: dict[str, object], status: int = 200
) -> web.Response:
    """``body`` as JSON or as the XML it would have been converted from."""
    if _wants_json(request):
        return json_response(body, status=status)
    return web.Response(
        text=render.to_xml(body), status=status, content_type="text/xml", charset="utf-8"
    )


def error_response(
    request: web.Request, error: LastfmError, mode: object, status: int | None = None
) -> web.Response:
    """The error body, at 200 or the semantic status depending on ``mode``."""
    body = {"error": error.code, "message": error.message, "links": []}
    if status is None:
        status = _ALWAYS_STATUS.get(error.code)
    if status is None and mode == "semantic":
        status = error.semantic_status or _SEMANTIC_STATUS.get(error.code, 400)
    return lastfm_response(request, body, status or 200)


class LastfmFaults:
    """Renders injected faults as Last.fm does, honouring the ``error_status`` knob."""

    def __init__(self, controls: Controls) -> None:
        """Read the error-status mode from ``controls``."""
        self._controls = controls

    def status(self, request: web.Request, endpoint: str, status: int) -> web.Response:
        """HTTP ``status`` carrying the error code usually seen with it."""
        error = LastfmError(_CODE_FOR_STATUS.get(status, 8), _MESSAGE_FOR_STATUS.get(status, ""))
        return error_response(request, error, None, status)

    def rate_limit(self, request: web.Request, endpoint: str, rule: FaultRule) -> web.Response:
        """Error 29: HTTP 200 by default, 429 in semantic mode."""
        return error_response(request, LastfmError(29), self._controls.config["error_status"])

    def error_in_200(self, request: web.Request, endpoint: str) -> web.Response:
        """Error 16 (temporary error) inside an HTTP 200."""
        return error_response(request, LastfmError(16), None, 200)

    def quota(self, request: web.Request, endpoint: str, rule: FaultRule) -> web.Response:
        """Error 26, the suspended API key, at 403."""
        return error_response(request, LastfmError(26), None)


def _endpoint_of(request: web.Request) -> str | None:
    if request.match_info.route.name != "api":
        return None
    method = request.query.get("method", "")
    return _CANONICAL.get(method.lower(), method) or None


class LastfmImitation:
    """The Last.fm app: accepts ``api_key``, serves ``catalogue`` (``on_lastfm`` records)."""

    def __init__(
        self, catalogue: Catalogue, *, api_key: str, controls: Controls | None = None
    ) -> None:
        """Build the app."""
        self.catalogue = catalogue
        self.api_key = api_key
        self.controls = controls or Controls(knobs=LASTFM_KNOBS)
        self.layout = ReleaseLayout(catalogue.tracks)
        self._methods: dict[str, Callable[[web.Request], Awaitable[dict[str, object]]]] = {
            "track.getInfo": self._get_info,
            "track.getTopTags": self._get_top_tags,
            "track.search": self._search,
        }
        self.app = self._build_app()

    def _build_app(self) -> web.Application:
        middleware = control_middleware(self.controls, LastfmFaults(self.controls), _endpoint_of)
        app = web.Application(middlewares=[middleware])
        app.router.add_get("/2.0/", self._dispatch, name="api")
        add_admin_routes(app, self.controls)
        return app

    async def _dispatch(self, request: web.Request) -> web.Response:
        mode = self.controls.config["error_status"]
        try:
            if request.query.get("api_key") != self.api_key:
                raise LastfmError(10)
            method = self._methods.get(_CANONICAL.get(request.query.get("method", "").lower(), ""))
            if method is None:
                raise LastfmError(3, semantic_status=400)
            return lastfm_response(request, await method(request))
        except LastfmError as error:
            return error_response(request, error, mode)

    def find(self, artist: str, title: str, *, autocorrect: bool) -> CatalogueTrack | None:
        """The Last.fm-listed track named so (autocorrect also folds accents, punctuation
        and "feat." parts)."""
        for track in self.catalogue.tracks:
            if track.on_lastfm and _same(track, artist, title, autocorrect=autocorrect):
                return track
        return None

    def _lookup(self, request: web.Request) -> tuple[CatalogueTrack | None, str, str]:
        """The requested track (by ``mbid`` or ``artist``+``track``) and the names asked for."""
        params = request.query
        mbid = params.get("mbid", "").strip()
        artist, title = params.get("artist", "").strip(), params.get("track", "").strip()
        if mbid:
            hit = next(
                (t for t in self.catalogue.tracks if t.on_lastfm and t.lastfm_mbid == mbid), None
            )
            if hit is None:
                raise LastfmError(6, "Track not found", semantic_status=404)
            return hit, render.lastfm_artist(hit), hit.title
        if not artist or not title:
            raise LastfmError(
                6, "You must supply either a track & artist name or a track mbid.", 400
            )
        autocorrect = params.get("autocorrect", "0") == "1"
        return self.find(artist, title, autocorrect=autocorrect), artist, title

    async def _get_info(self, request: web.Request) -> dict[str, object]:
        track, artist, title = self._lookup(request)
        if track is not None:
            return {"track": render.track_info(track, self.layout.of(track))}
        if self.controls.config["unknown_track"] == "error":
            raise LastfmError(6, "Track not found", semantic_status=404)
        return {"track": render.stub_info(artist, title)}

    async def _get_top_tags(self, request: web.Request) -> dict[str, object]:
        track, artist, title = self._lookup(request)
        if track is None:
            return {"toptags": render.top_tags((), artist, title)}
        return {"toptags": render.top_tags(track.tags, render.lastfm_artist(track), track.title)}

    async def _search(self, request: web.Request) -> dict[str, object]:
        params = request.query
        title, artist = params.get("track", "").strip(), params.get("artist", "").strip()
        if not title:
            raise LastfmError(6, "You must supply a track name", semantic_status=400)
        limit, page = _int(params.get("limit"), 30), _int(params.get("page"), 1)
        if not 1 <= limit <= 1000 or page < 1:
            raise LastfmError(6, "limit param out of bounds (1-1000)", semantic_status=400)
        hits = self._search_hits(title, artist)
        start = (page - 1) * limit
        results = {
            "opensearch:Query": {
                "#text": "",
                "role": "request",
                "searchTerms": title,
                "startPage": str(page),
            },
            "opensearch:totalResults": str(len(hits)),
            "opensearch:startIndex": str(start),
            "opensearch:itemsPerPage": str(limit),
            "trackmatches": {
                "track": [render.search_match(t) for t in hits[start : start + limit]]
            },
            "@attr": {},
        }
        return {"results": results}

    def _search_hits(self, title: str, artist: str) -> list[CatalogueTrack]:
        scored: list[tuple[float, int, CatalogueTrack]] = []
        for track in self.catalogue.tracks:
            title_score = (
                overlap(tokens(title), token_set([track.title])) if track.on_lastfm else 0.0
            )
            if title_score > 0:
                artist_score = overlap(tokens(artist), token_set([track.artist])) if artist else 0.0
                scored.append((title_score + artist_score, track.listeners, track))
        return [t for _, _, t in sorted(scored, key=lambda s: (-s[0], -s[1]))]


def _same(track: CatalogueTrack, artist: str, title: str, *, autocorrect: bool) -> bool:
    names = (track.artist, render.lastfm_artist(track))
    if not autocorrect:
        return title.casefold() == track.title.casefold() and artist.casefold() in {
            n.casefold() for n in names
        }
    wanted_artist = fold(strip_featuring(artist))
    return fold(strip_featuring(title)) == fold(strip_featuring(track.title)) and wanted_artist in {
        fold(n) for n in names
    }


def _int(value: str | None, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return -1
