"""The one derivation of every fabricated identifier and stable number in the sandbox.

``scripts/build_catalogue.py`` derives the catalogue's ids (Spotify ids, MBIDs, ISRC and
catalogue-number digits, jitters) with these functions, and the imitations derive what the
catalogue does not record (MusicBrainz track ids, Deezer and GetSongBPM ids, image hashes,
release layouts) with the same ones, so one name gets one id wherever it is derived: a
remixer Spotify credits has the artist id the catalogue gives that artist.

Every value is a function of its ``parts`` alone: SHA-256 of the parts joined by NUL (a
character no part contains, so ``("ab", "c")`` and ``("a", "bc")`` differ).
"""

from __future__ import annotations

import hashlib
import uuid

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
NAMESPACE = uuid.UUID("6f1c2b0e-5d1a-4c57-9a43-1f0e8d7b3c21")
"""The uuid5 namespace of every fabricated UUID (MBIDs, area, label and genre ids)."""
_SEPARATOR = "\0"


def digest(*parts: str) -> bytes:
    """SHA-256 of the parts, NUL-separated."""
    return hashlib.sha256(_SEPARATOR.join(parts).encode("utf-8")).digest()


def number(*parts: str) -> int:
    """A stable non-negative 64-bit number derived from the parts."""
    return int.from_bytes(digest(*parts)[:8], "big")


def hex_digest(*parts: str, length: int = 32) -> str:
    """A stable lowercase hex string of ``length`` characters (at most 64)."""
    return digest(*parts).hex()[:length]


def base62_id(*parts: str, length: int = 22) -> str:
    """A stable base62 id: 22 characters is Spotify's shape, 6 GetSongBPM's ("voKlYL")."""
    value = int.from_bytes(digest(*parts), "big")
    chars = []
    for _ in range(length):
        value, rest = divmod(value, 62)
        chars.append(BASE62[rest])
    return "".join(chars)


def stable_uuid(*parts: str) -> str:
    """A lowercase UUID (version 5) in MusicBrainz's shape."""
    return str(uuid.uuid5(NAMESPACE, _SEPARATOR.join(parts)))
