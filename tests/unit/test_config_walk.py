"""Every setting in the README's table, given a bad value, stops the start with exit 2 naming it.

issue 12 item 17: a bad value must never reach a builder (a traceback, exit 1, "Unclosed
client session"); it is refused by the settings, alone and against the others, before
anything is opened. issue 12 item 8: a blank or short admin token is such a bad value.
"""

from __future__ import annotations

import os

import pytest

from enrichment_server.__main__ import main
from tests.unit.test_readme import _table_rows

#: A bad value for every variable in the README's configuration table.
BAD: dict[str, str] = {
    "ENRICHMENT_GRPC_HOST": "not a host!",
    "ENRICHMENT_GRPC_PORT": "70000",
    "ENRICHMENT_TLS_CERT_FILE": "/nonexistent/cert.pem",
    "ENRICHMENT_TLS_KEY_FILE": "/nonexistent/key.pem",
    "ENRICHMENT_TLS_CLIENT_CA_FILE": "/nonexistent/ca.pem",
    "ENRICHMENT_TRACE_SAMPLE_RATIO": "1.5",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "collector without a scheme",
    "ENRICHMENT_METRICS_ENABLED": "perhaps",
    "ENRICHMENT_HTTP_HOST": "bad_host name",
    "ENRICHMENT_HTTP_PORT": "-1",
    "ENRICHMENT_CONSOLE_SESSION_S": "0",
    "ENRICHMENT_GRACE_PERIOD_S": "nan",
    "ENRICHMENT_DRAIN_S": "-1",
    "ENRICHMENT_MAX_CONNECTION_AGE_S": "1e12",
    "ENRICHMENT_DEFAULT_DEADLINE_S": "inf",
    "ENRICHMENT_BATCH_CONCURRENCY": "0",
    "ENRICHMENT_HTTP_TIMEOUT_S": "0",
    "ENRICHMENT_HTTP_MAX_ATTEMPTS": "0",
    "ENRICHMENT_RETRY_BASE_S": "5",  # above the 2 s cap
    "ENRICHMENT_RETRY_CAP_S": "0.01",  # below the 0.1 s base
    "ENRICHMENT_RETRY_AFTER_CAP_S": "-3",
    "ENRICHMENT_MATCH_THRESHOLD": "0.1",
    "ENRICHMENT_FIELD_PRECEDENCE": '{"bpm": ["myspace"]}',
    "ENRICHMENT_SPOTIFY_API_URL": "not a url",
    "ENRICHMENT_SPOTIFY_TOKEN_URL": "ftp://example.invalid/token",
    "ENRICHMENT_SPOTIFY_CLIENT_ID": "id without its secret",
    "ENRICHMENT_SPOTIFY_CLIENT_SECRET": "secret-without-its-id",
    "ENRICHMENT_SPOTIFY_MARKET": "usa",
    "ENRICHMENT_MUSICBRAINZ_ENABLED": "2",
    "ENRICHMENT_MUSICBRAINZ_URL": "://",
    "ENRICHMENT_USER_AGENT": "ua",
    "ENRICHMENT_MUSICBRAINZ_RATE_PER_S": "0",
    "ENRICHMENT_LASTFM_URL": "lastfm",
    "ENRICHMENT_LASTFM_API_KEY": "key with\nnewline",
    "ENRICHMENT_DEEZER_ENABLED": "enabled-ish",
    "ENRICHMENT_DEEZER_URL": "deezer",
    "ENRICHMENT_DEEZER_RATE_PER_S": "-1",
    "ENRICHMENT_GETSONGBPM_URL": "getsong",
    "ENRICHMENT_GETSONGBPM_API_KEY": "key with spaces",
    "ENRICHMENT_GETSONGBPM_RATE_PER_S": "inf",
    "ENRICHMENT_SPOTIFY_RATE_PER_S": "-0.5",
    "ENRICHMENT_LASTFM_RATE_PER_S": "fast",
    "ENRICHMENT_RATELIMIT_MIN_SHARE": "0",  # a lower lane would starve
    "ENRICHMENT_DATABASE_URL": "mysql://db/enrichment",
    "ENRICHMENT_SECRET_KEY": "not-a-key",
    "ENRICHMENT_RECORD_RESULTS": "sometimes",
    "ENRICHMENT_WORKERS_ENABLED": "sometimes",
    "ENRICHMENT_DLQ_INTERVAL_S": "0",
    "ENRICHMENT_DLQ_BATCH_SIZE": "0",
    "ENRICHMENT_DLQ_MAX_ATTEMPTS": "0",
    "ENRICHMENT_DLQ_BACKOFF_BASE_S": "99999",  # above the 6 h cap
    "ENRICHMENT_DLQ_BACKOFF_CAP_S": "30",  # below the 60 s base
    "ENRICHMENT_SCHEDULER_INTERVAL_S": "1e9",
    "ENRICHMENT_SCHEDULER_BATCH_SIZE": "5000",
    "ENRICHMENT_REDIS_URL": "http://127.0.0.1:6379",
    "ENRICHMENT_ADMIN_TOKEN": " ",
    "ENRICHMENT_BREAKER_WINDOW_S": "0",
    "ENRICHMENT_BREAKER_MIN_CALLS": "0",
    "ENRICHMENT_BREAKER_FAILURE_RATE": "2",
    "ENRICHMENT_BREAKER_CONSECUTIVE_FAILURES": "0",
    "ENRICHMENT_BREAKER_SLOW_CALL_S": "0",
    "ENRICHMENT_BREAKER_SLOW_CALL_RATE": "0",
    "ENRICHMENT_BREAKER_OPEN_S": "1000",  # above the 300 s maximum
    "ENRICHMENT_BREAKER_MAX_OPEN_S": "10",  # below the 30 s first wait
    "ENRICHMENT_BREAKER_HALF_OPEN_PROBES": "0",
    "ENRICHMENT_BREAKER_MAX_HALF_OPEN_S": "0",
    "ENRICHMENT_BREAKER_OVERRIDES": '{"musicbrainz": {"opne_s": 60}}',
    "ENRICHMENT_RETRY_BUDGET_RATIO": "1.5",
    "ENRICHMENT_RETRY_BUDGET_MIN_PER_S": "-1",
    "ENRICHMENT_QUOTA_BLOCK_S": "1e300",
    "ENRICHMENT_CACHE_MAX_ENTRIES": "-1",
    "ENRICHMENT_RESULT_CACHE_MAX_ENTRIES": "many",
    "ENRICHMENT_RESULT_CACHE_TTL_S": "-1",
    "ENRICHMENT_CACHE_TTL_SEARCH_S": "1.5",
    "ENRICHMENT_CACHE_TTL_BY_ID_S": "-1",
    "ENRICHMENT_CACHE_TTL_ISRC_S": "forever",
    "ENRICHMENT_CACHE_TTL_NOT_FOUND_S": "-1",
    "ENRICHMENT_LOG_LEVEL": "LOUD",
    "ENRICHMENT_LOG_FORMAT": "xml",
}
#: More bad values for settings checked against others, or with several ways to be wrong.
MORE_BAD: list[tuple[str, str]] = [
    ("ENRICHMENT_BREAKER_OVERRIDES", '{"myspace": {"open_s": 60}}'),
    ("ENRICHMENT_BREAKER_OVERRIDES", '{"musicbrainz": {"open_s": 900}}'),
    ("ENRICHMENT_BREAKER_OVERRIDES", '{"musicbrainz": {"failure_rate": -1}}'),
    ("ENRICHMENT_BREAKER_OVERRIDES", '{"musicbrainz": {"min_calls": 2.5}}'),
    ("ENRICHMENT_BREAKER_OVERRIDES", "[1, 2]"),
    ("ENRICHMENT_ADMIN_TOKEN", "short-token"),
    ("ENRICHMENT_ADMIN_TOKEN", "                        "),
    ("ENRICHMENT_ADMIN_TOKEN", " padded-token-0123456789 "),
    ("ENRICHMENT_ADMIN_TOKEN", "token-with-a-\u00e9-0123456789"),
    ("ENRICHMENT_GRPC_PORT", "9090"),  # the HTTP port's default
    ("ENRICHMENT_DATABASE_URL", "not a url at all"),
    ("ENRICHMENT_SECRET_KEY", "   "),
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ENRICHMENT_/OTEL_ variable of the machine running the tests leaks in."""
    for name in list(os.environ):
        if name.startswith(("ENRICHMENT_", "OTEL_")):
            monkeypatch.delenv(name)


def test_every_setting_of_the_readme_has_a_bad_value() -> None:
    """issue 12 item 17: the walk below covers exactly the README's configuration table."""
    assert set(BAD) == set(_table_rows()) - {"COMPLETED", "PARTIAL", "NOT_FOUND", "FAILED"}


@pytest.mark.parametrize(("variable", "value"), [*BAD.items(), *MORE_BAD])
def test_a_bad_value_exits_2_naming_the_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """issue 12 items 8 and 17: each bad value alone: exit 2, the variable named, no traceback."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as info:
        main(["check-config"])
    stderr = capsys.readouterr().err
    assert info.value.code == 2, stderr
    assert variable in stderr
    assert "Traceback" not in stderr
    if "TOKEN" in variable or "SECRET" in variable or "KEY" in variable:
        assert value.strip() == "" or value not in stderr  # a secret is never echoed


def test_good_settings_pass(capsys: pytest.CaptureFixture[str]) -> None:
    """The defaults are valid: check-config says so and exits normally."""
    main(["check-config"])
    assert capsys.readouterr().out.strip() == "configuration valid"
