"""The benchmark's knobs: one frozen dataclass, filled from the command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

#: Added latency per sandbox upstream, in ms (roughly what the real services answer in).
DEFAULT_LATENCY_MS: dict[str, float] = {
    "spotify": 80.0,
    "musicbrainz": 250.0,
    "lastfm": 120.0,
    "deezer": 60.0,
    "getsongbpm": 100.0,
}
RESULTS_DIR = Path(__file__).parent / "results"


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """Everything one run needs; the defaults fit in ~3 minutes on a 2-core machine."""

    latency_ms: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LATENCY_MS))
    mb_rate_per_s: float = 20.0
    """MusicBrainz's 1 request/s, scaled; the sandbox enforces it and the server obeys it."""
    other_rate_per_s: float = 50.0
    """Server-side pacing of Last.fm, Deezer and GetSongBPM (scaled like MusicBrainz)."""
    echo_s: float = 8.0
    hot_s: float = 10.0
    hot_tracks: int = 100
    hot_concurrency: int = 64
    concurrency: int = 32
    batch_requests: int = 2000
    zipf_requests: int = 4000
    zipf_distinct: int = 800
    zipf_exponent: float = 1.0
    naive_s: float = 15.0
    backlog_tracks: int = 300
    """Tracks saved unenriched that the workers drain in the backlog workload."""
    trickle_per_s: float = 2.0
    """New interactive tracks per second during (and before) the drain."""
    trickle_tracks: int = 50
    """Interactive tracks of each trickle (idle baseline, during the drain)."""
    seed: int = 9
    profile: bool = True
    diagnose: bool = True
    """Also measure (and profile) the hot workload with ``ENRICHMENT_RECORD_RESULTS=false``."""
    out_dir: Path = RESULTS_DIR

    def scaled(self, factor: float) -> BenchConfig:
        """A copy with every duration and size multiplied by ``factor`` (smoke tests)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("echo_s", "hot_s", "naive_s"):
            values[name] = max(0.5, values[name] * factor)
        sizes = ("hot_tracks", "batch_requests", "zipf_requests", "zipf_distinct")
        for name in (*sizes, "backlog_tracks", "trickle_tracks"):
            values[name] = max(4, int(values[name] * factor))
        return BenchConfig(**values)


def parse_args(argv: Sequence[str] | None = None) -> BenchConfig:
    """The command line (every field of :class:`BenchConfig` has an option)."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    default = BenchConfig()
    for name, ms in DEFAULT_LATENCY_MS.items():
        parser.add_argument(f"--latency-{name}-ms", type=float, default=ms, metavar="MS")
    for f in fields(BenchConfig):
        if f.name in ("latency_ms", "profile", "diagnose", "out_dir"):
            continue
        value = getattr(default, f.name)
        option = "--" + f.name.replace("_", "-")
        parser.add_argument(option, type=type(value), default=value, help=f"(default {value})")
    parser.add_argument("--no-profile", action="store_true", help="skip py-spy")
    parser.add_argument(
        "--no-diagnose", action="store_true", help="skip the hot run without result recording"
    )
    parser.add_argument("--out-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply sizes/durations")
    args = parser.parse_args(argv)
    values = {
        f.name: getattr(args, f.name)
        for f in fields(BenchConfig)
        if f.name not in ("latency_ms", "profile", "diagnose")
    }
    latency = {name: getattr(args, f"latency_{name}_ms") for name in DEFAULT_LATENCY_MS}
    config = BenchConfig(
        **values, latency_ms=latency, profile=not args.no_profile, diagnose=not args.no_diagnose
    )
    return config.scaled(args.scale) if args.scale != 1.0 else config
