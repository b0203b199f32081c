"""Spotify's error bodies and its renderings of injected faults.

The Web API answers ``{"error":{"status":N,"message":...}}`` (audio features for new
apps: no message at all); the accounts token endpoint uses the OAuth shape instead.
"""

from __future__ import annotations

from aiohttp import web

from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.middleware import json_response, seconds_header

_MESSAGES = {500: "Server error", 502: "Bad gateway", 503: "Service unavailable"}


def api_error(
    status: int, message: str | None, headers: dict[str, str] | None = None
) -> web.Response:
    """A Web API error: ``{"error":{"status":N,"message":...}}`` (no message when None)."""
    error: dict[str, object] = {"status": status}
    if message is not None:
        error["message"] = message
    return json_response({"error": error}, status=status, headers=headers)


def oauth_error(error: str, description: str, status: int = 400) -> web.Response:
    """The accounts service's RFC 6749 error: ``{"error": ..., "error_description": ...}``."""
    return json_response({"error": error, "error_description": description}, status=status)


class SpotifyFaults:
    """Renders injected faults as Spotify does."""

    def status(self, request: web.Request, endpoint: str, status: int) -> web.Response:
        """The Web API error shape (the accounts service's OAuth shape for ``token``)."""
        message = _MESSAGES.get(status) or web.Response(status=status).reason
        if endpoint == "token":
            return oauth_error("server_error", message, status)
        return api_error(status, message)

    def rate_limit(self, request: web.Request, endpoint: str, rule: FaultRule) -> web.Response:
        """429 with ``Retry-After`` (default 1 s)."""
        retry = seconds_header(1.0 if rule.retry_after is None else rule.retry_after)
        return api_error(429, "API rate limit exceeded", {"Retry-After": retry})

    def error_in_200(self, request: web.Request, endpoint: str) -> web.Response:
        """Spotify does not hide errors in 200s; a plain 500 instead."""
        return self.status(request, endpoint, 500)

    def quota(self, request: web.Request, endpoint: str, rule: FaultRule) -> web.Response:
        """The development-mode quota exhaustion 429 (``reason: QUOTA_EXCEEDED``)."""
        body = {
            "error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}
        }
        return json_response(body, status=429)
