"""Smoke test of ``python -m bench``: tiny workloads, checks the report's shape (not speed)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench import table
from bench.__main__ import bench
from bench.config import BenchConfig

WORKLOADS = {
    "hot_warmup", "hot", "batch_stream", "batch_unary", "hot_no_record_warmup",
    "hot_no_record", "echo", "cold", "zipf", "naive", "trickle_idle", "backlog",
}  # fmt: skip
FIGURES = {
    "server", "requests", "failures", "elapsed_s", "rps", "p50_ms", "p99_ms",
    "client_cpu_pct", "statuses", "source_errors", "response_bytes", "distinct_queries",
    "upstream_calls", "upstream_calls_per_request", "upstream_by_endpoint", "duplicates",
    "duplicates_lower_bound", "cache_hit_rate", "mb_calls", "mb_calls_per_distinct_track",
    "mb_max_in_1s", "mb_503", "peak_rss_mb", "p95_ms", "found", "label_coverage",
}  # fmt: skip
RATIOS = {
    "hot_rps_vs_echo", "hot_p50_vs_echo", "hot_p99_vs_echo", "batch_stream_rps_vs_unary",
    "zipf_rps_vs_naive", "zipf_p50_vs_naive", "zipf_p99_vs_naive",
    "zipf_upstream_calls_per_request_vs_naive", "zipf_duplicates_vs_naive",
    "cold_mb_calls_per_track_vs_naive", "server_peak_rss_vs_echo",
    "backlog_interactive_p50_vs_idle", "backlog_interactive_p95_vs_idle",
}  # fmt: skip
TARGETS = {
    "hot_rps_vs_echo", "cold_mb_calls_per_track", "cold_mb_calls_per_recording",
    "zipf_quota_efficiency", "backlog_quota_efficiency", "backlog_p95_vs_idle",
    "backlog_own_refusals", "backlog_charged_own", "backlog_parked", "zipf_duplicate_calls",
    "mb_max_in_1s", "mb_503", "server_peak_rss_mb",
}  # fmt: skip
QUOTA = {
    "backlog_quota_bound_s", "backlog_quota_efficiency", "backlog_live_mb_calls_per_s",
    "backlog_quota_ceiling", "backlog_share_of_ceiling", "zipf_quota_bound_s",
    "zipf_quota_efficiency",
}  # fmt: skip


def tiny(out_dir: Path) -> BenchConfig:
    """A run of a few seconds: small sets, short durations, fast upstreams, no py-spy."""
    return BenchConfig(
        latency_ms=dict.fromkeys(("spotify", "musicbrainz", "lastfm", "deezer", "getsongbpm"), 5.0),
        echo_s=0.5, hot_s=0.5, hot_tracks=4, hot_concurrency=4, concurrency=4,
        batch_requests=8, zipf_requests=12, zipf_distinct=6, naive_s=0.5,
        backlog_tracks=6, trickle_tracks=4, profile=False, out_dir=out_dir,
    )  # fmt: skip


@pytest.mark.integration
@pytest.mark.timeout(90)
async def test_report_has_every_figure_ratio_and_target(tmp_path: Path) -> None:
    """Every workload, figure, ratio and target is there; ratios are finite numbers."""
    result = await bench(tiny(tmp_path))

    assert set(result["workloads"]) == WORKLOADS
    for name, figures in result["workloads"].items():
        assert set(figures) >= FIGURES, (name, FIGURES - set(figures))
        assert figures["requests"] > 0, name
    assert set(result["ratios"]) == RATIOS
    for name, value in result["ratios"].items():
        assert isinstance(value, float), (name, value)
        assert math.isfinite(value), (name, value)
    assert set(result["targets"]) == TARGETS
    assert set(result["quota"]) == QUOTA
    assert result["workloads"]["backlog"]["drained"] is True
    for target in result["targets"].values():
        assert {"measured", "target", "met"} <= set(target)
    assert set(result["profiles"]) == {"hot", "hot_no_record"}
    assert json.loads((tmp_path / "latest.json").read_text())["ratios"] == result["ratios"]
    assert (tmp_path / "latest.png").read_bytes().startswith(b"\x89PNG")
    printed = table.render(result)
    assert all(name in printed for name in WORKLOADS)
