"""Catalogue records rendered as MusicBrainz WS/2 JSON (search and lookup shapes differ).

Search recordings carry ``score`` and ``artist-credit-id`` and list medium tracks under
``track`` (singular); lookups list them under ``tracks`` and grow keys per ``inc``.
Recording lookups never include labels; a release lookup with ``inc=labels`` does. A
version is extra title information in lower case ("Opus (Four Tet remix)"), and the
remixer is not in the recording's artist credit (upstream-apis.md 5.9).
"""

from __future__ import annotations

from collections.abc import Collection

from enrichment_sandbox import derived, ids
from enrichment_sandbox.catalogue import CatalogueTrack

OFFICIAL_STATUS_ID = "4e304316-386d-3409-af2e-78857eec5cfe"
PRIMARY_TYPE_IDS = {
    "Album": "f529b476-6e62-324f-b0aa-1f3e33d313fc",
    "Single": "d6038452-8ee0-3f68-affc-2de9a1ede0b9",
}
ARTIST_TYPE_IDS = {
    "Person": "b6e035f4-3ce9-331c-97df-83397230b0df",
    "Group": "e431f5f6-b5d2-343d-8b36-72607fffb74b",
}
DIGITAL_MEDIA_ID = "907a28d9-b3b2-3ef6-89a8-7b18d91d4794"
LABEL_TYPE_ID = "7aaa37fe-2def-3476-b359-80245850062d"
NO_PACKAGING_ID = "119eba76-b343-3e02-a292-f0f00644bb9b"


def credit_parts(track: CatalogueTrack) -> list[tuple[str, str, str]]:
    """``(name, joinphrase, artist mbid)`` per credited artist, joinphrases taken from the
    displayed credit (``"Bicep feat. Clara La San"`` → ``" feat. "``), else ``" & "``."""
    parts: list[tuple[str, str, str]] = []
    cursor = 0
    names = list(track.artists)
    for i, (name, mbid) in enumerate(zip(names, track.artist_mbids, strict=False)):
        if i + 1 >= len(names):
            parts.append((name, "", mbid))
            break
        start = track.artist.find(name, cursor)
        nxt = track.artist.find(names[i + 1], start + len(name)) if start >= 0 else -1
        join = track.artist[start + len(name) : nxt] if nxt >= 0 else " & "
        parts.append((name, join, mbid))
        cursor = max(cursor, nxt)
    return parts


def _artist(name: str, mbid: str, track: CatalogueTrack, *, full: bool) -> dict[str, object]:
    artist: dict[str, object] = {"id": mbid, "name": name, "sort-name": derived.sort_name(name)}
    if full:
        kind = "Group" if ids.number(mbid, "type") % 3 == 0 else "Person"
        country = derived.country(track)
        artist |= {
            "disambiguation": "",
            "type": kind,
            "type-id": ARTIST_TYPE_IDS[kind],
            "country": None if country == "XW" else country,
        }
    return artist


def artist_credit(track: CatalogueTrack, *, search: bool) -> list[dict[str, object]]:
    """The ``artist-credit`` list (search omits empty joinphrases and artist details)."""
    credit: list[dict[str, object]] = []
    for name, join, mbid in credit_parts(track):
        entry: dict[str, object] = {"name": name}
        if join or not search:
            entry["joinphrase"] = join
        entry["artist"] = _artist(name, mbid, track, full=not search)
        credit.append(entry)
    return credit


def release_group(
    track: CatalogueTrack, place: derived.Placement, *, search: bool
) -> dict[str, object]:
    """The ``release-group`` object of the record's release."""
    kind = "Single" if place.single else "Album"
    group: dict[str, object] = {
        "id": track.release_group_mbid,
        "type-id": PRIMARY_TYPE_IDS[kind],
        "primary-type-id": PRIMARY_TYPE_IDS[kind],
        "title": track.album,
        "primary-type": kind,
    }
    if not search:
        group |= {
            "secondary-types": [],
            "secondary-type-ids": [],
            "first-release-date": track.release_date,
            "disambiguation": "",
        }
    return group


def _medium_track(track: CatalogueTrack, place: derived.Placement) -> dict[str, object]:
    return {
        "id": ids.stable_uuid("track", track.mbid),
        "number": str(place.position),
        "title": derived.musicbrainz_title(track),
        "length": derived.mb_length(track),
    }


def _release_event(track: CatalogueTrack, *, search: bool) -> dict[str, object]:
    area = derived.area(derived.country(track))
    if not search:
        area |= {"disambiguation": "", "type": None, "type-id": None}
    return {"date": track.release_date, "area": area}


def search_release(track: CatalogueTrack, place: derived.Placement) -> dict[str, object]:
    """A release as embedded in a recording search hit (media ``track`` singular)."""
    return {
        "id": track.release_mbid,
        "status-id": OFFICIAL_STATUS_ID,
        "count": 1,
        "title": track.album,
        "status": "Official",
        "release-group": release_group(track, place, search=True),
        "date": track.release_date,
        "country": derived.country(track),
        "release-events": [_release_event(track, search=True)],
        "track-count": place.total_tracks,
        "media": [
            {
                "position": 1,
                "format": "Digital Media",
                "track": [_medium_track(track, place)],
                "track-count": place.total_tracks,
                "track-offset": place.position - 1,
            }
        ],
    }


def search_recording(
    track: CatalogueTrack, place: derived.Placement, score: int
) -> dict[str, object]:
    """One ``recordings[]`` entry of a recording search."""
    return {
        "id": track.mbid,
        "score": score,
        "artist-credit-id": ids.stable_uuid("artist-credit", *track.artist_mbids),
        "title": derived.musicbrainz_title(track),
        "length": derived.mb_length(track),
        "video": None,
        "artist-credit": artist_credit(track, search=True),
        "first-release-date": track.release_date,
        "releases": [search_release(track, place)],
        "isrcs": [track.isrc],
        "tags": [{"count": count, "name": name} for name, count in track.mb_tags],
    }


def lookup_release(
    track: CatalogueTrack,
    inc: Collection[str],
    layout: derived.ReleaseLayout,
    siblings: Collection[CatalogueTrack] = (),
) -> dict[str, object]:
    """A release as a lookup renders it.

    ``siblings`` are the catalogue tracks a release lookup lists with ``inc=recordings``;
    without them (a recording lookup's ``releases``) the medium shows only ``track``.
    """
    place = layout.of(track)
    release: dict[str, object] = {
        "id": track.release_mbid,
        "title": track.album,
        "status": "Official",
        "status-id": OFFICIAL_STATUS_ID,
        "quality": "normal",
        "text-representation": {"language": "eng", "script": "Latn"},
        "date": track.release_date,
        "country": derived.country(track),
        "release-events": [_release_event(track, search=False)],
        "barcode": derived.barcode(track),
        "disambiguation": "",
        "packaging": "None",
        "packaging-id": NO_PACKAGING_ID,
    }
    if "artist-credits" in inc or "artists" in inc:
        release["artist-credit"] = artist_credit(track, search=False)[:1]
    if "release-groups" in inc:
        release["release-group"] = release_group(track, place, search=False)
    if "media" in inc or "recordings" in inc:
        listed = [(t, layout.of(t)) for t in siblings or (track,)]
        release["media"] = [
            _lookup_medium(place, listed, with_tracks="recordings" in inc if siblings else True)
        ]
    return release


def _lookup_medium(
    place: derived.Placement,
    listed: list[tuple[CatalogueTrack, derived.Placement]],
    *,
    with_tracks: bool,
) -> dict[str, object]:
    medium: dict[str, object] = {
        "position": 1,
        "title": "",
        "format": "Digital Media",
        "format-id": DIGITAL_MEDIA_ID,
        "track-count": place.total_tracks,
        "track-offset": min(p.position for _, p in listed) - 1,
    }
    if with_tracks:
        medium["tracks"] = [
            {**_medium_track(t, p), "position": p.position, "recording": _bare_recording(t)}
            for t, p in sorted(listed, key=lambda item: item[1].position)
        ]
    return medium


def _bare_recording(track: CatalogueTrack) -> dict[str, object]:
    return {
        "id": track.mbid,
        "title": derived.musicbrainz_title(track),
        "length": derived.mb_length(track),
        "disambiguation": "",
        "video": False,
        "first-release-date": track.release_date,
    }


def lookup_recording(
    track: CatalogueTrack, inc: Collection[str], layout: derived.ReleaseLayout
) -> dict[str, object]:
    """A recording lookup (also the ISRC lookup's entries), grown by each ``inc``."""
    recording = _bare_recording(track)
    if "isrcs" in inc:
        recording["isrcs"] = [track.isrc]
    if "artist-credits" in inc or "artists" in inc:
        recording["artist-credit"] = artist_credit(track, search=False)
    if "releases" in inc:
        recording["releases"] = [lookup_release(track, inc, layout)]
    if "tags" in inc:
        recording["tags"] = [{"count": count, "name": name} for name, count in track.mb_tags]
    if "genres" in inc:
        recording["genres"] = _genres(track)
    if "aliases" in inc:
        recording["aliases"] = []
    if "ratings" in inc:
        recording["rating"] = {"value": None, "votes-count": 0}
    return recording


def _genres(track: CatalogueTrack) -> list[dict[str, object]]:
    return [
        {
            "count": count,
            "disambiguation": "",
            "id": ids.stable_uuid("genre", name),
            "name": name,
        }
        for name, count in track.mb_tags
    ]


def label_info(track: CatalogueTrack) -> list[dict[str, object]]:
    """The ``label-info`` list of a release lookup with ``inc=labels``."""
    label = {
        "id": ids.stable_uuid("label", track.label),
        "name": track.label,
        "sort-name": derived.sort_name(track.label),
        "disambiguation": "",
        "label-code": None,
        "type": "Original Production",
        "type-id": LABEL_TYPE_ID,
    }
    return [{"catalog-number": track.catalog_number, "label": label}]
