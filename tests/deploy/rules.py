"""The project's own deployment rules: what joins files that no maintained tool reads together
(the tools, tests/deploy/tools.py, cover the rest). Each ``check_*`` returns its problems
(empty: the rule holds); scripts/validate_deploy.py runs them, and
tests/deploy/test_deploy_checks.py breaks each one. The file readers: tests/deploy/files.py.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pydantic import ValidationError

from enrichment_server.api.health import LIVENESS, READINESS
from enrichment_server.config import Settings
from tests.deploy.files import (
    IMAGES,
    ROOT,
    SCRAPER_LABEL,
    SCRAPERS_IMAGE,
    SERVER,
    Image,
    Objects,
    as_list,
    console_scripts,
    container_port,
    copies,
    crawl_spiders,
    dockerignore_patterns,
    environment,
    expand_env,
    find,
    ignored,
    image_of,
    is_scraper,
    labels_match,
    load_compose,
    load_objects,
    pod_templates,
    ports_of,
    project,
    read_dockerfile,
    readme_variables,
    scraper_cronjobs,
    scraper_variables,
    seconds,
    selected,
    server_container,
    server_environment,
    settings_from,
    settings_variables,
    spider_names,
)

ALERTS = ROOT / "monitoring" / "prometheus" / "alerts" / "enrichment-alerts.yml"
HEADLESS = "enrichment-headless"
SERVER_COMMAND, SCRAPER_COMMAND = "enrichment-server", "tracklist-crawl"
ENV_PREFIXES = ("ENRICHMENT_", "OTEL_")
#: Process variables a scraper may set besides those scrapers/settings.py reads.
SCRAPER_PROCESS_VARIABLES = frozenset({"POD_NAMESPACE", "HOME", "TMPDIR", "SCRAPY_SETTINGS_MODULE"})


def unless(holds: bool, problem: str) -> list[str]:
    """``[problem]`` unless the rule holds."""
    return [] if holds else [problem]


def check_variables(names: Collection[str], where: str) -> list[str]:
    """Each ENRICHMENT_* / OTEL_* name is a Settings variable in the README table."""
    known = settings_variables() & readme_variables()
    unknown = sorted(n for n in set(names) - known if n.startswith(ENV_PREFIXES))
    return [f"{where}: {n} is not a Settings variable in the README table" for n in unknown]


# --------------------------------------------------------------------------- Kubernetes


def check_server(objs: Objects) -> list[str]:
    """The server's ports, probes, scrape annotation and shutdown time follow its settings;
    its PodDisruptionBudget and NetworkPolicy select its pods."""
    deployment = find(objs, "Deployment", SERVER)
    pod, container = deployment["spec"]["template"], server_container(deployment)
    try:
        settings = settings_from(server_environment(objs, secrets=False))
    except ValidationError as exc:
        return [f"the server's settings are invalid: {exc}"]
    grpc, http = settings.grpc_port, settings.http_port
    problems = unless(container_port(container, "grpc") == grpc, f"gRPC port is not {grpc}")
    problems += unless(container_port(container, "metrics") == http, f"metrics port is not {http}")
    probes = {"startupProbe": LIVENESS, "livenessProbe": LIVENESS, "readinessProbe": READINESS}
    for probe, service in probes.items():
        grpc_probe = container.get(probe, {}).get("grpc")
        problems += unless(grpc_probe == {"port": grpc, "service": service}, f"{probe} is wrong")
    for kind in ("PodDisruptionBudget", "NetworkPolicy"):
        spec = find(objs, kind, SERVER)["spec"]
        selector = spec.get("selector", spec.get("podSelector", {})).get("matchLabels")
        selects = labels_match(selector, pod["metadata"]["labels"])
        problems += unless(selects, f"{kind} {SERVER} does not select the server pods")
    scrape = pod["metadata"].get("annotations", {})
    scraped = (scrape.get("prometheus.io/scrape"), scrape.get("prometheus.io/port"))
    problems += unless(scraped == ("true", str(http)), f"prometheus.io/* do not scrape {http}")
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
    needed = pre_stop + settings.drain_s + settings.grace_period_s
    grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
    return problems + unless(
        grace > needed, f"terminationGracePeriodSeconds {grace} <= preStop + drain + grace {needed}"
    )


def check_references(objs: Objects) -> list[str]:
    """Selectors select, on ports their targets have; an HPA's Deployment sets no replicas;
    envFrom / secretKeyRef name rendered objects and keys; every object in the one Namespace."""
    problems = []
    for o in objs:
        where, spec = f"{o['kind']}/{o['metadata']['name']}", o.get("spec", {})
        if o["kind"] == "Service":
            targets = selected(objs, spec.get("selector"))
            ports = [p.get("targetPort", p["port"]) for p in spec["ports"]]
        elif o["kind"] == "NetworkPolicy" and spec["podSelector"]:
            targets = selected(objs, spec["podSelector"].get("matchLabels"))
            ports = [p["port"] for rule in spec.get("ingress", []) for p in rule.get("ports", [])]
        elif o["kind"] in {"PodDisruptionBudget", "ServiceMonitor"}:
            kind = "Service" if o["kind"] == "ServiceMonitor" else "Pod"
            targets = selected(objs, spec["selector"].get("matchLabels"), kind)
            ports = [e.get("port") for e in spec.get("endpoints", [])]
        else:
            continue
        problems += unless(bool(targets), f"{where}: selects nothing")
        problems += [
            f"{where}: no target has port {p}" for p in ports if p not in ports_of(targets)
        ]
    rendered = {(o["kind"], o["metadata"]["name"]): o for o in objs}
    for ref in (
        o["spec"]["scaleTargetRef"] for o in objs if o["kind"] == "HorizontalPodAutoscaler"
    ):
        target = rendered.get((ref["kind"], ref["name"]), {"spec": {"replicas": "absent"}})
        message = f"{ref['name']}: not rendered, or sets replicas beside its HPA"
        problems += unless("replicas" not in target["spec"], message)
    for where, template in pod_templates(objs):
        for c in template["spec"]["containers"]:
            refs = [(k, s[k]["name"], "") for s in c.get("envFrom", []) for k in s if "Ref" in k]
            value_from = [item for e in c.get("env", []) for item in e.get("valueFrom", {}).items()]
            refs += [(k, ref["name"], ref["key"]) for k, ref in value_from if "KeyRef" in k]
            for key, name, item in refs:
                obj = rendered.get(("Secret" if key.startswith("secret") else "ConfigMap", name))
                found = obj is not None and (not item or item in obj.get("data", {}))
                problems += unless(found, f"{where}: {key} {name} {item or '(all)'} is missing")
    namespaces = [o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"]
    problems += unless(len(namespaces) == 1, f"renders the Namespaces {namespaces}, not one")
    outside = [
        o
        for o in objs
        if o["kind"] != "Namespace" and o["metadata"].get("namespace") not in namespaces
    ]
    return problems + [
        f"{o['kind']}/{o['metadata']['name']}: not in the Namespace" for o in outside
    ]


def check_containers(objs: Objects) -> list[str]:
    """Each container of our images (:func:`check_process`), without service links (the
    Service ``enrichment`` would inject ENRICHMENT_* variables)."""
    problems = []
    database = server_environment(objs).get("ENRICHMENT_DATABASE_URL", "")
    for where, template in pod_templates(objs):
        spec = template["spec"]
        for c in spec["containers"]:
            image = image_of(c["image"])
            if image is None:
                continue
            command = c.get("command") or read_dockerfile(image.dockerfile).entrypoint
            user = c.get("securityContext", {}).get("runAsUser")
            user = user or spec.get("securityContext", {}).get("runAsUser")
            mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
            found = check_process(
                image, [*command, *c.get("args", [])], str(user), mounts, database
            )
            found += unless(spec.get("enableServiceLinks") is False, "service links are on")
            problems += [f"{where}: {p}" for p in found]
    return problems


def admits(objs: Objects, pods: Mapping[str, str], way: str, port: Any, peer: Any) -> bool:
    """Whether a NetworkPolicy of the ``pods`` (labels) lets ``port`` through, ``way``
    ("ingress": from, "egress": to) the ``peer`` pods (labels)."""
    key = "from" if way == "ingress" else "to"
    policies = [o["spec"] for o in objs if o["kind"] == "NetworkPolicy"]
    mine = [p for p in policies if labels_match(p["podSelector"].get("matchLabels"), pods)]
    for rule in (r for p in mine for r in p.get(way, [])):
        peers = [p.get("podSelector", {}).get("matchLabels") for p in rule.get(key, [])]
        if port in {p.get("port") for p in rule.get("ports", [])} and (
            key not in rule or any(labels_match(s, peer) for s in peers)
        ):
            return True
    return False


def check_scraper_env(names: Collection[str], argv: Sequence[str]) -> list[str]:
    """A scraper (CronJob or compose) sets the server and database URLs, only variables
    scrapers/settings.py reads, never SCRAPERS_LOOPBACK_ONLY (it refuses every real site)."""
    unknown = set(names) - scraper_variables() - SCRAPER_PROCESS_VARIABLES
    problems = [f"{n} is not a variable scrapers/settings.py reads" for n in sorted(unknown)]
    for name in ("METADATA_ENRICHMENT_URL", "ENRICHMENT_DATABASE_URL"):
        problems += unless(name in names, f"{name} is not set")
    loopback = any("SCRAPERS_LOOPBACK_ONLY" in x for x in [*names, *argv])
    return problems + unless(not loopback, "sets SCRAPERS_LOOPBACK_ONLY (refuses every site)")


def check_scrapers(objs: Objects) -> list[str]:
    """One CronJob per spider, each ``tracklist-crawl <spider>``, Forbid, a schedule of its
    own, let through to the server's gRPC port by both NetworkPolicies, the headless Service
    of its namespace as METADATA_ENRICHMENT_URL, the scrapers' own variables."""
    deployment = find(objs, "Deployment", SERVER)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    port = container_port(server_container(deployment), "grpc")
    headless = find(objs, "Service", HEADLESS)["spec"]
    problems = unless(
        headless.get("clusterIP") == "None" and labels_match(headless.get("selector"), labels),
        f"Service {HEADLESS} is not headless over the server pods",
    )
    egress = admits(objs, SCRAPER_LABEL, "egress", port, labels)
    problems += unless(egress, f"no NetworkPolicy lets scraper pods reach the server's {port}")
    run: list[str] = []
    schedules, cronjobs = set(), scraper_cronjobs(objs)
    for cronjob in cronjobs:
        spec, namespace = cronjob["spec"], cronjob["metadata"]["namespace"]
        pod = spec["jobTemplate"]["spec"]["template"]
        container = pod["spec"]["containers"][0]
        argv = [*container.get("command", []), *container.get("args", [])]
        run, url = run + argv[1:], f"dns:///{HEADLESS}.{namespace}.svc.cluster.local:{port}"
        schedules.add(spec["schedule"])
        found = check_scraper_env({e["name"] for e in container.get("env", [])}, argv)
        found += unless(argv[:1] == [SCRAPER_COMMAND] and len(argv) == 2, f"runs {argv}")
        found += unless(
            spec.get("concurrencyPolicy") == "Forbid", "concurrencyPolicy is not Forbid"
        )
        env_url = expand_env(container, namespace).get("METADATA_ENRICHMENT_URL")
        found += unless(env_url == url, f"METADATA_ENRICHMENT_URL is not {url}")
        ingress = admits(objs, labels, "ingress", port, pod["metadata"]["labels"])
        found += unless(ingress, "the server's NetworkPolicy does not admit its pods")
        problems += [f"CronJob/{cronjob['metadata']['name']}: {p}" for p in found]
    spiders = spider_names()
    problems += unless(sorted(run) == spiders, f"CronJobs run {sorted(run)}, not one per spider")
    return problems + unless(len(schedules) == len(cronjobs), "CronJobs share a schedule")


def manifest_variables(objs: Objects) -> set[str]:
    """The ENRICHMENT_* / OTEL_* names the manifests set (ConfigMap and Secret keys, env) but
    in scraper pods (:func:`check_scrapers`)."""
    names = {k for o in objs if o["kind"] in {"ConfigMap", "Secret"} for k in o.get("data", {})}
    for _, template in pod_templates(objs):
        if not is_scraper(template):
            names |= {e["name"] for c in template["spec"]["containers"] for e in c.get("env", [])}
    return {n for n in names if n.startswith(ENV_PREFIXES)}


def check_rendered(rendered: str) -> list[str]:
    """Every rule on one rendered kustomization."""
    return check_objects(load_objects(rendered))


def check_objects(objs: Objects) -> list[str]:
    """Every rule on the objects of one rendered kustomization."""
    problems = check_server(objs) + check_references(objs) + check_containers(objs)
    return problems + check_scrapers(objs) + check_variables(manifest_variables(objs), "env")


# --------------------------------------------------------------------------- images


def check_command(argv: Sequence[str], image: Image, what: str) -> list[str]:
    """``argv`` runs a console script of the image (exec form)."""
    ok = bool(argv) and argv[0] in console_scripts(image)
    return unless(ok, f"{what} {list(argv[:1])} is not a console script of {image.repository}")


def check_health(argv: Sequence[str], image: Image, grpc_port: int) -> list[str]:
    """A health check runs a console script against the gRPC port and a health service."""
    options = dict(itertools.pairwise(argv))
    problems = check_command(argv, image, "the health check")
    target = options.get("--target", "").endswith(f":{grpc_port}")
    problems += unless(target, f"the health check's --target is not port {grpc_port}")
    service = options.get("--service") in {LIVENESS, READINESS}
    return problems + unless(service, "the health check's --service is no health service")


def check_process(
    image: Image, argv: Sequence[str], user: str, mounts: Collection[str], database: str
) -> list[str]:
    """A container of the image runs a console script, as the image's user, with the image's
    TMPDIR (and, for the server, a SQLite database's directory) on a mount."""
    stage = read_dockerfile(image.dockerfile)
    problems = check_command(argv, image, "runs")
    uid = stage.user.split(":")[0]
    problems += unless(user.split(":")[0] == uid, f"runs as {user}, not the image's user {uid}")
    needed = {stage.env.get("TMPDIR", "/tmp")}  # noqa: S108 - the image's default
    database = database or str(Settings.model_fields["database_url"].default)
    if argv[:1] == [SERVER_COMMAND] and database.startswith("sqlite"):
        needed.add(str(PurePosixPath(stage.workdir, database.split(":///", 1)[1]).parent))
    return problems + [f"{d} is not a mounted volume" for d in sorted(needed - set(mounts))]


def check_dockerfile(image: Image, path: Path | None = None) -> list[str]:
    """COPY sources exist, pass the .dockerignore and take in nothing forbidden; ENTRYPOINT
    and HEALTHCHECK run the image's console scripts; the server EXPOSEs the default ports;
    the runtime dependencies are pinned."""
    path = path or image.dockerfile
    stage, patterns, problems = read_dockerfile(path), dockerignore_patterns(path), []
    for source in stage.copies:
        problems += unless((ROOT / source).exists(), f"COPY source {source} does not exist")
        problems += unless(not ignored(source, patterns), f"COPY {source}: ignored by Docker")
        held = [f for f in image.forbidden if copies(source, f) and not ignored(f, patterns)]
        problems += [f"COPY {source} takes in {f}, which this image must not hold" for f in held]
    defaults = settings_from({})
    problems += check_command(stage.entrypoint, image, "ENTRYPOINT")
    if stage.healthcheck:
        problems += check_health(stage.healthcheck, image, defaults.grpc_port)
    expose = {str(defaults.grpc_port), str(defaults.http_port)} if image.serves else set()
    problems += unless(stage.expose == expose, f"EXPOSE is not the default ports {expose}")
    return problems + check_lock_pins(image)


def check_lock_pins(image: Image) -> list[str]:
    """The dependencies of every distribution the image installs are pinned in
    requirements.lock (ours aside: the image builds them)."""
    lines = (ROOT / "requirements.lock").read_text("utf-8").splitlines()
    pins = {canonicalize_name(x.split("==")[0]) for x in lines if "==" in x and x[0] != "#"}
    own = {canonicalize_name(project(p)["name"]) for i in IMAGES for p in i.distributions}
    deps = [d for p in image.distributions for d in project(p).get("dependencies", [])]
    unpinned = {canonicalize_name(Requirement(d).name) for d in deps} - own - pins
    return [f"requirements.lock does not pin the dependency {d}" for d in sorted(unpinned)]


# --------------------------------------------------------------------------- compose


def check_compose(compose: Mapping[str, Any] | None = None) -> list[str]:
    """compose.yaml (or ``compose``): each service (:func:`check_service`), the server's
    published ports and stop grace period, the sandbox's ports, the Prometheus wiring."""
    services = (compose or load_compose())["services"]
    try:
        settings = settings_from(environment(services["server"]))
    except ValidationError as exc:
        return [f"server: invalid settings: {exc}"]
    problems = []
    for name, service in services.items():
        problems += [f"{name}: {p}" for p in check_service(service, services, settings)]
    published = {int(str(p).rsplit(":", 1)[1]) for p in services["server"].get("ports", [])}
    ports = {settings.grpc_port, settings.http_port}
    problems += unless(published == ports, f"server: publishes {published}, not {ports}")
    stop = seconds(str(services["server"].get("stop_grace_period", "10s")))
    drain = settings.drain_s + settings.grace_period_s
    problems += unless(stop > drain, f"server: stop_grace_period {stop}s <= drain + grace")
    return problems + check_sandbox(services) + check_prometheus(services, settings.http_port)


def check_service(
    service: Mapping[str, Any], services: Mapping[str, Any], settings: Settings
) -> list[str]:
    """Mounts and named services exist; a service of our images builds that image's
    Dockerfile and runs as :func:`check_process` and :func:`check_health` say; the server's
    variables are settings, a scraper's the scrapers', its spiders named, in a profile."""
    volumes = [str(v).split(":") for v in service.get("volumes", [])]
    sources = [v[0] for v in volumes if v[0].startswith((".", "/"))]
    problems = [f"mounted {s} does not exist" for s in sources if not (ROOT / s).exists()]
    mode = str(service.get("network_mode", ""))
    named = list(service.get("depends_on") or [])
    named += [mode.removeprefix("service:")] if mode.startswith("service:") else []
    problems += [f"names the unknown service {n}" for n in named if n not in services]
    image = image_of(str(service.get("image", "")))
    if image is None:
        return problems
    build = service.get("build") or {"dockerfile": image.dockerfile}
    dockerfile = (ROOT / build.get("context", ".") / build["dockerfile"]).resolve()
    problems += unless(dockerfile == image.dockerfile, f"builds {dockerfile.name}")
    entrypoint = as_list(service.get("entrypoint")) or read_dockerfile(image.dockerfile).entrypoint
    argv = [*entrypoint, *as_list(service.get("command"))]
    mounts = {v[1] for v in volumes} | {t.split(":")[0] for t in as_list(service.get("tmpfs"))}
    user = str(service.get("user", "0"))
    problems += check_process(image, argv, user, mounts, settings.database_url)
    test = as_list((service.get("healthcheck") or {}).get("test"))
    problems += unless(test[:1] in ([], ["CMD"]), "the health check is not exec form (CMD)")
    problems += check_health(test[1:], image, settings.grpc_port) if test else []
    env = environment(service)
    if image != SCRAPERS_IMAGE:
        return problems + check_variables(env, "environment")
    spiders, known = crawl_spiders(argv), spider_names()
    named_ok = bool(spiders) and set(spiders) <= set(known)
    problems += unless(named_ok, f"crawls {spiders}, not one or more of the spiders {known}")
    problems += unless(bool(service.get("profiles")), "no profile: `up` would crawl real sites")
    return problems + check_scraper_env(set(env), argv)


def check_sandbox(services: Mapping[str, Any]) -> list[str]:
    """The sandbox shares the server's network namespace, and each of its five fixed ports is
    the port of the server's URL for that upstream."""
    sandbox, urls = services["sandbox"], environment(services["server"])
    shared = sandbox.get("network_mode") == "service:server"
    problems = unless(shared, "sandbox: does not share the server's network namespace")
    ports = dict(re.findall(r"--(\w+)-port[= ](\d+)", " ".join(as_list(sandbox.get("command")))))
    for name, port in ports.items():
        upstream = f"ENRICHMENT_{name.upper()}"
        url = urls.get(f"{upstream}_URL", urls.get(f"{upstream}_API_URL", ""))
        problems += unless(f"127.0.0.1:{port}" in url, f"server: {name} URL is not port {port}")
    return problems + unless(len(ports) == 5, "sandbox: does not fix all five upstream ports")


def check_prometheus(services: Mapping[str, Any], metrics_port: int) -> list[str]:
    """Prometheus loads the mounted alert rules and scrapes the job they select at the
    server's metrics port."""
    volumes = [str(v).split(":") for v in services["prometheus"].get("volumes", [])]
    mounts = {v[1]: (ROOT / v[0]).resolve() for v in volumes if v[0].startswith((".", "/"))}
    if "/etc/prometheus/prometheus.yml" not in mounts:
        return ["prometheus: prometheus.yml is not mounted"]
    config = yaml.safe_load(mounts["/etc/prometheus/prometheus.yml"].read_text("utf-8"))
    rules = config.get("rule_files", [])
    problems = [f"prometheus: rule file {r} is not mounted" for r in rules if r not in mounts]
    problems += unless(ALERTS.resolve() in mounts.values(), "prometheus: alerts are not mounted")
    jobs = {job["job_name"]: job for job in config.get("scrape_configs", [])}
    selected_jobs = set(re.findall(r'job="([^"]+)"', ALERTS.read_text("utf-8")))
    problems += [f"prometheus: no scrape job {j}" for j in sorted(selected_jobs - set(jobs))]
    targets = {t for j in jobs.values() for c in j.get("static_configs", []) for t in c["targets"]}
    scraped = f"server:{metrics_port}" in targets
    return problems + unless(scraped, f"prometheus: does not scrape server:{metrics_port}")
