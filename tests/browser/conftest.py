"""Fixtures: a server over the sandbox with the console on, and headless Chromium.

The browser is Debian's ``chromium`` (installed by ``scripts/ensure-tools.sh``) driven by
PyPI ``playwright`` through ``executable_path``: ``playwright install`` downloads browsers
and cannot run offline. Without the browser these tests skip locally and fail under CI.
Screenshots go to ``$ENRICHMENT_SCREENSHOTS`` (the README's come from ``docs/``) or to the
test's temporary directory.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import App, running
from enrichment_server.crypto import generate_key
from tests.integration.conftest import frozen_heap, sandbox, sandbox_settings

__all__ = ["frozen_heap", "sandbox"]  # the integration fixtures these tests reuse

CHROMIUM = os.environ.get("ENRICHMENT_CHROMIUM", "/usr/bin/chromium")
TOKEN = secrets.token_hex(16)


@dataclass
class Console:
    """A running server with the console, its sandbox, and where screenshots go."""

    app: App
    sandbox: Sandbox
    shots: Path

    @property
    def base(self) -> str:
        """The HTTP port's root URL."""
        return f"http://127.0.0.1:{self.app.http_port}"

    async def screenshot(self, page: Page, name: str) -> Path:
        """Save a full-page screenshot as ``console-<name>.png``."""
        path = self.shots / f"console-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
async def console(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Console]:
    """Admin token and secret key set; Spotify's breaker opens after 3 failures in a row;
    a failed track parks at once (one attempt) so the DLQ page has something to replay."""
    settings = sandbox_settings(
        sandbox,
        admin_token=TOKEN,
        secret_key=generate_key(),
        breaker_consecutive_failures=3,
        breaker_open_s=300,
        dlq_max_attempts=1,
    )
    shots = Path(os.environ.get("ENRICHMENT_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before serving)
    async with running(settings) as app:
        yield Console(app, sandbox, shots)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless system Chromium (``--no-sandbox``: CI runs as root)."""
    if not shutil.which(CHROMIUM):
        message = f"{CHROMIUM} missing: run scripts/ensure-tools.sh (apt chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context (no cookies) and page; fails on a script error or a
    Content-Security-Policy violation."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        yield page
    finally:
        await context.close()
    assert errors == [], errors  # no script error and no CSP violation on any page


async def sign_in(page: Page, console: Console, token: str = TOKEN) -> None:
    """Open the console and sign in through the form."""
    await page.goto(console.base + "/")
    await page.fill("#sign-in input[name=token]", token)
    await page.click("#sign-in button")
