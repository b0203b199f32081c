"""An aiohttp imitation of the Spotify accounts token endpoint and Web API.

One app serves ``POST /api/token`` (client credentials) and ``/v1/search``,
``/v1/tracks/{id}`` and ``/v1/audio-features/{id}``. Call-counter names: ``token``,
``search``, ``track``, ``audio_features``. Knobs (``PUT /_sandbox/config``):
``token_ttl`` (seconds), ``expire_tokens`` (true expires every issued token now),
``audio_features`` (``forbidden`` default | ``ok`` | ``not_found``), ``profile``
(``dev`` default | ``extended``).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import secrets
import time
import urllib.parse
from collections.abc import Callable, Mapping

from aiohttp import web

from enrichment_sandbox.admin import add_admin_routes
from enrichment_sandbox.catalogue import Catalogue, CatalogueTrack
from enrichment_sandbox.controls import Controls, Knob
from enrichment_sandbox.derived import ReleaseLayout
from enrichment_sandbox.middleware import control_middleware, json_response
from enrichment_sandbox.spotify_errors import SpotifyFaults, api_error, oauth_error
from enrichment_sandbox.spotify_render import audio_features_object, track_object
from enrichment_sandbox.spotify_search import parse_query, search_tracks

SPOTIFY_KNOBS: Mapping[str, Knob] = {
    "token_ttl": Knob.number(3600.0, description="lifetime of new tokens in seconds"),
    "expire_tokens": Knob.flag(False, description="true expires every issued token at once"),
    "audio_features": Knob.choice(
        "forbidden", "ok", "not_found", description="audio-features mode"
    ),
    "profile": Knob.choice("dev", "extended", description="app quota profile"),
}
_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_MARKET = re.compile(r"^[A-Z]{2}$")


class SpotifyImitation:
    """The Spotify app: accepts ``client_id``/``client_secret``, serves ``catalogue``."""

    def __init__(
        self,
        catalogue: Catalogue,
        *,
        client_id: str,
        client_secret: str,
        controls: Controls | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Build the app; ``clock`` (seconds) decides token expiry."""
        self.catalogue = catalogue
        self.client_id = client_id
        self.client_secret = client_secret
        self.controls = controls or Controls(knobs=SPOTIFY_KNOBS)
        self._clock = clock
        self._tokens: dict[str, float] = {}
        self.layout = ReleaseLayout(catalogue.tracks)
        self.controls.on_config(self._on_config)
        self.app = self._build_app()

    def _build_app(self) -> web.Application:
        middleware = control_middleware(
            self.controls, SpotifyFaults(), _route_name, self._authorize
        )
        app = web.Application(middlewares=[middleware])
        app.router.add_post("/api/token", self._token, name="token")
        app.router.add_get("/v1/search", self._search, name="search")
        app.router.add_get("/v1/tracks/{id}", self._track, name="track")
        app.router.add_get("/v1/audio-features/{id}", self._audio_features, name="audio_features")
        app.router.add_route("*", "/v1/{tail:.*}", _service_not_found)
        add_admin_routes(app, self.controls)
        return app

    def issue_token(self) -> str:
        """A new access token valid for ``token_ttl`` seconds."""
        token = secrets.token_urlsafe(48)
        self._tokens[token] = self._clock() + self._ttl()
        return token

    def expire_all_tokens(self) -> None:
        """Make every token issued so far answer 401 "The access token expired"."""
        for token in self._tokens:
            self._tokens[token] = -math.inf

    def _ttl(self) -> float:
        return self.controls.number("token_ttl") or 3600.0

    def _on_config(self, changes: Mapping[str, object]) -> None:
        if changes.get("expire_tokens") is True:
            self.expire_all_tokens()
            self.controls.config["expire_tokens"] = False

    def _track_by_id(self, track_id: str) -> CatalogueTrack | None:
        track = self.catalogue.by_spotify_id(track_id)
        return track if track is not None and track.on_spotify else None

    async def _authorize(self, request: web.Request, endpoint: str) -> web.Response | None:
        """401 unless the request carries a live Bearer token (the token route is exempt)."""
        if endpoint == "token":
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        expiry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None:
            message = "Invalid access token"
        elif expiry <= self._clock():
            message = "The access token expired"
        else:
            return None
        challenge = f'Bearer realm="spotify", error="invalid_token", error_description="{message}"'
        return api_error(401, message, {"WWW-Authenticate": challenge})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        grant = form.get("grant_type")
        if not grant:
            return oauth_error("unsupported_grant_type", "grant_type parameter is missing")
        if grant != "client_credentials":
            return oauth_error(
                "unsupported_grant_type",
                "grant_type must be client_credentials, authorization_code or refresh_token",
            )
        client_id, secret = _client_credentials(request, form)
        if client_id is None or not secrets.compare_digest(client_id, self.client_id):
            return oauth_error("invalid_client", "Invalid client")
        if secret is None or not secrets.compare_digest(secret, self.client_secret):
            return oauth_error("invalid_client", "Invalid client secret")
        token = self.issue_token()
        return json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": math.ceil(self._ttl())}
        )

    async def _search(self, request: web.Request) -> web.Response:
        params = request.query
        # Spotify's own next/previous links spell the query parameter "query".
        q, types = params.get("q") or params.get("query", ""), params.get("type")
        if not q.strip():
            return api_error(400, "No search query")
        if not types:
            return api_error(400, "Missing parameter type")
        if "track" not in [t.strip() for t in types.split(",")]:
            return api_error(400, "Bad search type field")
        extended = self.controls.config["profile"] == "extended"
        paging = _paging(
            params, default_limit=20 if extended else 5, max_limit=50 if extended else 10
        )
        if isinstance(paging, web.Response):
            return paging
        limit, offset, market = paging
        hits = search_tracks(self.catalogue, parse_query(q))
        base = f"{request.url.origin()}/v1"
        items = [
            track_object(base, t, self.layout.of(t), extended=extended, market=market)
            for t in hits[offset : offset + limit]
        ]
        page = _page_links(base, q, types, market, limit, offset, len(hits))
        return json_response({"tracks": {**page, "items": items}})

    async def _track(self, request: web.Request) -> web.Response:
        track_id = request.match_info["id"]
        if not _ID.match(track_id):
            return api_error(400, "invalid id")
        track = self._track_by_id(track_id)
        if track is None:
            return api_error(404, "non existing id")
        extended = self.controls.config["profile"] == "extended"
        base = f"{request.url.origin()}/v1"
        return json_response(
            track_object(
                base,
                track,
                self.layout.of(track),
                extended=extended,
                market=request.query.get("market"),
            )
        )

    async def _audio_features(self, request: web.Request) -> web.Response:
        mode = self.controls.config["audio_features"]
        if mode == "forbidden":
            return api_error(403, None)  # new apps get 403 with no message at all
        track_id = request.match_info["id"]
        if not _ID.match(track_id):
            return api_error(400, "invalid id")
        track = self._track_by_id(track_id)
        if track is None:
            return api_error(404, "non existing id")
        if mode == "not_found" or not track.audio_features:
            return api_error(404, "analysis not found")
        return json_response(audio_features_object(f"{request.url.origin()}/v1", track))


async def _service_not_found(request: web.Request) -> web.Response:
    """Spotify's answer for a path it does not serve (uncounted)."""
    return api_error(404, "Service not found")


def _route_name(request: web.Request) -> str | None:
    name = request.match_info.route.name
    return name if isinstance(name, str) else None


def _client_credentials(
    request: web.Request, form: Mapping[str, object]
) -> tuple[str | None, str | None]:
    """Credentials from Basic auth, else from the ``client_id``/``client_secret`` form fields."""
    header = request.headers.get("Authorization")
    if header:
        return _decode_basic(header)
    client_id, secret = form.get("client_id"), form.get("client_secret")
    return (
        client_id if isinstance(client_id, str) else None,
        secret if isinstance(secret, str) else None,
    )


def _decode_basic(header: str) -> tuple[str | None, str | None]:
    """``(login, password)`` of a Basic ``Authorization`` header, Nones when malformed."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    login, sep, password = decoded.partition(":")
    return (login, password) if sep else (None, None)


def _paging(
    params: Mapping[str, str], *, default_limit: int, max_limit: int
) -> tuple[int, int, str | None] | web.Response:
    """``(limit, offset, market)`` or the 400 Spotify gives for a bad one."""
    try:
        limit = int(params.get("limit", default_limit))
    except ValueError:
        limit = 0
    if not 1 <= limit <= max_limit:
        return api_error(400, "Invalid limit")
    try:
        offset = int(params.get("offset", 0))
    except ValueError:
        offset = -1
    if not 0 <= offset <= 1000:
        return api_error(400, "Invalid offset")
    market = params.get("market")
    if market is not None and not _MARKET.match(market):
        return api_error(400, "Invalid market code")
    return limit, offset, market


def _page_links(
    base: str, q: str, types: str, market: str | None, limit: int, offset: int, total: int
) -> dict[str, object]:
    """The PagingObject fields besides ``items``."""

    def url(at: int) -> str:
        tail = f"&market={market}" if market else ""
        query = urllib.parse.quote(q, safe="")
        return f"{base}/search?offset={at}&limit={limit}&query={query}&type={types}{tail}"

    return {
        "href": url(offset),
        "limit": limit,
        "next": url(offset + limit) if offset + limit < total else None,
        "offset": offset,
        "previous": url(max(0, offset - limit)) if offset > 0 else None,
        "total": total,
    }
