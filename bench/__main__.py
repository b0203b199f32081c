"""``python -m bench``: run every workload and baseline, print and save the report."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import chart, report, table
from bench.config import BenchConfig, parse_args
from bench.run import run_bench


async def bench(config: BenchConfig) -> dict[str, Any]:
    """Run, build the report, write ``latest.json`` and ``latest.png``; return it."""
    started = time.perf_counter()
    measurements, profiles = await run_bench(config)
    result = report.build(config, measurements, profiles)
    result["wall_s"] = round(time.perf_counter() - started, 1)
    out: Path = config.out_dir
    (out / "latest.json").write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    chart.draw(result, out / "latest.png")
    return result


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point."""
    config = parse_args(argv)
    result = asyncio.run(bench(config))
    print(table.render(result))
    print(
        f"\nwall {result['wall_s']} s; report: {config.out_dir / 'latest.json'}, chart: "
        f"{config.out_dir / 'latest.png'}"
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
