"""Numbers from upstreams are parsed defensively: absent or clamped, never trusted blindly."""

from __future__ import annotations

import math

import pytest

from enrichment_server.sources.deezer import TRACK
from enrichment_server.sources.findings import deezer_findings, spotify_features_findings
from enrichment_server.sources.http import MAX_RETRY_AFTER_S, parse_retry_after
from enrichment_server.sources.spotify import DEFAULT_TOKEN_LIFETIME_S, FEATURES, _Token

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 1.5 ", 1.5),
        ("0", 0.0),
        ("inf", None),
        ("-inf", None),
        ("NaN", None),
        ("-5", None),
        ("1e400", None),  # float("1e400") is inf
        ("1e12", MAX_RETRY_AFTER_S),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: retry now
        ("Tue, 14 Nov 2023 22:13:20 GMT", 0.0),  # NOW itself
        ("Tue, 14 Nov 2023 22:14:20 GMT", 60.0),
        ("Tue, 14 Nov 2023 22:14:20", 60.0),  # no zone: GMT, as RFC 9110 means
        ("Mon, 01 Jan 99999 00:00:00 GMT", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_clamped_or_absent(header: str | None, expected: float | None) -> None:
    """issue 12 item 5: inf/NaN/negative/garbage are absent, huge is clamped, past is 0."""
    assert parse_retry_after(header, now=NOW) == expected


def test_absurd_numbers_in_a_deezer_body_are_absent() -> None:
    """issue 12 item 5: an infinite BPM or a 10^30 ms duration never reaches the findings."""
    body = (
        b'{"id": 3135556, "title": "Strobe", "isrc": "USUS11000356", "bpm": Infinity,'
        b' "duration": 1000000000000000000000000000000,'
        b' "artist": {"id": 1, "name": "deadmau5"}, "album": {"id": 2, "title": "Strobe"}}'
    )
    track = TRACK.validate_json(body)
    assert track is not None
    findings = deezer_findings(track, None, 1.0)
    assert findings["bpm"] is None
    assert findings["duration_ms"] is None
    assert findings["isrc"] == "USUS11000356"


def test_nan_and_out_of_range_audio_features_are_absent() -> None:
    """issue 12 item 5: NaN tempo, energy 7 and key 40 are dropped; valid fields are kept."""
    features = FEATURES.validate_json(
        b'{"tempo": NaN, "energy": 7, "danceability": 0.5, "valence": -Infinity,'
        b' "key": 40, "mode": 1}'
    )
    assert features is not None
    findings = spotify_features_findings(features)
    assert findings["bpm"] is None
    assert findings["energy"] is None
    assert findings["valence"] is None
    assert findings["pitch_class"] is None
    assert findings["danceability"] == 0.5


@pytest.mark.parametrize("expires_in", ["NaN", "Infinity", "-3600", "0", "1e300"])
def test_an_unbelievable_token_lifetime_is_treated_as_absent(expires_in: str) -> None:
    """issue 12 item 5: a token's expires_in of NaN/inf/negative falls back to one hour."""
    body = f'{{"access_token": "t", "token_type": "Bearer", "expires_in": {expires_in}}}'
    token = _Token.model_validate_json(body)
    assert token.lifetime_s == DEFAULT_TOKEN_LIFETIME_S
    assert math.isfinite(token.lifetime_s)
