"""The printed report: one row per workload, then ratios and targets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Fmt = Callable[[Any], str]


def _num(spec: str) -> Fmt:
    return lambda v: "-" if v is None else format(v, spec)


def _pct(v: Any) -> str:
    return "-" if v is None else f"{100 * v:.0f}"


#: (header, key, width, formatter) of each column.
COLUMNS: tuple[tuple[str, str, int, Fmt], ...] = (
    ("workload", "name", 13, str),
    ("reqs", "requests", 6, _num("d")),
    ("req/s", "rps", 8, _num(".1f")),
    ("p50 ms", "p50_ms", 8, _num(".1f")),
    ("p99 ms", "p99_ms", 8, _num(".1f")),
    ("up/req", "upstream_calls_per_request", 7, _num(".2f")),
    ("dups", "duplicates", 6, _num("d")),
    ("hit%", "cache_hit_rate", 5, _pct),
    ("MB/trk", "mb_calls_per_distinct_track", 7, _num(".2f")),
    ("MBmax1s", "mb_max_in_1s", 7, _num("d")),
    ("503", "mb_503", 5, _num("d")),
    ("RSS MB", "peak_rss_mb", 7, _num(".1f")),
    ("cliCPU%", "client_cpu_pct", 7, _num(".0f")),
)


def _row(cells: list[str]) -> str:
    first, *rest = cells
    widths = [w for _, _, w, _ in COLUMNS]
    return first.ljust(widths[0]) + "".join(
        " " + c.rjust(w) for c, w in zip(rest, widths[1:], strict=True)
    )


def render(report: dict[str, Any]) -> str:
    """The report as text."""
    header = _row([h for h, _, _, _ in COLUMNS])
    lines = [header, "-" * len(header)]
    for name, figures in report["workloads"].items():
        row = {**figures, "name": name}
        lines.append(_row([fmt(row.get(key)) for _, key, _, fmt in COLUMNS]))
    lines += ["", "ratios (same run):"]
    lines += [f"  {k:<42} {v:>9.3f}" for k, v in report["ratios"].items()]
    lines += ["", "quota (MusicBrainz calls needed / rate, against the time taken):"]
    lines += [f"  {k:<42} {v:>9.3f}" for k, v in report["quota"].items()]
    backlog = report["workloads"]["backlog"]
    lines.append(
        f"  backlog: {backlog['backlog_tracks']} tracks drained={backlog['drained']} in "
        f"{backlog['drain_s']} s; extra attempts {backlog['extra_attempts']}, parked "
        f"{backlog['parked']}, dead letters left {backlog['dead_letters_left']}"
    )
    lines += ["", "targets:"]
    for name, t in report["targets"].items():
        verdict = "MET" if t["met"] else "MISSED"
        lines.append(f"  {name:<26} {t['measured']!s:>10}  target {t['target']:<8} {verdict}")
    return "\n".join(lines)
