"""An aiohttp imitation of the GetSongBPM API (``api.getsong.co``).

Routes (call-counter names in brackets): ``/search/?api_key=&type=song|both&lookup=``
[``search``] and ``/song/?api_key=&id=`` [``song``]. Every catalogue record is a song.

Quirks reproduced (upstream-apis.md section 5.2): ``type=both`` wants the strict lookup
``song:<title> artist:<artist>`` (``type=song``: the title alone); the search matches by
**title only**, so every song whose title holds the asked words comes back whatever its
artist, and the client has to filter. A hit is ``{"search":[song, ...]}``; a miss is the
**object** ``{"search":{"error":"no result"}}`` at HTTP 200; a malformed request is 400
``{"error":"..."}``; a missing or wrong ``api_key`` is 401 ``{"error":"..."}``. Faults:
``rate_limit`` 429 + ``Retry-After`` (1 s default), ``quota`` 429 with the hourly limit
message and ``Retry-After: 3600``, ``error_in_200`` a bare ``{"error":..}`` in a 200.
"""

from __future__ import annotations

import re
import secrets

from aiohttp import web

from enrichment_sandbox import derived
from enrichment_sandbox import getsongbpm_render as render
from enrichment_sandbox.admin import add_admin_routes
from enrichment_sandbox.catalogue import Catalogue, CatalogueTrack
from enrichment_sandbox.controls import Controls, FaultRule
from enrichment_sandbox.middleware import control_middleware, json_response, seconds_header
from enrichment_sandbox.text import fold, tokens

MAX_RESULTS = 25
QUOTA_RETRY_AFTER_S = 3600.0
NO_RESULT = {"error": "no result"}
_BOTH = re.compile(r"^\s*song:\s*(?P<title>.*?)\s+artist:\s*(?P<artist>.*?)\s*$", re.IGNORECASE)
_ROUTES = {"search": "search", "song": "song"}


def gsb_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """GetSongBPM's error body: ``{"error": "<text>"}``."""
    return json_response({"error": message}, status=status, headers=headers)


class GetSongBpmFaults:
    """Renders injected faults as GetSongBPM's API does."""

    def status(self, request: web.Request, endpoint: str, status: int) -> web.Response:
        """HTTP ``status`` with ``{"error": <reason phrase>}``."""
        return gsb_error(status, web.Response(status=status).reason or "Error")

    def rate_limit(self, request: web.Request, endpoint: str, rule: FaultRule) -> web.Response:
        """429 with ``Retry-After`` (default 1 s)."""
        retry = seconds_header(1.0 if rule.retry_after is None else rule.retry_after)
        return gsb_error(429, "Too many requests", {"Retry-After": retry})

    def error_in_200(self, request: web.Request, endpoint: str) -> web.Response:
        """A bare error object inside a 200."""
        return gsb_error(200, "Service temporarily unavailable, please try again later")

    def quota(self, request: web.Request, endpoint: str, rule: FaultRule) -> web.Response:
        """The hourly request limit: 429 until the hour turns."""
        seconds = QUOTA_RETRY_AFTER_S if rule.retry_after is None else rule.retry_after
        retry = seconds_header(seconds)
        return gsb_error(429, "Hourly API request limit reached", {"Retry-After": retry})


class GetSongBpmImitation:
    """The GetSongBPM app: accepts ``api_key``, serves every record of ``catalogue``."""

    def __init__(
        self, catalogue: Catalogue, *, api_key: str, controls: Controls | None = None
    ) -> None:
        """Build the app."""
        self.catalogue = catalogue
        self.api_key = api_key
        self.controls = controls or Controls()
        self._by_id = {derived.gsb_song_id(t): t for t in reversed(catalogue.tracks)}
        self.app = self._build_app()

    def _build_app(self) -> web.Application:
        middleware = control_middleware(
            self.controls, GetSongBpmFaults(), _endpoint_of, self._authorize
        )
        app = web.Application(middlewares=[middleware])
        app.router.add_get("/search/", self._search, name="search")
        app.router.add_get("/song/", self._song, name="song")
        add_admin_routes(app, self.controls)
        return app

    async def _authorize(self, request: web.Request, endpoint: str) -> web.Response | None:
        """401 unless ``api_key`` is the accepted key."""
        given = request.query.get("api_key", "")
        if given and secrets.compare_digest(given.encode(), self.api_key.encode()):
            return None
        return gsb_error(401, "Invalid API key" if given else "Missing API key")

    def search(self, title: str) -> list[CatalogueTrack]:
        """Songs whose title holds every word of ``title``; exact titles first."""
        wanted = set(tokens(title))
        if not wanted:
            return []
        hits = [t for t in self.catalogue.tracks if wanted <= set(tokens(t.title))]
        exact = fold(title)
        hits.sort(key=lambda t: fold(t.title) != exact)
        return hits[:MAX_RESULTS]

    async def _search(self, request: web.Request) -> web.Response:
        params = request.query
        kind, lookup = params.get("type", ""), params.get("lookup", "")
        if kind not in ("song", "both"):
            return gsb_error(400, "Invalid type: use song, artist or both")
        if not lookup.strip():
            return gsb_error(400, "Missing lookup")
        title = lookup
        if kind == "both":
            match = _BOTH.match(lookup)
            if match is None or not match["title"] or not match["artist"]:
                return gsb_error(400, "Invalid lookup: expected song:<title> artist:<artist>")
            title = match["title"]  # the artist part is accepted and then ignored
        hits = self.search(title)
        if not hits:
            return json_response({"search": NO_RESULT})
        return json_response({"search": [render.song_object(t) for t in hits]})

    async def _song(self, request: web.Request) -> web.Response:
        song_id = request.query.get("id", "").strip()
        if not song_id:
            return gsb_error(400, "Missing id")
        track = self._by_id.get(song_id)
        if track is None:
            return json_response({"song": NO_RESULT})
        return json_response({"song": render.song_object(track)})


def _endpoint_of(request: web.Request) -> str | None:
    name = request.match_info.route.name
    return _ROUTES.get(name) if isinstance(name, str) else None
