"""Readers of the deployment files for tests/deploy/rules.py: rendered Kubernetes objects,
Dockerfiles (dockerfile-parse, docker-py's .dockerignore matcher), compose.yaml, and the facts
the rules hold them to (Settings, the README's table, the spiders, the scrapers' variables)."""

from __future__ import annotations

import base64
import json
import re
import shlex
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from docker.utils.build import PatternMatcher
from docker.utils.fnmatch import fnmatch as docker_fnmatch
from dockerfile_parse import DockerfileParser
from scrapy.settings import Settings as ScrapySettings
from scrapy.spiderloader import SpiderLoader

from enrichment_server.config import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
SERVER = "enrichment-server"  # the Deployment, its HPA, PDB and NetworkPolicy
SCRAPER_LABEL = {"app.kubernetes.io/component": "scraper"}
CLIENT_PYPROJECT = ROOT / "enrichment_client" / "pyproject.toml"
Objects = Sequence[dict[str, Any]]


# --------------------------------------------------------------------------- project facts


@dataclass(frozen=True)
class Image:
    """One of our images: its Dockerfile, the repository containers name it by, the
    distributions it installs, the context paths it must not hold, whether it serves."""

    dockerfile: Path
    repository: str
    distributions: tuple[Path, ...]
    forbidden: tuple[str, ...] = ()
    serves: bool = False


SERVER_IMAGE = Image(
    ROOT / "deploy" / "server.Dockerfile",
    "metadata-enrichment/server",
    (CLIENT_PYPROJECT, ROOT / "pyproject.toml", ROOT / "enrichment_sandbox" / "pyproject.toml"),
    serves=True,
)
SCRAPERS_IMAGE = Image(
    ROOT / "deploy" / "scrapers.Dockerfile",
    "metadata-enrichment/scrapers",
    (CLIENT_PYPROJECT, ROOT / "scrapers" / "pyproject.toml"),
    forbidden=("enrichment_server", "pyproject.toml"),
)
IMAGES = (SERVER_IMAGE, SCRAPERS_IMAGE)


def image_of(reference: str) -> Image | None:
    """Our image a container or compose service names (registry and tag aside), if any."""
    name = re.sub(r":[^/:]*$", "", reference)
    return next((i for i in IMAGES if f"/{name}".endswith(f"/{i.repository}")), None)


def console_scripts(image: Image = SERVER_IMAGE) -> set[str]:
    """The console scripts of every distribution the image installs."""
    return {name for path in image.distributions for name in project(path).get("scripts", {})}


def project(pyproject: Path) -> dict[str, Any]:
    """The ``[project]`` table of a pyproject.toml."""
    with pyproject.open("rb") as f:
        return dict(tomllib.load(f)["project"])


def spider_names() -> list[str]:
    """The spiders' names, as Scrapy's own spider loader finds them in scrapers/spiders."""
    settings = ScrapySettings({"SPIDER_MODULES": ["scrapers.spiders"]})
    return sorted(SpiderLoader.from_settings(settings).list())


def scraper_variables() -> set[str]:
    """The environment variables scrapers/settings.py reads (``os.environ.get("NAME", ...)``)."""
    text = (ROOT / "scrapers" / "settings.py").read_text("utf-8")
    return set(re.findall(r'os\.(?:environ\.get|getenv)\(\s*"(\w+)"', text))


def _aliases(field: str) -> set[str]:
    choices = getattr(Settings.model_fields[field].validation_alias, "choices", [])
    return {str(c) for c in choices if str(c).isupper()}


def settings_variables() -> set[str]:
    """Every variable ``Settings`` reads: ENRICHMENT_<FIELD>, or the field's aliases."""
    return {v for f in Settings.model_fields for v in _aliases(f) or {f"ENRICHMENT_{f.upper()}"}}


def readme_variables() -> set[str]:
    """The variables of the README's configuration table, with the aliases rows name."""
    text = (ROOT / "README.md").read_text("utf-8")
    names = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", text, re.M))
    return names | set(re.findall(r"^\| `[A-Z0-9_]+` \|.*\(alias ([A-Z][A-Z0-9_]+)", text, re.M))


def settings_from(env: Mapping[str, str]) -> Settings:
    """The server's settings from an environment (unset or ``${...}``: the defaults; never
    os.environ); pydantic's ValidationError names each bad value."""
    aliases = {alias for field in Settings.model_fields for alias in _aliases(field)}
    values = {
        name if name in aliases else name.removeprefix("ENRICHMENT_").lower(): value
        for name, value in env.items()
        if "${" not in value and (name in aliases or name.startswith("ENRICHMENT_"))
    }
    return Settings.model_validate(values)


# --------------------------------------------------------------------------- rendered objects


def load_objects(rendered: str) -> list[dict[str, Any]]:
    """The objects of a multi-document YAML stream."""
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def find(objs: Objects, kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` whose name is ``name`` (or ``name`` + kustomize's hash)."""
    pattern = rf"{re.escape(name)}(-[a-z0-9]{{10}})?"
    hits = [o for o in objs if o["kind"] == kind and re.fullmatch(pattern, o["metadata"]["name"])]
    if len(hits) != 1:
        raise KeyError(f"expected one {kind} {name!r}, found {len(hits)}")
    return hits[0]


def pod_templates(objs: Objects) -> list[tuple[str, dict[str, Any]]]:
    """``(kind/name, pod template)`` of every workload, CronJobs included."""
    out = []
    for o in objs:
        spec = o.get("spec", {})
        template = spec.get("jobTemplate", {}).get("spec", spec).get("template")
        if o["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"} and template:
            out.append((f"{o['kind']}/{o['metadata']['name']}", template))
    return out


def labels_match(selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    """Whether a non-empty ``matchLabels`` selector selects ``labels``."""
    return bool(selector) and all(labels.get(k) == v for k, v in (selector or {}).items())


def selected(objs: Objects, selector: Mapping[str, str] | None, kind: str = "Pod") -> list[Any]:
    """The pod templates (or objects of ``kind``) a ``matchLabels`` selector selects."""
    candidates: list[Mapping[str, Any]] = [t for _, t in pod_templates(objs)]
    if kind != "Pod":
        candidates = [o for o in objs if o["kind"] == kind]
    return [c for c in candidates if labels_match(selector, c["metadata"].get("labels", {}))]


def ports_of(targets: Sequence[Mapping[str, Any]]) -> set[int | str]:
    """Names and numbers of the ports of pod templates or Services."""
    ports = [
        p for t in targets for c in t["spec"].get("containers", []) for p in c.get("ports", [])
    ]
    ports += [p for t in targets for p in t["spec"].get("ports", [])]
    return {p[k] for p in ports for k in ("name", "containerPort") if k in p}


def server_container(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """The server container of the Deployment."""
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "server")


def container_port(container: Mapping[str, Any], name: str) -> int | None:
    """The containerPort of the named port (None: no such port)."""
    ports = [int(p["containerPort"]) for p in container.get("ports", []) if p.get("name") == name]
    return ports[0] if ports else None


def server_environment(objs: Objects, secrets: bool = True) -> dict[str, str]:
    """The server container's environment: envFrom ConfigMaps (and decoded Secrets) in order,
    then ``env`` (Kubernetes' precedence)."""
    container = server_container(find(objs, "Deployment", SERVER))
    data = {(o["kind"], o["metadata"]["name"]): o.get("data", {}) for o in objs}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(data.get(("ConfigMap", source["configMapRef"]["name"]), {}))
        if "secretRef" in source and secrets:
            values = data.get(("Secret", source["secretRef"]["name"]), {})
            env.update({k: base64.b64decode(v).decode() for k, v in values.items()})
    env.update({e["name"]: str(e["value"]) for e in container.get("env", []) if "value" in e})
    return env


def expand_env(container: Mapping[str, Any], namespace: str) -> dict[str, str]:
    """A container's literal ``env`` with ``$(VAR)`` expanded as the kubelet does
    (``fieldRef: metadata.namespace`` is ``namespace``)."""
    env: dict[str, str] = {}
    for item in container.get("env", []):
        if item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
            env[item["name"]] = namespace
        elif "value" in item:
            value = str(item["value"])
            env[item["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]), value)
    return env


def is_scraper(template: Mapping[str, Any]) -> bool:
    """Whether a pod template carries the scraper label."""
    return labels_match(SCRAPER_LABEL, template["metadata"].get("labels", {}))


def scraper_cronjobs(objs: Objects) -> list[dict[str, Any]]:
    """The CronJobs whose pods carry the scraper label."""
    jobs = [o for o in objs if o["kind"] == "CronJob"]
    return [o for o in jobs if is_scraper(o["spec"]["jobTemplate"]["spec"]["template"])]


# --------------------------------------------------------------------------- Dockerfiles


@dataclass(frozen=True)
class Stage:
    """A Dockerfile's final stage (and every stage's build-context COPY sources)."""

    entrypoint: list[str]
    healthcheck: list[str]
    user: str
    workdir: str
    env: dict[str, str]
    expose: set[str]
    copies: list[str]


def exec_form(args: str) -> list[str]:
    """The JSON (exec) form of ENTRYPOINT/CMD; empty for the shell form."""
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def read_dockerfile(path: Path) -> Stage:
    """A Dockerfile, as dockerfile-parse reads it."""
    parser = DockerfileParser(str(path))
    items = [(i["instruction"], i["value"].strip()) for i in parser.structure]
    final = items[max(n for n, (k, _) in enumerate(items) if k == "FROM") :]
    last, copies = dict(final), []
    for parts in (exec_form(a) or shlex.split(a) for k, a in items if k in {"COPY", "ADD"}):
        if not any(p.startswith("--from") for p in parts):
            copies += [p for p in parts if not p.startswith("--")][:-1]
    health = last.get("HEALTHCHECK", "").split("CMD ", 1)
    return Stage(
        exec_form(last.get("ENTRYPOINT", "")),
        exec_form(health[1]) if len(health) == 2 else [],
        last.get("USER", "0"),
        last.get("WORKDIR", "/"),
        dict(parser.envs),
        {p.split("/")[0] for k, v in final if k == "EXPOSE" for p in v.split()},
        copies,
    )


def dockerignore_patterns(dockerfile: Path) -> list[str]:
    """The patterns of the ignore file BuildKit uses: ``<Dockerfile>.dockerignore``, else the
    context's ``.dockerignore`` (none: nothing ignored)."""
    path = dockerfile.with_name(f"{dockerfile.name}.dockerignore")
    path = path if path.is_file() else ROOT / ".dockerignore"
    lines = path.read_text("utf-8").splitlines() if path.is_file() else []
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: Sequence[str]) -> bool:
    """Whether Docker leaves ``path`` out of the build context, by docker-py's matcher
    (``*`` stays within a segment, ``**`` crosses them, the last match wins)."""
    # types-docker types the argument as PathLike; the matcher calls str methods on it.
    return bool(PatternMatcher(list(patterns)).matches(path.strip("/")))  # type: ignore[arg-type]


def copies(source: str, path: str) -> bool:
    """Whether a COPY source (maybe a glob, matched by Docker's rules) takes in ``path``."""
    source, parts = source.strip().strip("/"), path.strip("/").split("/")
    prefixes = ("/".join(parts[: i + 1]) for i in range(len(parts)))
    return source in {"", "."} or any(docker_fnmatch(p, source) for p in prefixes)


# --------------------------------------------------------------------------- compose.yaml


def load_compose() -> dict[str, Any]:
    """compose.yaml, parsed."""
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8")))


def as_list(value: Any) -> list[str]:
    """A compose command / entrypoint / tmpfs / healthcheck test as a list."""
    if value is None or isinstance(value, str):
        return shlex.split(value or "")
    return [str(v) for v in value]


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    """A compose service's environment (mapping or list form)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def seconds(duration: str) -> float:
    """A compose duration ("20s", "1m30s") in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"([\d.]+)(ms|h|m|s)", duration))


def crawl_spiders(argv: Sequence[str]) -> list[str]:
    """The spider names of a ``tracklist-crawl`` command line (its positional arguments)."""
    spiders, skip = [], False
    for arg in argv[1:]:
        if not skip and not arg.startswith("-"):
            spiders.append(arg)
        skip = not skip and arg in {"-s", "--set", "--stats-out"}
    return spiders
