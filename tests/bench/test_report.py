"""The bench's quota figures, computed from made-up workload summaries."""

from __future__ import annotations

from typing import Any

import pytest

from bench.report import quota_efficiency
from enrichment_server.wiring import RATE_SLACK


def test_the_backlog_ceiling_leaves_out_the_slack_and_the_live_callers_calls() -> None:
    """At 20/s, a live trickle making 2 MusicBrainz calls/s leaves the backlog what the
    paced rate (95 %) keeps minus those 2: a drain at that pace is all of the ceiling."""
    workloads: dict[str, dict[str, Any]] = {
        "_config": {"mb_rate_per_s": 20.0},
        "hot_warmup": {"mb_calls_per_distinct_track": 1.0},
        "trickle_idle": {"mb_calls": 50, "elapsed_s": 25.0},
        "backlog": {"backlog_tracks": 300, "drain_s": 300 / (20 * RATE_SLACK - 2)},
        "cold": {"mb_calls": 400},
        "zipf": {"elapsed_s": 25.0},
    }
    quota = quota_efficiency(workloads)
    assert quota["backlog_live_mb_calls_per_s"] == 2.0
    assert quota["backlog_quota_ceiling"] == pytest.approx(RATE_SLACK - 0.1)
    assert quota["backlog_quota_efficiency"] == pytest.approx(quota["backlog_quota_ceiling"])
    assert quota["backlog_share_of_ceiling"] == pytest.approx(1.0, abs=1e-3)
    assert quota["zipf_quota_efficiency"] == 0.8
