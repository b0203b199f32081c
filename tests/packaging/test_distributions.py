"""The four distributions hold what they should: the server's wheel holds only the server.

Issue 14: the sandbox, the demo and the scrapers are tools beside the product; the client is a
distribution of its own. These tests build the real wheels and import the real modules.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IGNORED = ("__pycache__", "build", "*.egg-info", ".venv", "node_modules", ".git")

#: Runs in a fresh interpreter: imports every enrichment_server module while the tools are
#: made unimportable, then prints how many modules it imported.
SERVER_PROBE = """
import importlib, pkgutil, sys
TOOLS = ("enrichment_sandbox", "scrapers", "bench", "tests")
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in TOOLS:
            raise ImportError(f"the server imported {name}")
sys.meta_path.insert(0, Block())
import enrichment_server
names = [m.name for m in pkgutil.walk_packages(enrichment_server.__path__, "enrichment_server.")]
# Alembic's env.py and revisions run only under Alembic (they need its context to import).
names = [n for n in names if ".migrations." not in n]
for name in names:
    importlib.import_module(name)
print(len(names))
"""

#: Imports the client with every server-only dependency made unimportable.
CLIENT_PROBE = """
import importlib, pkgutil, sys
SERVER_ONLY = ("enrichment_server", "sqlalchemy", "asyncpg", "aiohttp", "opentelemetry",
               "redis", "alembic", "structlog", "pydantic", "rapidfuzz", "cryptography")
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in SERVER_ONLY:
            raise ImportError(f"the client imported {name}")
sys.meta_path.insert(0, Block())
import enrichment_client
names = [m.name for m in pkgutil.walk_packages(enrichment_client.__path__, "enrichment_client.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def _build_wheel(project: Path, out: Path) -> zipfile.ZipFile:
    """Build ``project``'s wheel from a copy (setuptools leaves build/ beside its sources)."""
    ignore = shutil.ignore_patterns(*IGNORED)
    copy = out / "src"
    if project == ROOT:  # the server's distribution: the root pyproject + enrichment_server/
        copy.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, copy / name)
        shutil.copytree(ROOT / "enrichment_server", copy / "enrichment_server", ignore=ignore)
    else:
        shutil.copytree(project, copy, ignore=ignore)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(out),
            str(project),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


@pytest.mark.timeout(300)
def test_server_wheel_holds_only_the_server(tmp_path: Path) -> None:
    """The server's wheel contains enrichment_server only: no sandbox, demo, scrapers or client."""
    names = _build_wheel(ROOT, tmp_path).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"enrichment_server"}
    assert not [n for n in names if "sandbox" in n or "demo" in n or "scrapers" in n]
    assert "enrichment_server/app.py" in names


@pytest.mark.timeout(300)
def test_client_wheel_holds_the_client_and_its_stubs(tmp_path: Path) -> None:
    """The client's wheel holds enrichment_client with the generated pb/ code and type stubs."""
    names = _build_wheel(ROOT / "enrichment_client", tmp_path).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"enrichment_client"}
    assert "enrichment_client/pb/enrichment/v1/enrichment_pb2.py" in names
    assert "enrichment_client/pb/enrichment/v1/enrichment_pb2.pyi" in names
    assert "enrichment_client/py.typed" in names


def test_every_server_module_imports_without_the_tools() -> None:
    """Importing every enrichment_server module never imports the sandbox, scrapers or bench."""
    result = _run(SERVER_PROBE)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) >= 40


def test_the_client_imports_without_the_server_dependencies() -> None:
    """Every enrichment_client module imports with the server and its dependencies absent."""
    result = _run(CLIENT_PROBE)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) >= 5
