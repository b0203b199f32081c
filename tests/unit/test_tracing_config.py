"""Tracing set-up from the standard OTEL_* variables, and URL templates without ids."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.sampling import ParentBased

from enrichment_server.telemetry.http_spans import url_template
from enrichment_server.telemetry.tracing import SERVICE_NAME, build_tracer_provider

_OTEL = (
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_SDK_DISABLED",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OTEL_* variable from the machine leaks into these tests."""
    for name in _OTEL:
        monkeypatch.delenv(name, raising=False)


def test_service_name_defaults_to_ours() -> None:
    """Without OTEL_SERVICE_NAME the resource names the service metadata-enrichment."""
    provider = build_tracer_provider(0.5)
    assert provider.resource.attributes["service.name"] == SERVICE_NAME


def test_otel_service_name_and_resource_attributes_win(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES reach the resource."""
    monkeypatch.setenv("OTEL_SERVICE_NAME", "enrichment-eu")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "k8s.namespace.name=music,team=data")
    attrs = build_tracer_provider(0.5).resource.attributes
    assert attrs["service.name"] == "enrichment-eu"
    assert attrs["k8s.namespace.name"] == "music"
    assert attrs["team"] == "data"


def test_service_name_in_resource_attributes_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A service.name given only in OTEL_RESOURCE_ATTRIBUTES is not replaced by ours."""
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attributes")
    assert build_tracer_provider(0.5).resource.attributes["service.name"] == "from-attributes"


def test_sampler_from_otel_variables_replaces_the_ratio(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_TRACES_SAMPLER(+_ARG) is used; otherwise the parent-based ratio setting."""
    assert isinstance(build_tracer_provider(0.25).sampler, ParentBased)
    assert "0.25" in build_tracer_provider(0.25).sampler.get_description()
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.125")
    sampler = build_tracer_provider(0.25).sampler
    assert not isinstance(sampler, ParentBased)
    assert "0.125" in sampler.get_description()


def test_sdk_disabled_samples_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """OTEL_SDK_DISABLED=true: no span is sampled, whatever the ratio."""
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    tracer = build_tracer_provider(1.0).get_tracer("t")
    with tracer.start_as_current_span("x") as span:
        assert not span.is_recording()


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/v1/search", "/v1/search"),
        ("/v1/tracks/41Xji81wFy3cM7ggbGczQW", "/v1/tracks/{id}"),
        ("/v1/tracks/abcdefghijklmnopqrstuv", "/v1/tracks/{id}"),  # an id with no digit
        ("/ws/2/recording/cf7d7c11-aa16-5de2-b2d5-52be36bea7d5", "/ws/2/recording/{id}"),
        ("/ws/2/isrc/GBTDG0900141", "/ws/2/isrc/{id}"),
        ("/track/isrc:GBTDG0900141", "/track/{id}"),
        ("/album/302127", "/album/{id}"),
        ("/2.0/", "/2.0/"),
        ("", "/"),
    ],
)
def test_url_template_replaces_identifiers(path: str, template: str) -> None:
    """Identifier segments become {id}; fixed segments (versions, names) stay."""
    assert url_template(path) == template
