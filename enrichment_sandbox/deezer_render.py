"""Catalogue records rendered as Deezer API objects (full track, search item, album).

Shapes follow upstream-apis.md section 5.1: ``id`` is an int, ``duration`` whole
**seconds**, ``bpm`` a float that is ``0`` when Deezer has no tempo (about a quarter of the
catalogue, see :func:`derived.deezer_bpm`), ``release_date`` ``YYYY-MM-DD``. Featured
artists sit in the title (``"Saku (feat. Clara La San)"``) and in ``contributors`` with
role ``Featured``; ``title_short`` drops both the feat. part and the version, which moves to
``title_version`` (``"(Radio Edit)"``). Search items lack ``isrc``, ``bpm``, ``gain``,
``release_date`` and ``contributors``. ``link``/``share`` point at deezer.com as the real
ones do; ``tracklist`` URLs point at ``base`` (the imitation).
"""

from __future__ import annotations

import math
import re

from enrichment_sandbox import derived, ids
from enrichment_sandbox.catalogue import CatalogueTrack
from enrichment_sandbox.text import fold, strip_featuring

SITE = "https://www.deezer.com"
IMAGES = "https://cdn-images.dzcdn.net/images"
COUNTRIES = ("CA", "DE", "FR", "GB", "NL", "US")
_SIZES = (("small", 56), ("medium", 250), ("big", 500), ("xl", 1000))
_VERSION = re.compile(
    r"\s*([\(\[][^\(\)\[\]]*\b(?:remix|edit|mix|vip|version|dub|rework|remaster(?:ed)?)\b"
    r"[^\(\)\[\]]*[\)\]])\s*$",
    re.IGNORECASE,
)


def _pictures(kind: str, image: str, link: str) -> dict[str, object]:
    """``picture``/``cover`` plus its four sized CDN variants."""
    key = "cover" if kind == "cover" else "picture"
    sized = {
        f"{key}_{name}": f"{IMAGES}/{kind}/{image}/{px}x{px}-000000-80-0-0.jpg"
        for name, px in _SIZES
    }
    return {key: f"{link}/image", **sized}


def _main_artists(track: CatalogueTrack) -> list[str]:
    """Credited names outside the "feat." part (all of them when the credit has none)."""
    main = fold(strip_featuring(track.artist))
    named = [name for name in track.artists if fold(name) in main]
    return named or list(track.artists[:1])


def contributor(base: str, name: str, role: str) -> dict[str, object]:
    """One ``contributors[]`` entry (an artist object with ``role``)."""
    return artist_object(base, name) | {"role": role}


def artist_object(base: str, name: str) -> dict[str, object]:
    """The artist object embedded in tracks and albums."""
    artist_id = derived.deezer_artist_id(name)
    image = ids.hex_digest("deezer-artist-image", str(artist_id))
    return {
        "id": artist_id,
        "name": name,
        "link": f"{SITE}/artist/{artist_id}",
        **_pictures("artist", image, f"{base}/artist/{artist_id}"),
        "radio": True,
        "tracklist": f"{base}/artist/{artist_id}/top?limit=50",
        "type": "artist",
    }


def titles(track: CatalogueTrack) -> tuple[str, str, str]:
    """``(title, title_short, title_version)`` as Deezer splits them."""
    match = _VERSION.search(track.title)
    version = match.group(1) if match else ""
    short = track.title[: match.start()] if match else track.title
    featured = [n for n in track.artists if n not in _main_artists(track)]
    feat = f" (feat. {' & '.join(featured)})" if featured else ""
    return f"{short}{feat}{f' {version}' if version else ''}", short, version


def album_ref(base: str, track: CatalogueTrack) -> dict[str, object]:
    """The album object embedded in a track."""
    album_id = derived.deezer_album_id(track)
    image = ids.hex_digest("deezer-cover", str(album_id))
    return {
        "id": album_id,
        "title": track.album,
        "link": f"{SITE}/album/{album_id}",
        **_pictures("cover", image, f"{base}/album/{album_id}"),
        "md5_image": image,
        "release_date": track.release_date,
        "tracklist": f"{base}/album/{album_id}/tracks",
        "type": "album",
    }


def rank(track: CatalogueTrack) -> int:
    """Deezer's popularity ``rank`` (grows with Last.fm listeners)."""
    return min(999_999, int(60_000 * math.log10(track.listeners + 10)))


def search_item(base: str, track: CatalogueTrack) -> dict[str, object]:
    """A simplified track, as search results and album track lists carry it."""
    track_id = derived.deezer_track_id(track)
    title, short, version = titles(track)
    preview = ids.hex_digest("deezer-preview", str(track_id))
    return {
        "id": track_id,
        "readable": True,
        "title": title,
        "title_short": short,
        "title_version": version,
        "link": f"{SITE}/track/{track_id}",
        "duration": round(track.duration_ms / 1000),
        "rank": rank(track),
        "explicit_lyrics": False,
        "explicit_content_lyrics": 0,
        "explicit_content_cover": 0,
        "preview": f"https://cdnt-preview.dzcdn.net/api/1/1/{preview[:1]}/{preview}.mp3",
        "md5_image": ids.hex_digest("deezer-cover", str(derived.deezer_album_id(track))),
        "artist": artist_object(base, _main_artists(track)[0]),
        "album": album_ref(base, track),
        "type": "track",
    }


def full_track(base: str, track: CatalogueTrack, place: derived.Placement) -> dict[str, object]:
    """The full track of ``/track/{id}`` and ``/track/isrc:{ISRC}``."""
    item = search_item(base, track)
    track_id = item["id"]
    main = _main_artists(track)
    return item | {
        "isrc": track.isrc,
        "share": f"{SITE}/track/{track_id}?utm_source=deezer&utm_content=track-{track_id}"
        "&utm_medium=web",
        "track_position": place.position,
        "disk_number": 1,
        "release_date": track.release_date,
        "bpm": derived.deezer_bpm(track),
        "gain": -round(6 + ids.number(track.mbid, "deezer-gain") % 60 / 10, 1),
        "available_countries": list(COUNTRIES),
        "contributors": [
            contributor(base, name, "Main" if name in main else "Featured")
            for name in track.artists
        ],
    }


def album_object(
    base: str, tracks: list[CatalogueTrack], place: derived.Placement
) -> dict[str, object]:
    """``/album/{id}``: label, UPC, genres (from the tags), the known tracks."""
    first = tracks[0]
    ref = album_ref(base, first)
    genres = derived.deezer_genres(first)
    return {
        "id": ref["id"],
        "title": first.album,
        "upc": derived.barcode(first),
        "link": ref["link"],
        **{k: v for k, v in ref.items() if k.startswith("cover")},
        "md5_image": ref["md5_image"],
        "genre_id": genres[0][0] if genres else -1,
        "genres": {"data": [_genre(base, gid, name) for gid, name in genres]},
        "label": first.label,
        "nb_tracks": place.total_tracks,
        "duration": sum(round(t.duration_ms / 1000) for t in tracks),
        "fans": rank(first) // 10,
        "release_date": first.release_date,
        "record_type": "single" if place.single else "album",
        "available": True,
        "tracklist": ref["tracklist"],
        "explicit_lyrics": False,
        "contributors": [contributor(base, name, "Main") for name in _main_artists(first)],
        "artist": artist_object(base, _main_artists(first)[0]),
        "type": "album",
        "tracks": {"data": [search_item(base, t) for t in tracks]},
    }


def _genre(base: str, genre_id: int, name: str) -> dict[str, object]:
    return {
        "id": genre_id,
        "name": name,
        "picture": f"{base}/genre/{genre_id}/image",
        "type": "genre",
    }
