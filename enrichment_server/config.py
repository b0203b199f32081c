"""The one settings object, read from ``ENRICHMENT_*`` environment variables.

Nothing else in the service reads ``os.environ``. Invalid values stop the start with a
message naming each bad variable (see ``load_settings``). Every field has a description;
the README's configuration table is checked against them by a test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from enrichment_server import settings_checks as checks
from enrichment_server.crypto import CredentialCipher
from enrichment_server.domain import Source
from enrichment_server.enrichment.merge import with_overrides
from enrichment_server.sections import (
    BreakerSettings,
    CacheSettings,
    HttpSettings,
    RetrySettings,
    SourceSettings,
    StoreSettings,
    TelemetrySettings,
)

#: A pod must listen on its own IP for the kubelet's gRPC probes, hence all interfaces.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


class SettingsError(Exception):
    """Settings are invalid; the message names every bad variable."""


class Settings(BaseSettings):
    """Service configuration. Every field maps to ``ENRICHMENT_<FIELD>``.

    The environment is flat (the names operators set, kept stable); the code reads typed
    sections built from it: ``source(Source.X)``, ``breaker``, ``cache``, ``retry``,
    ``store``, ``telemetry``.
    """

    model_config = SettingsConfigDict(
        env_prefix="ENRICHMENT_",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        # "inf" and "nan" pass every bound check in Python; no setting means either.
        allow_inf_nan=False,
    )

    grpc_host: str = Field(ALL_INTERFACES, description="Interface the gRPC server binds.")
    grpc_port: int = Field(50051, ge=0, le=65535, description="gRPC port (0 = a free port).")
    tls_cert_file: str = Field("", description="PEM server certificate (empty: plaintext).")
    tls_key_file: str = Field("", description="PEM private key of the server certificate.")
    tls_client_ca_file: str = Field(
        "", description="PEM CA that client certificates must chain to (mTLS)."
    )
    trace_sample_ratio: float = Field(
        0.05, ge=0, le=1, description="Share of new traces sampled (callers' are kept)."
    )
    otlp_endpoint: str = Field(
        "",
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint"),
        description="OTEL_EXPORTER_OTLP_ENDPOINT: OTLP/HTTP collector (empty: no export).",
    )
    metrics_enabled: bool = Field(True, description="Serve Prometheus /metrics.")
    # The HTTP port was the metrics port: its old variable names keep working.
    http_host: str = Field(
        ALL_INTERFACES,
        validation_alias=AliasChoices("ENRICHMENT_HTTP_HOST", "ENRICHMENT_METRICS_HOST"),
        description="Interface of the HTTP port (alias ENRICHMENT_METRICS_HOST).",
    )
    http_port: int = Field(
        9090,
        ge=0,
        le=65535,
        validation_alias=AliasChoices("ENRICHMENT_HTTP_PORT", "ENRICHMENT_METRICS_PORT"),
        description="HTTP port: metrics, seed endpoints, console (alias ENRICHMENT_METRICS_PORT).",
    )
    console_session_s: float = Field(
        28800.0, gt=0, le=7 * 86400, description="A console sign-in lasts this long."
    )
    grace_period_s: float = Field(10.0, gt=0, le=300, description="SIGTERM grace for RPCs.")
    drain_s: float = Field(
        0.0, ge=0, le=120, description="NOT_SERVING, still serving, before the grace period."
    )
    max_connection_age_s: float = Field(
        300.0, gt=0, le=2_000_000, description="Clients reconnect (and re-resolve pods) after this."
    )
    default_deadline_s: float = Field(
        10.0, gt=0, le=300, description="Budget per track when the caller sets no deadline."
    )
    batch_concurrency: int = Field(32, ge=1, le=1024, description="Tracks in flight per stream.")
    http_timeout_s: float = Field(5.0, gt=0, le=120, description="Cap on one upstream call.")
    http_max_attempts: int = Field(3, ge=1, le=10, description="Attempts per upstream call.")
    retry_base_s: float = Field(0.1, gt=0, le=10, description="First retry backoff (jittered).")
    retry_cap_s: float = Field(2.0, gt=0, le=60, description="Largest retry backoff.")
    retry_after_cap_s: float = Field(5.0, ge=0, le=300, description="Longest Retry-After waited.")
    match_threshold: float = Field(0.82, ge=0.5, le=1.0, description="Minimum match score.")
    field_precedence: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Per-field source order (JSON), e.g. {"bpm": ["deezer", "spotify"]}.',
    )

    spotify_api_url: AnyHttpUrl = Field(
        AnyHttpUrl("https://api.spotify.com/v1"), description="Spotify Web API base URL."
    )
    spotify_token_url: AnyHttpUrl = Field(
        AnyHttpUrl("https://accounts.spotify.com/api/token"), description="Spotify token URL."
    )
    spotify_client_id: str = Field("", description="Spotify client id (empty: Spotify off).")
    spotify_client_secret: SecretStr = Field(SecretStr(""), description="Spotify client secret.")
    spotify_market: str = Field("US", pattern=r"^[A-Z]{2}$", description="Spotify market.")

    musicbrainz_enabled: bool = Field(True, description="Use MusicBrainz.")
    musicbrainz_url: AnyHttpUrl = Field(
        AnyHttpUrl("https://musicbrainz.org/ws/2"), description="MusicBrainz WS/2 base URL."
    )
    user_agent: str = Field(
        "metadata-enrichment/0.1.0 ( https://github.com/metadata-enrichment )",
        min_length=8,
        # ENRICHMENT_MUSICBRAINZ_USER_AGENT: the earlier name (MusicBrainz requires one),
        # still read; every upstream is sent this User-Agent.
        validation_alias=AliasChoices(
            "ENRICHMENT_USER_AGENT", "ENRICHMENT_MUSICBRAINZ_USER_AGENT", "user_agent"
        ),
        description="User-Agent of every upstream call (alias ENRICHMENT_MUSICBRAINZ_USER_AGENT).",
    )
    musicbrainz_rate_per_s: float = Field(
        1.0, gt=0, le=1000, description="MusicBrainz requests per second (their rule: 1)."
    )

    lastfm_url: AnyHttpUrl = Field(
        AnyHttpUrl("https://ws.audioscrobbler.com/2.0/"), description="Last.fm API root."
    )
    lastfm_api_key: SecretStr = Field(SecretStr(""), description="Last.fm key (empty: off).")
    deezer_enabled: bool = Field(True, description="Use Deezer (no credentials needed).")
    deezer_url: AnyHttpUrl = Field(
        AnyHttpUrl("https://api.deezer.com"), description="Deezer API base URL."
    )
    deezer_rate_per_s: float = Field(
        8.0, ge=0, description="Deezer requests/s (their rule: 50 per 5 s)."
    )
    getsongbpm_url: AnyHttpUrl = Field(
        AnyHttpUrl("https://api.getsong.co/"), description="GetSongBPM API base URL."
    )
    getsongbpm_api_key: SecretStr = Field(SecretStr(""), description="GetSongBPM key (empty: off).")
    getsongbpm_rate_per_s: float = Field(
        0.8, ge=0, description="GetSongBPM requests/s (about 3000/hour)."
    )
    spotify_rate_per_s: float = Field(0.0, ge=0, description="Spotify requests/s (0: no limit).")
    lastfm_rate_per_s: float = Field(5.0, ge=0, description="Last.fm requests/s (0: no limit).")
    ratelimit_min_share: float = Field(
        0.1, gt=0, le=1, description="Slots kept for a waiting lower priority (bulk, background)."
    )

    database_url: str = Field(
        "sqlite+aiosqlite:///enrichment.db",
        description="Tracks, status, DLQ, credentials (SQLite file or postgresql+asyncpg).",
    )
    secret_key: SecretStr = Field(
        SecretStr(""), description="Key encrypting stored credentials (no default)."
    )
    record_results: bool = Field(True, description="Write every result to the database.")
    workers_enabled: bool = Field(True, description="Run the DLQ replayer and scheduler.")
    dlq_interval_s: float = Field(
        5.0, gt=0, le=86400, description="Pause between DLQ replay batches."
    )
    dlq_batch_size: int = Field(20, ge=1, le=1000, description="Dead letters per batch.")
    dlq_max_attempts: int = Field(8, ge=1, le=100, description="Attempts before parking.")
    dlq_backoff_base_s: float = Field(60.0, gt=0, description="First wait between attempts.")
    dlq_backoff_cap_s: float = Field(
        21600.0, gt=0, le=30 * 86400, description="Longest wait between attempts."
    )
    scheduler_interval_s: float = Field(
        30.0, gt=0, le=86400, description="Pause between re-enrichment batches."
    )
    scheduler_batch_size: int = Field(50, ge=1, le=1000, description="Unenriched tracks per batch.")
    redis_url: str = Field(
        "", description="Redis for cache, limits, breaker hints (empty: in-process)."
    )
    admin_token: SecretStr = Field(
        SecretStr(""), description="Bearer token for admin RPCs (empty: admin off)."
    )

    breaker_window_s: float = Field(30.0, gt=0, description="Breaker failure-rate window.")
    breaker_min_calls: int = Field(10, ge=1, description="Calls before the rate is judged.")
    breaker_failure_rate: float = Field(0.5, gt=0, le=1, description="Failure share that opens.")
    breaker_consecutive_failures: int = Field(5, ge=1, description="Failures in a row that open.")
    breaker_slow_call_s: float = Field(4.0, gt=0, description="A call slower than this is slow.")
    breaker_slow_call_rate: float = Field(1.0, gt=0, le=1, description="Slow share that opens.")
    breaker_open_s: float = Field(30.0, gt=0, description="First wait before probing.")
    breaker_max_open_s: float = Field(300.0, gt=0, description="Longest wait before probing.")
    breaker_half_open_probes: int = Field(3, ge=1, description="Probe calls when half-open.")
    breaker_max_half_open_s: float = Field(30.0, gt=0, description="Longest half-open period.")
    breaker_overrides: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description='Per-source JSON, e.g. {"musicbrainz": {"open_s": 60}}.',
    )
    retry_budget_ratio: float = Field(0.2, ge=0, le=1, description="Retries per request, max.")
    retry_budget_min_per_s: float = Field(1.0, ge=0, description="Retries/s always allowed.")
    quota_block_s: float = Field(
        3600.0,
        gt=0,
        le=7 * 86400,
        description="Source off after QUOTA_EXCEEDED without Retry-After.",
    )

    cache_max_entries: int = Field(50_000, ge=0, description="In-process cache size (0: off).")
    result_cache_max_entries: int = Field(
        20_000, ge=0, description="Final results kept in process (0: off)."
    )
    result_cache_ttl_s: int = Field(3600, ge=0, description="TTL of a kept final result.")
    cache_ttl_search_s: int = Field(7 * 86400, ge=0, description="TTL of search answers.")
    cache_ttl_by_id_s: int = Field(30 * 86400, ge=0, description="TTL of by-id lookups.")
    cache_ttl_isrc_s: int = Field(90 * 86400, ge=0, description="TTL of ISRC lookups.")
    cache_ttl_not_found_s: int = Field(86400, ge=0, description="TTL of not-found answers.")

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level."
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto: JSON unless stderr is a terminal."
    )

    @model_validator(mode="after")
    def _tls_files(self) -> Settings:
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError(
                "ENRICHMENT_TLS_CERT_FILE and ENRICHMENT_TLS_KEY_FILE must be set together"
            )
        if self.tls_client_ca_file and not self.tls_cert_file:
            raise ValueError("ENRICHMENT_TLS_CLIENT_CA_FILE needs ENRICHMENT_TLS_CERT_FILE")
        for name in ("tls_cert_file", "tls_key_file", "tls_client_ca_file"):
            path = getattr(self, name)
            if path and not Path(path).is_file():
                raise ValueError(f"ENRICHMENT_{name.upper()}: no such file: {path}")
        return self

    @field_validator("grpc_host", "http_host")
    @classmethod
    def _host(cls, value: str) -> str:
        return checks.host(value)

    @field_validator("admin_token")
    @classmethod
    def _admin_token(cls, value: SecretStr) -> SecretStr:
        checks.admin_token(value.get_secret_value())
        return value

    @field_validator("spotify_client_id", "spotify_client_secret", "lastfm_api_key")
    @classmethod
    def _credential(cls, value: str | SecretStr) -> str | SecretStr:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        checks.credential_text(text)
        return value

    @field_validator("getsongbpm_api_key")
    @classmethod
    def _getsongbpm_key(cls, value: SecretStr) -> SecretStr:
        checks.credential_text(value.get_secret_value())
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return checks.database_url(value)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        return checks.redis_url(value)

    @field_validator("otlp_endpoint")
    @classmethod
    def _otlp_endpoint(cls, value: str) -> str:
        return checks.otlp_endpoint(value)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        """Settings checked against each other (each message names the variables)."""
        env = "ENRICHMENT_"
        for low, high in (
            ("retry_base_s", "retry_cap_s"),
            ("dlq_backoff_base_s", "dlq_backoff_cap_s"),
            ("breaker_open_s", "breaker_max_open_s"),
        ):
            checks.not_above(
                (env + low.upper(), getattr(self, low)), (env + high.upper(), getattr(self, high))
            )
        defaults = self.breaker.defaults
        checks.breaker(defaults, "ENRICHMENT_BREAKER_*")
        try:
            checks.breaker_overrides(self.breaker_overrides, defaults)
        except ValueError as exc:
            raise ValueError(f"ENRICHMENT_BREAKER_OVERRIDES: {exc}") from None
        if self.metrics_enabled and self.grpc_port and self.grpc_port == self.http_port:
            raise ValueError("ENRICHMENT_GRPC_PORT and ENRICHMENT_HTTP_PORT must differ")
        return self

    @field_validator("secret_key")
    @classmethod
    def _valid_key(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value():
            CredentialCipher.from_key(value.get_secret_value())  # ValueError never echoes it
        return value

    @field_validator("field_precedence")
    @classmethod
    def _known_precedence(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        with_overrides(value)  # raises ValueError naming the unknown field or source
        return value

    @field_validator("spotify_client_secret")
    @classmethod
    def _spotify_pair(cls, secret: SecretStr, info: ValidationInfo) -> SecretStr:
        # A field validator (not a model one) so the pair is reported even when another
        # field is invalid too; the client id is declared first, so it is in info.data.
        has_id = bool(info.data.get("spotify_client_id"))
        if has_id != bool(secret.get_secret_value()):
            raise ValueError(
                "ENRICHMENT_SPOTIFY_CLIENT_ID and ENRICHMENT_SPOTIFY_CLIENT_SECRET "
                "must be set together"
            )
        return secret

    def source(self, source: Source) -> SourceSettings:
        """The settings section of one upstream (its URL, rate, switch, client quirks)."""
        name = str(source)
        fields = type(self).model_fields
        url = getattr(self, "spotify_api_url" if source is Source.SPOTIFY else f"{name}_url")
        return SourceSettings(
            source=source,
            enabled=bool(getattr(self, f"{name}_enabled")) if f"{name}_enabled" in fields else True,
            url=str(url),
            rate_per_s=float(getattr(self, f"{name}_rate_per_s")),
            http_timeout_s=self.http_timeout_s,
            user_agent=self.user_agent,
            token_url=str(self.spotify_token_url) if source is Source.SPOTIFY else "",
            market=self.spotify_market if source is Source.SPOTIFY else "",
        )

    @property
    def breaker(self) -> BreakerSettings:
        """The circuit breakers' section (defaults, and per-source overrides)."""
        return BreakerSettings(
            defaults={
                "window_s": self.breaker_window_s,
                "min_calls": self.breaker_min_calls,
                "failure_rate": self.breaker_failure_rate,
                "consecutive_failures": self.breaker_consecutive_failures,
                "slow_call_s": self.breaker_slow_call_s,
                "slow_call_rate": self.breaker_slow_call_rate,
                "open_s": self.breaker_open_s,
                "max_open_s": self.breaker_max_open_s,
                "half_open_probes": self.breaker_half_open_probes,
                "half_open_successes": self.breaker_half_open_probes,
                "max_half_open_s": self.breaker_max_half_open_s,
            },
            overrides=self.breaker_overrides,
            quota_block_s=self.quota_block_s,
        )

    @property
    def cache(self) -> CacheSettings:
        """The caches' section: sizes and per-kind TTLs."""
        return CacheSettings(
            max_entries=self.cache_max_entries,
            result_max_entries=self.result_cache_max_entries,
            result_ttl_s=self.result_cache_ttl_s,
            ttl_search_s=self.cache_ttl_search_s,
            ttl_by_id_s=self.cache_ttl_by_id_s,
            ttl_isrc_s=self.cache_ttl_isrc_s,
            ttl_not_found_s=self.cache_ttl_not_found_s,
        )

    @property
    def retry(self) -> RetrySettings:
        """The upstream retries' section: attempts, backoff, Retry-After cap, budget."""
        return RetrySettings(
            max_attempts=self.http_max_attempts,
            base_s=self.retry_base_s,
            cap_s=self.retry_cap_s,
            retry_after_cap_s=self.retry_after_cap_s,
            budget_ratio=self.retry_budget_ratio,
            budget_min_per_s=self.retry_budget_min_per_s,
        )

    @property
    def store(self) -> StoreSettings:
        """The durable state's section: database, recording, DLQ and scheduler."""
        return StoreSettings(
            database_url=self.database_url,
            record_results=self.record_results,
            workers_enabled=self.workers_enabled,
            dlq_interval_s=self.dlq_interval_s,
            dlq_batch_size=self.dlq_batch_size,
            dlq_max_attempts=self.dlq_max_attempts,
            dlq_backoff_base_s=self.dlq_backoff_base_s,
            dlq_backoff_cap_s=self.dlq_backoff_cap_s,
            scheduler_interval_s=self.scheduler_interval_s,
            scheduler_batch_size=self.scheduler_batch_size,
        )

    @property
    def http(self) -> HttpSettings:
        """The HTTP port's section."""
        return HttpSettings(self.http_host, self.http_port, self.console_session_s)

    @property
    def telemetry(self) -> TelemetrySettings:
        """The telemetry section: traces, metrics, logs."""
        return TelemetrySettings(
            trace_sample_ratio=self.trace_sample_ratio,
            otlp_endpoint=self.otlp_endpoint,
            metrics_enabled=self.metrics_enabled,
            log_level=self.log_level,
            log_format=self.log_format,
        )

    @property
    def spotify_enabled(self) -> bool:
        """Spotify is used only with a client id and secret."""
        return bool(self.spotify_client_id)

    @property
    def getsongbpm_enabled(self) -> bool:
        """GetSongBPM is used only with an API key."""
        return bool(self.getsongbpm_api_key.get_secret_value())

    @property
    def lastfm_enabled(self) -> bool:
        """Last.fm is used only with an API key."""
        return bool(self.lastfm_api_key.get_secret_value())


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise ``SettingsError`` naming each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = "_".join(str(p) for p in err["loc"]).upper()
            name = loc if loc.startswith(("ENRICHMENT_", "OTEL_")) else f"ENRICHMENT_{loc}"
            name = name if loc else "settings"
            lines.append(f"  {name}: {err['msg']}")
        raise SettingsError("invalid configuration:\n" + "\n".join(lines)) from None
