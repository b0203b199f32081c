"""Credentials never reach the logs, whatever happens to the upstreams."""

from __future__ import annotations

import secrets
from pathlib import Path

import aiohttp

from enrichment_client import EnrichmentClient
from tests.integration.processes import sandbox_process, server_process

#: Faults that make the server log errors built from upstream answers.
FAULTS = [
    ("ENRICHMENT_SPOTIFY_API_URL", "/v1", {"kind": "status", "status": 500, "times": 3}),
    ("ENRICHMENT_LASTFM_URL", "/2.0/", {"kind": "quota"}),
    ("ENRICHMENT_GETSONGBPM_URL", "/", {"kind": "status", "status": 401}),
]


async def test_a_run_with_credentials_logs_none_of_them(tmp_path: Path) -> None:
    """DEBUG logs of a run that used every credential, with failures, contain no secret."""
    admin_token = secrets.token_hex(16)
    async with sandbox_process() as sandbox:
        settings = sandbox | {
            "ENRICHMENT_LOG_LEVEL": "DEBUG",
            "ENRICHMENT_ADMIN_TOKEN": admin_token,
        }
        log = tmp_path / "server.log"
        async with (
            server_process(settings, log) as target,
            await EnrichmentClient.connect(target) as client,
        ):
            await client.enrich("deadmau5", "Strobe")
            async with aiohttp.ClientSession() as http:
                for name, suffix, fault in FAULTS:
                    origin = sandbox[name].removesuffix(suffix)
                    async with http.post(f"{origin}/_sandbox/faults", json=fault) as resp:
                        assert resp.status == 201
            await client.enrich("Röyksopp", "Eple")
    text = log.read_text()
    credentials = {
        name: value
        for name, value in settings.items()
        if name.endswith(("_SECRET", "_KEY", "_TOKEN", "CLIENT_ID"))
    }
    assert len(credentials) == 5
    assert '"event": "enrich"' in text  # the log is real and covers the calls
    assert "spotify:unavailable" in text  # failures were logged too
    assert "lastfm:unauthenticated" in text
    for name, value in credentials.items():
        assert value not in text, f"{name} leaked into the logs"
