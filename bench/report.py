"""From measurements to the report: per-workload figures, ratios to baselines, targets."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from bench.config import BenchConfig
from bench.measure import Measurement
from enrichment_server.wiring import RATE_SLACK

Report = dict[str, Any]
MB = 1024 * 1024
#: Endpoints that are no lookup (Spotify's client-credentials token).
NOT_LOOKUPS = frozenset({"spotify:token"})


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1), nearest-rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def endpoint_calls(m: Measurement) -> dict[str, int]:
    """``{"upstream:endpoint": n}`` of one measurement."""
    return {f"{u}:{e}": n for u, c in m.upstream.items() for e, n in c.calls.items() if n}


def _per(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _mb_503(m: Measurement) -> int:
    """MusicBrainz throttling seen: the server's ``rate_limited`` attempts (its own
    limiter's refusals are ``local_rate_limit``), or the naive enricher's 503 errors."""
    if m.metrics is not None:
        return int(m.metrics.outcome("musicbrainz", "rate_limited"))
    return m.load.source_errors.get("musicbrainz:rate_limited", 0)


def _hit_rate(m: Measurement) -> float | None:
    if m.metrics is None:
        return None
    return round(_per(m.metrics.cache_hits, m.metrics.cache_hits + m.metrics.cache_misses), 4)


def summarize(m: Measurement) -> Report:
    """The figures of one workload."""
    load = m.load
    requests = load.completed
    lookups = {k: v for k, v in endpoint_calls(m).items() if k not in NOT_LOOKUPS}
    upstream_total = sum(lookups.values())
    mb_calls = m.upstream["musicbrainz"].total
    return {
        "server": m.server,
        "requests": requests,
        "failures": dict(load.failures),
        "elapsed_s": round(load.elapsed_s, 3),
        "rps": round(_per(requests, load.elapsed_s), 1),
        "p50_ms": round(percentile(load.latencies_s, 0.5) * 1000, 2),
        "p95_ms": round(percentile(load.latencies_s, 0.95) * 1000, 2),
        "p99_ms": round(percentile(load.latencies_s, 0.99) * 1000, 2),
        "client_cpu_pct": round(100 * _per(load.client_cpu_s, load.elapsed_s), 1),
        "statuses": dict(load.statuses),
        "source_errors": dict(load.source_errors),
        "cached_answers": load.cached,
        "response_bytes": load.response_bytes,
        "distinct_queries": m.distinct_queries,
        "upstream_calls": upstream_total,
        "upstream_calls_per_request": round(_per(upstream_total, requests), 4),
        "upstream_by_endpoint": endpoint_calls(m),
        "duplicates_lower_bound": sum(max(0, n - m.distinct_queries) for n in lookups.values()),
        "cache_hit_rate": _hit_rate(m),
        "mb_calls": mb_calls,
        "mb_calls_per_distinct_track": round(_per(mb_calls, m.distinct_queries), 4),
        "mb_max_in_1s": m.upstream["musicbrainz"].max_in_window,
        "mb_503": _mb_503(m),
        "peak_rss_mb": round(m.peak_rss_bytes / MB, 1),
        "found": load.found,
        "label_coverage": round(_per(load.labelled, load.found), 4),
        **m.extra,
    }


def duplicates_against(run: Measurement, reference: Measurement) -> dict[str, int]:
    """Per endpoint, calls of ``run`` beyond those of ``reference`` (the same distinct
    tracks, each asked once, on a fresh server): lookups repeated for a repeated track."""
    mine, ref = endpoint_calls(run), endpoint_calls(reference)
    return {k: n - ref.get(k, 0) for k, n in sorted(mine.items()) if n > ref.get(k, 0)}


def _ratio(a: float, b: float) -> float:
    """``a / b``; 0 when there is nothing to compare with (keeps the JSON finite)."""
    return round(a / b, 4) if b else 0.0


def ratios(w: dict[str, Report]) -> dict[str, float]:
    """Each figure over its baseline's, measured in this run."""
    hot, echo, zipf, naive = w["hot"], w["echo"], w["zipf"], w["naive"]
    return {
        "hot_rps_vs_echo": _ratio(hot["rps"], echo["rps"]),
        "hot_p50_vs_echo": _ratio(hot["p50_ms"], echo["p50_ms"]),
        "hot_p99_vs_echo": _ratio(hot["p99_ms"], echo["p99_ms"]),
        "batch_stream_rps_vs_unary": _ratio(w["batch_stream"]["rps"], w["batch_unary"]["rps"]),
        "zipf_rps_vs_naive": _ratio(zipf["rps"], naive["rps"]),
        "zipf_p50_vs_naive": _ratio(zipf["p50_ms"], naive["p50_ms"]),
        "zipf_p99_vs_naive": _ratio(zipf["p99_ms"], naive["p99_ms"]),
        "zipf_upstream_calls_per_request_vs_naive": _ratio(
            zipf["upstream_calls_per_request"], naive["upstream_calls_per_request"]
        ),
        "zipf_duplicates_vs_naive": _ratio(zipf["duplicates"], naive["duplicates_lower_bound"]),
        "cold_mb_calls_per_track_vs_naive": _ratio(
            w["cold"]["mb_calls_per_distinct_track"], naive["mb_calls"] / max(1, naive["requests"])
        ),
        "server_peak_rss_vs_echo": _ratio(
            max(w[k]["peak_rss_mb"] for k in ("hot", "cold", "zipf")), echo["peak_rss_mb"]
        ),
        "backlog_interactive_p50_vs_idle": _ratio(
            w["backlog"]["p50_ms"], w["trickle_idle"]["p50_ms"]
        ),
        "backlog_interactive_p95_vs_idle": _ratio(
            w["backlog"]["p95_ms"], w["trickle_idle"]["p95_ms"]
        ),
    }


def quota_efficiency(w: dict[str, Report]) -> dict[str, float]:
    """Drain time against the quota bound (MusicBrainz calls needed / its rate): 1.0 is
    the physical limit. The calls a track needs when nothing is wasted are measured on an
    idle run (``hot_warmup``: the same kind of distinct tracks, each once, one at a time
    per caller; ``cold``: exactly the Zipf workload's distinct tracks), so wasted calls
    lengthen the drain without raising the bound.

    The backlog cannot reach 1.0: the service paces at ``RATE_SLACK`` of the rate (the
    upstream counts arrivals, which jitter around evenly spaced starts), and the live
    trickle's own MusicBrainz calls (measured in the idle trickle) come first. What is
    left is ``backlog_quota_ceiling``; ``backlog_share_of_ceiling`` is how much of it the
    drain used."""
    rate = w["_config"]["mb_rate_per_s"]
    per_track = w["hot_warmup"]["mb_calls_per_distinct_track"]
    backlog, idle = w["backlog"], w["trickle_idle"]
    backlog_bound_s = backlog["backlog_tracks"] * per_track / rate
    zipf_bound_s = w["cold"]["mb_calls"] / rate
    live_per_s = _per(idle["mb_calls"], idle["elapsed_s"])
    ceiling = (rate * RATE_SLACK - live_per_s) / rate
    efficiency = _ratio(backlog_bound_s, backlog["drain_s"])
    return {
        "backlog_quota_bound_s": round(backlog_bound_s, 3),
        "backlog_quota_efficiency": efficiency,
        "backlog_live_mb_calls_per_s": round(live_per_s, 3),
        "backlog_quota_ceiling": round(ceiling, 4),
        "backlog_share_of_ceiling": _ratio(efficiency, ceiling),
        "zipf_quota_bound_s": round(zipf_bound_s, 3),
        "zipf_quota_efficiency": _ratio(zipf_bound_s, w["zipf"]["elapsed_s"]),
    }


def targets(w: dict[str, Report], r: dict[str, float]) -> dict[str, Report]:
    """The issues' targets: measured figure, target, met."""
    servers = [k for k, v in w.items() if k != "_config" and v["server"].startswith("server")]
    servers += ["cold", "zipf"]
    mb_max = max(w[k]["mb_max_in_1s"] for k in servers)
    rss = max(w[k]["peak_rss_mb"] for k in servers if w[k]["peak_rss_mb"])
    mb_503 = sum(w[k]["mb_503"] for k in servers)
    limit = w["_config"]["mb_rate_per_s"]

    def t(measured: float, target: str, met: bool) -> Report:
        return {"measured": measured, "target": target, "met": met}

    cold_mb = w["cold"]["mb_calls_per_distinct_track"]
    unique_mb = w["hot_warmup"]["mb_calls_per_distinct_track"]
    backlog, quota = w["backlog"], quota_efficiency(w)
    own = backlog["own_refusals_interactive"]
    return {
        "hot_rps_vs_echo": t(r["hot_rps_vs_echo"], ">= 0.6", r["hot_rps_vs_echo"] >= 0.6),
        "cold_mb_calls_per_track": t(cold_mb, "<= 1.5", cold_mb <= 1.5),
        "cold_mb_calls_per_recording": t(unique_mb, "<= 1.2", unique_mb <= 1.2),
        "zipf_quota_efficiency": t(
            quota["zipf_quota_efficiency"], ">= 0.85", quota["zipf_quota_efficiency"] >= 0.85
        ),
        "backlog_quota_efficiency": t(
            quota["backlog_quota_efficiency"],
            ">= 0.85",
            backlog["drained"] and quota["backlog_quota_efficiency"] >= 0.85,
        ),
        "backlog_p95_vs_idle": t(
            r["backlog_interactive_p95_vs_idle"],
            "<= 1.3",
            r["backlog_interactive_p95_vs_idle"] <= 1.3,
        ),
        "backlog_own_refusals": t(own, "== 0", own == 0),
        "backlog_charged_own": t(
            backlog["charged_own_refusals"], "== 0", backlog["charged_own_refusals"] == 0
        ),
        "backlog_parked": t(backlog["parked"], "== 0", backlog["parked"] == 0),
        "zipf_duplicate_calls": t(w["zipf"]["duplicates"], "== 0", w["zipf"]["duplicates"] == 0),
        "mb_max_in_1s": t(mb_max, f"<= {limit:g}", mb_max <= limit),
        "mb_503": t(mb_503, "== 0", mb_503 == 0),
        "server_peak_rss_mb": t(rss, "<= 200", rss <= 200),
    }


def build(config: BenchConfig, measurements: Sequence[Measurement], profiles: Report) -> Report:
    """The whole report (what ``latest.json`` holds)."""
    by_name = {m.name: m for m in measurements}
    workloads = {m.name: summarize(m) for m in measurements}
    for figures in workloads.values():
        figures["duplicates"] = figures["duplicates_lower_bound"]
    extra = duplicates_against(by_name["zipf"], by_name["cold"])
    workloads["zipf"]["duplicates_by_endpoint"] = extra
    workloads["zipf"]["duplicates"] = sum(extra.values())
    r = ratios(workloads)
    config_json = {k: str(v) if k == "out_dir" else v for k, v in asdict(config).items()}
    with_config = {**workloads, "_config": config_json}
    t = targets(with_config, r)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version()}
    return {
        "config": config_json,
        "machine": machine,
        "workloads": workloads,
        "ratios": r,
        "quota": quota_efficiency(with_config),
        "targets": t,
        "profiles": profiles,
    }
