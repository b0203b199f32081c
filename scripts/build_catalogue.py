"""Generate ``enrichment_sandbox/catalogue.json``, the sandbox's track catalogue.

The tracks are hand-written in ``scripts/catalogue_tracks.csv`` (real, well-known DJ tracks
with plausible album, label, date, tempo, key, duration, Last.fm tags and listener counts);
every identifier is derived from them deterministically with ``enrichment_sandbox.ids``, the
derivation the imitations use for what the catalogue does not record, so running the script
again rewrites the JSON byte for byte::

    .venv/bin/python scripts/build_catalogue.py [--out PATH]

Derived per record: Spotify track/artist/album ids (22 base62 chars, stable per artist and
per album), ISRC (label's country + registrant, year of release, 5 digits), MusicBrainz
MBIDs (uuid5, stable per artist and per release), catalogue number, audio features
(genre profile plus a little hash jitter), junk Last.fm tags, MusicBrainz tags, and which
records an upstream is missing (a fixed number, picked by hash rank).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from enrichment_sandbox.ids import base62_id, digest, number, stable_uuid

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "enrichment_sandbox" / "catalogue.json"

NOTES = {"C": 0, "C#": 1, "D": 2, "D#": 3, "E": 4, "F": 5, "F#": 6}
NOTES |= {"G": 7, "G#": 8, "A": 9, "A#": 10, "B": 11}

MISSING_SPOTIFY = 10
MISSING_MUSICBRAINZ = 10
MISSING_LASTFM = 10
NO_AUDIO_FEATURES = 15
STALE_LASTFM_MBIDS = 6


class Row(NamedTuple):
    """One hand-written track: the facts a person would look up."""

    artist: str
    title: str
    album: str
    label: str
    date: str
    bpm: float
    key: str
    """``"Am"`` = A minor, ``"F#"`` = F sharp major, ``"-"`` = no key detected."""
    duration: str
    """``"m:ss"`` or ``"m:ss.mmm"``."""
    tags: str
    """Last.fm genre tags, best first, comma-separated."""
    listeners_k: int
    """Last.fm listeners, in thousands."""


#: The hand-written tracks: one CSV row each (``#`` lines are section comments).
TRACKS_CSV = Path(__file__).resolve().with_name("catalogue_tracks.csv")


def load_tracks(path: Path = TRACKS_CSV) -> list[Row]:
    """The rows of the tracks file, typed (bpm keeps its written form: 128 or 126.5)."""
    lines = [line for line in path.read_text("utf-8").splitlines() if not line.startswith("#")]
    rows = []
    for r in csv.DictReader(lines):
        bpm = float(r["bpm"]) if "." in r["bpm"] else int(r["bpm"])
        rows.append(
            Row(r["artist"], r["title"], r["album"], r["label"], r["date"], bpm, r["key"],
                r["duration"], r["tags"], int(r["listeners_k"]))
        )  # fmt: skip
    return rows


# Band names that contain a credit separator and must not be split.
BAND_NAMES = (
    "Above & Beyond",
    "Aly & Fila",
    "Camo & Krooked",
    "Chase & Status",
    "Dimitri Vegas & Like Mike",
    "Jam & Spoon",
    "Kraak & Smaak",
)
CREDIT_SEPARATORS = re.compile(r" feat\. | & | x | vs\. |, ")

# Remixes by a named remixer: who made them (for the Spotify artist credit some labels add).
REMIXERS = {
    "Opus (Four Tet Remix)": "Four Tet",
    "Strobe (Michael Woods Remix)": "Michael Woods",
    "Innerbloom (Lane 8 Remix)": "Lane 8",
    "Cola (Robin Schulz Remix)": "Robin Schulz",
    "Show Me Love (Stonebridge Remix)": "StoneBridge",
    "Levels (Skrillex Remix)": "Skrillex",
    "You & Me (Flume Remix)": "Flume",
    "Sing It Back (Boris Dlugosch Mix)": "Boris Dlugosch",
    "Hyperballad (Brodsky Mix)": "Brodsky",
    "Silence (Tiësto's In Search of Sunrise Remix)": "Tiësto",
    "Road (Ben Böhmer Remix)": "Ben Böhmer",
    "Rabbit Hole (Mind Against Remix)": "Mind Against",
    "Look Right Through (MK Vocal Edit)": "MK",
    "Flowers (Sunship Edit)": "Sunship",
    "The Age of Love (Jam & Spoon Watch Out for Stella Mix)": "Jam & Spoon",
}
# A trailing "(...)" that names a version of the title, not part of it ("(She's Homeless)").
VERSION_TAG = re.compile(
    r"\s*\(([^()]*\b(?:Remix|Mix|Edit|Dub|VIP|Instrumental|Acapella|Version|Rework))\)$"
)

# Releases that re-use another record's recording (and so its ISRC): compilation -> album.
SAME_RECORDING = {("FISHER", "Losing It", "Annual 2019"): "Losing It"}

# Real identifiers, where we know them; everything else is fabricated.
REAL_TRACK_IDS = {
    ("deadmau5", "Strobe", "For Lack of a Better Name"): ("41Xji81wFy3cM7ggbGczQW", "GBTDG0900141"),
}
REAL_SPOTIFY_ARTIST_IDS = {"deadmau5": "2CIMQHirSU0MQqyYHq0eOx"}
REAL_ARTIST_MBIDS = {"deadmau5": "4a00ec9d-c635-463a-8cd4-eb61725f0c60"}

# Reference records every upstream has in full (never picked as missing or stale).
KEEP_COMPLETE = {
    ("deadmau5", "Strobe"),
    ("Eric Prydz", "Opus"),
    ("Eric Prydz", "Opus (Four Tet Remix)"),
    ("Kings of Tomorrow", "Finally"),
    ("CeCe Peniston", "Finally"),
    ("FISHER", "Losing It"),
}

# label -> (ISRC country + registrant, catalogue number format)
LABELS: dict[str, tuple[str, str]] = {
    "10 Records": ("GBAAA", "TEN {:03d}"),
    "16 Inch Records": ("FIUM7", "16INCH{:03d}"),
    "A&M": ("USAM1", "AM {:04d}"),
    "Afterlife": ("ITA0A", "AL{:03d}"),
    "Anjunabeats": ("GBEWA", "ANJ{:03d}"),
    "Anjunadeep": ("GBKQU", "ANJDEE{:03d}"),
    "Apollo": ("BEA0P", "AMB {:04d}"),
    "Aquarius": ("FRZ03", "AQ-{:03d}"),
    "Area10": ("GBUM7", "AREA{:03d}"),
    "Armada Music": ("NLF71", "ARMA{:03d}"),
    "Armind": ("NLF72", "ARMD{:04d}"),
    "Asylum": ("GBAHS", "ASY{:03d}"),
    "Atlantic": ("GBAHT", "ATL{:04d}"),
    "BPitch Control": ("DEBP1", "BPC{:03d}"),
    "Big Beat Records": ("USAT2", "BB{:04d}"),
    "Black Book Records": ("USQX9", "BBR{:03d}"),
    "Black Hole Recordings": ("NLB63", "BH {:04d}"),
    "Boysnoize Records": ("DEBN7", "BNR{:03d}"),
    "Breakbeat Kaos": ("GBBKK", "BBK{:03d}"),
    "Bush Records": ("BEBU1", "BUSH {:03d}"),
    "Capitol": ("USCA2", "CAP-{:04d}"),
    "Casablanca": ("USPR3", "NBLP {:04d}"),
    "Catch & Release": ("USQY5", "CR{:03d}"),
    "Champion": ("GBCHA", "CHAMP {:03d}"),
    "Cheeky Records": ("GBCRK", "CHEKCD{:03d}"),
    "Circa": ("GBAAA", "WBRCD{:03d}"),
    "Circus Company": ("FRCC1", "CCS{:03d}"),
    "City Slang": ("DECS1", "SLANG{:07d}"),
    "Columbia": ("USSM1", "COL {:06d}"),
    "Cotillion": ("USAT1", "COT {:04d}"),
    "DFA": ("USDFA", "DFA{:04d}"),
    "DJ International": ("USDJI", "DJ-{:03d}"),
    "Data Records": ("GBCEN", "DATA{:03d}"),
    "Dance Pool": ("DEA81", "DAN {:06d}"),
    "Deconstruction": ("GBARL", "74321 {:05d}"),
    "Def Jam": ("USUM7", "DJ{:05d}"),
    "Defected": ("GBDHC", "DFTD{:03d}"),
    "Diki Records": ("BEDK1", "DIKI {:03d}"),
    "Dirtybird": ("USDB1", "DB{:03d}"),
    "Disques Dreyfus": ("FRZ12", "FDM {:05d}"),
    "Disques Solid": ("FRSO1", "SOLID {:03d}"),
    "Diynamic": ("DEDY1", "DIYNAMIC{:03d}"),
    "Dog Triumph": ("NOROY", "DOG{:03d}"),
    "Domino": ("GBCEL", "WIG{:03d}"),
    "Drumcode": ("SEWDC", "DC{:03d}"),
    "EMI": ("GBAYE", "EMI{:05d}"),
    "Echo": ("GBBXS", "ECSCD{:03d}"),
    "Ed Banger Records": ("FRU70", "ED{:03d}"),
    "Enormous Tunes": ("CHET1", "ET{:03d}"),
    "Experts Only": ("USEXO", "EXO{:03d}"),
    "Eye Q Records": ("DEEQ1", "EYEQ {:03d}"),
    "F Communications": ("FRF0C", "F{:03d}"),
    "FFRR": ("GBAAP", "FX {:03d}"),
    "Fantasy": ("USFA1", "F-{:04d}"),
    "Feedelity": ("NOFD1", "FEEDELITY{:03d}"),
    "Fool's Gold": ("USFG1", "FGR{:03d}"),
    "Garuda": ("GBGRD", "GARUDA{:03d}"),
    "Good Looking Records": ("GBGLR", "GLR{:03d}"),
    "Gudu Records": ("DEGU1", "GUDU{:03d}"),
    "Hard Hands": ("GBHH1", "HAND{:03d}"),
    "Herzblut": ("DEHZ1", "HERZ{:03d}"),
    "Hospital Records": ("GBHOS", "NHS{:03d}"),
    "Hot Creations": ("GBHCR", "HOTC{:03d}"),
    "Hotflush": ("GBHFR", "HFT{:03d}"),
    "Hyperdub": ("GBHYP", "HDBCD{:03d}"),
    "Instinct Records": ("USIN1", "EX-{:03d}"),
    "Interscope": ("USUM7", "INT{:05d}"),
    "Island": ("GBUM7", "ISL{:04d}"),
    "Jalapeno Records": ("GBJAL", "JAL{:03d}"),
    "Junior Boy's Own": ("GBJBO", "JBO{:03d}"),
    "KNTXT": ("BEKNT", "KNTXT{:03d}"),
    "Keinemusik": ("DEKM1", "KM{:03d}"),
    "Kompakt": ("DEKF3", "KOMPAKT {:03d}"),
    "Kontor Records": ("DEA62", "KONTOR{:03d}"),
    "Lobster Theremin": ("GBLT1", "LT{:03d}"),
    "Lost & Found": ("GBLAF", "LF{:03d}"),
    "MAW Records": ("USMAW", "MAW{:03d}"),
    "MER Musikk": ("NOMER", "MER{:03d}"),
    "MTA Records": ("GBMTA", "MTA{:03d}"),
    "Madhouse Records": ("USMH1", "MHR{:03d}"),
    "Malligator": ("FRMA1", "773 {:03d}"),
    "Mercury": ("GBUM7", "MER{:05d}"),
    "Milk & 2 Sugars": ("GBM2S", "MAS{:03d}"),
    "Mind of a Genius": ("USMOG", "MOAG{:03d}"),
    "Ministry of Sound": ("GBCEN", "MOSCD{:03d}"),
    "Monkeytown": ("DEMT1", "MTR{:03d}"),
    "Mouseville": ("SEMV1", "MOUSE{:03d}"),
    "Multiply Records": ("GBMUL", "CDMULTY{:03d}"),
    "Musical Freedom": ("NLMF1", "MF{:03d}"),
    "Nettwerk": ("CANET", "NTW{:05d}"),
    "Ninja Tune": ("GBCFB", "ZEN{:03d}"),
    "Olsen Records": ("NOOLS", "OLS{:03d}"),
    "One Little Indian": ("GBOLI", "TPLP{:03d}"),
    "Ostgut Ton": ("DEOG1", "OSTGUTCD{:02d}"),
    "PMR Records": ("GBUM7", "PMR{:03d}"),
    "Pampa Records": ("DEPA1", "PAMPA{:03d}"),
    "Parkwood Entertainment": ("USSM1", "PWE{:05d}"),
    "Peacefrog": ("GBPF1", "PF{:03d}"),
    "Pepper": ("GBJVE", "PEPPER {:04d}"),
    "Permanent Vacation": ("DEPV1", "PERMVAC{:03d}"),
    "Playhouse": ("DEPH1", "PLAYHOUSE{:03d}"),
    "Plus 8 Records": ("CAP81", "PLUS8{:03d}"),
    "Pluto": ("GBPLU", "PLUTO{:03d}"),
    "Polydor": ("GBUM7", "POL{:05d}"),
    "Positiva": ("GBAYE", "CDTIV{:03d}"),
    "Pryda": ("SEPRY", "PRY{:03d}"),
    "Purpose Maker": ("USPM1", "PM-{:03d}"),
    "RAM Records": ("GBRAM", "RAMM{:03d}"),
    "RCA": ("USRC1", "RCA{:05d}"),
    "React": ("GBRCT", "REACT{:03d}"),
    "Record Makers": ("FRRM1", "REC{:03d}"),
    "Relentless Records": ("GBRLS", "RELENT{:03d}"),
    "Relief Records": ("USRR1", "RR{:03d}"),
    "Repopulate Mars": ("USRPM", "RPM{:03d}"),
    "Republic": ("USUG1", "REP{:05d}"),
    "Revealed Recordings": ("NLRV1", "REVEALED{:03d}"),
    "Rham!": ("GBRHM", "RHAM{:03d}"),
    "Rhythm King": ("GBRK1", "LEFT {:03d}"),
    "Rose Avenue": ("USRA1", "RAR{:03d}"),
    "Roulé": ("FRRO1", "ROULE {:03d}"),
    "Second State": ("NLSS1", "SNDST{:03d}"),
    "Shogun Audio": ("GBSHO", "SHA{:03d}"),
    "Signature Recordings": ("GBSIG", "SIGN{:03d}"),
    "Sino": ("NLSI1", "SINO{:03d}"),
    "Skint": ("GBSKT", "BRASSIC{:03d}"),
    "Smalltown Supersound": ("NOSTS", "STS{:03d}"),
    "Smash the House": ("BESTH", "STH{:03d}"),
    "Sonar Kollektiv": ("DESK1", "SK{:03d}"),
    "Sound of Barclay": ("FRUM7", "BAR {:06d}"),
    "Sound of Underground": ("GBSOU", "SOUR{:03d}"),
    "Spinnin' Records": ("NLZ54", "SP{:04d}"),
    "Strictly Rhythm": ("USSR1", "SR{:05d}"),
    "Sweat It Out": ("AUSIO", "SWEATDS{:03d}"),
    "Talkin' Loud": ("GBTLD", "TLCD{:03d}"),
    "Tempa": ("GBTMP", "TEMPA{:03d}"),
    "Text Records": ("GBTXT", "TEXT{:03d}"),
    "This Never Happened": ("USTNH", "TNH{:03d}"),
    "Touch and Go": ("USTG1", "TG{:03d}"),
    "Trax Records": ("USTX1", "TX{:03d}"),
    "Transmat": ("USTM1", "MS-{:03d}"),
    "Tsunami": ("NLTS1", "TSU{:03d}"),
    "Tummy Touch": ("GBTT1", "TUCH{:03d}"),
    "Ultra": ("USUS1", "UL {:04d}"),
    "Underground Resistance": ("USUR1", "UR-{:03d}"),
    "Universal": ("SEUM7", "UNI{:05d}"),
    "Vandit": ("DEVA1", "VAN{:03d}"),
    "Virgin": ("GBAAA", "V {:04d}"),
    "Virgin EMI": ("GBUM7", "VEMI{:05d}"),
    "Vision Recordings": ("NLVIS", "VSN{:03d}"),
    "Wall of Sound": ("GBWOS", "WALLCD{:03d}"),
    "Warner Music UK": ("GBAHS", "WMUK{:04d}"),
    "Warp": ("GBCFZ", "WARP{:03d}"),
    "XL Recordings": ("GBBKS", "XLS{:03d}"),
    "Xtravaganza": ("GBXTR", "XTRAV{:03d}"),
    "Yellow Productions": ("FRYP1", "YP{:03d}"),
    "Young Turks": ("GBYT1", "YT{:03d}"),
    "ZTT": ("GBZTT", "ZTT {:03d}"),
    "i! Records": ("USIR1", "I!{:03d}"),
    "mau5trap": ("GBTDG", "MAU5-{:03d}"),
}

# Primary Last.fm tag -> typical Spotify (energy, danceability, valence).
GENRE_PROFILES: dict[str, tuple[float, float, float]] = {
    "acid house": (0.78, 0.80, 0.55),
    "ambient": (0.30, 0.45, 0.20),
    "big beat": (0.90, 0.64, 0.50),
    "big room": (0.93, 0.60, 0.35),
    "chicago house": (0.72, 0.82, 0.60),
    "chillout": (0.42, 0.60, 0.35),
    "dance-punk": (0.82, 0.72, 0.55),
    "deep house": (0.66, 0.80, 0.42),
    "detroit techno": (0.80, 0.74, 0.45),
    "disco": (0.78, 0.78, 0.85),
    "dream trance": (0.75, 0.55, 0.30),
    "drum and bass": (0.93, 0.52, 0.35),
    "dubstep": (0.88, 0.55, 0.28),
    "electro": (0.88, 0.70, 0.45),
    "electro house": (0.90, 0.66, 0.40),
    "electronic": (0.68, 0.64, 0.42),
    "eurodance": (0.90, 0.68, 0.55),
    "french house": (0.80, 0.78, 0.70),
    "future bass": (0.70, 0.60, 0.45),
    "hip-hop": (0.80, 0.66, 0.45),
    "house": (0.80, 0.78, 0.58),
    "idm": (0.55, 0.55, 0.30),
    "jungle": (0.92, 0.50, 0.40),
    "lo-fi house": (0.62, 0.78, 0.45),
    "melodic house": (0.66, 0.68, 0.28),
    "melodic techno": (0.74, 0.66, 0.18),
    "minimal": (0.66, 0.80, 0.30),
    "minimal techno": (0.68, 0.80, 0.22),
    "new wave": (0.70, 0.70, 0.75),
    "nu disco": (0.76, 0.80, 0.72),
    "progressive house": (0.74, 0.60, 0.28),
    "rave": (0.92, 0.62, 0.45),
    "tech house": (0.86, 0.84, 0.45),
    "techno": (0.86, 0.70, 0.25),
    "trance": (0.86, 0.55, 0.30),
    "trip-hop": (0.48, 0.62, 0.30),
    "tropical house": (0.62, 0.72, 0.55),
    "uk bass": (0.85, 0.70, 0.35),
    "uk garage": (0.80, 0.78, 0.55),
}


def split_credit(credit: str) -> tuple[str, ...]:
    """The individual artists of a display credit, in credit order."""
    protected = credit
    for i, band in enumerate(BAND_NAMES):
        protected = protected.replace(band, f"\x00{i}\x00")
    names = CREDIT_SEPARATORS.split(protected)
    for i, band in enumerate(BAND_NAMES):
        names = [name.replace(f"\x00{i}\x00", band) for name in names]
    return tuple(names)


def parse_key(key: str) -> tuple[int, int]:
    """``"F#m"`` -> (pitch class, mode); ``"-"`` -> (-1, 1)."""
    if key == "-":
        return -1, 1
    minor = key.endswith("m")
    return NOTES[key.removesuffix("m")], 0 if minor else 1


def parse_duration(row: Row) -> int:
    """``"m:ss[.mmm]"`` -> milliseconds; missing milliseconds come from the hash."""
    minutes, _, seconds = row.duration.partition(":")
    whole, _, millis = seconds.partition(".")
    extra = int(millis) if millis else number("ms", row.artist, row.title, row.album) % 1000
    return (int(minutes) * 60 + int(whole)) * 1000 + extra


def jitter(spread: float, *parts: str) -> float:
    """A stable offset in [-spread, spread]."""
    return (number(*parts) % 10001 / 10000 * 2 - 1) * spread


def audio_features(row: Row, mode: int) -> tuple[float, float, float]:
    """(energy, danceability, valence) from the primary genre, mode and a hash jitter."""
    primary = row.tags.split(",")[0]
    energy, dance, valence = GENRE_PROFILES.get(primary, GENRE_PROFILES["electronic"])
    valence += 0.08 if mode == 1 else -0.05
    key = (row.artist, row.title, row.album)
    values = (
        energy + jitter(0.08, "energy", *key),
        dance + jitter(0.08, "dance", *key),
        valence + jitter(0.10, "valence", *key),
    )
    clamped = [round(min(0.99, max(0.02, v)), 3) for v in values]
    return clamped[0], clamped[1], clamped[2]


def lastfm_tags(row: Row, artists: tuple[str, ...]) -> list[tuple[str, int]]:
    """Weighted Last.fm tags, best first, with the odd junk tag at a low weight."""
    key = (row.artist, row.title, row.album)
    tags: list[tuple[str, int]] = []
    weight = 100
    for i, name in enumerate(row.tags.split(",")):
        if i:
            weight = max(1, weight * (35 + number("tag", name, *key) % 46) // 100)
        tags.append((name, weight))
    junk = number("junk", *key) % 10
    if junk < 2:
        tags.append((artists[0].lower(), 1 + number("junk-w", *key) % 9))
    elif junk < 4:
        tags.append(("seen live", 1 + number("junk-w", *key) % 6))
    elif junk == 4:
        tags.append(("favorites", 1 + number("junk-w", *key) % 4))
    return tags


def musicbrainz_tags(row: Row) -> list[tuple[str, int]]:
    """One to three MusicBrainz folksonomy tags with vote counts."""
    key = (row.artist, row.title, row.album)
    names = [t for t in row.tags.split(",") if not t[:2].isdigit()][: 1 + number("mbn", *key) % 3]
    count = 2 + number("mbc", *key) % 9
    tags = []
    for name in names:
        tags.append((name, count))
        count = max(1, count - 1 - number("mbd", name, *key) % 3)
    return tags


def rank(rows: list[Row], salt: str, exclude: set[int]) -> list[int]:
    """Indexes of ``rows`` not in ``exclude``, in a stable hash order."""
    order = sorted(range(len(rows)), key=lambda i: digest(salt, *rows[i][:3]))
    return [i for i in order if i not in exclude]


class Ids:
    """Hands out ids that must be unique, bumping the hash seed on collision."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def take(self, make: Callable[..., str], *parts: str) -> str:
        """``make(*parts, str(attempt))`` for the first attempt not seen before."""
        attempt = 0
        while True:
            value = make(*parts, str(attempt))
            if value not in self.seen:
                self.seen.add(value)
                return value
            attempt += 1


def isrc_code(label: str, date: str, *parts: str) -> str:
    """The label's country + registrant, the release year, and five hashed digits."""
    return f"{LABELS[label][0]}{date[2:4]}{number('isrc', *parts) % 100000:05d}"


def catno(label: str, album: str, taken: set[str]) -> str:
    """A catalogue number in the label's style, unique within the catalogue."""
    fmt = LABELS[label][1]
    attempt = 0
    while True:
        value = fmt.format(1 + number("catno", label, album, str(attempt)) % 400)
        if value not in taken:
            taken.add(value)
            return value
        attempt += 1


def album_key(row: Row) -> tuple[str, str, str]:
    """What identifies a release: lead artist, title and label (titles repeat across artists)."""
    return split_credit(row.artist)[0], row.album, row.label


def check_rows(rows: list[Row]) -> None:
    """Fail loudly on inconsistent hand-written data."""
    albums: dict[tuple[str, str, str], str] = {}
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        key = (row.artist, row.title, row.album)
        if key in seen:
            raise SystemExit(f"duplicate row {key}")
        seen.add(key)
        if row.label not in LABELS:
            raise SystemExit(f"unknown label {row.label!r}")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", row.date):
            raise SystemExit(f"bad date {row.date!r}")
        if albums.setdefault(album_key(row), row.date) != row.date:
            raise SystemExit(f"album {row.album!r} has two release dates")
        parse_key(row.key)


def build(tracks: list[Row] | None = None) -> list[dict[str, Any]]:
    """Every catalogue record (of ``tracks``, by default the tracks file), as JSON-ready
    dicts in table order."""
    tracks = load_tracks() if tracks is None else tracks
    check_rows(tracks)
    reserved_ids = {sid for sid, _ in REAL_TRACK_IDS.values()}
    reserved_isrcs = {isrc for _, isrc in REAL_TRACK_IDS.values()}
    track_ids, isrcs, catnos = Ids(), Ids(), set[str]()
    track_ids.seen |= reserved_ids
    isrcs.seen |= reserved_isrcs
    album_catnos: dict[tuple[str, str, str], str] = {}
    by_key: dict[tuple[str, str, str], dict[str, Any]] = {}
    records: list[dict[str, Any]] = []
    for row in tracks:
        key = (row.artist, row.title, row.album)
        album = album_key(row)
        artists = split_credit(row.artist)
        pitch_class, mode = parse_key(row.key)
        energy, dance, valence = audio_features(row, mode)
        real = REAL_TRACK_IDS.get(key)
        if real:
            spotify_id, isrc = real
        else:
            spotify_id = track_ids.take(base62_id, "spotify:track", *key)
            isrc = isrcs.take(isrc_code, row.label, row.date, *key)
        if album not in album_catnos:
            album_catnos[album] = catno(row.label, row.album, catnos)
        listeners = row.listeners_k * 1000 + number("listeners", *key) % 1000
        version = VERSION_TAG.search(row.title)
        records.append(
            {
                "version": version.group(1) if version else "",
                "remixer": REMIXERS.get(row.title, ""),
                "artist": row.artist,
                "artists": list(artists),
                "title": row.title,
                "spotify_id": spotify_id,
                "spotify_artist_ids": [
                    REAL_SPOTIFY_ARTIST_IDS.get(a) or base62_id("spotify:artist", a)
                    for a in artists
                ],
                "spotify_album_id": base62_id("spotify:album", *album),
                "isrc": isrc,
                "mbid": stable_uuid("recording", *key),
                "artist_mbids": [
                    REAL_ARTIST_MBIDS.get(a) or stable_uuid("artist", a) for a in artists
                ],
                "release_mbid": stable_uuid("release", *album),
                "release_group_mbid": stable_uuid("release-group", *album),
                "album": row.album,
                "label": row.label,
                "catalog_number": album_catnos[album],
                "release_date": row.date,
                "duration_ms": parse_duration(row),
                "tempo": 128.0 if real else round(row.bpm + jitter(0.06, "tempo", *key), 3),
                "pitch_class": pitch_class,
                "mode": mode,
                "energy": energy,
                "danceability": dance,
                "valence": valence,
                "tags": [list(t) for t in lastfm_tags(row, artists)],
                "listeners": listeners,
                "playcount": listeners * (3 + number("plays", *key) % 10)
                + number("plays+", *key) % 997,
                "lastfm_mbid": "",
                "on_spotify": True,
                "on_musicbrainz": True,
                "on_lastfm": True,
                "audio_features": True,
                "mb_tags": [],
            }
        )
        by_key[key] = records[-1]
    for (artist, title, compilation), original in SAME_RECORDING.items():
        by_key[(artist, title, compilation)]["isrc"] = by_key[(artist, title, original)]["isrc"]
    assign_flags(tracks, records)
    return records


def assign_flags(tracks: list[Row], records: list[dict[str, Any]]) -> None:
    """Pick, by hash rank, the records an upstream lacks and the Last.fm/MB extras."""
    protected = {i for i, r in enumerate(records) if (r["artist"], r["title"]) in KEEP_COMPLETE}
    taken = set(protected)
    for flag, count in (
        ("on_spotify", MISSING_SPOTIFY),
        ("on_musicbrainz", MISSING_MUSICBRAINZ),
        ("on_lastfm", MISSING_LASTFM),
    ):
        for i in rank(tracks, flag, taken)[:count]:
            records[i][flag] = False
            taken.add(i)
    no_analysis = {i for i, r in enumerate(records) if not r["on_spotify"]} | protected
    for i in rank(tracks, "audio_features", no_analysis)[:NO_AUDIO_FEATURES]:
        records[i]["audio_features"] = False
    without_lastfm = {i for i, r in enumerate(records) if not r["on_lastfm"]} | protected
    order = rank(tracks, "lastfm_mbid", without_lastfm)
    for i in order[:STALE_LASTFM_MBIDS]:
        records[i]["lastfm_mbid"] = stable_uuid("stale-lastfm", records[i]["mbid"])
    for i in [*sorted(protected), *order[STALE_LASTFM_MBIDS:]][: len(records) // 2]:
        records[i]["lastfm_mbid"] = records[i]["mbid"]
    for i in rank(tracks, "mb_tags", set())[: len(records) // 2]:
        records[i]["mb_tags"] = [list(t) for t in musicbrainz_tags(tracks[i])]


def render(records: list[dict[str, Any]]) -> str:
    """The records as the exact text of catalogue.json."""
    return json.dumps({"tracks": records}, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the catalogue (to ``--out`` or the packaged path)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON")
    args = parser.parse_args(argv)
    records = build()
    args.out.write_text(render(records), encoding="utf-8")
    print(f"wrote {len(records)} tracks to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
