"""The evaluation runs a real server in this process, like the integration tests."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(autouse=True)
def frozen_heap() -> None:
    """Freeze the heap before each test, as the server does after start (``__main__.py``).

    The same reason as ``tests/integration/conftest.py``: the in-process server shares a
    heap grown by every earlier test, and a full collection walking it stalls its loop.
    """
    gc.freeze()
