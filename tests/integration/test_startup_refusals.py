"""The real ``enrichment-server`` refuses a bad configuration with exit 2 and a clean message.

issue 12 item 17: these used to end in a traceback, exit 1 and "Unclosed client session".
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from enrichment_server.crypto import CredentialCipher, generate_key
from enrichment_server.store import Store
from tests.integration.processes import SERVER


async def start(env: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    """Run the server with ``env`` until it exits (a good config would serve: time out)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ENRICHMENT_", "OTEL_"))}
    values = {
        "ENRICHMENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'server.db'}",
        "ENRICHMENT_GRPC_HOST": "127.0.0.1",
        "ENRICHMENT_GRPC_PORT": "0",
        "ENRICHMENT_HTTP_PORT": "0",
        "ENRICHMENT_LOG_FORMAT": "json",
    }
    process = await asyncio.create_subprocess_exec(
        SERVER,
        env=base | values | env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ENRICHMENT_BREAKER_OPEN_S", "1000"),
        ("ENRICHMENT_BREAKER_OVERRIDES", '{"musicbrainz": {"opne_s": 60}}'),
        ("ENRICHMENT_BREAKER_OVERRIDES", '{"musicbrainz": {"open_s": -5}}'),
        ("ENRICHMENT_DLQ_BACKOFF_BASE_S", "99999"),
        ("ENRICHMENT_ADMIN_TOKEN", " "),
    ],
)
async def test_serve_refuses_a_bad_setting(variable: str, value: str, tmp_path: Path) -> None:
    """issue 12 items 8 and 17: serve exits 2 naming the variable, with no traceback."""
    code, stderr = await start({variable: value}, tmp_path)
    assert code == 2, stderr
    assert variable in stderr
    assert "Traceback" not in stderr
    assert "Unclosed" not in stderr


async def test_serve_refuses_the_wrong_secret_key(tmp_path: Path) -> None:
    """issue 12 item 17: credentials stored under one key, started with another: exit 2."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'server.db'}"
    store = await Store.open(url)
    try:
        cipher = CredentialCipher.from_key(generate_key())
        await store.set_credential(
            "lastfm", "api_key", "stored-key-0123456789", cipher, now=datetime.now(UTC)
        )
    finally:
        await store.close()
    code, stderr = await start({"ENRICHMENT_SECRET_KEY": generate_key()}, tmp_path)
    assert code == 2, stderr
    assert "ENRICHMENT_SECRET_KEY" in stderr
    assert "Traceback" not in stderr
    assert "Unclosed" not in stderr
