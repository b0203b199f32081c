"""Unit tests for enrichment_server.config: defaults, environment, errors, secrets."""

from __future__ import annotations

import os

import pytest
from pydantic import SecretStr

from enrichment_server.config import Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove any ENRICHMENT_* variables the machine has, so defaults are defaults."""
    for name in list(os.environ):
        if name.upper().startswith("ENRICHMENT_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    """With no environment the documented defaults apply."""
    settings = load_settings()
    assert isinstance(settings, Settings)
    assert settings.grpc_port == 50051
    assert settings.grpc_host == "0.0.0.0"  # noqa: S104
    assert settings.http_max_attempts == 3
    assert settings.musicbrainz_rate_per_s == 1.0
    assert settings.spotify_enabled is False
    assert settings.lastfm_enabled is False


def test_environment_overrides_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """ENRICHMENT_GRPC_PORT in the environment sets grpc_port."""
    monkeypatch.setenv("ENRICHMENT_GRPC_PORT", "6000")
    monkeypatch.setenv("ENRICHMENT_LOG_LEVEL", "DEBUG")
    settings = load_settings()
    assert settings.grpc_port == 6000
    assert settings.log_level == "DEBUG"


def test_keyword_override() -> None:
    """load_settings keyword overrides set fields directly."""
    assert load_settings(grpc_port=0).grpc_port == 0


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A non-integer port raises SettingsError naming ENRICHMENT_GRPC_PORT."""
    monkeypatch.setenv("ENRICHMENT_GRPC_PORT", "not-a-port")
    with pytest.raises(SettingsError, match="ENRICHMENT_GRPC_PORT"):
        load_settings()


def test_out_of_range_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A port above 65535 is rejected with the variable named."""
    monkeypatch.setenv("ENRICHMENT_GRPC_PORT", "70000")
    with pytest.raises(SettingsError, match="ENRICHMENT_GRPC_PORT"):
        load_settings()


def test_every_bad_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several bad values are all reported in one SettingsError."""
    monkeypatch.setenv("ENRICHMENT_GRPC_PORT", "x")
    monkeypatch.setenv("ENRICHMENT_HTTP_MAX_ATTEMPTS", "0")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "ENRICHMENT_GRPC_PORT" in str(info.value)
    assert "ENRICHMENT_HTTP_MAX_ATTEMPTS" in str(info.value)


def test_spotify_id_without_secret_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Spotify client id without a secret is rejected, naming both variables."""
    monkeypatch.setenv("ENRICHMENT_SPOTIFY_CLIENT_ID", "client-id")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "ENRICHMENT_SPOTIFY_CLIENT_ID" in str(info.value)
    assert "ENRICHMENT_SPOTIFY_CLIENT_SECRET" in str(info.value)


def test_spotify_secret_without_id_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Spotify secret without a client id is rejected too."""
    monkeypatch.setenv("ENRICHMENT_SPOTIFY_CLIENT_SECRET", "s3cr3t-value")
    with pytest.raises(SettingsError, match="ENRICHMENT_SPOTIFY_CLIENT_ID"):
        load_settings()


def test_secrets_are_secretstr_and_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets are SecretStr and their values appear in neither repr nor str."""
    monkeypatch.setenv("ENRICHMENT_SPOTIFY_CLIENT_ID", "client-id")
    monkeypatch.setenv("ENRICHMENT_SPOTIFY_CLIENT_SECRET", "spotify-s3cr3t-xyz")
    monkeypatch.setenv("ENRICHMENT_LASTFM_API_KEY", "lastfm-k3y-abc")
    settings = load_settings()
    assert isinstance(settings.spotify_client_secret, SecretStr)
    assert isinstance(settings.lastfm_api_key, SecretStr)
    assert settings.spotify_client_secret.get_secret_value() == "spotify-s3cr3t-xyz"
    for text in (repr(settings), str(settings)):
        assert "spotify-s3cr3t-xyz" not in text
        assert "lastfm-k3y-abc" not in text


def test_bad_secret_value_error_does_not_leak_other_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A SettingsError caused by another field does not echo a configured secret."""
    monkeypatch.setenv("ENRICHMENT_LASTFM_API_KEY", "lastfm-k3y-abc")
    monkeypatch.setenv("ENRICHMENT_GRPC_PORT", "bad")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "lastfm-k3y-abc" not in str(info.value)


def test_spotify_enabled_with_id_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spotify is enabled when both client id and secret are set."""
    monkeypatch.setenv("ENRICHMENT_SPOTIFY_CLIENT_ID", "client-id")
    monkeypatch.setenv("ENRICHMENT_SPOTIFY_CLIENT_SECRET", "secret")
    assert load_settings().spotify_enabled is True


def test_lastfm_enabled_with_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Last.fm is enabled by a non-empty API key."""
    monkeypatch.setenv("ENRICHMENT_LASTFM_API_KEY", "key")
    settings = load_settings()
    assert settings.lastfm_enabled is True
    assert settings.spotify_enabled is False


def test_settings_are_frozen() -> None:
    """Settings cannot be changed after loading."""
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.grpc_port = 1


def test_spotify_pair_reported_alongside_field_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad port and a lone Spotify client id are both named in one SettingsError."""
    monkeypatch.setenv("ENRICHMENT_GRPC_PORT", "bad")
    monkeypatch.setenv("ENRICHMENT_SPOTIFY_CLIENT_ID", "client-id")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "ENRICHMENT_GRPC_PORT" in str(info.value)
    assert "ENRICHMENT_SPOTIFY_CLIENT_SECRET" in str(info.value)
