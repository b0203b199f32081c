#!/usr/bin/env bash
# Install the system tools the tests use when they are missing: promtool (Debian package
# prometheus; no PyPI or npm package ships it). Idempotent; apt only when unavoidable.
set -euo pipefail
if ! command -v promtool >/dev/null 2>&1; then
    echo "promtool missing: installing Debian's prometheus package (the daemon is not started)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
echo "promtool: $(promtool --version 2>&1 | head -1)"
# The README's ops recipes (run by tests/integration/test_recipes.py) use sqlite3 and curl.
missing=()
for tool in sqlite3 curl; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} with apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The console's browser tests (tests/browser/) drive Debian's chromium through PyPI playwright
# (executable_path=/usr/bin/chromium); `playwright install` downloads browsers and cannot run
# offline, so the browser comes from apt. jq: the seed's curl recipes pipe through it.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v jq >/dev/null 2>&1 || missing+=(jq)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} with apt"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "chromium: $(chromium --version 2>/dev/null | head -1)"
