"""``latest.png``: throughput, latency, upstream economy, memory and the target ratios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

ORDER = (
    "echo", "hot", "hot_no_record", "batch_stream", "batch_unary", "hot_warmup", "cold", "zipf",
    "naive", "trickle_idle", "backlog",
)  # fmt: skip
COLOURS = {"echo": "tab:gray", "naive": "tab:red"}


def _bars(ax: Axes, names: list[str], values: list[float], title: str, fmt: str) -> None:
    colours = [COLOURS.get(n, "tab:blue") for n in names]
    bars = ax.bar(names, values, color=colours)
    ax.bar_label(bars, labels=[format(v, fmt) for v in values], fontsize=7)
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="x", labelrotation=35, labelsize=8)


def _latency(ax: Axes, w: dict[str, Any], names: list[str]) -> None:
    x = range(len(names))
    p50 = [w[n]["p50_ms"] for n in names]
    p99 = [w[n]["p99_ms"] for n in names]
    ax.bar([i - 0.2 for i in x], p50, width=0.4, label="p50")
    ax.bar([i + 0.2 for i in x], p99, width=0.4, label="p99")
    ax.set_xticks(list(x), names, rotation=35, fontsize=8)
    ax.set_yscale("log")
    ax.set_title("latency (ms, log)", fontsize=10)
    ax.legend(fontsize=8)


def _targets(ax: Axes, targets: dict[str, Any]) -> None:
    names = list(targets)
    colours = ["tab:green" if targets[n]["met"] else "tab:red" for n in names]
    labels = [f"{targets[n]['measured']} (target {targets[n]['target']})" for n in names]
    ax.barh(names, [1] * len(names), color=colours)
    for i, label in enumerate(labels):
        ax.text(0.02, i, label, va="center", fontsize=8, color="white", fontweight="bold")
    ax.set_xticks([])
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title("targets (green: met)", fontsize=10)


def draw(report: dict[str, Any], output: Path) -> None:
    """Write the six-panel chart to ``output``."""
    w = report["workloads"]
    names = [n for n in ORDER if n in w]
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    rps = axes[0][0]
    _bars(rps, names, [w[n]["rps"] for n in names], "requests/s (log)", ".0f")
    rps.set_yscale("log")
    _latency(axes[0][1], w, names)
    economy = [n for n in names if n != "echo"]
    _bars(
        axes[0][2], economy, [w[n]["upstream_calls_per_request"] for n in economy],
        "upstream calls per request", ".2f",
    )  # fmt: skip
    _bars(axes[1][0], names, [w[n]["peak_rss_mb"] for n in names], "peak RSS (MB)", ".0f")
    axes[1][0].axhline(200, color="tab:red", linestyle="--", linewidth=1)
    ratios = report["ratios"]
    keys = [k for k in ratios if not k.endswith(("p50_vs_echo", "p50_vs_naive"))]
    bars = axes[1][1].barh(keys, [ratios[k] for k in keys], color="tab:purple")
    axes[1][1].bar_label(bars, labels=[f"{ratios[k]:.3g}" for k in keys], fontsize=7)
    axes[1][1].set_xscale("symlog")
    axes[1][1].tick_params(axis="y", labelsize=7)
    axes[1][1].invert_yaxis()
    axes[1][1].set_title("ratios to baseline (same run)", fontsize=10)
    _targets(axes[1][2], report["targets"])
    cfg = report["config"]
    fig.suptitle(
        f"enrichment bench: MusicBrainz {cfg['mb_rate_per_s']:g}/s, latencies {cfg['latency_ms']}"
    )
    fig.tight_layout()
    fig.savefig(output, dpi=110)
    plt.close(fig)
