"""An aiohttp imitation of the Deezer public API (no auth; catalog reads only).

Routes (call-counter names in brackets): ``/track/{id}`` [``track``],
``/track/isrc:{ISRC}`` [``isrc``], ``/search?q=`` and ``/search/track?q=`` [``search``],
``/album/{id}`` and ``/album/upc:{UPC}`` [``album``]. Every catalogue record is on Deezer.

Quirks reproduced (upstream-apis.md section 5.1): errors ride on **HTTP 200** as
``{"error":{"type":..,"message":..,"code":N}}``: 800 ``no data`` for an unknown id or ISRC,
4 ``Quota limit exceeded`` when throttled (no ``Retry-After``), 500 ``Wrong parameter`` for
a bad query, 700 for a busy service (the ``error_in_200`` fault). ``q`` takes the advanced
syntax (``artist:"deadmau5" track:"strobe"``, also ``album:``, ``label:``, ``dur_min:``,
``dur_max:``, ``bpm_min:``, ``bpm_max:``) mixed with plain text, matched fuzzily unless
``strict=on``. Pages default to 25 (``index``/``limit``); ``next`` only when more follow;
no hits is ``{"data":[],"total":0}``. Injected 5xx come as a proxy's HTML page.
Knob: ``quota_per_5s`` (null default; a number answers error 4 beyond that many requests
in any 5 s, like the real 50 per 5 s per IP).
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from enrichment_sandbox import deezer_render as render
from enrichment_sandbox import derived
from enrichment_sandbox.admin import add_admin_routes
from enrichment_sandbox.catalogue import Catalogue, CatalogueTrack
from enrichment_sandbox.controls import Controls, FaultRule, Knob
from enrichment_sandbox.derived import ReleaseLayout
from enrichment_sandbox.middleware import control_middleware, json_response
from enrichment_sandbox.text import overlap, token_set, tokens

DEEZER_KNOBS: Mapping[str, Knob] = {
    "quota_per_5s": Knob.number(None, description="requests per 5 s before error 4 (null: off)"),
}
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
QUOTA_WINDOW_S = 5.0
ERRORS: Mapping[int, tuple[str, str]] = {
    4: ("Exception", "Quota limit exceeded"),
    500: ("ParameterException", "Wrong parameter"),
    700: ("Exception", "Service busy"),
    800: ("DataException", "no data"),
}
TEXT_FIELDS = ("artist", "track", "album", "label")
NUMBER_FIELDS = ("dur_min", "dur_max", "bpm_min", "bpm_max")
_TERM = re.compile(
    r"(?<!\S)(" + "|".join(TEXT_FIELDS + NUMBER_FIELDS) + r'):(?:"([^"]*)"?|(\S*))', re.I
)


def deezer_error(code: int) -> web.Response:
    """Deezer's error body for ``code``, at HTTP 200 as always."""
    kind, message = ERRORS[code]
    return json_response({"error": {"type": kind, "message": message, "code": code}})


class DeezerFaults:
    """Renders injected faults as Deezer does: errors inside 200s, proxy pages for 5xx."""

    def status(self, request: web.Request, endpoint: str, status: int) -> web.Response:
        """HTTP ``status`` with the HTML page of the proxy in front of the API."""
        reason = web.Response(status=status).reason
        page = f"<html><head><title>{status} {reason}</title></head><body>{reason}</body></html>"
        return web.Response(status=status, text=page, content_type="text/html")

    def rate_limit(self, request: web.Request, endpoint: str, rule: FaultRule) -> web.Response:
        """Error 4 inside a 200 (Deezer sends no ``Retry-After``)."""
        return deezer_error(4)

    def error_in_200(self, request: web.Request, endpoint: str) -> web.Response:
        """Error 700 (service busy) inside a 200."""
        return deezer_error(700)

    def quota(self, request: web.Request, endpoint: str, rule: FaultRule) -> web.Response:
        """Error 4: Deezer has one quota error for bursts and windows alike."""
        return deezer_error(4)


@dataclass(frozen=True, slots=True)
class DeezerQuery:
    """A parsed ``q``: advanced-syntax filters (lower-case names) and the plain text left."""

    filters: dict[str, str] = field(default_factory=dict)
    free_text: str = ""


def parse_query(q: str) -> DeezerQuery | None:
    """Split ``q`` into filters and free text; None when a numeric filter is not a number."""
    filters: dict[str, str] = {}
    for match in _TERM.finditer(q):
        name, value = match.group(1).lower(), match.group(2) or match.group(3) or ""
        filters[name] = f"{filters.get(name, '')} {value}".strip()
    if any(not _is_number(filters[n]) for n in NUMBER_FIELDS if n in filters):
        return None
    return DeezerQuery(filters, " ".join(_TERM.sub(" ", q).split()))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _text_score(wanted: str, field: frozenset[str], strict: bool) -> float:
    want = tokens(wanted)
    if strict and not set(want) <= field:
        return 0.0
    return overlap(want, field)


def _in_range(name: str, limit: float, track: CatalogueTrack) -> bool:
    value = track.duration_ms / 1000 if name.startswith("dur") else derived.deezer_bpm(track)
    return value >= limit if name.endswith("_min") else value <= limit


def relevance(query: DeezerQuery, track: CatalogueTrack, *, strict: bool) -> float:
    """Sum of the filter and free-text scores; 0 (no hit) when any part misses."""
    fields = {
        "artist": token_set([track.artist, *track.artists]),
        "track": token_set([track.title]),
        "album": token_set([track.album]),
        "label": token_set([track.label]),
    }
    total = 0.0
    for name, value in query.filters.items():
        if name in NUMBER_FIELDS:
            if not _in_range(name, float(value), track):
                return 0.0
            continue
        score = _text_score(value, fields[name], strict)
        if score == 0.0:
            return 0.0
        total += score
    if query.free_text:
        # Scored per field so the track titled exactly so outranks a longer title.
        everything = token_set([track.title, track.artist, *track.artists, track.album])
        if _text_score(query.free_text, everything, strict) == 0.0:
            return 0.0
        parts = ("track", "artist", "album")
        total += max(overlap(tokens(query.free_text), fields[name]) for name in parts)
    return total


class DeezerImitation:
    """The Deezer app, serving every record of ``catalogue``."""

    def __init__(self, catalogue: Catalogue, *, controls: Controls | None = None) -> None:
        """Build the app and its id indexes (ids come from :mod:`derived`)."""
        self.catalogue = catalogue
        self.controls = controls or Controls(knobs=DEEZER_KNOBS)
        self.layout = ReleaseLayout(catalogue.tracks)
        self._by_id = {derived.deezer_track_id(t): t for t in reversed(catalogue.tracks)}
        self._albums: dict[int, list[CatalogueTrack]] = {}
        for track in catalogue.tracks:
            self._albums.setdefault(derived.deezer_album_id(track), []).append(track)
        self.app = self._build_app()

    def _build_app(self) -> web.Application:
        middleware = control_middleware(self.controls, DeezerFaults(), _endpoint_of, self._quota)
        app = web.Application(middlewares=[middleware])
        app.router.add_get("/track/{ref}", self._track, name="track")
        app.router.add_get("/search", self._search, name="search")
        app.router.add_get("/search/track", self._search, name="search_track")
        app.router.add_get("/album/{ref}", self._album, name="album")
        add_admin_routes(app, self.controls)
        app.router.add_route("*", "/{tail:.*}", _unknown_path)
        return app

    async def _quota(self, request: web.Request, endpoint: str) -> web.Response | None:
        """Error 4 once more than ``quota_per_5s`` requests arrived in the last 5 s."""
        quota = self.controls.number("quota_per_5s")
        if quota is None:
            return None
        since = time.monotonic() - QUOTA_WINDOW_S
        recent = sum(1 for at, _ in self.controls.arrivals if at > since)
        return deezer_error(4) if recent > quota else None

    def track_by_ref(self, ref: str) -> CatalogueTrack | None:
        """The record behind ``{id}`` or ``isrc:{ISRC}`` (ISRCs compare case-insensitively)."""
        if ref.lower().startswith("isrc:"):
            isrc = ref[5:].strip().upper()
            return next((t for t in self.catalogue.tracks if t.isrc.upper() == isrc), None)
        return self._by_id.get(int(ref)) if ref.isdigit() else None

    async def _track(self, request: web.Request) -> web.Response:
        track = self.track_by_ref(request.match_info["ref"])
        if track is None:
            return deezer_error(800)
        return json_response(render.full_track(_base(request), track, self.layout.of(track)))

    async def _album(self, request: web.Request) -> web.Response:
        ref = request.match_info["ref"]
        if ref.lower().startswith("upc:"):
            upc = ref[4:].strip()
            tracks = [t for t in self.catalogue.tracks if derived.barcode(t) == upc]
        else:
            tracks = self._albums.get(int(ref), []) if ref.isdigit() else []
        if not tracks:
            return deezer_error(800)
        place = self.layout.of(tracks[0])
        return json_response(render.album_object(_base(request), tracks, place))

    async def _search(self, request: web.Request) -> web.Response:
        params = request.query
        q = params.get("q", "")
        query = parse_query(q)
        paging = _paging(params)
        if not q.strip() or query is None or paging is None:
            return deezer_error(500)
        index, limit = paging
        strict = params.get("strict", "").lower() == "on"
        scored = [
            (score, render.rank(t), i, t)
            for i, t in enumerate(self.catalogue.tracks)
            if (score := relevance(query, t, strict=strict)) > 0
        ]
        hits = [t for *_, t in sorted(scored, key=lambda s: (-s[0], -s[1], s[2]))]
        base = _base(request)
        body: dict[str, object] = {
            "data": [render.search_item(base, t) for t in hits[index : index + limit]],
            "total": len(hits),
        }
        link = _page_link(request, q, limit)
        if index > 0 and hits:
            body["prev"] = link(max(0, index - limit))
        if index + limit < len(hits):
            body["next"] = link(index + limit)
        return json_response(body)


def _paging(params: Mapping[str, str]) -> tuple[int, int] | None:
    """``(index, limit)``; None for a value Deezer calls a wrong parameter."""
    try:
        index = int(params.get("index", 0))
        limit = int(params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        return None
    if index < 0 or limit < 1:
        return None
    return index, min(limit, MAX_LIMIT)


def _page_link(request: web.Request, q: str, limit: int) -> Callable[[int], str]:
    def link(index: int) -> str:
        tail = "" if limit == DEFAULT_LIMIT else f"&limit={limit}"
        query = urllib.parse.quote(q, safe="")
        return f"{request.url.origin()}{request.path}?q={query}&index={index}{tail}"

    return link


def _base(request: web.Request) -> str:
    return str(request.url.origin())


async def _unknown_path(request: web.Request) -> web.Response:
    """Deezer answers paths it does not serve with error 800 (uncounted here)."""
    return deezer_error(800)


def _endpoint_of(request: web.Request) -> str | None:
    name = request.match_info.route.name
    if name == "track" and request.match_info["ref"].lower().startswith("isrc:"):
        return "isrc"
    if name == "search_track":
        return "search"
    return name if name in ("track", "search", "album") else None
