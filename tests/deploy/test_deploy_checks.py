"""The checks themselves: each maintained tool passes our files and catches what the project
leaves to it; each of the project's rules (tests/deploy/rules.py) passes our files and fails
on a copy broken where it looks; scripts/validate_deploy.py runs them all."""

from __future__ import annotations

import base64
import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import files, rules, tools
from tests.deploy.conftest import Objects, need_tools

ROOT = files.ROOT


def _server(objs: Objects) -> dict[str, Any]:
    return files.find(objs, "Deployment", "enrichment-server")


def _container(objs: Objects) -> dict[str, Any]:
    return files.server_container(_server(objs))


def _cronjob(objs: Objects, spider: str = "mixesdb") -> dict[str, Any]:
    return files.find(objs, "CronJob", f"scrape-{spider}")


def _scraper(objs: Objects, spider: str = "mixesdb") -> dict[str, Any]:
    pod = _cronjob(objs, spider)["spec"]["jobTemplate"]["spec"]["template"]
    container: dict[str, Any] = pod["spec"]["containers"][0]
    return container


# --------------------------------------------------------------------------- the tools


def test_every_kustomization_renders_and_passes_strict_schemas(rendered: dict[str, str]) -> None:
    """base, dev and prod render and pass kubernetes-validate --strict for every version."""
    assert set(rendered) == {"base", "overlays/dev", "overlays/prod"}
    for name, text in rendered.items():
        result = tools.validate_schemas(text)
        count = len(files.load_objects(tools.without_custom_resources(text)))
        assert result.problems == [], name
        assert result.passed == count * len(tools.K8S_VERSIONS), name


def test_strict_validation_rejects_a_named_probe_port_and_an_unknown_field(
    objects: dict[str, Objects],
) -> None:
    """The schema check is not vacuous: a named gRPC probe port and a misspelt field (which
    kubectl would silently drop) both fail it."""
    deployment = copy.deepcopy(_server(objects["overlays/prod"]))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["grpc"]["port"] = "grpc"
    result = tools.validate_schemas(yaml.safe_dump(deployment), versions=("1.34.0",))
    assert "not of type 'integer'" in " ".join(result.problems)
    del container["readinessProbe"]
    container["readinessProbes"] = {}
    assert tools.validate_schemas(yaml.safe_dump(deployment), versions=("1.30.0",)).problems


@pytest.mark.timeout(300)  # three checkov runs: slow on a busy machine
def test_checkov_finds_nothing_in_any_rendering(rendered: dict[str, str]) -> None:
    """checkov's Kubernetes policies pass on every kustomization, Redis and Postgres in dev
    included; k8s/.checkov.yaml says what is skipped and why."""
    for name, text in rendered.items():
        result = tools.policy_findings(text)
        assert result.problems == [], name
        assert result.passed > 100, name  # the policies really ran


def test_checkov_catches_what_the_project_leaves_to_it(objects: dict[str, Objects]) -> None:
    """The policies the project's own checks no longer repeat are checkov's: a server pod with
    no security context, probes or resources, a latest tag and a mounted token, and a scraper
    CronJob without resources, are each reported."""
    objs = copy.deepcopy(objects["base"])
    deployment, container, scraper = _server(objs), _container(objs), _scraper(objs)
    pod = deployment["spec"]["template"]["spec"]
    pod |= {"securityContext": {}, "automountServiceAccountToken": True}
    for key in ("securityContext", "livenessProbe", "readinessProbe", "resources"):
        del container[key]
    container["image"] = "metadata-enrichment/server:latest"
    del scraper["resources"]
    broken = yaml.safe_dump_all([deployment, _cronjob(objs)])
    failed = " ".join(tools.policy_findings(broken).problems)
    server = {
        "CKV_K8S_8": "liveness probe",
        "CKV_K8S_9": "readiness probe",
        "CKV_K8S_14": "image tag latest",
        "CKV_K8S_20": "allowPrivilegeEscalation",
        "CKV_K8S_22": "read-only root filesystem",
        "CKV_K8S_23": "runAsNonRoot",
        "CKV_K8S_28": "NET_RAW not dropped",
        "CKV_K8S_31": "seccomp profile",
        "CKV_K8S_37": "capabilities not dropped",
        "CKV_K8S_38": "service account token",
        "CKV_K8S_40": "a low (root) uid",
    }
    for check in server:
        assert f"{check} Deployment.enrichment.enrichment-server" in failed, server[check]
    for check in ("CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13"):  # cpu/memory
        assert f"{check} CronJob.enrichment.scrape-mixesdb" in failed, check
        assert f"{check} Deployment.enrichment.enrichment-server" in failed, check


def test_hadolint_finds_nothing_in_our_dockerfiles() -> None:
    """hadolint reports no finding for either image."""
    need_tools()
    for image in files.IMAGES:
        assert tools.hadolint(image.dockerfile) == [], image.dockerfile


def test_hadolint_catches_what_the_project_leaves_to_it(tmp_path: Path) -> None:
    """An untagged base, a root user, a shell-form ENTRYPOINT, a secret in ENV/ARG and a
    `cd` are each reported."""
    need_tools()
    bad = tmp_path / "bad.Dockerfile"
    bad.write_text(
        "FROM python\nARG API_TOKEN\nENV DB_PASSWORD=x\nRUN cd /tmp && ls\nUSER 0\n"
        "ENTRYPOINT enrichment-server\n"
    )
    findings = " ".join(tools.hadolint(bad))
    for code in ("DL3006", "DL3064", "DL3003", "DL3002", "DL3025"):
        assert code in findings, code


# --------------------------------------------------------------------------- the rules pass


def test_rules_pass_on_every_rendering(rendered: dict[str, str]) -> None:
    """The project's rules find nothing in base, dev or prod."""
    for name, text in rendered.items():
        assert rules.check_rendered(text) == [], name


def test_rules_pass_on_the_dockerfiles_and_compose() -> None:
    """The project's rules find nothing in either Dockerfile or in compose.yaml."""
    for image in files.IMAGES:
        assert rules.check_dockerfile(image) == [], image.dockerfile
    assert rules.check_compose() == []


@pytest.mark.timeout(300)  # kustomize, kubernetes-validate, checkov, hadolint: slow under load
def test_validate_script_runs_clean() -> None:
    """`python scripts/validate_deploy.py` exits 0, reports every check, shows no secret."""
    need_tools()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "validate_deploy.py")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("k8s/base", "k8s/overlays/dev", "k8s/overlays/prod"):
        for check in ("rendered", "kubernetes-validate", "checkov", "project rules: ok"):
            assert f"{name}: {check}" in proc.stdout
    for what in ("deploy/server.Dockerfile: hadolint: ok", "compose.yaml: project rules: ok"):
        assert what in proc.stdout
    assert "all deployment checks passed" in proc.stdout
    assert base64.b64encode(b"REPLACE-ME").decode() not in proc.stdout


# --------------------------------------------------------------------------- each rule fails

K8S_MUTATIONS: list[Any] = []


def breaks(expected: str, kustomization: str = "base") -> Callable[[Any], Any]:
    """Register a mutation of a rendering after which the rules report ``expected``."""

    def register(mutate: Callable[[Objects], None]) -> Callable[[Objects], None]:
        K8S_MUTATIONS.append(pytest.param(kustomization, mutate, expected, id=mutate.__name__))
        return mutate

    return register


@breaks("gRPC port is not 50051")
def grpc_container_port(objs: Objects) -> None:
    _container(objs)["ports"][0]["containerPort"] = 50052


@breaks("metrics port is not 9091", "overlays/prod")
def configured_metrics_port(objs: Objects) -> None:
    files.find(objs, "ConfigMap", "enrichment-config")["data"]["ENRICHMENT_METRICS_PORT"] = "9091"


@breaks("readinessProbe is wrong")
def readiness_probe_asks_liveness(objs: Objects) -> None:
    _container(objs)["readinessProbe"]["grpc"]["service"] = "liveness"


@breaks("startupProbe is wrong")
def configured_grpc_port_beside_the_probes(objs: Objects) -> None:
    files.find(objs, "ConfigMap", "enrichment-config")["data"]["ENRICHMENT_GRPC_PORT"] = "50052"


@breaks("prometheus.io/* do not scrape 9090")
def scrape_annotation(objs: Objects) -> None:
    _server(objs)["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] = "9091"


@breaks("terminationGracePeriodSeconds 30 <= preStop + drain + grace 35.0", "overlays/dev")
def drain_longer_than_the_grace_period(objs: Objects) -> None:
    files.find(objs, "ConfigMap", "enrichment-config")["data"]["ENRICHMENT_DRAIN_S"] = "20"


@breaks("the server's settings are invalid")
def drain_out_of_bounds(objs: Objects) -> None:
    files.find(objs, "ConfigMap", "enrichment-config")["data"]["ENRICHMENT_DRAIN_S"] = "500"


@breaks("Service/enrichment: selects nothing")
def service_selector(objs: Objects) -> None:
    files.find(objs, "Service", "enrichment")["spec"]["selector"] = {"app": "nothing"}


@breaks("Service/enrichment-headless: no target has port 8080")
def service_target_port(objs: Objects) -> None:
    files.find(objs, "Service", "enrichment-headless")["spec"]["ports"][0]["targetPort"] = 8080


@breaks("NetworkPolicy/enrichment-server: no target has port 9999")
def network_policy_port(objs: Objects) -> None:
    policy = files.find(objs, "NetworkPolicy", "enrichment-server")
    policy["spec"]["ingress"][0]["ports"][0]["port"] = 9999


@breaks("PodDisruptionBudget enrichment-server does not select the server pods", "overlays/dev")
def pdb_selects_redis(objs: Objects) -> None:
    pdb = files.find(objs, "PodDisruptionBudget", "enrichment-server")
    pdb["spec"]["selector"]["matchLabels"] = {"app.kubernetes.io/name": "redis"}


@breaks("NetworkPolicy/enrichment-server: selects nothing")
def network_policy_selector(objs: Objects) -> None:
    policy = files.find(objs, "NetworkPolicy", "enrichment-server")
    policy["spec"]["podSelector"]["matchLabels"] = {"app": "nothing"}


@breaks("ServiceMonitor/enrichment-server: no target has port web", "overlays/prod")
def service_monitor_port(objs: Objects) -> None:
    files.find(objs, "ServiceMonitor", "enrichment-server")["spec"]["endpoints"][0]["port"] = "web"


@breaks("enrichment-server: not rendered, or sets replicas beside its HPA", "overlays/prod")
def replicas_beside_the_hpa(objs: Objects) -> None:
    _server(objs)["spec"]["replicas"] = 3


@breaks("configMapRef missing-config (all) is missing")
def env_from_a_missing_config_map(objs: Objects) -> None:
    _container(objs)["envFrom"][0]["configMapRef"]["name"] = "missing-config"


@breaks("secretKeyRef tracklist-scraper-secrets-")  # + the hash, the key, "is missing"
def secret_key_not_rendered(objs: Objects) -> None:
    secret = files.find(objs, "Secret", "tracklist-scraper-secrets")
    del secret["data"]["ENRICHMENT_DATABASE_URL"]


@breaks("Service/enrichment: not in the Namespace", "overlays/dev")
def object_outside_the_namespace(objs: Objects) -> None:
    files.find(objs, "Service", "enrichment")["metadata"]["namespace"] = "default"


@breaks("runs ['python'] is not a console script of metadata-enrichment/server")
def server_command(objs: Objects) -> None:
    _container(objs)["command"] = ["python"]


@breaks("runs as 10002, not the image's user 10001", "overlays/prod")
def scraper_user(objs: Objects) -> None:
    cronjob = _cronjob(objs, "reddit")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    cronjob["securityContext"]["runAsUser"] = 10002
    del cronjob["containers"][0]["securityContext"]["runAsUser"]


@breaks("CronJob/scrape-youtube: /tmp is not a mounted volume")
def scraper_tmp(objs: Objects) -> None:
    _scraper(objs, "youtube")["volumeMounts"] = []


@breaks("Deployment/enrichment-server: /var/lib/enrichment is not a mounted volume")
def server_sqlite_directory(objs: Objects) -> None:
    mounts = _container(objs)["volumeMounts"]
    mounts[:] = [m for m in mounts if m["mountPath"] != "/var/lib/enrichment"]


@breaks("Deployment/enrichment-server: service links are on")
def service_links(objs: Objects) -> None:
    _server(objs)["spec"]["template"]["spec"]["enableServiceLinks"] = True


@breaks("Service enrichment-headless is not headless over the server pods")
def headless_service(objs: Objects) -> None:
    del files.find(objs, "Service", "enrichment-headless")["spec"]["clusterIP"]


@breaks("no NetworkPolicy lets scraper pods reach the server's 50051", "overlays/dev")
def scraper_egress(objs: Objects) -> None:
    policy = files.find(objs, "NetworkPolicy", "tracklist-scraper")
    policy["spec"]["egress"][-1]["ports"][0]["port"] = 50052


@breaks("CronJob/scrape-mixesdb: the server's NetworkPolicy does not admit its pods")
def scraper_ingress(objs: Objects) -> None:
    policy = files.find(objs, "NetworkPolicy", "enrichment-server")
    policy["spec"]["ingress"][0]["from"] = [{"podSelector": {"matchLabels": {"app": "crawler"}}}]


@breaks("not one per spider")
def unknown_spider(objs: Objects) -> None:
    _scraper(objs)["args"] = ["nosuchspider"]


@breaks("not one per spider", "overlays/prod")
def missing_cronjob(objs: Objects) -> None:
    objs.remove(_cronjob(objs, "reddit"))


@breaks("CronJob/scrape-mixesdb: runs ['tracklist-crawl', 'mixesdb', 'reddit']")
def two_spiders_in_one_cronjob(objs: Objects) -> None:
    _scraper(objs)["args"].append("reddit")


@breaks("CronJob/scrape-mixesdb: concurrencyPolicy is not Forbid")
def concurrent_crawls(objs: Objects) -> None:
    _cronjob(objs)["spec"]["concurrencyPolicy"] = "Allow"


@breaks("CronJobs share a schedule")
def shared_schedule(objs: Objects) -> None:
    _cronjob(objs)["spec"]["schedule"] = _cronjob(objs, "reddit")["spec"]["schedule"]


@breaks("CronJob/scrape-mixesdb: METADATA_ENRICHMENT_URL is not dns:///enrichment-headless.")
def clusterip_url(objs: Objects) -> None:
    env = _scraper(objs)["env"]
    next(e for e in env if e["name"] == "METADATA_ENRICHMENT_URL")["value"] = "enrichment:50051"


@breaks("CronJob/scrape-mixesdb: sets SCRAPERS_LOOPBACK_ONLY")
def loopback_only(objs: Objects) -> None:
    _scraper(objs)["args"] += ["-s", "SCRAPERS_LOOPBACK_ONLY=True"]


@breaks("ENRICHMENT_GRPC_PORT is not a variable scrapers/settings.py reads")
def server_setting_in_a_scraper(objs: Objects) -> None:
    _scraper(objs)["env"].append({"name": "ENRICHMENT_GRPC_PORT", "value": "1"})


@breaks("CronJob/scrape-mixesdb: ENRICHMENT_DATABASE_URL is not set")
def scraper_without_a_database(objs: Objects) -> None:
    env = _scraper(objs)["env"]
    env[:] = [e for e in env if e["name"] != "ENRICHMENT_DATABASE_URL"]


@breaks("env: ENRICHMENT_NO_SUCH is not a Settings variable in the README table")
def unknown_server_variable(objs: Objects) -> None:
    files.find(objs, "ConfigMap", "enrichment-config")["data"]["ENRICHMENT_NO_SUCH"] = "1"


@breaks("env: ENRICHMENT_METRIC_PORT is not a Settings variable", "overlays/prod")
def misspelt_server_variable_in_env(objs: Objects) -> None:
    _container(objs).setdefault("env", []).append({"name": "ENRICHMENT_METRIC_PORT", "value": "1"})


@breaks("renders the Namespaces [], not one", "overlays/dev")
def no_namespace(objs: Objects) -> None:
    objs.remove(next(o for o in objs if o["kind"] == "Namespace"))


@pytest.mark.parametrize(("kustomization", "mutate", "expected"), K8S_MUTATIONS)
def test_each_manifest_rule_fails_on_a_broken_rendering(
    objects: dict[str, Objects],
    kustomization: str,
    mutate: Callable[[Objects], None],
    expected: str,
) -> None:
    """One change of the rendered objects, and the rule that covers it reports it."""
    objs = copy.deepcopy(objects[kustomization])
    assert rules.check_objects(objs) == []
    mutate(objs)
    problems = rules.check_objects(objs)
    assert any(expected in p for p in problems), problems


def _compose(path: str, value: Any) -> dict[str, Any]:
    """compose.yaml with the value at ``path`` ("services.server.ports") replaced (None:
    deleted)."""
    compose = files.load_compose()
    *parents, last = path.split(".")
    node = compose
    for key in parents:
        node = node[key]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return compose


SERVER_ENV = "services.server.environment"
SCRAPER_ENV = "services.scraper.environment"
HEALTH = ["CMD", "enrichment", "--target", "127.0.0.1:50051", "health", "--service"]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("services.server.ports", ["127.0.0.1:50051:50051"], "server: publishes {50051}"),
        ("services.server.stop_grace_period", "5s", "stop_grace_period 5.0s <= drain + grace"),
        (f"{SERVER_ENV}.ENRICHMENT_GRPC_PORT", "50052", "the health check's --target is not"),
        (f"{SERVER_ENV}.ENRICHMENT_DRAIN_S", "500", "server: invalid settings"),
        (f"{SERVER_ENV}.ENRICHMENT_METRICS_PORT", "9091", "does not scrape server:9091"),
        (f"{SERVER_ENV}.ENRICHMENT_NO_SUCH", "1", "ENRICHMENT_NO_SUCH is not a Settings"),
        ("services.server.healthcheck.test", [*HEALTH, "x"], "--service is no health service"),
        ("services.server.healthcheck.test", "CMD-SHELL enrichment health", "not exec form"),
        ("services.server.user", "0:0", "server: runs as 0:0, not the image's user 10001"),
        ("services.server.tmpfs", None, "server: /tmp is not a mounted volume"),
        ("services.server.depends_on.nosuch", {}, "names the unknown service nosuch"),
        ("services.server.volumes", ["./nope:/x"], "mounted ./nope does not exist"),
        ("services.sandbox.entrypoint", ["python"], "sandbox: runs ['python'] is not a console"),
        ("services.sandbox.network_mode", None, "does not share the server's network namespace"),
        ("services.sandbox.command", ["--spotify-port=8799"], "spotify URL is not port 8799"),
        ("services.prometheus.volumes", [], "prometheus: prometheus.yml is not mounted"),
        ("services.scraper.profiles", None, "scraper: no profile"),
        ("services.scraper.command", ["nope"], "scraper: crawls ['nope'], not one or more"),
        ("services.scraper.build.dockerfile", "deploy/server.Dockerfile", "builds server.Dock"),
        (f"{SCRAPER_ENV}.ENRICHMENT_GRPC_PORT", "1", "ENRICHMENT_GRPC_PORT is not a variable"),
        (f"{SCRAPER_ENV}.METADATA_ENRICHMENT_URL", None, "METADATA_ENRICHMENT_URL is not set"),
        ("services.scraper.command", ["-s", "SCRAPERS_LOOPBACK_ONLY=1", "x"], "LOOPBACK_ONLY"),
    ],
)
def test_each_compose_rule_fails_on_a_broken_compose(path: str, value: Any, expected: str) -> None:
    """One change of compose.yaml, and the rule that covers it reports it."""
    problems = rules.check_compose(_compose(path, value))
    assert any(expected in p for p in problems), problems


def test_prometheus_rule_files_must_be_mounted() -> None:
    """The alert rules not mounted: Prometheus would load no rule file and nothing would
    alert."""
    compose = files.load_compose()
    volumes = compose["services"]["prometheus"]["volumes"]
    volumes[:] = [v for v in volumes if "alerts" not in v]
    problems = " | ".join(rules.check_compose(compose))
    assert "rule file /etc/prometheus/alerts/enrichment-alerts.yml is not mounted" in problems
    assert "alerts are not mounted" in problems


SERVER, SCRAPERS = files.SERVER_IMAGE, files.SCRAPERS_IMAGE
#: Lines that let the server into the scrapers' build context (its .dockerignore keeps it out).
LET_IN = "!enrichment_server/\n!pyproject.toml\n"


def test_prometheus_must_scrape_the_job_the_alerts_select(tmp_path: Path) -> None:
    """A prometheus.yml whose job is not the one the alert rules select is reported."""
    config = tmp_path / "prometheus.yml"
    text = (ROOT / "deploy" / "prometheus.yml").read_text()
    config.write_text(text.replace("job_name: metadata-enrichment", "job_name: other"))
    compose = files.load_compose()
    volumes = compose["services"]["prometheus"]["volumes"]
    volumes[0] = f"{config}:/etc/prometheus/prometheus.yml:ro"
    assert rules.check_compose(compose) == ["prometheus: no scrape job metadata-enrichment"]


@pytest.mark.parametrize(
    ("image", "old", "new", "let_in", "expected"),
    [
        (SERVER, "COPY enrichment_server ", "COPY no_such_dir ", "", "no_such_dir does not exist"),
        (SERVER, "COPY README.md ./", "COPY k8s ./k8s", "", "COPY k8s: ignored by Docker"),
        (SERVER, '["enrichment-server"]', '["enrichment-nope"]', "", "ENTRYPOINT ['enrichment-"),
        (SERVER, '"127.0.0.1:50051"', '"127.0.0.1:50052"', "", "--target is not port 50051"),
        (SERVER, '"liveness"]', '"alive"]', "", "--service is no health service"),
        (SERVER, 'CMD ["enrichment"', 'CMD ["curl"', "", "health check ['curl'] is not a console"),
        (SERVER, "EXPOSE 50051 9090", "EXPOSE 50051", "", "EXPOSE is not the default ports"),
        (SCRAPERS, '["tracklist-crawl"]', '["enrichment-server"]', "", "ENTRYPOINT ['enrichm"),
        (SCRAPERS, "COPY scrapers ", "COPY enrichment_server ", LET_IN, "must not hold"),
        (SCRAPERS, "COPY scrapers ./scrapers", "COPY . .", LET_IN, "takes in enrichment_server"),
        (SCRAPERS, "COPY requirements.lock", "COPY pyproject.toml", LET_IN, "takes in pyproject"),
        (SCRAPERS, "COPY scrapers ", "COPY enrichment_* ", LET_IN, "must not hold"),
        (SCRAPERS, "COPY scrapers ", "COPY enrichment_server ", "", "ignored by Docker"),
    ],
)
def test_each_dockerfile_rule_fails_on_a_broken_dockerfile(
    tmp_path: Path, image: files.Image, old: str, new: str, let_in: str, expected: str
) -> None:
    """One change of a Dockerfile (beside its .dockerignore, maybe letting the server in), and
    the rule that covers it reports it."""
    broken = tmp_path / image.dockerfile.name
    text = image.dockerfile.read_text()
    assert old in text
    broken.write_text(text.replace(old, new, 1))
    ignore = image.dockerfile.with_name(f"{image.dockerfile.name}.dockerignore")
    (tmp_path / ignore.name).write_text(ignore.read_text() + let_in)
    assert rules.check_dockerfile(image, image.dockerfile) == []
    problems = rules.check_dockerfile(image, broken)
    assert any(expected in p for p in problems), problems


def test_an_unpinned_runtime_dependency_is_reported(tmp_path: Path) -> None:
    """A distribution the image installs requires a package requirements.lock does not pin."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["grpcio>=1", "no-such-dist>=1"]\n')
    image = files.Image(files.SERVER_IMAGE.dockerfile, "x", (pyproject,))
    assert rules.check_lock_pins(image) == [
        "requirements.lock does not pin the dependency no-such-dist"
    ]
    assert rules.check_lock_pins(files.SCRAPERS_IMAGE) == []
