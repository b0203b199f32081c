"""The one id derivation the catalogue script and the imitations share."""

from __future__ import annotations

import re
import uuid

from enrichment_sandbox import ids
from enrichment_sandbox.catalogue import load_catalogue


def test_values_are_stable_and_depend_on_every_part() -> None:
    """The same parts give the same values; moving a part boundary gives other ones."""
    assert ids.number("a", "bc") == ids.number("a", "bc")
    assert ids.number("a", "bc") != ids.number("ab", "c")
    assert ids.base62_id("a", "bc") != ids.base62_id("ab", "c")
    assert ids.stable_uuid("a", "bc") != ids.stable_uuid("ab", "c")
    assert 0 <= ids.number("x") < 2**64


def test_shapes() -> None:
    """Spotify-shaped and short base62 ids, hex of any length, lowercase version-5 UUIDs."""
    assert re.fullmatch(r"[0-9A-Za-z]{22}", ids.base62_id("spotify:track", "x"))
    assert re.fullmatch(r"[0-9A-Za-z]{6}", ids.base62_id("gsb-song", "x", length=6))
    assert re.fullmatch(r"[0-9a-f]{24}", ids.hex_digest("cover", "x", length=24))
    value = ids.stable_uuid("recording", "x")
    assert str(uuid.UUID(value)) == value
    assert uuid.UUID(value).version == 5


def test_a_long_base62_id_uses_the_whole_digest() -> None:
    """No run of padding zeros: 22 base62 digits come from all 256 bits, not 64."""
    values = [ids.base62_id("spotify:artist", str(n)) for n in range(50)]
    assert not any(v.endswith("0" * 6) for v in values)
    assert len(set(values)) == 50


def test_the_catalogue_artist_ids_are_this_derivation() -> None:
    """Every fabricated artist id in the bundled catalogue is the one this module derives."""
    real = {"deadmau5"}
    checked = 0
    for track in load_catalogue().tracks:
        for name, spotify_id, mbid in zip(
            track.artists, track.spotify_artist_ids, track.artist_mbids, strict=True
        ):
            if name in real:
                continue
            assert spotify_id == ids.base62_id("spotify:artist", name)
            assert mbid == ids.stable_uuid("artist", name)
            checked += 1
    assert checked > 300
