"""py-spy on the server process, and a summary of where its time went.

``py-spy record --format raw --threads`` writes collapsed stacks (one line per distinct
stack: ``thread;frame;...;frame count``; idle samples, e.g. waiting in epoll, are left
out). The summary gives the top functions by own ("self") samples and by inclusive
samples, and inclusive shares for a few subsystems, all as % of active samples.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections import Counter
from pathlib import Path

PY_SPY = Path(sys.executable).parent / "py-spy"
_LINE = re.compile(r":\d+\)$")
#: Subsystem -> path fragments of its frames (first match wins per frame).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "result recorder (sqlalchemy/aiosqlite)": (
        "sqlalchemy/",
        "aiosqlite/",
        "recorder.py",
        "store/",
    ),
    "matching (rapidfuzz)": ("matching.py", "rapidfuzz", "describe.py"),
    "cache decode (pydantic)": ("pydantic", "cache.py", "caller.py:_cached"),
    "tracing (opentelemetry)": ("opentelemetry", "trace/", "telemetry/tracing.py", "_decorator.py"),
    "metrics (prometheus_client)": ("prometheus_client", "telemetry/metrics.py"),
    "logging (structlog)": ("structlog", "logging/"),
    "protobuf convert": ("convert.py", "protobuf/"),
    "merge": ("merge.py",),
    "grpc poller thread": ("_poll_wrapper",),
    "asyncio tasks": ("asyncio/tasks.py",),
}


async def record(pid: int, duration_s: float, output: Path) -> bool:
    """Profile ``pid`` for ``duration_s``; False (and a note on stderr) if py-spy failed."""
    if not PY_SPY.exists():
        print(f"py-spy not found at {PY_SPY}: no profile", file=sys.stderr)
        return False
    process = await asyncio.create_subprocess_exec(
        str(PY_SPY), "record", "--pid", str(pid), "--duration", f"{max(1, round(duration_s))}",
        "--rate", "100", "--threads", "--nonblocking", "--format", "raw", "-o", str(output),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    if process.returncode != 0 or not await asyncio.to_thread(output.exists):
        print(f"py-spy failed: {err.decode(errors='replace')[-500:]}", file=sys.stderr)
        return False
    return True


def _stacks(path: Path) -> list[tuple[list[str], int]]:
    out = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = [_LINE.sub(")", f) for f in stack.split(";")]
            out.append((frames, int(count)))
    return out


def _category(frame: str) -> str | None:
    for name, fragments in CATEGORIES.items():
        if any(fragment in frame for fragment in fragments):
            return name
    return None


def summarize(path: Path, top: int = 15) -> dict[str, object]:
    """Top self/inclusive functions and subsystem shares (% of active samples)."""
    stacks = _stacks(path)
    total = sum(count for _, count in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for frames, count in stacks:
        threads[frames[0]] += count
        own[frames[-1]] += count
        for frame in set(frames[1:]):
            inclusive[frame] += count
        for name in {c for c in map(_category, frames) if c is not None}:
            categories[name] += count

    def share(counter: Counter[str]) -> list[dict[str, object]]:
        return [{"frame": k, "pct": round(100 * v / total, 1)} for k, v in counter.most_common(top)]

    return {
        "samples": total,
        "threads": share(threads),
        "self": share(own),
        "inclusive": share(inclusive),
        "subsystems": share(categories),
    }
