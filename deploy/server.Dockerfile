# syntax=docker/dockerfile:1
#
# The enrichment server image: `docker build -f deploy/server.Dockerfile -t metadata-enrichment/server .`
# (the build context is the repository root). The image also carries the `enrichment` CLI (used
# by the health check) and `enrichment-sandbox` (compose.yaml's offline upstreams).
#
# Runtime packages are exactly the `[project].dependencies` of pyproject.toml, at the versions
# pinned in requirements.lock (used as a constraints file: the dev tools it also pins are never
# installed). No secret is baked in: every credential comes from the environment at run time.
#
# Build-context ignores live in deploy/server.Dockerfile.dockerignore (BuildKit reads a
# <Dockerfile>.dockerignore beside the Dockerfile before the root .dockerignore).

FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN python -m venv /opt/venv
WORKDIR /src

# Dependencies first (their own layer: rebuilt only when the pins or the dependency lists
# change): the server's and the client's [project].dependencies (the server depends on the
# client's distribution, which is built below, not fetched).
COPY pyproject.toml requirements.lock ./
COPY enrichment_client/pyproject.toml ./enrichment_client/pyproject.toml
COPY deploy/runtime_requirements.py ./
RUN python runtime_requirements.py runtime.txt pyproject.toml enrichment_client/pyproject.toml \
 && /opt/venv/bin/pip install --only-binary=:all: -c requirements.lock -r runtime.txt

# Then the distributions, as wheels (no dependencies: installed and pinned above): the client,
# the server, and the sandbox (compose.yaml's offline upstreams run from this image; the
# sandbox needs only aiohttp, already installed for the server).
COPY README.md ./
COPY enrichment_server ./enrichment_server
COPY enrichment_client ./enrichment_client
COPY enrichment_sandbox ./enrichment_sandbox
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /tmp/wheels ./enrichment_client . ./enrichment_sandbox \
 && /opt/venv/bin/pip install --no-deps /tmp/wheels/*.whl \
 && /opt/venv/bin/pip check \
 && /opt/venv/bin/pip uninstall --yes pip setuptools wheel

FROM python:3.11-slim AS runtime

ARG APP_UID=10001

# A numeric non-root user (Kubernetes' runAsNonRoot can verify a number, not a name); the data
# directory holds the default SQLite file when no ENRICHMENT_DATABASE_URL is given.
RUN groupadd --system --gid "${APP_UID}" app \
 && useradd --system --uid "${APP_UID}" --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app \
 && install -d -o "${APP_UID}" -g "${APP_UID}" -m 0750 /var/lib/enrichment

COPY --from=builder /opt/venv /opt/venv

# HOME and TMPDIR point at /tmp so a read-only root filesystem (Kubernetes mounts an emptyDir
# there) works; logs are JSON on stderr (ENRICHMENT_LOG_FORMAT=auto, no terminal).
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    TMPDIR=/tmp

# The working directory is the data directory, so the default SQLite URL
# (sqlite+aiosqlite:///enrichment.db, relative) lands on the mounted volume.
WORKDIR /var/lib/enrichment
USER 10001:10001

# gRPC (ENRICHMENT_GRPC_PORT) and Prometheus /metrics (ENRICHMENT_METRICS_PORT).
EXPOSE 50051 9090

# Docker-only; Kubernetes uses its native gRPC probes. The CLI reaches the server on loopback.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["enrichment", "--target", "127.0.0.1:50051", "--timeout", "3", "health", "--service", "liveness"]

ENTRYPOINT ["enrichment-server"]
