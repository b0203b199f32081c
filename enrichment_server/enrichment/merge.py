"""Merging per-source findings by per-field precedence, with provenance and status.

Never "last writer wins": each field takes the value of the first source in its
precedence list that found one (defaults follow upstream-apis.md section 5.8). Key
fields travel together (pitch class and mode from one source), and the key name,
Camelot and Open Key are derived from them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from enrichment_server.domain import Source, SourceFailure, Status, TrackMetadata
from enrichment_server.enrichment.musical_key import key_from_pitch_class

Findings = dict[str, Any]
"""Field name (a ``TrackMetadata`` field) -> value, as one source found them."""

S = Source
Precedence = Mapping[tuple[str, ...], tuple[Source, ...]]
#: Field group -> sources in order of preference (upstream-apis.md section 5.8). A
#: group's fields come from one source. Overridable per field (``with_overrides``).
PRECEDENCE: Precedence = {
    ("spotify_id",): (S.SPOTIFY,),
    ("isrc",): (S.SPOTIFY, S.DEEZER, S.MUSICBRAINZ),
    ("musicbrainz_id",): (S.MUSICBRAINZ,),
    ("title", "artist", "artists"): (S.SPOTIFY, S.MUSICBRAINZ, S.DEEZER, S.LASTFM),
    ("album",): (S.SPOTIFY, S.MUSICBRAINZ, S.DEEZER),
    ("label",): (S.MUSICBRAINZ, S.DEEZER, S.SPOTIFY),
    ("release_date",): (S.MUSICBRAINZ, S.SPOTIFY, S.DEEZER),
    ("duration_ms",): (S.SPOTIFY, S.MUSICBRAINZ, S.DEEZER, S.LASTFM),
    ("bpm",): (S.SPOTIFY, S.DEEZER, S.GETSONGBPM),
    ("pitch_class", "major"): (S.SPOTIFY, S.GETSONGBPM),
    ("energy",): (S.SPOTIFY,),
    ("danceability",): (S.SPOTIFY, S.GETSONGBPM),
    ("valence",): (S.SPOTIFY,),
    ("genres",): (S.LASTFM, S.MUSICBRAINZ, S.SPOTIFY, S.DEEZER),
    ("lastfm_listeners", "lastfm_playcount"): (S.LASTFM,),
    ("match_confidence",): (S.SPOTIFY, S.MUSICBRAINZ, S.DEEZER, S.LASTFM),
}
_DERIVED_KEY_FIELDS = ("musical_key", "camelot_key", "open_key")


@dataclasses.dataclass(frozen=True, slots=True)
class Merged:
    """The merged metadata with the source of each field."""

    metadata: TrackMetadata
    provenance: dict[str, Source]

    @property
    def sources_used(self) -> tuple[Source, ...]:
        """Every source that supplied at least one field, in enum order."""
        used = set(self.provenance.values())
        return tuple(s for s in Source if s in used)


def _present(value: Any) -> bool:
    """None, "" and empty sequences are "not found" (an empty Spotify label is no label)."""
    return value is not None and value != "" and value != () and value != []


def with_overrides(overrides: Mapping[str, Sequence[str]]) -> Precedence:
    """``PRECEDENCE`` with some groups reordered, e.g. ``{"bpm": ["deezer", "spotify"]}``.

    A key may name any field of its group ("pitch_class" or "major" both reorder the
    key group). Sources left out of an override are dropped for that field. Unknown
    field or source names raise ``ValueError`` naming them.
    """
    result = dict(PRECEDENCE)
    for name, sources in overrides.items():
        group = next((g for g in PRECEDENCE if name in g), None)
        if group is None:
            fields = sorted(f for g in PRECEDENCE for f in g)
            raise ValueError(f"unknown field {name!r} in precedence; fields: {fields}")
        try:
            result[group] = tuple(Source(s) for s in sources)
        except ValueError:
            known = [str(s) for s in Source]
            raise ValueError(
                f"unknown source in precedence of {name!r}; sources: {known}"
            ) from None
    return result


def merge(findings: Mapping[Source, Findings], precedence: Precedence = PRECEDENCE) -> Merged:
    """Apply ``precedence`` to the findings of every source."""
    values: dict[str, Any] = {}
    provenance: dict[str, Source] = {}
    for group, order in precedence.items():
        for source in order:
            found = findings.get(source, {})
            if _present(found.get(group[0])):
                for name in group:
                    if _present(found.get(name)):
                        values[name] = found[name]
                        provenance[name] = source
                break
    musical_key = key_from_pitch_class(values.get("pitch_class"), _mode(values.get("major")))
    if musical_key is not None:
        values |= {
            "musical_key": musical_key.name,
            "camelot_key": musical_key.camelot,
            "open_key": musical_key.open_key,
        }
        provenance |= dict.fromkeys(_DERIVED_KEY_FIELDS, provenance["pitch_class"])
    else:
        for name in ("pitch_class", "major"):
            values.pop(name, None)
            provenance.pop(name, None)
    for name in ("artists", "genres"):
        if name in values:
            values[name] = tuple(values[name])
    return Merged(TrackMetadata(**values), provenance)


def _mode(major: bool | None) -> int | None:
    return None if major is None else int(major)


def decide_status(merged: Merged, failures: Iterable[SourceFailure]) -> Status:
    """COMPLETED / PARTIAL / NOT_FOUND / FAILED exactly as DESIGN section 3 defines them."""
    matched = bool(merged.provenance)
    retriable = any(f.retriable for f in failures)
    if matched:
        return Status.PARTIAL if retriable else Status.COMPLETED
    return Status.FAILED if retriable else Status.NOT_FOUND
