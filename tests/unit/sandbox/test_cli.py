"""The ``enrichment-sandbox`` console script, run as a real subprocess."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import sys
from pathlib import Path

import aiohttp

from tests.unit.sandbox.support import CATALOGUE

SETTINGS = {
    "ENRICHMENT_SPOTIFY_API_URL",
    "ENRICHMENT_SPOTIFY_TOKEN_URL",
    "ENRICHMENT_SPOTIFY_CLIENT_ID",
    "ENRICHMENT_SPOTIFY_CLIENT_SECRET",
    "ENRICHMENT_MUSICBRAINZ_URL",
    "ENRICHMENT_LASTFM_URL",
    "ENRICHMENT_LASTFM_API_KEY",
    "ENRICHMENT_DEEZER_URL",
    "ENRICHMENT_GETSONGBPM_URL",
    "ENRICHMENT_GETSONGBPM_API_KEY",
}


async def _read_settings(process: asyncio.subprocess.Process) -> dict[str, str]:
    assert process.stdout is not None
    settings: dict[str, str] = {}
    for _ in SETTINGS:
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode().strip()
        name, _, value = line.partition("=")
        settings[name] = value
    return settings


async def test_console_script_prints_settings_serves_and_stops(tmp_path: Path) -> None:
    """It prints the 10 settings, its Spotify token URL answers, and SIGTERM stops it cleanly."""
    catalogue = tmp_path / "catalogue.json"
    catalogue.write_text(json.dumps({"tracks": [dataclasses.asdict(t) for t in CATALOGUE.tracks]}))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "enrichment_sandbox",
        "--catalogue",
        str(catalogue),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        settings = await _read_settings(process)
        assert set(settings) == SETTINGS
        assert settings["ENRICHMENT_SPOTIFY_API_URL"].startswith("http://127.0.0.1:")
        form = {
            "grant_type": "client_credentials",
            "client_id": settings["ENRICHMENT_SPOTIFY_CLIENT_ID"],
            "client_secret": settings["ENRICHMENT_SPOTIFY_CLIENT_SECRET"],
        }
        async with (
            aiohttp.ClientSession() as http,
            http.post(settings["ENRICHMENT_SPOTIFY_TOKEN_URL"], data=form) as response,
        ):
            assert response.status == 200
            assert (await response.json())["token_type"] == "Bearer"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 0
    assert b"/_sandbox" in stderr


async def test_console_script_refuses_non_loopback_host() -> None:
    """--host 0.0.0.0 is refused with a usage error before anything listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "enrichment_sandbox",
        "--host",
        "0.0.0.0",  # noqa: S104
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 2
    assert stdout == b""
    assert b"loopback" in stderr
