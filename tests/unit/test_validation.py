"""Unit tests for enrichment_server.api.validation: every bad field at once, normalisation."""

from __future__ import annotations

import dataclasses

import pytest

from enrichment_server.api.validation import (
    MAX_NAME_CHARS,
    MAX_TRACK_ID_CHARS,
    RawRequest,
    derive_track_id,
    validate,
)
from enrichment_server.domain import Priority
from enrichment_server.errors import InvalidRequest

SPOTIFY_ID = "4uLU6hMCjMI75M1A2tKUQC"
MBID = "4a00ec9d-c635-463a-8cd4-eb61725f0c60"


def raw(
    artist: str = "Daft Punk",
    title: str = "One More Time",
    track_id: str = "t-1",
    **optional: str | None,
) -> RawRequest:
    """A valid request with the given fields replaced."""
    return RawRequest(
        track_id=track_id,
        artist_name=artist,
        track_title=title,
        existing_spotify_id=optional.get("spotify"),
        existing_isrc=optional.get("isrc"),
        existing_musicbrainz_id=optional.get("mbid"),
    )


def bad_fields(request: RawRequest) -> set[str]:
    """The field names the InvalidRequest for ``request`` lists."""
    with pytest.raises(InvalidRequest) as info:
        validate(request)
    fields = [v.field for v in info.value.violations]
    assert len(fields) == len(set(fields)), "a field is reported at most once"
    assert all(v.description for v in info.value.violations)
    return set(fields)


def test_valid_request_passes_through() -> None:
    """A clean request validates with its fields unchanged."""
    request = validate(raw())
    assert (request.track_id, request.artist, request.title) == (
        "t-1",
        "Daft Punk",
        "One More Time",
    )
    assert (request.spotify_id, request.isrc, request.musicbrainz_id) == (None, None, None)


@pytest.mark.parametrize("blank", ["", " ", "\t \n", "\u3000"])
def test_blank_artist_and_title_rejected(blank: str) -> None:
    """Empty or whitespace-only artist and title are both reported."""
    assert bad_fields(raw(artist=blank, title=blank)) == {"artist_name", "track_title"}


def test_name_at_limit_accepted() -> None:
    """A 512-character name is accepted."""
    assert validate(raw(artist="a" * MAX_NAME_CHARS)).artist == "a" * 512


def test_over_long_names_rejected() -> None:
    """513-character artist and title are rejected."""
    assert bad_fields(raw(artist="a" * 513, title="b" * 513)) == {"artist_name", "track_title"}


def test_track_id_length_limit() -> None:
    """A 256-character track_id is accepted and a 257-character one rejected."""
    assert validate(raw(track_id="x" * MAX_TRACK_ID_CHARS)).track_id == "x" * 256
    assert bad_fields(raw(track_id="x" * 257)) == {"track_id"}


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f"])
def test_control_characters_rejected(control: str) -> None:
    """Names containing a control character are rejected."""
    assert bad_fields(raw(artist=f"Daft{control}Punk", title=f"One{control}")) == {
        "artist_name",
        "track_title",
    }


def test_all_violations_reported_together() -> None:
    """Every bad field appears in one InvalidRequest, named exactly."""
    request = raw(
        artist=" ",
        title="t" * 513,
        track_id="i" * 257,
        spotify="not-an-id",
        isrc="GB123",
        mbid="not-a-uuid",
    )
    assert bad_fields(request) == {
        "artist_name",
        "track_title",
        "track_id",
        "existing_spotify_id",
        "existing_isrc",
        "existing_musicbrainz_id",
    }


def test_invalid_request_message_names_fields() -> None:
    """The InvalidRequest message lists the bad field names."""
    with pytest.raises(InvalidRequest, match="artist_name, existing_isrc"):
        validate(raw(artist="", isrc="nope"))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("gb-tdg-09-00141", "GBTDG0900141"),
        ("GBTDG0900141", "GBTDG0900141"),
        (" GB TDG 09 00141 ", "GBTDG0900141"),
        ("usrc17607839", "USRC17607839"),
    ],
)
def test_isrc_normalised(given: str, expected: str) -> None:
    """ISRCs lose dashes and spaces and are upper-cased."""
    assert validate(raw(isrc=given)).isrc == expected


@pytest.mark.parametrize("given", ["GB123", "1234567890AB", "GBTDG09001411", "GBTDG09001A1"])
def test_isrc_rejected(given: str) -> None:
    """Malformed ISRCs are rejected."""
    assert bad_fields(raw(isrc=given)) == {"existing_isrc"}


@pytest.mark.parametrize(
    "given",
    [
        SPOTIFY_ID,
        f"spotify:track:{SPOTIFY_ID}",
        f"https://open.spotify.com/track/{SPOTIFY_ID}?si=x",
        f"https://open.spotify.com/intl-de/track/{SPOTIFY_ID}",
        f"  {SPOTIFY_ID}  ",
    ],
)
def test_spotify_id_forms(given: str) -> None:
    """Bare ids, URIs and open.spotify.com links all give the bare 22-character id."""
    assert validate(raw(spotify=given)).spotify_id == SPOTIFY_ID


@pytest.mark.parametrize(
    "given",
    [
        SPOTIFY_ID[:21],
        SPOTIFY_ID[:21] + "!",
        SPOTIFY_ID[:21] + "-",
        SPOTIFY_ID + "A",
        f"spotify:album:{SPOTIFY_ID}",
        f"https://open.spotify.com/track/{SPOTIFY_ID[:21]}",
    ],
)
def test_spotify_id_rejected(given: str) -> None:
    """Wrong lengths, punctuation and non-track URIs are rejected."""
    assert bad_fields(raw(spotify=given)) == {"existing_spotify_id"}


def test_spotify_link_with_newline_rejected() -> None:
    """A link whose id part ends in a newline is rejected, not returned with the newline."""
    assert bad_fields(raw(spotify=f"spotify:track:{SPOTIFY_ID}\n#x")) == {"existing_spotify_id"}


def test_isrc_with_embedded_newline_rejected() -> None:
    """An ISRC whose compact form ends in a newline is rejected."""
    assert bad_fields(raw(isrc="GBTDG0900141\n-")) == {"existing_isrc"}


def test_mbid_lower_cased() -> None:
    """An upper-case MBID is accepted and lower-cased."""
    assert validate(raw(mbid=MBID.upper())).musicbrainz_id == MBID


@pytest.mark.parametrize(
    "given",
    [MBID[:-1], MBID.replace("-", ""), MBID[:-1] + "g", "{" + MBID + "}", MBID + "0"],
)
def test_mbid_rejected(given: str) -> None:
    """Malformed MBIDs are rejected."""
    assert bad_fields(raw(mbid=given)) == {"existing_musicbrainz_id"}


@pytest.mark.parametrize("empty", ["", "   "])
def test_empty_optional_strings_are_absent(empty: str) -> None:
    """Empty or blank optional identifiers are treated as not sent."""
    request = validate(raw(spotify=empty, isrc=empty, mbid=empty))
    assert (request.spotify_id, request.isrc, request.musicbrainz_id) == (None, None, None)


def test_derived_track_id_when_empty() -> None:
    """An empty track_id is replaced by the derived id of artist and title."""
    request = validate(raw(track_id=""))
    assert request.track_id == derive_track_id("Daft Punk", "One More Time")
    assert request.track_id.startswith("auto-")


def test_derived_track_id_stable_and_case_insensitive() -> None:
    """The derived id ignores case and whitespace differences and differs across tracks."""
    first = validate(raw(track_id="", artist="Daft Punk", title="One More Time")).track_id
    second = validate(raw(track_id="  ", artist="DAFT  punk ", title=" one more TIME")).track_id
    other = validate(raw(track_id="", artist="Daft Punk", title="Aerodynamic")).track_id
    assert first == second
    assert first != other


def test_derived_track_id_not_used_when_given() -> None:
    """A caller-supplied track_id is kept (stripped) rather than derived."""
    request = validate(raw(track_id="  set-42/track-7 "))
    assert request.track_id == "set-42/track-7"


def test_derive_does_not_confuse_artist_title_split() -> None:
    """Moving words between artist and title changes the derived id."""
    assert derive_track_id("a b", "c") != derive_track_id("a", "b c")


def test_whitespace_collapsed_in_names() -> None:
    """Runs of whitespace in artist and title collapse to one space, ends trimmed."""
    request = validate(raw(artist="  Daft \t Punk ", title="One\n More   Time "))
    assert (request.artist, request.title) == ("Daft Punk", "One More Time")


def test_force_refresh_carried_through() -> None:
    """force_refresh is copied to the validated request."""
    request = validate(
        RawRequest(track_id="t", artist_name="a", track_title="b", force_refresh=True)
    )
    assert request.force_refresh is True


@pytest.mark.parametrize(
    ("number", "lane"),
    list(
        enumerate([Priority.INTERACTIVE, Priority.INTERACTIVE, Priority.BULK, Priority.BACKGROUND])
    ),
)
def test_priority_maps_to_its_lane(number: int, lane: Priority) -> None:
    """Unset priority is interactive; bulk and background keep their lanes."""
    request = dataclasses.replace(raw(), priority=number)
    assert validate(request).priority is lane


def test_unknown_priority_is_a_bad_field() -> None:
    """A priority number the contract does not define (a newer client) is named."""
    assert bad_fields(dataclasses.replace(raw(), priority=9)) == {"priority"}


@pytest.mark.parametrize("bad", ["a\x00b", "t\x01", "t\x1f-1", "t\x7f", "t\ud800", "\udfff"])
def test_track_id_with_control_characters_or_surrogates_rejected(bad: str) -> None:
    """issue 12 item 2: NUL, control characters and lone surrogates in track_id are refused."""
    assert bad_fields(raw(track_id=bad)) == {"track_id"}


def test_names_with_lone_surrogates_rejected() -> None:
    """A lone surrogate in a name cannot be stored (not UTF-8): it is refused like NUL."""
    assert bad_fields(raw(artist="Daft\ud800Punk")) == {"artist_name"}


@pytest.mark.parametrize(
    "given",
    [
        "GBTDG١٢٣٤٥٦٧",  # Arabic-Indic digits
        "GBTDG０９００１４１",  # fullwidth digits
        "ßTDG0900141",  # upper() would make SSTDG0900141
        "ＧＢTDG0900141",  # fullwidth letters
        "GBTDG090014¹",  # superscript one is a \\d-free digit
        "ﬀTDG0900141",  # ligature whose upper() is "FF"
    ],
)
def test_isrc_check_is_ascii_only(given: str) -> None:
    """issue 12 item 6: non-ASCII digits and letters that case-fold to ASCII are refused."""
    assert bad_fields(raw(isrc=given)) == {"existing_isrc"}


@pytest.mark.parametrize(
    ("field", "given"),
    [
        ("existing_musicbrainz_id", "4a00ec9d-c635-463a-8cd4-eb61725f0c6٠"),
        ("existing_musicbrainz_id", "4A00EC9D-C635-463A-8CD4-EB61725F0C6\u212a"),
        ("existing_spotify_id", "4uLU6hMCjMI75M1A2tKUQ١"),
        ("existing_spotify_id", "spotify:track:4uLU6hMCjMI75M1A2tKUQＣ"),
    ],
)
def test_other_identifier_checks_are_ascii_only(field: str, given: str) -> None:
    """issue 12 item 6: MBIDs and Spotify ids accept ASCII only (no other digits, no Kelvin)."""
    key = {"existing_musicbrainz_id": "mbid", "existing_spotify_id": "spotify"}[field]
    assert bad_fields(raw(**{key: given})) == {field}
