#!/usr/bin/env bash
# The client and the scrapers install on their own, as a caller installs them: a fresh venv,
# `pip install ./enrichment_client ./scrapers` (pinned by requirements.lock as constraints),
# `scrapy list` shows every spider, and the client imports with the server and its
# dependencies absent. Run by .ci/run; ~1 minute from the local package index.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -c requirements.lock \
    ./enrichment_client ./scrapers
"$venv/bin/pip" check
spiders="$(cd /tmp && SCRAPY_SETTINGS_MODULE=scrapers.settings "$venv/bin/scrapy" list)"
echo "scrapy list: $(echo "$spiders" | wc -l) spiders: $(echo "$spiders" | tr '\n' ' ')"
[ "$(echo "$spiders" | wc -l)" -ge 10 ]
(cd /tmp && "$venv/bin/python" - <<'PY')
import importlib.util as u
absent = ["enrichment_server", "enrichment_sandbox", "opentelemetry", "redis",
          "alembic", "rapidfuzz", "pydantic_settings", "structlog"]
present = [name for name in absent if u.find_spec(name) is not None]
assert not present, f"installed with the client and scrapers: {present}"
import enrichment_client
from enrichment_client import EnrichmentClient, pb
print("client imports without the server:", EnrichmentClient.__name__, pb.__name__)
PY
"$venv/bin/enrichment" --help >/dev/null
echo "client + scrapers install: ok"
