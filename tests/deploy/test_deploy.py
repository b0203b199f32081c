"""The deployment's own configuration: what the manifests, Dockerfiles and compose.yaml
say (ports, secrets, scaling, network policies, images, scrapers), beyond the rules every
rendering must pass (tests/deploy/test_deploy_checks.py)."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from enrichment_server.crypto import CredentialCipher
from tests.deploy import files, rules, tools
from tests.deploy.conftest import Objects, need_tools

ROOT = files.ROOT
DOCKERFILE = ROOT / "deploy" / "server.Dockerfile"
SCRAPERS_DOCKERFILE = ROOT / "deploy" / "scrapers.Dockerfile"


def _server(objs: Objects) -> dict[str, Any]:
    return files.find(objs, "Deployment", "enrichment-server")


def _container(objs: Objects) -> dict[str, Any]:
    return files.server_container(_server(objs))


# --------------------------------------------------------------------------- Kubernetes


def test_server_pod_starts_slowly_and_stops_gracefully(objects: dict[str, Objects]) -> None:
    """The startup probe allows 30 s before liveness takes over; preStop sleeps before SIGTERM
    (endpoints drop the pod first); the Namespace enforces Pod Security "restricted"."""
    for name, objs in objects.items():
        container = _container(objs)
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 30, name
        assert container["lifecycle"]["preStop"]["sleep"]["seconds"] > 0, name
        (namespace,) = [o for o in objs if o["kind"] == "Namespace"]
        labels = namespace["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted", name


def test_secrets_reach_the_server_from_generated_secrets(objects: dict[str, Objects]) -> None:
    """Keys, admin token, encryption key and database URL come from a hashed Secret."""
    for name, objs in objects.items():
        refs = [s["secretRef"]["name"] for s in _container(objs)["envFrom"] if "secretRef" in s]
        assert len(refs) == 1, name
        assert refs[0].startswith("enrichment-secrets-"), name
        secret = files.find(objs, "Secret", "enrichment-secrets")
        for key in (
            "ENRICHMENT_SPOTIFY_CLIENT_SECRET",
            "ENRICHMENT_LASTFM_API_KEY",
            "ENRICHMENT_GETSONGBPM_API_KEY",
            "ENRICHMENT_ADMIN_TOKEN",
            "ENRICHMENT_SECRET_KEY",
            "ENRICHMENT_DATABASE_URL",
        ):
            assert key in secret["data"], (name, key)
        config = files.find(objs, "ConfigMap", "enrichment-config")
        assert not {k for k in config["data"] if "SECRET" in k or "TOKEN" in k or "KEY" in k}


def test_overlays_use_postgres_and_redis(objects: dict[str, Objects]) -> None:
    """dev and prod point the server at Postgres and Redis; the base at the SQLite data dir."""
    base = files.server_environment(objects["base"])
    assert (
        base["ENRICHMENT_DATABASE_URL"] == "sqlite+aiosqlite:////var/lib/enrichment/enrichment.db"
    )
    mounts = {m["mountPath"] for m in _container(objects["base"])["volumeMounts"]}
    assert {"/tmp", "/var/lib/enrichment"} <= mounts  # noqa: S108 - emptyDir mount points
    for name in ("overlays/dev", "overlays/prod"):
        env = files.server_environment(objects[name])
        assert env["ENRICHMENT_DATABASE_URL"].startswith("postgresql+asyncpg://"), name
        assert env["ENRICHMENT_REDIS_URL"].startswith(("redis://", "rediss://")), name
    dev_kinds = {(o["kind"], o["metadata"]["name"]) for o in objects["overlays/dev"]}
    assert {("StatefulSet", "redis"), ("StatefulSet", "postgres")} <= dev_kinds
    assert not any(o["kind"] == "StatefulSet" for o in objects["overlays/prod"])


def test_replicas_are_left_to_the_hpa(objects: dict[str, Objects]) -> None:
    """No Deployment sets replicas beside its HPA (a re-apply would reset the scale: a rule,
    tests/deploy/rules.py); the HPA bounds are base 2-6, dev 1-2, prod 3-12."""
    expected = {"base": (2, 6), "overlays/dev": (1, 2), "overlays/prod": (3, 12)}
    for name, objs in objects.items():
        assert "replicas" not in _server(objs)["spec"], name
        hpa = files.find(objs, "HorizontalPodAutoscaler", "enrichment-server")
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == expected[name]
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
        pdb = files.find(objs, "PodDisruptionBudget", "enrichment-server")
        assert pdb["apiVersion"] == "policy/v1"


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
        policy = files.find(objs, "NetworkPolicy", "enrichment-server")
        ingress = [
            (rule["from"], {p["port"] for p in rule["ports"]}) for rule in policy["spec"]["ingress"]
        ]
        assert ingress == [([scrapers], {50051, 9090}), ([monitoring], {9090})], name
        deny = files.find(objs, "NetworkPolicy", "default-deny")
        assert deny["spec"]["podSelector"] == {}


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
    ignores = (ROOT / "k8s" / ".gitignore").read_text().split()
    assert "**/secrets/*" in ignores
    assert "!**/secrets/*.example" in ignores


def test_dockerfile_entrypoint_and_final_stage() -> None:
    """The final stage is python:3.11-slim as uid 10001, runs enrichment-server, exposes ports."""
    stage = files.read_dockerfile(DOCKERFILE)
    assert "\nFROM python:3.11-slim AS runtime\n" in DOCKERFILE.read_text()
    assert stage.entrypoint == ["enrichment-server"]
    assert stage.healthcheck[-2:] == ["--service", "liveness"]
    assert stage.user == "10001:10001"
    assert stage.expose == {"50051", "9090"}
    assert stage.env["TMPDIR"] == "/tmp"  # noqa: S108 - the emptyDir mount point
    final = DOCKERFILE.read_text().split("AS runtime")[1]
    assert re.findall(r"^COPY .*", final, re.M) == ["COPY --from=builder /opt/venv /opt/venv"]


def test_dockerfile_installs_runtime_pins_without_dev_tools() -> None:
    """The builder installs [project].dependencies under the lock's pins, never the dev extra."""
    text = DOCKERFILE.read_text()
    assert "-c requirements.lock" in text
    assert "runtime_requirements.py runtime.txt pyproject.toml" in text
    assert "[dev]" not in text
    assert "-r requirements.lock" not in text
    assert rules.check_lock_pins(files.SERVER_IMAGE) == []


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
    patterns = files.dockerignore_patterns(DOCKERFILE)
    assert files.ignored(path, patterns) is is_ignored


def test_a_star_does_not_cross_a_slash() -> None:
    """ "enrichment_*.py" ignores a top-level file only, unlike fnmatch where "*" matches "/"."""
    patterns = ["enrichment_*.py"]
    assert files.ignored("enrichment_x.py", patterns)
    assert not files.ignored("enrichment_server/x.py", patterns)


def test_dockerignore_keeps_sources_and_drops_secrets() -> None:
    """The Dockerfile's own .dockerignore sends its COPY sources and no secret or venv."""
    patterns = files.dockerignore_patterns(DOCKERFILE)
    assert patterns[0] == "*"  # the Dockerfile's own allow-list, not a root .dockerignore
    for source in files.read_dockerfile(DOCKERFILE).copies:
        assert not files.ignored(source, patterns), source
    assert not files.ignored("enrichment_server/store/migrations/env.py", patterns)
    for path in (
        "k8s/overlays/prod/secrets/enrichment.env",
        ".env",
        ".venv/bin/python",
        ".git/config",
        "enrichment_server/__pycache__/app.cpython-311.pyc",
        "enrichment.db",
    ):
        assert files.ignored(path, patterns), path


def test_scrapers_dockerfile_runs_tracklist_crawl_without_the_server() -> None:
    """Final stage: uid 10001, ENTRYPOINT tracklist-crawl (a scrapers console script); only
    the client and the scrapers are copied, never enrichment_server or the root pyproject."""
    stage = files.read_dockerfile(SCRAPERS_DOCKERFILE)
    text = SCRAPERS_DOCKERFILE.read_text()
    assert "\nFROM python:3.11-slim AS runtime\n" in text
    assert stage.entrypoint == ["tracklist-crawl"]
    assert "tracklist-crawl" in files.console_scripts(files.SCRAPERS_IMAGE)
    assert "tracklist-crawl" not in files.console_scripts()
    assert stage.user == "10001:10001"
    assert stage.workdir == stage.env["TMPDIR"] == "/tmp"  # noqa: S108 - the emptyDir
    final = text.split("AS runtime")[1]
    assert re.findall(r"^COPY .*", final, re.M) == ["COPY --from=builder /opt/venv /opt/venv"]
    assert set(stage.copies) == {
        "requirements.lock",
        "enrichment_client/pyproject.toml",
        "scrapers/pyproject.toml",
        "deploy/runtime_requirements.py",
        "enrichment_client",
        "scrapers",
    }
    # The builder proves the server is absent from the installed image.
    assert "find_spec('enrichment_server') is not None" in text
    assert "-c requirements.lock" in text
    assert "-r requirements.lock" not in text
    assert "[dev]" not in text


def test_client_distribution_requires_the_client_runtime_only() -> None:
    """enrichment_client/pyproject.toml requires exactly grpcio, grpcio-health-checking,
    grpcio-status, protobuf and googleapis-common-protos (never the server's dependencies)."""
    project = tomllib.loads(files.CLIENT_PYPROJECT.read_text())["project"]
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
    patterns = files.dockerignore_patterns(SCRAPERS_DOCKERFILE)
    assert patterns[0] == "*"  # the Dockerfile's own allow-list, not a root .dockerignore
    for source in files.read_dockerfile(SCRAPERS_DOCKERFILE).copies:
        assert not files.ignored(source, patterns), source
    for path in (
        "enrichment_server/__main__.py",
        "pyproject.toml",
        "k8s/overlays/prod/secrets/enrichment.env",
        ".env",
        ".venv/bin/python",
        "scrapers/tracklist_scrapers.egg-info/PKG-INFO",
        "scrapers/__pycache__/crawl.cpython-311.pyc",
    ):
        assert files.ignored(path, patterns), path


def _spider_names_from_source() -> set[str]:
    """Each spider module's class-level ``name = "..."`` (read independently of the script)."""
    names = set()
    for module in (ROOT / "scrapers" / "spiders").glob("*.py"):
        names |= set(re.findall(r'^    name = "([^"]+)"$', module.read_text(), re.M))
    return names


def test_cronjobs_are_named_after_the_spiders_they_run(objects: dict[str, Objects]) -> None:
    """Scrapy's spider loader (the rules' source of names) finds the ten spiders the source
    names; each CronJob is scrape-<spider>, runs it once (restartPolicy Never)."""
    spiders = _spider_names_from_source()
    assert len(spiders) == 10
    assert set(files.spider_names()) == spiders
    for name, objs in objects.items():
        cronjobs = files.scraper_cronjobs(objs)
        assert len(cronjobs) == 10, name
        for cronjob in cronjobs:
            pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]
            assert (
                cronjob["metadata"]["name"] == f"scrape-{pod['spec']['containers'][0]['args'][0]}"
            )
            assert pod["spec"]["restartPolicy"] == "Never"


def test_scraper_pods_get_their_keys_by_reference(objects: dict[str, Objects]) -> None:
    """An emptyDir at /tmp, fallback on, and from the scrapers' Secret exactly the keys each
    spider needs (the rules check that every referenced key is rendered)."""
    keys = {"setlistfm": {"SETLISTFM_API_KEY"}, "soundcloud": {"SOUNDCLOUD_CLIENT_ID"}}
    keys |= {"youtube": {"YOUTUBE_API_KEY"}, "reddit": {"REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET"}}
    for name, objs in objects.items():
        for cronjob in files.scraper_cronjobs(objs):
            where = f"{name}/{cronjob['metadata']['name']}"
            pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]
            (container,) = pod["spec"]["containers"]
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
            assert "emptyDir" in volumes[mounts["/tmp"]]  # noqa: S108 - the emptyDir mount
            env = files.expand_env(container, cronjob["metadata"]["namespace"])
            assert env["ENRICHMENT_FALLBACK_ENABLED"] == "true"
            refs = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})}
            spider = container["args"][0]
            assert refs - {"ENRICHMENT_DATABASE_URL"} == keys.get(spider, set()), where


def test_scrapers_use_the_overlays_postgres(objects: dict[str, Objects]) -> None:
    """dev and prod give the scrapers the server's Postgres URL; dev's Postgres admits them."""
    for name in ("overlays/dev", "overlays/prod"):
        secret = files.find(objects[name], "Secret", "tracklist-scraper-secrets")
        url = base64.b64decode(secret["data"]["ENRICHMENT_DATABASE_URL"]).decode()
        assert url.startswith("postgresql+asyncpg://"), name
    policy = files.find(objects["overlays/dev"], "NetworkPolicy", "postgres")
    peers = policy["spec"]["ingress"][0]["from"]
    assert {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "scraper"}}} in peers
    dev = files.scraper_cronjobs(objects["overlays/dev"])
    assert all(c["spec"]["suspend"] is True for c in dev)
    assert not any(
        c["spec"].get("suspend") for c in files.scraper_cronjobs(objects["overlays/prod"])
    )
    images = {
        c["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"]
        for c in files.scraper_cronjobs(objects["overlays/prod"])
    }
    assert images == {"registry.example.com/metadata-enrichment/scrapers:0.1.0"}


def test_scraper_network_policy_reaches_the_server(objects: dict[str, Objects]) -> None:
    """The scrapers' own policy: no ingress, egress to DNS, HTTPS, the server's 50051 (the
    overlays add Postgres: test_egress_is_restricted_per_workload)."""
    for name, objs in objects.items():
        policy = files.find(objs, "NetworkPolicy", "tracklist-scraper")
        assert policy["spec"]["podSelector"] == {
            "matchLabels": {"app.kubernetes.io/component": "scraper"}
        }
        assert "ingress" not in policy["spec"], name
        ports = {p["port"] for r in policy["spec"]["egress"] for p in r["ports"]}
        assert ports == {53, 443, 50051}, name
        sa = files.find(objs, "ServiceAccount", "tracklist-scraper")
        assert sa["automountServiceAccountToken"] is False


def test_compose_runs_the_server_image_twice() -> None:
    """The server (the image's ENTRYPOINT) and the sandbox (enrichment-sandbox) share the
    server's image; compose's health check asks readiness (the Dockerfile's: liveness)."""
    services = files.load_compose()["services"]
    assert set(services) == {"server", "sandbox", "redis", "postgres", "prometheus", "scraper"}
    assert "entrypoint" not in services["server"]
    assert services["sandbox"]["entrypoint"] == ["enrichment-sandbox"]
    assert services["sandbox"]["image"] == services["server"]["image"]
    assert services["server"]["healthcheck"]["test"][-2:] == ["--service", "readiness"]


def test_compose_server_environment_is_offline_and_secret_free() -> None:
    """Every upstream URL points at the sandbox on loopback; secrets only from the shell."""
    env = files.environment(files.load_compose()["services"]["server"])
    urls = {k: v for k, v in env.items() if k.endswith("_URL") and "REDIS" not in k}
    upstream = {k: v for k, v in urls.items() if k != "ENRICHMENT_DATABASE_URL"}
    assert len(upstream) == 6
    assert all(v.startswith("http://127.0.0.1:87") for v in upstream.values())
    for key in ("ENRICHMENT_SECRET_KEY", "ENRICHMENT_ADMIN_TOKEN"):
        assert env[key] == f"${{{key}:-}}"
    # Upstream credentials: made-up sandbox values (overridable), the same for the sandbox.
    sandbox = files.environment(files.load_compose()["services"]["sandbox"])
    assert set(sandbox) == {k for k in env if k.endswith(("_API_KEY", "_CLIENT_ID", "_SECRET"))}
    for key, value in sandbox.items():
        assert env[key] == value
        assert value.startswith(f"${{{key}:-compose-sandbox-")


def test_compose_scraper_crawls_one_spider_only_on_request() -> None:
    """scraper: the scrapers image's tracklist-crawl for one spider, in the "scrape" profile
    (a plain `docker compose up` crawls nothing), against the compose server and Postgres,
    the real sites (no *_BASE_URL points elsewhere)."""
    compose = files.load_compose()
    scraper = compose["services"]["scraper"]
    assert scraper["profiles"] == ["scrape"]
    assert scraper["command"] == ["mixesdb"]
    env = files.environment(scraper)
    assert env["METADATA_ENRICHMENT_URL"] == "server:50051"
    assert not any(k.endswith("_BASE_URL") for k in env)
    server_db = files.environment(compose["services"]["server"])["ENRICHMENT_DATABASE_URL"]
    assert env["ENRICHMENT_DATABASE_URL"] == server_db
    assert scraper["depends_on"]["server"]["condition"] == "service_healthy"
    assert scraper["read_only"] is True


def test_prometheus_config_scrapes_the_job_the_alerts_name() -> None:
    """deploy/prometheus.yml loads the mounted alert rules and scrapes server:9090."""
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts/enrichment-alerts.yml"]
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "metadata-enrichment"
    assert 'up{job="metadata-enrichment"}' in rules.ALERTS.read_text()
    assert job["static_configs"][0]["targets"] == ["server:9090"]


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
            egress = _egress(objs, labels)
            assert all(r.get("ports") for r in egress), name
            assert {p["port"] for r in egress for p in r["ports"]} == ports, (name, labels)
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
        secret = files.find(objs, "Secret", "tracklist-scraper-secrets")
        assert set(secret["data"]) == {
            "ENRICHMENT_DATABASE_URL",
            "SETLISTFM_API_KEY",
            "SOUNDCLOUD_CLIENT_ID",
            "REDDIT_CLIENT_ID",
            "REDDIT_CLIENT_SECRET",
            "YOUTUBE_API_KEY",
        }, name
        for cronjob in files.scraper_cronjobs(objs):
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
    kubectl = tools.find_tool("kubectl")
    assert kubectl is not None
    return subprocess.run(
        [kubectl, "kustomize", str(path)], capture_output=True, text=True, timeout=120
    )


def _tracked_k8s(tmp_path: Path) -> Path:
    """A copy of k8s/ holding only what git tracks (a fresh clone's files)."""
    need_tools()
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
    env = files.server_environment(files.load_objects(result.stdout))
    for key in ("ENRICHMENT_SECRET_KEY", "ENRICHMENT_ADMIN_TOKEN", "ENRICHMENT_LASTFM_API_KEY"):
        assert env[key] == "", key


def test_prod_overlay_refuses_without_its_secret_files(tmp_path: Path) -> None:
    """Without the git-ignored secret files prod does not render, and the message names the
    file to create."""
    result = _kustomize(_tracked_k8s(tmp_path) / "overlays" / "prod")
    assert result.returncode != 0
    assert "overlays/prod/secrets/enrichment.env" in result.stderr
