"""A CLIENT span per upstream HTTP request, in the OpenTelemetry semantic conventions.

``TracingTransport`` wraps the real ``Transport``: tracing backends draw the upstreams as
dependencies from ``server.address``, and group calls by ``url.template``. No attribute
carries a query string (Last.fm and GetSongBPM take their API key there) nor the
URL's user-info; identifiers in paths become ``{id}`` in the template.

Why not ``opentelemetry-instrumentation-aiohttp-client``: it emits the old attribute names
unless ``OTEL_SEMCONV_STABILITY_OPT_IN`` is set process-wide, records ``url.full`` with the
query (only a fixed list of parameter names is redacted, ``api_key`` is not among them), has
no ``url.template``, and would create spans for every aiohttp session in the process. The
transport already sees each request once, after the breaker and limiter, which is exactly
one HTTP attempt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from enrichment_server.sources.http import HttpResponse, Transport, TransportError

#: Path segments after these are identifiers (Spotify, MusicBrainz, Deezer, GetSongBPM).
_COLLECTIONS = frozenset(
    {"tracks", "track", "audio-features", "album", "albums", "artist", "artists", "isrc",
     "recording", "release", "song"}
)  # fmt: skip
#: Any other segment that looks like an identifier (long, with a digit): ids, ISRCs, MBIDs.
_ID_LIKE = re.compile(r"^(?=.*\d)[A-Za-z0-9:_-]{8,}$")


def url_template(path: str) -> str:
    """``path`` with identifier segments replaced by ``{id}``."""
    segments = path.split("/")
    out: list[str] = []
    for index, segment in enumerate(segments):
        after_collection = index > 0 and segments[index - 1] in _COLLECTIONS
        if segment and (after_collection or _ID_LIKE.match(segment)):
            out.append("{id}")
        else:
            out.append(segment)
    return "/".join(out) or "/"


class TracingTransport:
    """``Transport`` that puts each request in a CLIENT span (inside sampled traces only)."""

    def __init__(self, inner: Transport, tracer: trace.Tracer) -> None:
        self._inner = inner
        self._tracer = tracer

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        timeout_s: float,
    ) -> HttpResponse:
        """Send through the inner transport, recording the attempt as a CLIENT span."""
        if not trace.get_current_span().is_recording():
            return await self._inner.request(
                method, url, params=params, headers=headers, data=data, timeout_s=timeout_s
            )
        parts = urlsplit(url)
        template = url_template(parts.path)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        netloc = host if parts.port is None else f"{host}:{parts.port}"
        attributes: dict[str, str | int] = {
            "http.request.method": method,
            "server.address": host,
            "server.port": port,
            "url.scheme": parts.scheme,
            "url.template": template,
            "url.full": f"{parts.scheme}://{netloc}{parts.path}",  # no query, no user-info
        }
        with self._tracer.start_as_current_span(
            f"{method} {template}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,  # exception texts may quote URLs
            set_status_on_exception=False,
        ) as span:
            try:
                response = await self._inner.request(
                    method, url, params=params, headers=headers, data=data, timeout_s=timeout_s
                )
            except TransportError as error:
                span.set_attribute("error.type", "timeout" if error.timeout else "connection")
                span.set_status(Status(StatusCode.ERROR))
                raise
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 400:
                span.set_attribute("error.type", str(response.status))
                span.set_status(Status(StatusCode.ERROR))
            return response
