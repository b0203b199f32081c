"""Alert rules and the dashboard: valid, tested with promtool, and about real metrics."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from enrichment_server.telemetry.metrics import Metrics
from tests.deploy import files, tools
from tests.deploy.conftest import need_tools

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
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
    functions = {"by", "without", "rate", "sum", "max", "delta", "and", "absent"}
    return set(_NAME.findall(expr)) - functions


def test_promtool_checks_the_rules() -> None:
    """`promtool check rules` accepts the alert rules."""
    result = subprocess.run(
        [_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 10 rules found" in result.stdout


def test_promtool_rule_tests_fire_each_alert() -> None:
    """`promtool test rules` passes, with a test case for every alert."""
    result = subprocess.run(
        [_promtool(), "test", "rules", RULE_TESTS.name],
        capture_output=True,
        text=True,
        cwd=RULE_TESTS.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    alerts = {
        r["alert"]
        for g in yaml.safe_load(RULES.read_text())["groups"]
        for r in g["rules"]
        if "alert" in r
    }
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


def test_alerts_select_the_job_in_one_place() -> None:
    """Only the enrichment:up recording rule names the job; alerts read it, absent() included."""
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    naming = [r for r in rules if "job=" in r["expr"]]
    assert [r.get("record") for r in naming] == ["enrichment:up"]
    exprs = {r.get("alert"): r["expr"] for r in rules}
    assert exprs["EnrichmentServiceDown"].startswith("enrichment:up")
    assert exprs["EnrichmentTargetMissing"] == "absent(enrichment:up)"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_prometheus_rule_carries_the_rules_file() -> None:
    """k8s/components/monitoring/prometheusrule.yaml is current (build_prometheus_rule.py)."""
    assert _script("build_prometheus_rule").main(["--check"]) == 0


def _render_prod(job: str | None = None) -> list[dict[str, Any]]:
    """The prod overlay rendered (example secrets), optionally with another job name."""
    need_tools()
    with tools.materialised_k8s() as k8s:
        if job is not None:
            monitor = k8s / "components" / "monitoring" / "servicemonitor.yaml"
            text = monitor.read_text()
            monitor.write_text(
                text.replace("replacement: metadata-enrichment", f"replacement: {job}")
            )
        return files.load_objects(tools.render("overlays/prod", k8s))


def test_service_monitor_and_prometheus_rule_hang_together(tmp_path: Path) -> None:
    """Rendered prod: the ServiceMonitor scrapes the Service port that reaches the metrics
    container port and names the job; the PrometheusRule's groups pass promtool and select
    that job, also when the job is renamed in the ServiceMonitor alone."""
    objs = _render_prod()
    monitor = files.find(objs, "ServiceMonitor", "enrichment-server")
    rule = files.find(objs, "PrometheusRule", "enrichment-server")
    assert monitor["apiVersion"] == rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["namespace"] == rule["metadata"]["namespace"] == "enrichment"
    (endpoint,) = monitor["spec"]["endpoints"]
    selected = [
        s
        for s in objs
        if s["kind"] == "Service"
        and all(
            s["metadata"].get("labels", {}).get(k) == v
            for k, v in monitor["spec"]["selector"]["matchLabels"].items()
        )
    ]
    ports = [p for s in selected for p in s["spec"]["ports"] if p["name"] == endpoint["port"]]
    container = files.server_container(files.find(objs, "Deployment", "enrichment-server"))
    assert [p["targetPort"] for p in ports] == [files.container_port(container, "metrics")]
    assert endpoint["path"] == "/metrics"
    (relabel,) = endpoint["relabelings"]
    assert relabel["targetLabel"] == "job"
    assert rule["spec"]["groups"][0]["rules"][0]["expr"] == f'up{{job="{relabel["replacement"]}"}}'
    groups = tmp_path / "rule.yml"
    groups.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    result = subprocess.run(
        [_promtool(), "check", "rules", str(groups)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    renamed = files.find(
        _render_prod(job="music-enrichment"), "PrometheusRule", "enrichment-server"
    )
    assert renamed["spec"]["groups"][0]["rules"][0]["expr"] == 'up{job="music-enrichment"}'


def test_dashboard_counts_shared_numbers_once() -> None:
    """The panels that replicas report alike (DLQ depth, open breakers) use the expressions
    promtool tests on two replicas' samples, so they count once, not once per replica."""
    dashboard = json.loads(DASHBOARD.read_text())
    panels = {p["title"]: p["targets"][0]["expr"] for p in dashboard["panels"]}
    tested = {
        case["expr"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test.get("promql_expr_test", [])
    }
    assert panels["Dead letters"] in tested
    assert panels["Open breakers"] in tested
