"""Text folding and the derived release layout the three imitations share."""

from __future__ import annotations

import dataclasses

from enrichment_sandbox.derived import ReleaseLayout
from enrichment_sandbox.text import fold, overlap, strip_featuring, token_set
from tests.unit.sandbox.support import SAKU, STROBE


def test_fold_ignores_case_accents_and_punctuation() -> None:
    """Folding maps "Café del Mar!" and "cafe  DEL mar" to the same tokens."""
    assert fold("Café del Mar!") == fold("cafe  DEL mar") == "cafe del mar"
    assert strip_featuring("Energy 52 feat. Someone") == "Energy 52"
    assert strip_featuring("Feature Creature") == "Feature Creature"


def test_overlap_prefers_the_exact_field() -> None:
    """A plain title outscores the same words inside a longer title; no shared token is 0."""
    exact = overlap(["opus"], token_set(["Opus"]))
    longer = overlap(["opus"], token_set(["Opus (Four Tet Remix)"]))
    assert exact == 1.0
    assert 0 < longer < exact
    assert overlap(["strobe"], token_set(["Opus"])) == 0.0


def test_release_layout_is_consistent_across_siblings() -> None:
    """Records on one release share its size and type and sit at distinct positions."""
    edit = dataclasses.replace(
        STROBE, title="Strobe (Radio Edit)", mbid="0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
    )
    single = dataclasses.replace(STROBE, album="Strobe")
    layout = ReleaseLayout([single, dataclasses.replace(edit, album="Strobe"), SAKU])
    first, second = layout.of(single), layout.of(dataclasses.replace(edit, album="Strobe"))
    assert (first.single, second.single) == (True, True)
    assert first.total_tracks == second.total_tracks >= 2
    assert (first.position, second.position) == (1, 2)
    alone = layout.of(SAKU)
    assert not alone.single
    assert 1 <= alone.position <= alone.total_tracks
