# syntax=docker/dockerfile:1
#
# The scrapers image: `docker build -f deploy/scrapers.Dockerfile -t metadata-enrichment/scrapers .`
# (the build context is the repository root). It holds the `tracklist-scrapers` distribution
# (scrapers/pyproject.toml) and the client package it needs, and NOT the server: no
# enrichment_server, no root pyproject.toml (the server's "metadata-enrichment" distribution).
#
#   docker run --rm metadata-enrichment/scrapers mixesdb       # tracklist-crawl mixesdb
#   docker run --rm metadata-enrichment/scrapers               # every spider
#
# The client is its own distribution (enrichment_client/pyproject.toml). Every dependency is
# installed at the version
# pinned in requirements.lock (a constraints file: the dev tools it also pins are never
# installed). No secret is baked in: keys and the database URL come from the environment.
#
# Build-context ignores live in deploy/scrapers.Dockerfile.dockerignore (an allow-list).

FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN python -m venv /opt/venv
WORKDIR /src

# Dependencies first (their own layer: rebuilt only when the pins or the dependency lists
# change): the client's, plus the scrapers' [project].dependencies except the client itself.
COPY requirements.lock ./
COPY enrichment_client/pyproject.toml ./client/pyproject.toml
COPY scrapers/pyproject.toml ./scrapers/pyproject.toml
COPY deploy/runtime_requirements.py ./
RUN /opt/venv/bin/python runtime_requirements.py runtime.txt client/pyproject.toml scrapers/pyproject.toml \
 && /opt/venv/bin/pip install --only-binary=:all: -c requirements.lock -r runtime.txt

# Then the two distributions, as wheels (no dependencies: installed and pinned above). The
# checks: pip's dependency check, the server is not importable, every scrapers module (every
# spider) imports. They run from / so the sources in /src cannot stand in for the wheels.
COPY enrichment_client ./client
COPY scrapers ./scrapers
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /tmp/wheels ./client ./scrapers \
 && /opt/venv/bin/pip install --no-deps /tmp/wheels/*.whl \
 && /opt/venv/bin/pip check
WORKDIR /
RUN /opt/venv/bin/python -c "import importlib.util as u, sys; sys.exit(u.find_spec('enrichment_server') is not None)" \
 && /opt/venv/bin/python -c "import importlib, pkgutil, scrapers; [importlib.import_module(m.name) for m in pkgutil.walk_packages(scrapers.__path__, 'scrapers.')]" \
 && /opt/venv/bin/pip uninstall --yes pip setuptools wheel

FROM python:3.11-slim AS runtime

ARG APP_UID=10001

# A numeric non-root user (Kubernetes' runAsNonRoot can verify a number, not a name).
RUN groupadd --system --gid "${APP_UID}" app \
 && useradd --system --uid "${APP_UID}" --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app

COPY --from=builder /opt/venv /opt/venv

# HOME, TMPDIR and the working directory are /tmp, the one writable place under a read-only root
# filesystem (Kubernetes mounts an emptyDir there, compose a tmpfs): a relative SQLite URL or
# --stats-out file lands there. The database URL itself comes from ENRICHMENT_DATABASE_URL.
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    TMPDIR=/tmp \
    SCRAPY_SETTINGS_MODULE=scrapers.settings

WORKDIR /tmp
USER 10001:10001

# Arguments are spider names (none: every spider) and `-s NAME=VALUE` overrides.
ENTRYPOINT ["tracklist-crawl"]
