"""The scrapers install and import without the server package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Runs in a fresh interpreter where importing enrichment_server fails outright.
PROBE = """
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "enrichment_server" or name.startswith("enrichment_server."):
            raise ImportError(f"scrapers imported {name}")
sys.meta_path.insert(0, Block())
import scrapers
names = [m.name for m in pkgutil.walk_packages(scrapers.__path__, "scrapers.")]
for name in names:
    importlib.import_module(name)
assert not any(m.startswith("enrichment_server") for m in sys.modules)
print(len(names), "modules")
"""


def test_every_scrapers_module_imports_without_the_server() -> None:
    """Each module under scrapers/ imports with enrichment_server made unimportable."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[0]) >= 12
