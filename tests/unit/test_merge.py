"""Unit tests for enrichment.merge: per-field precedence, provenance, key, status."""

from __future__ import annotations

import pytest

from enrichment_server.config import SettingsError, load_settings
from enrichment_server.domain import ErrorKind, Source, SourceFailure, Status
from enrichment_server.enrichment.merge import (
    Findings,
    Merged,
    decide_status,
    merge,
    with_overrides,
)

SP, MB, LF, DZ, GS = (
    Source.SPOTIFY,
    Source.MUSICBRAINZ,
    Source.LASTFM,
    Source.DEEZER,
    Source.GETSONGBPM,
)


def test_isrc_spotify_beats_musicbrainz() -> None:
    """ISRC comes from Spotify when both Spotify and MusicBrainz have one."""
    merged = merge({MB: {"isrc": "MBISRC000001"}, SP: {"isrc": "SPISRC000001"}})
    assert merged.metadata.isrc == "SPISRC000001"
    assert merged.provenance["isrc"] is SP


def test_isrc_falls_back_to_musicbrainz() -> None:
    """Without a Spotify ISRC the MusicBrainz one is used."""
    merged = merge({SP: {"isrc": None, "title": "T"}, MB: {"isrc": "MBISRC000001"}})
    assert merged.metadata.isrc == "MBISRC000001"
    assert merged.provenance["isrc"] is MB


def test_label_musicbrainz_beats_spotify() -> None:
    """Label comes from MusicBrainz before Spotify."""
    merged = merge({SP: {"label": "Sp Label"}, MB: {"label": "Mb Label"}})
    assert merged.metadata.label == "Mb Label"
    assert merged.provenance["label"] is MB


def test_label_falls_back_to_spotify() -> None:
    """Without a MusicBrainz (or Deezer) label the Spotify one is used."""
    merged = merge({SP: {"label": "Sp Label"}, MB: {"title": "T"}})
    assert merged.metadata.label == "Sp Label"
    assert merged.provenance["label"] is SP


def test_release_date_musicbrainz_first() -> None:
    """release_date comes from MusicBrainz first, then Spotify."""
    both = merge({SP: {"release_date": "2001-03-12"}, MB: {"release_date": "2000-11-13"}})
    assert both.metadata.release_date == "2000-11-13"
    assert both.provenance["release_date"] is MB
    only_sp = merge({SP: {"release_date": "2001-03-12"}, MB: {"release_date": None}})
    assert only_sp.metadata.release_date == "2001-03-12"
    assert only_sp.provenance["release_date"] is SP


def test_genres_lastfm_first() -> None:
    """Genres come from Last.fm before MusicBrainz and Spotify, as a tuple."""
    merged = merge({MB: {"genres": ["house"]}, LF: {"genres": ["french house", "disco"]}})
    assert merged.metadata.genres == ("french house", "disco")
    assert merged.provenance["genres"] is LF


def test_empty_genres_fall_back() -> None:
    """An empty Last.fm genre list counts as absent; MusicBrainz's genres are used."""
    merged = merge({LF: {"genres": []}, MB: {"genres": ["house"]}})
    assert merged.metadata.genres == ("house",)
    assert merged.provenance["genres"] is MB


def test_identity_group_comes_from_one_source() -> None:
    """title, artist and artists come from the first source with a title (Spotify)."""
    merged = merge(
        {
            SP: {"title": "One More Time", "artist": "Daft Punk", "artists": ["Daft Punk"]},
            MB: {"title": "One More Time (radio)", "artist": "DP", "artists": ["DP"]},
        }
    )
    assert (merged.metadata.title, merged.metadata.artist) == ("One More Time", "Daft Punk")
    assert merged.metadata.artists == ("Daft Punk",)
    assert {merged.provenance[f] for f in ("title", "artist", "artists")} == {SP}


def test_zero_values_are_present() -> None:
    """Zero is a value (not absence): energy 0.0 and pitch class 0 are kept."""
    merged = merge({SP: {"energy": 0.0, "pitch_class": 0, "major": True}})
    assert merged.metadata.energy == 0.0
    assert merged.metadata.pitch_class == 0
    assert merged.metadata.musical_key == "C Major"


def test_key_fields_and_derivations() -> None:
    """Pitch 9 minor derives A Minor / 8A / 1m, all attributed to the key's source."""
    merged = merge({SP: {"pitch_class": 9, "major": False}})
    meta = merged.metadata
    assert (meta.pitch_class, meta.major) == (9, False)
    assert (meta.musical_key, meta.camelot_key, meta.open_key) == ("A Minor", "8A", "1m")
    for name in ("pitch_class", "major", "musical_key", "camelot_key", "open_key"):
        assert merged.provenance[name] is SP


def test_key_falls_back_as_a_pair() -> None:
    """Without a Spotify key both pitch and mode come from GetSongBPM, with its provenance."""
    merged = merge(
        {
            SP: {"pitch_class": None, "major": None, "bpm": 128.0},
            GS: {"pitch_class": 0, "major": True},
        }
    )
    meta = merged.metadata
    assert (meta.musical_key, meta.camelot_key, meta.open_key) == ("C Major", "8B", "1d")
    for name in ("pitch_class", "major", "musical_key", "camelot_key", "open_key"):
        assert merged.provenance[name] is GS
    assert merged.provenance["bpm"] is SP


def test_key_mode_not_mixed_across_sources() -> None:
    """Spotify's pitch is never paired with GetSongBPM's mode."""
    merged = merge({SP: {"pitch_class": 9, "major": False}, GS: {"pitch_class": 2, "major": True}})
    assert merged.metadata.musical_key == "A Minor"
    assert merged.provenance["major"] is SP


def test_unknown_key_leaves_key_fields_unset() -> None:
    """An unknown key (pitch None) sets none of the key fields and no key provenance."""
    merged = merge({SP: {"pitch_class": None, "major": True, "bpm": 120.0}})
    meta = merged.metadata
    assert (meta.pitch_class, meta.major, meta.musical_key) == (None, None, None)
    assert (meta.camelot_key, meta.open_key) == (None, None)
    key_fields = {"pitch_class", "major", "musical_key", "camelot_key", "open_key"}
    assert key_fields.isdisjoint(merged.provenance)
    assert merged.metadata.bpm == 120.0


def test_pitch_without_mode_leaves_key_fields_unset() -> None:
    """A pitch class without a mode gives no key and no partial key fields."""
    merged = merge({SP: {"pitch_class": 4}})
    assert merged.metadata.pitch_class is None
    assert merged.metadata.musical_key is None
    assert "pitch_class" not in merged.provenance


def test_sources_used_lists_exactly_contributors() -> None:
    """sources_used names each source that supplied a field, not ones that were outranked."""
    merged = merge(
        {
            SP: {"isrc": "SPISRC000001", "title": "T"},
            MB: {"isrc": "MBISRC000001"},  # outranked on its only field
            LF: {"lastfm_listeners": 10, "lastfm_playcount": 20},
            DZ: {},
        }
    )
    assert merged.sources_used == (SP, LF)
    assert merged.provenance["lastfm_playcount"] is LF


def test_nothing_found_is_empty() -> None:
    """No findings give empty metadata, provenance and sources_used."""
    merged = merge({SP: {}, MB: {"isrc": None}})
    assert merged.provenance == {}
    assert merged.sources_used == ()
    assert merged.metadata.isrc is None


def _failure(retriable: bool) -> SourceFailure:
    return SourceFailure(SP, ErrorKind.UNAVAILABLE, "boom", retriable)


MATCHED = Merged(merge({MB: {"title": "T"}}).metadata, {"title": MB})
UNMATCHED = Merged(merge({}).metadata, {})


@pytest.mark.parametrize(
    ("merged", "failures", "expected"),
    [
        (MATCHED, [], Status.COMPLETED),
        (MATCHED, [_failure(False)], Status.COMPLETED),
        (MATCHED, [_failure(True)], Status.PARTIAL),
        (MATCHED, [_failure(False), _failure(True)], Status.PARTIAL),
        (UNMATCHED, [], Status.NOT_FOUND),
        (UNMATCHED, [_failure(False)], Status.NOT_FOUND),
        (UNMATCHED, [_failure(True)], Status.FAILED),
        (UNMATCHED, [_failure(False), _failure(True)], Status.FAILED),
    ],
    ids=[
        "match-none",
        "match-nonretriable",
        "match-retriable",
        "match-mixed",
        "nomatch-none",
        "nomatch-nonretriable",
        "nomatch-retriable",
        "nomatch-mixed",
    ],
)
def test_decide_status(merged: Merged, failures: list[SourceFailure], expected: Status) -> None:
    """Status follows DESIGN section 3 for every match/failure combination."""
    assert decide_status(merged, failures) is expected


def test_decide_status_accepts_generator() -> None:
    """Failures may be any iterable, e.g. a generator."""
    failures = (f for f in [_failure(True)])
    assert decide_status(UNMATCHED, failures) is Status.FAILED


def test_bpm_falls_back_to_deezer() -> None:
    """A bpm found only by Deezer is used and attributed to Deezer."""
    found: Findings = {"bpm": 124.0}
    assert merge({DZ: found}).provenance == {"bpm": DZ}


def test_precedence_override_reorders_one_field_only() -> None:
    """An override puts Deezer's BPM first; other fields keep the default order."""
    precedence = with_overrides({"bpm": ["deezer", "spotify"]})
    findings = {
        Source.SPOTIFY: {"bpm": 128.0, "duration_ms": 1000},
        Source.DEEZER: {"bpm": 127.0, "duration_ms": 2000},
    }
    merged = merge(findings, precedence)
    assert merged.metadata.bpm == 127.0
    assert merged.provenance["bpm"] is Source.DEEZER
    assert merged.metadata.duration_ms == 1000
    assert merged.provenance["duration_ms"] is Source.SPOTIFY


def test_precedence_override_by_any_field_of_a_group() -> None:
    """Naming 'major' reorders the whole key group (pitch class and mode travel together)."""
    precedence = with_overrides({"major": ["getsongbpm"]})
    findings = {
        Source.SPOTIFY: {"pitch_class": 9, "major": False},
        Source.GETSONGBPM: {"pitch_class": 6, "major": False},
    }
    merged = merge(findings, precedence)
    assert merged.metadata.camelot_key == "11A"
    assert merged.provenance["camelot_key"] is Source.GETSONGBPM


@pytest.mark.parametrize(
    ("overrides", "named"),
    [({"tempo": ["spotify"]}, "'tempo'"), ({"bpm": ["beatport"]}, "'bpm'")],
)
def test_precedence_override_rejects_unknown_names(
    overrides: dict[str, list[str]], named: str
) -> None:
    """Unknown fields or sources are a ValueError naming the culprit."""
    with pytest.raises(ValueError, match=named):
        with_overrides(overrides)


def test_settings_reject_unknown_precedence() -> None:
    """A bad ENRICHMENT_FIELD_PRECEDENCE stops the start with a message naming it."""
    with pytest.raises(SettingsError, match="ENRICHMENT_FIELD_PRECEDENCE"):
        load_settings(field_precedence={"bpm": ["beatport"]})
