"""TLS and mutual TLS between the real client/CLI and the server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from enrichment_client import EnrichmentClient, ServiceUnavailable, TlsConfig, pb
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from enrichment_server.config import SettingsError, load_settings
from tests.integration.certs import Pki, make_pki
from tests.integration.conftest import sandbox_settings
from tests.integration.test_ops import run_cli


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A fresh CA, server and client certificates."""
    return make_pki(tmp_path)


async def test_tls_client_trusting_the_ca_is_served(sandbox: Sandbox, pki: Pki) -> None:
    """With a server certificate, a client trusting its CA enriches over TLS."""
    settings = sandbox_settings(
        sandbox, tls_cert_file=str(pki.server_cert), tls_key_file=str(pki.server_key)
    )
    async with running(settings) as app:
        tls = TlsConfig.from_files(str(pki.ca))
        client = await EnrichmentClient.connect(f"127.0.0.1:{app.port}", tls=tls)
        async with client:
            response = await client.enrich("deadmau5", "Strobe")
        plaintext = await EnrichmentClient.connect(f"127.0.0.1:{app.port}", timeout_s=10)
        async with plaintext:
            with pytest.raises(ServiceUnavailable):
                await plaintext.enrich("deadmau5", "Strobe")
    assert response.status == pb.ENRICHMENT_STATUS_COMPLETED


async def test_tls_client_trusting_another_ca_is_refused(sandbox: Sandbox, pki: Pki) -> None:
    """A client that does not trust the server's CA cannot connect."""
    settings = sandbox_settings(
        sandbox, tls_cert_file=str(pki.server_cert), tls_key_file=str(pki.server_key)
    )
    async with running(settings) as app:
        tls = TlsConfig.from_files(str(pki.other_ca))
        client = await EnrichmentClient.connect(f"127.0.0.1:{app.port}", tls=tls, timeout_s=10)
        async with client:
            with pytest.raises(ServiceUnavailable):
                await client.enrich("deadmau5", "Strobe")


async def test_mtls_requires_a_client_certificate(sandbox: Sandbox, pki: Pki) -> None:
    """With a client CA configured, only clients presenting a certificate it signed get in."""
    settings = sandbox_settings(
        sandbox,
        tls_cert_file=str(pki.server_cert),
        tls_key_file=str(pki.server_key),
        tls_client_ca_file=str(pki.ca),
    )
    async with running(settings) as app:
        target = f"127.0.0.1:{app.port}"
        anonymous = await EnrichmentClient.connect(
            target, tls=TlsConfig.from_files(str(pki.ca)), timeout_s=10
        )
        async with anonymous:
            with pytest.raises(ServiceUnavailable):
                await anonymous.enrich("deadmau5", "Strobe")
        cli = await asyncio.to_thread(
            run_cli,
            "--target", target, "--ca", str(pki.ca), "--cert", str(pki.client_cert),
            "--key", str(pki.client_key), "enrich", "--artist", "deadmau5", "--title", "Strobe",
        )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["status"] == "ENRICHMENT_STATUS_COMPLETED"


def test_tls_settings_are_validated(pki: Pki) -> None:
    """A certificate without its key, or a missing file, stops the start naming the variable."""
    with pytest.raises(SettingsError, match="ENRICHMENT_TLS_CERT_FILE"):
        load_settings(tls_cert_file=str(pki.server_cert))
    with pytest.raises(SettingsError, match="no such file"):
        load_settings(tls_cert_file="/nonexistent.pem", tls_key_file=str(pki.server_key))
