"""Alert rules and the dashboard: valid, tested with promtool, and about real metrics."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from enrichment_server.telemetry.metrics import Metrics

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
RULES = MONITORING / "prometheus" / "alerts" / "enrichment-alerts.yml"
RULE_TESTS = RULES.with_suffix(".test.yml")
DASHBOARD = MONITORING / "grafana" / "dashboards" / "enrichment-pipeline-dashboard.json"
#: Series names a PromQL expression may use that the service does not export.
EXTERNAL = {"up"}
_NAME = re.compile(r"\b([a-z_][a-z0-9_]*)(?=\s*[{\[])")


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool missing (Debian package prometheus; make tools installs it)")
        pytest.skip("promtool not installed (Debian package prometheus)")
    return path


def _exported() -> set[str]:
    """Every series name the service's Metrics object can emit."""
    names = set()
    for collector in Metrics().registry.collect():
        names.add(collector.name)
        names |= {f"{collector.name}{suffix}" for suffix in ("_total", "_bucket", "_sum", "_count")}
    return names


def _series_in(expr: str) -> set[str]:
    return set(_NAME.findall(expr)) - {"by", "without", "rate", "sum", "max", "delta", "and"}


def test_promtool_checks_the_rules() -> None:
    """`promtool check rules` accepts the alert rules."""
    result = subprocess.run(
        [_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout


def test_promtool_rule_tests_fire_each_alert() -> None:
    """`promtool test rules` passes, with a test case for every alert."""
    result = subprocess.run(
        [_promtool(), "test", "rules", RULE_TESTS.name],
        capture_output=True,
        text=True,
        cwd=RULE_TESTS.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    alerts = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts == tested


def test_rules_and_dashboard_only_use_exported_metrics() -> None:
    """Every series in an alert or a panel is one the service exports (no dead queries)."""
    exprs = [r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    dashboard = json.loads(DASHBOARD.read_text())
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set().union(*(_series_in(e) for e in exprs))
    assert used, "no series found: the pattern is broken"
    assert used - EXTERNAL <= _exported(), sorted(used - EXTERNAL - _exported())


def test_dashboard_covers_what_operators_watch() -> None:
    """The dashboard shows success rate, cache hit rate, breakers, upstream, DLQ and RPCs."""
    dashboard = json.loads(DASHBOARD.read_text())
    text = json.dumps(dashboard["panels"])
    for series in (
        "enrichment_tasks_total",
        "enrichment_cache_hits_total",
        "enrichment_circuit_breaker_state",
        "enrichment_api_duration_seconds_bucket",
        "enrichment_dlq_depth",
        "grpc_server_handling_seconds_bucket",
    ):
        assert series in text, series
