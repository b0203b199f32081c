"""The console's security over plain HTTP: cookie flags, CSP, disabled without a token,
throttled sign-in, audit lines without secrets."""

from __future__ import annotations

import os
import re
import secrets
import ssl
import urllib.parse
import urllib.request
from pathlib import Path

import aiohttp
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from structlog.testing import capture_logs

from enrichment_sandbox.runner import Sandbox
from enrichment_server.api.console.auth import COOKIE, FREE_FAILURES
from enrichment_server.app import App, running
from enrichment_server.store import create_engine
from tests.integration.certs import make_pki
from tests.integration.conftest import sandbox_settings
from tests.integration.demo_process import DemoProcess

TOKEN = secrets.token_hex(16)
CONSOLE_LINE = re.compile(r"operator console: (http://\S+) \(sign in with the token (\w+)\)")


async def form_csrf(session: aiohttp.ClientSession, app: App) -> str:
    """GET the sign-in form; its CSRF token."""
    async with session.get(f"http://127.0.0.1:{app.http_port}/console/sign-in") as response:
        text = await response.text()
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found.group(1)


async def test_sign_in_sets_a_strict_httponly_cookie_and_a_csp(sandbox: Sandbox) -> None:
    """The session cookie is HttpOnly, SameSite=Strict, expiring; pages carry a strict CSP."""
    async with (
        running(sandbox_settings(sandbox, admin_token=TOKEN)) as app,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session,
    ):
        csrf = await form_csrf(session, app)
        url = f"http://127.0.0.1:{app.http_port}/console/sign-in"
        form = {"csrf": csrf, "token": TOKEN}
        async with session.post(url, data=form, allow_redirects=False) as response:
            assert response.status == 303
            cookie = response.headers["Set-Cookie"]
        async with session.get(f"http://127.0.0.1:{app.http_port}/console/") as page:
            policy = page.headers["Content-Security-Policy"]
            caching = page.headers["Cache-Control"]
            body = await page.text()
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Max-Age=28800" in cookie
    assert "Secure" not in cookie  # plaintext here; under TLS it is Secure
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert caching == "no-store"  # the back button shows nothing after sign-out
    assert '<script src="/console/static/console.js"' in body
    assert TOKEN not in body


async def test_without_a_token_the_console_only_says_how_to_enable_it(sandbox: Sandbox) -> None:
    """No ENRICHMENT_ADMIN_TOKEN: every console page explains and does nothing else."""
    async with running(sandbox_settings(sandbox)) as app, aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{app.http_port}"
        for path in ("/console/", "/console/sign-in", "/console/settings"):
            async with session.get(base + path) as response:
                assert response.status == 503
                assert "ENRICHMENT_ADMIN_TOKEN" in await response.text()
        async with session.post(base + "/console/sign-in", data={"token": ""}) as response:
            assert response.status == 503


async def test_sign_in_is_throttled_and_audited_without_secrets(sandbox: Sandbox) -> None:
    """After the free failures even the right token waits (429); audit lines name no secret."""
    async with (
        running(sandbox_settings(sandbox, admin_token=TOKEN)) as app,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session,
    ):
        url = f"http://127.0.0.1:{app.http_port}/console/sign-in"
        csrf = await form_csrf(session, app)
        with capture_logs() as logs:
            for n in range(FREE_FAILURES):
                async with session.post(url, data={"csrf": csrf, "token": f"wrong-{n}"}) as r:
                    assert r.status == 401
            async with session.post(url, data={"csrf": csrf, "token": TOKEN}) as r:
                assert r.status == 429
                assert "Too many failed sign-ins" in await r.text()
            async with session.post(url, data={"token": TOKEN}) as r:
                assert r.status == 403  # no CSRF token at all
    audit = [line for line in logs if line["event"] == "console_action"]
    outcomes = [line["outcome"] for line in audit]
    assert outcomes == ["wrong token"] * FREE_FAILURES + ["throttled", "refused: no CSRF token"]
    assert TOKEN not in repr(logs)
    assert "wrong-0" not in repr(logs)
    assert csrf not in repr(logs)


def test_the_demo_prints_the_console_and_a_token_that_signs_in(tmp_path: Path) -> None:
    """`enrichment-demo --keep-running` prints the console URL and a token; both work."""
    env = {k: v for k, v in os.environ.items() if k != "ENRICHMENT_ADMIN_TOKEN"}
    with DemoProcess(tmp_path, "--keep-running", env=env) as demo:
        demo.wait_for("serving on")
        printed = CONSOLE_LINE.search(demo.output)
        assert printed is not None, demo.output[-2000:]
        url, token = printed.groups()
        assert url == f"http://127.0.0.1:{demo.metrics_port}/"
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        with opener.open(url + "console/sign-in", timeout=10) as response:
            csrf = re.search(r'name="csrf" value="([^"]+)"', response.read().decode())
        assert csrf is not None
        form = urllib.parse.urlencode({"csrf": csrf.group(1), "token": token}).encode()
        with opener.open(url + "console/sign-in", data=form, timeout=10) as response:
            landed = response.geturl(), response.read().decode()
        assert demo.stop() == 0
    assert landed[0] == url + "console/"
    assert "<h1>Overview</h1>" in landed[1]


async def test_under_tls_the_port_serves_https_and_the_cookie_is_secure(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """With the gRPC certificate (and mTLS on gRPC) the HTTP port is HTTPS without a client
    certificate, and the session cookie is Secure."""
    pki = make_pki(tmp_path)
    settings = sandbox_settings(
        sandbox,
        admin_token=TOKEN,
        tls_cert_file=str(pki.server_cert),
        tls_key_file=str(pki.server_key),
        tls_client_ca_file=str(pki.ca),
    )
    trust = ssl.create_default_context(cafile=str(pki.ca))
    jar = aiohttp.CookieJar(unsafe=True)
    async with (
        running(settings) as app,
        aiohttp.ClientSession(cookie_jar=jar, connector=aiohttp.TCPConnector(ssl=trust)) as s,
    ):
        base = f"https://127.0.0.1:{app.http_port}"
        async with s.get(f"{base}/health") as response:
            assert response.status == 200
        async with s.get(f"{base}/console/sign-in") as response:
            csrf = re.search(r'name="csrf" value="([^"]+)"', await response.text())
            assert "Secure" in response.headers["Set-Cookie"]
        assert csrf is not None
        form = {"csrf": csrf.group(1), "token": TOKEN}
        async with s.post(f"{base}/console/sign-in", data=form, allow_redirects=False) as r:
            assert r.status == 303
            assert "Secure" in r.headers["Set-Cookie"]


async def test_a_lost_database_is_our_failure_and_the_console_still_answers(
    sandbox: Sandbox, postgres_url: str
) -> None:
    """The database dropped under the server: /health is 503 "unhealthy", /stats 503, and
    the console's overview still renders and says so."""
    session_url = make_url(postgres_url)
    name = f"{session_url.database}_h{secrets.token_hex(3)}"
    admin = create_engine(session_url.render_as_string(False), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = session_url.set(database=name).render_as_string(False)
    jar = aiohttp.CookieJar(unsafe=True)
    try:
        settings = sandbox_settings(sandbox, admin_token=TOKEN, database_url=url)
        async with running(settings) as app, aiohttp.ClientSession(cookie_jar=jar) as session:
            base = f"http://127.0.0.1:{app.http_port}"
            csrf = await form_csrf(session, app)
            await session.post(f"{base}/console/sign-in", data={"csrf": csrf, "token": TOKEN})
            async with admin.connect() as conn:
                await conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            async with session.get(f"{base}/health") as response:
                health = response.status, await response.json()
            async with session.get(f"{base}/stats") as response:
                stats_status = response.status
            async with session.get(f"{base}/console/") as response:
                overview = response.status, await response.text()
    finally:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
    assert health[0] == 503
    assert (health[1]["status"], health[1]["database"]) == ("unhealthy", "unreachable")
    assert stats_status == 503
    assert overview[0] == 200
    assert "unhealthy" in overview[1]
