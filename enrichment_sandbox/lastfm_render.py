"""Catalogue records rendered as Last.fm API 2.0 JSON (and that JSON back into XML).

Last.fm's JSON is an automatic conversion of its XML: every scalar is a string (except
``count`` in ``track.getTopTags``), attributes sit under ``@attr`` or beside ``#text``.
:func:`to_xml` reverses the conversion for clients that do not ask for ``format=json``.
"""

from __future__ import annotations

import urllib.parse
from xml.sax.saxutils import escape, quoteattr

from enrichment_sandbox import derived, ids
from enrichment_sandbox.catalogue import CatalogueTrack
from enrichment_sandbox.text import strip_featuring

SITE = "https://www.last.fm"
IMAGE_URL = "https://lastfm.freetls.fastly.net/i/u/"
_SIZES = (("34s", "small"), ("64s", "medium"), ("174s", "large"), ("300x300", "extralarge"))
MESSAGES = {
    2: "Invalid service - This service does not exist",
    3: "Invalid Method - No method with that name in this package",
    4: "Authentication Failed - You do not have permissions to access the service",
    6: "Invalid parameters - Your request is missing a required parameter",
    8: "Operation failed - Most likely the backend service failed. Please try again.",
    10: "Invalid API key - You must be granted a valid key by last.fm",
    11: "Service Offline - This service is temporarily offline. Try again later.",
    16: "There was a temporary error processing your request. Please try again",
    26: "API Key Suspended - This application is not allowed to make requests to the web services",
    29: "Rate Limit Exceeded - Your IP has made too many requests in a short period",
}


def lastfm_artist(track: CatalogueTrack) -> str:
    """The artist name Last.fm files the track under (the credit minus any "feat." part)."""
    return strip_featuring(track.artist) or track.artist


def _quote(name: str) -> str:
    return urllib.parse.quote_plus(name)


def track_url(artist: str, title: str) -> str:
    """The track page URL."""
    return f"{SITE}/music/{_quote(artist)}/_/{_quote(title)}"


def images(key: str) -> list[dict[str, str]]:
    """The four image sizes Last.fm lists for an album or track."""
    digest = ids.hex_digest("lastfm-image", key)
    return [{"#text": f"{IMAGE_URL}{path}/{digest}.png", "size": size} for path, size in _SIZES]


def _album(track: CatalogueTrack, artist: str, place: derived.Placement) -> dict[str, object]:
    album: dict[str, object] = {"artist": artist, "title": track.album}
    if track.lastfm_mbid:
        album["mbid"] = track.release_mbid
    album |= {
        "url": f"{SITE}/music/{_quote(artist)}/{_quote(track.album)}",
        "image": images(track.release_mbid),
        "@attr": {"position": str(place.position)},
    }
    return album


def track_info(track: CatalogueTrack, place: derived.Placement) -> dict[str, object]:
    """The ``track`` object of ``track.getInfo`` for a known track."""
    artist = lastfm_artist(track)
    info: dict[str, object] = {"name": track.title}
    if track.lastfm_mbid:
        info["mbid"] = track.lastfm_mbid
    artist_obj: dict[str, object] = {"name": artist}
    if track.artist_mbids:
        artist_obj["mbid"] = track.artist_mbids[0]
    artist_obj["url"] = f"{SITE}/music/{_quote(artist)}"
    return info | {
        "url": track_url(artist, track.title),
        "duration": str(derived.lastfm_duration(track)),
        "streamable": {"#text": "0", "fulltrack": "0"},
        "listeners": str(track.listeners),
        "playcount": str(track.playcount),
        "artist": artist_obj,
        "album": _album(track, artist, place),
        "toptags": {"tag": [{"name": n, "url": tag_url(n)} for n, _ in track.tags[:5]]},
    }


def stub_info(artist: str, title: str) -> dict[str, object]:
    """The stub ``track`` Last.fm now returns for a track it does not know."""
    return {
        "name": title,
        "url": track_url(artist, title),
        "duration": "0",
        "streamable": {"#text": "0", "fulltrack": "0"},
        "listeners": "2",
        "playcount": "4",
        "artist": {"name": artist, "url": f"{SITE}/music/{_quote(artist)}"},
        "toptags": {"tag": []},
    }


def tag_url(name: str) -> str:
    """The tag page URL."""
    return f"{SITE}/tag/{_quote(name)}"


def top_tags(tags: tuple[tuple[str, int], ...], artist: str, title: str) -> dict[str, object]:
    """The ``toptags`` object of ``track.getTopTags`` (``count`` stays a JSON number)."""
    return {
        "tag": [{"count": count, "name": name, "url": tag_url(name)} for name, count in tags],
        "@attr": {"artist": artist, "track": title},
    }


def search_match(track: CatalogueTrack) -> dict[str, object]:
    """One ``trackmatches.track[]`` entry (``artist`` a plain string; ``FIXME`` is real)."""
    artist = lastfm_artist(track)
    return {
        "name": track.title,
        "artist": artist,
        "url": track_url(artist, track.title),
        "streamable": "FIXME",
        "listeners": str(track.listeners),
        "image": images(track.spotify_id or track.mbid),
        "mbid": track.lastfm_mbid,
    }


def _element(tag: str, value: object) -> str:
    if isinstance(value, list):
        return "".join(_element(tag, item) for item in value)
    if not isinstance(value, dict):
        return f"<{tag}>{escape(str(value))}</{tag}>"
    attrs = dict(value.get("@attr", {}))
    if "#text" in value:
        attrs |= {k: v for k, v in value.items() if k not in ("#text", "@attr")}
        inner = escape(str(value["#text"]))
    else:
        inner = "".join(_element(k, v) for k, v in value.items() if k != "@attr")
    rendered = "".join(f" {k}={quoteattr(str(v))}" for k, v in attrs.items())
    return f"<{tag}{rendered}>{inner}</{tag}>"


def to_xml(body: dict[str, object]) -> str:
    """The XML document a JSON body was converted from (``<lfm status=...>``)."""
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    if "error" in body:
        code, message = body["error"], escape(str(body.get("message", "")))
        return f'{head}<lfm status="failed"><error code="{code}">{message}</error></lfm>'
    return f'{head}<lfm status="ok">{"".join(_element(k, v) for k, v in body.items())}</lfm>'
